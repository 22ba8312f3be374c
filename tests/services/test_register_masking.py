"""The front-desk register under the one masking policy (issue 19 item 1; R-SEC-2, R-SEC-3, R-FU-4)
and one audit row per unmasked view (issue 19 done-when "every unmasked view has its audit row")."""

from __future__ import annotations

from datetime import datetime

import pytest

from crm_tui.domain.errors import PermissionDenied, ValidationError
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services.customers import PhoneInput
from tests.services.conftest import Crm

LINE_PHONE = "13512345678"
ARCHIVE_PHONE = "13698761234"


def unmasked_rows(crm: Crm, user: str, action: str = "customer.view_unmasked") -> int:
    return crm.count("audit_log", "action = :a AND actor_name = :u", a=action, u=user)


def lines(crm: Crm) -> tuple[int, int, int]:
    """(a line without an archive, consultant jingli; a line linked to jingli's customer; its customer)."""
    crm.clock.now = datetime(2026, 11, 23, 10, 5)
    desk = crm.actor("front_desk")
    free = fu.add_register(crm.svc, desk, {"name": "孙小美", "phone": LINE_PHONE, "source": "walk_in",
                                           "summary": f"留了电话{LINE_PHONE}，另一个13800138000",
                                           "companions": f"丈夫 {LINE_PHONE}"}, consultant="jingli")
    ref = cs.create_customer(crm.svc, crm.manager, "person", {"name": "周先生"}, phones=[PhoneInput(ARCHIVE_PHONE)])
    linked = fu.add_register(crm.svc, desk, {"name": "周先生", "phone": ARCHIVE_PHONE, "source": "walk_in",
                                             "kind": "call"}, customer_id=ref.id)
    return free, linked, ref.id


def test_r_sec_2_register_list_masks_every_phone_for_every_role(crm: Crm) -> None:
    """A list shows no phone whole to anyone (like search rows), and its free text is scrubbed;
    so listing writes no audit row."""
    lines(crm)
    for role in ("front_desk", "customer_manager", "section_chief"):
        page = fu.register_page(crm.svc, crm.actor(role))
        shown = repr(page.rows)
        assert LINE_PHONE not in shown and ARCHIVE_PHONE not in shown and "13800138000" not in shown, role
        assert {r.phone for r in page.rows} == {"135****5678", "136****1234"}
        assert "138****8000" in shown
    problems = repr(fu.register_page(crm.svc, crm.actor("section_chief"), problems=True).rows)
    assert LINE_PHONE not in problems
    assert crm.count("audit_log", "action LIKE '%view_unmasked'") == 0


def test_r_sec_2_register_line_view_follows_the_policy_and_is_audited_once(crm: Crm) -> None:
    free, linked, cid = lines(crm)
    desk = crm.actor("front_desk")
    # the front desk: masked, no reveal offered, a reveal refused
    for entry in (free, linked):
        v = fu.register_line(crm.svc, desk, entry)
        assert not v.whole and not v.may_reveal and LINE_PHONE not in repr(v) and ARCHIVE_PHONE not in repr(v)
    with pytest.raises(PermissionDenied):
        fu.reveal_register_phone(crm.svc, desk, free, "回电")
    # the consultant of a line without an archive sees its phone whole: one audit row per view
    v = fu.register_line(crm.svc, crm.manager, free)
    assert v.whole and v.row.phone == LINE_PHONE and LINE_PHONE in v.row.summary
    fu.register_line(crm.svc, crm.manager, free)  # the same view reloaded: no second row
    assert unmasked_rows(crm, "jingli", "register.view_unmasked") == 1
    crm.clock.advance(minutes=11)
    fu.register_line(crm.svc, crm.manager, free)  # a new view later on
    assert unmasked_rows(crm, "jingli", "register.view_unmasked") == 2
    # a linked line follows its archive: the owner sees both phones whole, audited on the customer
    v = fu.register_line(crm.svc, crm.manager, linked)
    assert v.whole and v.row.phone == ARCHIVE_PHONE and v.archive_phone == ARCHIVE_PHONE
    assert crm.count("audit_log", "action = 'customer.view_unmasked' AND customer_id = :c AND actor_name = 'jingli'",
                     c=cid) == 1
    # the section chief is neither consultant nor owner: masked, may reveal with a reason (audited)
    chief = crm.actor("section_chief")
    v = fu.register_line(crm.svc, chief, free)
    assert not v.whole and v.may_reveal and v.row.phone == "135****5678" and LINE_PHONE not in v.row.summary
    with pytest.raises(ValidationError):
        fu.reveal_register_phone(crm.svc, chief, free, "  ")
    assert fu.reveal_register_phone(crm.svc, chief, free, "客户要求回电") == LINE_PHONE
    assert crm.count("audit_log", "action = 'register.reveal' AND actor_name = 'kezhang' AND entity_id = :e",
                     e=str(free)) == 1
    assert unmasked_rows(crm, "kezhang") + unmasked_rows(crm, "kezhang", "register.view_unmasked") == 0


