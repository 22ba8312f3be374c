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


def _make_customer(cli_env, cli_db) -> str:  # type: ignore[no-untyped-def]
    from crm_tui.services import customers as cs
    from crm_tui.services import staff
    from crm_tui.services.context import Services

    key = bytes.fromhex(cli.get_key_hex(cli_env, cli_db) or "")
    svc = Services(store=db.open_with_key(cli_db, key))
    try:
        admin = staff.sign_in(svc, "admin", P).actor
        staff.add_user_with_password(svc, admin, "jl", ["customer_manager"], "Passw0rd-99")
        jl = staff.sign_in(svc, "jl", "Passw0rd-99").actor
        return cs.create_customer(svc, jl, "person", {"name": "命令行客户"}).number
    finally:
        svc.close()


def test_r_cust_6_consent_added_and_withdrawn_through_the_cli(cli_db, cli_env, run_cli) -> None:  # type: ignore[no-untyped-def]
    number = _make_customer(cli_env, cli_db)

    def jl(*args: str):  # type: ignore[no-untyped-def]
        return run_cli("--lang", "en", "--user", "jl", "--password-stdin", *args, input="Passw0rd-99\n")

    r = jl("customer", "consent", "add", number, "--scope", "sensitive", "--purpose", " ", "--method", "carrier pigeon")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "--purpose: This field is required" in r.stderr and "--method: Choose one of" in r.stderr, r.stderr
    r = jl("customer", "consent", "add", number, "--scope", "sensitive", "--purpose", "身份核验", "--method", "书面签字")
    assert r.returncode == 0, r.stderr
    r = jl("customer", "consent", "list", number)
    assert r.returncode == 0 and "身份核验" in r.stdout and "Signed form" in r.stdout, r.stdout
    consent_id = r.stdout.split()[0]
    r = jl("customer", "consent", "withdraw", consent_id, "--note", "来电撤回")
    assert r.returncode == 0 and "Consent withdrawn" in r.stdout, r.stderr
    r = jl("customer", "consent", "list", number)
    assert "withdrawn" in r.stdout


def test_r_sec_7_a_section_chief_sets_and_revokes_a_cover_through_the_cli(cli_db, cli_env, run_cli) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.services import staff
    from crm_tui.services.context import Services

    key = bytes.fromhex(cli.get_key_hex(cli_env, cli_db) or "")
    svc = Services(store=db.open_with_key(cli_db, key))
    try:
        admin = staff.sign_in(svc, "admin", P).actor
        for user, role in (("kz", "section_chief"), ("a1", "customer_manager"), ("b1", "customer_manager")):
            staff.add_user_with_password(svc, admin, user, [role], "Passw0rd-99")
    finally:
        svc.close()

    def as_(user: str, *args: str):  # type: ignore[no-untyped-def]
        return run_cli("--lang", "en", "--user", user, "--password-stdin", *args, input="Passw0rd-99\n")

    r = as_("b1", "user", "cover", "set", "a1", "b1", "--from", "2026-11-23", "--to", "2026-11-27")
    assert r.returncode == 3 and "not allowed" in r.stderr, r.stderr  # a clerk names no cover for another
    r = as_("kz", "user", "cover", "set", "a1", "b1", "--from", "2099-11-23", "--to", "2099-11-27", "--note", "年假")
    assert r.returncode == 0, r.stderr
    r = as_("kz", "user", "cover", "list")
    assert "a1" in r.stdout and "b1" in r.stdout and "年假" in r.stdout, r.stdout
    cover_id = r.stdout.split()[0]
    r = as_("kz", "user", "cover", "revoke", cover_id)
    assert r.returncode == 0 and "revoked" in r.stdout, r.stderr
    assert "None." in as_("kz", "user", "cover", "list").stdout
    r = as_("kz", "user", "cover", "revoke", cover_id)
    assert r.returncode == 4 and "Traceback" not in r.stderr
