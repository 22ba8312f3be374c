"""Approval of sensitive operations (R-SEC-2): exporting the customer list, erasing a customer,
restoring a backup and revealing the ID number of someone else's customer need a second person's
approved, unused, unexpired request; the queue, decisions and use are audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from crm_tui.domain.errors import NotFound, PermissionDenied, ValidationError
from crm_tui.services import approvals, backup, settings
from crm_tui.services import customers as cs
from crm_tui.services.customers import ConsentInput
from tests.services.conftest import Crm, require_approvals

ID = "11010519491231002X"


def _audits(crm: Crm, action: str) -> int:
    return crm.count("audit_log", "action = :a", a=action)


def test_r_sec_2_shipped_default_requires_approval_for_the_sensitive_operations() -> None:
    assert set(settings.defaults()["approval.required"]) >= {
        "customer.export", "customer.erase", "backup.restore", "customer.reveal_other"}


def test_r_sec_2_export_is_refused_without_an_approved_request(crm: Crm, tmp_path: Path) -> None:
    require_approvals(crm)
    chief, deputy = crm.actor("section_chief"), crm.actor("deputy_manager")
    cs.create_customer(crm.svc, crm.manager, "person", {"name": "张三"})
    out = tmp_path / "l.csv"
    with pytest.raises(approvals.ApprovalNeeded) as err:
        cs.export_list(crm.svc, chief, "", cs.SearchFilters(), out, "csv")
    assert "needs a second person's approval" in err.value.message and not out.exists()
    rid = approvals.request(crm.svc, chief, "customer.export", "月度客户一览表报送")
    with pytest.raises(approvals.ApprovalNeeded) as err:  # requested, not yet approved
        cs.export_list(crm.svc, chief, "", cs.SearchFilters(), out, "csv", approval_id=rid)
    assert "not approved" in err.value.message
    with pytest.raises(PermissionDenied):  # never one's own
        approvals.approve(crm.svc, chief, rid)
    approvals.approve(crm.svc, deputy, rid, "同意")
    assert cs.export_list(crm.svc, chief, "", cs.SearchFilters(), out, "csv", approval_id=rid) == 1
    view = approvals.get_request(crm.svc, chief, rid)
    assert view.state == "used" and view.decided_by == "fujingli" and view.used_at is not None
    out.unlink()
    with pytest.raises(approvals.ApprovalNeeded) as err:  # single use
        cs.export_list(crm.svc, chief, "", cs.SearchFilters(), out, "csv", approval_id=rid)
    assert "used" in err.value.message and not out.exists()
    assert [_audits(crm, a) for a in ("approval.request", "approval.approve", "approval.used")] == [1, 1, 1]


def test_r_sec_2_erase_needs_an_approval_for_that_customer_and_it_expires(crm: Crm) -> None:
    require_approvals(crm)
    deputy, chief = crm.actor("deputy_manager"), crm.actor("section_chief")
    a = cs.create_customer(crm.svc, crm.manager, "person", {"name": "张三"})
    b = cs.create_customer(crm.svc, crm.manager, "person", {"name": "李四"})
    with pytest.raises(ValidationError):
        approvals.request(crm.svc, deputy, "customer.erase", "客户要求删除")  # which customer?
    rid = approvals.request(crm.svc, deputy, "customer.erase", "客户要求删除", target=a.number)
    approvals.approve(crm.svc, chief, rid)
    with pytest.raises(approvals.ApprovalNeeded) as err:
        cs.erase_customer(crm.svc, deputy, b.id, "客户要求删除", approval_id=rid)
    assert a.number in err.value.message
    crm.clock.advance(hours=25)
    with pytest.raises(approvals.ApprovalNeeded) as err:
        cs.erase_customer(crm.svc, deputy, a.id, "客户要求删除", approval_id=rid)
    assert "expired" in err.value.message
    rid2 = approvals.request(crm.svc, deputy, "customer.erase", "客户要求删除", target=a.number)
    approvals.approve(crm.svc, crm.actors["admin"], rid2)
    cs.erase_customer(crm.svc, deputy, a.id, "客户要求删除", approval_id=rid2)
    assert crm.count("customer", "id = :i AND erased_at IS NOT NULL", i=a.id) == 1


def test_r_sec_2_rejection_needs_a_reason_and_is_final(crm: Crm) -> None:
    require_approvals(crm)
    deputy, chief = crm.actor("deputy_manager"), crm.actor("section_chief")
    a = cs.create_customer(crm.svc, crm.manager, "person", {"name": "张三"})
    rid = approvals.request(crm.svc, deputy, "customer.erase", "客户要求删除", target=a.number)
    with pytest.raises(ValidationError):
        approvals.reject(crm.svc, chief, rid, "")
    approvals.reject(crm.svc, chief, rid, "尚有未结投诉")
    assert approvals.get_request(crm.svc, deputy, rid).state == "rejected"
    with pytest.raises(approvals.ApprovalNeeded):
        cs.erase_customer(crm.svc, deputy, a.id, "x", approval_id=rid)
    with pytest.raises(Exception):
        approvals.approve(crm.svc, chief, rid)
    assert _audits(crm, "approval.reject") == 1


def test_r_sec_2_only_approvers_decide_and_others_see_only_their_own(crm: Crm) -> None:
    require_approvals(crm)
    chief = crm.actor("section_chief")
    rid = approvals.request(crm.svc, chief, "customer.export", "报送")
    for role in ("front_desk", "customer_manager", "internal_control"):
        with pytest.raises(PermissionDenied):
            approvals.approve(crm.svc, crm.actor(role), rid)
        assert approvals.list_requests(crm.svc, crm.actor(role)) == []
        with pytest.raises(NotFound):
            approvals.get_request(crm.svc, crm.actor(role), rid)
    assert [v.id for v in approvals.list_requests(crm.svc, crm.actors["admin"], pending_only=True)] == [rid]
    with pytest.raises(PermissionDenied):  # a requester must hold the operation's own permission
        approvals.request(crm.svc, crm.actor("front_desk"), "customer.export", "x")


def test_r_sec_2_revealing_the_id_number_of_another_ones_customer_needs_approval(crm: Crm) -> None:
    require_approvals(crm)
    mgr, other = crm.manager, crm.actors["customer_manager2"]
    ref = cs.create_customer(crm.svc, mgr, "person", {"name": "张三", "id_number": ID},
                             consents=[ConsentInput("身份核验", "sensitive", "signed_form")])
    assert cs.reveal(crm.svc, mgr, ref.id, "id_number", "核对身份") == ID  # one's own customer: no approval
    with pytest.raises(approvals.ApprovalNeeded):
        cs.reveal(crm.svc, other, ref.id, "id_number", "核对身份")
    rid = approvals.request(crm.svc, other, "customer.reveal_other", "核对开户资料", target=ref.number)
    approvals.approve(crm.svc, crm.actor("section_chief"), rid)
    assert cs.reveal(crm.svc, other, ref.id, "id_number", "核对身份", approval_id=rid) == ID


def test_r_sec_2_restore_needs_an_approved_request_for_that_file(crm: Crm) -> None:
    require_approvals(crm)
    admin = crm.actors["admin"]
    row, _p = backup.backup_now(crm.svc, admin)
    with pytest.raises(approvals.ApprovalNeeded):
        backup.use_restore_approval(crm.svc, admin, row.name, None)
    rid = approvals.request(crm.svc, admin, "backup.restore", "误删数据，恢复昨日备份", target=row.name)
    approvals.approve(crm.svc, crm.actor("section_chief"), rid)
    assert backup.use_restore_approval(crm.svc, admin, crm.place.data_dir / "backups" / row.name, rid) == rid
    with crm.svc.store.read() as s:
        assert s.execute(text("SELECT state FROM approval_request WHERE id = :i"), {"i": rid}).scalar() == "used"


def test_r_sec_2_the_setting_lists_the_operations_and_refuses_unknown_ones(crm: Crm) -> None:
    admin = crm.actors["admin"]
    with pytest.raises(ValidationError):
        settings.set_setting(crm.svc, admin, "approval.required", "customer.export,format.disk")
    settings.set_setting(crm.svc, admin, "approval.required", "customer.export")
    assert approvals.required(crm.svc, "customer.export") and not approvals.required(crm.svc, "customer.erase")


def test_r_sec_2_approvers_see_waiting_requests_on_their_home_list(crm: Crm) -> None:
    from crm_tui.services import home

    require_approvals(crm)
    chief, deputy = crm.actor("section_chief"), crm.actor("deputy_manager")
    approvals.request(crm.svc, chief, "customer.export", "报送")

    def waiting(actor) -> int:  # type: ignore[no-untyped-def]
        return sum(i.count for i in home.today(crm.svc, actor) if i.key == "approval.pending")

    assert waiting(deputy) == 1 and waiting(crm.actors["admin"]) == 1
    assert waiting(chief) == 0  # one's own request is not one's to decide
    assert waiting(crm.manager) == 0


def test_r_sec_2_a_restore_request_by_the_backups_full_path_is_for_that_file(crm: Crm) -> None:
    """Found as a user: `approval request backup.restore --target /path/to/file.db` was approved,
    then the restore of that very file was refused ("approved for another object")."""
    require_approvals(crm)
    admin = crm.actors["admin"]
    row, _p = backup.backup_now(crm.svc, admin)
    full = crm.place.data_dir / "backups" / row.name
    rid = approvals.request(crm.svc, admin, "backup.restore", "演练恢复", target=str(full))
    assert approvals.get_request(crm.svc, admin, rid).target == row.name
    approvals.approve(crm.svc, crm.actor("section_chief"), rid)
    assert backup.use_restore_approval(crm.svc, admin, full, rid) == rid
