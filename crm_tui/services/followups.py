"""Follow-up cards (A卡), visits, queues, supervisor review, ownership and the front-desk register
(issue 6, R-FU-1..6).

Every function takes ``(svc, actor, ...)``, checks the permission first (a refusal raises
``PermissionDenied`` and leaves a ``permission.denied`` audit row, nothing else), validates, and
writes the change with its audit entry in ONE transaction: a failed call writes nothing.

Who may do what (data/roles.toml):
    followup.view       see cards; without followup.supervise only one's own cards and queues
    followup.edit       open cards; edit, visit and close one's OWN cards; claim a customer
    followup.supervise  everything above on anyone's card; sign cards (主管审核签字); reopen lost
                        cards; decide ownership claims; per-consultant queues; the weekly review
    register.use        write register lines, mark departures, open the archive/card from a line
    register.supervise  see lines with no information source or no archive

Ownership (信息归属, R-CUST-10): a card's consultant is the customer's responsible staff member.
A card for a customer owned by someone else is refused with ``OwnershipConflict`` naming the
owner; the consultant files a claim and a supervisor decides (granting moves the customer and
their open cards).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.domain import followups as fd
from crm_tui.domain import masking
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.customers import load_policy as customer_policy
from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services import holidays
from crm_tui.services.context import PERMISSION_LABELS, Actor, Services, Tx
from crm_tui.services.customers import TimelineEntry, register_erase_hook, register_timeline_source, timeline_key
from crm_tui.services.files import private_file
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store.audit import PersonalChange

if TYPE_CHECKING:
    from crm_tui.services.reports import CardReview

PERMISSION_LABELS.update({
    "followup.view": N_("see follow-up cards"),
    "followup.edit": N_("work on follow-up cards"),
    "followup.supervise": N_("supervise follow-up cards"),
    "register.use": N_("use the front-desk register"),
    "register.supervise": N_("check the front-desk register"),
})

QUEUES = {
    "today": N_("Due today"),
    "overdue": N_("Overdue visits"),
    "week": N_("Due this week"),
    "open": N_("All open cards"),
    "review": N_("Waiting for review"),
    "closed": N_("Won, lost and void"),
}

_CARD_TEXT = ("first_reception_summary", "product", "configuration", "budget", "intended_use", "alternatives",
              "favourable", "unfavourable", "resources_needed", "next_visit_plan")
_CARD_CODES = ("intent_level", "source", "purchase_method", "first_reception_date")


# ------------------------------------------------------------------------------------------------
# Errors and result types
# ------------------------------------------------------------------------------------------------


class OwnershipConflict(Conflict):
    """The customer belongs to another consultant; a supervisor decides (信息归属)."""

    def __init__(self, *, customer_id: int, owner_id: int, owner: str) -> None:
        super().__init__(N_("This customer is already looked after by {owner}. Ask a supervisor to decide "
                            "who follows them up (file a claim), or open the card for {owner}."), owner=owner)
        self.customer_id = customer_id
        self.owner_id = owner_id
        self.owner = owner


@dataclass(frozen=True)
class CardRef:
    id: int
    number: str


@dataclass(frozen=True)
class CardRow:
    id: int
    number: str
    customer_id: int
    customer: str
    owner_id: int
    owner: str
    level: str
    product: str
    next_due: date | None
    status: str
    reviewed: bool
    review_due: date
    last_visit_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class VisitView:
    id: int
    at: datetime
    method: str
    participants: str
    content: str
    feedback: str
    objections: str
    next_action: str
    level_before: str
    level_after: str
    next_due: date | None
    next_due_reason: str
    staff: str


@dataclass(frozen=True)
class CardView:
    id: int
    number: str
    version: int
    customer_id: int
    customer_number: str
    customer: str
    owner_id: int
    owner: str
    values: dict[str, Any]
    status: str
    status_reason: str
    next_due: date | None
    next_due_reason: str
    review_due: date
    reviewed_at: datetime | None
    reviewed_by: str
    review_comment: str
    visits: tuple[VisitView, ...]
    created_at: datetime
    created_by: str
    overdue: bool
    review_late: bool

    def form_values(self) -> dict[str, str]:
        return {k: "" if v is None else (v.isoformat() if isinstance(v, date) else str(v))
                for k, v in self.values.items()}


@dataclass(frozen=True)
class CardPage:
    rows: list[CardRow]
    next_cursor: str | None


@dataclass(frozen=True)
class VisitResult:
    visit_id: int
    next_due: date | None
    status: str


@dataclass(frozen=True)
class RegisterRow:
    id: int
    arrived_at: datetime
    departed_at: datetime | None
    name: str
    phone: str
    companions: str
    product: str
    source: str | None
    summary: str
    consultant_id: int | None
    consultant: str
    kind: str
    trial: bool
    customer_id: int | None
    customer_number: str
    card_id: int | None


@dataclass(frozen=True)
class RegisterLineView:
    """One register line as ``register_line`` shows it (domain.masking): ``row`` with its phone
    whole only where ``whole`` says so; ``archive_phone`` is the linked archive's primary phone under
    the same policy; ``may_reveal``: the viewer may ask for the masked phone with a reason."""

    row: RegisterRow
    whole: bool
    archive_phone: str
    may_reveal: bool


@dataclass(frozen=True)
class RegisterPage:
    rows: list[RegisterRow]
    next_cursor: str | None


@dataclass(frozen=True)
class ClaimRow:
    id: int
    customer_id: int
    customer: str
    claimant: str
    owner: str
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class ReviewRow:
    staff: str
    by_level: dict[str, int]
    open_cards: int
    new_cards: int
    visits: int
    overdue: int

    @property
    def overdue_rate(self) -> float:
        return self.overdue / self.open_cards if self.open_cards else 0.0


@dataclass(frozen=True)
class SourceRow:
    source: str
    cards: int
    won: int
    lost: int

    @property
    def conversion(self) -> float:
        return self.won / self.cards if self.cards else 0.0


@dataclass(frozen=True)
class WeeklyReview:
    week_start: date
    week_end: date
    staff: list[ReviewRow]
    sources: list[SourceRow]
    levels: list[str]
    cards: CardReview | None = None  # new against existing cards of the week (R-FU-5)


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def policy() -> fd.FollowupPolicy:
    return fd.load_policy()


def calendar(svc: Services) -> WorkCalendar:
    return holidays.work_calendar(svc)


def _sess(s: Session | Tx) -> Session:
    return s.session if isinstance(s, Tx) else s


def _dt(v: Any) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))


def _d(v: Any) -> date | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def _names(s: Session | Tx, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({int(i) for i in ids if i is not None})
    if not wanted:
        return {}
    rows = _sess(s).execute(text(f"SELECT id, display_name FROM staff WHERE id IN ({','.join(map(str, wanted))})"))
    return {r[0]: r[1] for r in rows}


def _resolve_staff(s: Session | Tx, token: str, field: str) -> int:
    token = token.strip()
    if token.isdigit():
        r = _sess(s).execute(text("SELECT id, display_name, active FROM staff WHERE id = :i"), {"i": int(token)}).first()
    else:
        r = _sess(s).execute(text("SELECT id, display_name, active FROM staff WHERE username = :u"),
                             {"u": token}).first()
    if r is None:
        raise ValidationError(field, "Unknown staff member '{name}'", name=token)
    if not r[2]:
        raise ValidationError(field, "{name}'s account is disabled; choose an active colleague", name=r[1])
    return int(r[0])


def _customer(s: Session | Tx, customer_id: int) -> dict[str, Any]:
    r = _sess(s).execute(text("SELECT id, number, name, owner_id, erased_at FROM customer WHERE id = :i"),
                         {"i": customer_id}).mappings().first()
    if r is None or r["erased_at"] is not None:
        raise NotFound("No customer archive #{id}.", id=customer_id)
    return dict(r)


_CARD_COLS = ("id", "number", "customer_id", "owner_id", "register_id", "card_date", "first_reception_date",
              "first_reception_summary", "intent_level", "product", "configuration", "budget", "purchase_method",
              "intended_use", "alternatives", "source", "favourable", "unfavourable", "resources_needed",
              "next_visit_plan", "next_visit_due", "next_due_reason", "status", "status_reason", "closed_at",
              "review_due", "reviewed_at", "reviewed_by_id", "review_comment", "last_visit_at", "visits", "version",
              "created_at", "created_by_id", "updated_at", "updated_by_id")


def _card(s: Session | Tx, card_id: int) -> dict[str, Any]:
    r = _sess(s).execute(text(f"SELECT {', '.join(_CARD_COLS)} FROM followup_card WHERE id = :i"),
                         {"i": card_id}).mappings().first()
    if r is None:
        raise NotFound("No follow-up card #{id}.", id=card_id)
    return dict(r)


def _may_see_all(actor: Actor) -> bool:
    return actor.can("followup.supervise")


def _covered(svc: Services, actor: Actor) -> tuple[int, ...]:
    from crm_tui.services import staff

    return staff.covering_ids(svc, actor)


def _require_own(svc: Services, actor: Actor, card: Mapping[str, Any], what: str) -> None:
    """Work on a card: its consultant, or a supervisor (refusals audited)."""
    if card["owner_id"] == actor.staff_id or actor.can("followup.supervise"):
        return
    from crm_tui.services import staff

    if card["owner_id"] is not None and card["owner_id"] in staff.covering_ids(svc, actor):
        # A/B post (R-SEC-7): the backup works the absent colleague's card while the cover runs
        staff.note_cover_work(svc, actor, card["owner_id"], entity="followup_card", entity_id=card["id"], what=what)
        return
    with svc.write(actor) as tx:
        tx.audit("permission.denied", entity="followup_card", entity_id=card["id"],
                 details={"permission": "followup.owner", "action": what})
    owner = ""
    with svc.store.read() as s:
        owner = _names(s, [card["owner_id"]]).get(card["owner_id"], "")
    raise PermissionDenied("Card {number} is followed up by {owner}; only they or a supervisor can change it.",
                           number=card["number"], owner=owner)


def _plain(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, date):
        return v.isoformat()
    return v


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _check_level_closing(level: str) -> str | None:
    return fd.load_policy().levels[level].ends


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
            owner_id = cust["owner_id"] or actor.staff_id
        if owner_id is None:
            errors.append(ValidationError("owner", "Choose the consultant who follows this customer up"))
        if errors:
            raise ValidationErrors(errors)
        assert owner_id is not None
        names = _names(tx, [owner_id, cust["owner_id"]])
        moved_from: int | None = None
        if cust["owner_id"] is not None and cust["owner_id"] != owner_id:
            active = tx.execute("SELECT active FROM staff WHERE id = :i", {"i": cust["owner_id"]}).scalar()
            if active and not (take_over and actor.can("followup.supervise")):
                raise OwnershipConflict(customer_id=customer_id, owner_id=int(cust["owner_id"]),
                                        owner=names.get(cust["owner_id"], ""))
            moved_from = cust["owner_id"]
        level = fd.load_policy().levels[clean["intent_level"]]
        due = fd.next_visit_due(calendar(svc), today, level)
        review = fd.review_due(calendar(svc), today, fd.load_policy())
        seq = tx.execute("INSERT INTO followup_card_seq (year, last) VALUES (:y, 1) ON CONFLICT(year)"
                         " DO UPDATE SET last = last + 1 RETURNING last", {"y": now.year}).scalar_one()
        number = fd.card_number(now.year, int(seq))
        cols: dict[str, Any] = {k: clean.get(k) for k in (*_CARD_TEXT, *_CARD_CODES)}
        cols.update(number=number, customer_id=customer_id, owner_id=owner_id, register_id=register_id,
                    card_date=today.isoformat(), next_visit_due=_iso(due), status="open", review_due=review.isoformat(),
                    visits=0, version=1, created_at=now, created_by_id=actor.staff_id, updated_at=now,
                    updated_by_id=actor.staff_id)
        cols["first_reception_date"] = _iso(clean["first_reception_date"])
        keys = list(cols)
        card_id = int(tx.execute(f"INSERT INTO followup_card ({', '.join(keys)}) VALUES "
                                 f"({', '.join(':' + k for k in keys)}) RETURNING id", cols).scalar_one())
        if register_id is not None:
            tx.execute("UPDATE register_entry SET customer_id = :c WHERE id = :r AND customer_id IS NULL",
                       {"c": customer_id, "r": register_id})
            _tie_register_values(tx, register_id, customer_id)
        if cust["owner_id"] is None or moved_from is not None:
            tx.execute("UPDATE customer SET owner_id = :o, version = version + 1, updated_at = :now,"
                       " updated_by_id = :by WHERE id = :c",
                       {"o": owner_id, "now": now, "by": actor.staff_id, "c": customer_id})
            tx.execute("DELETE FROM customer_staff WHERE customer_id = :c AND staff_id = :o",
                       {"c": customer_id, "o": owner_id})
            tx.audit("customer.update", entity="customer", entity_id=customer_id, customer_id=customer_id,
                     details={"number": cust["number"], "changes": {"owner": [names.get(cust["owner_id"]),
                                                                              names.get(owner_id)]},
                              "by": "followup.card"})
        tx.execute("UPDATE customer SET last_activity_at = max(last_activity_at, :now) WHERE id = :c",
                   {"now": now, "c": customer_id})
        tx.audit("followup.card_create", entity="followup_card", entity_id=card_id, customer_id=customer_id,
                 details={"number": number, "customer": cust["number"], "owner": names.get(owner_id),
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
        if card["version"] != expected_version:
            who = _names(tx, [card["updated_by_id"]]).get(card["updated_by_id"], "system")
            raise Conflict("This card was changed by {name} at {time}; reload it and make your change again.",
                           name=who, time=str(card["updated_at"])[:16])
        if card["status"] != "open":
            raise Conflict("Only open cards can be changed.")
        sets: dict[str, Any] = {}
        changes: dict[str, list[Any]] = {}
        personal: list[PersonalChange] = []
        shown = cs.text_policy(tx, actor, card["customer_id"])
        for k, new in clean.items():
            old = card.get(k)
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
            return int(card["version"])
        if "intent_level" in sets:
            base = _d(card["last_visit_at"]) or _d(card["card_date"])
            assert base is not None
            due = fd.next_visit_due(calendar(svc), base, fd.load_policy().levels[sets["intent_level"]])
            sets["next_visit_due"] = _iso(due)
            sets["next_due_reason"] = None
            changes["next_visit_due"] = [_plain(_d(card["next_visit_due"])), _iso(due)]
        sets.update(updated_at=now, updated_by_id=actor.staff_id)
        tx.execute(f"UPDATE followup_card SET {', '.join(f'{k} = :{k}' for k in sets)}, version = version + 1"
                   " WHERE id = :_id", {**sets, "_id": card_id})
        tx.audit("followup.card_update", entity="followup_card", entity_id=card_id, customer_id=card["customer_id"],
                 details={"number": card["number"], "changes": changes}, personal=personal)
        return int(card["version"]) + 1


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

        customer_rules.require_business_open(tx, card["customer_id"], N_("visit"))  # R-CUST-3
        if card["status"] != "open":
            raise Conflict("Visits are recorded only on open cards; this one is {status}.",
                           status=_(fd.CARD_STATUSES[card["status"]]))
        card_day = _d(card["card_date"])
        if card_day is not None and visit.at.date() < card_day:
            raise ValidationErrors([ValidationError(
                "at", "A visit cannot be earlier than the card date ({day})", day=card_day.isoformat())])
        level = fd.load_policy().levels[visit.level]
        due = visit.next_due_override or fd.next_visit_due(calendar(svc), visit.at, level)
        # R-FU-3: the cadence restarts at the newest visit. A visit entered late, dated before the
        # newest one, goes into the record but does not set the card's level, due date or result.
        latest = _dt(card["last_visit_at"])
        if latest is not None and visit.at < latest:
            if level.ends:
                raise ValidationErrors([ValidationError(
                    "level", "A newer visit ({at}) is on this card: record the result with a visit dated after it",
                    at=f"{latest:%Y-%m-%d %H:%M}")])
            return _log_earlier_visit(tx, card, visit, due, now)
        status = level.ends or "open"
        visit_id = int(tx.execute(
            "INSERT INTO followup_visit (card_id, at, method, participants, content, feedback, objections,"
            " next_action, level_before, level_after, next_due, next_due_reason, staff_id, created_at)"
            " VALUES (:c, :at, :m, :p, :ct, :f, :o, :n, :lb, :la, :due, :r, :st, :now) RETURNING id",
            {"c": card_id, "at": visit.at, "m": visit.method, "p": visit.participants, "ct": visit.content,
             "f": visit.feedback, "o": visit.objections, "n": visit.next_action, "lb": card["intent_level"],
             "la": visit.level, "due": _iso(due), "r": visit.override_reason, "st": actor.staff_id,
             "now": now}).scalar_one())
        last = max(filter(None, [_dt(card["last_visit_at"]), visit.at]))
        tx.execute("UPDATE followup_card SET intent_level = :l, next_visit_due = :due, next_due_reason = :r,"
                   " next_visit_plan = coalesce(:plan, next_visit_plan), last_visit_at = :last,"
                   " visits = visits + 1, status = :st, status_reason = :sr, closed_at = :closed,"
                   " version = version + 1, updated_at = :now, updated_by_id = :by WHERE id = :i",
                   {"l": visit.level, "due": _iso(due), "r": visit.override_reason, "plan": visit.next_action,
                    "last": last, "st": status, "sr": visit.lost_reason if status == "lost" else None,
                    "closed": now if status != "open" else None, "now": now, "by": actor.staff_id, "i": card_id})
        tx.execute("UPDATE customer SET last_activity_at = max(last_activity_at, :now) WHERE id = :c",
                   {"now": now, "c": card["customer_id"]})
        personal = [PersonalChange(k, None, getattr(visit, k)) for k in
                    ("participants", "content", "feedback", "objections", "next_action", "lost_reason")
                    if getattr(visit, k)]
        tx.audit("followup.visit", entity="followup_visit", entity_id=visit_id, customer_id=card["customer_id"],
                 details={"number": card["number"], "method": visit.method,
                          "changes": {"intent_level": [card["intent_level"], visit.level],
                                      "next_visit_due": [_plain(_d(card["next_visit_due"])), _iso(due)],
                                      **({"status": ["open", status]} if status != "open" else {})},
                          **({"override_reason": visit.override_reason} if visit.override_reason else {})},
                 personal=personal)
    return VisitResult(visit_id, due, status)


def _log_earlier_visit(tx: Tx, card: Mapping[str, Any], visit: fd.CleanVisit, due: date | None,
                       now: datetime) -> VisitResult:
    """A visit dated before the card's newest one (entered late): recorded, audited and on the
    timeline, while the card keeps the level, due date and plan that its newest visit set."""
    visit_id = int(tx.execute(
        "INSERT INTO followup_visit (card_id, at, method, participants, content, feedback, objections,"
        " next_action, level_before, level_after, next_due, next_due_reason, staff_id, created_at)"
        " VALUES (:c, :at, :m, :p, :ct, :f, :o, :n, :lb, :la, :due, :r, :st, :now) RETURNING id",
        {"c": card["id"], "at": visit.at, "m": visit.method, "p": visit.participants, "ct": visit.content,
         "f": visit.feedback, "o": visit.objections, "n": visit.next_action, "lb": visit.level,
         "la": visit.level, "due": _iso(due), "r": visit.override_reason, "st": tx.actor.staff_id,
         "now": now}).scalar_one())
    tx.execute("UPDATE followup_card SET visits = visits + 1, version = version + 1, updated_at = :now,"
               " updated_by_id = :by WHERE id = :i", {"now": now, "by": tx.actor.staff_id, "i": card["id"]})
    personal = [PersonalChange(k, None, getattr(visit, k)) for k in
                ("participants", "content", "feedback", "objections", "next_action") if getattr(visit, k)]
    tx.audit("followup.visit", entity="followup_visit", entity_id=visit_id, customer_id=card["customer_id"],
             details={"number": card["number"], "method": visit.method, "earlier_than_newest": True},
             personal=personal)
    next_due = _d(card["next_visit_due"])
    return VisitResult(visit_id, next_due, str(card["status"]))


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
        fd.check_transition(card["status"], status, may_supervise=actor.can("followup.supervise"))
        tx.execute("UPDATE followup_card SET status = :s, status_reason = :r, closed_at = :now, next_visit_due = NULL,"
                   " next_due_reason = NULL, version = version + 1, updated_at = :now, updated_by_id = :by WHERE id = :i",
                   {"s": status, "r": clean_reason, "now": tx.now, "by": actor.staff_id, "i": card_id})
        tx.audit("followup.card_close", entity="followup_card", entity_id=card_id, customer_id=card["customer_id"],
                 details={"number": card["number"], "changes": {"status": [card["status"], status]}},
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
        fd.check_transition(card["status"], "open", may_supervise=True)
        due = fd.next_visit_due(calendar(svc), tx.now, lvl)
        tx.execute("UPDATE followup_card SET status = 'open', status_reason = NULL, closed_at = NULL,"
                   " intent_level = :l, next_visit_due = :due, version = version + 1, updated_at = :now,"
                   " updated_by_id = :by WHERE id = :i",
                   {"l": lvl.code, "due": _iso(due), "now": tx.now, "by": actor.staff_id, "i": card_id})
        tx.audit("followup.card_reopen", entity="followup_card", entity_id=card_id, customer_id=card["customer_id"],
                 details={"number": card["number"], "reason": clean_reason,
                          "changes": {"status": [card["status"], "open"], "intent_level": [card["intent_level"],
                                                                                          lvl.code]}})
    return due


def sign_review(svc: Services, actor: Actor, card_id: int, comment: str) -> None:
    """主管审核签字: a supervisor signs the card with a comment. Not one's own card; once only."""
    svc.require(actor, "followup.supervise", card=card_id)
    clean_comment = clean_text(comment, "comment", max_len=500, multiline=True, required=True)
    with svc.write(actor) as tx:
        card = _card(tx, card_id)
        if card["reviewed_at"] is not None:
            raise Conflict("This card was already signed on {date}.", date=str(card["reviewed_at"])[:10])
        if card["owner_id"] == actor.staff_id:
            raise Conflict("A supervisor cannot sign their own card; ask another supervisor.")
        tx.execute("UPDATE followup_card SET reviewed_at = :now, reviewed_by_id = :by, review_comment = :c,"
                   " version = version + 1, updated_at = :now, updated_by_id = :by WHERE id = :i",
                   {"now": tx.now, "by": actor.staff_id, "c": clean_comment, "i": card_id})
        tx.audit("followup.review", entity="followup_card", entity_id=card_id, customer_id=card["customer_id"],
                 details={"number": card["number"], "comment": clean_comment})


