"""``crm-tui init`` / ``doctor`` / opening, through the real CLI in a subprocess (issue 2).

Every failure case checks the one-line message, the exit code, that no traceback is printed, and
that the data folder and the keyring file are byte for byte as they were, with nothing new in them.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from pathlib import Path

import pytest

from tests.helpers import cli

P = cli.PASSWORD
DOCTOR_CHECKS = ["keyring backend", "key present", "database opens", "cipher_integrity_check",
                 "integrity_check", "schema version", "unique ID numbers", "unique credit codes", "unfinished imports",
                 "home summary counts",  # issue 22
                 "holiday schedule", "newest backup"]


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def _doctor_lines(stdout: str) -> dict[str, tuple[bool, str]]:
    found = {}
    for line in stdout.splitlines():
        m = re.match(r"^(OK  |WARN|FAIL) (.+?)\s{2,}(.*)$", line)
        assert m, f"unexpected doctor line: {line!r}"
        found[m.group(2).strip()] = (m.group(1) != "FAIL", m.group(3))  # WARN: still fine (exit 0)
    return found


def test_init_and_doctor_pass_and_files_are_private(run_cli, cli_env, tmp_data_dir):
    old_umask = os.umask(0o022)  # a typical user umask: modes must not depend on it
    try:
        r = run_cli("--password-stdin", "init", "--admin", "admin", input=f"{P}\n{P}\n")
        assert r.returncode == 0, r.stdout + r.stderr
        db_file = tmp_data_dir / "crm.db"
        assert f"Created {db_file}" in r.stdout
        key_hex = cli.get_key_hex(cli_env, db_file)
        assert key_hex is not None and re.fullmatch(r"[0-9a-f]{64}", key_hex)

        d = run_cli("doctor")
        assert d.returncode == 0, d.stdout + d.stderr
        lines = _doctor_lines(d.stdout)
        assert list(lines) == DOCTOR_CHECKS
        assert all(ok for ok, _ in lines.values()), d.stdout
        assert lines["keyring backend"][1] == "keyrings.alt.file.PlaintextKeyring"
        for out in (r.stdout, r.stderr, d.stdout, d.stderr):
            assert key_hex not in out.lower()

        assert _mode(tmp_data_dir) == 0o700
        assert _mode(db_file) == 0o600
        assert _mode(tmp_data_dir / "backups") == 0o700
        for f in (tmp_data_dir / "backups").iterdir():
            assert _mode(f) == 0o600, f

        # While the database is open and written to, -wal and -shm exist and are private too.
        from sqlalchemy import text

        from crm_tui.store import db

        store = db.open_with_key(db_file, bytes.fromhex(key_hex), migrate=False)
        try:
            with store.write() as s:
                s.execute(text("INSERT INTO app_meta (key, value) VALUES ('probe', 'x')"))
            with store.read() as s:
                s.execute(text("SELECT count(*) FROM staff")).scalar_one()
                wal, shm = Path(f"{db_file}-wal"), Path(f"{db_file}-shm")
                assert wal.exists() and shm.exists()
                assert _mode(wal) == 0o600 and _mode(shm) == 0o600
        finally:
            store.close()
    finally:
        os.umask(old_umask)


# -- failure cases: each exits non-zero with its message and changes nothing --------------------

def _no_backend(env, db_file):
    env["PYTHON_KEYRING_BACKEND"] = cli.FAIL_BACKEND


def _locked(env, db_file):
    env["PYTHON_KEYRING_BACKEND"] = cli.LOCKED_BACKEND


def _wrong_key(env, db_file):
    cli.set_key_hex(env, db_file, secrets.token_hex(32))


def _missing_key(env, db_file):
    cli.delete_key(env, db_file)


def _missing_db(env, db_file):
    db_file.unlink()


CASES = {
    # name: (set-up, exit code, doctor check that fails, message)
    "no-backend": (_no_backend, 10, "keyring backend",
                   "No usable keyring backend (found: fail.Keyring). Start a Secret Service such as "
                   "gnome-keyring (Linux), or use macOS Keychain / Windows Credential Locker, then try again."),
    "locked": (_locked, 10, "keyring backend",
               "The keyring (tests.helpers.locked_keyring.LockedKeyring) is locked. Unlock it (log in to "
               "the desktop session, or unlock the login keyring) and try again."),
    "wrong-key": (_wrong_key, 14, "database opens",
                  "The key does not open {db}: it is the wrong key, or the file is not a crm-tui database. "
                  "The file was not changed."),
    "missing-key": (_missing_key, 11, "key present",
                    "The keyring (keyrings.alt.file.PlaintextKeyring) holds no key for {db}. The file was not "
                    "changed. Restore the key from the sealed recovery code with 'crm-tui key import', then "
                    "try again."),
    "missing-db": (_missing_db, 13, "database file",
                   "No database at {db}. Run 'crm-tui init' to create one, or 'crm-tui demo' to try the app."),
}
DOCTOR_DETAIL = {"missing-key": "no key in the keyring for {db}", "missing-db": "missing: {db}",
                 # doctor tells a wrong key (no page checks with it) from a damaged file (issue 17)
                 "wrong-key": "the key in the keyring does not open {db}: page 1 does not decrypt with it, nor does "
                              "any other page. This is the wrong key, not damage: import the right one from the "
                              "recovery code with 'crm-tui key import'. The file was not changed."}


@pytest.mark.parametrize("case", list(CASES))
def test_failure_exits_with_its_message_and_changes_nothing(case, cli_db, cli_env, run_cli):
    setup, code, failing_check, message = CASES[case]
    setup(cli_env, cli_db)
    message = message.format(db=cli_db)
    before = cli.snapshot(cli_db.parent, cli.keyring_file(cli_env))

    d = run_cli("doctor")
    cli.assert_clean_failure(d)
    assert d.returncode == 1
    assert d.stderr == ""
    lines = _doctor_lines(d.stdout)
    assert list(lines)[-1] == failing_check and not lines[failing_check][0], d.stdout
    assert all(ok for ok, _ in list(lines.values())[:-1]), d.stdout
    assert lines[failing_check][1] == DOCTOR_DETAIL.get(case, message).format(db=cli_db)

    # A command that opens the database (before asking for any password).
    r = run_cli("--user", "admin", "--password-stdin", "audit", "verify", input=f"{P}\n")
    cli.assert_clean_failure(r)
    assert r.returncode == code
    assert r.stdout == ""
    assert r.stderr == f"Error: {message}\n"

    assert cli.snapshot(cli_db.parent, cli.keyring_file(cli_env)) == before


def test_wrong_key_app_start_prints_only_our_line(cli_db, cli_env, run_cli):
    """SQLCipher logs decrypt failures to stderr; starting the app with a wrong key shows just ours."""
    _wrong_key(cli_env, cli_db)
    before = cli.snapshot(cli_db.parent, cli.keyring_file(cli_env))
    r = run_cli(timeout=60)  # bare `crm-tui`: the path that would otherwise start the TUI
    assert r.returncode == 14, r.stdout + r.stderr
    assert r.stdout == ""
    assert r.stderr == "Error: " + CASES["wrong-key"][3].format(db=cli_db) + "\n"
    assert cli.snapshot(cli_db.parent, cli.keyring_file(cli_env)) == before


# -- init never replaces a key or a file ----------------------------------------------------------

@pytest.mark.parametrize("state", ["db-and-key", "db-without-key", "key-without-db"])
def test_init_refused_when_a_database_or_its_key_exists(state, cli_db, cli_env, run_cli):
    if state == "db-without-key":
        cli.delete_key(cli_env, cli_db)
    if state == "key-without-db":
        cli_db.unlink()
    key_before = cli.get_key_hex(cli_env, cli_db)
    before = cli.snapshot(cli_db.parent, cli.keyring_file(cli_env))

    r = run_cli("--password-stdin", "init", input=f"{P}\n{P}\n")
    cli.assert_clean_failure(r)
    assert r.returncode == 15
    if state == "key-without-db":
        expected = (f"The keyring already holds a key for {cli_db} but the file is missing. Restore the file "
                    "from a backup (crm-tui restore) instead of creating a new one; nothing was changed.")
    else:
        expected = f"A database already exists at {cli_db}; nothing was changed."
    assert r.stderr == f"Error: {expected}\n"
    assert cli.get_key_hex(cli_env, cli_db) == key_before  # no new key generated
    assert cli.snapshot(cli_db.parent, cli.keyring_file(cli_env)) == before


@pytest.mark.parametrize("backend", [cli.FAIL_BACKEND, cli.LOCKED_BACKEND])
def test_init_without_usable_keyring_fails_before_creating_the_database(backend, cli_env, tmp_data_dir, run_cli):
    cli_env["PYTHON_KEYRING_BACKEND"] = backend
    r = run_cli("--password-stdin", "init", input=f"{P}\n{P}\n")
    cli.assert_clean_failure(r)
    assert r.returncode == 10
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
    assert not (tmp_data_dir / "crm.db").exists()
    assert not cli.keyring_file(cli_env).exists()


def test_init_without_usable_keyring_creates_no_folder(cli_env, tmp_data_dir, run_cli):
    cli_env["PYTHON_KEYRING_BACKEND"] = cli.FAIL_BACKEND
    r = run_cli("--password-stdin", "init", input=f"{P}\n{P}\n")
    assert r.returncode == 10
    assert not tmp_data_dir.exists()


def test_init_refuses_an_auto_detected_plaintext_file_keyring(cli_env, tmp_data_dir, run_cli):
    del cli_env["PYTHON_KEYRING_BACKEND"]  # auto-detection; no D-Bus session in this env, so no Secret Service
    r = run_cli("--password-stdin", "init", input=f"{P}\n{P}\n")
    assert not cli.keyring_file(cli_env).exists(), "the key went to a plaintext file"
    assert r.returncode == 10, r.stdout + r.stderr


# -- the recovery code ------------------------------------------------------------------------------

def _code_lines(stdout: str) -> list[str]:
    lines = [ln.strip() for ln in stdout.splitlines() if ln.strip()]
    code = lines[-5:]
    assert all(re.fullmatch(r"([0-9A-F]{4} ){3}[0-9A-F]{4}", ln) for ln in code[:4]), stdout
    assert re.fullmatch(r"[0-9A-F]{4}", code[4]), stdout
    return code


def test_key_export_wipe_import_restores_access(cli_db, cli_env, run_cli):
    key_hex = cli.get_key_hex(cli_env, cli_db)
    e = run_cli("--user", "admin", "--password-stdin", "key", "export", input=f"{P}\n{P}\n")
    assert e.returncode == 0, e.stdout + e.stderr
    code = _code_lines(e.stdout)
    assert "".join(code[:4]).replace(" ", "").lower() == key_hex
    code_text = "\n".join(code) + "\n"

    cli.delete_key(cli_env, cli_db)
    db_before = cli.snapshot(cli_db)
    d = run_cli("doctor")
    assert d.returncode == 1
    assert _doctor_lines(d.stdout)["key present"] == (False, f"no key in the keyring for {cli_db}")

    # One character changed: the check group catches it and nothing reaches the keyring.
    first = code_text[0]
    typo = ("B" if first != "B" else "C") + code_text[1:]
    bad = run_cli("key", "import", input=typo)
    cli.assert_clean_failure(bad)
    assert bad.returncode == 12
    assert bad.stderr == "Error: The recovery code's check group does not match: a character was mistyped.\n"
    assert cli.get_key_hex(cli_env, cli_db) is None

    # A well-formed code for another key: refused because it does not open the file.
    from crm_tui.store.keys import recovery_code

    other = run_cli("key", "import", input=recovery_code(secrets.token_bytes(32)))
    cli.assert_clean_failure(other)
    assert other.returncode == 14
    assert cli.get_key_hex(cli_env, cli_db) is None
    assert cli.snapshot(cli_db) == db_before

    ok = run_cli("key", "import", input=code_text)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "the key is now in the keyring" in ok.stdout
    assert cli.get_key_hex(cli_env, cli_db) == key_hex
    d = run_cli("doctor")
    assert d.returncode == 0, d.stdout + d.stderr
