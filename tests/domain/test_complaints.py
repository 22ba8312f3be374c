"""Complaint workflow and time limits (R-CMP-3, R-CMP-4, R-CMP-5, R-CMP-6): every legal and illegal
transition, the reopen window, the close checks, and the SLA clock on business hours, weekends,
statutory holidays, make-up working days and pauses (table-driven and hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_tui.domain import complaints as c
from crm_tui.domain.errors import Conflict, ValidationErrors

POLICY = c.load_policy()
CAL = POLICY.calendar()
NORMAL, SERIOUS, MAJOR = (POLICY.severities[s] for s in ("normal", "serious", "major"))

# ------------------------------------------------------------------------------------------------
# State machine (R-CMP-4)
# ------------------------------------------------------------------------------------------------

LEGAL = {
    ("registered", "assign"): "in_progress",
    ("registered", "pause"): "registered",
    ("registered", "resume"): "registered",
    ("in_progress", "reassign"): "in_progress",
    ("in_progress", "solve"): "awaiting_feedback",
    ("in_progress", "pause"): "in_progress",
    ("in_progress", "resume"): "in_progress",
    ("awaiting_feedback", "reassign"): "awaiting_feedback",
    ("awaiting_feedback", "feed_back"): "awaiting_visit",
    ("awaiting_feedback", "pause"): "awaiting_feedback",
    ("awaiting_feedback", "resume"): "awaiting_feedback",
    ("awaiting_visit", "reassign"): "awaiting_visit",
    ("awaiting_visit", "visit"): "awaiting_visit",
    ("awaiting_visit", "close"): "closed",
    ("awaiting_visit", "reopen"): "in_progress",
    ("closed", "reopen"): "in_progress",
    # R-CMP-1: the acknowledgement is recorded on an open ticket and does not move it
    ("registered", "acknowledge"): "registered",
    ("in_progress", "acknowledge"): "in_progress",
    ("awaiting_feedback", "acknowledge"): "awaiting_feedback",
    ("awaiting_visit", "acknowledge"): "awaiting_visit",
}
ALL = [(s, a) for s in c.STATES for a in c.ACTIONS]


@pytest.mark.parametrize(("state", "action"), [k for k in ALL if k in LEGAL])
def test_r_cmp_4_legal_transitions(state: str, action: str) -> None:
    assert c.next_state(state, action) == LEGAL[(state, action)]


@pytest.mark.parametrize(("state", "action"), [k for k in ALL if k not in LEGAL])
def test_r_cmp_4_illegal_transitions_are_refused_with_a_clear_message(state: str, action: str) -> None:
    with pytest.raises(c.IllegalTransition) as err:
        c.next_state(state, action)
    msg = str(err.value)
    assert c.state_label(state) in msg and c.ACTIONS[action] in msg and "Possible now" in msg
    assert isinstance(err.value, Conflict)


def test_r_cmp_4_happy_path_visits_every_state_in_order() -> None:
    state = "registered"
    seen = [state]
    for action in ("assign", "solve", "feed_back", "visit", "close"):
        state = c.next_state(state, action)
        if state != seen[-1]:
            seen.append(state)
    assert seen == list(c.STATES)


def test_r_cmp_4_closed_ticket_message_in_chinese(zh_lang: None) -> None:
    with pytest.raises(c.IllegalTransition) as err:
        c.next_state("closed", "solve")
    assert "已关闭" in str(err.value)


@pytest.fixture
def zh_lang():  # type: ignore[no-untyped-def]
    from crm_tui.i18n import set_language

    set_language("zh_CN")
    yield
    set_language("en")


def test_r_cmp_4_reopen_window() -> None:
    closed = datetime(2026, 11, 2, 10, 0)
    c.reopen_allowed("closed", closed, closed + timedelta(days=30), 30)
    c.reopen_allowed("awaiting_visit", None, closed + timedelta(days=300), 30)
    with pytest.raises(Conflict, match="more than 30 days ago"):
        c.reopen_allowed("closed", closed, closed + timedelta(days=30, minutes=1), 30)
    with pytest.raises(c.IllegalTransition):
        c.reopen_allowed("in_progress", None, closed, 30)


def test_unknown_state_or_action_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        c.next_state("nonsense", "assign")
    with pytest.raises(ValueError):
        c.next_state("registered", "fly")


# ------------------------------------------------------------------------------------------------
# Close, visit and ticket checks (R-CMP-1, R-CMP-5, R-CMP-6)
# ------------------------------------------------------------------------------------------------


def test_r_cmp_5_close_needs_cause_analysis_and_preventive_measure() -> None:
    with pytest.raises(ValidationErrors) as err:
        c.check_close("", "  ", 4)
    assert set(err.value.by_field()) == {"cause_analysis", "preventive_measure"}
    assert c.check_close("排队系统故障", "每日开门前检查", 4) == {
        "cause_analysis": "排队系统故障", "preventive_measure": "每日开门前检查"}


def test_r_cmp_6_close_needs_the_return_visit_satisfaction() -> None:
    with pytest.raises(ValidationErrors) as err:
        c.check_close("原因", "措施", None)
    assert "satisfaction" in err.value.by_field()


@pytest.mark.parametrize("score", ["0", "6", "-1", "3.5", "五", "", None, 99])
def test_r_cmp_6_satisfaction_must_be_1_to_5(score: object) -> None:
    with pytest.raises(ValidationErrors) as err:
        c.check_visit("电话", "客户表示满意", score)  # type: ignore[arg-type]
    assert "satisfaction" in err.value.by_field()


@pytest.mark.parametrize("score", [1, "2", " 5 "])
def test_r_cmp_6_satisfaction_accepted(score: object) -> None:
    assert 1 <= c.check_visit("电话", "说明", score)["satisfaction"] <= 5  # type: ignore[arg-type]


NOW = datetime(2026, 11, 23, 10, 0)


def test_r_cmp_1_ticket_fields_accept_codes_and_names() -> None:
    out = c.validate_ticket({"channel": "电话", "category": "service/waiting", "severity": "Serious",
                             "description": "排队一小时无人接待", "demand": "道歉"}, POLICY, NOW)
    assert (out["channel"], out["category"], out["severity"]) == ("phone", "service/waiting", "serious")
    assert out["received_at"] == NOW


def test_r_cmp_1_every_bad_field_is_reported() -> None:
    with pytest.raises(ValidationErrors) as err:
        c.validate_ticket({"channel": "fax", "category": "", "severity": "urgent", "description": "\u200b",
                           "received_at": "2026-13-01 10:00"}, POLICY, NOW)
    assert set(err.value.by_field()) == {"channel", "category", "severity", "description", "received_at"}


@pytest.mark.parametrize(("text", "msg"), [("2026-11-23 10:01", "future"), ("2026-10-01 10:00", "31 days")])
def test_r_cmp_1_received_time_must_be_plausible(text: str, msg: str) -> None:
    with pytest.raises(ValidationErrors) as err:
        c.validate_ticket({"channel": "phone", "category": "other/other", "severity": "normal",
                           "description": "x", "received_at": text}, POLICY, NOW)
    assert msg in err.value.by_field()["received_at"]


def test_policy_defaults_match_the_issue() -> None:
    assert (NORMAL.respond.amount, NORMAL.respond.unit, NORMAL.resolve.amount, NORMAL.resolve.unit) == (1, "days", 5, "days")
    assert (SERIOUS.respond.amount, SERIOUS.respond.unit, SERIOUS.resolve.amount) == (4, "hours", 2)
    assert (MAJOR.respond.amount, MAJOR.respond.unit, MAJOR.resolve.amount) == (1, "hours", 1)
    assert POLICY.at_risk_share == 0.75
    assert "service/attitude" in POLICY.categories and set(POLICY.channels) == {
        "phone", "email", "letter", "in_person", "online"}


def test_format_number() -> None:
    assert c.format_number(2026, 42) == "TS202600042"


# ------------------------------------------------------------------------------------------------
# The clock (R-CMP-3)
# ------------------------------------------------------------------------------------------------

D = datetime

# (case, severity, received, respond deadline, resolve deadline)
DEADLINES = [
    # 2026-09-30 (Wed) afternoon before National Day (10-01..10-07 off); 10-10 (Sat) is a make-up workday.
    ("before National Day, normal", "normal", D(2026, 9, 30, 15, 0), D(2026, 10, 8, 17, 30), D(2026, 10, 13, 17, 30)),
    ("before National Day, serious", "serious", D(2026, 9, 30, 15, 0), D(2026, 10, 8, 10, 30), D(2026, 10, 9, 17, 30)),
    ("before National Day, major", "major", D(2026, 9, 30, 15, 0), D(2026, 9, 30, 16, 0), D(2026, 10, 8, 17, 30)),
    ("major, last hour before the holiday", "major", D(2026, 9, 30, 17, 0), D(2026, 10, 8, 9, 30), D(2026, 10, 8, 17, 30)),
    # 2026-10-09 (Fri): the next working day is the make-up Saturday 10-10.
    ("Friday before a make-up Saturday", "normal", D(2026, 10, 9, 11, 0), D(2026, 10, 10, 17, 30), D(2026, 10, 15, 17, 30)),
    ("serious over the make-up Saturday", "serious", D(2026, 10, 9, 16, 0), D(2026, 10, 10, 11, 30), D(2026, 10, 12, 17, 30)),
    # Plain weekend: received Saturday -> the clock starts Monday morning.
    ("received on a Saturday", "serious", D(2026, 11, 21, 10, 0), D(2026, 11, 23, 14, 30),
     D(2026, 11, 24, 17, 30)),
    # Lunch break does not count: 11:30 + 1 h -> 12:00 is half, the rest from 13:30.
    ("major over lunch", "major", D(2026, 11, 24, 11, 30), D(2026, 11, 24, 14, 0), D(2026, 11, 25, 17, 30)),
    ("received at night", "major", D(2026, 11, 24, 20, 0), D(2026, 11, 25, 10, 0), D(2026, 11, 25, 17, 30)),
]


@pytest.mark.parametrize(("case", "sev", "received", "respond", "resolve"), DEADLINES, ids=[d[0] for d in DEADLINES])
def test_r_cmp_3_deadlines_on_the_chinese_calendar(case: str, sev: str, received: datetime, respond: datetime,
                                                   resolve: datetime) -> None:
    ck = c.clock(CAL, POLICY.severities[sev], received_at=received, now=received, responded_at=None,
                 resolve_from=None, resolved_at=None)
    assert (ck.respond_deadline, ck.resolve_deadline) == (respond, resolve)
    assert ck.running == "respond" and ck.due_at == respond


def test_r_cmp_3_the_calendar_knows_2026_national_day() -> None:
    assert not CAL.is_workday(D(2026, 10, 1)) and not CAL.is_workday(D(2026, 10, 7))
    assert CAL.is_workday(D(2026, 10, 10))  # make-up Saturday


def test_r_cmp_3_at_risk_from_75_percent_then_overdue() -> None:
    received = D(2026, 11, 24, 9, 0)  # Tuesday; major: respond by 10:00
    kw = dict(received_at=received, responded_at=None, resolve_from=None, resolved_at=None)
    assert c.clock(CAL, MAJOR, now=D(2026, 11, 24, 9, 44), **kw).state == "ok"
    ck = c.clock(CAL, MAJOR, now=D(2026, 11, 24, 9, 45), **kw)
    assert ck.state == "at_risk"
    assert c.clock(CAL, MAJOR, now=D(2026, 11, 24, 10, 0), **kw).state == "at_risk"
    assert c.clock(CAL, MAJOR, now=D(2026, 11, 24, 10, 1), **kw).state == "overdue"
    first = c.clock(CAL, MAJOR, now=received, **kw)
    assert first.risk_at == D(2026, 11, 24, 9, 45) and first.due_at == D(2026, 11, 24, 10, 0)


def test_r_cmp_3_pause_while_waiting_for_the_customer_pushes_the_deadline() -> None:
    received = D(2026, 11, 24, 9, 0)
    kw = dict(received_at=received, responded_at=D(2026, 11, 24, 9, 30), resolve_from=None, resolved_at=None)
    plain = c.clock(CAL, SERIOUS, now=D(2026, 11, 24, 10, 0), **kw)
    assert plain.running == "resolve" and plain.due_at == D(2026, 11, 26, 17, 30)
    # Waiting for the customer from Tue 10:00 to Wed 10:00 (7 working hours).
    paused = c.clock(CAL, SERIOUS, now=D(2026, 11, 25, 9, 0), pauses=[(D(2026, 11, 24, 10, 0), None)], **kw)
    assert paused.status is not None and paused.status.paused
    assert paused.due_at is None and paused.risk_at is None  # a paused clock cannot run out
    resumed = c.clock(CAL, SERIOUS, now=D(2026, 11, 25, 10, 0),
                      pauses=[(D(2026, 11, 24, 10, 0), D(2026, 11, 25, 10, 0))], **kw)
    assert resumed.due_at == D(2026, 11, 27, 17, 30)  # 7 working hours later
    assert resumed.status is not None and resumed.status.elapsed_minutes == 60


def test_r_cmp_3_finished_limits_record_whether_they_were_met() -> None:
    received = D(2026, 11, 24, 9, 0)
    ck = c.clock(CAL, MAJOR, received_at=received, now=D(2026, 11, 26, 9, 0), responded_at=D(2026, 11, 24, 10, 5),
                 resolve_from=None, resolved_at=D(2026, 11, 25, 16, 0))
    assert ck.running is None and ck.status is None and ck.due_at is None
    assert ck.respond_met is False and ck.resolve_met is True


def test_r_cmp_3_reopen_restarts_the_resolve_limit() -> None:
    ck = c.clock(CAL, NORMAL, received_at=D(2026, 11, 2, 9, 0), now=D(2026, 11, 24, 9, 0),
                 responded_at=D(2026, 11, 2, 9, 10), resolve_from=D(2026, 11, 24, 9, 0), resolved_at=None)
    assert ck.running == "resolve" and ck.state == "ok" and ck.due_at == D(2026, 12, 1, 17, 30)


_times = st.datetimes(min_value=D(2026, 1, 5), max_value=D(2026, 12, 20)).map(lambda d: d.replace(second=0,
                                                                                                 microsecond=0))


@settings(max_examples=60, deadline=None)
@given(received=_times, sev=st.sampled_from(["normal", "serious", "major"]),
       hours=st.integers(min_value=0, max_value=24 * 20))
def test_r_cmp_3_properties_risk_before_due_and_states_agree(received: datetime, sev: str, hours: int) -> None:
    severity = POLICY.severities[sev]
    now = received + timedelta(hours=hours)
    ck = c.clock(CAL, severity, received_at=received, now=now, responded_at=None, resolve_from=None,
                 resolved_at=None)
    assert ck.due_at is not None and ck.risk_at is not None
    assert ck.risk_at <= ck.due_at
    assert ck.due_at > received
    assert CAL.is_working_time(ck.due_at - timedelta(minutes=1))
    assert (ck.state == "overdue") == (now > ck.due_at)
    if ck.state == "ok":
        assert now < ck.risk_at
    # the deadline does not depend on when we look, as long as nothing paused
    later = c.clock(CAL, severity, received_at=received, now=now + timedelta(days=3), responded_at=None,
                    resolve_from=None, resolved_at=None)
    assert later.due_at == ck.due_at


@settings(max_examples=60, deadline=None)
@given(received=_times, pause_at=st.integers(min_value=0, max_value=24 * 5),
       pause_len=st.integers(min_value=1, max_value=24 * 5))
def test_r_cmp_3_properties_a_pause_never_brings_the_deadline_forward(received: datetime, pause_at: int,
                                                                       pause_len: int) -> None:
    start = received + timedelta(hours=pause_at)
    end = start + timedelta(hours=pause_len)
    kw = dict(received_at=received, responded_at=received, resolve_from=None, resolved_at=None)
    plain = c.clock(CAL, NORMAL, now=end, **kw)
    paused = c.clock(CAL, NORMAL, now=end, pauses=[(start, end)], **kw)
    assert plain.due_at is not None and paused.due_at is not None
    assert paused.due_at >= plain.due_at
    if end <= plain.due_at:  # the whole pause before the deadline: pushed out by the paused working time
        lost = CAL.working_minutes_between(start, end)
        assert CAL.working_minutes_between(plain.due_at, paused.due_at) == lost


def test_clock_text_lines() -> None:
    received = D(2026, 11, 24, 9, 0)
    ck = c.clock(CAL, MAJOR, received_at=received, now=D(2026, 11, 24, 9, 50), responded_at=None,
                 resolve_from=None, resolved_at=None)
    assert c.clock_text(ck) == "At risk: respond by 11-24 10:00"


def test_r_cmp_3_a_finished_limit_keeps_its_deadline_when_paused_later() -> None:
    received = D(2026, 11, 24, 9, 0)
    kw = dict(received_at=received, responded_at=D(2026, 11, 24, 9, 30), resolve_from=None, resolved_at=None)
    before = c.clock(CAL, SERIOUS, now=D(2026, 11, 24, 10, 0), **kw)
    later = c.clock(CAL, SERIOUS, now=D(2026, 11, 26, 10, 0), pauses=[(D(2026, 11, 24, 10, 0), None)], **kw)
    assert later.respond_deadline == before.respond_deadline == D(2026, 11, 24, 14, 30)
    assert later.respond_met is True