def get_card(svc: Services, actor: Actor, card_id: int) -> CardView:
    svc.require(actor, "followup.view")
    today = svc.now().date()
    with svc.store.read() as s:
        card = _card(s, card_id)
        if not _may_see_all(actor) and card["owner_id"] != actor.staff_id and card["created_by_id"] != actor.staff_id \
                and card["owner_id"] not in _covered(svc, actor):
            raise PermissionDenied("Card {number} is followed up by {owner}; only they or a supervisor can see it.",
                                   number=card["number"], owner=_names(s, [card["owner_id"]]).get(card["owner_id"], ""))
        cust = s.execute(text("SELECT number, name FROM customer WHERE id = :c"), {"c": card["customer_id"]}).first()
        visits = s.execute(text(
            "SELECT id, at, method, participants, content, feedback, objections, next_action, level_before,"
            " level_after, next_due, next_due_reason, staff_id FROM followup_visit WHERE card_id = :c"
            " ORDER BY at DESC, id DESC"), {"c": card_id}).all()
        names = _names(s, [card["owner_id"], card["reviewed_by_id"], card["created_by_id"], *(v[12] for v in visits)])
        shown = cs.text_policy(s, actor, card["customer_id"])  # free text under the masking policy (R-SEC-2)
    visits = [(*v[:3], *(shown(x) for x in v[3:8]), *v[8:]) for v in visits]
    due = _d(card["next_visit_due"])
    review_due = _d(card["review_due"])
    assert review_due is not None
    values = {k: shown(card[k]) if k in _CARD_TEXT else card[k] for k in (*_CARD_TEXT, *_CARD_CODES)}
    values["first_reception_date"] = _d(card["first_reception_date"])
    values["card_date"] = _d(card["card_date"])
    return CardView(
        id=card["id"], number=card["number"], version=int(card["version"]), customer_id=card["customer_id"],
        customer_number=cust[0] if cust else "", customer=(cust[1] or _("(erased)")) if cust else "",
        owner_id=card["owner_id"], owner=names.get(card["owner_id"], ""), values=values, status=card["status"],
        status_reason=shown(card["status_reason"] or ""), next_due=due, next_due_reason=card["next_due_reason"] or "",
        review_due=review_due, reviewed_at=_dt(card["reviewed_at"]), reviewed_by=names.get(card["reviewed_by_id"], ""),
        review_comment=shown(card["review_comment"] or ""),
        visits=tuple(VisitView(v[0], _dt(v[1]), v[2], v[3] or "", v[4] or _("(erased)"), v[5] or "", v[6] or "",  # type: ignore[arg-type]
                               v[7] or "", v[8], v[9], _d(v[10]), v[11] or "", names.get(v[12], ""))
                     for v in visits),
        created_at=_dt(card["created_at"]), created_by=names.get(card["created_by_id"], ""),  # type: ignore[arg-type]
        overdue=card["status"] == "open" and due is not None and due < today,
        review_late=card["reviewed_at"] is None and card["status"] != "void" and review_due < today,
    )


