"""Complaint tickets (投诉, R-CMP-1..7): the workflow state machine, the policy from
data/complaints.toml, input checks and the SLA clock. Pure: no database, no UI.

Workflow (R-CMP-4)::

    已登记 registered --assign--> 处理中 in_progress --solve--> 待反馈 awaiting_feedback
      --feed_back--> 待回访 awaiting_visit --close--> 已关闭 closed

- ``assign`` names the handler (R-CMP-2); ``reassign`` changes the handler of an open, assigned
  ticket without changing its state.
- ``visit`` records the return visit (回访) with the customer's satisfaction 1-5 (R-CMP-6) while
  the ticket is 待回访; ``close`` needs that visit, a cause analysis and a preventive measure (R-CMP-5).
- ``reopen`` (customer not satisfied) goes back to 处理中 from 待回访, or from 已关闭 within the
  configured number of days after closing.
- ``pause`` / ``resume`` stop and restart the clock while waiting for the customer (R-CMP-3);
  allowed on open tickets before the feedback.

The clock (R-CMP-3): two limits per severity, in working hours or working days of
:class:`~crm_tui.domain.calendar.WorkCalendar`. *Respond* runs from receipt until a handler is
assigned; *resolve* runs from receipt (or from the reopening) until the result is fed back. Paused
working time does not count. A running limit is "at risk" once ``at_risk_share`` of it is used,
"overdue" after its deadline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any, Literal

from crm_tui.domain import config
from crm_tui.domain.calendar import BusinessHours, LimitStatus, Pause, TimeLimit, WorkCalendar
from crm_tui.domain.errors import Conflict, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _, get_language

__all__ = [
    "ACTIONS", "FEEDBACK_KINDS", "PAUSABLE", "STATES", "Clock", "ComplaintPolicy", "IllegalTransition",
    "Option", "Severity", "check_close", "check_visit", "clock", "format_number", "load_policy",
    "next_state", "reopen_allowed", "check_acknowledgement", "ACK_AT_ONCE", "state_label", "validate_ticket",
]

REGISTERED = "registered"
IN_PROGRESS = "in_progress"
AWAITING_FEEDBACK = "awaiting_feedback"
AWAITING_VISIT = "awaiting_visit"
CLOSED = "closed"

#: States in workflow order, with their display names (RULES terms: 已登记 处理中 待反馈 待回访 已关闭).
STATES: dict[str, str] = {
    REGISTERED: N_("Registered"),
    IN_PROGRESS: N_("In progress"),
    AWAITING_FEEDBACK: N_("Awaiting feedback"),
    AWAITING_VISIT: N_("Awaiting return visit"),
    CLOSED: N_("Closed"),
}
OPEN_STATES = (REGISTERED, IN_PROGRESS, AWAITING_FEEDBACK, AWAITING_VISIT)

#: Actions and their names as used in messages ("cannot {action}").
ACTIONS: dict[str, str] = {
    "assign": N_("assign a handler"),
    "reassign": N_("change the handler"),
    "solve": N_("record a solution"),
    "feed_back": N_("record the feedback to the customer"),
    "visit": N_("record the return visit"),
    "close": N_("close the ticket"),
    "reopen": N_("reopen the ticket"),
    "acknowledge": N_("record that the customer was told"),
    "pause": N_("pause the clock"),
    "resume": N_("restart the clock"),
}

#: action -> {from state: to state}. Anything else is an illegal transition.
_TRANSITIONS: dict[str, dict[str, str]] = {
    "assign": {REGISTERED: IN_PROGRESS},
    "reassign": {IN_PROGRESS: IN_PROGRESS, AWAITING_FEEDBACK: AWAITING_FEEDBACK, AWAITING_VISIT: AWAITING_VISIT},
    "solve": {IN_PROGRESS: AWAITING_FEEDBACK},
    "feed_back": {AWAITING_FEEDBACK: AWAITING_VISIT},
    "visit": {AWAITING_VISIT: AWAITING_VISIT},
    "close": {AWAITING_VISIT: CLOSED},
    "reopen": {AWAITING_VISIT: IN_PROGRESS, CLOSED: IN_PROGRESS},
    "pause": {REGISTERED: REGISTERED, IN_PROGRESS: IN_PROGRESS, AWAITING_FEEDBACK: AWAITING_FEEDBACK},
    "resume": {REGISTERED: REGISTERED, IN_PROGRESS: IN_PROGRESS, AWAITING_FEEDBACK: AWAITING_FEEDBACK},
    # R-CMP-1: the customer told it will be handled, on any open ticket; the state stays
    "acknowledge": {s: s for s in OPEN_STATES},
}
PAUSABLE = tuple(_TRANSITIONS["pause"])

#: Light feedback on the archive (R-CMP-7, R-CUST-15).
FEEDBACK_KINDS: dict[str, str] = {
    "praise": N_("Praise"),
    "suggestion": N_("Suggestion"),
    "grumble": N_("Grumble"),
    "survey": N_("Satisfaction survey"),
}

Feedback = Literal["praise", "suggestion", "grumble", "survey"]


def state_label(state: str) -> str:
    return _(STATES[state]) if state in STATES else state


class IllegalTransition(Conflict):
    """An action the ticket's state does not allow; nothing was changed."""

    def __init__(self, action: str, state: str) -> None:
        allowed = [a for a, moves in _TRANSITIONS.items() if state in moves]
        super().__init__(
            N_("A ticket that is '{state}' cannot {action}. Possible now: {allowed}."),
            state=state_label(state), action=_(ACTIONS.get(action, action)),
            allowed="、".join(_(ACTIONS[a]) for a in allowed) if allowed else "—",
        )
        self.action = action
        self.state = state


