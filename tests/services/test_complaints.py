"""Complaint services (R-CMP-1..7, R-CUST-15): the whole flow on a real SQLCipher file, permissions
for every role (refusals audited, nothing written), bad input (message, nothing written), the
clock's deadlines and queues, reopen rules, feedback entries and the customer's timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crm_tui.domain.complaints import IllegalTransition
from crm_tui.domain.errors import Conflict, PermissionDenied, ValidationErrors
from crm_tui.services import complaints as cp
from crm_tui.services import customers as cs
from crm_tui.services import home
from tests.services.conftest import Crm

TICKET = {"channel": "phone", "ack_method": "phone", "category": "service/waiting", "severity": "normal",
          "description": "周六上午排队一小时无人接待", "demand": "希望道歉并改进"}
TABLES = ("complaint", "complaint_event", "complaint_pause", "customer_feedback")


def _customer(crm: Crm, name: str = "张三丰") -> int:
    return cs.create_customer(crm.svc, crm.manager, "person", {"name": name}).id


def _counts(crm: Crm) -> dict[str, int]:
    return {t: crm.count(t) for t in TABLES}


def _audits(crm: Crm, action: str) -> int:
    return crm.count("audit_log", "action = :a", a=action)


def _filed(crm: Crm, **kw: str) -> cp.TicketRef:
    return cp.file_complaint(crm.svc, crm.actor("front_desk"), _customer(crm), {**TICKET, **kw})


def _to_visit(crm: Crm, ref: cp.TicketRef) -> None:
    chief, mgr = crm.actor("section_chief"), crm.manager
    cp.assign(crm.svc, chief, ref.id, "jingli")
    cp.solve(crm.svc, mgr, ref.id, "调取监控，核实当班人员离岗")
    cp.feed_back(crm.svc, mgr, ref.id, "已向客户道歉并赠送保养券", "当班人员临时离岗，未安排替岗", "电话")


def test_r_cmp_1_file_numbers_the_ticket_and_starts_the_clock(crm: Crm) -> None:
    ref = _filed(crm)
    assert ref.number == "TS202600001"
    view = cp.get_ticket(crm.svc, crm.manager, ref.id)
    assert view.state == "registered" and view.state_label == "Registered"
    assert view.clock.running == "respond"
    assert view.clock.respond_deadline == datetime(2026, 11, 24, 17, 30)  # Monday 10:00 + 1 working day
    assert view.clock.resolve_deadline == datetime(2026, 11, 30, 17, 30)
    assert view.received_by == "李晓梅"
    assert _audits(crm, "complaint.file") == 1
    assert [e.action for e in view.events] == ["file", "acknowledge"]


def test_r_cmp_4_full_flow_through_every_state_with_events_audit_and_timeline(crm: Crm) -> None:
    ref = _filed(crm)
    chief, mgr = crm.actor("section_chief"), crm.manager
    assert cp.assign(crm.svc, chief, ref.id, "jingli") == "in_progress"
    crm.clock.advance(hours=1)
    assert cp.solve(crm.svc, mgr, ref.id, "调取监控，核实当班人员离岗") == "awaiting_feedback"
    assert cp.feed_back(crm.svc, mgr, ref.id, "已道歉", "临时离岗", "电话") == "awaiting_visit"
    crm.clock.advance(days=2)
    cp.return_visit(crm.svc, mgr, ref.id, "电话回访", "客户认可处理结果", 5)
    cp.close(crm.svc, mgr, ref.id, "替岗制度未执行", "每周抽查替岗安排")
    view = cp.get_ticket(crm.svc, mgr, ref.id)
    assert view.state == "closed" and view.values["satisfaction"] == 5
    assert view.clock.respond_met is True and view.clock.resolve_met is True
    assert [e.action for e in view.events] == ["file", "acknowledge", "assign", "solve", "feed_back", "visit", "close"]
    for action in ("assign", "solve", "feed_back", "visit", "close"):
        assert _audits(crm, f"complaint.{action}") == 1
    tl = cs.timeline(crm.svc, mgr, view.customer_id)
    titles = [e.title for e in tl if e.kind == "complaint"]
    assert len(titles) == 7 and all(ref.number in t for t in titles)
    assert "Complaint closed" in titles[0]


def test_r_cmp_5_close_without_cause_analysis_is_refused_and_nothing_changes(crm: Crm) -> None:
    ref = _filed(crm)
    _to_visit(crm, ref)
    cp.return_visit(crm.svc, crm.manager, ref.id, "电话", "满意", 4)
    before = _counts(crm)
    with pytest.raises(ValidationErrors) as err:
        cp.close(crm.svc, crm.manager, ref.id, "", "每周抽查")
    assert set(err.value.by_field()) == {"cause_analysis"}
    with pytest.raises(ValidationErrors) as err:
        cp.close(crm.svc, crm.manager, ref.id, "原因", "  ")
    assert set(err.value.by_field()) == {"preventive_measure"}
    assert _counts(crm) == before
    assert cp.get_ticket(crm.svc, crm.manager, ref.id).state == "awaiting_visit"


def test_r_cmp_6_close_without_return_visit_satisfaction_is_refused(crm: Crm) -> None:
    ref = _filed(crm)
    _to_visit(crm, ref)
    with pytest.raises(ValidationErrors) as err:
        cp.close(crm.svc, crm.manager, ref.id, "原因", "措施")
    assert "satisfaction" in err.value.by_field()
    with pytest.raises(ValidationErrors):
        cp.return_visit(crm.svc, crm.manager, ref.id, "电话", "满意", 6)
    assert cp.get_ticket(crm.svc, crm.manager, ref.id).values["satisfaction"] is None


def test_r_cmp_4_illegal_transitions_refused_with_message_and_nothing_written(crm: Crm) -> None:
    ref = _filed(crm)
    before = _counts(crm)
    with pytest.raises(IllegalTransition, match="'Registered' cannot record a solution"):
        cp.solve(crm.svc, crm.actor("section_chief"), ref.id, "方案")
    with pytest.raises(IllegalTransition):
        cp.close(crm.svc, crm.actor("section_chief"), ref.id, "原因", "措施")
    with pytest.raises(IllegalTransition):
        cp.reopen(crm.svc, crm.actor("section_chief"), ref.id, "不满意")
    assert _counts(crm) == before


def test_r_cmp_4_reopen_from_return_visit_and_from_closed_within_the_period(crm: Crm) -> None:
    ref = _filed(crm)
    _to_visit(crm, ref)
    cp.return_visit(crm.svc, crm.manager, ref.id, "电话", "客户不满意赔偿方案", 2)
    assert cp.reopen(crm.svc, crm.actor("front_desk"), ref.id, "客户不满意赔偿方案") == "in_progress"
    view = cp.get_ticket(crm.svc, crm.manager, ref.id)
    assert view.values["reopen_count"] == 1 and view.values["satisfaction"] is None
    assert view.assignee == "王建国" and view.clock.running == "resolve"
    assert view.values["resolve_from"] == crm.clock.now
    cp.solve(crm.svc, crm.manager, ref.id, "追加补偿")
    cp.feed_back(crm.svc, crm.manager, ref.id, "追加补偿", "按规定", "当面")
    cp.return_visit(crm.svc, crm.manager, ref.id, "电话", "满意", 4)
    cp.close(crm.svc, crm.manager, ref.id, "补偿标准不清", "公示补偿标准")
    crm.clock.advance(days=31)
    with pytest.raises(Conflict, match="more than 30 days ago"):
        cp.reopen(crm.svc, crm.manager, ref.id, "又不满意")
    crm.clock.advance(days=-2)
    assert cp.reopen(crm.svc, crm.manager, ref.id, "又不满意") == "in_progress"


def test_r_cmp_3_pause_waiting_for_the_customer_pushes_the_deadline(crm: Crm) -> None:
    ref = _filed(crm, severity="serious")  # Monday 10:00: respond by 14:30, resolve by Wednesday 17:30
    cp.assign(crm.svc, crm.actor("section_chief"), ref.id, "jingli")
    view = cp.get_ticket(crm.svc, crm.manager, ref.id)
    assert view.clock.due_at == datetime(2026, 11, 25, 17, 30)
    cp.pause(crm.svc, crm.manager, ref.id, "等客户提供购车发票")
    with pytest.raises(Conflict, match="already paused"):
        cp.pause(crm.svc, crm.manager, ref.id, "再次")
    assert cp.queue(crm.svc, crm.manager, "mine").rows[0].sla == "paused"
    crm.clock.advance(days=1)  # Tuesday 10:00: one full working day (7 h) paused
    cp.resume(crm.svc, crm.manager, ref.id, "客户已提供")
    view = cp.get_ticket(crm.svc, crm.manager, ref.id)
    assert view.clock.due_at == datetime(2026, 11, 26, 17, 30)
    with pytest.raises(Conflict, match="nothing to restart"):
        cp.resume(crm.svc, crm.manager, ref.id)
    assert crm.count("complaint_pause", '"end" IS NOT NULL') == 1


def test_r_cmp_3_queues_at_risk_overdue_and_home_counts(crm: Crm) -> None:
    ref = _filed(crm, severity="major")  # respond within 1 working hour: by 11:00
    chief = crm.actor("section_chief")
    assert [r.number for r in cp.queue(crm.svc, chief, "unassigned").rows] == [ref.number]
    crm.clock.advance(minutes=45)
    rows = cp.queue(crm.svc, chief, "at_risk").rows
    assert [r.sla for r in rows] == ["at_risk"]
    crm.clock.advance(minutes=16)
    over = cp.queue(crm.svc, chief, "overdue").rows
    assert [r.number for r in over] == [ref.number] and over[0].sla == "overdue"
    assert cp.queue(crm.svc, chief, "at_risk").rows == []
    items = {i.key: i for i in home.today(crm.svc, chief)}
    assert items["complaint.overdue"].count == 1 and items["complaint.overdue"].urgent
    assert items["complaint.unassigned"].count == 1
    cp.assign(crm.svc, chief, ref.id, "jingli")
    assert cp.get_ticket(crm.svc, chief, ref.id).clock.respond_met is False
    assert cp.queue(crm.svc, chief, "overdue").rows == []
    assert {i.key: i.count for i in home.today(crm.svc, crm.manager)}["complaint.mine"] == 1
    assert "complaint.unassigned" not in {i.key for i in home.today(crm.svc, crm.manager)}


def test_queue_pages_by_key(crm: Crm) -> None:
    cid = _customer(crm)
    refs = [cp.file_complaint(crm.svc, crm.manager, cid, TICKET) for _ in range(5)]
    page = cp.queue(crm.svc, crm.manager, "open", limit=2)
    seen = [r.number for r in page.rows]
    while page.next_cursor:
        page = cp.queue(crm.svc, crm.manager, "open", limit=2, cursor=page.next_cursor)
        seen += [r.number for r in page.rows]
    assert seen == [r.number for r in reversed(refs)]


# ------------------------------------------------------------------------------------------------
# Permissions (R-SEC-2): every role, refusals audited, nothing written
# ------------------------------------------------------------------------------------------------

CAN_FILE = {"front_desk", "customer_manager", "section_chief"}
CAN_ASSIGN = {"section_chief", "deputy_manager"}


@pytest.mark.parametrize("role", ["front_desk", "customer_manager", "section_chief", "deputy_manager",
                                  "internal_control", "admin"])
def test_r_sec_2_who_may_file_and_assign(crm: Crm, role: str) -> None:
    cid = _customer(crm)
    actor = crm.actor(role)
    denied = _audits(crm, "permission.denied")
    if role in CAN_FILE:
        ref = cp.file_complaint(crm.svc, actor, cid, TICKET)
    else:
        before = _counts(crm)
        with pytest.raises(PermissionDenied):
            cp.file_complaint(crm.svc, actor, cid, TICKET)
        assert _counts(crm) == before and _audits(crm, "permission.denied") == denied + 1
        ref = cp.file_complaint(crm.svc, crm.manager, cid, TICKET)
    denied = _audits(crm, "permission.denied")
    if role in CAN_ASSIGN:
        assert cp.assign(crm.svc, actor, ref.id, "jingli") == "in_progress"
    else:
        with pytest.raises(PermissionDenied):
            cp.assign(crm.svc, actor, ref.id, "jingli")
        assert _audits(crm, "permission.denied") == denied + 1
        assert cp.get_ticket(crm.svc, crm.manager, ref.id).state == "registered"


@pytest.mark.parametrize("role", ["front_desk", "customer_manager2", "internal_control", "admin"])
def test_r_cmp_2_only_the_assigned_handler_or_the_chief_works_the_ticket(crm: Crm, role: str) -> None:
    ref = _filed(crm)
    cp.assign(crm.svc, crm.actor("section_chief"), ref.id, "jingli")
    before = _counts(crm)
    denied = _audits(crm, "permission.denied")
    with pytest.raises(PermissionDenied):
        cp.solve(crm.svc, crm.actor(role), ref.id, "方案")
    assert _counts(crm) == before and _audits(crm, "permission.denied") == denied + 1
    cp.solve(crm.svc, crm.actor("section_chief"), ref.id, "科长代为记录方案")  # complaint.supervise may


def test_r_cmp_2_deputy_manager_supervises_too(crm: Crm) -> None:
    ref = _filed(crm)
    cp.assign(crm.svc, crm.actor("deputy_manager"), ref.id, "jingli")
    assert cp.solve(crm.svc, crm.actor("deputy_manager"), ref.id, "副经理记录方案") == "awaiting_feedback"


def test_r_cmp_2_message_names_the_handler(crm: Crm) -> None:
    ref = _filed(crm)
    cp.assign(crm.svc, crm.actor("section_chief"), ref.id, "jingli")
    with pytest.raises(PermissionDenied, match="王建国"):
        cp.solve(crm.svc, crm.actor("customer_manager2"), ref.id, "方案")


def test_r_cmp_2_assignee_must_be_able_to_handle(crm: Crm) -> None:
    ref = _filed(crm)
    for who, msg in (("qiantai", "cannot handle complaints"), ("nobody", "Unknown staff"), ("", "Choose")):
        with pytest.raises(ValidationErrors) as err:
            cp.assign(crm.svc, crm.actor("section_chief"), ref.id, who)
        assert msg in err.value.by_field()["assignee"]
    assert cp.get_ticket(crm.svc, crm.manager, ref.id).state == "registered"
    cp.assign(crm.svc, crm.actor("section_chief"), ref.id, "jingli")
    assert cp.assign(crm.svc, crm.actor("section_chief"), ref.id, "jingli2") == "in_progress"
    assert cp.get_ticket(crm.svc, crm.manager, ref.id).assignee == "赵丽华"
    assert _audits(crm, "complaint.reassign") == 1


def test_view_needs_complaint_view(crm: Crm) -> None:
    ref = _filed(crm)
    with pytest.raises(PermissionDenied):
        cp.get_ticket(crm.svc, crm.actor("admin"), ref.id)
    with pytest.raises(PermissionDenied):
        cp.queue(crm.svc, crm.actor("admin"), "open")
    assert cp.get_ticket(crm.svc, crm.actor("internal_control"), ref.id).number == ref.number


# ------------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "field"), [
    ({"channel": "fax"}, "channel"), ({"category": "nonsense"}, "category"), ({"severity": ""}, "severity"),
    ({"description": "   "}, "description"), ({"description": "x\x00y"}, "description"),
    ({"received_at": "tomorrow"}, "received_at"), ({"received_at": "2026-11-23 10:01"}, "received_at"),
])
def test_r_cmp_1_bad_ticket_input_is_refused_and_nothing_written(crm: Crm, raw: dict[str, str], field: str) -> None:
    cid = _customer(crm)
    before = _counts(crm)
    with pytest.raises(ValidationErrors) as err:
        cp.file_complaint(crm.svc, crm.manager, cid, {**TICKET, **raw})
    assert field in err.value.by_field()
    assert _counts(crm) == before and _audits(crm, "complaint.file") == 0


def test_r_cmp_1_unknown_customer_refused(crm: Crm) -> None:
    with pytest.raises(ValidationErrors) as err:
        cp.file_complaint(crm.svc, crm.manager, 9999, TICKET)
    assert "customer" in err.value.by_field()
    assert crm.count("complaint") == 0


def test_r_cmp_1_received_earlier_in_the_day_counts_from_then(crm: Crm) -> None:
    ref = _filed(crm, received_at="2026-11-23 09:00", severity="major")
    assert cp.get_ticket(crm.svc, crm.manager, ref.id).clock.due_at == datetime(2026, 11, 23, 10, 0)


# ------------------------------------------------------------------------------------------------
# Feedback (R-CMP-7, R-CUST-15)
# ------------------------------------------------------------------------------------------------


def test_r_cmp_7_feedback_entries_on_the_archive_and_timeline(crm: Crm) -> None:
    cid = _customer(crm)
    desk = crm.actor("front_desk")
    cp.add_feedback(crm.svc, desk, cid, "praise", "顾问讲解耐心")
    cp.add_feedback(crm.svc, desk, cid, "suggestion", "希望周末延长营业时间")
    cp.add_feedback(crm.svc, desk, cid, "survey", "", 4)
    rows = cp.list_feedback(crm.svc, desk, cid)
    assert [r.kind for r in rows] == ["survey", "suggestion", "praise"] and rows[0].score == 4
    kinds = [e.title for e in cs.timeline(crm.svc, desk, cid) if e.kind == "feedback"]
    assert "Satisfaction survey (score 4/5)" in kinds
    assert _audits(crm, "feedback.create") == 3


@pytest.mark.parametrize(("kind", "text", "score", "field"), [
    ("survey", "", None, "score"), ("survey", "", 0, "score"), ("praise", "", None, "text"),
    ("rumour", "x", None, "kind"), ("praise", "好", "7", "score"),
])
def test_r_cust_15_bad_feedback_refused(crm: Crm, kind: str, text: str, score: object, field: str) -> None:
    cid = _customer(crm)
    with pytest.raises(ValidationErrors) as err:
        cp.add_feedback(crm.svc, crm.manager, cid, kind, text, score)  # type: ignore[arg-type]
    assert field in err.value.by_field()
    assert crm.count("customer_feedback") == 0


def test_r_cmp_7_grumble_becomes_a_ticket_once(crm: Crm) -> None:
    cid = _customer(crm)
    desk = crm.actor("front_desk")
    fid = cp.add_feedback(crm.svc, desk, cid, "grumble", "停车场收费太贵")
    crm.clock.advance(minutes=30)
    ref = cp.grumble_to_ticket(crm.svc, desk, fid)
    view = cp.get_ticket(crm.svc, desk, ref.id)
    assert view.values["description"] == "停车场收费太贵" and view.values["feedback_id"] == fid
    assert view.values["received_at"] == datetime(2026, 11, 23, 10, 0)
    assert cp.list_feedback(crm.svc, desk, cid)[0].complaint_number == ref.number
    with pytest.raises(Conflict, match="already"):
        cp.grumble_to_ticket(crm.svc, desk, fid)
    praise = cp.add_feedback(crm.svc, desk, cid, "praise", "好")
    with pytest.raises(Conflict, match="Only a grumble"):
        cp.grumble_to_ticket(crm.svc, desk, praise)


def test_r_cmp_7_feedback_permissions(crm: Crm) -> None:
    cid = _customer(crm)
    for role in ("deputy_manager", "internal_control", "admin"):
        with pytest.raises(PermissionDenied):
            cp.add_feedback(crm.svc, crm.actor(role), cid, "praise", "好")
    assert crm.count("customer_feedback") == 0


def test_ab_post_cover_may_work_the_absent_handlers_ticket(crm: Crm) -> None:
    from dataclasses import replace

    ref = _filed(crm)
    cp.assign(crm.svc, crm.actor("section_chief"), ref.id, "jingli")
    from crm_tui.services import staff

    today = crm.clock.now.date()
    staff.set_cover(crm.svc, crm.actor("section_chief"), "jingli", "jingli2", today, today)  # R-SEC-7: in force
    cover = replace(crm.actor("customer_manager2"), on_behalf_of=crm.manager.staff_id)
    assert cp.solve(crm.svc, cover, ref.id, "B岗代为处理") == "awaiting_feedback"


def test_deadline_before_statutory_holiday(crm: Crm) -> None:
    """Issue 7 'done when': received on the afternoon before National Day."""
    crm.clock.now = datetime(2026, 9, 30, 15, 0)
    ref = _filed(crm, severity="serious")
    view = cp.get_ticket(crm.svc, crm.manager, ref.id)
    assert view.clock.respond_deadline == datetime(2026, 10, 8, 10, 30)
    assert view.clock.resolve_deadline == datetime(2026, 10, 9, 17, 30)
    crm.clock.now += timedelta(days=3)  # in the holiday: nothing is used up
    assert cp.get_ticket(crm.svc, crm.manager, ref.id).clock.state == "ok"


def test_check_step_refuses_before_any_typing_and_writes_nothing_but_the_refusal(crm: Crm) -> None:
    ref = _filed(crm)
    before = _counts(crm)
    denied = _audits(crm, "permission.denied")
    with pytest.raises(PermissionDenied):
        cp.check_step(crm.svc, crm.actor("front_desk"), ref.id, "assign")
    with pytest.raises(IllegalTransition):
        cp.check_step(crm.svc, crm.actor("section_chief"), ref.id, "close")
    with pytest.raises(IllegalTransition):
        cp.check_step(crm.svc, crm.actor("front_desk"), ref.id, "reopen")
    cp.check_step(crm.svc, crm.actor("section_chief"), ref.id, "assign")
    cp.check_step(crm.svc, crm.actor("front_desk"), ref.id, "pause")  # unassigned: the front desk may pause
    assert _counts(crm) == before and _audits(crm, "permission.denied") == denied + 1


def test_r_cust_13_erasing_the_customer_destroys_complaint_and_feedback_texts(crm: Crm) -> None:
    ref = _filed(crm)
    _to_visit(crm, ref)
    cid = cp.get_ticket(crm.svc, crm.manager, ref.id).customer_id
    cp.add_feedback(crm.svc, crm.actor("front_desk"), cid, "grumble", "停车太贵")
    cs.erase_customer(crm.svc, crm.actor("deputy_manager"), cid, "客户要求删除")
    view = cp.get_ticket(crm.svc, crm.actor("section_chief"), ref.id)
    v = view.values
    assert v["description"] is None and v["demand"] is None and v["solution"] is None
    assert v["feedback_result"] is None and v["feedback_reasons"] is None
    assert all(e.note == "" for e in view.events)
    assert view.state == "awaiting_visit" and view.number == ref.number  # statistics stay
    assert crm.count("customer_feedback", "text IS NOT NULL") == 0
    assert crm.count("complaint_event", "note IS NOT NULL") == 0


# ------------------------------------------------------------------------------------------------
# Reports (R-KPI-1, R-CMP-6)
# ------------------------------------------------------------------------------------------------


def _report_data(crm: Crm) -> None:
    cid = _customer(crm)
    chief, mgr = crm.actor("section_chief"), crm.manager
    a = cp.file_complaint(crm.svc, mgr, cid, {**TICKET, "severity": "major", "channel": "email"})
    b = cp.file_complaint(crm.svc, mgr, cid, {**TICKET, "category": "billing/price"})
    _other = cp.file_complaint(crm.svc, mgr, _customer(crm, "李四"), TICKET)
    crm.clock.advance(minutes=30)
    cp.assign(crm.svc, chief, a.id, "jingli")
    crm.clock.advance(minutes=30)
    cp.assign(crm.svc, chief, b.id, "jingli2")
    cp.solve(crm.svc, mgr, a.id, "方案")
    crm.clock.advance(minutes=30)
    cp.feed_back(crm.svc, mgr, a.id, "结果", "理由", "电话")
    cp.return_visit(crm.svc, mgr, a.id, "电话", "满意", 4)


def test_r_kpi_1_complaint_report(crm: Crm) -> None:
    _report_data(crm)
    rep = cp.report(crm.svc, crm.actor("section_chief"), datetime(2026, 11, 1), datetime(2026, 12, 1))
    assert rep.total == 3
    assert dict(rep.by_category) == {"Service / Waiting too long": 2, "Charges / Price dispute": 1}
    assert dict(rep.by_channel) == {"Phone": 2, "E-mail": 1}
    assert dict(rep.by_severity) == {"Normal": 2, "Major": 1}
    assert rep.by_month == [("2026-11", 3)]
    assert rep.median_respond_hours == 0.75 and rep.median_resolve_hours == 1.5
    assert rep.respond_within == 1.0 and rep.resolve_within == 1.0
    assert rep.satisfaction_by_handler == [("王建国", 4.0, 1)]
    assert [(n, c) for _num, n, c in rep.repeat_customers] == [("张三丰", 2)]


def test_r_kpi_1_report_permissions_and_bad_period(crm: Crm) -> None:
    for role in ("front_desk", "customer_manager", "admin"):
        with pytest.raises(PermissionDenied):
            cp.report(crm.svc, crm.actor(role), datetime(2026, 11, 1), datetime(2026, 12, 1))
    with pytest.raises(ValidationErrors):
        cp.report(crm.svc, crm.actor("internal_control"), datetime(2026, 12, 1), datetime(2026, 11, 1))


def test_r_kpi_1_report_exports_xlsx(crm: Crm, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    _report_data(crm)
    chief = crm.actor("section_chief")
    rep = cp.report(crm.svc, chief, datetime(2026, 11, 1), datetime(2026, 12, 1))
    path = cp.export_report(crm.svc, chief, rep, tmp_path / "complaints.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames[0] == "Summary" and "Repeated complaints" in wb.sheetnames
    assert list(wb["By channel"].values) == [("Channel", "Complaints"), ("Phone", 2), ("E-mail", 1)]
    assert _audits(crm, "complaint.report_export") == 1
    with pytest.raises(ValidationErrors):
        cp.export_report(crm.svc, chief, rep, tmp_path / "nope" / "x.xlsx")
    with pytest.raises(ValidationErrors):
        cp.export_report(crm.svc, chief, rep, tmp_path / "x.csv")


def test_r_kpi_1_a_limit_still_running_past_its_deadline_counts_as_missed(crm: Crm) -> None:
    _report_data(crm)
    crm.clock.advance(days=2)  # the unassigned normal ticket passes its 1-working-day respond limit (Tue 17:30)
    rep = cp.report(crm.svc, crm.actor("section_chief"), datetime(2026, 11, 1), datetime(2026, 12, 1))
    assert rep.respond_within == pytest.approx(2 / 3)


def test_r_cmp_6_every_return_visit_score_counts_after_a_reopen(crm: Crm) -> None:
    """R-CMP-6: a reopen keeps the earlier return visit's score. In one week with scores 4, 2, 5 and 1
    (the 2 and the 1 reopened), the handler's satisfaction is 3.00 over 4 visits, not 5.00."""
    from crm_tui.domain import reports as dr
    from crm_tui.services import reports

    desk, mgr = crm.actor("front_desk"), crm.manager
    for scores in ((4,), (2, 5), (1,)):
        ref = _filed(crm)
        _to_visit(crm, ref)
        for i, score in enumerate(scores):
            if i:
                cp.solve(crm.svc, mgr, ref.id, "重新核实")
                cp.feed_back(crm.svc, mgr, ref.id, "再次致歉", "补充说明", "电话")
            cp.return_visit(crm.svc, mgr, ref.id, "电话", "回访", score)
            if score <= 2:
                cp.reopen(crm.svc, desk, ref.id, "客户不满意")
        crm.clock.advance(hours=2)
    rows = {r.name: r for r in reports.staff_metrics(crm.svc, crm.actor("section_chief"),
                                                      dr.Period.of("week", crm.clock.now.date()))}
    handler = rows["王建国"]
    assert (round(handler.satisfaction, 2), handler.satisfaction_n) == (3.0, 4)
    pack = reports.pack(crm.svc, crm.actor("section_chief"), "week", crm.clock.now.date())
    assert round(pack.summary.satisfaction, 2) == 3.0
    rep = cp.report(crm.svc, crm.actor("section_chief"), crm.clock.now - timedelta(days=1), crm.clock.now + timedelta(hours=1))
    assert [(h, round(a, 2), n) for h, a, n in rep.satisfaction_by_handler] == [("王建国", 3.0, 4)]


