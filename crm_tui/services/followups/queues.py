"""Card queues (R-FU-3), a customer's cards, the consultants, and ownership claims (信息归属)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import text

from crm_tui.domain import masking
from crm_tui.domain.errors import Conflict, NotFound, ValidationError
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import _
from crm_tui.services.context import Actor, Services
from crm_tui.services.followups.common import (
    CardPage, CardRow, ClaimRow, QUEUES, _customer, _d, _decode, _dt, _encode, _may_see_all, _names, week_bounds,
)

# ------------------------------------------------------------------------------------------------
# Queues (R-FU-3) and the customer's cards
# ------------------------------------------------------------------------------------------------


_ROW_SQL = ("SELECT {key} AS k, f.id, f.number, f.customer_id, c.name, c.erased_at, f.owner_id, st.display_name,"
            " f.intent_level, f.product, f.next_visit_due, f.status, f.reviewed_at, f.review_due, f.last_visit_at"
            " FROM followup_card f{idx} JOIN customer c ON c.id = f.customer_id JOIN staff st ON st.id = f.owner_id")


def _card_rows(rows: Sequence[Any], today: date) -> list[CardRow]:
    out = []
    for r in rows:
        due = _d(r[10])
        out.append(CardRow(id=r[1], number=r[2], customer_id=r[3], customer=r[4] if r[5] is None else _("(erased)"),
                           owner_id=r[6], owner=r[7] or "", level=r[8],
                           product=masking.GENERIC.text(r[9] or ""), next_due=due,  # a list: masked (domain.masking)
                           status=r[11], reviewed=r[12] is not None, review_due=_d(r[13]),  # type: ignore[arg-type]
                           last_visit_at=_dt(r[14]), overdue=r[11] == "open" and due is not None and due < today))
    return out


def queue(svc: Services, actor: Actor, which: str, *, owner_id: int | None = None, cursor: str | None = None,
          limit: int = 100) -> CardPage:
    """One page of a card queue, keyset-paged: ``today`` (due today), ``overdue`` (due before
    today), ``week`` (due by Sunday, overdue included), ``open`` (all open cards by due date),
    ``review`` (waiting for a supervisor's signature, by review deadline), ``closed`` (newest
    first). Without followup.supervise only the actor's own cards; supervisors see everyone's, or
    one consultant's with ``owner_id``."""
    svc.require(actor, "followup.view")
    if which not in QUEUES:
        raise ValidationError("queue", "Unknown queue {name}", name=which)
    if which == "review":
        svc.require(actor, "followup.supervise")
    today = svc.now().date()
    limit = max(1, min(limit, 500))
    where = ["1 = 1"]
    params: dict[str, Any] = {"today": today.isoformat(), "sun": week_bounds(today)[1].isoformat()}
    owners: list[int] | None = None
    if not _may_see_all(actor):
        from crm_tui.services import staff

        owners = staff.mine_and_covered(svc, actor)  # one's own cards and, under cover, the colleague's (R-SEC-7)
        owner_id = owners[0] if len(owners) == 1 else None
    if owner_id is not None:
        where.append("f.owner_id = :owner")
        params["owner"] = owner_id
    elif owners is not None:
        where.append("f.owner_id IN (SELECT value FROM json_each(:owners))")
        params["owners"] = json.dumps(owners)
    key, desc = "f.next_visit_due", False
    if which == "today":
        where.append("f.status = 'open' AND f.next_visit_due = :today")
    elif which == "overdue":
        where.append("f.status = 'open' AND f.next_visit_due < :today")
    elif which == "week":
        where.append("f.status = 'open' AND f.next_visit_due <= :sun")
    elif which == "open":
        where.append("f.status = 'open' AND f.next_visit_due IS NOT NULL")
    elif which == "review":
        key = "f.review_due"
        where.append("f.reviewed_at IS NULL AND f.status != 'void' AND f.owner_id IS NOT :me")  # not one's own
        params["me"] = actor.staff_id
    else:
        key, desc = "f.closed_at", True
        where.append("f.status != 'open'")
    after = _decode(cursor)
    if after is not None:
        where.append(f"({key}, f.id) {'<' if desc else '>'} (:_k, :_i)")
        params.update(_k=after[0], _i=after[1])
    order = f"{key} DESC, f.id DESC" if desc else f"{key}, f.id"
    idx = ""
    if which in ("today", "overdue", "week", "open"):  # walk the partial index of open cards in due order
        idx = " INDEXED BY ix_followup_card_due" if owner_id is not None else (
            "" if owners is not None else " INDEXED BY ix_followup_card_due_all")
    sql = _ROW_SQL.format(key=key, idx=idx) + " WHERE " + " AND ".join(where) + f" ORDER BY {order} LIMIT :_n"
    with svc.store.read() as s:
        rows = s.execute(text(sql), {**params, "_n": limit + 1}).all()
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = _encode(rows[-1][0], rows[-1][1]) if more and rows else None
    return CardPage(_card_rows(rows, today), nxt)


def customer_cards(svc: Services, actor: Actor, customer_id: int) -> list[CardRow]:
    """Every card of one customer, newest first (for the archive and the register)."""
    svc.require(actor, "followup.view")
    with svc.store.read() as s:
        rows = s.execute(text(_ROW_SQL.format(key="f.id", idx="") + " WHERE f.customer_id = :c ORDER BY f.id DESC LIMIT 50"),
                         {"c": customer_id}).all()
    return _card_rows(rows, svc.now().date())