def allowed_actions(state: str) -> list[str]:
    return [a for a, moves in _TRANSITIONS.items() if state in moves]


def next_state(state: str, action: str) -> str:
    """The state after ``action``; raises :class:`IllegalTransition` when ``state`` forbids it."""
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}")
    if action not in _TRANSITIONS:
        raise ValueError(f"unknown action {action!r}")
    moves = _TRANSITIONS[action]
    if state not in moves:
        raise IllegalTransition(action, state)
    return moves[state]


def reopen_allowed(state: str, closed_at: datetime | None, now: datetime, within_days: int) -> None:
    """R-CMP-4: reopen from 待回访, or from 已关闭 within ``within_days`` calendar days of closing."""
    next_state(state, "reopen")
    if state == CLOSED and closed_at is not None and now > closed_at + timedelta(days=within_days):
        raise Conflict(N_("This ticket was closed on {date}, more than {days} days ago; file a new complaint "
                          "instead."), date=f"{closed_at:%Y-%m-%d}", days=within_days)


# ------------------------------------------------------------------------------------------------
# Policy (data/complaints.toml)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    code: str
    name_zh: str
    name_en: str

    @property
    def label(self) -> str:
        return self.name_zh if get_language() == "zh_CN" else self.name_en


@dataclass(frozen=True)
class Severity(Option):
    respond: TimeLimit
    resolve: TimeLimit


@dataclass(frozen=True)
class ComplaintPolicy:
    channels: dict[str, Option]
    categories: dict[str, Option]  # leaf code "group/leaf" -> label "group / leaf"
    severities: dict[str, Severity]
    hours: BusinessHours
    at_risk_share: float
    reopen_within_days: int

    def calendar(self) -> WorkCalendar:
        return WorkCalendar(hours=self.hours)


