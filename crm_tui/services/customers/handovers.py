"""Handover of customers between staff (R-CUST-11)."""

from __future__ import annotations

from collections.abc import Sequence

from crm_tui.domain.errors import Conflict, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.customers.common import _load_row
from crm_tui.store.audit import PersonalChange
from crm_tui.store.queries import customers as q
from crm_tui.store.queries import customers_lists as ql

# ------------------------------------------------------------------------------------------------
# Handover (R-CUST-11)
# ------------------------------------------------------------------------------------------------


def handover(svc: Services, actor: Actor, from_staff: str, to_staff: str, customer_ids: Sequence[int] | None,
             note: str) -> int:
    """Move all (``customer_ids`` None) or the chosen customers of ``from_staff`` to ``to_staff``
    (user names) in one transaction, with a handover record; the moved customers are marked
    "tell the customer their new contact". Returns the handover id. Needs customer.handover."""
    svc.require(actor, "customer.handover")
    errors: list[ValidationError] = []
    try:
        clean_note = clean_text(note, "note", max_len=500, multiline=True)
    except ValidationError as e:
        errors.append(e)
        clean_note = None
    with svc.write(actor) as tx:
        ids: dict[str, tuple[int, str]] = {}
        for fld, token in (("from_staff", from_staff), ("to_staff", to_staff)):
            r = q.staff_by_username(tx.session, (token or "").strip())
            if r is None:
                errors.append(ValidationError(fld, "Unknown staff member '{name}'", name=token))
            elif fld == "to_staff" and not r[2]:
                errors.append(ValidationError(fld, "{name}'s account is disabled; choose an active colleague", name=r[1]))
            else:
                ids[fld] = (int(r[0]), str(r[1]))
        if len(ids) == 2 and ids["from_staff"][0] == ids["to_staff"][0]:
            errors.append(ValidationError("to_staff", "Hand over to someone else"))
        if errors:
            raise ValidationErrors(errors)
        src, dst = ids["from_staff"][0], ids["to_staff"][0]
        if customer_ids is None:
            chosen = ql.owned_customers(tx.session, src)
        else:
            chosen = sorted(set(int(i) for i in customer_ids))
            if chosen:
                owned = ql.owned_among(tx.session, src, chosen)
                foreign = [i for i in chosen if i not in owned]
                if foreign:
                    raise Conflict("{count} of the chosen customers are not {name}'s; reload the list.",
                                   count=len(foreign), name=ids["from_staff"][1])
        if not chosen:
            raise Conflict("{name} has no customers to hand over.", name=ids["from_staff"][1])
        hid = handover_in(tx, src, dst, chosen, clean_note, from_staff=from_staff, to_staff=to_staff,
                          all_=customer_ids is None)
    return hid


def handover_in(tx: Tx, src: int, dst: int, chosen: Sequence[int], clean_note: str | None, *, from_staff: str,
                to_staff: str, all_: bool) -> int:
    """The move itself, inside the caller's transaction (used by :func:`handover` and by disabling a
    leaver's account, services.staff): a handover record, the customers marked "tell the customer
    their new contact", audited. The caller has checked permission and the customers."""
    hid = ql.insert_handover(tx.session, now=tx.now, src=src, dst=dst, note=clean_note, count=len(chosen),
                             by=tx.actor.staff_id)
    chosen = list(chosen)
    for i in range(0, len(chosen), 500):
        ql.move_customers(tx.session, chosen[i:i + 500], dst, tx.actor.staff_id, tx.now)
    ql.insert_handover_items(tx.session, hid, chosen)
    tx.audit("customer.handover", entity="customer_handover", entity_id=hid,
             details={"from": from_staff, "to": to_staff, "count": len(chosen), "customer_ids": chosen,
                      "all": all_, "note": clean_note})
    return hid


def mark_informed(svc: Services, actor: Actor, customer_id: int, *, note: str = "", method: str = "") -> None:
    """The customer was told of their new contact person after a handover: who (the actor), when
    (now) and how (``method``: phone, visit, letter ...). Needs customer.edit."""
    svc.require(actor, "customer.edit")
    clean_note = clean_text(note, "note", max_len=500, multiline=True)
    clean_method = clean_text(method, "method", max_len=40) or None
    with svc.write(actor) as tx:
        cur = _load_row(tx, customer_id)
        if not cur["needs_informing"]:
            raise Conflict("This customer has nothing to be told.")
        ql.mark_informed(tx.session, customer_id, actor.staff_id, tx.now, clean_method)
        tx.audit("customer.informed", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": cur["number"], "changes": {"needs_informing": [True, False]}},
                 personal=[PersonalChange("inform_note", None, clean_note)] if clean_note else ())
