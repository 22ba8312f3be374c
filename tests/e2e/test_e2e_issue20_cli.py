"""Issue 20 through the real CLI in subprocesses: account opening needs its approver (R-SEC-1),
consents added and withdrawn (R-CUST-6), A/B covers set and revoked by a supervisor (R-SEC-7)."""

from __future__ import annotations

from sqlalchemy import text

from crm_tui.store import db
from tests.helpers import cli

P = cli.PASSWORD


def _staff_count(cli_env, cli_db) -> int:  # type: ignore[no-untyped-def]
    key = bytes.fromhex(cli.get_key_hex(cli_env, cli_db) or "")
    store = db.open_with_key(cli_db, key)
    try:
        with store.read() as s:
            return int(s.execute(text("SELECT count(*) FROM staff")).scalar_one())
    finally:
        store.close()


def test_r_sec_1_user_add_without_approver_is_refused(cli_db, cli_env, run_cli) -> None:  # type: ignore[no-untyped-def]
    before = _staff_count(cli_env, cli_db)
    r = run_cli("--lang", "en", "--user", "admin", "--password-stdin", "user", "add", "xiaoli", "--role", "front_desk",
                input=f"{P}\n")
    assert r.returncode != 0
    assert "department head's approval" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert _staff_count(cli_env, cli_db) == before
    r = run_cli("--lang", "en", "--user", "admin", "--password-stdin", "user", "add", "xiaoli", "--role", "front_desk",
                "--approval", "陈科长 2026-11-20", input=f"{P}\n")
    assert r.returncode == 0, r.stderr
    assert _staff_count(cli_env, cli_db) == before + 1
