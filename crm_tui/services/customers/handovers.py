"""Handover of customers between staff (R-CUST-11)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text

from crm_tui.domain.errors import Conflict, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.store import pending
from crm_tui.store.audit import PersonalChange
from crm_tui.services.customers.common import _load_row




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
            r = tx.execute("SELECT id, display_name, active FROM staff WHERE username = :u", {"u": (token or "").strip()}).first()
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
            chosen = [r[0] for r in tx.execute("SELECT id FROM customer WHERE owner_id = :s AND erased_at IS NULL"
                                               + pending.hide(tx.session, "id") + " ORDER BY id",
                                               {"s": src})]
        else:
            chosen = sorted(set(int(i) for i in customer_ids))
            if chosen:
                owned = {r[0] for r in tx.execute(
                    f"SELECT id FROM customer WHERE owner_id = :s AND erased_at IS NULL AND id IN ({','.join(map(str, chosen))})",
                    {"s": src})}
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
    hid = int(tx.execute("INSERT INTO customer_handover (at, from_staff_id, to_staff_id, note, count, by_id)"
                         " VALUES (:now, :a, :b, :n, :k, :by) RETURNING id",
                         {"now": tx.now, "a": src, "b": dst, "n": clean_note, "k": len(chosen),
                          "by": tx.actor.staff_id}).scalar_one())
    chosen = list(chosen)
    for i in range(0, len(chosen), 500):
        part = ",".join(map(str, chosen[i:i + 500]))
        tx.execute(f"UPDATE customer SET owner_id = :b, needs_informing = 1, version = version + 1,"
                   f" updated_at = :now, updated_by_id = :by WHERE id IN ({part})",
                   {"b": dst, "now": tx.now, "by": tx.actor.staff_id})
        tx.execute(f"DELETE FROM customer_staff WHERE staff_id = :b AND customer_id IN ({part})", {"b": dst})
    tx.session.execute(text("INSERT INTO customer_handover_item (handover_id, customer_id) VALUES (:h, :c)"),
                       [{"h": hid, "c": c} for c in chosen])
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
        tx.execute("UPDATE customer SET needs_informing = 0, updated_at = :now, updated_by_id = :by,"
                   " version = version + 1 WHERE id = :c", {"now": tx.now, "by": actor.staff_id, "c": customer_id})
        tx.execute("UPDATE customer_handover_item SET informed_at = :now, informed_by_id = :by, informed_method = :m"
                   " WHERE customer_id = :c AND informed_at IS NULL",
                   {"now": tx.now, "c": customer_id, "by": actor.staff_id, "m": clean_method})
        tx.audit("customer.informed", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": cur["number"], "changes": {"needs_informing": [True, False]}},
                 personal=[PersonalChange("inform_note", None, clean_note)] if clean_note else ())