# ------------------------------------------------------------------------------------------------
# Queues (R-FU-3) and the customer's cards
# ------------------------------------------------------------------------------------------------


def week_bounds(day: date) -> tuple[date, date]:
    start = day - timedelta(days=day.weekday())
    return start, start + timedelta(days=6)


def _encode(key: Any, ident: int) -> str:
    return f"{key}|{ident}"


def _decode(cursor: str | None) -> tuple[str, int] | None:
    if not cursor or "|" not in cursor:
        return None
    k, _sep, i = cursor.rpartition("|")
    try:
        return k, int(i)
    except ValueError:
        return None


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


# ------------------------------------------------------------------------------------------------
# Front-desk register (R-FU-4)
# ------------------------------------------------------------------------------------------------


def add_register(svc: Services, actor: Actor, raw: Mapping[str, str], *, consultant: str = "",
                 customer_id: int | None = None) -> int:
    """Write one register line: name, phone, companions, arrival (HH:MM, default now), departure,
    product, information source (required), summary, consultant (user name or id), ``kind``
    walk_in/call, trial yes/no; ``customer_id`` when the name matched an archive. Needs register.use."""
    svc.require(actor, "register.use")
    now = svc.now()
    entry, errors = fd.validate_register(raw, now, customer_policy().sources)
    with svc.write(actor) as tx:
        consultant_id: int | None = None
        if consultant.strip():
            try:
                consultant_id = _resolve_staff(tx, consultant, "consultant")
            except ValidationError as e:
                errors.append(e)
        if customer_id is not None:
            try:
                _customer(tx, customer_id)
            except NotFound as e:
                errors.append(ValidationError("name", e.msgid, **e.params))
        if errors:
            raise ValidationErrors(errors)
        assert entry is not None
        entry_id = int(tx.execute(
            "INSERT INTO register_entry (name, phone, companions, arrived_at, departed_at, product, source, summary,"
            " consultant_id, kind, trial, customer_id, created_at, created_by_id) VALUES (:n, :p, :c, :a, :d, :pr,"
            " :s, :su, :co, :k, :t, :cu, :now, :by) RETURNING id",
            {"n": entry.name, "p": entry.phone, "c": entry.companions, "a": entry.arrived_at, "d": entry.departed_at,
             "pr": entry.product, "s": entry.source, "su": entry.summary, "co": consultant_id, "k": entry.kind,
             "t": entry.trial, "cu": customer_id, "now": now, "by": actor.staff_id}).scalar_one())
        personal = [PersonalChange(k, None, v) for k, v in (("name", entry.name), ("phone", entry.phone),
                                                            ("companions", entry.companions),
                                                            ("summary", entry.summary)) if v]
        tx.audit("register.add", entity="register_entry", entity_id=entry_id, customer_id=customer_id,
                 details={"kind": entry.kind, "source": entry.source, "trial": entry.trial,
                          "consultant": consultant_id, "linked": customer_id is not None}, personal=personal)
    return entry_id


