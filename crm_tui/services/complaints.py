"""Complaint tickets and light feedback: the use cases of issue 7 (R-CMP-1..7, R-CUST-15).

Every function takes ``(svc, actor, ...)``, checks the permission first (a refusal raises
``PermissionDenied`` and leaves a ``permission.denied`` audit row, nothing else), then the
workflow (an illegal transition raises ``IllegalTransition``), then the input (``ValidationErrors``),
and writes the change, a ``complaint_event`` row (timeline) and an audit entry in ONE transaction.

Who may do what (data/roles.toml):
- complaint.view: read tickets and queues. complaint.create: file a ticket, reopen one for an
  unsatisfied customer. feedback.create: praise / suggestion / grumble / survey on the archive.
- complaint.assign: name the handler (R-CMP-2) or change it.
- complaint.handle: the *assigned* handler (or the colleague covering for them, R-SEC-7) records
  the solution, the feedback, the return visit, pauses the clock and closes.
- complaint.supervise: the section chief may do all of the handler's steps on any ticket.

The clock (R-CMP-3) is computed by ``domain.complaints.clock``; ``due_at`` / ``risk_at`` are kept
on the row after every change so the at-risk and overdue queues are range scans.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.domain import complaints as dc
from crm_tui.domain.calendar import LimitStatus, WorkCalendar
from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError, ValidationErrors
from crm_tui.domain.roles import all_roles
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services import holidays
from crm_tui.services.context import PERMISSION_LABELS, Actor, Services, Tx
from crm_tui.services.customers import TimelineEntry, register_erase_hook, register_timeline_source, timeline_key
from crm_tui.services.files import private_file
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store import audit as audit_store

__all__ = [
    "QUEUES", "FeedbackRow", "TicketEvent", "TicketPage", "TicketRef", "TicketRow", "TicketView", "add_feedback",
    "acknowledge", "assign", "check_step", "close", "feed_back", "file_complaint", "export_report", "get_ticket", "grumble_to_ticket", "handlers", "report",
    "list_feedback", "pause", "policy", "queue", "queue_counts", "reopen", "resume", "return_visit", "solve",
]

PERMISSION_LABELS.update({
    "complaint.view": N_("view complaint tickets"),
    "complaint.create": N_("file complaints"),
    "complaint.handle": N_("handle complaints"),
    "complaint.assign": N_("assign complaint handlers"),
    "complaint.supervise": N_("supervise complaint handling"),
    "feedback.create": N_("record customer feedback"),
})

#: Queues (R-CMP-3 lists, section chief's overdue queue); name -> title msgid.
QUEUES: dict[str, str] = {
    "open": N_("All open tickets"),
    "unassigned": N_("Unassigned"),
    "mine": N_("Mine"),
    "at_risk": N_("At risk"),
    "overdue": N_("Overdue (section chief's queue)"),
    "visit": N_("Waiting for return visit"),
    "closed": N_("Closed"),
}

EVENT_TITLES: dict[str, str] = {
    "file": N_("Complaint filed"),
    "acknowledge": N_("Customer told it will be handled"),
    "assign": N_("Handler assigned"),
    "reassign": N_("Handler changed"),
    "solve": N_("Solution recorded"),
    "feed_back": N_("Result and reasons fed back to the customer"),
    "visit": N_("Return visit"),
    "close": N_("Complaint closed"),
    "reopen": N_("Complaint reopened"),
    "pause": N_("Clock paused: waiting for the customer"),
    "resume": N_("Clock restarted"),
}

_COLS = ("id", "number", "customer_id", "channel", "category", "severity", "description", "demand", "received_at",
         "received_by_id", "state", "assignee_id", "responded_at", "resolve_from", "solution", "feedback_result",
         "feedback_reasons", "feedback_method", "feedback_at", "visit_method", "visit_notes", "visit_at",
         "satisfaction", "cause_analysis", "preventive_measure", "closed_at", "closed_by_id", "reopen_count",
         "paused_since", "due_at", "risk_at", "respond_met", "resolve_met", "feedback_id", "version", "created_at",
         "updated_at", "ack_method", "ack_at", "ack_by_id")
_DT_COLS = ("ack_at", "received_at", "responded_at", "resolve_from", "feedback_at", "visit_at", "closed_at", "paused_since",
            "due_at", "risk_at", "created_at", "updated_at")


# ------------------------------------------------------------------------------------------------
# Result types
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketRef:
    id: int
    number: str


@dataclass(frozen=True)
class TicketRow:
    """One line of a queue. ``sla`` is ok | at_risk | overdue | paused | done."""

    id: int
    number: str
    customer_id: int
    customer_number: str
    customer_name: str
    state: str
    severity: str
    category: str
    received_at: datetime
    assignee: str
    due_at: datetime | None
    sla: str

    @property
    def state_label(self) -> str:
        return dc.state_label(self.state)

    @property
    def sla_label(self) -> str:
        return _(SLA_LABELS[self.sla])


SLA_LABELS = {"ok": N_("On time"), "at_risk": N_("At risk"), "overdue": N_("Overdue"), "paused": N_("Paused"),
              "done": N_("Done")}


@dataclass(frozen=True)
class TicketPage:
    rows: list[TicketRow]
    next_cursor: str | None


@dataclass(frozen=True)
class TicketEvent:
    at: datetime
    action: str
    from_state: str | None
    to_state: str
    note: str
    staff: str

    @property
    def title(self) -> str:
        return _(EVENT_TITLES.get(self.action, self.action))


@dataclass(frozen=True)
class TicketView:
    id: int
    number: str
    customer_id: int
    customer_number: str
    customer_name: str
    values: dict[str, Any]
    state: str
    assignee_id: int | None
    assignee: str
    received_by: str
    clock: dc.Clock
    events: tuple[TicketEvent, ...]
    allowed: tuple[str, ...]  # actions the workflow allows now (the actor's permissions aside)
    version: int

    @property
    def state_label(self) -> str:
        return dc.state_label(self.state)

    @property
    def status(self) -> LimitStatus | None:
        return self.clock.status


@dataclass(frozen=True)
class FeedbackRow:
    id: int
    kind: str
    at: datetime
    text: str
    score: int | None
    staff: str
    complaint_id: int | None
    complaint_number: str | None

    @property
    def kind_label(self) -> str:
        return _(dc.FEEDBACK_KINDS.get(self.kind, self.kind))


def policy() -> dc.ComplaintPolicy:
    return dc.load_policy()


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def _dt(v: Any) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))


def _sess(s: Session | Tx) -> Session:
    return s.session if isinstance(s, Tx) else s


def _load(s: Session | Tx, ticket_id: int) -> dict[str, Any]:
    r = _sess(s).execute(text(f"SELECT {', '.join(_COLS)} FROM complaint WHERE id = :i"), {"i": ticket_id}
                         ).mappings().first()
    if r is None:
        raise NotFound("No complaint ticket #{id}.", id=ticket_id)
    row = dict(r)
    for c in _DT_COLS:
        row[c] = _dt(row[c])
    return row


def _pauses(s: Session | Tx, ticket_id: int) -> list[tuple[datetime, datetime | None]]:
    return [(_dt(a), _dt(b)) for a, b in _sess(s).execute(text(  # type: ignore[misc]
        "SELECT start, \"end\" FROM complaint_pause WHERE complaint_id = :i ORDER BY start"), {"i": ticket_id})]


def calendar(svc: Services) -> WorkCalendar:
    """The branch's working-day calendar (holiday schedule included) with the complaint business hours."""
    return holidays.work_calendar(svc, dc.load_policy().hours)