def _hhmm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def parse_policy(raw: Mapping[str, Any]) -> ComplaintPolicy:
    channels = {c: Option(c, v["name"], v["name_en"]) for c, v in raw["channels"].items()}
    categories: dict[str, Option] = {}
    for g, group in raw["categories"].items():
        for leaf, v in group.get("children", {}).items():
            categories[f"{g}/{leaf}"] = Option(f"{g}/{leaf}", f"{group['name']} / {v['name']}",
                                               f"{group['name_en']} / {v['name_en']}")
    severities = {
        s: Severity(s, v["name"], v["name_en"], TimeLimit(int(v["respond"]["amount"]), v["respond"]["unit"]),
                    TimeLimit(int(v["resolve"]["amount"]), v["resolve"]["unit"]))
        for s, v in raw["severities"].items()
    }
    hours = BusinessHours(tuple((_hhmm(a), _hhmm(b)) for a, b in raw["business_hours"]["periods"]))
    wf = raw.get("workflow", {})
    share = float(wf.get("at_risk_share", 0.75))
    if not 0 < share <= 1:
        raise ValueError("workflow.at_risk_share must be in (0, 1]")
    return ComplaintPolicy(channels, categories, severities, hours, share, int(wf.get("reopen_within_days", 30)))


@cache
def load_policy() -> ComplaintPolicy:
    return parse_policy(config.load("complaints.toml"))


def format_number(year: int, seq: int) -> str:
    """Ticket numbers: TS + year + 5 digits (TS202600042)."""
    return f"TS{year}{seq:05d}"


# ------------------------------------------------------------------------------------------------
# Input checks
# ------------------------------------------------------------------------------------------------


def _choice(value: str | None, table: Mapping[str, Option], field: str, errors: list[ValidationError]) -> str | None:
    v = (value or "").strip()
    if not v:
        errors.append(ValidationError(field, "This field is required"))
        return None
    for code, opt in table.items():
        if v.casefold() in (code.casefold(), opt.name_zh.casefold(), opt.name_en.casefold()):
            return code
    errors.append(ValidationError(field, "Choose one of: {options}", options=", ".join(o.label for o in table.values())))
    return None


def _text(value: str | None, field: str, errors: list[ValidationError], *, max_len: int, required: bool = True,
          multiline: bool = True) -> str | None:
    try:
        return clean_text(value, field, max_len=max_len, required=required, multiline=multiline)
    except ValidationError as e:
        errors.append(e)
        return None


def validate_ticket(raw: Mapping[str, str | None], policy: ComplaintPolicy, now: datetime) -> dict[str, Any]:
    """Check a new ticket's fields (channel, category, severity, description, demand, received_at
    as "YYYY-MM-DD HH:MM", default now). Raises ValidationErrors listing every bad field."""
    errors: list[ValidationError] = []
    out: dict[str, Any] = {
        "channel": _choice(raw.get("channel"), policy.channels, "channel", errors),
        "category": _choice(raw.get("category"), policy.categories, "category", errors),
        "severity": _choice(raw.get("severity"), policy.severities, "severity", errors),
        "description": _text(raw.get("description"), "description", errors, max_len=2000),
        "demand": _text(raw.get("demand"), "demand", errors, max_len=1000, required=False),
    }
    received = (raw.get("received_at") or "").strip()
    if received:
        try:
            at = datetime.strptime(received, "%Y-%m-%d %H:%M")
        except ValueError:
            errors.append(ValidationError("received_at", "Write the time as YYYY-MM-DD HH:MM"))
            at = None
        if at is not None and at > now:
            errors.append(ValidationError("received_at", "The time received cannot be in the future"))
        elif at is not None and at < now - timedelta(days=31):
            errors.append(ValidationError("received_at", "A complaint is recorded at once; a receipt time more than "
                                                         "31 days ago is refused"))
        out["received_at"] = at
    else:
        out["received_at"] = now.replace(microsecond=0)
    if errors:
        raise ValidationErrors(errors)
    return out


#: R-CMP-1: a complaint that arrives by phone or in person is acknowledged on the spot: the customer
#: is on the line or at the desk, so the ticket cannot be filed without it. Others (letter, e-mail,
#: online) may be acknowledged later, but before a handler is assigned (the respond limit).
ACK_AT_ONCE = ("phone", "in_person")


