"""Customer grades (客户等级, R-GRD-1..4): the grade standard, the grade change application's state
machine, separation of duties, and the working-day deadlines. Pure: no Textual, no SQL.

The flow (R-GRD-3)::

    submitted --approve_chief--> chief_approved --approve_deputy--> approved --apply--> applied
        |                             |                                                   |
        +--reject_chief--> rejected   +--reject_deputy--> rejected          acknowledge --+--> acknowledged

``submitted``: filed by a customer manager, waiting for the section chief (营销服务科科长).
``chief_approved``: waiting for the deputy manager (副经理). ``approved``: to be applied by the
section chief within 1 working day. ``applied``: the grade changed; filed with internal control
(内管备案), waiting for their acknowledgement. ``rejected`` and ``acknowledged`` are final; after a
rejection the customer may get a new application.

Separation of duties, whatever roles a person holds: the applicant never decides on their own
application; the person who gave the section chief's approval never gives the deputy manager's;
internal control never acknowledges a change they took part in. A person working as A/B cover
(R-SEC-7) counts as both themselves and the colleague they cover for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from crm_tui.domain import config
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.errors import Conflict, PermissionDenied, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _, get_language

__all__ = [
    "ACTIONS", "APPLY_DAYS", "OPEN_STATES", "REVIEW_DAYS", "STATES", "STATE_LABELS", "ApplicationInput",
    "Criteria", "GradeDef", "GradeStandard", "Parties", "apply_due", "check_duties", "load_standard",
    "next_state", "review_due", "standard_from_dict", "suggest_grade", "validate_application",
]

SUBMITTED = "submitted"
CHIEF_APPROVED = "chief_approved"
APPROVED = "approved"
APPLIED = "applied"
ACKNOWLEDGED = "acknowledged"
REJECTED = "rejected"

STATES = (SUBMITTED, CHIEF_APPROVED, APPROVED, APPLIED, ACKNOWLEDGED, REJECTED)
#: States in which the customer has an open application (one at most, R-GRD-3).
OPEN_STATES = (SUBMITTED, CHIEF_APPROVED, APPROVED)

STATE_LABELS: dict[str, str] = {
    SUBMITTED: N_("Waiting for the section chief"),
    CHIEF_APPROVED: N_("Waiting for the deputy manager"),
    APPROVED: N_("Approved, to apply"),
    APPLIED: N_("Applied, filed with internal control"),
    ACKNOWLEDGED: N_("Acknowledged by internal control"),
    REJECTED: N_("Rejected"),
}

#: action -> (from state, to state, permission)
ACTIONS: dict[str, tuple[str, str, str]] = {
    "approve_chief": (SUBMITTED, CHIEF_APPROVED, "grade.approve_chief"),
    "reject_chief": (SUBMITTED, REJECTED, "grade.approve_chief"),
    "approve_deputy": (CHIEF_APPROVED, APPROVED, "grade.approve_deputy"),
    "reject_deputy": (CHIEF_APPROVED, REJECTED, "grade.approve_deputy"),
    "apply": (APPROVED, APPLIED, "grade.apply_change"),
    "acknowledge": (APPLIED, ACKNOWLEDGED, "grade.acknowledge"),
}

ACTION_LABELS: dict[str, str] = {
    "approve_chief": N_("approve as section chief"),
    "reject_chief": N_("reject as section chief"),
    "approve_deputy": N_("approve as deputy manager"),
    "reject_deputy": N_("reject as deputy manager"),
    "apply": N_("apply the grade change"),
    "acknowledge": N_("acknowledge the filing"),
}

#: The section chief applies an approved change within this many working days (R-GRD-3).
APPLY_DAYS = 1
#: After a review period closes the section chief reviews within this many working days (R-GRD-2).
REVIEW_DAYS = 3

REASON_MAX = 1000
EVIDENCE_MAX = 2000
COMMENT_MAX = 500


# ------------------------------------------------------------------------------------------------
# State machine and separation of duties
# ------------------------------------------------------------------------------------------------


def next_state(state: str, action: str) -> str:
    """The state after ``action``; an action the state does not allow raises ``Conflict``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown grade change action {action!r}")
    frm, to, _perm = ACTIONS[action]
    if state != frm:
        raise Conflict("This application is '{state}'; it cannot be {action} now.",
                       state=_(STATE_LABELS.get(state, state)), action=_(ACTION_LABELS[action]))
    return to


@dataclass(frozen=True)
class Parties:
    """Who has taken part in an application so far (staff ids; None = not yet)."""

    applicant: int | None
    chief: int | None = None
    deputy: int | None = None
    applier: int | None = None


