"""Leaving staff, approvals, the erasure ledger and the incident register through the real CLI in
subprocesses (issue 19: R-CUST-11, R-SEC-2, R-CUST-13, R-SEC-6). Real SQLCipher files, a keyrings.alt
file keyring of the test's own; set-up data is written with the services on the same file."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import text

from crm_tui.services import customers as cs
from crm_tui.services import staff
from crm_tui.services.context import Actor, Services
from crm_tui.store import db
from tests.helpers import cli

P = cli.PASSWORD
PW = "Passw0rd-99"


def _as(run_cli, user: str, *args: str, password: str = PW):  # type: ignore[no-untyped-def]
    return run_cli("--user", user, "--password-stdin", *args, input=f"{password}\n")


def _svc(cli_env, cli_db: Path) -> Services:  # type: ignore[no-untyped-def]
    key = bytes.fromhex(cli.get_key_hex(cli_env, cli_db) or "")
    return Services(store=db.open_with_key(cli_db, key))


def _setup(cli_env, cli_db: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Accounts with known passwords (leaver, heir: customer managers; fu: deputy; kz: chief) and
    two customers of the leaver; returns their numbers."""
    svc = _svc(cli_env, cli_db)
    try:
        admin = staff.sign_in(svc, "admin", P).actor
        ids = {}
        for user, role in (("leaver", "customer_manager"), ("heir", "customer_manager"), ("fu", "deputy_manager"),
                           ("kz", "section_chief")):
            ids[user] = staff.add_user_with_password(svc, admin, user, [role], PW)
        leaver = Actor(ids["leaver"], "leaver", "leaver", frozenset({"customer_manager"}))
        a = cs.create_customer(svc, leaver, "person", {"name": "欧阳娜娜"})
        b = cs.create_customer(svc, leaver, "person", {"name": "张三"})
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


def test_r_cust_11_user_disable_of_an_owner_needs_handover_to(cli_db, cli_env, run_cli):
    _setup(cli_env, cli_db)
    r = _as(run_cli, "admin", "user", "disable", "leaver", password=P)
    assert r.returncode == 5, r.stdout + r.stderr
    assert "still holds customers they are responsible for: 2" in r.stderr and "--handover-to" in r.stderr
    assert "Traceback" not in r.stderr
    assert _scalar(cli_env, cli_db, "SELECT active FROM staff WHERE username = 'leaver'") == 1
    r = _as(run_cli, "admin", "user", "disable", "leaver", "--handover-to", "nobody", password=P)
    assert r.returncode != 0 and "No staff account named 'nobody'" in r.stderr
    r = _as(run_cli, "admin", "user", "disable", "leaver", "--handover-to", "heir", "--note", "调离", password=P)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Handed over to heir" in r.stdout and "2 customers are marked to be told" in r.stdout
    assert "Account leaver disabled." in r.stdout
    assert _scalar(cli_env, cli_db, "SELECT count(*) FROM customer c JOIN staff s ON s.id = c.owner_id"
                   " WHERE s.username = 'heir' AND c.needs_informing = 1") == 2


def test_r_cust_13_restoring_a_backup_made_before_an_erasure_leaves_the_customer_erased(cli_db, cli_env, run_cli):
    nums = _setup(cli_env, cli_db)
    r = _as(run_cli, "admin", "backup", password=P)
    assert r.returncode == 0, r.stderr
    backup = Path(re.search(r"Backup written: (\S+) \(", r.stdout).group(1))  # type: ignore[union-attr]
    r = _as(run_cli, "fu", "customer", "erase", nums["a"], "--reason", "客户依法要求删除")
    assert r.returncode == 0, r.stdout + r.stderr
    r = _as(run_cli, "admin", "restore", str(backup), "--yes", password=P)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Erasure ledger re-applied: 1 erased customers erased again." in r.stdout
    assert _scalar(cli_env, cli_db, "SELECT erased_at IS NOT NULL AND name = '' FROM customer WHERE number = :n",
                   n=nums["a"]) == 1
    assert _scalar(cli_env, cli_db, "SELECT name FROM customer WHERE number = :n", n=nums["b"]) == "张三"
    assert "欧阳娜娜" not in (cli_db.parent / "erasure-ledger.txt").read_text(encoding="utf-8")