def test_r_sec_3_the_archive_screen_writes_one_row_per_view(crm: Crm) -> None:
    """Archive and history shown together are one view: one row, naming every field shown; a
    reload of the same view adds none; the edit form is another view."""
    body = "11010519800307123"
    from stdnum.cn import ric

    ref = cs.create_customer(crm.svc, crm.manager, "person", {"name": "张三", "id_number": body + ric.calc_check_digit(
        body + "0")}, phones=[PhoneInput("13912345678")],
        consents=[cs.ConsentInput("身份核验", "sensitive", "signed_form")])
    view, entries = cs.archive_page(crm.svc, crm.manager, ref.id)
    assert view.values["id_number"].startswith("110105198003071") and entries
    cs.archive_page(crm.svc, crm.manager, ref.id)
    rows = crm.count("audit_log", "action = 'customer.view_unmasked' AND customer_id = :c", c=ref.id)
    assert rows == 1
    from crm_tui.services import audit

    [entry] = audit.list_entries(crm.svc, crm.actor("internal_control"), audit.AuditFilter(action="customer.view_unmasked"))
    assert entry.actor == "jingli" and entry.customer_id == ref.id
    assert entry.details["fields"] == ["id_number", "phones"] and entry.details["purpose"] == "view"
    from crm_tui.services import customer_forms

    customer_forms.form_values(crm.svc, crm.manager, ref.id)
    assert crm.count("audit_log", "action = 'customer.view_unmasked' AND customer_id = :c", c=ref.id) == 2
    # another role that may not see them whole leaves no such row
    cs.archive_page(crm.svc, crm.actor("front_desk"), ref.id)
    cs.archive_page(crm.svc, crm.actor("section_chief"), ref.id)
    assert crm.count("audit_log", "action = 'customer.view_unmasked' AND customer_id = :c", c=ref.id) == 2


def test_r_sec_2_crash_log_masks_values_an_exception_quotes() -> None:
    """crash.log (TUI and CLI) keeps the traceback but masks anything ID-, phone- or account-shaped."""
    from crm_tui.services.system import crash_text

    try:
        raise RuntimeError("bad row: 11010519800307123X 13912345678 6222021234567890123")
    except RuntimeError as e:
        logged = crash_text(e)
    assert "RuntimeError" in logged and "test_register_masking.py" in logged
    assert "11010519800307123X" not in logged and "13912345678" not in logged and "6222021234567890123" not in logged
    assert "139****5678" in logged


def test_r_sec_2_card_from_a_register_line_masks_what_the_front_desk_typed(crm: Crm) -> None:
    """Found as a user: Ctrl+G on a line whose summary held a phone and an ID number opened a card
    showing both whole to the front desk. Card texts follow the policy; saving the form as shown
    keeps the stored text."""
    desk = crm.actor("front_desk")
    ident = "110105198003071234"
    rid = fu.add_register(crm.svc, desk, {"name": "测试访客", "phone": LINE_PHONE, "source": "walk_in",
                                          "summary": f"客户留电话{LINE_PHONE}，身份证{ident}"}, consultant="jingli")
    ref = fu.card_from_register(crm.svc, desk, rid)
    for actor in (desk, crm.manager, crm.actor("section_chief")):
        view = fu.get_card(crm.svc, actor, ref.id)
        assert LINE_PHONE not in repr(view) and ident not in repr(view), actor.username
        assert "135****5678" in view.values["first_reception_summary"]
    form = fu.get_card(crm.svc, crm.manager, ref.id)
    fu.update_card(crm.svc, crm.manager, ref.id, {**form.form_values(), "product": "途观L"},
                   expected_version=form.version)
    from sqlalchemy import text

    with crm.svc.store.read() as s:
        stored = s.execute(text("SELECT first_reception_summary, product FROM followup_card WHERE id = :i"),
                           {"i": ref.id}).one()
    assert tuple(stored) == (f"客户留电话{LINE_PHONE}，身份证{ident}", "途观L")