def _clock(row: Mapping[str, Any], pauses: Sequence[tuple[datetime, datetime | None]], now: datetime,
           cal: WorkCalendar) -> dc.Clock:
    pol = dc.load_policy()
    return dc.clock(cal, pol.severities[row["severity"]], received_at=row["received_at"], now=now,
                    responded_at=row["responded_at"], resolve_from=row["resolve_from"],
                    resolved_at=row["feedback_at"], pauses=pauses, at_risk_share=pol.at_risk_share)


def _refresh_clock(tx: Tx, ticket_id: int, cal: WorkCalendar) -> dc.Clock:
    row = _load(tx, ticket_id)
    ck = _clock(row, _pauses(tx, ticket_id), tx.now, cal)
    tx.execute("UPDATE complaint SET due_at = :d, risk_at = :r, respond_met = :rm, resolve_met = :sm WHERE id = :i",
               {"d": ck.due_at, "r": ck.risk_at, "rm": ck.respond_met, "sm": ck.resolve_met, "i": ticket_id})
    return ck


def _staff_name(s: Session | Tx, staff_id: int | None) -> str:
    if staff_id is None:
        return ""
    r = _sess(s).execute(text("SELECT display_name FROM staff WHERE id = :i"), {"i": staff_id}).first()
    return str(r[0]) if r else ""


def _deny(svc: Services, actor: Actor, msgid: str, *, permission: str, **params: Any) -> PermissionDenied:
    with svc.store.write() as s:
        audit_store.append(s, at=svc.now(), actor_id=actor.staff_id, actor_name=actor.username,
                           on_behalf_of_id=actor.on_behalf_of, action="permission.denied",
                           details={"permission": permission, **{k: str(v) for k, v in params.items()}})
    return PermissionDenied(msgid, **params)


def _is_handler(actor: Actor, row: Mapping[str, Any], covered: tuple[int, ...] = ()) -> bool:
    """The section chief, or the assigned handler, or (A/B post, R-SEC-7) the colleague covering
    the handler while the cover runs (``covered``: services.staff.covering_ids)."""
    if actor.can("complaint.supervise"):
        return True
    return actor.can("complaint.handle") and row["assignee_id"] is not None and \
        row["assignee_id"] in (actor.staff_id, *covered)


def _require_handler(svc: Services, actor: Actor, ticket_id: int) -> dict[str, Any]:
    """complaint.handle (and being the assigned handler) or complaint.supervise; returns the row."""
    if not (actor.can("complaint.handle") or actor.can("complaint.supervise")):
        svc.require(actor, "complaint.handle", ticket=ticket_id)
    with svc.store.read() as s:
        row = _load(s, ticket_id)
        name = _staff_name(s, row["assignee_id"])
    from crm_tui.services import staff

    covered = staff.covering_ids(svc, actor)
    if not _is_handler(actor, row, covered):
        raise _deny(svc, actor, N_("Only the assigned handler ({name}) or the section chief may work on ticket "
                                   "{number}."), permission="complaint.handle", name=name or "—",
                    number=row["number"])
    if row["assignee_id"] != actor.staff_id and row["assignee_id"] in covered and not actor.can("complaint.supervise"):
        staff.note_cover_work(svc, actor, row["assignee_id"], entity="complaint", entity_id=row["id"],
                              what="handle")
    return row


def _event(tx: Tx, row: Mapping[str, Any], action: str, to_state: str, note: str | None) -> None:
    tx.execute("INSERT INTO complaint_event (complaint_id, customer_id, at, actor_id, action, from_state, to_state,"
               " note) VALUES (:c, :cu, :at, :a, :act, :f, :t, :n)",
               {"c": row["id"], "cu": row["customer_id"], "at": tx.now, "a": tx.actor.staff_id, "act": action,
                "f": row.get("state"), "t": to_state, "n": note})


def _step(svc: Services, actor: Actor, row: Mapping[str, Any], action: str, updates: Mapping[str, Any],
          note: str | None, details: Mapping[str, Any] | None = None,
          extra: Callable[[Tx, int], None] | None = None) -> str:
    """Apply one workflow step in a transaction: state check, update, event, clock, audit."""
    new_state = dc.next_state(row["state"], action)
    with svc.write(actor) as tx:
        cur = _load(tx, row["id"])
        if cur["version"] != row["version"]:
            raise Conflict(N_("Ticket {number} was changed by someone else meanwhile; look at it again."),
                           number=cur["number"])
        sets = {**updates, "state": new_state, "version": cur["version"] + 1, "updated_at": tx.now}
        tx.execute(f"UPDATE complaint SET {', '.join(f'{k} = :{k}' for k in sets)} WHERE id = :_id",
                   {**sets, "_id": cur["id"]})
        if extra is not None:
            extra(tx, cur["id"])
        _event(tx, cur, action, new_state, note)
        ck = _refresh_clock(tx, cur["id"], calendar(svc))
        tx.audit(f"complaint.{action}", entity="complaint", entity_id=cur["id"], customer_id=cur["customer_id"],
                 details={"number": cur["number"], "from": cur["state"], "to": new_state,
                          **({"sla": ck.state} if ck.status else {}), **(details or {})})
    return new_state


def _clean(value: str | None, field: str, *, max_len: int = 2000, required: bool = True,
           multiline: bool = True) -> str | None:
    try:
        return clean_text(value, field, max_len=max_len, required=required, multiline=multiline)
    except ValidationError as e:
        raise ValidationErrors([e]) from None


# ------------------------------------------------------------------------------------------------
# Filing (R-CMP-1)
# ------------------------------------------------------------------------------------------------


