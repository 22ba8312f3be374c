"""Issue 21: the front desk records a caller's new phone number, directly or as a change the
owner confirms (data/roles.toml ``phone_change``), through the same path as any phone change:
audited, counted for the twice-in-a-month flag (R-CUST-8), checked for shared phones (R-CUST-7)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text

from crm_tui.domain import roles
from crm_tui.domain.errors import Conflict, PermissionDenied, ValidationError, ValidationErrors
from crm_tui.services import customers as cs
from crm_tui.services import frontdesk as fd
from crm_tui.services import home
from crm_tui.services.customers import PhoneInput
from tests.services.conftest import Crm


def set_mode(monkeypatch: pytest.MonkeyPatch, mode: str | None) -> None:
    """The front desk's ``phone_change`` as data/roles.toml would set it."""
    original = roles.all_roles

    def patched() -> dict[str, roles.Role]:
        table = original()
        table["front_desk"] = dataclasses.replace(table["front_desk"], phone_change=mode)
        return table

    monkeypatch.setattr(roles, "all_roles", patched)


def customer(crm: Crm, phones: tuple[str, ...] = ("13800138000",)) -> cs.CustomerRef:
    return cs.create_customer(crm.svc, crm.manager, "person", {"name": "张三"},
                              phones=[PhoneInput(p) for p in phones])


def nationals(crm: Crm, cid: int) -> list[str]:
    with crm.svc.store.read() as s:
        return [r[0] for r in s.execute(text("SELECT national FROM customer_phone WHERE customer_id = :c"
                                             " ORDER BY is_primary DESC, id"), {"c": cid})]


def actions(crm: Crm, cid: int) -> list[str]:
    with crm.svc.store.read() as s:
        return [r[0] for r in s.execute(text("SELECT action FROM audit_log WHERE customer_id = :c ORDER BY id"),
                                        {"c": cid})]


def main_phone_id(crm: Crm, cid: int) -> int:
    view = cs.get_customer(crm.svc, crm.actor("front_desk"), cid, purpose="ref")
    return next(p.id for p in view.phones if p.primary)


def test_the_shipped_front_desk_needs_the_owners_confirmation() -> None:
    assert roles.phone_change_mode(["front_desk"]) == "owner_confirms"
    assert roles.phone_change_mode(["customer_manager"]) is None


def test_direct_mode_replaces_the_phone_at_once_audited_and_flagged(crm: Crm, monkeypatch) -> None:
    """R-CUST-8: two changes within a month through the front desk flag the customer."""
    set_mode(monkeypatch, "direct")
    desk = crm.actor("front_desk")
    ref = customer(crm, ("13800138000", "13700137000"))
    out = fd.record_new_phone(crm.svc, desk, ref.id, "139 0013 9000", replaces=main_phone_id(crm, ref.id))
    assert out.state == "saved" and out.request_id is None
    assert nationals(crm, ref.id) == ["13900139000", "13700137000"]  # in the main phone's place
    assert actions(crm, ref.id)[-1] == "customer.update"
    timeline = cs.timeline(crm.svc, crm.manager, ref.id)
    assert any("139" in e.body for e in timeline)
    crm.clock.advance(days=5)
    fd.record_new_phone(crm.svc, desk, ref.id, "13600136000", replaces=main_phone_id(crm, ref.id))
    assert [r.customer.id for r in cs.watch_phone_changes(crm.svc, crm.manager).rows] == [ref.id]


def test_direct_mode_adds_another_phone(crm: Crm, monkeypatch) -> None:
    set_mode(monkeypatch, "direct")
    ref = customer(crm)
    fd.record_new_phone(crm.svc, crm.actor("front_desk"), ref.id, "13900139000", replaces=None)
    assert nationals(crm, ref.id) == ["13800138000", "13900139000"]


def test_owner_confirms_mode_waits_for_the_owner(crm: Crm, monkeypatch) -> None:
    set_mode(monkeypatch, "owner_confirms")
    desk = crm.actor("front_desk")
    ref = customer(crm)
    out = fd.record_new_phone(crm.svc, desk, ref.id, "13900139000", replaces=main_phone_id(crm, ref.id),
                              note="客户来电告知")
    assert out.state == "requested" and out.request_id
    assert nationals(crm, ref.id) == ["13800138000"]  # nothing changed yet
    assert "customer.phone_change_requested" in actions(crm, ref.id)
    # the front desk sees the request masked, the owner whole
    [seen] = fd.pending_phone_changes(crm.svc, desk, ref.id)
    assert "13900139000" not in seen.number.replace(" ", "") and seen.number.endswith("9000")
    [mine] = fd.pending_phone_changes(crm.svc, crm.manager, ref.id)
    assert mine.number == "139 0013 9000" and mine.replaces == "138 0013 8000"
    assert [i.count for i in home.today(crm.svc, crm.manager) if i.key == "customer.phone_requests"] == [1]
    assert [r.customer.id for r in fd.watch_phone_requests(crm.svc, crm.manager).rows] == [ref.id]
    # nobody but the owner confirms
    with pytest.raises(PermissionDenied):
        fd.confirm_phone_change(crm.svc, crm.actor("customer_manager2"), out.request_id)
    with pytest.raises(PermissionDenied):
        fd.confirm_phone_change(crm.svc, desk, out.request_id)
    assert nationals(crm, ref.id) == ["13800138000"]
    fd.confirm_phone_change(crm.svc, crm.manager, out.request_id)
    assert nationals(crm, ref.id) == ["13900139000"]
    assert actions(crm, ref.id)[-2:] == ["customer.update", "customer.phone_change_confirmed"]
    assert fd.pending_phone_changes(crm.svc, crm.manager, ref.id) == []
    with pytest.raises(Conflict):
        fd.confirm_phone_change(crm.svc, crm.manager, out.request_id)
    # a second confirmed change within the month: flagged (R-CUST-8)
    crm.clock.advance(days=3)
    again = fd.record_new_phone(crm.svc, desk, ref.id, "13600136000", replaces=main_phone_id(crm, ref.id))
    assert cs.watch_phone_changes(crm.svc, crm.manager).rows == []
    fd.confirm_phone_change(crm.svc, crm.manager, again.request_id)
    assert [r.customer.id for r in cs.watch_phone_changes(crm.svc, crm.manager).rows] == [ref.id]


