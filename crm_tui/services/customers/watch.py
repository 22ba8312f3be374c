"""Watch lists (R-CUST-7, -8, -9, -10), shared-phone signatures and the home page's counts."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from crm_tui.domain.customers import (
    load_policy,
)
from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services.context import Actor, Services
from crm_tui.services.customers.common import _d, _dt
from crm_tui.services.customers.history import _label
from crm_tui.services.customers.listing import _rows
from crm_tui.services.customers.model import WatchPage, WatchRow
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store import search_index
from crm_tui.store.queries import customers_lists as ql

# ------------------------------------------------------------------------------------------------
# Watch lists (R-CUST-7, -8, -9, -10)
# ------------------------------------------------------------------------------------------------


def _watch_cursor(cursor: str | None, mode: str) -> tuple[str | None, int] | None:
    return search_index.decode_cursor(cursor, mode)


#: The keyset pager of every watch list (store.queries.customers_lists.keyset), kept under its old name.
_keyset = ql.keyset


def watch_phone_changes(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> WatchPage:
    """R-CUST-8: customers whose phone changed twice within the policy window (30 days) and whose
    closer inspection is not recorded yet. The flag does not lapse: only an inspection
    (``customer_rules.record_phone_inspection``) takes a customer off this list."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        rows, nxt = ql.phone_changes_page(s, cursor, limit)
        crow = {r.id: r for r in _rows(s, [r[1] for r in rows])}
    return WatchPage([WatchRow(crow[r[1]], _("Phone changed on {first} and {second}; closer inspection due",
                                             first=str(r[2] or "")[:10], second=str(r[3] or "")[:10]), _dt(r[0]))
                      for r in rows if r[1] in crow], nxt)