def file_complaint(svc: Services, actor: Actor, customer_id: int, raw: Mapping[str, str | None], *,
                   feedback_id: int | None = None, ack_later: bool = False) -> TicketRef:
    """Record a complaint at once (R-CMP-1): ``raw`` holds channel, category (leaf code or name),
    severity, description, demand (optional) and received_at ("YYYY-MM-DD HH:MM", default now).
    Needs complaint.create. The respond and resolve clocks start at received_at.

    R-CMP-1: ``ack_method`` (and ``ack_at``, ``ack_note``) record how the customer was told it will
    be handled; required for a phone or in-person complaint unless ``ack_later`` (a grumble turned
    into a ticket afterwards), else recorded later with ``acknowledge`` before assignment."""
    svc.require(actor, "complaint.create")
    pol = dc.load_policy()
    clean = dc.validate_ticket(raw, pol, svc.now())
    told = bool((raw.get("ack_method") or "").strip())
    ack = dc.check_acknowledgement(raw, pol, clean["channel"], clean["received_at"], svc.now()) \
        if told or not ack_later else None
    with svc.write(actor) as tx:
        cust = tx.execute("SELECT number, erased_at FROM customer WHERE id = :c", {"c": customer_id}).first()
        if cust is None or cust[1] is not None:
            raise ValidationErrors([ValidationError("customer", "Choose the customer the complaint is about")])
        seq = tx.execute("INSERT INTO complaint_number_seq (year, last) VALUES (:y, 1) ON CONFLICT(year)"
                         " DO UPDATE SET last = last + 1 RETURNING last", {"y": tx.now.year}).scalar_one()
        number = dc.format_number(tx.now.year, int(seq))
        cols = {**clean, "number": number, "customer_id": customer_id, "received_by_id": actor.staff_id,
                "state": dc.REGISTERED, "resolve_from": clean["received_at"], "reopen_count": 0,
                "feedback_id": feedback_id, "version": 1, "created_at": tx.now, "updated_at": tx.now}
        tid = int(tx.execute(f"INSERT INTO complaint ({', '.join(cols)}) VALUES ({', '.join(':' + k for k in cols)})"
                             " RETURNING id", cols).scalar_one())
        _event(tx, {"id": tid, "customer_id": customer_id, "state": None}, "file", dc.REGISTERED,
               clean["description"])
        ck = _refresh_clock(tx, tid, calendar(svc))
        if ack is not None:
            _record_ack(tx, {"id": tid, "customer_id": customer_id, "state": dc.REGISTERED, "number": number}, ack)
        tx.execute("UPDATE customer SET last_activity_at = :n WHERE id = :c", {"n": tx.now, "c": customer_id})
        tx.audit("complaint.file", entity="complaint", entity_id=tid, customer_id=customer_id,
                 details={"number": number, "customer": cust[0], "channel": clean["channel"],
                          "category": clean["category"], "severity": clean["severity"],
                          "received_at": clean["received_at"].isoformat(sep=" "),
                          "respond_by": ck.respond_deadline.isoformat(sep=" ") if ck.respond_deadline else None,
                          "resolve_by": ck.resolve_deadline.isoformat(sep=" ") if ck.resolve_deadline else None})
    return TicketRef(tid, number)


def _record_ack(tx: Tx, row: Mapping[str, Any], ack: Mapping[str, Any]) -> None:
    """Write the acknowledgement (R-CMP-1) on the ticket, its history line and its audit entry."""
    tx.execute("UPDATE complaint SET ack_method = :m, ack_at = :at, ack_by_id = :by WHERE id = :i",
               {"m": ack["method"], "at": ack["at"], "by": tx.actor.staff_id, "i": row["id"]})
    label = dc.load_policy().channels[ack["method"]].label
    note = _("Told by {method} at {at}", method=label, at=f"{ack['at']:%Y-%m-%d %H:%M}")
    if ack.get("note"):
        note += f": {ack['note']}"
    _event(tx, row, "acknowledge", row["state"], note)
    tx.audit("complaint.acknowledge", entity="complaint", entity_id=row["id"], customer_id=row["customer_id"],
             details={"number": row["number"], "method": ack["method"], "at": ack["at"].isoformat(sep=" ")})


def acknowledge(svc: Services, actor: Actor, ticket_id: int, method: str, at: str = "", note: str = "") -> None:
    """Record that the customer was told the complaint will be handled (R-CMP-1): how (a channel),
    when ("YYYY-MM-DD HH:MM", default now; not before the receipt, not in the future) and by whom
    (the actor). Once per ticket; needed before a handler is assigned. Needs complaint.create,
    complaint.handle or complaint.supervise."""
    if not any(actor.can(p) for p in ("complaint.create", "complaint.handle", "complaint.supervise")):
        svc.require(actor, "complaint.create", ticket=ticket_id)
    with svc.store.read() as s:
        row = _load(s, ticket_id)
    if row["ack_at"] is not None:
        raise Conflict(N_("The customer of ticket {number} was already told on {at}."), number=row["number"],
                       at=f"{row['ack_at']:%Y-%m-%d %H:%M}")
    dc.next_state(row["state"], "acknowledge")
    ack = dc.check_acknowledgement({"ack_method": method, "ack_at": at, "ack_note": note}, dc.load_policy(),
                                   None, row["received_at"], svc.now())
    assert ack is not None
    with svc.write(actor) as tx:
        cur = _load(tx, ticket_id)
        if cur["ack_at"] is not None or cur["version"] != row["version"]:
            raise Conflict(N_("Ticket {number} was changed by someone else meanwhile; look at it again."),
                           number=cur["number"])
        _record_ack(tx, cur, ack)
        tx.execute("UPDATE complaint SET version = version + 1, updated_at = :n WHERE id = :i",
                   {"n": tx.now, "i": ticket_id})


def _require_acknowledged(row: Mapping[str, Any]) -> None:
    if row["ack_at"] is None:
        raise Conflict(N_("First record how the customer of ticket {number} was told it will be handled "
                          "(key K on the ticket)."), number=row["number"])


# ------------------------------------------------------------------------------------------------
# Workflow steps (R-CMP-2, R-CMP-4, R-CMP-5, R-CMP-6)
# ------------------------------------------------------------------------------------------------


def handlers(svc: Services) -> list[tuple[int, str]]:
    """Active staff who may handle complaints (for the assign dialog): (id, display name)."""
    roles = [code for code, r in all_roles().items() if "complaint.handle" in r.permissions]
    if not roles:
        return []
    with svc.store.read() as s:
        rows = s.execute(text(
            "SELECT DISTINCT st.id, st.display_name FROM staff st JOIN staff_role r ON r.staff_id = st.id"
            f" WHERE st.active AND r.role IN ({', '.join(repr(x) for x in roles)}) ORDER BY st.id")).all()
    return [(int(a), str(b)) for a, b in rows]


def _resolve_handler(svc: Services, token: str | int) -> tuple[int, str]:
    t = str(token).strip()
    if not t:
        raise ValidationErrors([ValidationError("assignee", "Choose the person who will handle it")])
    with svc.store.read() as s:
        if t.isdigit():
            r = s.execute(text("SELECT id, display_name, active FROM staff WHERE id = :i"), {"i": int(t)}).first()
        else:
            r = s.execute(text("SELECT id, display_name, active FROM staff WHERE username = :u"), {"u": t}).first()
    if r is None:
        raise ValidationErrors([ValidationError("assignee", "Unknown staff member '{name}'", name=t)])
    if int(r[0]) not in {i for i, _n in handlers(svc)}:
        raise ValidationErrors([ValidationError("assignee", "{name} cannot handle complaints; choose a customer "
                                                            "manager or the section chief", name=r[1])])
    return int(r[0]), str(r[1])


