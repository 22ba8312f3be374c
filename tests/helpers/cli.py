"""Running ``crm-tui`` in a subprocess against a throwaway keyring, and looking at what it left."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent  # on PYTHONPATH: tests.helpers.* importable
PLAINTEXT_BACKEND = "keyrings.alt.file.PlaintextKeyring"
FAIL_BACKEND = "keyring.backends.fail.Keyring"
LOCKED_BACKEND = "tests.helpers.locked_keyring.LockedKeyring"
SERVICE = "crm-tui"
PASSWORD = "Correct-Horse-42!"

# Variables from the developer's own session that must not leak into a test run.
_SCRUB = ("PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL", "DISPLAY",
          "WAYLAND_DISPLAY", "CRM_TUI_DATA_DIR", "CRM_TUI_LANG")


def make_env(root: Path, data_dir: Path) -> dict[str, str]:
    """Environment for a CLI subprocess: keyrings.alt file backend under ``root``, English messages."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env.update(
        PYTHON_KEYRING_BACKEND=PLAINTEXT_BACKEND,
        XDG_DATA_HOME=str(root / "xdg-data"),
        XDG_CONFIG_HOME=str(root / "xdg-config"),  # no keyringrc.cfg of the user's
        CRM_TUI_DATA_DIR=str(data_dir),
        CRM_TUI_LANG="en",
        PYTHONPATH=os.pathsep.join([str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        PYTHONDONTWRITEBYTECODE="1",
        NO_COLOR="1",
        COLUMNS="200",
    )
    return env


def run_cli(*args: str, input: str | None = None, env: dict[str, str], timeout: float = 120,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m crm_tui ARGS`` with text output captured. stdin is closed when ``input`` is None."""
    return subprocess.run(
        [sys.executable, "-m", "crm_tui", *args],
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=cwd,
    )


def init_db(env: dict[str, str], admin: str = "admin", password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    r = run_cli("--password-stdin", "init", "--admin", admin, input=f"{password}\n{password}\n", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


# -- the keyrings.alt file backend, reached directly ---------------------------------------------

def keyring_file(env: dict[str, str]) -> Path:
    return Path(env["XDG_DATA_HOME"]) / "python_keyring" / "keyring_pass.cfg"


def _file_keyring(env: dict[str, str]):  # type: ignore[no-untyped-def]
    from keyrings.alt.file import PlaintextKeyring

    kr = PlaintextKeyring()
    kr.file_path = str(keyring_file(env))
    return kr


def get_key_hex(env: dict[str, str], db_file: Path) -> str | None:
    return _file_keyring(env).get_password(SERVICE, str(Path(db_file).resolve()))


def set_key_hex(env: dict[str, str], db_file: Path, hexkey: str) -> None:
    _file_keyring(env).set_password(SERVICE, str(Path(db_file).resolve()), hexkey)


def delete_key(env: dict[str, str], db_file: Path) -> None:
    _file_keyring(env).delete_password(SERVICE, str(Path(db_file).resolve()))


# -- what a command left behind ------------------------------------------------------------------

def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(*roots: Path) -> dict[str, str]:
    """Every file and folder under ``roots`` (recursively): path -> sha256 (or 'dir')."""
    found: dict[str, str] = {}
    for root in roots:
        if root.is_file():
            found[str(root)] = sha256(root)
            continue
        if not root.exists():
            continue
        found[str(root)] = "dir"
        for p in sorted(root.rglob("*")):
            found[str(p)] = "dir" if p.is_dir() else sha256(p)
    return found


def assert_no_noise(r: subprocess.CompletedProcess[str]) -> None:
    """No traceback and no SQLCipher log line anywhere in the output."""
    out = r.stdout + r.stderr
    assert "Traceback" not in out, out
    assert "ERROR CORE" not in out and "sqlcipher_" not in out, out


def assert_clean_failure(r: subprocess.CompletedProcess[str]) -> None:
    """A failing command: non-zero exit, no traceback, no SQLCipher log lines."""
    assert r.returncode != 0, r.stdout + r.stderr
    assert_no_noise(r)