def _entry(s: Session | Tx, entry_id: int) -> dict[str, Any]:
    r = _sess(s).execute(text("SELECT * FROM register_entry WHERE id = :i"), {"i": entry_id}).mappings().first()
    if r is None:
        raise NotFound("No register line #{id}.", id=entry_id)
    return dict(r)


def _tie_register_values(tx: Tx, entry_id: int, customer_id: int) -> None:
    """Personal values audited with a line typed before it had an archive now belong to that
    customer, so erasing the customer erases them too (R-CUST-13). Not part of the hash chain."""
    tx.execute("UPDATE audit_value SET customer_id = :c WHERE customer_id IS NULL AND audit_id IN"
               " (SELECT id FROM audit_log WHERE entity = 'register_entry' AND entity_id = :e)",
               {"c": customer_id, "e": str(entry_id)})


def mark_departed(svc: Services, actor: Actor, entry_id: int) -> datetime:
    """One key at the front desk: the visitor left now."""
    svc.require(actor, "register.use")
    with svc.write(actor) as tx:
        e = _entry(tx, entry_id)
        if e["departed_at"] is not None:
            raise Conflict("The departure is already recorded ({time}).", time=str(e["departed_at"])[11:16])
        if e["kind"] == "call":
            raise Conflict("A phone call has no departure.")
        tx.execute("UPDATE register_entry SET departed_at = :now WHERE id = :i", {"now": tx.now, "i": entry_id})
        tx.audit("register.departed", entity="register_entry", entity_id=entry_id, customer_id=e["customer_id"])
        return tx.now