def check_acknowledgement(raw: Mapping[str, str | None], policy: ComplaintPolicy, channel: str | None,
                          received_at: datetime | None, now: datetime) -> dict[str, Any] | None:
    """How and when the customer was told "it will be handled" (R-CMP-1): ``ack_method`` (a channel
    code or name), ``ack_at`` ("YYYY-MM-DD HH:MM", default now), ``ack_note``. ``channel`` given
    (filing): None when nothing was entered and the channel allows it later; refused for a phone or
    in-person complaint. ``channel`` None (a later step): the method is required."""
    errors: list[ValidationError] = []
    method_raw = (raw.get("ack_method") or "").strip()
    if not method_raw:
        if channel is not None and channel not in ACK_AT_ONCE:
            return None
        if channel is not None:
            raise ValidationErrors([ValidationError(
                "ack_method", "The customer is on the line or at the desk: say it will be handled and record how")])
        raise ValidationErrors([ValidationError("ack_method", "This field is required")])
    method = _choice(method_raw, policy.channels, "ack_method", errors)
    at_raw = (raw.get("ack_at") or "").strip()
    at: datetime | None = now.replace(second=0, microsecond=0)
    if at_raw:
        try:
            at = datetime.strptime(at_raw, "%Y-%m-%d %H:%M")
        except ValueError:
            errors.append(ValidationError("ack_at", "Write the time as YYYY-MM-DD HH:MM"))
            at = None
        if at is not None and at > now:
            errors.append(ValidationError("ack_at", "The time the customer was told cannot be in the future"))
    if at is not None and received_at is not None and at < received_at:
        if at_raw:
            errors.append(ValidationError("ack_at", "The customer cannot be told before the complaint was received"))
        else:
            at = received_at
    note = _text(raw.get("ack_note"), "ack_note", errors, max_len=500, required=False, multiline=False)
    if errors:
        raise ValidationErrors(errors)
    return {"method": method, "at": at, "note": note}


def check_text(value: str | None, field: str, *, max_len: int = 2000, required: bool = True) -> str | None:
    errors: list[ValidationError] = []
    out = _text(value, field, errors, max_len=max_len, required=required)
    if errors:
        raise ValidationErrors(errors)
    return out


def _score(value: int | str | None, field: str, errors: list[ValidationError]) -> int | None:
    try:
        n = int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        n = -1
    if n is None:
        errors.append(ValidationError(field, "Give the customer's satisfaction from 1 to 5"))
        return None
    if not 1 <= n <= 5:
        errors.append(ValidationError(field, "Satisfaction is a whole number from 1 (very unsatisfied) to 5 "
                                             "(very satisfied)"))
        return None
    return n


def check_score(value: int | str | None, field: str = "satisfaction") -> int:
    errors: list[ValidationError] = []
    n = _score(value, field, errors)
    if errors:
        raise ValidationErrors(errors)
    assert n is not None
    return n


def check_visit(method: str | None, notes: str | None, satisfaction: int | str | None) -> dict[str, Any]:
    """R-CMP-6: a return visit records how, what the customer said and the satisfaction 1-5."""
    errors: list[ValidationError] = []
    out = {
        "method": _text(method, "visit_method", errors, max_len=100, multiline=False),
        "notes": _text(notes, "visit_notes", errors, max_len=2000),
        "satisfaction": _score(satisfaction, "satisfaction", errors),
    }
    if errors:
        raise ValidationErrors(errors)
    return out


def check_close(cause_analysis: str | None, preventive_measure: str | None,
                satisfaction: int | None) -> dict[str, Any]:
    """R-CMP-5, R-CMP-6: closing needs the cause analysis, the preventive measure and the return
    visit's satisfaction score."""
    errors: list[ValidationError] = []
    out = {
        "cause_analysis": _text(cause_analysis, "cause_analysis", errors, max_len=2000),
        "preventive_measure": _text(preventive_measure, "preventive_measure", errors, max_len=2000),
    }
    if satisfaction is None:
        errors.append(ValidationError("satisfaction", "Record the return visit with the customer's satisfaction "
                                                      "before closing"))
    if errors:
        raise ValidationErrors(errors)
    return out