def test_the_owner_rejects_with_a_reason(crm: Crm, monkeypatch) -> None:
    set_mode(monkeypatch, "owner_confirms")
    ref = customer(crm)
    out = fd.record_new_phone(crm.svc, crm.actor("front_desk"), ref.id, "13900139000", replaces=None)
    with pytest.raises(ValidationError):
        fd.reject_phone_change(crm.svc, crm.manager, out.request_id, "  ")
    fd.reject_phone_change(crm.svc, crm.manager, out.request_id, "客户本人未确认")
    assert nationals(crm, ref.id) == ["13800138000"]
    assert actions(crm, ref.id)[-1] == "customer.phone_change_rejected"
    assert fd.pending_phone_changes(crm.svc, crm.manager, ref.id) == []


@pytest.mark.parametrize("mode", ["direct", "owner_confirms"])
def test_bad_numbers_are_refused_by_field_and_write_nothing(crm: Crm, monkeypatch, mode: str) -> None:
    set_mode(monkeypatch, mode)
    desk = crm.actor("front_desk")
    ref = customer(crm)
    before = (nationals(crm, ref.id), actions(crm, ref.id))
    for number, replaces, field in (("abc", None, "phone"), ("", None, "phone"), ("138 0013 8000", None, "phone"),
                                    ("13900139000", 999999, "replaces")):
        with pytest.raises(ValidationErrors) as e:
            fd.record_new_phone(crm.svc, desk, ref.id, number, replaces=replaces)
        assert field in e.value.by_field()
    assert (nationals(crm, ref.id), actions(crm, ref.id)) == before
    with crm.svc.store.read() as s:
        assert s.execute(text("SELECT count(*) FROM phone_change_request")).scalar_one() == 0


def test_a_number_of_another_customer_needs_the_shared_phone_reason(crm: Crm, monkeypatch) -> None:
    """R-CUST-7 applies to the front desk's change as to the form's."""
    set_mode(monkeypatch, "direct")
    ref = customer(crm)
    cs.create_customer(crm.svc, crm.manager, "person", {"name": "李四"}, phones=[PhoneInput("13900139000")])
    with pytest.raises(cs.SharedPhone):
        fd.record_new_phone(crm.svc, crm.actor("front_desk"), ref.id, "13900139000", replaces=None)
    assert nationals(crm, ref.id) == ["13800138000"]
    fd.record_new_phone(crm.svc, crm.actor("front_desk"), ref.id, "13900139000", replaces=None,
                        shared_phone_reasons={"13900139000": "夫妻共用"})
    assert nationals(crm, ref.id) == ["13800138000", "13900139000"]


def test_a_role_without_the_setting_uses_the_form(crm: Crm, monkeypatch) -> None:
    set_mode(monkeypatch, None)
    ref = customer(crm)
    with pytest.raises(PermissionDenied):
        fd.record_new_phone(crm.svc, crm.actor("front_desk"), ref.id, "13900139000", replaces=None)
    assert fd.phone_change_mode(crm.actor("internal_control")) is None


def test_erasure_removes_the_requests(crm: Crm, monkeypatch) -> None:
    set_mode(monkeypatch, "owner_confirms")
    ref = customer(crm)
    fd.record_new_phone(crm.svc, crm.actor("front_desk"), ref.id, "13900139000", replaces=None, note="来电")
    cs.erase_customer(crm.svc, crm.actor("deputy_manager"), ref.id, "客户要求删除")
    with crm.svc.store.read() as s:
        assert s.execute(text("SELECT count(*) FROM phone_change_request")).scalar_one() == 0


def test_an_approval_names_who_decided_by_name(crm: Crm) -> None:
    """Issue 21: people by name: the approval shows its decider's name, not only the user name."""
    from crm_tui.services import approvals

    rid = approvals.request(crm.svc, crm.actor("section_chief"), "customer.export", "月度客户一览表报送")
    approvals.approve(crm.svc, crm.actor("deputy_manager"), rid)
    view = approvals.get_request(crm.svc, crm.actor("section_chief"), rid)
    assert view.decided_by == "fujingli" and view.decided_by_name == "刘伟"