def link_register(svc: Services, actor: Actor, entry_id: int, customer_id: int) -> None:
    """Attach a register line to an existing archive."""
    svc.require(actor, "register.use")
    with svc.write(actor) as tx:
        e = _entry(tx, entry_id)
        cust = _customer(tx, customer_id)
        if e["customer_id"] == customer_id:
            return
        tx.execute("UPDATE register_entry SET customer_id = :c WHERE id = :i", {"c": customer_id, "i": entry_id})
        _tie_register_values(tx, entry_id, customer_id)
        tx.audit("register.link", entity="register_entry", entity_id=entry_id, customer_id=customer_id,
                 details={"customer": cust["number"], "changes": {"customer_id": [e["customer_id"], customer_id]}})


def card_from_register(svc: Services, actor: Actor, entry_id: int, *, level: str = "N") -> CardRef:
    """From a register line, one key: the archive (created from the line when it has none, owned
    by the line's consultant) and an open card prefilled from the line. A customer who already has
    an open card gets that card back instead of a second one. Needs register.use and
    followup.edit (and customer.create for a new archive); the line needs a source and a consultant."""
    svc.require(actor, "register.use")
    svc.require(actor, "followup.edit")
    from crm_tui.domain.customers import PhoneInput
    from crm_tui.services import customers as cs

    with svc.store.read() as s:
        e = _entry(s, entry_id)
        consultant = None
        if e["consultant_id"] is not None:
            consultant = s.execute(text("SELECT username FROM staff WHERE id = :i"), {"i": e["consultant_id"]}).scalar()
    missing = []
    if not e["source"]:
        missing.append(ValidationError("source", "Fill in the information source first"))
    if consultant is None:
        missing.append(ValidationError("consultant", "Choose the consultant who follows this customer up"))
    if missing:
        raise ValidationErrors(missing)
    customer_id = e["customer_id"]
    if customer_id is None:
        raw = {"name": e["name"], "source": e["source"]}
        if consultant:
            raw["owner"] = consultant
        phones = [PhoneInput(e["phone"], primary=True)] if e["phone"] else []
        ref = cs.create_customer(svc, actor, "person", raw, phones=phones)
        customer_id = ref.id
        link_register(svc, actor, entry_id, customer_id)
    else:
        with svc.store.read() as s:
            existing = s.execute(text("SELECT id, number FROM followup_card WHERE customer_id = :c AND status = 'open'"
                                      " ORDER BY id DESC LIMIT 1"), {"c": customer_id}).first()
        if existing:
            return CardRef(int(existing[0]), str(existing[1]))
    arrived = _dt(e["arrived_at"])
    assert arrived is not None
    raw_card = {"first_reception_date": arrived.date().isoformat(), "intent_level": level, "source": e["source"],
                "product": e["product"] or "", "first_reception_summary": e["summary"] or _("From the front-desk register line of {date}",
                                                             date=arrived.date().isoformat())}
    return create_card(svc, actor, customer_id, raw_card, owner=consultant or "", register_id=entry_id)


_REG_SQL = ("SELECT r.id, r.arrived_at, r.departed_at, r.name, r.phone, r.companions, r.product, r.source, r.summary,"
            " r.consultant_id, st.display_name, r.kind, r.trial, r.customer_id, c.number,"
            " (SELECT max(f.id) FROM followup_card f WHERE f.customer_id = r.customer_id) FROM register_entry r"
            " LEFT JOIN staff st ON st.id = r.consultant_id LEFT JOIN customer c ON c.id = r.customer_id")


