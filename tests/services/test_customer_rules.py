"""Issue 20, the customer rules whole: R-CUST-3 (false information, business stopped, honoured by
the follow-up and grade services), R-CUST-7 (shared phones on both customers, two signatures,
filed), R-CUST-8 (a flag that lasts until an inspection is recorded), R-CUST-10 (the second
contact of an important customer, disabled staff not counted)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from crm_tui.i18n import get_language, set_language
from crm_tui.services import complaints as cp
from crm_tui.services import customer_rules as cr
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services import grades as gs
from crm_tui.services import home
from crm_tui.services.customers import PhoneInput
from tests.services.conftest import Crm

CARD = {"first_reception_date": "2026-11-23", "intent_level": "H", "source": "walk_in",
        "first_reception_summary": "看了两款车"}
VISIT = {"method": "call", "content": "电话回访", "level": "A"}
TICKET = {"channel": "phone", "ack_method": "phone", "category": "service/waiting", "severity": "normal", "description": "排队太久"}


def person(crm: Crm, name: str = "张三", phone: str = "13800138000", **raw: str) -> int:
    return cs.create_customer(crm.svc, crm.manager, "person", {"name": name, **raw},
                              phones=[PhoneInput(phone)] if phone else []).id


def one(crm: Crm, sql: str, **params: object) -> object:
    with crm.svc.store.read() as s:
        return s.execute(text(sql), params).scalar()


# -- R-CUST-3 ------------------------------------------------------------------------------------


def test_r_cust_3_false_information_stops_cards_visits_and_grade_applications_not_complaints(crm: Crm) -> None:
    """R-CUST-3: a customer marked as having given false information gets no new follow-up card,
    visit or grade change application; a complaint is still accepted; a supervisor lifts it."""
    cid = person(crm)
    card = fu.create_card(crm.svc, crm.manager, cid, CARD)
    cs.mark_false_information(crm.svc, crm.manager, cid, "身份证件为伪造")
    before = (crm.count("followup_card"), crm.count("followup_visit"), crm.count("grade_application"))
    with pytest.raises(cr.BusinessStopped) as e1:
        fu.create_card(crm.svc, crm.manager, cid, CARD)
    assert "follow-up card" in str(e1.value) and "false information" in str(e1.value)
    with pytest.raises(cr.BusinessStopped):
        fu.log_visit(crm.svc, crm.manager, card.id, VISIT)
    with pytest.raises(cr.BusinessStopped):
        gs.file_application(crm.svc, crm.manager, cid, "B", "年度合作金额增长，信用评级提升")
    bulk = gs.file_bulk(crm.svc, crm.actor("section_chief"), [(cid, "B")], "年度评定")
    assert bulk.filed == [] and len(bulk.skipped) == 1
    assert (crm.count("followup_card"), crm.count("followup_visit"), crm.count("grade_application")) == before
    cp.file_complaint(crm.svc, crm.actor("front_desk"), cid, TICKET)  # complaints still accepted
    lang = get_language()
    set_language("zh_CN")
    try:
        with pytest.raises(cr.BusinessStopped) as zh:
            fu.create_card(crm.svc, crm.manager, cid, CARD)
        assert "投诉" in str(zh.value) and "虚假" in str(zh.value)  # the message in the UI language
    finally:
        set_language(lang)
    # only a supervisor lifts it
    with pytest.raises(PermissionDenied):
        cs.clear_false_information(crm.svc, crm.manager, cid, "核实无误")
    cs.clear_false_information(crm.svc, crm.actor("section_chief"), cid, "核实无误")
    fu.log_visit(crm.svc, crm.manager, card.id, VISIT)


def test_r_cust_3_stop_business_with_a_reason_audited_and_resumed_by_a_supervisor(crm: Crm) -> None:
    cid = person(crm)
    with pytest.raises(ValidationError):
        cr.stop_business(crm.svc, crm.manager, cid, "  ")
    assert one(crm, "SELECT business_stopped FROM customer WHERE id = :i", i=cid) == 0
    cr.stop_business(crm.svc, crm.manager, cid, "涉嫌冒用他人身份")
    view = cs.get_customer(crm.svc, crm.manager, cid)
    assert view.business_stopped and view.business_stop_note == "涉嫌冒用他人身份"
    assert cs.timeline(crm.svc, crm.manager, cid)[0].title == "Business stopped"
    with pytest.raises(cr.BusinessStopped):
        fu.create_card(crm.svc, crm.manager, cid, CARD)
    with pytest.raises(Conflict):
        cr.stop_business(crm.svc, crm.manager, cid, "again")
    with pytest.raises(PermissionDenied):
        cr.resume_business(crm.svc, crm.manager, cid, "核实")
    cr.resume_business(crm.svc, crm.actor("deputy_manager"), cid, "核实为本人")
    assert not cs.get_customer(crm.svc, crm.manager, cid).business_stopped
    assert cs.timeline(crm.svc, crm.manager, cid)[0].title == "Business resumed"
    fu.create_card(crm.svc, crm.manager, cid, CARD)


# -- R-CUST-7 ------------------------------------------------------------------------------------


def _shared_pair(crm: Crm) -> tuple[int, int]:
    first = person(crm, "张三", "13800138000")
    second = cs.create_customer(crm.svc, crm.manager, "person", {"name": "李四"}, phones=[PhoneInput("13800138000")],
                                shared_phone_reasons={"13800138000": "夫妻共用"}).id
    return first, second


def test_r_cust_7_a_shared_phone_is_on_both_customers_and_both_are_reviewed(crm: Crm) -> None:
    """R-CUST-7: the customer who had the number first gets the reason and the review too."""
    first, second = _shared_pair(crm)
    rows = cs.watch_shared_phones(crm.svc, crm.manager).rows
    assert sorted(r.customer.id for r in rows) == sorted([first, second])
    assert all("夫妻共用" in r.detail for r in rows)
    view = cs.get_customer(crm.svc, crm.actor("section_chief"), first)
    assert view.phones[0].shared_reason == "夫妻共用"
    assert "Phone now shared with another customer" in cs.timeline(crm.svc, crm.manager, first)[0].title


def test_r_cust_7_two_signatures_then_filed_with_internal_control(crm: Crm) -> None:
    """R-CUST-7: section chief and deputy manager both sign (two people), then internal control
    files it (备案); periodic review asks both signatures again."""
    first, second = _shared_pair(crm)
    pid = {r.customer.id: r.phone_id for r in cs.watch_shared_phones(crm.svc, crm.manager).rows}
    chief, deputy, ic = crm.actor("section_chief"), crm.actor("deputy_manager"), crm.actor("internal_control")
    with pytest.raises(PermissionDenied):
        cs.approve_shared_phone(crm.svc, crm.actor("front_desk"), pid[first])
    assert cs.approve_shared_phone(crm.svc, chief, pid[first], "核实为夫妻") == "chief"
    with pytest.raises(Conflict):
        cs.approve_shared_phone(crm.svc, chief, pid[first])  # one person, one signature
    assert first in {r.customer.id for r in cs.watch_shared_phones(crm.svc, crm.manager).rows}  # still one missing
    with pytest.raises(NotFound):
        cr.file_shared_phone(crm.svc, ic, pid[first])  # not signed twice yet
    assert cs.approve_shared_phone(crm.svc, deputy, pid[first]) == "deputy"
    assert {r.customer.id for r in cs.watch_shared_phones(crm.svc, crm.manager).rows} == {second}
    assert [r.customer.id for r in cr.watch_shared_filing(crm.svc, ic).rows] == [first]
    with pytest.raises(PermissionDenied):
        cr.file_shared_phone(crm.svc, chief, pid[first])
    cr.file_shared_phone(crm.svc, ic, pid[first], "已备案")
    assert cr.watch_shared_filing(crm.svc, ic).rows == []
    sig = cs.get_customer(crm.svc, chief, first).phones[0].shared_signatures
    assert "陈志强" in sig and "刘伟" in sig and "孙静" in sig
    crm.clock.advance(days=181)  # the periodic review needs both signatures again
    assert first in {r.customer.id for r in cs.watch_shared_phones(crm.svc, crm.manager).rows}
    assert cs.approve_shared_phone(crm.svc, deputy, pid[first]) == "deputy"
    assert first in {r.customer.id for r in cs.watch_shared_phones(crm.svc, crm.manager).rows}
    cs.approve_shared_phone(crm.svc, chief, pid[first])
    assert first not in {r.customer.id for r in cs.watch_shared_phones(crm.svc, crm.manager).rows}


def test_r_cust_7_a_number_left_on_one_customer_is_no_longer_shared(crm: Crm) -> None:
    first, second = _shared_pair(crm)
    cs.update_customer(crm.svc, crm.manager, second, {}, expected_version=1, phones=[PhoneInput("13900139000")])
    assert cs.watch_shared_phones(crm.svc, crm.manager).rows == []
    assert cs.get_customer(crm.svc, crm.actor("section_chief"), first).phones[0].shared_reason is None


# -- R-CUST-8 ------------------------------------------------------------------------------------


def test_r_cust_8_the_flag_lasts_past_30_days_and_an_inspection_clears_it(crm: Crm) -> None:
    """R-CUST-8: two phone changes within a month flag the customer on the archive and in the list
    until an inspection (who, when, result) is recorded; the flag does not lapse."""
    cid = person(crm)
    cs.update_customer(crm.svc, crm.manager, cid, {}, expected_version=1, phones=[PhoneInput("13900139000")])
    assert cs.get_customer(crm.svc, crm.manager, cid).phone_inspection_since is None
    crm.clock.advance(days=10)
    flagged_at = crm.clock.now
    cs.update_customer(crm.svc, crm.actor("front_desk"), cid, {}, expected_version=2,
                       phones=[PhoneInput("13700137000")])  # a front-desk change raises it too
    assert cs.get_customer(crm.svc, crm.manager, cid).phone_inspection_since == flagged_at
    crm.clock.advance(days=60)
    assert [r.customer.id for r in cs.watch_phone_changes(crm.svc, crm.manager).rows] == [cid]
    assert [i.count for i in home.today(crm.svc, crm.manager) if i.key == "customer.phone_changes"] == [1]
    with pytest.raises(PermissionDenied):
        cr.record_phone_inspection(crm.svc, crm.actor("front_desk"), cid, "x")
    with pytest.raises(ValidationError):
        cr.record_phone_inspection(crm.svc, crm.actor("internal_control"), cid, "")
    cr.record_phone_inspection(crm.svc, crm.actor("internal_control"), cid, "客户换号属实，经营正常")
    view = cs.get_customer(crm.svc, crm.manager, cid)
    assert view.phone_inspection_since is None
    assert view.last_inspection and "孙静" in view.last_inspection and "经营正常" in view.last_inspection
    assert cs.watch_phone_changes(crm.svc, crm.manager).rows == []
    with pytest.raises(Conflict):
        cr.record_phone_inspection(crm.svc, crm.actor("internal_control"), cid, "again")
    assert one(crm, "SELECT inspected_by_id FROM customer_phone_inspection WHERE customer_id = :c AND flagged_at"
                    " IS NOT NULL AND inspected_at IS NOT NULL", c=cid) == crm.actor("internal_control").staff_id


def test_r_cust_8_changes_more_than_a_month_apart_raise_nothing(crm: Crm) -> None:
    cid = person(crm)
    cs.update_customer(crm.svc, crm.manager, cid, {}, expected_version=1, phones=[PhoneInput("13900139000")])
    crm.clock.advance(days=31)
    cs.update_customer(crm.svc, crm.manager, cid, {}, expected_version=2, phones=[PhoneInput("13700137000")])
    assert cs.watch_phone_changes(crm.svc, crm.manager).rows == []


# -- R-CUST-10 -----------------------------------------------------------------------------------


def _apply(crm: Crm, cid: int, to: str) -> None:
    app = gs.file_application(crm.svc, crm.manager, cid, to, "年度合作金额增长，信用评级提升至AA")
    gs.approve_chief(crm.svc, crm.actor("section_chief"), app, "同意")
    gs.approve_deputy(crm.svc, crm.actor("deputy_manager"), app)
    gs.apply_change(crm.svc, crm.actor("section_chief"), app)


def test_r_cust_10_an_applied_important_grade_opens_a_second_contact_task(crm: Crm) -> None:
    """R-CUST-10: when a customer becomes important (grade applied), a task with a deadline in
    working days asks for the second staff contact; it is done when one is in contact."""
    cid = person(crm)
    _apply(crm, cid, "A")  # grade A's standard requires an important customer
    view = cs.get_customer(crm.svc, crm.manager, cid)
    assert view.important
    # applied on Monday 2026-11-23: 5 working days -> the close of Monday 2026-11-30
    assert view.contact_task_due is not None and view.contact_task_due.date().isoformat() == "2026-11-30"
    rows = cr.watch_contact_tasks(crm.svc, crm.manager).rows
    assert [r.customer.id for r in rows] == [cid] and "due by 2026-11-30" in rows[0].detail
    crm.clock.advance(days=8)
    assert "overdue" in cr.watch_contact_tasks(crm.svc, crm.manager).rows[0].detail
    assert [i.count for i in home.today(crm.svc, crm.manager) if i.key == "customer.contact_tasks"] == [1]
    version = cs.get_customer(crm.svc, crm.manager, cid).version
    cs.update_customer(crm.svc, crm.manager, cid, {"staff_contacts": "jingli2"}, expected_version=version)
    assert cr.watch_contact_tasks(crm.svc, crm.manager).rows == []
    assert cs.get_customer(crm.svc, crm.manager, cid).contact_task_due is None


def test_r_cust_10_a_lower_grade_opens_no_task(crm: Crm) -> None:
    cid = person(crm)
    _apply(crm, cid, "C")
    assert cr.watch_contact_tasks(crm.svc, crm.manager).rows == []


def test_r_cust_10_disabled_staff_are_not_contacts_and_their_customers_are_flagged(crm: Crm) -> None:
    cid = person(crm, important="1", staff_contacts="jingli2")
    assert cs.watch_understaffed(crm.svc, crm.manager).rows == []
    with crm.svc.store.write() as s:  # the account closed outside the handover (an old database, a restore)
        s.execute(text("UPDATE staff SET active = 0 WHERE username = 'jingli2'"))
    assert [r.customer.id for r in cs.watch_understaffed(crm.svc, crm.manager).rows] == [cid]
    assert cr.watch_owner_disabled(crm.svc, crm.manager).rows == []
    with crm.svc.store.write() as s:
        s.execute(text("UPDATE staff SET active = 1 WHERE username = 'jingli2'"))
    with crm.svc.store.write() as s:
        s.execute(text("UPDATE staff SET active = 0 WHERE username = 'jingli'"))
    assert [r.customer.id for r in cr.watch_owner_disabled(crm.svc, crm.actor("section_chief")).rows] == [cid]
    assert cs.get_customer(crm.svc, crm.actor("section_chief"), cid).owner_disabled  # flagged on the archive
    assert [r.customer.id for r in cs.watch_understaffed(crm.svc, crm.actor("section_chief")).rows] == [cid]


def test_r_cust_10_marking_important_by_hand_opens_the_task_too(crm: Crm) -> None:
    cid = person(crm)
    cs.update_customer(crm.svc, crm.manager, cid, {"important": "1"}, expected_version=1)
    assert [r.customer.id for r in cr.watch_contact_tasks(crm.svc, crm.manager).rows] == [cid]
    assert isinstance(cr.watch_contact_tasks(crm.svc, crm.manager).rows[0].due, datetime)
    assert timedelta(0) < cr.watch_contact_tasks(crm.svc, crm.manager).rows[0].due - crm.clock.now
