"""What every complaint use case shares: permissions, queue and event titles, the result types,
loading a ticket, its clock (R-CMP-3), the handler check (R-SEC-7) and one workflow step."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crm_tui.domain import complaints as dc
from crm_tui.domain.calendar import LimitStatus, WorkCalendar
from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services import holidays
from crm_tui.services.context import PERMISSION_LABELS, Actor, Services, Tx
from crm_tui.store import audit as audit_store
from crm_tui.store.queries import complaints as q

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
    row = q.ticket(_sess(s), ticket_id)
    if row is None:
        raise NotFound("No complaint ticket #{id}.", id=ticket_id)
    return row


def _pauses(s: Session | Tx, ticket_id: int) -> list[tuple[datetime, datetime | None]]:
    return q.pauses(_sess(s), ticket_id)


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
    q.set_clock(tx.session, ticket_id, due_at=ck.due_at, risk_at=ck.risk_at, respond_met=ck.respond_met,
                resolve_met=ck.resolve_met)
    return ck


def _staff_name(s: Session | Tx, staff_id: int | None) -> str:
    if staff_id is None:
        return ""
    return q.staff_name(_sess(s), staff_id) or ""


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
    q.add_event(tx.session, complaint_id=row["id"], customer_id=row["customer_id"], at=tx.now,
                actor_id=tx.actor.staff_id, action=action, from_state=row.get("state"), to_state=to_state, note=note)


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
        q.update_ticket(tx.session, cur["id"], sets)
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

