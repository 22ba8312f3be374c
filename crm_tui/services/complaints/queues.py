"""Reading complaints: one ticket, the queues and their counts, the home screen's work items."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crm_tui.domain import complaints as dc
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services.complaints.common import (
    TicketEvent, TicketPage, TicketRow, TicketView, _clock, _load, _pauses, _staff_name, calendar,
)
from crm_tui.services.context import Actor, Services
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store.queries import complaints as q
from crm_tui.store.queries import staff as staff_q

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
        cust = q.customer_brief(s, row["customer_id"])
        shown = cs.text_policy(s, actor, row["customer_id"])  # the masking policy (R-SEC-2)
        events = [TicketEvent(e.at, e.action, e.from_state, e.to_state, shown(e.note or ""), e.staff or "")
                  for e in q.events(s, ticket_id)]
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
    name = cust[1] if cust and not cust[2] else _("(erased)")
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


def queue(svc: Services, actor: Actor, name: str, *, cursor: str | None = None, limit: int = 50,
          customer_id: int | None = None) -> TicketPage:
    """One page of a queue (see QUEUES), by key: newest first, or soonest deadline first for the
    at-risk and overdue queues. ``customer_id`` narrows to one customer."""
    svc.require(actor, "complaint.view")
    if name not in q.QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    now = svc.now()
    limit = max(1, min(limit, 500))
    mine = _mine(svc, actor)
    with svc.store.read() as s:
        rows, nxt = q.queue_page(s, name, now=now, mine=mine, limit=limit, cursor=cursor, customer_id=customer_id)
    out = [TicketRow(r.id, r.number, r.customer_id, r.customer_number,
                     r.customer_name if not r.customer_erased else _("(erased)"), r.state, r.severity, r.category,
                     r.received_at, r.assignee or "", r.due_at, _sla(r.due_at, r.risk_at, r.paused, r.state, now))
           for r in rows]
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
    return q.queue_counts(s, now, mine)


@register_item
def _complaint_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    if not actor.can("complaint.view"):
        return []
    covered = () if actor.staff_id is None else staff_q.covered_absent_ids(s, actor.staff_id, svc.now().date())
    n = _counts(s, actor, svc.now(), json.dumps([actor.staff_id or -1, *covered]))
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