def assign(svc: Services, actor: Actor, ticket_id: int, assignee: str | int, note: str = "") -> str:
    """Name the handler (R-CMP-2): 已登记 -> 处理中 (the respond limit stops), or change the handler
    of an open ticket. Needs complaint.assign. Returns the new state."""
    svc.require(actor, "complaint.assign", ticket=ticket_id)
    with svc.store.read() as s:
        row = _load(s, ticket_id)
    action = "assign" if row["state"] == dc.REGISTERED else "reassign"
    dc.next_state(row["state"], action)
    if action == "assign":
        _require_acknowledged(row)
    sid, name = _resolve_handler(svc, assignee)
    if action == "reassign" and sid == row["assignee_id"]:
        raise ValidationErrors([ValidationError("assignee", "{name} already handles this ticket", name=name)])
    clean_note = _clean(note, "note", max_len=500, required=False)
    updates: dict[str, Any] = {"assignee_id": sid}
    if row["responded_at"] is None:
        updates["responded_at"] = svc.now()
    return _step(svc, actor, row, action, updates, clean_note or name,
                 {"assignee": name, "previous": row["assignee_id"]})


def solve(svc: Services, actor: Actor, ticket_id: int, solution: str) -> str:
    """The handler records the investigation's solution: 处理中 -> 待反馈."""
    row = _require_handler(svc, actor, ticket_id)
    dc.next_state(row["state"], "solve")
    clean = _clean(solution, "solution")
    return _step(svc, actor, row, "solve", {"solution": clean}, clean)


def feed_back(svc: Services, actor: Actor, ticket_id: int, result: str, reasons: str, method: str) -> str:
    """The result and its reasons told to the customer, and how (R-CMP-4): 待反馈 -> 待回访; the
    resolve limit stops."""
    row = _require_handler(svc, actor, ticket_id)
    dc.next_state(row["state"], "feed_back")
    errors: list[ValidationError] = []
    vals: dict[str, Any] = {}
    for field, value, max_len, multi in (("feedback_result", result, 2000, True),
                                         ("feedback_reasons", reasons, 2000, True),
                                         ("feedback_method", method, 100, False)):
        try:
            vals[field] = clean_text(value, field, max_len=max_len, required=True, multiline=multi)
        except ValidationError as e:
            errors.append(e)
    if errors:
        raise ValidationErrors(errors)
    vals["feedback_at"] = svc.now()
    vals["paused_since"] = None
    note = _("{result} (told by {method})", result=vals["feedback_result"], method=vals["feedback_method"])
    return _step(svc, actor, row, "feed_back", vals, note, extra=_end_pause)


def _end_pause(tx: Tx, ticket_id: int) -> None:
    tx.execute("UPDATE complaint_pause SET \"end\" = :n WHERE complaint_id = :i AND \"end\" IS NULL",
               {"n": tx.now, "i": ticket_id})


def return_visit(svc: Services, actor: Actor, ticket_id: int, method: str, notes: str,
                 satisfaction: int | str) -> None:
    """The return visit after the feedback (回访, R-CMP-4) with the customer's satisfaction 1-5
    (R-CMP-6). The ticket stays 待回访: close it, or reopen it if the customer is not satisfied."""
    row = _require_handler(svc, actor, ticket_id)
    dc.next_state(row["state"], "visit")
    clean = dc.check_visit(method, notes, satisfaction)

    def keep_score(tx: Tx, ticket: int) -> None:  # every visit's score counts, reopened or not
        tx.execute("INSERT INTO complaint_visit (complaint_id, at, method, satisfaction, handler_id, staff_id)"
                   " VALUES (:c, :at, :m, :s, :h, :by)", {"c": ticket, "at": tx.now, "m": clean["method"],
                                                          "s": clean["satisfaction"], "h": row["assignee_id"],
                                                          "by": actor.staff_id})

    _step(svc, actor, row, "visit", {"visit_method": clean["method"], "visit_notes": clean["notes"],
                                     "satisfaction": clean["satisfaction"], "visit_at": svc.now()},
          _("Satisfaction {score}/5 ({method}): {notes}", score=clean["satisfaction"], method=clean["method"],
            notes=clean["notes"]), {"satisfaction": clean["satisfaction"]}, extra=keep_score)


def close(svc: Services, actor: Actor, ticket_id: int, cause_analysis: str, preventive_measure: str) -> None:
    """待回访 -> 已关闭. Needs the return visit's satisfaction (R-CMP-6), a cause analysis and a
    preventive measure (R-CMP-5)."""
    row = _require_handler(svc, actor, ticket_id)
    dc.next_state(row["state"], "close")
    clean = dc.check_close(cause_analysis, preventive_measure, row["satisfaction"])
    _step(svc, actor, row, "close", {**clean, "closed_at": svc.now(), "closed_by_id": actor.staff_id},
          _("Cause: {cause} / Measure: {measure}", cause=clean["cause_analysis"],
            measure=clean["preventive_measure"]), {"satisfaction": row["satisfaction"]})


def reopen(svc: Services, actor: Actor, ticket_id: int, reason: str) -> str:
    """The customer is not satisfied (R-CMP-4): 待回访, or 已关闭 within the configured days, ->
    处理中 with the same handler; the resolve limit starts again. Needs complaint.create (whoever
    takes the customer's call), complaint.handle or complaint.supervise."""
    if not any(actor.can(p) for p in ("complaint.create", "complaint.handle", "complaint.supervise")):
        svc.require(actor, "complaint.create", ticket=ticket_id)
    with svc.store.read() as s:
        row = _load(s, ticket_id)
    pol = dc.load_policy()
    dc.reopen_allowed(row["state"], row["closed_at"], svc.now(), pol.reopen_within_days)
    clean = _clean(reason, "reason", max_len=1000)
    return _step(svc, actor, row, "reopen", {
        "resolve_from": svc.now(), "feedback_at": None, "solution": None, "feedback_result": None,
        "feedback_reasons": None, "feedback_method": None, "visit_at": None, "visit_method": None,
        "visit_notes": None, "satisfaction": None, "cause_analysis": None, "preventive_measure": None,
        "closed_at": None, "closed_by_id": None, "reopen_count": row["reopen_count"] + 1}, clean,
        {"previous_satisfaction": row["satisfaction"]})


def pause(svc: Services, actor: Actor, ticket_id: int, reason: str) -> None:
    """Stop the clock while waiting for the customer (R-CMP-3). The handler or the section chief;
    before assignment also the front desk (complaint.create)."""
    svc.check_password_current(actor)
    row = _require_pauser(svc, actor, ticket_id)
    dc.next_state(row["state"], "pause")
    if row["paused_since"] is not None:
        raise Conflict(N_("The clock of ticket {number} is already paused."), number=row["number"])
    clean = _clean(reason, "reason", max_len=500)

    def start(tx: Tx, tid: int) -> None:
        tx.execute("INSERT INTO complaint_pause (complaint_id, start, reason) VALUES (:i, :n, :r)",
                   {"i": tid, "n": tx.now, "r": clean})

    _step(svc, actor, row, "pause", {"paused_since": svc.now()}, clean, extra=start)


