"""Issue 20 through the real CLI in subprocesses: R-CUST-3 (false information, business stopped,
lifted by a supervisor), R-CUST-7 (two signatures and the filing of a shared phone), R-CUST-8 (the
inspection that clears the flag). Real SQLCipher file; set-up data written with the services."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from crm_tui.services import customers as cs
from crm_tui.services import staff
from crm_tui.services.context import Actor, Services
from crm_tui.services.customers import PhoneInput
from crm_tui.store import db
from tests.helpers import cli

P = cli.PASSWORD
PW = "Passw0rd-99"


def _as(run_cli, user: str, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("--user", user, "--password-stdin", *args, input=f"{PW}\n")


def _svc(cli_env, cli_db: Path) -> Services:  # type: ignore[no-untyped-def]
    key = bytes.fromhex(cli.get_key_hex(cli_env, cli_db) or "")
    return Services(store=db.open_with_key(cli_db, key))


def _setup(cli_env, cli_db: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    svc = _svc(cli_env, cli_db)
    try:
        admin = staff.sign_in(svc, "admin", P).actor
        ids = {user: staff.add_user_with_password(svc, admin, user, [role], PW)
               for user, role in (("jl", "customer_manager"), ("kz", "section_chief"), ("fu", "deputy_manager"),
                                  ("ng", "internal_control"))}
        jl = Actor(ids["jl"], "jl", "jl", frozenset({"customer_manager"}))
        a = cs.create_customer(svc, jl, "person", {"name": "欧阳娜娜"}, phones=[PhoneInput("13800138000")])
        b = cs.create_customer(svc, jl, "person", {"name": "张三"}, phones=[PhoneInput("13800138000")],
                               shared_phone_reasons={"13800138000": "母女共用"})
        cs.update_customer(svc, jl, b.id, {}, expected_version=1, phones=[PhoneInput("13900139000")],
                           shared_phone_reasons={})
        cs.update_customer(svc, jl, b.id, {}, expected_version=2, phones=[PhoneInput("13700137000")])
    finally:
        svc.close()
    return {"a": a.number, "b": b.number}


def _scalar(cli_env, cli_db: Path, sql: str, **p: object) -> object:  # type: ignore[no-untyped-def]
    svc = _svc(cli_env, cli_db)
    try:
        with svc.store.read() as s:
            return s.execute(text(sql), p).scalar()
    finally:
        svc.close()


def test_r_cust_3_false_information_and_business_stop_from_the_cli(cli_db, cli_env, run_cli):
    nums = _setup(cli_env, cli_db)
    r = _as(run_cli, "jl", "customer", "false-info", nums["a"], "--note", "身份证件为伪造")
    assert r.returncode == 0 and "business stopped" in r.stdout, r.stderr
    assert _scalar(cli_env, cli_db, "SELECT business_stopped FROM customer WHERE number = :n", n=nums["a"]) == 1
    r = _as(run_cli, "jl", "customer", "clear-false-info", nums["a"], "--note", "核实无误")
    assert r.returncode == 3 and "customer.business_resume" in r.stderr and "Traceback" not in r.stderr
    r = _as(run_cli, "kz", "customer", "clear-false-info", nums["a"], "--note", "核实无误")
    assert r.returncode == 0, r.stderr
    r = _as(run_cli, "jl", "customer", "stop-business", nums["a"], "--reason", "")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    r = _as(run_cli, "jl", "customer", "stop-business", nums["a"], "--reason", "涉嫌洗钱，暂停合作")
    assert r.returncode == 0 and "stopped" in r.stdout
    r = _as(run_cli, "fu", "customer", "resume-business", nums["a"], "--reason", "调查结束")
    assert r.returncode == 0 and "resumed" in r.stdout
    assert _scalar(cli_env, cli_db, "SELECT business_stopped FROM customer WHERE number = :n", n=nums["a"]) == 0
    r = _as(run_cli, "jl", "customer", "stop-business", "KH0000-000000", "--reason", "x")
    assert r.returncode == 4 and "No customer numbered" in r.stderr


def test_r_cust_7_and_8_sign_file_and_inspect_from_the_cli(cli_db, cli_env, run_cli):
    nums = _setup(cli_env, cli_db)
    # b changed its phone twice: the number is on a alone again, b is flagged (R-CUST-8)
    r = _as(run_cli, "ng", "customer", "watch", "phone-changes")
    assert r.returncode == 0 and nums["b"] in r.stdout and "1 listed." in r.stdout, r.stderr
    r = _as(run_cli, "ng", "customer", "inspect-phone", nums["b"], "--result", "换号属实")
    assert r.returncode == 0 and "cleared" in r.stdout, r.stderr
    assert "0 listed." in _as(run_cli, "ng", "customer", "watch", "phone-changes").stdout
    # a third customer shares a's number: both are listed with the phone id to sign (R-CUST-7)
    svc = _svc(cli_env, cli_db)
    try:
        jl = staff.sign_in(svc, "jl", PW).actor
        cs.create_customer(svc, jl, "person", {"name": "李四"}, phones=[PhoneInput("13800138000")],
                           shared_phone_reasons={"13800138000": "夫妻共用"})
    finally:
        svc.close()
    r = _as(run_cli, "kz", "customer", "watch", "shared-phones")
    assert r.returncode == 0 and "2 listed." in r.stdout and nums["a"] in r.stdout, r.stdout + r.stderr
    pid = next(line.split()[0][1:] for line in r.stdout.splitlines() if nums["a"] in line)
    assert "Signed as section chief." in _as(run_cli, "kz", "customer", "sign-shared-phone", pid).stdout
    r = _as(run_cli, "ng", "customer", "file-shared-phone", pid)
    assert r.returncode == 4 and "awaiting filing" in r.stderr  # one signature is not enough
    assert "Signed as deputy manager." in _as(run_cli, "fu", "customer", "sign-shared-phone", pid).stdout
    r = _as(run_cli, "ng", "customer", "watch", "shared-filing")
    assert nums["a"] in r.stdout and "1 listed." in r.stdout
    r = _as(run_cli, "ng", "customer", "file-shared-phone", pid, "--note", "已备案")
    assert r.returncode == 0 and "Filed" in r.stdout, r.stderr
    assert _scalar(cli_env, cli_db, "SELECT shared_filed_at IS NOT NULL FROM customer_phone WHERE id = :i",
                   i=int(pid)) == 1
    r = _as(run_cli, "ng", "customer", "watch", "nonsense")
    assert r.returncode != 0 and "Choose one of" in r.stderr and "Traceback" not in r.stderr