# -- R-CMP-1: the customer told it will be handled -------------------------------------------------


def test_r_cmp_1_acknowledgement_recorded_on_the_ticket_with_a_history_line(crm: Crm) -> None:
    """R-CMP-1: how, when and by whom the customer was told "it will be handled" is a field of the
    ticket and a line of its history, and audited; not only a message on the screen."""
    ref = _filed(crm, received_at="2026-11-23 09:40")
    view = cp.get_ticket(crm.svc, crm.manager, ref.id)
    assert view.values["ack_method"] == "phone"
    assert view.values["ack_at"] == datetime(2026, 11, 23, 10, 0)  # told now, on the call
    assert view.values["ack_by"] == "李晓梅"
    line = view.events[-1]
    assert line.action == "acknowledge" and "Phone" in line.note and line.staff == "李晓梅"
    assert _audits(crm, "complaint.acknowledge") == 1
    assert "acknowledge" not in view.allowed


def test_r_cmp_1_a_phone_or_desk_complaint_cannot_be_filed_without_telling_the_customer(crm: Crm) -> None:
    """R-CMP-1: the customer on the line or at the desk is told at once; filing without it is refused
    next to the field and nothing is written."""
    cid = _customer(crm)
    before = _counts(crm)
    for channel in ("phone", "in_person"):
        with pytest.raises(ValidationErrors) as err:
            cp.file_complaint(crm.svc, crm.actor("front_desk"), cid, {**TICKET, "channel": channel, "ack_method": ""})
        assert "ack_method" in err.value.by_field()
    assert _counts(crm) == before


