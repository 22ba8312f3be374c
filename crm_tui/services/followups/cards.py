"""Follow-up cards (A卡): open, change, visit, close, reopen, sign and read one (R-FU-1..3, R-FU-6)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from crm_tui.domain import followups as fd
from crm_tui.domain.customers import load_policy as customer_policy
from crm_tui.domain.errors import Conflict, PermissionDenied, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.followups.common import (
    CardRef, CardView, OwnershipConflict, VisitResult, VisitView, _CARD_CODES, _CARD_TEXT, _card, _covered,
    _customer, _d, _dt, _iso, _may_see_all, _names, _plain, _require_own, _resolve_staff, _tie_register_values,
    calendar,
)
from crm_tui.store.audit import PersonalChange
from crm_tui.store.queries.followups import cards as qc
from crm_tui.store.queries.followups import register as qr


# ------------------------------------------------------------------------------------------------
# Cards
# ------------------------------------------------------------------------------------------------


def create_card(svc: Services, actor: Actor, customer_id: int, raw: Mapping[str, str], *, owner: str = "",
                register_id: int | None = None, take_over: bool = False) -> CardRef:
    """Open a follow-up card for an archive (R-FU-1, R-FU-2). Needs followup.edit.

    ``raw``: card fields as typed text (see ``domain.followups.validate_card``). ``owner`` (user
    name or staff id) defaults to the customer's responsible staff member, or the actor when the
    customer has none. A customer owned by someone else raises ``OwnershipConflict`` unless a
    supervisor passes ``take_over=True`` (then the customer moves to the new owner, audited).
    The first visit is due by the intent level's cadence from today (R-FU-3).
    """
    svc.require(actor, "followup.edit")
    now = svc.now()
    today = now.date()
    clean, errors = fd.validate_card(raw, today, customer_policy().sources)
    with svc.write(actor) as tx:
        cust = _customer(tx, customer_id)
        from crm_tui.services import customer_rules

        customer_rules.require_business_open(tx, customer_id, N_("new follow-up card"))  # R-CUST-3
        owner_id: int | None = None
        if owner.strip():
            try:
                owner_id = _resolve_staff(tx, owner, "owner")
            except ValidationError as e:
                errors.append(e)
        else:
            owner_id = cust.owner_id or actor.staff_id
        if owner_id is None:
            errors.append(ValidationError("owner", "Choose the consultant who follows this customer up"))
        if errors:
            raise ValidationErrors(errors)
        assert owner_id is not None
        names = _names(tx, [owner_id, cust.owner_id])
        moved_from: int | None = None
        if cust.owner_id is not None and cust.owner_id != owner_id:
            active = qc.staff_active(tx.session, cust.owner_id)
            if active and not (take_over and actor.can("followup.supervise")):
                raise OwnershipConflict(customer_id=customer_id, owner_id=int(cust.owner_id),
                                        owner=names.get(cust.owner_id, ""))
            moved_from = cust.owner_id
        level = fd.load_policy().levels[clean["intent_level"]]
        due = fd.next_visit_due(calendar(svc), today, level)
        review = fd.review_due(calendar(svc), today, fd.load_policy())
        seq = qc.next_card_seq(tx.session, now.year)
        number = fd.card_number(now.year, int(seq))
        cols: dict[str, Any] = {k: clean.get(k) for k in (*_CARD_TEXT, *_CARD_CODES)}
        cols.update(number=number, customer_id=customer_id, owner_id=owner_id, register_id=register_id,
                    card_date=today.isoformat(), next_visit_due=_iso(due), status="open", review_due=review.isoformat(),
                    visits=0, version=1, created_at=now, created_by_id=actor.staff_id, updated_at=now,
                    updated_by_id=actor.staff_id)
        cols["first_reception_date"] = _iso(clean["first_reception_date"])
        card_id = qc.insert_card(tx.session, cols)
        if register_id is not None:
            qr.set_customer_if_unlinked(tx.session, register_id, customer_id)
            _tie_register_values(tx, register_id, customer_id)
        if cust.owner_id is None or moved_from is not None:
            qc.make_owner(tx.session, customer_id, owner_id, now, actor.staff_id)
            tx.audit("customer.update", entity="customer", entity_id=customer_id, customer_id=customer_id,
                     details={"number": cust.number, "changes": {"owner": [names.get(cust.owner_id),
                                                                              names.get(owner_id)]},
                              "by": "followup.card"})
        qc.touch_customer(tx.session, customer_id, now)
        tx.audit("followup.card_create", entity="followup_card", entity_id=card_id, customer_id=customer_id,
                 details={"number": number, "customer": cust.number, "owner": names.get(owner_id),
                          "intent_level": clean["intent_level"], "source": clean["source"],
                          "next_visit_due": _iso(due)},
                 personal=[PersonalChange(k, None, str(_plain(clean[k]))) for k in _CARD_TEXT if clean.get(k)])
    return CardRef(card_id, number)


def update_card(svc: Services, actor: Actor, card_id: int, raw: Mapping[str, str], *, expected_version: int) -> int:
    """Change the fields present in ``raw`` of an open card (owner or supervisor). A new intent
    level reschedules the next visit from the last visit (or the card date). Returns the new version."""
    svc.require(actor, "followup.edit")
    now = svc.now()
    with svc.store.read() as s:
        card = _card(s, card_id)
    _require_own(svc, actor, card, "update")
    clean, errors = fd.validate_card(raw, now.date(), customer_policy().sources, partial=True)
    if errors:
        raise ValidationErrors(errors)
    with svc.write(actor) as tx:
        card = _card(tx, card_id)
        if card.version != expected_version:
            who = _names(tx, [card.updated_by_id]).get(card.updated_by_id, "system")
            raise Conflict("This card was changed by {name} at {time}; reload it and make your change again.",
                           name=who, time=str(card.updated_at)[:16])
        if card.status != "open":
            raise Conflict("Only open cards can be changed.")
        sets: dict[str, Any] = {}
        changes: dict[str, list[Any]] = {}
        personal: list[PersonalChange] = []
        shown = cs.text_policy(tx, actor, card.customer_id)
        for k, new in clean.items():
            old = getattr(card, k, None)
            if _plain(_d(old) if k == "first_reception_date" else old) == _plain(new):
                continue
            if k in _CARD_TEXT and old and new == shown(old):
                continue  # the text as the form showed it (masked, domain.masking): the stored one stays
            sets[k] = _plain(new)
            if k in _CARD_TEXT:
                personal.append(PersonalChange(k, old, _plain(new)))
            else:
                changes[k] = [_plain(old), _plain(new)]
        if not sets:
            return int(card.version)
        if "intent_level" in sets:
            base = _d(card.last_visit_at) or _d(card.card_date)
            assert base is not None
            due = fd.next_visit_due(calendar(svc), base, fd.load_policy().levels[sets["intent_level"]])
            sets["next_visit_due"] = _iso(due)
            sets["next_due_reason"] = None
            changes["next_visit_due"] = [_plain(_d(card.next_visit_due)), _iso(due)]
        sets.update(updated_at=now, updated_by_id=actor.staff_id)
        qc.update_card(tx.session, card_id, sets)
        tx.audit("followup.card_update", entity="followup_card", entity_id=card_id, customer_id=card.customer_id,
                 details={"number": card.number, "changes": changes}, personal=personal)
        return int(card.version) + 1


def log_visit(svc: Services, actor: Actor, card_id: int, raw: Mapping[str, str]) -> VisitResult:
    """Record a visit (访问记录, R-FU-2, R-FU-6) on an open card: time (default now), method,
    participants, content, customer feedback, main objections/demands, next action and the new
    intent level. The next visit is due ``revisit_workdays`` working days after the visit's day at
    the new level (R-FU-3), or on ``next_due`` typed by hand with ``override_reason``. Level O
    closes the card as won, F as lost (with ``lost_reason``). Needs followup.edit and the card
    (owner or supervisor)."""
    svc.require(actor, "followup.edit")
    now = svc.now()
    with svc.store.read() as s:
        card = _card(s, card_id)
    _require_own(svc, actor, card, "visit")
    visit, errors = fd.validate_visit(raw, now)
    if errors:
        raise ValidationErrors(errors)
    assert visit is not None
    with svc.write(actor) as tx:
        card = _card(tx, card_id)
        from crm_tui.services import customer_rules

        customer_rules.require_business_open(tx, card.customer_id, N_("visit"))  # R-CUST-3
        if card.status != "open":
            raise Conflict("Visits are recorded only on open cards; this one is {status}.",
                           status=_(fd.CARD_STATUSES[card.status]))
        card_day = _d(card.card_date)
        if card_day is not None and visit.at.date() < card_day:
            raise ValidationErrors([ValidationError(
                "at", "A visit cannot be earlier than the card date ({day})", day=card_day.isoformat())])
        level = fd.load_policy().levels[visit.level]
        due = visit.next_due_override or fd.next_visit_due(calendar(svc), visit.at, level)
        # R-FU-3: the cadence restarts at the newest visit. A visit entered late, dated before the
        # newest one, goes into the record but does not set the card's level, due date or result.
        latest = _dt(card.last_visit_at)
        if latest is not None and visit.at < latest:
            if level.ends:
                raise ValidationErrors([ValidationError(
                    "level", "A newer visit ({at}) is on this card: record the result with a visit dated after it",
                    at=f"{latest:%Y-%m-%d %H:%M}")])
            return _log_earlier_visit(tx, card, visit, due, now)
        status = level.ends or "open"
        visit_id = qc.insert_visit(
            tx.session, card_id=card_id, at=visit.at, method=visit.method, participants=visit.participants,
            content=visit.content, feedback=visit.feedback, objections=visit.objections,
            next_action=visit.next_action, level_before=card.intent_level, level_after=visit.level,
            next_due=_iso(due), next_due_reason=visit.override_reason, staff_id=actor.staff_id, now=now)
        last = max(filter(None, [_dt(card.last_visit_at), visit.at]))
        qc.apply_visit(tx.session, card_id, level=visit.level, due=_iso(due), reason=visit.override_reason,
                       plan=visit.next_action, last=last, status=status,
                       status_reason=visit.lost_reason if status == "lost" else None,
                       closed=now if status != "open" else None, now=now, by=actor.staff_id)
        qc.touch_customer(tx.session, card.customer_id, now)
        personal = [PersonalChange(k, None, getattr(visit, k)) for k in
                    ("participants", "content", "feedback", "objections", "next_action", "lost_reason")
                    if getattr(visit, k)]
        tx.audit("followup.visit", entity="followup_visit", entity_id=visit_id, customer_id=card.customer_id,
                 details={"number": card.number, "method": visit.method,
                          "changes": {"intent_level": [card.intent_level, visit.level],
                                      "next_visit_due": [_plain(_d(card.next_visit_due)), _iso(due)],
                                      **({"status": ["open", status]} if status != "open" else {})},
                          **({"override_reason": visit.override_reason} if visit.override_reason else {})},
                 personal=personal)
    return VisitResult(visit_id, due, status)


def _log_earlier_visit(tx: Tx, card: qc.CardRecord, visit: fd.CleanVisit, due: date | None,
                       now: datetime) -> VisitResult:
    """A visit dated before the card's newest one (entered late): recorded, audited and on the
    timeline, while the card keeps the level, due date and plan that its newest visit set."""
    visit_id = qc.insert_visit(
        tx.session, card_id=card.id, at=visit.at, method=visit.method, participants=visit.participants,
        content=visit.content, feedback=visit.feedback, objections=visit.objections, next_action=visit.next_action,
        level_before=visit.level, level_after=visit.level, next_due=_iso(due), next_due_reason=visit.override_reason,
        staff_id=tx.actor.staff_id, now=now)
    qc.count_visit(tx.session, card.id, now, tx.actor.staff_id)
    personal = [PersonalChange(k, None, getattr(visit, k)) for k in
                ("participants", "content", "feedback", "objections", "next_action") if getattr(visit, k)]
    tx.audit("followup.visit", entity="followup_visit", entity_id=visit_id, customer_id=card.customer_id,
             details={"number": card.number, "method": visit.method, "earlier_than_newest": True},
             personal=personal)
    next_due = _d(card.next_visit_due)
    return VisitResult(visit_id, next_due, str(card.status))


def close_card(svc: Services, actor: Actor, card_id: int, status: str, reason: str = "") -> None:
    """End a card: ``won`` (成交), ``lost`` (战败, reason required) or ``void`` (reason required).
    Ends the cadence. Owner or supervisor."""
    svc.require(actor, "followup.edit")
    if status not in ("won", "lost", "void"):
        raise ValidationError("status", "Choose won, lost or void")
    clean_reason = clean_text(reason, "reason", max_len=500, multiline=True, required=status != "won")
    with svc.store.read() as s:
        card = _card(s, card_id)
    _require_own(svc, actor, card, status)
    with svc.write(actor) as tx:
        card = _card(tx, card_id)
        fd.check_transition(card.status, status, may_supervise=actor.can("followup.supervise"))
        qc.close_card(tx.session, card_id, status, clean_reason, tx.now, actor.staff_id)
        tx.audit("followup.card_close", entity="followup_card", entity_id=card_id, customer_id=card.customer_id,
                 details={"number": card.number, "changes": {"status": [card.status, status]}},
                 personal=[PersonalChange("status_reason", None, clean_reason)] if clean_reason else [])


def reopen_card(svc: Services, actor: Actor, card_id: int, reason: str, level: str = "N") -> date | None:
    """A lost customer came back: the card is open again at ``level`` (supervisors only)."""
    svc.require(actor, "followup.supervise", card=card_id)
    clean_reason = clean_text(reason, "reason", max_len=500, required=True)
    lvl = fd.load_policy().levels.get(level.upper())
    if lvl is None or lvl.ends:
        raise ValidationError("level", "Choose a level that keeps the card open")
    with svc.write(actor) as tx:
        card = _card(tx, card_id)
        fd.check_transition(card.status, "open", may_supervise=True)
        due = fd.next_visit_due(calendar(svc), tx.now, lvl)
        qc.reopen_card(tx.session, card_id, lvl.code, _iso(due), tx.now, actor.staff_id)
        tx.audit("followup.card_reopen", entity="followup_card", entity_id=card_id, customer_id=card.customer_id,
                 details={"number": card.number, "reason": clean_reason,
                          "changes": {"status": [card.status, "open"], "intent_level": [card.intent_level,
                                                                                          lvl.code]}})
    return due


def sign_review(svc: Services, actor: Actor, card_id: int, comment: str) -> None:
    """主管审核签字: a supervisor signs the card with a comment. Not one's own card; once only."""
    svc.require(actor, "followup.supervise", card=card_id)
    clean_comment = clean_text(comment, "comment", max_len=500, multiline=True, required=True)
    with svc.write(actor) as tx:
        card = _card(tx, card_id)
        if card.reviewed_at is not None:
            raise Conflict("This card was already signed on {date}.", date=str(card.reviewed_at)[:10])
        if card.owner_id == actor.staff_id:
            raise Conflict("A supervisor cannot sign their own card; ask another supervisor.")
        qc.sign_card(tx.session, card_id, clean_comment, tx.now, actor.staff_id)
        tx.audit("followup.review", entity="followup_card", entity_id=card_id, customer_id=card.customer_id,
                 details={"number": card.number, "comment": clean_comment})


