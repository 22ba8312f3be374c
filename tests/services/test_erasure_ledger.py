"""An erasure that holds (R-CUST-13): secure_delete on every connection, the WAL emptied after an
erasure, and the erasure ledger (customer numbers and times, in the database and in a file in the
data folder) re-applied when an older backup is restored, so a restore never brings an erased
customer back. Destruction at the end of retention runs as one approved batch (R-SEC-2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from crm_tui.services import approvals, backup, erasure
from crm_tui.services import customers as cs
from crm_tui.services.customers import ConsentInput, PhoneInput
from crm_tui.store import db
from tests.services.conftest import Crm, require_approvals

NAME, PHONE = "欧阳娜娜", "13912345678"


def _customers(crm: Crm) -> tuple[cs.CustomerRef, cs.CustomerRef]:
    a = cs.create_customer(crm.svc, crm.manager, "person", {"name": NAME, "id_number": "11010519491231002X"},
                           phones=[PhoneInput(PHONE)],
                           consents=[ConsentInput("身份核验、办理业务", "sensitive", "signed_form")])
    b = cs.create_customer(crm.svc, crm.manager, "person", {"name": "张三"})
    return a, b


def _row(crm: Crm, cid: int) -> tuple:
    with crm.svc.store.read() as s:
        return tuple(s.execute(text("SELECT name, id_number, erased_at FROM customer WHERE id = :i"), {"i": cid}).one())


def _restore(crm: Crm, path: Path):  # type: ignore[no-untyped-def]
    crm.svc.close()
    report = backup.restore(crm.place.data_dir, crm.place.key_store, path, actor_name="admin", now=crm.clock())
    crm.svc.store = db.open_store(crm.place.data_dir, crm.place.key_store)
    return report


def test_r_cust_13_secure_delete_is_on_for_every_connection(crm: Crm) -> None:
    with crm.svc.store.read() as s:
        assert s.execute(text("PRAGMA secure_delete")).scalar_one() == 1


def test_r_cust_13_erasure_is_ledgered_without_personal_data_and_the_wal_emptied(crm: Crm) -> None:
    a, _b = _customers(crm)
    cs.erase_customer(crm.svc, crm.actor("deputy_manager"), a.id, "客户依法要求删除")
    ledger = erasure.ledger_path(crm.place.data_dir)
    content = ledger.read_text(encoding="utf-8")
    assert a.number in content and NAME not in content and PHONE not in content
    assert oct(ledger.stat().st_mode & 0o777) == "0o600"
    with crm.svc.store.read() as s:
        assert s.execute(text("SELECT number FROM erasure_ledger")).scalars().all() == [a.number]
    wal = Path(str(crm.place.db_file) + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_r_cust_13_restoring_an_older_backup_leaves_the_erased_customer_erased(crm: Crm) -> None:
    a, b = _customers(crm)
    row, _problems = backup.backup_now(crm.svc, crm.actor("admin"))  # made before the erasure
    cs.erase_customer(crm.svc, crm.actor("deputy_manager"), a.id, "客户依法要求删除")
    report = _restore(crm, crm.place.data_dir / "backups" / row.name)
    assert report.reerased == 1
    name, id_number, erased_at = _row(crm, a.id)
    assert name == "" and id_number is None and erased_at is not None
    assert _row(crm, b.id)[0] == "张三"  # others come back as they were
    assert cs.search(crm.svc, crm.manager, NAME).rows == []
    with crm.svc.store.read() as s:
        assert s.execute(text("SELECT number FROM erasure_ledger")).scalars().all() == [a.number]
        assert s.execute(text("SELECT count(*) FROM audit_log WHERE action = 'customer.erase_reapplied'")).scalar() == 1
        assert s.execute(text("SELECT count(*) FROM customer_phone WHERE customer_id = :i"), {"i": a.id}).scalar() == 0


def test_r_cust_13_the_ledger_survives_losing_its_file(crm: Crm) -> None:
    """Without the file, the replaced database's ledger still re-applies the erasure."""
    a, _b = _customers(crm)
    row, _problems = backup.backup_now(crm.svc, crm.actor("admin"))
    cs.erase_customer(crm.svc, crm.actor("deputy_manager"), a.id, "客户依法要求删除")
    erasure.ledger_path(crm.place.data_dir).unlink()
    report = _restore(crm, crm.place.data_dir / "backups" / row.name)
    assert report.reerased == 1 and _row(crm, a.id)[2] is not None
    assert a.number in erasure.ledger_path(crm.place.data_dir).read_text(encoding="utf-8")  # written again


def test_r_cust_13_restoring_a_backup_made_after_the_erasure_reerases_nothing(crm: Crm) -> None:
    a, _b = _customers(crm)
    cs.erase_customer(crm.svc, crm.actor("deputy_manager"), a.id, "客户依法要求删除")
    row, _problems = backup.backup_now(crm.svc, crm.actor("admin"))
    assert _restore(crm, crm.place.data_dir / "backups" / row.name).reerased == 0


def test_r_cust_13_destruction_past_retention_is_one_approved_batch(crm: Crm) -> None:
    require_approvals(crm)
    a, b = _customers(crm)
    deputy, chief = crm.actor("deputy_manager"), crm.actor("section_chief")
    crm.clock.advance(days=366 * 5 + 30)  # past the policy's retention period
    with pytest.raises(approvals.ApprovalNeeded):
        erasure.destroy_past_retention(crm.svc, deputy)
    assert _row(crm, a.id)[2] is None
    rid = approvals.request(crm.svc, deputy, "customer.destroy_batch", "年度到期销毁")
    approvals.approve(crm.svc, chief, rid)
    numbers = erasure.destroy_past_retention(crm.svc, deputy, approval_id=rid)
    assert sorted(numbers) == sorted([a.number, b.number])
    assert _row(crm, a.id)[2] is not None and _row(crm, b.id)[2] is not None
    with pytest.raises(approvals.ApprovalNeeded):  # single use
        erasure.destroy_past_retention(crm.svc, deputy, approval_id=rid)