def test_r_cmp_1_a_letter_is_acknowledged_later_and_before_a_handler_is_assigned(crm: Crm) -> None:
    """R-CMP-1: a letter or e-mail may be acknowledged after filing, but the ticket cannot go to a
    handler before the customer was told; the time may not precede the receipt nor be in the future."""
    ref = _filed(crm, channel="letter", ack_method="", received_at="2026-11-23 09:00")
    view = cp.get_ticket(crm.svc, crm.manager, ref.id)
    assert view.values["ack_at"] is None and view.allowed[0] == "acknowledge" and "assign" not in view.allowed
    chief = crm.actor("section_chief")
    with pytest.raises(Conflict, match="told it will be handled"):
        cp.assign(crm.svc, chief, ref.id, "jingli")
    with pytest.raises(Conflict):
        cp.check_step(crm.svc, chief, ref.id, "assign")
    assert cp.get_ticket(crm.svc, crm.manager, ref.id).state == "registered"
    desk = crm.actor("front_desk")
    for bad, field in (({"method": ""}, "ack_method"), ({"method": "fax"}, "ack_method"),
                       ({"at": "2026-11-23 08:59"}, "ack_at"), ({"at": "2026-11-24 08:00"}, "ack_at"),
                       ({"at": "yesterday"}, "ack_at")):
        args = {"method": "letter", "at": "", **bad}
        with pytest.raises(ValidationErrors) as err:
            cp.acknowledge(crm.svc, desk, ref.id, args["method"], args["at"])
        assert field in err.value.by_field()
    assert _audits(crm, "complaint.acknowledge") == 0
    cp.acknowledge(crm.svc, desk, ref.id, "电子邮件", "2026-11-23 09:30", "回复邮件告知三个工作日内答复")
    view = cp.get_ticket(crm.svc, crm.manager, ref.id)
    assert (view.values["ack_method"], view.values["ack_at"]) == ("email", datetime(2026, 11, 23, 9, 30))
    assert "回复邮件" in view.events[-1].note
    with pytest.raises(Conflict, match="already told"):
        cp.acknowledge(crm.svc, desk, ref.id, "phone")
    assert cp.assign(crm.svc, chief, ref.id, "jingli") == "in_progress"


def test_r_cmp_1_acknowledging_needs_a_complaint_role(crm: Crm) -> None:
    """R-CMP-1: a role without complaint work cannot record the acknowledgement; the refusal is audited."""
    ref = _filed(crm, channel="email", ack_method="")
    actor = crm.actor("internal_control")
    assert not any(actor.can(p) for p in ("complaint.create", "complaint.handle", "complaint.supervise"))
    denied = _audits(crm, "permission.denied")
    with pytest.raises(PermissionDenied):
        cp.acknowledge(crm.svc, actor, ref.id, "email")
    assert _audits(crm, "permission.denied") == denied + 1
    assert cp.get_ticket(crm.svc, crm.manager, ref.id).values["ack_at"] is None