# ------------------------------------------------------------------------------------------------
# The clock (R-CMP-3)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """Where a ticket's time limits stand.

    ``running`` is the limit now counting ("respond", "resolve" or None once fed back or closed);
    ``status`` its progress (None when nothing runs); ``due_at`` / ``risk_at`` the instants at which
    the running limit becomes overdue / at risk if the clock is not paused again (None while paused
    or when nothing runs). ``respond_met`` / ``resolve_met``: whether a finished limit was met.
    """

    running: str | None
    status: LimitStatus | None
    due_at: datetime | None
    risk_at: datetime | None
    respond_deadline: datetime | None
    resolve_deadline: datetime | None
    respond_met: bool | None
    resolve_met: bool | None

    @property
    def state(self) -> str:
        return self.status.state if self.status else "ok"


def _until(pauses: Sequence[Pause], t: datetime) -> list[tuple[datetime, datetime | None]]:
    """The pauses that began before ``t``, ended at ``t`` at the latest."""
    return [(a, t if b is None or b > t else b) for a, b in pauses if a < t]


def _risk_instant(cal: WorkCalendar, status: LimitStatus, now: datetime, share: float) -> datetime:
    threshold = -(-int(status.total_minutes * share * 1000) // 1000)  # ceil, minutes
    left = threshold - status.elapsed_minutes
    if left <= 0:
        return min(now, status.deadline)
    return cal.add_working_minutes(now, left)


def clock(cal: WorkCalendar, severity: Severity, *, received_at: datetime, now: datetime,
          responded_at: datetime | None, resolve_from: datetime | None, resolved_at: datetime | None,
          pauses: Sequence[Pause] = (), at_risk_share: float = 0.75) -> Clock:
    """The ticket's clock at ``now``. ``resolve_from`` is the start of the resolve limit (receipt,
    or the last reopening); ``pauses`` are (start, end or None while open) pairs."""
    start = resolve_from or received_at
    if responded_at is None:
        respond_deadline = cal.deadline(received_at, severity.respond, pauses, now=max(now, received_at))
        respond_met = None
    else:  # a finished limit: the deadline as it stood when it stopped; later pauses do not move it
        respond_deadline = cal.deadline(received_at, severity.respond, _until(pauses, responded_at))
        respond_met = responded_at <= respond_deadline
    resolve_pauses = [(s, e) for s, e in pauses if e is None or e > start]
    ref = max(now, start)
    if resolved_at is None:
        resolve_deadline = cal.deadline(start, severity.resolve, resolve_pauses, now=ref)
        resolve_met = None
    else:
        resolve_deadline = cal.deadline(start, severity.resolve, _until(resolve_pauses, resolved_at))
        resolve_met = resolved_at <= resolve_deadline
    paused = any(e is None for _s, e in pauses)
    running: str | None
    if resolved_at is not None:
        running = None
        status = None
    elif responded_at is None:
        running = "respond"
        status = cal.limit_status(received_at, severity.respond, max(now, received_at), pauses, at_risk_share)
    else:
        running = "resolve"
        status = cal.limit_status(start, severity.resolve, ref, resolve_pauses, at_risk_share)
    due_at = risk_at = None
    if status is not None and not paused:
        due_at = status.deadline
        risk_at = _risk_instant(cal, status, max(now, start if running == "resolve" else received_at), at_risk_share)
    return Clock(running, status, due_at, risk_at, respond_deadline, resolve_deadline, respond_met, resolve_met)


def clock_text(c: Clock) -> str:
    """One short line for lists: the running limit's state and deadline, or paused / done."""
    if c.status is None:
        return _("Fed back") if c.resolve_met is not False else _("Fed back late")
    what = _("respond") if c.running == "respond" else _("resolve")
    if c.status.paused:
        return _("Paused ({what})", what=what)
    return _("{state}: {what} by {deadline}", state=c.status.state_label, what=what,
             deadline=f"{c.status.deadline:%m-%d %H:%M}")


def workday_note(cal: WorkCalendar, d: date) -> str | None:
    return cal.coverage_warning(d.year)