def get_card(svc: Services, actor: Actor, card_id: int) -> CardView:
    svc.require(actor, "followup.view")
    today = svc.now().date()
    with svc.store.read() as s:
        card = _card(s, card_id)
        if not _may_see_all(actor) and card.owner_id != actor.staff_id and card.created_by_id != actor.staff_id \
                and card.owner_id not in _covered(svc, actor):
            raise PermissionDenied("Card {number} is followed up by {owner}; only they or a supervisor can see it.",
                                   number=card.number, owner=_names(s, [card.owner_id]).get(card.owner_id, ""))
        cust = qc.customer_number_name(s, card.customer_id)
        visits = qc.card_visits(s, card_id)
        names = _names(s, [card.owner_id, card.reviewed_by_id, card.created_by_id, *(v[12] for v in visits)])
        shown = cs.text_policy(s, actor, card.customer_id)  # free text under the masking policy (R-SEC-2)
    visits = [(*v[:3], *(shown(x) for x in v[3:8]), *v[8:]) for v in visits]
    due = _d(card.next_visit_due)
    review_due = _d(card.review_due)
    assert review_due is not None
    values = {k: shown(getattr(card, k)) if k in _CARD_TEXT else getattr(card, k) for k in (*_CARD_TEXT, *_CARD_CODES)}
    values["first_reception_date"] = _d(card.first_reception_date)
    values["card_date"] = _d(card.card_date)
    return CardView(
        id=card.id, number=card.number, version=int(card.version), customer_id=card.customer_id,
        customer_number=cust[0] if cust else "", customer=(cust[1] or _("(erased)")) if cust else "",
        owner_id=card.owner_id, owner=names.get(card.owner_id, ""), values=values, status=card.status,
        status_reason=shown(card.status_reason or ""), next_due=due, next_due_reason=card.next_due_reason or "",
        review_due=review_due, reviewed_at=_dt(card.reviewed_at), reviewed_by=names.get(card.reviewed_by_id, ""),
        review_comment=shown(card.review_comment or ""),
        visits=tuple(VisitView(v[0], _dt(v[1]), v[2], v[3] or "", v[4] or _("(erased)"), v[5] or "", v[6] or "",  # type: ignore[arg-type]
                               v[7] or "", v[8], v[9], _d(v[10]), v[11] or "", names.get(v[12], ""))
                     for v in visits),
        created_at=_dt(card.created_at), created_by=names.get(card.created_by_id, ""),  # type: ignore[arg-type]
        overdue=card.status == "open" and due is not None and due < today,
        review_late=card.reviewed_at is None and card.status != "void" and review_due < today,
    )

