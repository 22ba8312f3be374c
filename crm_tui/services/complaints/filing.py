"""Filing a complaint and telling the customer it will be handled (R-CMP-1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_tui.domain import complaints as dc
from crm_tui.domain.errors import Conflict, ValidationError, ValidationErrors
from crm_tui.i18n import N_, _
from crm_tui.services.complaints.common import TicketRef, _event, _load, _refresh_clock, calendar
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.store.queries import complaints as q

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
        cust = q.customer_brief(tx.session, customer_id)
        if cust is None or cust[2]:
            raise ValidationErrors([ValidationError("customer", "Choose the customer the complaint is about")])
        number = dc.format_number(tx.now.year, q.next_number(tx.session, tx.now.year))
        cols = {**clean, "number": number, "customer_id": customer_id, "received_by_id": actor.staff_id,
                "state": dc.REGISTERED, "resolve_from": clean["received_at"], "reopen_count": 0,
                "feedback_id": feedback_id, "version": 1, "created_at": tx.now, "updated_at": tx.now}
        tid = q.insert_ticket(tx.session, cols)
        _event(tx, {"id": tid, "customer_id": customer_id, "state": None}, "file", dc.REGISTERED,
               clean["description"])
        ck = _refresh_clock(tx, tid, calendar(svc))
        if ack is not None:
            _record_ack(tx, {"id": tid, "customer_id": customer_id, "state": dc.REGISTERED, "number": number}, ack)
        q.touch_customer(tx.session, customer_id, tx.now)
        tx.audit("complaint.file", entity="complaint", entity_id=tid, customer_id=customer_id,
                 details={"number": number, "customer": cust[0], "channel": clean["channel"],
                          "category": clean["category"], "severity": clean["severity"],
                          "received_at": clean["received_at"].isoformat(sep=" "),
                          "respond_by": ck.respond_deadline.isoformat(sep=" ") if ck.respond_deadline else None,
                          "resolve_by": ck.resolve_deadline.isoformat(sep=" ") if ck.resolve_deadline else None})
    return TicketRef(tid, number)


def _record_ack(tx: Tx, row: Mapping[str, Any], ack: Mapping[str, Any]) -> None:
    """Write the acknowledgement (R-CMP-1) on the ticket, its history line and its audit entry."""
    q.set_acknowledgement(tx.session, row["id"], method=ack["method"], at=ack["at"], by_id=tx.actor.staff_id)
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
        q.bump_version(tx.session, ticket_id, tx.now)


def _require_acknowledged(row: Mapping[str, Any]) -> None:
    if row["ack_at"] is None:
        raise Conflict(N_("First record how the customer of ticket {number} was told it will be handled "
                          "(key K on the ticket)."), number=row["number"])