def resume(svc: Services, actor: Actor, ticket_id: int, note: str = "") -> None:
    """Restart the clock; the paused working time is added to the deadlines."""
    svc.check_password_current(actor)
    row = _require_pauser(svc, actor, ticket_id)
    dc.next_state(row["state"], "resume")
    if row["paused_since"] is None:
        raise Conflict(N_("The clock of ticket {number} is running; there is nothing to restart."),
                       number=row["number"])
    clean = _clean(note, "note", max_len=500, required=False)
    _step(svc, actor, row, "resume", {"paused_since": None}, clean, extra=_end_pause)


def _require_pauser(svc: Services, actor: Actor, ticket_id: int) -> dict[str, Any]:
    with svc.store.read() as s:
        assigned = _load(s, ticket_id)["assignee_id"] is not None
    if assigned:
        return _require_handler(svc, actor, ticket_id)
    if not (actor.can("complaint.create") or actor.can("complaint.supervise")):
        svc.require(actor, "complaint.create", ticket=ticket_id)
    with svc.store.read() as s:
        return _load(s, ticket_id)


def check_step(svc: Services, actor: Actor, ticket_id: int, action: str) -> None:
    """Whether ``actor`` may start ``action`` on the ticket now (permission, handler, workflow state),
    so the UI can refuse at the key press, before any typing. Writes nothing but the audit entry
    of a permission refusal; the step itself checks everything again."""
    svc.check_password_current(actor)
    if action in ("assign", "reassign"):
        svc.require(actor, "complaint.assign", ticket=ticket_id)
        with svc.store.read() as s:
            row = _load(s, ticket_id)
        dc.next_state(row["state"], "assign" if row["state"] == dc.REGISTERED else "reassign")
        if row["state"] == dc.REGISTERED:
            _require_acknowledged(row)
    elif action == "acknowledge":
        if not any(actor.can(p) for p in ("complaint.create", "complaint.handle", "complaint.supervise")):
            svc.require(actor, "complaint.create", ticket=ticket_id)
        with svc.store.read() as s:
            row = _load(s, ticket_id)
        if row["ack_at"] is not None:
            raise Conflict(N_("The customer of ticket {number} was already told on {at}."), number=row["number"],
                           at=f"{row['ack_at']:%Y-%m-%d %H:%M}")
        dc.next_state(row["state"], "acknowledge")
    elif action == "reopen":
        if not any(actor.can(p) for p in ("complaint.create", "complaint.handle", "complaint.supervise")):
            svc.require(actor, "complaint.create", ticket=ticket_id)
        with svc.store.read() as s:
            row = _load(s, ticket_id)
        dc.reopen_allowed(row["state"], row["closed_at"], svc.now(), dc.load_policy().reopen_within_days)
    elif action in ("pause", "resume"):
        row = _require_pauser(svc, actor, ticket_id)
        dc.next_state(row["state"], action)
    else:
        with svc.store.read() as s:
            row = _load(s, ticket_id)
        dc.next_state(row["state"], action)
        _require_handler(svc, actor, ticket_id)


# ------------------------------------------------------------------------------------------------
# Reading: one ticket, queues, counts
# ------------------------------------------------------------------------------------------------


#: Columns of a ticket that are codes, numbers or times, not free text (kept as they are).
_NOT_TEXT = frozenset({"number", "state", "severity", "category", "channel", "received_at", "due_at", "risk_at",
                       "paused_since", "created_at", "updated_at", "closed_at"})


def get_ticket(svc: Services, actor: Actor, ticket_id: int) -> TicketView:
    svc.require(actor, "complaint.view")
    with svc.store.read() as s:
        row = _load(s, ticket_id)
        cust = s.execute(text("SELECT number, name, erased_at FROM customer WHERE id = :c"),
                         {"c": row["customer_id"]}).first()
        shown = cs.text_policy(s, actor, row["customer_id"])  # the masking policy (R-SEC-2)
        events = [TicketEvent(_dt(r[0]), r[1], r[2], r[3], shown(r[4] or ""), r[5] or "")  # type: ignore[arg-type]
                  for r in s.execute(text(
                      "SELECT e.at, e.action, e.from_state, e.to_state, e.note, st.display_name FROM complaint_event e"
                      " LEFT JOIN staff st ON st.id = e.actor_id WHERE e.complaint_id = :i ORDER BY e.id"),
                      {"i": ticket_id})]
        ck = _clock(row, _pauses(s, ticket_id), svc.now(), calendar(svc))
        assignee = _staff_name(s, row["assignee_id"])
        received_by = _staff_name(s, row["received_by_id"])
        row["ack_by"] = _staff_name(s, row["ack_by_id"])
    allowed = [a for a in dc.allowed_actions(row["state"])
               if not (a == "pause" and row["paused_since"]) and not (a == "resume" and not row["paused_since"])
               and not (a == "close" and row["satisfaction"] is None)]
    if row["state"] == dc.REGISTERED and "reassign" in allowed:
        allowed.remove("reassign")
    if row["ack_at"] is None:  # R-CMP-1: told first, then a handler
        allowed = ["acknowledge", *(a for a in allowed if a not in ("acknowledge", "assign"))]
    else:
        allowed = [a for a in allowed if a != "acknowledge"]
    name = cust[1] if cust and cust[2] is None else _("(erased)")
    values = {k: shown(v) if isinstance(v, str) and k not in _NOT_TEXT else v for k, v in row.items()}
    return TicketView(row["id"], row["number"], row["customer_id"], cust[0] if cust else "", name, values, row["state"],
                      row["assignee_id"], assignee, received_by, ck, tuple(events), tuple(allowed), row["version"])


def _sla(due: datetime | None, risk: datetime | None, paused: Any, state: str, now: datetime) -> str:
    if paused:
        return "paused"
    if due is None:
        return "done"
    if due < now:
        return "overdue"
    if risk is not None and risk <= now:
        return "at_risk"
    return "ok"


_QUEUE_WHERE = {
    "open": ("c.state != 'closed'", "id"),
    "unassigned": ("c.state = 'registered'", "id"),
    "mine": ("c.state != 'closed' AND c.assignee_id IN (SELECT value FROM json_each(:mine))", "id"),
    "at_risk": ("c.risk_at <= :now AND c.due_at >= :now", "due"),
    "overdue": ("c.due_at < :now", "due"),
    "visit": ("c.state = 'awaiting_visit'", "id"),
    "closed": ("c.state = 'closed'", "id"),
}


