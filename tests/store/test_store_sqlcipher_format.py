"""The file is plain SQLCipher 4 with the raw key from the keyring, readable by other implementations,
and SQLCipher's own log output never reaches the terminal."""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crm_tui.store import db, migrate
from tests.helpers import cli, sqlcipher4


def _key(cli_env, cli_db) -> bytes:  # type: ignore[no-untyped-def]
    hexkey = cli.get_key_hex(cli_env, cli_db)
    assert hexkey is not None
    return bytes.fromhex(hexkey)


def test_independent_reader_opens_the_file_with_the_keyring_key(cli_db, cli_env, tmp_path):
    """A second SQLCipher 4 implementation (tests/helpers/sqlcipher4.py, no SQLCipher code) reads it."""
    assert not Path(f"{cli_db}-wal").exists()  # closed cleanly: everything is in the main file
    plain = tmp_path / "plain.db"
    pages = sqlcipher4.decrypt(cli_db, _key(cli_env, cli_db), plain)
    assert pages == cli_db.stat().st_size // 4096
    conn = sqlite3.connect(plain)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT username FROM staff").fetchall() == [("admin",)]
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == migrate.head_revision()
    finally:
        conn.close()


def test_independent_reader_rejects_a_wrong_key(cli_db, tmp_path):
    with pytest.raises(sqlcipher4.HmacMismatch):
        sqlcipher4.decrypt(cli_db, secrets.token_bytes(32), tmp_path / "plain.db")


def test_sqlcipher_shell_opens_the_file_with_the_keyring_key(cli_db, cli_env):
    exe = shutil.which("sqlcipher")
    if exe is None:
        pytest.skip("the sqlcipher command-line shell is not installed (apt-get install sqlcipher; .ci/run does)")
    version = subprocess.run([exe, ":memory:"], input="PRAGMA cipher_version;\n", capture_output=True,
                             text=True, timeout=30).stdout.strip()
    if not version[:1].isdigit() or int(version.split(".")[0]) < 4:
        pytest.skip(f"this sqlcipher shell is SQLCipher {version or '?'}, which cannot read SQLCipher 4 files "
                    "(Debian bookworm ships 3.4.1); the independent reader test covers another implementation")
    hexkey = _key(cli_env, cli_db).hex()
    r = subprocess.run([exe, str(cli_db)], input=f"PRAGMA key = \"x'{hexkey}'\";\nSELECT count(*) FROM staff;\n",
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == "1", r.stdout + r.stderr


_PLAIN_SQLCIPHER = """
import sqlcipher3, sys
c = sqlcipher3.connect(sys.argv[1])
c.execute("PRAGMA key = \\"x'" + "00" * 32 + "'\\"")
try:
    c.execute("SELECT count(*) FROM sqlite_master").fetchall()
except sqlcipher3.DatabaseError:
    pass
"""

_PRODUCT = """
import sys
from pathlib import Path
from crm_tui.store import db
try:
    db.raw_connect(Path(sys.argv[1]), bytes(32))
except db.WrongKey:
    print("wrong key")
"""


def test_sqlcipher_log_is_silenced_in_a_fresh_process(cli_db):
    # Canary: left alone, this SQLCipher build does log decrypt failures to stderr ...
    raw = subprocess.run([sys.executable, "-c", _PLAIN_SQLCIPHER, str(cli_db)], capture_output=True, text=True,
                         timeout=60)
    assert "hmac check failed" in raw.stderr or "ERROR" in raw.stderr, raw.stderr
    # ... and through the product it logs nothing.
    ours = subprocess.run([sys.executable, "-c", _PRODUCT, str(cli_db)], capture_output=True, text=True,
                          timeout=60)
    assert ours.stdout == "wrong key\n"
    assert ours.stderr == ""


def test_wrong_key_in_process_writes_nothing_to_the_terminal(cli_db, capfd):
    before = cli.snapshot(cli_db.parent)
    with pytest.raises(db.WrongKey) as err:
        db.raw_connect(cli_db, secrets.token_bytes(32))
    assert "The file was not changed." in err.value.message
    out, errout = capfd.readouterr()
    assert out == "" and errout == ""
    assert cli.snapshot(cli_db.parent) == before
