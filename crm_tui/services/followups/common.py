"""The follow-up area's shared pieces: permission labels, queues, result types and helpers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from crm_tui.domain import followups as fd
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from crm_tui.i18n import N_
from crm_tui.services import holidays
from crm_tui.services.context import PERMISSION_LABELS, Actor, Services, Tx
from crm_tui.store.queries.followups import cards as qc
from crm_tui.store.queries.followups import register as qr

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
    return qc.staff_names(_sess(s), ids)


def _resolve_staff(s: Session | Tx, token: str, field: str) -> int:
    token = token.strip()
    if token.isdigit():
        r = qc.staff_by_id(_sess(s), int(token))
    else:
        r = qc.staff_by_username(_sess(s), token)
    if r is None:
        raise ValidationError(field, "Unknown staff member '{name}'", name=token)
    if not r.active:
        raise ValidationError(field, "{name}'s account is disabled; choose an active colleague", name=r.display_name)
    return int(r.id)


def _customer(s: Session | Tx, customer_id: int) -> qc.CustomerHead:
    r = qc.customer_head(_sess(s), customer_id)
    if r is None or r.erased_at is not None:
        raise NotFound("No customer archive #{id}.", id=customer_id)
    return r


def _card(s: Session | Tx, card_id: int) -> qc.CardRecord:
    r = qc.card(_sess(s), card_id)
    if r is None:
        raise NotFound("No follow-up card #{id}.", id=card_id)
    return r


def _may_see_all(actor: Actor) -> bool:
    return actor.can("followup.supervise")


def _covered(svc: Services, actor: Actor) -> tuple[int, ...]:
    from crm_tui.services import staff

    return staff.covering_ids(svc, actor)


def _require_own(svc: Services, actor: Actor, card: qc.CardRecord, what: str) -> None:
    """Work on a card: its consultant, or a supervisor (refusals audited)."""
    if card.owner_id == actor.staff_id or actor.can("followup.supervise"):
        return
    from crm_tui.services import staff

    if card.owner_id is not None and card.owner_id in staff.covering_ids(svc, actor):
        # A/B post (R-SEC-7): the backup works the absent colleague's card while the cover runs
        staff.note_cover_work(svc, actor, card.owner_id, entity="followup_card", entity_id=card.id, what=what)
        return
    with svc.write(actor) as tx:
        tx.audit("permission.denied", entity="followup_card", entity_id=card.id,
                 details={"permission": "followup.owner", "action": what})
    owner = ""
    with svc.store.read() as s:
        owner = _names(s, [card.owner_id]).get(card.owner_id, "")
    raise PermissionDenied("Card {number} is followed up by {owner}; only they or a supervisor can change it.",
                           number=card.number, owner=owner)


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


def _entry(s: Session | Tx, entry_id: int) -> qr.RegisterEntry:
    r = qr.entry(_sess(s), entry_id)
    if r is None:
        raise NotFound("No register line #{id}.", id=entry_id)
    return r


def _tie_register_values(tx: Tx, entry_id: int, customer_id: int) -> None:
    """Personal values audited with a line typed before it had an archive now belong to that
    customer, so erasing the customer erases them too (R-CUST-13). Not part of the hash chain."""
    qr.tie_audit_values(tx.session, entry_id, customer_id)