def check_duties(action: str, actor_ids: Iterable[int | None], parties: Parties) -> None:
    """Refuse (``PermissionDenied``) when separation of duties forbids ``action`` to a person whose
    identities (their own id and, under A/B cover, the colleague's) are ``actor_ids``."""
    me = {i for i in actor_ids if i is not None}
    if action in ("approve_chief", "reject_chief", "approve_deputy", "reject_deputy"):
        if parties.applicant in me:
            raise PermissionDenied("You filed this application; someone else must decide on it.")
    if action in ("approve_deputy", "reject_deputy") and parties.chief in me:
        raise PermissionDenied("You gave the section chief's approval; the deputy manager's approval must come "
                               "from another person.")
    if action == "acknowledge" and me & {parties.applicant, parties.chief, parties.deputy, parties.applier}:
        raise PermissionDenied("You took part in this grade change; internal control must be independent of it.")


def apply_due(approved_at: datetime, calendar: WorkCalendar) -> datetime:
    """The section chief applies within 1 working day of the final approval (R-GRD-3)."""
    return calendar.workday_deadline(approved_at, APPLY_DAYS)


def review_due(closed_at: datetime, calendar: WorkCalendar) -> datetime:
    """3 working days after ``closed_at`` (R-GRD-2)."""
    return calendar.workday_deadline(closed_at, REVIEW_DAYS)


def period_review_due(end: date, calendar: WorkCalendar) -> datetime:
    """R-GRD-2: the check is organised within 3 working days after the period ends (its last day
    over), whether or not an administrator has closed it."""
    return review_due(datetime.combine(end, time(23, 59)), calendar)


# ------------------------------------------------------------------------------------------------
# Application input
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationInput:
    to_grade: str
    reason: str
    evidence: str | None


def validate_application(standard: GradeStandard, current: str | None, to_grade: str, reason: str,
                         evidence: str | None) -> ApplicationInput:
    """Check an application; every field error at once (``ValidationErrors``)."""
    errors: list[ValidationError] = []
    code = (to_grade or "").strip().upper()
    if not code:
        errors.append(ValidationError("to_grade", "Choose the proposed grade"))
    elif code not in standard.grades:
        errors.append(ValidationError("to_grade", "Unknown grade '{grade}'. Grades: {choices}", grade=code,
                                      choices=", ".join(standard.grades)))
    elif code == (current or ""):
        errors.append(ValidationError("to_grade", "The customer already has grade {grade}; propose another one",
                                      grade=code))
    clean_reason: str | None = None
    clean_evidence: str | None = None
    try:
        clean_reason = clean_text(reason, "reason", max_len=REASON_MAX, required=True, multiline=True)
        if clean_reason is not None and len(clean_reason) < 4:
            errors.append(ValidationError("reason", "Write the reason for the change (at least {n} characters)", n=4))
    except ValidationError as e:
        errors.append(e)
    try:
        clean_evidence = clean_text(evidence, "evidence", max_len=EVIDENCE_MAX, multiline=True)
    except ValidationError as e:
        errors.append(e)
    if errors:
        raise ValidationErrors(errors)
    assert clean_reason is not None
    return ApplicationInput(code, clean_reason, clean_evidence)


def clean_comment(comment: str | None, *, required: bool) -> str | None:
    return clean_text(comment, "comment", max_len=COMMENT_MAX, required=required, multiline=True)


# ------------------------------------------------------------------------------------------------
# The grade standard (R-GRD-1)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criteria:
    categories: tuple[str, ...] = ()
    min_credit: str | None = None
    max_risk: str | None = None
    min_coop_years: int | None = None
    important: bool | None = None
    #: R-GRD-1 cooperation scale (合作规模): the smallest size (customer_policy.toml [sizes], in
    #: the order listed there, smallest first) an organisation must have; persons are judged on
    #: the other criteria
    min_size: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.categories:
            out["categories"] = list(self.categories)
        for k in ("min_credit", "max_risk", "min_coop_years", "important", "min_size"):
            v = getattr(self, k)
            if v is not None:
                out[k] = v
        return out


@dataclass(frozen=True)
class GradeDef:
    code: str
    name_zh: str
    name_en: str
    rank: int
    description_zh: str = ""
    description_en: str = ""
    contact_days: int = 30
    criteria: Criteria = field(default_factory=Criteria)

    @property
    def label(self) -> str:
        return self.name_zh if get_language() == "zh_CN" else self.name_en

    @property
    def description(self) -> str:
        return self.description_zh if get_language() == "zh_CN" else self.description_en


@dataclass(frozen=True)
class GradeStandard:
    """The grades, highest first (rank 1 = highest)."""

    grades: dict[str, GradeDef]

    def label(self, code: str | None) -> str:
        if not code:
            return _("(no grade)")
        g = self.grades.get(code)
        return g.label if g else code

    def rank(self, code: str | None) -> int | None:
        g = self.grades.get(code or "")
        return g.rank if g else None

    def direction(self, old: str | None, new: str) -> str:
        """'up', 'down' or 'new' (from no grade)."""
        a, b = self.rank(old), self.rank(new)
        if a is None:
            return "new"
        return "up" if b is not None and b < a else "down"

    def contact_days(self, code: str | None) -> int | None:
        g = self.grades.get(code or "")
        return g.contact_days if g else None


_CRITERIA_KEYS = {"categories", "min_credit", "max_risk", "min_coop_years", "important", "min_size"}