def register_page(svc: Services, actor: Actor, *, day: date | None = None, problems: bool = False,
                  cursor: str | None = None, limit: int = 100) -> RegisterPage:
    """Register lines, newest first, keyset-paged: one day's (default today), or with
    ``problems=True`` (register.supervise) every line without an information source or archive.
    A list: phones masked for every role, free text scrubbed (domain.masking); one line's own view,
    under the policy and audited, is :func:`register_line`."""
    if problems:
        svc.require(actor, "register.supervise")
    else:
        _require_register(svc, actor)
    limit = max(1, min(limit, 500))
    where: list[str] = []
    params: dict[str, Any] = {}
    if problems:
        where.append("(r.source IS NULL OR r.customer_id IS NULL)")
    else:
        d = day or svc.now().date()
        where.append("r.arrived_at >= :a AND r.arrived_at < :b")
        params.update(a=d.isoformat(), b=(d + timedelta(days=1)).isoformat())
    after = _decode(cursor)
    if after is not None:
        where.append("r.id < :_i")
        params["_i"] = after[1]
    with svc.store.read() as s:
        rows = s.execute(text(_REG_SQL + " WHERE " + " AND ".join(where) + " ORDER BY r.id DESC LIMIT :_n"),
                         {**params, "_n": limit + 1}).all()
    more = len(rows) > limit
    rows = rows[:limit]
    out = [_register_row(r, masking.LISTING) for r in rows]  # a list: every phone masked, for every role
    return RegisterPage(out, _encode("", rows[-1][0]) if more and rows else None)


def _register_row(r: Any, vis: masking.Visibility) -> RegisterRow:
    """A register line under the masking policy: the phone whole only if ``vis`` says so, and the
    free text (companions, product, summary) scrubbed of the line's phone and anything shaped like
    an ID number, phone or account for a viewer who may not see them."""
    phone = r[4] or ""
    texts = masking.scrub(vis, [r[5] or "", r[6] or "", r[8] or ""], {masking.PHONES: [phone] if phone else []})
    return RegisterRow(id=r[0], arrived_at=_dt(r[1]), departed_at=_dt(r[2]), name=r[3],  # type: ignore[arg-type]
                       phone=masking.mask(masking.PHONES, phone) if vis.masked(masking.PHONES) else phone,
                       companions=texts[0], product=texts[1], source=r[7], summary=texts[2], consultant_id=r[9],
                       consultant=r[10] or "", kind=r[11], trial=bool(r[12]), customer_id=r[13],
                       customer_number=r[14] or "", card_id=r[15])


def _line_visibility(s: Session | Tx, actor: Actor, r: Any) -> masking.Visibility:
    """What ``actor`` sees whole of one register line (its archive's relation once linked)."""
    owner_id, contacts = None, []
    if r[13] is not None:
        owner_id = _sess(s).execute(text("SELECT owner_id FROM customer WHERE id = :c"), {"c": r[13]}).scalar()
        contacts = [int(x[0]) for x in _sess(s).execute(
            text("SELECT staff_id FROM customer_staff WHERE customer_id = :c"), {"c": r[13]})]
    rel = masking.line_relation((actor.staff_id, actor.on_behalf_of), consultant_id=r[9], linked=r[13] is not None,
                                owner_id=owner_id, contact_ids=contacts)
    return masking.visibility(actor.permissions, rel)


def _require_register(svc: Services, actor: Actor) -> None:
    if not (actor.can("register.use") or actor.can("register.supervise")):
        svc.require(actor, "register.use")


def register_line(svc: Services, actor: Actor, entry_id: int) -> RegisterLineView:
    """One register line for its own view (R-FU-4) under the masking policy: the phone (and the
    linked archive's phone) whole only for a role with customer.view_sensitive that owns or is in
    contact with the linked archive, or is the line's consultant while it has none; such a view
    writes one audit row (``customer.view_unmasked`` or, for a line without an archive,
    ``register.view_unmasked``). Needs register.use or register.supervise."""
    _require_register(svc, actor)
    with svc.store.read() as s:
        r = s.execute(text(_REG_SQL + " WHERE r.id = :i"), {"i": entry_id}).first()
        if r is None:
            raise NotFound("No register line #{id}.", id=entry_id)
        vis = _line_visibility(s, actor, r)
        archive_phone = ""
        if r[13] is not None:
            p = s.execute(text("SELECT national FROM customer_phone WHERE customer_id = :c"
                               " ORDER BY is_primary DESC, id LIMIT 1"), {"c": r[13]}).scalar()
            archive_phone = "" if not p else (masking.mask(masking.PHONES, p) if vis.masked(masking.PHONES) else p)
    row = _register_row(r, vis)
    whole = not vis.masked(masking.PHONES) and bool(r[4] or archive_phone)
    if whole:
        from crm_tui.services import customers as cs

        if r[13] is not None:
            cs.audit_unmasked(svc, actor, [masking.PHONES], "register line", customer_id=r[13], number=r[14])
        else:
            cs.audit_unmasked(svc, actor, [masking.PHONES], "register line", customer_id=None,
                              entity="register_entry", entity_id=entry_id, action="register.view_unmasked")
    return RegisterLineView(row, whole, archive_phone,
                            bool(r[4]) and vis.masked(masking.PHONES)
                            and masking.may_reveal(actor.permissions, masking.PHONES, vis.relation))


def reveal_register_phone(svc: Services, actor: Actor, entry_id: int, reason: str) -> str:
    """The whole phone of one register line, for that view only, with a reason; audited (who, the
    line and its archive, the reason; R-SEC-3). Needs customer.view_sensitive."""
    svc.require(actor, "customer.view_sensitive", field="phone")
    _require_register(svc, actor)
    clean_reason = clean_text(reason, "reason", max_len=200, required=True)
    with svc.write(actor) as tx:
        r = tx.execute(_REG_SQL + " WHERE r.id = :i", {"i": entry_id}).first()
        if r is None:
            raise NotFound("No register line #{id}.", id=entry_id)
        vis = _line_visibility(tx, actor, r)
        if not r[4] or not masking.may_reveal(actor.permissions, masking.PHONES, vis.relation):
            raise ValidationError("field", "Only the ID number, bank account and phones are masked")
        tx.audit("register.reveal", entity="register_entry", entity_id=entry_id, customer_id=r[13],
                 details={"number": r[14], "field": "phone", "reason": masking.GENERIC.text(clean_reason)})
        return str(r[4])


# ------------------------------------------------------------------------------------------------
# Weekly review (R-FU-5)
# ------------------------------------------------------------------------------------------------