def watch_past_deadline(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> WatchPage:
    """R-CUST-9: archives with required fields still empty after their maintenance deadline."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        rows, nxt = ql.past_deadline_page(s, svc.now().isoformat(sep=" ", timespec="microseconds"), cursor, limit)
        crow = {r.id: r for r in _rows(s, [r[1] for r in rows])}
    out = []
    for due, cid, missing in rows:
        if cid not in crow:
            continue
        fields_ = [f_ for fs in json.loads(missing or "{}").values() for f_ in fs]
        out.append(WatchRow(crow[cid], _("Missing: {fields}", fields=", ".join(_label(f_) for f_ in fields_)), _dt(due)))
    return WatchPage(out, nxt)


#: R-CUST-7: a shared phone awaits signatures when it was never approved or its review is due.
_SHARED_DUE = ql.SHARED_DUE


def watch_shared_phones(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> WatchPage:
    """R-CUST-7: phones shared between customers (every customer holding the number, the first
    holder too), awaiting the two signatures (section chief, deputy manager) of their first
    approval or periodic review. ``WatchRow.phone_id`` goes to :func:`approve_shared_phone`."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        rows, nxt = ql.shared_phones_page(s, svc.now().date().isoformat(), cursor, limit)
        crow = {r.id: r for r in _rows(s, [r[2] for r in rows])}

    def signed(chief: Any, deputy: Any) -> str:
        have = [_("section chief") if chief else "", _("deputy manager") if deputy else ""]
        return _("signed by: {who}", who="、".join(h for h in have if h)) if any(have) else _("no signature yet")

    return WatchPage([WatchRow(crow[r[2]], _("Reason: {reason}", reason=r[3]) + " · " + signed(r[4], r[5]),
                               _d(r[0]), int(r[1])) for r in rows if r[2] in crow], nxt)


# R-CUST-10: important customers with fewer than two ACTIVE staff in contact (store.queries.customers_lists).
_ACTIVE_CONTACTS = ql.ACTIVE_CONTACTS
_UNDERSTAFFED = ql.UNDERSTAFFED


def watch_understaffed(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> WatchPage:
    """R-CUST-10: important customers with fewer than two active staff in contact (owner included;
    disabled accounts do not count)."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        rows, nxt = ql.understaffed_page(s, cursor, limit)
        crow = {r.id: r for r in _rows(s, [r[1] for r in rows])}
    return WatchPage([WatchRow(crow[r[1]], _("Fewer than two active staff in contact")) for r in rows if r[1] in crow],
                     nxt)


def approve_shared_phone(svc: Services, actor: Actor, phone_id: int, note: str = "") -> str:
    """Sign a shared phone awaiting approval or review (R-CUST-7): the section chief's signature
    (customer.shared_phone_chief) and the deputy manager's (customer.shared_phone_deputy), two
    different people, in either order. With both, the phone is approved until the next review
    (policy interval) and awaits filing with internal control (customer_rules.file_shared_phone).
    Needs customer.review_shared_phone. Returns "chief" or "deputy" (the signature given)."""
    svc.require(actor, "customer.review_shared_phone")
    clean_note = clean_text(note, "note", max_len=500, multiline=True)
    with svc.write(actor) as tx:
        r = ql.shared_phone_due(tx.session, phone_id, tx.now.date())
        if r is None:
            raise NotFound("No shared phone awaiting review.")
        customer_id, number, chief_id, chief_at, deputy_id, deputy_at = r
        if chief_at and deputy_at:  # the last review was complete: this signature opens a new one
            chief_id = chief_at = deputy_id = deputy_at = None
        me = actor.staff_id
        if actor.can("customer.shared_phone_chief") and chief_at is None and deputy_id != me:
            slot = "chief"
        elif actor.can("customer.shared_phone_deputy") and deputy_at is None and chief_id != me:
            slot = "deputy"
        elif chief_id == me or deputy_id == me:
            raise Conflict("You have signed this shared phone already; the other signature must come from someone else.")
        else:
            raise PermissionDenied("The signatures still missing are not yours to give (section chief and deputy manager).")
        sets = {"chief": (me, tx.now) if slot == "chief" else (chief_id, chief_at),
                "deputy": (me, tx.now) if slot == "deputy" else (deputy_id, deputy_at)}
        complete = all(v[1] is not None for v in sets.values())
        due = tx.now.date() + timedelta(days=load_policy().shared_phone_review_days) if complete else None
        ql.sign_shared_phone(tx.session, phone_id, chief=sets["chief"], deputy=sets["deputy"], complete=complete,
                             by=me, now=tx.now, review_due=due)
        tx.audit("customer.shared_phone_approved" if complete else "customer.shared_phone_signed",
                 entity="customer_phone", entity_id=phone_id, customer_id=int(customer_id),
                 details={"number": number, "signature": slot, "note": clean_note,
                          **({"next_review": due.isoformat()} if due else {})})
    return slot


@register_item
def _customer_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    if not actor.can("customer.view"):
        return []
    now = svc.now()

    changed = ql.count_phone_changes(s)
    late = ql.count_past_deadline(s, now.isoformat(sep=" ", timespec="microseconds"))
    shared = ql.count_shared_due(s, now.date().isoformat())
    thin = ql.count_understaffed(s)
    items = [
        WorkItem("customer.phone_changes", N_("Customers whose phone changed twice in 30 days"), changed,
                 "open('customers')", bool(changed)),
        WorkItem("customer.past_deadline", N_("Incomplete archives past their deadline"), late, "open('customers')"),
        WorkItem("customer.shared_phones", N_("Shared phones awaiting review"), shared, "open('customers')",
                 bool(shared) and actor.can("customer.review_shared_phone")),
        WorkItem("customer.understaffed", N_("Important customers with fewer than two staff in contact"), thin,
                 "open('customers')"),
    ]
    if actor.staff_id is not None:
        tell = ql.count_to_tell(s, actor.staff_id)
        if tell:
            items.append(WorkItem("customer.tell_new_contact", N_("Handed-over customers to tell about their new contact"),
                                  tell, "open('customers')", True))
    return items
