"""What every grade change use case shares: permissions, queues, the result types, the standard in
force (R-GRD-1), loading a customer, an application or a review period, separation of duties."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from crm_tui.domain import grades as dg
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.customers import load_policy
from crm_tui.domain.errors import NotFound, PermissionDenied
from crm_tui.i18n import N_, _
from crm_tui.services import holidays
from crm_tui.services.context import PERMISSION_LABELS, Actor, Services, Tx
from crm_tui.store.queries import grades as q

PERMISSION_LABELS.update({
    "grade.view": N_("view grade changes"),
    "grade.apply": N_("file grade change applications"),
    "grade.approve_chief": N_("approve grade changes as section chief"),
    "grade.approve_deputy": N_("approve grade changes as deputy manager"),
    "grade.apply_change": N_("apply approved grade changes"),
    "grade.acknowledge": N_("acknowledge grade change filings"),
    "grade.review": N_("review customer grades"),
    "grade.period_manage": N_("open and close grade review periods"),
    "grade.standard_edit": N_("change the grade standard"),
})

QUEUES = {
    "approve": N_("Waiting for my approval"),
    "apply": N_("Approved, to apply"),
    "acknowledge": N_("Filed, to acknowledge"),
    "mine": N_("My applications"),
    "all": N_("All applications"),
}



# ------------------------------------------------------------------------------------------------
# Result types
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationRow:
    id: int
    customer_id: int
    customer_number: str
    customer_name: str
    from_grade: str | None
    to_grade: str
    state: str
    applicant: str
    filed_at: datetime
    apply_due: datetime | None
    late: bool

    @property
    def state_label(self) -> str:
        return _(dg.STATE_LABELS[self.state])


@dataclass(frozen=True)
class Step:
    """One step of an application's history, for the detail screen."""

    at: datetime
    what: str  # translated
    staff: str
    comment: str | None = None


@dataclass(frozen=True)
class ApplicationView:
    id: int
    customer_id: int
    customer_number: str
    customer_name: str
    current_grade: str | None  # the customer's grade now
    from_grade: str | None
    to_grade: str
    direction: str  # up | down | new
    reason: str
    evidence: str | None
    state: str
    applicant_id: int
    applicant: str
    filed_at: datetime
    chief: str | None
    chief_at: datetime | None
    chief_comment: str | None
    deputy: str | None
    deputy_at: datetime | None
    deputy_comment: str | None
    rejected_by: str | None
    rejected_at: datetime | None
    reject_reason: str | None
    apply_due: datetime | None
    applied_by: str | None
    applied_at: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    ack_note: str | None
    late: bool
    version: int
    actions: tuple[str, ...]  # what the viewer may do now (domain action names)
    steps: tuple[Step, ...]

    @property
    def state_label(self) -> str:
        return _(dg.STATE_LABELS[self.state])


@dataclass(frozen=True)
class Page:
    rows: list[ApplicationRow]
    next_cursor: str | None


@dataclass(frozen=True)
class Period:
    id: int
    name: str
    start_date: date
    end_date: date
    closed_at: datetime | None
    review_due: datetime | None
    reviewed_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def ended(self, today: date) -> bool:
        """Past its last day: its review is due whether or not an administrator closed it."""
        return self.end_date < today


@dataclass(frozen=True)
class Candidate:
    """A customer whose criteria suggest another grade (R-GRD-2)."""

    customer_id: int
    number: str
    name: str
    grade: str | None
    suggested: str


@dataclass(frozen=True)
class CandidatePage:
    rows: list[Candidate]
    next_cursor: str | None


@dataclass(frozen=True)
class BulkResult:
    filed: list[int]
    skipped: list[tuple[str, str]]  # (customer number, translated reason)


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    filed: int
    applied: int
    up: int
    down: int
    new: int
    rejected: int
    open: int
    applied_late: int
    avg_approval_hours: float | None  # filing -> deputy manager's approval
    rows: list[tuple[str, str, str, str, str, str, str]]  # number, name, from, to, state, filed, applied


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def _calendar(svc: Services) -> WorkCalendar:
    return holidays.work_calendar(svc)


def _dt(v: Any) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))