def weekly_review(svc: Services, actor: Actor, week_of: date | None = None) -> WeeklyReview:
    """定期盘点: open cards by intent level and consultant, new cards and visits in the week, overdue
    count (as of the week's end or today), and conversion by information source (cards opened in
    the week, won / lost). Needs followup.supervise."""
    svc.require(actor, "followup.supervise")
    today = svc.now().date()
    start, end = week_bounds(week_of or today)
    asof = min(end, today)
    levels = [c for c, lvl in fd.load_policy().levels.items() if not lvl.ends]
    with svc.store.read() as s:
        staff_rows: dict[int, dict[str, Any]] = {}

        def row(sid: int, name: str) -> dict[str, Any]:
            return staff_rows.setdefault(sid, {"name": name, "levels": {}, "open": 0, "new": 0, "visits": 0,
                                               "overdue": 0})

        for sid, name, lvl, n, late in s.execute(text(
                "SELECT f.owner_id, st.display_name, f.intent_level, count(*),"
                " sum(CASE WHEN f.next_visit_due < :asof THEN 1 ELSE 0 END) FROM followup_card f"
                " JOIN staff st ON st.id = f.owner_id WHERE f.status = 'open' GROUP BY f.owner_id, f.intent_level"),
                {"asof": asof.isoformat()}):
            r = row(sid, name)
            r["levels"][lvl] = int(n)
            r["open"] += int(n)
            r["overdue"] += int(late or 0)
        for sid, name, n in s.execute(text(
                "SELECT f.owner_id, st.display_name, count(*) FROM followup_card f JOIN staff st ON st.id = f.owner_id"
                " WHERE f.card_date >= :a AND f.card_date <= :b GROUP BY f.owner_id"),
                {"a": start.isoformat(), "b": end.isoformat()}):
            row(sid, name)["new"] = int(n)
        for sid, name, n in s.execute(text(
                "SELECT v.staff_id, st.display_name, count(*) FROM followup_visit v JOIN staff st ON st.id = v.staff_id"
                " WHERE v.at >= :a AND v.at < :b GROUP BY v.staff_id"),
                {"a": start.isoformat(), "b": (end + timedelta(days=1)).isoformat()}):
            row(sid, name)["visits"] = int(n)
        # R-FU-5: under the week's heading, the cards opened in that week (not every card before it).
        src = s.execute(text("SELECT source, count(*), sum(status = 'won'), sum(status = 'lost') FROM followup_card"
                             " WHERE card_date >= :a AND card_date <= :b AND status != 'void'"
                             " GROUP BY source ORDER BY count(*) DESC"),
                        {"a": start.isoformat(), "b": end.isoformat()}).all()
        from crm_tui.domain.reports import Period
        from crm_tui.services.reports import card_review

        cards = card_review(s, Period.of("week", start))
    sources = customer_policy().sources
    return WeeklyReview(
        week_start=start, week_end=end, levels=levels, cards=cards,
        staff=[ReviewRow(r["name"], r["levels"], r["open"], r["new"], r["visits"], r["overdue"])
               for _sid, r in sorted(staff_rows.items())],
        sources=[SourceRow(sources[c].label if c in sources else (c or "—"), int(n), int(w or 0), int(lo or 0))
                 for c, n, w, lo in src])


def export_review(svc: Services, actor: Actor, path: str | Path, week_of: date | None = None) -> Path:
    """The weekly review as an XLSX workbook (two sheets). Audited."""
    review = weekly_review(svc, actor, week_of)
    from openpyxl import Workbook

    target = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = _("By consultant")[:31]
    ws.append([_("Week {start} to {end}", start=review.week_start.isoformat(), end=review.week_end.isoformat())])
    ws.append([_("Consultant"), *review.levels, _("Open cards"), _("New cards"), _("Visits"), _("Overdue"),
               _("Overdue rate")])
    for r in review.staff:
        ws.append([r.staff, *(r.by_level.get(lvl, 0) for lvl in review.levels), r.open_cards, r.new_cards, r.visits,
                   r.overdue, round(r.overdue_rate, 3)])
    ws2 = wb.create_sheet(_("By source")[:31])
    ws2.append([_("Information source"), _("Cards"), _("Won"), _("Lost"), _("Conversion")])
    for sr in review.sources:
        ws2.append([sr.source, sr.cards, sr.won, sr.lost, round(sr.conversion, 3)])
    with private_file(target) as fh:
        wb.save(fh)
    with svc.write(actor) as tx:
        tx.audit("followup.review_export", details={"week": review.week_start.isoformat(), "file": target.name})
    return target


# ------------------------------------------------------------------------------------------------
# Home counts and the customer's timeline
# ------------------------------------------------------------------------------------------------


@register_item
def _followup_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    items: list[WorkItem] = []
    today = svc.now().date()
    covered = s.execute(text("SELECT DISTINCT absent_id FROM ab_post WHERE backup_id = :me AND revoked_at IS NULL"
                             " AND start_date <= :d AND end_date >= :d"), {"me": actor.staff_id, "d": today}).all()
    mine = json.dumps([actor.staff_id, *(int(r[0]) for r in covered)])  # and, under cover, the colleague's (R-SEC-7)
    owns = actor.staff_id is not None and s.execute(text(
        "SELECT 1 FROM followup_card WHERE owner_id IN (SELECT value FROM json_each(:mine)) AND status = 'open'"
        " LIMIT 1"), {"mine": mine}).first()
    if actor.can("followup.view") and owns:
        me = {"mine": mine, "d": today.isoformat(), "sun": week_bounds(today)[1].isoformat()}

        def n(cond: str) -> int:
            return int(s.execute(text("SELECT count(*) FROM followup_card WHERE owner_id IN"
                                      " (SELECT value FROM json_each(:mine)) AND status = 'open'"
                                      f" AND {cond}"), me).scalar_one())

        late = n("next_visit_due < :d")
        items += [
            WorkItem("followup.overdue", N_("My overdue visits"), late, "open('followups')", bool(late)),
            WorkItem("followup.due_today", N_("My visits due today"), n("next_visit_due = :d"), "open('followups')"),
            WorkItem("followup.due_week", N_("My visits due this week"),
                     n("next_visit_due > :d AND next_visit_due <= :sun"), "open('followups')"),
        ]
    if actor.can("followup.supervise"):
        mine = {"d": today.isoformat(), "me": actor.staff_id}
        waiting = int(s.execute(text("SELECT count(*) FROM followup_card WHERE reviewed_at IS NULL AND status != 'void'"
                                     " AND owner_id IS NOT :me"), mine).scalar_one())
        late = int(s.execute(text("SELECT count(*) FROM followup_card WHERE reviewed_at IS NULL AND status != 'void'"
                                  " AND owner_id IS NOT :me AND review_due < :d"), mine).scalar_one())
        claims = int(s.execute(text("SELECT count(*) FROM ownership_claim WHERE decided_at IS NULL")).scalar_one())
        items += [
            WorkItem("followup.review", N_("Cards waiting for your signature"), waiting, "open('followups')"),
            WorkItem("followup.review_late", N_("Cards unsigned past the review deadline"), late, "open('followups')",
                     bool(late)),
            WorkItem("followup.claims", N_("Ownership claims to decide"), claims, "open('followups')", bool(claims)),
        ]
    if actor.can("register.supervise"):
        missing = int(s.execute(text("SELECT count(*) FROM register_entry WHERE source IS NULL OR customer_id IS NULL"
                                     )).scalar_one())
        items.append(WorkItem("register.problems", N_("Register lines without source or archive"), missing,
                              "open('followups')"))
    return items


