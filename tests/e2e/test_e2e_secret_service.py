"""``crm-tui init`` and ``doctor`` against a real Secret Service: gnome-keyring in its own D-Bus session.

Headless recipe (tests/e2e/secret_service_session.sh): ``dbus-run-session -- bash script``; in it
``printf %s PW | gnome-keyring-daemon --foreground --unlock --components=secrets &`` with HOME,
XDG_DATA_HOME and XDG_RUNTIME_DIR under the test's tmp dir (a fresh 'login' collection is created,
unlocked with PW, and becomes the default); wait until secretstorage sees the default collection
unlocked; kill the daemon when the script exits. No DISPLAY, so an unlock prompt fails instead of
popping up a window.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import cli

SCRIPT = Path(__file__).with_name("secret_service_session.sh")
_NEEDS = ("dbus-run-session", "gnome-keyring-daemon")


@pytest.fixture
def session_run(tmp_path: Path) -> dict[str, object]:
    missing = [exe for exe in _NEEDS if shutil.which(exe) is None]
    if missing:
        pytest.skip(f"no {', '.join(missing)}: apt-get install gnome-keyring dbus (.ci/run does)")
    root = tmp_path
    data_dir, out = root / "data", root / "out"
    out.mkdir()
    env = cli.make_env(root, data_dir)
    del env["PYTHON_KEYRING_BACKEND"]  # the real backend, as the keyring package finds it
    home, run = root / "home", root / "run"
    home.mkdir()
    run.mkdir(mode=0o700)
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(run), CRM_PASSWORD=cli.PASSWORD, KEYRING_PW="test-keyring-pw",
               PY=sys.executable)
    proc = subprocess.Popen(["dbus-run-session", "--", "bash", str(SCRIPT), str(out)], env=env, cwd=cli.REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        log, _ = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        log, _ = proc.communicate()
        pytest.fail("the Secret Service session timed out:\n" + log)
    assert proc.returncode == 0, log

    def read(name: str) -> str:
        return (out / name).read_text() if (out / name).exists() else ""

    return {"log": log, "read": read, "db": data_dir / "crm.db", "env": env}


def _backend_line(doctor_stdout: str) -> str:
    return next(line for line in doctor_stdout.splitlines() if "keyring backend" in line)


def test_init_and_doctor_under_gnome_keyring(session_run):
    read, db_file, env = session_run["read"], session_run["db"], session_run["env"]
    context = session_run["log"] + read("daemon.log")
    assert read("init.rc").strip() == "0", read("init.out") + read("init.err") + context
    assert read("doctor.rc").strip() == "0", read("doctor.out") + read("doctor.err") + context
    # OK, or WARN (still fine today, e.g. next year's holiday schedule not loaded yet); no FAIL
    assert all(line.startswith(("OK ", "WARN ")) for line in read("doctor.out").splitlines()), read("doctor.out")

    # The key is an item of the Secret Service's login collection, not a file of keyrings.alt,
    # and it opens the database with a second SQLCipher 4 implementation.
    item = json.loads(read("lookup.out"))
    assert item == {"found": 1, "collection": "/org/freedesktop/secrets/collection/login", "hex64": True,
                    "staff": 1}, read("lookup.out")
    assert not cli.keyring_file(env).exists()

    # Locked collection: clear message, non-zero exit, nothing changed.
    assert json.loads(read("lock.out")) == {"locked": True}
    doctor2 = read("doctor2.out")
    assert read("doctor2.rc").strip() == "1", doctor2
    assert doctor2.startswith("FAIL keyring backend"), doctor2
    assert "is locked. Unlock it" in doctor2
    assert read("open.rc").strip() == "10", read("open.out") + read("open.err")
    err = read("open.err")
    assert err.startswith("Error: The keyring (") and "is locked. Unlock it" in err and err.count("\n") == 1, err
    assert read("open.out") == "" and "Traceback" not in read("doctor2.out") + read("doctor2.err") + err
    assert read("files.before") == read("files.after") != ""

    # doctor names the backend that holds the key (with keyrings.alt installed too, keyring picks its
    # ChainerBackend, whose first backend is the Secret Service).
    backend = _backend_line(read("doctor.out"))
    assert "SecretService" in backend, backend