def standard_from_dict(raw: Mapping[str, Any], *, credit_codes: Iterable[str] = (),
                       risk_codes: Iterable[str] = (), categories: Iterable[str] = (),
                       size_codes: Iterable[str] = ()) -> GradeStandard:
    """Build and check a standard from ``{code: {name, name_en, rank, ...}}`` (the TOML layout).
    The code lists, when given, are the policy's; criteria must use them."""
    credit, risk, cats, sizes = list(credit_codes), list(risk_codes), list(categories), list(size_codes)
    errors: list[ValidationError] = []
    grades: dict[str, GradeDef] = {}
    ranks: set[int] = set()
    for code, g in raw.items():
        f = f"grades.{code}"
        if not code or not code.isascii() or not code.isalnum() or len(code) > 8 or code != code.upper():
            errors.append(ValidationError(f, "A grade code is 1 to 8 capital letters or digits: '{code}'", code=code))
            continue
        try:
            name = clean_text(g.get("name"), f + ".name", max_len=40, required=True)
            name_en = clean_text(g.get("name_en"), f + ".name_en", max_len=60, required=True)
            desc = clean_text(g.get("description", ""), f + ".description", max_len=500, multiline=True) or ""
            desc_en = clean_text(g.get("description_en", ""), f + ".description_en", max_len=500,
                                 multiline=True) or ""
        except ValidationError as e:
            errors.append(e)
            continue
        rank, days = g.get("rank"), g.get("contact_days", 30)
        if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1 or rank in ranks:
            errors.append(ValidationError(f + ".rank", "Each grade needs its own order number, 1 or more"))
            continue
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 366:
            errors.append(ValidationError(f + ".contact_days", "Contact every 1 to 366 days"))
            continue
        c = dict(g.get("criteria") or {})
        unknown = set(c) - _CRITERIA_KEYS
        if unknown:
            errors.append(ValidationError(f + ".criteria", "Unknown criteria: {names}", names=", ".join(sorted(unknown))))
            continue
        crit = Criteria(
            categories=tuple(c.get("categories") or ()), min_credit=c.get("min_credit"), max_risk=c.get("max_risk"),
            min_coop_years=c.get("min_coop_years"), important=c.get("important"), min_size=c.get("min_size"))
        bad = ((cats and any(x not in cats for x in crit.categories))
               or (credit and crit.min_credit is not None and crit.min_credit not in credit)
               or (risk and crit.max_risk is not None and crit.max_risk not in risk)
               or (crit.min_coop_years is not None and (not isinstance(crit.min_coop_years, int)
                                                         or not 0 <= crit.min_coop_years <= 100))
               or (crit.important is not None and not isinstance(crit.important, bool))
               or (crit.min_size is not None and (not isinstance(crit.min_size, str)
                                                  or (sizes and crit.min_size not in sizes))))
        if bad:
            errors.append(ValidationError(f + ".criteria", "The criteria use a value the customer policy does not know"))
            continue
        ranks.add(rank)
        grades[code] = GradeDef(code, name, name_en, rank, desc, desc_en, days, crit)  # type: ignore[arg-type]
    if not grades and not errors:
        errors.append(ValidationError("grades", "The standard needs at least one grade"))
    if errors:
        raise ValidationErrors(errors)
    return GradeStandard(dict(sorted(grades.items(), key=lambda kv: kv[1].rank)))


def load_standard(**codes: Iterable[str]) -> GradeStandard:
    """The shipped standard (data/grades.toml)."""
    return standard_from_dict(config.load("grades.toml")["grades"], **codes)


def suggest_grade(standard: GradeStandard, facts: Mapping[str, Any], today: date, *,
                  credit_order: list[str], risk_order: list[str], size_order: list[str] | None = None) -> str | None:
    """The highest grade whose criteria the customer meets (R-GRD-2); None when none fits.

    ``facts``: category, credit_rating, risk_rating, coop_since (year), important, size. The orders
    list the rating codes best first (credit AAA..C, risk low..high); ``size_order`` the sizes
    smallest first (the cooperation-scale criterion, R-GRD-1).
    """
    for g in standard.grades.values():
        c = g.criteria
        if c.categories and facts.get("category") not in c.categories:
            continue
        if c.min_credit is not None:
            got = facts.get("credit_rating")
            if got not in credit_order or credit_order.index(got) > credit_order.index(c.min_credit):
                continue
        if c.max_risk is not None:
            got = facts.get("risk_rating")
            if got not in risk_order or risk_order.index(got) > risk_order.index(c.max_risk):
                continue
        if c.min_coop_years is not None:
            since = facts.get("coop_since")
            if not since or today.year - int(since) < c.min_coop_years:
                continue
        if c.important and not facts.get("important"):
            continue
        if c.min_size is not None and facts.get("kind") == "org":  # a person has no business size
            order = size_order or []
            got = facts.get("size")
            if got not in order or c.min_size not in order or order.index(got) < order.index(c.min_size):
                continue
        return g.code
    return None