@register_timeline_source("followup")
def _followup_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    out: list[TimelineEntry] = []
    cards = s.execute(text(
        "SELECT f.id, f.number, f.created_at, f.intent_level, f.product, f.status, f.status_reason, f.closed_at,"
        " f.reviewed_at, f.review_comment, o.display_name, c.display_name, r.display_name FROM followup_card f"
        " JOIN staff o ON o.id = f.owner_id LEFT JOIN staff c ON c.id = f.created_by_id"
        " LEFT JOIN staff r ON r.id = f.reviewed_by_id WHERE f.customer_id = :c ORDER BY f.id DESC LIMIT :n"),
        {"c": customer_id, "n": limit}).all()
    for (cid, number, created, level, product, status, reason, closed, reviewed, comment, owner, creator,
         reviewer) in cards:
        at = _dt(created)
        assert at is not None
        body = _("Intent level {level}; consultant {owner}", level=fd.level_label(level), owner=owner)
        if product:
            body += "\n" + _("Product of interest: {text}", text=product)
        out.append(TimelineEntry(at, "followup", _("Follow-up card {number} opened", number=number), body,
                                 creator or "", timeline_key(at, "followup", cid)))
        c_at = _dt(closed)
        if c_at is not None and status != "open":
            out.append(TimelineEntry(c_at, "followup", _("Follow-up card {number}: {status}", number=number,
                                                         status=_(fd.CARD_STATUSES[status])), reason or "", owner,
                                     timeline_key(c_at, "followup-close", cid)))
        r_at = _dt(reviewed)
        if r_at is not None:
            out.append(TimelineEntry(r_at, "followup", _("Follow-up card {number} signed by the supervisor",
                                                         number=number), comment or "", reviewer or "",
                                     timeline_key(r_at, "followup-review", cid)))
    params: dict[str, Any] = {"c": customer_id, "n": limit}
    where = ""
    if before is not None:
        where = " AND v.at <= :b"
        params["b"] = before
    visits = s.execute(text(
        "SELECT v.id, v.at, v.method, v.participants, v.content, v.feedback, v.objections, v.next_action,"
        " v.level_after, v.next_due, f.number, st.display_name FROM followup_visit v"
        " JOIN followup_card f ON f.id = v.card_id LEFT JOIN staff st ON st.id = v.staff_id"
        f" WHERE f.customer_id = :c{where} ORDER BY v.at DESC, v.id DESC LIMIT :n"), params).all()
    methods = fd.load_policy().visit_methods
    for vid, at_, method, participants, content, feedback, objections, next_action, level, due, number, staff in visits:
        at = _dt(at_)
        assert at is not None
        lines = [content or _("(summary erased)")]
        if participants:
            lines.append(_("Participants: {who}", who=participants))
        if feedback:
            lines.append(_("Customer feedback: {text}", text=feedback))
        if objections:
            lines.append(_("Main objections/demands: {text}", text=objections))
        if next_action:
            lines.append(_("Next action: {text}", text=next_action))
        lines.append(_("Intent level {level}; next visit {date}", level=fd.level_label(level),
                       date=str(due)[:10] if due else "—"))
        how = methods[method].label if method in methods else method
        out.append(TimelineEntry(at, "followup", _("Visit ({method}), card {number}", method=how, number=number),
                                 "\n".join(lines), staff or "", timeline_key(at, "followup-visit", vid)))
    regs = s.execute(text("SELECT r.id, r.arrived_at, r.kind, r.product, r.summary, st.display_name FROM register_entry r"
                          " LEFT JOIN staff st ON st.id = r.created_by_id WHERE r.customer_id = :c"
                          " ORDER BY r.id DESC LIMIT :n"), {"c": customer_id, "n": limit}).all()
    for rid, at_, kind, product, summary, staff in regs:
        at = _dt(at_)
        assert at is not None
        body = "\n".join(x for x in (product and _("Product of interest: {text}", text=product), summary) if x)
        out.append(TimelineEntry(at, "register", _(fd.REGISTER_KINDS.get(kind, kind)) + " · " + _("front-desk register"),
                                 body, staff or "", timeline_key(at, "register", rid)))
    return [e for e in out if before is None or e.at <= before]


# ------------------------------------------------------------------------------------------------
# Choices for forms
# ------------------------------------------------------------------------------------------------


def level_choices(*, open_only: bool = False) -> list[tuple[str, str]]:
    return [(c, lvl.label) for c, lvl in fd.load_policy().levels.items() if not (open_only and lvl.ends)]


def visit_method_choices() -> list[tuple[str, str]]:
    return [(c, o.label) for c, o in fd.load_policy().visit_methods.items()]


def purchase_method_choices() -> list[tuple[str, str]]:
    return [(c, o.label) for c, o in fd.load_policy().purchase_methods.items()]


def source_choices() -> list[tuple[str, str]]:
    return [(c, o.label) for c, o in customer_policy().sources.items()]


def source_label(code: str | None) -> str:
    opt = customer_policy().sources.get(code or "")
    return opt.label if opt else (code or "")


def method_label(code: str) -> str:
    opt = fd.load_policy().visit_methods.get(code)
    return opt.label if opt else code


def preview_next_due(svc: Services, level: str, day: date | None = None) -> date | None:
    """The next visit date a visit today (or on ``day``) at ``level`` would set (for the form)."""
    lvl = fd.load_policy().levels.get(level)
    if lvl is None:
        return None
    return fd.next_visit_due(calendar(svc), day or svc.now().date(), lvl)


@register_erase_hook("followups")
def _erase_followups(tx: Tx, customer_id: int) -> list[str]:
    """R-CUST-13: an erased customer's cards keep their numbers, levels, dates and outcomes (for
    statistics); every free text and the register's name, phone and companions are destroyed."""
    texts = ", ".join(f"{k} = NULL" for k in (*_CARD_TEXT, "status_reason", "review_comment", "next_due_reason"))
    tx.execute(f"UPDATE followup_card SET {texts} WHERE customer_id = :c", {"c": customer_id})
    tx.execute("UPDATE followup_visit SET participants = NULL, content = NULL, feedback = NULL, objections = NULL,"
               " next_action = NULL, next_due_reason = NULL WHERE card_id IN"
               " (SELECT id FROM followup_card WHERE customer_id = :c)", {"c": customer_id})
    tx.execute("UPDATE register_entry SET name = '', phone = NULL, companions = NULL, summary = NULL"
               " WHERE customer_id = :c", {"c": customer_id})
    tx.execute("UPDATE ownership_claim SET reason = NULL, decision_note = NULL WHERE customer_id = :c",
               {"c": customer_id})
    return ["followup_card", "followup_visit", "register_entry", "ownership_claim"]