def queue(svc: Services, actor: Actor, name: str, *, cursor: str | None = None, limit: int = 50,
          customer_id: int | None = None) -> TicketPage:
    """One page of a queue (see QUEUES), by key: newest first, or soonest deadline first for the
    at-risk and overdue queues. ``customer_id`` narrows to one customer."""
    svc.require(actor, "complaint.view")
    if name not in _QUEUE_WHERE:
        raise ValueError(f"unknown queue {name!r}")
    where, order = _QUEUE_WHERE[name]
    now = svc.now()
    limit = max(1, min(limit, 500))
    params: dict[str, Any] = {"now": now, "mine": _mine(svc, actor), "n": limit + 1}
    if customer_id is not None:
        where += " AND c.customer_id = :cust"
        params["cust"] = customer_id
    if order == "due":
        key_sql, sort = "c.due_at", "c.due_at, c.id"
        if cursor:
            k, i = cursor.rsplit("|", 1)
            where += " AND (c.due_at, c.id) > (:k, :i)"
            params.update(k=k, i=int(i))
    else:
        key_sql, sort = "c.id", "c.id DESC"
        if cursor:
            where += " AND c.id < :i"
            params["i"] = int(cursor)
    with svc.store.read() as s:
        rows = s.execute(text(
            f"SELECT c.id, c.number, c.customer_id, cu.number, cu.name, cu.erased_at, c.state, c.severity, c.category,"
            f" c.received_at, st.display_name, c.due_at, c.risk_at, c.paused_since, {key_sql}"
            " FROM complaint c JOIN customer cu ON cu.id = c.customer_id LEFT JOIN staff st ON st.id = c.assignee_id"
            f" WHERE {where} ORDER BY {sort} LIMIT :n"), params).all()
    more = len(rows) > limit
    rows = rows[:limit]
    out = []
    for r in rows:
        due, risk = _dt(r[11]), _dt(r[12])
        out.append(TicketRow(int(r[0]), r[1], int(r[2]), r[3], r[4] if r[5] is None else _("(erased)"), r[6], r[7],
                             r[8], _dt(r[9]), r[10] or "", due, _sla(due, risk, r[13], r[6], now)))  # type: ignore[arg-type]
    nxt = None
    if more and rows:
        last = rows[-1]
        nxt = f"{last[14]}|{last[0]}" if order == "due" else str(last[0])
    return TicketPage(out, nxt)


def _mine(svc: Services, actor: Actor) -> str:
    """The handlers whose tickets are the actor's: self and, under an A/B cover in force, the absent
    colleague (R-SEC-7), as a JSON list for json_each."""
    from crm_tui.services import staff

    return json.dumps(staff.mine_and_covered(svc, actor))


def queue_counts(svc: Services, actor: Actor) -> dict[str, int]:
    svc.require(actor, "complaint.view")
    mine = _mine(svc, actor)
    with svc.store.read() as s:
        return _counts(s, actor, svc.now(), mine)


def _counts(s: Session, actor: Actor, now: datetime, mine: str) -> dict[str, int]:
    params = {"now": now, "mine": mine}
    return {name: int(s.execute(text(f"SELECT count(*) FROM complaint c WHERE {where}"), params).scalar_one())
            for name, (where, _o) in _QUEUE_WHERE.items() if name not in ("closed",)}


@register_item
def _complaint_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    if not actor.can("complaint.view"):
        return []
    covered = s.execute(text("SELECT DISTINCT absent_id FROM ab_post WHERE backup_id = :me AND revoked_at IS NULL"
                             " AND start_date <= :d AND end_date >= :d"),
                        {"me": actor.staff_id, "d": svc.now().date()}).all()
    n = _counts(s, actor, svc.now(), json.dumps([actor.staff_id or -1, *(int(r[0]) for r in covered)]))
    items = []
    if actor.can("complaint.assign"):
        items.append(WorkItem("complaint.unassigned", N_("Complaints waiting for a handler"), n["unassigned"],
                              "open('complaints')", bool(n["unassigned"])))
    if actor.can("complaint.handle"):
        items.append(WorkItem("complaint.mine", N_("My open complaints"), n["mine"], "open('complaints')"))
    items.append(WorkItem("complaint.at_risk", N_("Complaints at risk of missing their time limit"), n["at_risk"],
                          "open('complaints')", bool(n["at_risk"])))
    items.append(WorkItem("complaint.overdue", N_("Complaints past their time limit"), n["overdue"],
                          "open('complaints')", bool(n["overdue"]) and actor.can("complaint.supervise")))
    if actor.can("complaint.handle") or actor.can("complaint.supervise"):
        items.append(WorkItem("complaint.visit", N_("Complaints waiting for a return visit"), n["visit"],
                              "open('complaints')"))
    return items


# ------------------------------------------------------------------------------------------------
# Light feedback on the archive (R-CMP-7, R-CUST-15)
# ------------------------------------------------------------------------------------------------


def add_feedback(svc: Services, actor: Actor, customer_id: int, kind: str, text_: str,
                 score: int | str | None = None) -> int:
    """Praise, suggestion, grumble or satisfaction survey (score 1-5 required for a survey).
    Needs feedback.create."""
    svc.require(actor, "feedback.create")
    errors: list[ValidationError] = []
    if kind not in dc.FEEDBACK_KINDS:
        errors.append(ValidationError("kind", "Choose one of: {options}",
                                      options=", ".join(_(v) for v in dc.FEEDBACK_KINDS.values())))
    clean: str | None = None
    try:
        clean = clean_text(text_, "text", max_len=1000, required=kind != "survey", multiline=True)
    except ValidationError as e:
        errors.append(e)
    n: int | None = None
    if kind == "survey" or score not in (None, ""):
        try:
            n = dc.check_score(score, "score")
        except ValidationErrors as e:
            errors.extend(e.errors)
    if errors:
        raise ValidationErrors(errors)
    with svc.write(actor) as tx:
        cust = tx.execute("SELECT number, erased_at FROM customer WHERE id = :c", {"c": customer_id}).first()
        if cust is None or cust[1] is not None:
            raise NotFound("No customer archive #{id}.", id=customer_id)
        fid = int(tx.execute("INSERT INTO customer_feedback (customer_id, kind, at, text, score, staff_id, created_at)"
                             " VALUES (:c, :k, :at, :t, :s, :st, :at) RETURNING id",
                             {"c": customer_id, "k": kind, "at": tx.now, "t": clean, "s": n,
                              "st": actor.staff_id}).scalar_one())
        tx.execute("UPDATE customer SET last_activity_at = :n WHERE id = :c", {"n": tx.now, "c": customer_id})
        tx.audit("feedback.create", entity="customer_feedback", entity_id=fid, customer_id=customer_id,
                 details={"kind": kind, "score": n})
    return fid