def consultants(svc: Services, actor: Actor) -> list[tuple[int, str]]:
    """Active staff who may follow customers up: (id, display name)."""
    svc.require(actor, "followup.view")
    from crm_tui.domain.roles import permissions_of

    with svc.store.read() as s:
        rows = s.execute(text("SELECT s.id, s.display_name, group_concat(r.role, ',') FROM staff s"
                              " JOIN staff_role r ON r.staff_id = s.id WHERE s.active GROUP BY s.id ORDER BY s.id")).all()
    return [(int(r[0]), str(r[1])) for r in rows if "followup.edit" in permissions_of(frozenset((r[2] or "").split(",")))]


def has_overdue(svc: Services, actor: Actor) -> bool:
    """Whether the actor has overdue visits of their own (the app then opens on the due list)."""
    svc.check_password_current(actor)
    if not actor.can("followup.view") or actor.staff_id is None:
        return False
    with svc.store.read() as s:
        return s.execute(text("SELECT 1 FROM followup_card WHERE owner_id = :me AND status = 'open'"
                              " AND next_visit_due < :d LIMIT 1"),
                         {"me": actor.staff_id, "d": svc.now().date().isoformat()}).first() is not None


# ------------------------------------------------------------------------------------------------
# Ownership claims (信息归属)
# ------------------------------------------------------------------------------------------------


def claim_customer(svc: Services, actor: Actor, customer_id: int, reason: str) -> int:
    """Ask a supervisor to make the actor the customer's responsible staff member."""
    svc.require(actor, "followup.edit")
    clean_reason = clean_text(reason, "reason", max_len=300, required=True)
    with svc.write(actor) as tx:
        cust = _customer(tx, customer_id)
        if cust["owner_id"] == actor.staff_id:
            raise Conflict("You are already responsible for this customer.")
        if tx.execute("SELECT 1 FROM ownership_claim WHERE customer_id = :c AND claimant_id = :me"
                      " AND decided_at IS NULL", {"c": customer_id, "me": actor.staff_id}).first():
            raise Conflict("Your claim for this customer is already waiting for a supervisor.")
        claim_id = int(tx.execute(
            "INSERT INTO ownership_claim (customer_id, claimant_id, owner_id, reason, created_at)"
            " VALUES (:c, :me, :o, :r, :now) RETURNING id",
            {"c": customer_id, "me": actor.staff_id, "o": cust["owner_id"], "r": clean_reason, "now": tx.now}
        ).scalar_one())
        tx.audit("followup.claim", entity="ownership_claim", entity_id=claim_id, customer_id=customer_id,
                 details={"customer": cust["number"], "reason": clean_reason})
    return claim_id


def pending_claims(svc: Services, actor: Actor) -> list[ClaimRow]:
    svc.require(actor, "followup.supervise")
    with svc.store.read() as s:
        rows = s.execute(text(
            "SELECT k.id, k.customer_id, c.name, a.display_name, o.display_name, k.reason, k.created_at"
            " FROM ownership_claim k JOIN customer c ON c.id = k.customer_id JOIN staff a ON a.id = k.claimant_id"
            " LEFT JOIN staff o ON o.id = k.owner_id WHERE k.decided_at IS NULL ORDER BY k.id LIMIT 200")).all()
    return [ClaimRow(r[0], r[1], r[2], r[3], r[4] or "", r[5] or "", _dt(r[6])) for r in rows]  # type: ignore[arg-type]


def decide_claim(svc: Services, actor: Actor, claim_id: int, grant: bool, note: str = "") -> None:
    """A supervisor decides an ownership claim. Granting makes the claimant responsible for the
    customer and moves the previous owner's open cards of that customer to them (audited)."""
    svc.require(actor, "followup.supervise", claim=claim_id)
    clean_note = clean_text(note, "note", max_len=300)
    with svc.write(actor) as tx:
        claim = tx.execute("SELECT id, customer_id, claimant_id, owner_id, decided_at FROM ownership_claim"
                           " WHERE id = :i", {"i": claim_id}).first()
        if claim is None:
            raise NotFound("No ownership claim #{id}.", id=claim_id)
        if claim[4] is not None:
            raise Conflict("This claim was already decided.")
        cust = _customer(tx, claim[1])
        tx.execute("UPDATE ownership_claim SET decided_at = :now, decided_by_id = :by, granted = :g,"
                   " decision_note = :n WHERE id = :i",
                   {"now": tx.now, "by": actor.staff_id, "g": grant, "n": clean_note, "i": claim_id})
        names = _names(tx, [cust["owner_id"], claim[2]])
        moved = 0
        if grant:
            tx.execute("UPDATE customer SET owner_id = :o, version = version + 1, updated_at = :now,"
                       " updated_by_id = :by WHERE id = :c",
                       {"o": claim[2], "now": tx.now, "by": actor.staff_id, "c": claim[1]})
            tx.execute("DELETE FROM customer_staff WHERE customer_id = :c AND staff_id = :o",
                       {"c": claim[1], "o": claim[2]})
            moved = tx.execute("UPDATE followup_card SET owner_id = :o, version = version + 1, updated_at = :now,"
                               " updated_by_id = :by WHERE customer_id = :c AND status = 'open'",
                               {"o": claim[2], "now": tx.now, "by": actor.staff_id, "c": claim[1]}).rowcount
            tx.audit("customer.update", entity="customer", entity_id=claim[1], customer_id=claim[1],
                     details={"number": cust["number"], "changes": {"owner": [names.get(cust["owner_id"]),
                                                                              names.get(claim[2])]},
                              "by": "followup.claim"})
        tx.audit("followup.claim_decided", entity="ownership_claim", entity_id=claim_id, customer_id=claim[1],
                 details={"customer": cust["number"], "granted": grant, "note": clean_note, "cards_moved": moved})