def _d(v: Any) -> date:
    return v if isinstance(v, date) else date.fromisoformat(str(v)[:10])


def _sess(s: Session | Tx) -> Session:
    return s.session if isinstance(s, Tx) else s


def _me(actor: Actor) -> tuple[int, ...]:
    """The identities of the actor for separation of duties (self and, under cover, the colleague)."""
    return tuple(i for i in (actor.staff_id, actor.on_behalf_of) if i is not None) or (-1,)


def _names(s: Session | Tx, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({int(i) for i in ids if i is not None})
    if not wanted:
        return {}
    return q.staff_names(_sess(s), wanted)


def _policy_codes() -> dict[str, list[str]]:
    p = load_policy()
    return {"credit_codes": list(p.credit_ratings), "risk_codes": list(p.risk_ratings),
            "categories": list(p.categories), "size_codes": list(p.sizes)}


def _standard_in(s: Session | Tx) -> dg.GradeStandard:
    rows = q.standard_rows(_sess(s))
    if not rows:
        return dg.load_standard(**_policy_codes())
    raw = {r.code: {"name": r.name, "name_en": r.name_en, "rank": r.rank, "description": r.description,
                    "description_en": r.description_en, "contact_days": r.contact_days,
                    "criteria": json.loads(r.criteria or "{}")} for r in rows}
    return dg.standard_from_dict(raw)


def standard(svc: Services) -> dg.GradeStandard:
    """The grade standard in force: the administrator's, else the shipped one (R-GRD-1)."""
    with svc.store.read() as s:
        return _standard_in(s)


def grade_choices(svc: Services) -> list[tuple[str, str]]:
    """(code, label) highest grade first, for forms and filters."""
    return [(code, g.label) for code, g in standard(svc).grades.items()]


def contact_days(svc: Services, grade: str | None) -> int | None:
    """How often a customer of ``grade`` is contacted (feeds the follow-up cadence of signed customers)."""
    return standard(svc).contact_days(grade)


def _customer(s: Session | Tx, customer_id: int) -> dict[str, Any]:
    r = q.customer(_sess(s), customer_id)
    if r is None or r["erased_at"] is not None:
        raise NotFound("No customer archive #{id}.", id=customer_id)
    return r


def _app(s: Session | Tx, app_id: int) -> dict[str, Any]:
    r = q.application(_sess(s), app_id)
    if r is None:
        raise NotFound("No grade change application #{id}.", id=app_id)
    return r


def _parties(row: Mapping[str, Any]) -> dg.Parties:
    return dg.Parties(applicant=row["applicant_id"], chief=row["chief_id"], deputy=row["deputy_id"],
                      applier=row["applied_by_id"])


def _refuse_duty(svc: Services, actor: Actor, action: str, app_id: int, err: PermissionDenied) -> None:
    with svc.write(actor) as tx:
        tx.audit("grade.duty_refused", entity="grade_application", entity_id=app_id,
                 details={"action": action, "rule": err.msgid})


def _is_late(state: str, due: Any, applied_at: Any, now: datetime) -> bool:
    due_ = _dt(due)
    if due_ is None:
        return False
    if state == dg.APPROVED:
        return now > due_
    applied = _dt(applied_at)
    return applied is not None and applied > due_


def allowed_actions(actor: Actor, row: Mapping[str, Any]) -> tuple[str, ...]:
    """The actions ``actor`` may take on an application now (permission, state and duties)."""
    out = []
    for action, (frm, _to, perm) in dg.ACTIONS.items():
        if row["state"] != frm or not actor.can(perm):
            continue
        try:
            dg.check_duties(action, _me(actor), _parties(row))
        except PermissionDenied:
            continue
        out.append(action)
    return tuple(out)


def _period_row(s: Session | Tx, period_id: int, cal: WorkCalendar | None = None) -> Period:
    r = q.period(_sess(s), period_id)
    if r is None:
        raise NotFound("No grade review period #{id}.", id=period_id)
    end = _d(r[3])
    assert end is not None
    return Period(r[0], r[1], _d(r[2]), end, _dt(r[4]), _dt(r[5]) or dg.period_review_due(end, cal or WorkCalendar()),
                  _dt(r[6]))