def list_feedback(svc: Services, actor: Actor, customer_id: int, *, limit: int = 100) -> list[FeedbackRow]:
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        rows = s.execute(text(
            "SELECT f.id, f.kind, f.at, f.text, f.score, st.display_name, f.complaint_id, c.number"
            " FROM customer_feedback f LEFT JOIN staff st ON st.id = f.staff_id"
            " LEFT JOIN complaint c ON c.id = f.complaint_id WHERE f.customer_id = :c ORDER BY f.at DESC, f.id DESC"
            " LIMIT :n"), {"c": customer_id, "n": max(1, min(limit, 500))}).all()
        shown = cs.text_policy(s, actor, customer_id)  # the masking policy (R-SEC-2)
    return [FeedbackRow(int(r[0]), r[1], _dt(r[2]), shown(r[3] or ""), r[4], r[5] or "", r[6], r[7])  # type: ignore[arg-type]
            for r in rows]


def grumble_to_ticket(svc: Services, actor: Actor, feedback_id: int, *, severity: str = "normal",
                      category: str = "other/other", channel: str = "in_person",
                      ack_method: str = "") -> TicketRef:
    """Turn a grumble into a complaint ticket in one step (its text becomes the description;
    received at the grumble's time). Needs complaint.create."""
    svc.require(actor, "complaint.create")
    with svc.store.read() as s:
        r = s.execute(text("SELECT customer_id, kind, at, text, complaint_id FROM customer_feedback WHERE id = :i"),
                      {"i": feedback_id}).first()
    if r is None:
        raise NotFound("No feedback entry #{id}.", id=feedback_id)
    if r[1] != "grumble":
        raise Conflict(N_("Only a grumble can become a complaint ticket."))
    if r[4] is not None:
        raise Conflict(N_("This grumble is already complaint ticket #{id}."), id=r[4])
    at = _dt(r[2])
    assert at is not None
    ref = file_complaint(svc, actor, int(r[0]), {"channel": channel, "category": category, "severity": severity,
                                                 "description": r[3], "ack_method": ack_method,
                                                 "received_at": at.strftime("%Y-%m-%d %H:%M")},
                         feedback_id=feedback_id, ack_later=True)
    with svc.write(actor) as tx:
        tx.execute("UPDATE customer_feedback SET complaint_id = :t WHERE id = :i", {"t": ref.id, "i": feedback_id})
        tx.audit("feedback.to_complaint", entity="customer_feedback", entity_id=feedback_id, customer_id=int(r[0]),
                 details={"complaint": ref.number})
    return ref


# ------------------------------------------------------------------------------------------------
# Customer timeline (R-CUST-14)
# ------------------------------------------------------------------------------------------------


@register_timeline_source("complaint")
def _complaint_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    params: dict[str, Any] = {"c": customer_id, "n": limit}
    where = ""
    if before is not None:
        where = " AND e.at <= :b"
        params["b"] = before
    rows = s.execute(text(
        "SELECT e.id, e.at, e.action, e.to_state, e.note, c.number, st.display_name FROM complaint_event e"
        " JOIN complaint c ON c.id = e.complaint_id LEFT JOIN staff st ON st.id = e.actor_id"
        f" WHERE e.customer_id = :c{where} ORDER BY e.at DESC, e.id DESC LIMIT :n"), params).all()
    out = []
    for eid, at, action, to_state, note, number, staff in rows:
        at_ = _dt(at)
        assert at_ is not None
        title = _("Complaint {number}: {what}", number=number, what=_(EVENT_TITLES.get(action, action)))
        body = _("State: {state}", state=dc.state_label(to_state)) + (f"\n{note}" if note else "")
        out.append(TimelineEntry(at_, "complaint", title, body, staff or "", timeline_key(at_, "complaint", eid)))
    return out


@register_timeline_source("feedback")
def _feedback_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    params: dict[str, Any] = {"c": customer_id, "n": limit}
    where = ""
    if before is not None:
        where = " AND f.at <= :b"
        params["b"] = before
    rows = s.execute(text(
        "SELECT f.id, f.at, f.kind, f.text, f.score, st.display_name FROM customer_feedback f"
        f" LEFT JOIN staff st ON st.id = f.staff_id WHERE f.customer_id = :c{where} ORDER BY f.at DESC, f.id DESC"
        " LIMIT :n"), params).all()
    out = []
    for fid, at, kind, body, score, staff in rows:
        at_ = _dt(at)
        assert at_ is not None
        title = _(dc.FEEDBACK_KINDS.get(kind, kind))
        if score is not None:
            title += " " + _("(score {score}/5)", score=score)
        out.append(TimelineEntry(at_, "feedback", title, body or "", staff or "", timeline_key(at_, "feedback", fid)))
    return out


# ------------------------------------------------------------------------------------------------
# Erasure (R-CUST-13)
# ------------------------------------------------------------------------------------------------


@register_erase_hook("complaints")
def _erase(tx: Tx, customer_id: int) -> list[str]:
    """The customer's words and what was said to them go; numbers, categories, states, times,
    satisfaction scores and the branch's cause analyses stay for statistics."""
    n = tx.execute("UPDATE complaint SET description = NULL, demand = NULL, solution = NULL, feedback_result = NULL,"
                   " feedback_reasons = NULL, feedback_method = NULL, visit_notes = NULL, visit_method = NULL"
                   " WHERE customer_id = :c", {"c": customer_id}).rowcount
    tx.execute("UPDATE complaint_event SET note = NULL WHERE customer_id = :c", {"c": customer_id})
    tx.execute("UPDATE complaint_pause SET reason = NULL WHERE complaint_id IN"
               " (SELECT id FROM complaint WHERE customer_id = :c)", {"c": customer_id})
    f = tx.execute("UPDATE customer_feedback SET text = NULL WHERE customer_id = :c", {"c": customer_id}).rowcount
    return (["complaints"] if n else []) + (["feedback"] if f else [])


# ------------------------------------------------------------------------------------------------
# Reports (R-KPI-1, R-CMP-6)
# ------------------------------------------------------------------------------------------------

PERMISSION_LABELS.setdefault("report.view", N_("view reports"))


