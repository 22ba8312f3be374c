"""Card queues (R-FU-3), a customer's cards, the consultants, and ownership claims (信息归属)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from crm_tui.domain import masking
from crm_tui.domain.errors import Conflict, NotFound, ValidationError
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import _
from crm_tui.services.context import Actor, Services
from crm_tui.services.followups.common import (
    CardPage, CardRow, ClaimRow, QUEUES, _customer, _d, _decode, _dt, _encode, _may_see_all, _names, week_bounds,
)
from crm_tui.store.queries.followups import cards as qc

# ------------------------------------------------------------------------------------------------
# Queues (R-FU-3) and the customer's cards
# ------------------------------------------------------------------------------------------------


def _card_rows(rows: Sequence[qc.CardListRow], today: date) -> list[CardRow]:
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
    owners: list[int] | None = None
    if not _may_see_all(actor):
        from crm_tui.services import staff

        owners = staff.mine_and_covered(svc, actor)  # one's own cards and, under cover, the colleague's (R-SEC-7)
        owner_id = owners[0] if len(owners) == 1 else None
    with svc.store.read() as s:
        rows = qc.card_queue(s, which, today=today.isoformat(), sunday=week_bounds(today)[1].isoformat(),
                             me=actor.staff_id, owner_id=owner_id, owners=owners, after=_decode(cursor),
                             limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = _encode(rows[-1][0], rows[-1][1]) if more and rows else None
    return CardPage(_card_rows(rows, today), nxt)


def customer_cards(svc: Services, actor: Actor, customer_id: int) -> list[CardRow]:
    """Every card of one customer, newest first (for the archive and the register)."""
    svc.require(actor, "followup.view")
    with svc.store.read() as s:
        rows = qc.customer_cards(s, customer_id)
    return _card_rows(rows, svc.now().date())


def consultants(svc: Services, actor: Actor) -> list[tuple[int, str]]:
    """Active staff who may follow customers up: (id, display name)."""
    svc.require(actor, "followup.view")
    from crm_tui.domain.roles import permissions_of

    with svc.store.read() as s:
        rows = qc.active_staff_roles(s)
    return [(sid, name) for sid, name, roles in rows if "followup.edit" in permissions_of(frozenset(roles.split(",")))]


def has_overdue(svc: Services, actor: Actor) -> bool:
    """Whether the actor has overdue visits of their own (the app then opens on the due list)."""
    svc.check_password_current(actor)
    if not actor.can("followup.view") or actor.staff_id is None:
        return False
    with svc.store.read() as s:
        return qc.has_overdue(s, actor.staff_id, svc.now().date().isoformat())


# ------------------------------------------------------------------------------------------------
# Ownership claims (信息归属)
# ------------------------------------------------------------------------------------------------


def claim_customer(svc: Services, actor: Actor, customer_id: int, reason: str) -> int:
    """Ask a supervisor to make the actor the customer's responsible staff member."""
    svc.require(actor, "followup.edit")
    clean_reason = clean_text(reason, "reason", max_len=300, required=True)
    with svc.write(actor) as tx:
        cust = _customer(tx, customer_id)
        if cust.owner_id == actor.staff_id:
            raise Conflict("You are already responsible for this customer.")
        if qc.claim_waiting(tx.session, customer_id, actor.staff_id):
            raise Conflict("Your claim for this customer is already waiting for a supervisor.")
        claim_id = qc.insert_claim(tx.session, customer_id, actor.staff_id, cust.owner_id, clean_reason, tx.now)
        tx.audit("followup.claim", entity="ownership_claim", entity_id=claim_id, customer_id=customer_id,
                 details={"customer": cust.number, "reason": clean_reason})
    return claim_id


def pending_claims(svc: Services, actor: Actor) -> list[ClaimRow]:
    svc.require(actor, "followup.supervise")
    with svc.store.read() as s:
        rows = qc.pending_claims(s)
    return [ClaimRow(r[0], r[1], r[2], r[3], r[4] or "", r[5] or "", _dt(r[6])) for r in rows]  # type: ignore[arg-type]


def decide_claim(svc: Services, actor: Actor, claim_id: int, grant: bool, note: str = "") -> None:
    """A supervisor decides an ownership claim. Granting makes the claimant responsible for the
    customer and moves the previous owner's open cards of that customer to them (audited)."""
    svc.require(actor, "followup.supervise", claim=claim_id)
    clean_note = clean_text(note, "note", max_len=300)
    with svc.write(actor) as tx:
        claim = qc.claim(tx.session, claim_id)
        if claim is None:
            raise NotFound("No ownership claim #{id}.", id=claim_id)
        if claim[4] is not None:
            raise Conflict("This claim was already decided.")
        cust = _customer(tx, claim[1])
        qc.decide_claim(tx.session, claim_id, grant, clean_note, tx.now, actor.staff_id)
        names = _names(tx, [cust.owner_id, claim[2]])
        moved = 0
        if grant:
            qc.make_owner(tx.session, claim[1], claim[2], tx.now, actor.staff_id)
            moved = qc.move_open_cards(tx.session, claim[1], claim[2], tx.now, actor.staff_id)
            tx.audit("customer.update", entity="customer", entity_id=claim[1], customer_id=claim[1],
                     details={"number": cust.number, "changes": {"owner": [names.get(cust.owner_id),
                                                                              names.get(claim[2])]},
                              "by": "followup.claim"})
        tx.audit("followup.claim_decided", entity="ownership_claim", entity_id=claim_id, customer_id=claim[1],
                 details={"customer": cust.number, "granted": grant, "note": clean_note, "cards_moved": moved})