def test_r_sec_2_export_waits_for_a_second_persons_approval(cli_db, cli_env, run_cli, tmp_path):
    _setup(cli_env, cli_db)
    r = _as(run_cli, "admin", "settings", "set", "approval.required",
            "customer.export,customer.erase,backup.restore,customer.reveal_other", password=P)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "list.csv"
    r = _as(run_cli, "kz", "export", "customers", "--to", str(out))
    assert r.returncode == 5 and "needs a second person's approval" in r.stderr and not out.exists()
    r = _as(run_cli, "kz", "approval", "request", "customer.export", "--reason", "月度报送")
    assert r.returncode == 0, r.stderr
    rid = re.search(r"Approval request (\d+) sent", r.stdout).group(1)  # type: ignore[union-attr]
    r = _as(run_cli, "kz", "approval", "approve", rid)
    assert r.returncode == 3 and "cannot decide your own request" in r.stderr
    r = _as(run_cli, "admin", "approval", "list", "--pending", password=P)
    assert r.returncode == 0 and "customer.export" in r.stdout and "kz" in r.stdout
    r = _as(run_cli, "admin", "approval", "approve", rid, password=P)
    assert r.returncode == 0, r.stderr
    r = _as(run_cli, "kz", "export", "customers", "--to", str(out), "--approval", rid)
    assert r.returncode == 0, r.stderr
    assert out.exists()
    out.unlink()
    r = _as(run_cli, "kz", "export", "customers", "--to", str(out), "--approval", rid)
    assert r.returncode == 5 and "used" in r.stderr and not out.exists()
    r = _as(run_cli, "kz", "approval", "request", "customer.export", "--reason", "再次报送")
    rid2 = re.search(r"Approval request (\d+) sent", r.stdout).group(1)  # type: ignore[union-attr]
    r = _as(run_cli, "fu", "approval", "reject", rid2, "--reason", "本月已报送")
    assert r.returncode == 0, r.stderr
    r = _as(run_cli, "kz", "approval", "list")
    assert "rejected" in r.stdout and "used" in r.stdout


def test_r_sec_6_incident_register_through_the_cli(cli_db, cli_env, run_cli, tmp_path):
    nums = _setup(cli_env, cli_db)
    r = _as(run_cli, "kz", "incident", "new", "--title", "客户一览表误发", "--description", "误发到外部邮箱",
            "--found", "2025-01-05 09:30")
    assert r.returncode == 0, r.stderr
    iid = re.search(r"Incident (\d+) recorded", r.stdout).group(1)  # type: ignore[union-attr]
    r = _as(run_cli, "kz", "incident", "affected", iid, "--numbers", f"{nums['a']},{nums['b']}")
    assert r.returncode == 0 and "2 affected customers added" in r.stdout, r.stderr
    r = _as(run_cli, "kz", "incident", "notice", iid, nums["a"], "--by", "王建国", "--at", "2025-01-05 10:00",
            "--method", "电话")
    assert r.returncode == 0, r.stderr
    r = _as(run_cli, "kz", "incident", "notice", iid, nums["b"], "--by", "王建国", "--at", "soon", "--method", "电话")
    assert r.returncode != 0 and "YYYY-MM-DD HH:MM" in r.stderr and "Traceback" not in r.stderr
    r = _as(run_cli, "kz", "incident", "close", iid, "--report", "已告知客户，已整改")
    assert r.returncode == 0, r.stderr
    to = tmp_path / "incident.txt"
    r = _as(run_cli, "kz", "incident", "report", iid, "--to", str(to))
    assert r.returncode == 0, r.stderr
    body = to.read_text(encoding="utf-8")
    assert "Affected customers: 2, told: 1" in body and "已整改" in body and (to.stat().st_mode & 0o777) == 0o600
    r = _as(run_cli, "heir", "incident", "list")
    assert r.returncode == 3