@dataclass(frozen=True)
class ComplaintReport:
    """Tickets received in ``[start, end)``. Counts are (label, count) pairs, largest first
    (months in order). Hours are working hours, pauses excluded; shares are 0..1 or None, and
    count a limit still running past its deadline as missed."""

    start: datetime
    end: datetime
    total: int
    by_category: list[tuple[str, int]]
    by_channel: list[tuple[str, int]]
    by_severity: list[tuple[str, int]]
    by_month: list[tuple[str, int]]
    median_respond_hours: float | None
    median_resolve_hours: float | None
    respond_within: float | None
    resolve_within: float | None
    satisfaction_by_handler: list[tuple[str, float, int]]  # (handler, average 1-5, visits)
    repeat_customers: list[tuple[str, str, int]]  # (customer number, name, tickets)


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def _ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def report(svc: Services, actor: Actor, start: datetime, end: datetime) -> ComplaintReport:
    """Complaints by category, channel, severity and month; median working hours to respond and to
    feed back; the share handled within the time limits; satisfaction by handler; customers who
    complained more than once. Needs report.view."""
    svc.require(actor, "report.view")
    if end <= start:
        raise ValidationErrors([ValidationError("period", "The period must end after it starts")])
    pol = dc.load_policy()
    cal = calendar(svc)
    with svc.store.read() as s:
        rows = s.execute(text(
            "SELECT c.id, c.category, c.channel, c.severity, c.received_at, c.responded_at, c.resolve_from,"
            " c.feedback_at, c.respond_met, c.resolve_met, c.satisfaction, st.display_name, c.customer_id,"
            " cu.number, cu.name, cu.erased_at, c.due_at FROM complaint c JOIN customer cu ON cu.id = c.customer_id"
            " LEFT JOIN staff st ON st.id = c.assignee_id WHERE c.received_at >= :a AND c.received_at < :b"
            " ORDER BY c.id"), {"a": start, "b": end}).all()
        pauses: dict[int, list[tuple[datetime, datetime | None]]] = {}
        if rows:
            ids = ",".join(str(int(r[0])) for r in rows)
            for cid, a, b in s.execute(text(
                    f"SELECT complaint_id, start, \"end\" FROM complaint_pause WHERE complaint_id IN ({ids})")):
                pauses.setdefault(int(cid), []).append((_dt(a), _dt(b)))  # type: ignore[arg-type]
    cats: dict[str, int] = {}
    chans: dict[str, int] = {}
    sevs: dict[str, int] = {}
    months: dict[str, int] = {}
    respond_h: list[float] = []
    resolve_h: list[float] = []
    rmet: list[bool] = []
    smet: list[bool] = []
    sat: dict[str, list[int]] = {}
    per_customer: dict[int, tuple[str, str, int]] = {}
    for r in rows:
        cat = pol.categories[r[1]].label if r[1] in pol.categories else r[1]
        ch = pol.channels[r[2]].label if r[2] in pol.channels else r[2]
        sev = pol.severities[r[3]].label if r[3] in pol.severities else r[3]
        cats[cat] = cats.get(cat, 0) + 1
        chans[ch] = chans.get(ch, 0) + 1
        sevs[sev] = sevs.get(sev, 0) + 1
        received = _dt(r[4])
        assert received is not None
        months[f"{received:%Y-%m}"] = months.get(f"{received:%Y-%m}", 0) + 1
        ps = [(a, b if b is not None else svc.now()) for a, b in pauses.get(int(r[0]), [])]
        responded, resolve_from, fed = _dt(r[5]), _dt(r[6]), _dt(r[7])
        if responded is not None:
            respond_h.append(cal.working_minutes_between(received, responded, ps) / 60)
        if fed is not None:
            resolve_h.append(cal.working_minutes_between(resolve_from or received, fed, ps) / 60)
        late = r[16] is not None and _dt(r[16]) < svc.now()  # type: ignore[operator]
        if r[8] is not None:
            rmet.append(bool(r[8]))
        elif responded is None and late:
            rmet.append(False)  # still unanswered past its limit
        if r[9] is not None:
            smet.append(bool(r[9]))
        elif responded is not None and fed is None and late:
            smet.append(False)  # still not fed back past its limit
        name = r[14] if r[15] is None else _("(erased)")
        num, nm, n = per_customer.get(int(r[12]), (r[13], name, 0))
        per_customer[int(r[12])] = (num, nm, n + 1)
    with svc.store.read() as s:  # R-CMP-6: every return visit of the period, reopened tickets' too
        for handler, score in s.execute(text(
                "SELECT st.display_name, v.satisfaction FROM complaint_visit v"
                " LEFT JOIN staff st ON st.id = v.handler_id WHERE v.at >= :a AND v.at < :b ORDER BY v.id"),
                {"a": start, "b": end}):
            sat.setdefault(handler or "—", []).append(int(score))
    return ComplaintReport(
        start, end, len(rows), _ranked(cats), _ranked(chans), _ranked(sevs), sorted(months.items()),
        _median(respond_h), _median(resolve_h),
        sum(rmet) / len(rmet) if rmet else None, sum(smet) / len(smet) if smet else None,
        sorted(((h, sum(v) / len(v), len(v)) for h, v in sat.items()), key=lambda t: (-t[1], t[0])),
        sorted((v for v in per_customer.values() if v[2] > 1), key=lambda t: (-t[2], t[0])),
    )


def export_report(svc: Services, actor: Actor, rep: ComplaintReport, path: str | Path) -> Path:
    """Write the report to an .xlsx workbook (one sheet per table). Needs report.view; audited."""
    svc.require(actor, "report.view")
    from openpyxl import Workbook

    target = Path(path).expanduser()
    if target.suffix.lower() != ".xlsx":
        raise ValidationErrors([ValidationError("path", "The report is written as an .xlsx file")])
    if not target.parent.is_dir():
        raise ValidationErrors([ValidationError("path", "The folder {folder} does not exist",
                                                folder=str(target.parent))])
    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")[:31]
    period = f"{rep.start:%Y-%m-%d} – {rep.end:%Y-%m-%d}"
    pct = lambda x: "" if x is None else round(x * 100, 1)  # noqa: E731
    hours = lambda x: "" if x is None else round(x, 1)  # noqa: E731
    for line in ((_("Period"), period), (_("Complaints"), rep.total),
                 (_("Median working hours to respond"), hours(rep.median_respond_hours)),
                 (_("Median working hours to feed back"), hours(rep.median_resolve_hours)),
                 (_("Responded within the limit (%)"), pct(rep.respond_within)),
                 (_("Fed back within the limit (%)"), pct(rep.resolve_within))):
        ws.append(list(line))
    for title, header, data in (
        (_("By category"), [_("Complaint category"), _("Complaints")], rep.by_category),
        (_("By channel"), [_("Channel"), _("Complaints")], rep.by_channel),
        (_("By severity"), [_("Severity"), _("Complaints")], rep.by_severity),
        (_("By month"), [_("Month"), _("Complaints")], rep.by_month),
        (_("Satisfaction by handler"), [_("Handler"), _("Average satisfaction"), _("Return visits")],
         [(h, round(a, 2), n) for h, a, n in rep.satisfaction_by_handler]),
        (_("Repeated complaints"), [_("Number"), _("Customer"), _("Complaints")], rep.repeat_customers),
    ):
        sheet = wb.create_sheet(title[:31])
        sheet.append(header)
        for row in data:
            sheet.append(list(row))
    try:
        with private_file(target) as fh:
            wb.save(fh)
    except OSError as e:
        raise ValidationErrors([ValidationError("path", "Could not write {path}: {reason}", path=str(target),
                                                reason=e.strerror or type(e).__name__)]) from None
    with svc.write(actor) as tx:
        tx.audit("complaint.report_export", details={"period": period, "tickets": rep.total, "file": target.name})
    return target
