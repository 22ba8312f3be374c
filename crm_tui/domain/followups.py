"""Follow-up cards (A卡), visits and the front-desk register: pure rules (R-FU-1..6).

Card states (R-FU-1)::

    open --won--> won          (成交; also a visit at a level that ends "won", e.g. O)
    open --lost--> lost        (战败, a reason is required; also a visit at level F)
    open --void--> void        (作废: opened by mistake or a duplicate; a reason is required)
    lost --reopen--> open      (the customer came back; supervisors only)

Won and void are final. Only open cards take visits, edits and a next-visit date.

Cadence (R-FU-3): each visit (or the card's opening) schedules the next visit
``revisit_workdays`` working days after the day of the visit, counted by
:class:`~crm_tui.domain.calendar.WorkCalendar` (weekends, statutory holidays and make-up working
days). A date chosen by hand needs a reason. Levels that end the cadence have no next date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from crm_tui.domain import config
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.customers import Option, choose
from crm_tui.domain.errors import Conflict, ValidationError
from crm_tui.domain.validation import clean_text, parse_day, validate_budget
from crm_tui.i18n import N_

__all__ = [
    "CARD_STATUSES", "REGISTER_KINDS", "TRANSITIONS", "FollowupPolicy", "Level", "card_number",
    "check_transition", "load_policy", "next_visit_due", "review_due", "validate_card", "validate_register",
    "validate_visit",
]

CARD_STATUSES: dict[str, str] = {
    "open": N_("Following up"),
    "won": N_("Won"),
    "lost": N_("Lost"),
    "void": N_("Void"),
}
#: (from, to) -> needs followup.supervise
TRANSITIONS: dict[tuple[str, str], bool] = {
    ("open", "won"): False,
    ("open", "lost"): False,
    ("open", "void"): False,
    ("lost", "open"): True,
}
REGISTER_KINDS: dict[str, str] = {
    "walk_in": N_("Walk-in"),
    "call": N_("Phone call"),
}

#: Display labels of card fields (msgids).
CARD_FIELD_LABELS: dict[str, str] = {
    "customer": N_("Customer"),
    "owner": N_("Consultant"),
    "card_date": N_("Card date"),
    "first_reception_date": N_("First reception date"),
    "first_reception_summary": N_("First reception summary"),
    "intent_level": N_("Intent level"),
    "product": N_("Product of interest"),
    "configuration": N_("Configuration"),
    "budget": N_("Budget"),
    "purchase_method": N_("Purchase method"),
    "intended_use": N_("Intended use"),
    "alternatives": N_("Alternatives compared"),
    "source": N_("Information source"),
    "favourable": N_("Favourable conditions"),
    "unfavourable": N_("Unfavourable conditions"),
    "resources_needed": N_("Resources needed"),
    "next_visit_plan": N_("Next visit plan"),
}

_TEXT_FIELDS: dict[str, tuple[int, bool]] = {
    # field: (max length, multiline)
    "first_reception_summary": (1000, True),
    "product": (100, False),
    "configuration": (200, False),
    "budget": (50, False),
    "intended_use": (200, False),
    "alternatives": (200, False),
    "favourable": (500, True),
    "unfavourable": (500, True),
    "resources_needed": (500, True),
    "next_visit_plan": (500, True),
}


@dataclass(frozen=True)
class Level(Option):
    """An intent level: its revisit cadence in working days, or how it ends the card."""

    revisit_workdays: int | None = None
    buys_within_days: int | None = None
    ends: str | None = None  # "won" | "lost" | None


@dataclass(frozen=True)
class FollowupPolicy:
    levels: dict[str, Level]
    visit_methods: dict[str, Option]
    purchase_methods: dict[str, Option]
    review_within_workdays: int


def _options(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, Option]:
    return {code: Option(code, v["name"], v["name_en"]) for code, v in raw.items()}


def parse_policy(raw: Mapping[str, Any]) -> FollowupPolicy:
    """Build a policy from the TOML structure, refusing inconsistent settings."""
    levels: dict[str, Level] = {}
    for code, v in raw["levels"].items():
        ends = v.get("ends")
        cadence = v.get("revisit_workdays")
        if ends not in (None, "won", "lost"):
            raise ValueError(f"intent level {code}: ends must be won or lost")
        if (ends is None) == (cadence is None):
            raise ValueError(f"intent level {code}: give either revisit_workdays or ends")
        if cadence is not None and (not isinstance(cadence, int) or cadence < 0):
            raise ValueError(f"intent level {code}: revisit_workdays must be a whole number >= 0")
        levels[code] = Level(code, v["name"], v["name_en"], cadence, v.get("buys_within_days"), ends)
    return FollowupPolicy(levels=levels, visit_methods=_options(raw["visit_methods"]),
                          purchase_methods=_options(raw["purchase_methods"]),
                          review_within_workdays=int(raw.get("review_within_workdays", 3)))


@cache
def load_policy() -> FollowupPolicy:
    return parse_policy(config.load("intent_levels.toml"))


def level_label(code: str | None) -> str:
    if not code:
        return ""
    lvl = load_policy().levels.get(code)
    return lvl.label if lvl else code


def card_number(year: int, seq: int) -> str:
    """A卡编号: ``A2026-00042``."""
    return f"A{year}-{seq:05d}"


def next_visit_due(calendar: WorkCalendar, visit_day: date | datetime, level: Level) -> date | None:
    """The day the next visit is due after a visit (or the card's opening) on ``visit_day`` at
    ``level``; None when the level ends the cadence (R-FU-3)."""
    if level.revisit_workdays is None:
        return None
    day = visit_day.date() if isinstance(visit_day, datetime) else visit_day
    return calendar.add_workdays(day, level.revisit_workdays)


def review_due(calendar: WorkCalendar, card_date: date, policy: FollowupPolicy) -> date:
    """The last working day a supervisor should sign the card by."""
    return calendar.add_workdays(card_date, policy.review_within_workdays)


def check_transition(old: str, new: str, *, may_supervise: bool) -> None:
    """Refuse a status change the card's state machine does not allow."""
    from crm_tui.i18n import _

    need = TRANSITIONS.get((old, new))
    if need is None:
        raise Conflict("A card that is {old} cannot become {new}.", old=_(CARD_STATUSES.get(old, old)),
                       new=_(CARD_STATUSES.get(new, new)))
    if need and not may_supervise:
        raise Conflict("Only a supervisor can reopen a lost card.")


def _level(value: str | None, field: str, policy: FollowupPolicy) -> str:
    text = (value or "").strip()
    if text.upper() in policy.levels:
        return text.upper()
    return choose(text, field, policy.levels)


def _date(value: str | None, field: str, *, required: bool, today: date) -> date | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationError(field, "This field is required")
        return None
    try:  # 2026-12-6, 12/6 (this year) ...
        d = parse_day(text, field, today=today, allow_future=True, earliest=date.min)
    except ValidationError:
        raise ValidationError(field, "Write the date as YYYY-MM-DD") from None
    if d > today:
        raise ValidationError(field, "The date cannot be later than today")
    if d.year < 2000:
        raise ValidationError(field, "The date is too far in the past")
    return d


def validate_card(raw: Mapping[str, str], today: date, sources: Mapping[str, Option], *,
                  partial: bool = False) -> tuple[dict[str, Any], list[ValidationError]]:
    """Check a card form. ``raw`` holds typed text; returns (clean values, errors).

    Required when creating: first_reception_date and summary, intent_level, source. ``partial``: only the
    keys present are checked (an edit). Intent levels that end a card cannot be set here: record
    a visit or close the card instead.
    """
    policy = load_policy()
    clean: dict[str, Any] = {}
    errors: list[ValidationError] = []

    def want(name: str) -> bool:
        return not partial or name in raw

    checks: list[tuple[str, Any]] = []
    if want("first_reception_date"):
        checks.append(("first_reception_date",
                       lambda: _date(raw.get("first_reception_date"), "first_reception_date", required=True,
                                     today=today)))
    if want("intent_level"):
        def lvl() -> str:
            code = _level(raw.get("intent_level"), "intent_level", policy)
            if policy.levels[code].ends:
                raise ValidationError("intent_level", "Levels that end a card are set by a visit or by closing it")
            return code
        checks.append(("intent_level", lvl))
    if want("source"):
        checks.append(("source", lambda: choose(raw.get("source"), "source", sources)))
    if want("purchase_method"):
        def pm() -> str | None:
            v = (raw.get("purchase_method") or "").strip()
            return choose(v, "purchase_method", policy.purchase_methods) if v else None
        checks.append(("purchase_method", pm))
    for name, (max_len, multiline) in _TEXT_FIELDS.items():
        if want(name) and name != "budget":
            checks.append((name, lambda n=name, m=max_len, ml=multiline: clean_text(
                raw.get(n), n, max_len=m, multiline=ml, required=n == "first_reception_summary")))
    if want("budget"):  # an amount, a range or an approximation, kept as typed (validate_budget)
        checks.append(("budget", lambda: clean_text(validate_budget(raw.get("budget"), "budget") or None, "budget",
                                                    max_len=_TEXT_FIELDS["budget"][0])))
    for name, check in checks:
        try:
            clean[name] = check()
        except ValidationError as e:
            errors.append(e)
    return clean, errors


@dataclass(frozen=True)
class CleanVisit:
    at: datetime
    method: str
    participants: str | None
    content: str
    feedback: str | None
    objections: str | None
    next_action: str | None
    level: str
    next_due_override: date | None
    override_reason: str | None
    lost_reason: str | None


def validate_visit(raw: Mapping[str, str], now: datetime) -> tuple[CleanVisit | None, list[ValidationError]]:
    """Check a visit record (R-FU-6): time (default now, not in the future), method, content,
    new intent level; a next date typed by hand needs a reason and must be after the visit;
    level F (lost) needs a reason."""
    policy = load_policy()
    errors: list[ValidationError] = []
    out: dict[str, Any] = {}

    def run(name: str, fn) -> None:  # type: ignore[no-untyped-def]
        try:
            out[name] = fn()
        except ValidationError as e:
            errors.append(e)

    def at() -> datetime:
        text = (raw.get("at") or "").strip()
        if not text:
            return now
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError("at", "Write the time as YYYY-MM-DD HH:MM") from None
        if value > now + timedelta(minutes=5):
            raise ValidationError("at", "The time cannot be later than now")
        return value

    run("at", at)
    run("method", lambda: choose(raw.get("method"), "method", policy.visit_methods))
    run("participants", lambda: clean_text(raw.get("participants"), "participants", max_len=200))
    run("content", lambda: clean_text(raw.get("content"), "content", max_len=2000, multiline=True, required=True))
    run("feedback", lambda: clean_text(raw.get("feedback"), "feedback", max_len=1000, multiline=True))
    run("objections", lambda: clean_text(raw.get("objections"), "objections", max_len=1000, multiline=True))
    run("next_action", lambda: clean_text(raw.get("next_action"), "next_action", max_len=500, multiline=True))
    run("level", lambda: _level(raw.get("level"), "level", policy))
    run("override_reason", lambda: clean_text(raw.get("override_reason"), "override_reason", max_len=300))
    run("lost_reason", lambda: clean_text(raw.get("lost_reason"), "lost_reason", max_len=500, multiline=True))

    def override() -> date | None:
        text = (raw.get("next_due") or "").strip()
        if not text:
            return None
        try:  # 2026-12-6, 12/6 (this year) ...
            d = parse_day(text, "next_due", today=now.date(), allow_future=True, earliest=date.min)
        except ValidationError:
            raise ValidationError("next_due", "Write the date as YYYY-MM-DD") from None
        visit_day = (out.get("at") or now).date()
        if d <= visit_day:
            raise ValidationError("next_due", "The next visit must be after this visit")
        return d

    run("next_due", override)
    level = out.get("level")
    if level and policy.levels[level].ends:
        if out.get("next_due"):
            errors.append(ValidationError("next_due", "A won or lost card has no next visit"))
        if policy.levels[level].ends == "lost" and not out.get("lost_reason") and "lost_reason" not in {
                e.field for e in errors}:
            errors.append(ValidationError("lost_reason", "Write why the sale was lost"))
    if out.get("next_due") and not out.get("override_reason") and "override_reason" not in {e.field for e in errors}:
        errors.append(ValidationError("override_reason", "A next visit date chosen by hand needs a reason"))
    if errors:
        return None, errors
    return CleanVisit(out["at"], out["method"], out["participants"], out["content"], out["feedback"],
                      out["objections"], out["next_action"], out["level"], out["next_due"],
                      out["override_reason"] if out["next_due"] else None, out["lost_reason"]), []


@dataclass(frozen=True)
class CleanRegister:
    name: str
    phone: str | None  # national digits
    companions: str | None
    arrived_at: datetime
    departed_at: datetime | None
    product: str | None
    source: str
    summary: str | None
    kind: str
    trial: bool


def _time_today(text: str, field: str, now: datetime) -> datetime:
    """``HH:MM`` (today) or ``YYYY-MM-DD HH:MM``."""
    text = text.strip()
    try:
        if len(text) <= 5 and ":" in text:
            hh, mm = text.split(":")
            return datetime.combine(now.date(), datetime.min.time()).replace(hour=int(hh), minute=int(mm))
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(field, "Write the time as HH:MM or YYYY-MM-DD HH:MM") from None


def validate_register(raw: Mapping[str, str], now: datetime, sources: Mapping[str, Option]
                      ) -> tuple[CleanRegister | None, list[ValidationError]]:
    """Check one register line (R-FU-4). Name and source are required; arrival defaults to now."""
    from crm_tui.domain.validation import normalise_phone

    errors: list[ValidationError] = []
    out: dict[str, Any] = {}

    def run(name: str, fn) -> None:  # type: ignore[no-untyped-def]
        try:
            out[name] = fn()
        except ValidationError as e:
            errors.append(e)

    run("name", lambda: clean_text(raw.get("name"), "name", max_len=60, required=True))

    def phone() -> str | None:
        text = (raw.get("phone") or "").strip()
        return normalise_phone(text, "phone").national if text else None

    run("phone", phone)
    run("companions", lambda: clean_text(raw.get("companions"), "companions", max_len=200))

    def arrived() -> datetime:
        text = (raw.get("arrived_at") or "").strip()
        value = _time_today(text, "arrived_at", now) if text else now
        if value > now + timedelta(minutes=5):
            raise ValidationError("arrived_at", "The time cannot be later than now")
        return value

    run("arrived_at", arrived)

    def departed() -> datetime | None:
        text = (raw.get("departed_at") or "").strip()
        if not text:
            return None
        value = _time_today(text, "departed_at", now)
        if value > now + timedelta(minutes=5):
            raise ValidationError("departed_at", "The time cannot be later than now")
        return value

    run("departed_at", departed)
    run("product", lambda: clean_text(raw.get("product"), "product", max_len=100))
    run("source", lambda: choose(raw.get("source"), "source", sources))
    run("summary", lambda: clean_text(raw.get("summary"), "summary", max_len=1000, multiline=True))

    def kind() -> str:
        text = (raw.get("kind") or "walk_in").strip()
        if text not in REGISTER_KINDS:
            raise ValidationError("kind", "Choose walk-in or phone call")
        return text

    run("kind", kind)

    def trial() -> bool:
        text = (raw.get("trial") or "").strip().casefold()
        if text in ("", "0", "n", "no", "false", "否"):
            return False
        if text in ("1", "y", "yes", "true", "是"):
            return True
        raise ValidationError("trial", "Answer yes or no")

    run("trial", trial)
    if out.get("departed_at") and out.get("arrived_at") and out["departed_at"] < out["arrived_at"]:
        errors.append(ValidationError("departed_at", "The departure cannot be before the arrival"))
    if errors:
        return None, errors
    return CleanRegister(out["name"], out["phone"], out["companions"], out["arrived_at"], out["departed_at"],
                         out["product"], out["source"], out["summary"], out["kind"], out["trial"]), []
