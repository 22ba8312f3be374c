"""Grade changes (issue 8, R-GRD-1..4): the grade standard, applications with two approvals, the
apply step (the ONLY writer of ``customer.grade``), the filing with internal control (内管备案),
queues, review periods with bulk filing, home-screen counts and the customer timeline.

Every function takes ``(svc, actor, ...)`` and checks the permission first (a refusal raises
``PermissionDenied`` and leaves a ``permission.denied`` audit row). Separation of duties
(crm_tui/domain/grades.check_duties) is checked on top of the permission; a refusal on those
grounds leaves a ``grade.duty_refused`` audit row. Each step writes its change and its audit entry
in one transaction; reasons and comments go to ``audit_value`` (erasable with the customer).

Permissions (data/roles.toml): grade.view (read, queues), grade.apply (file an application),
grade.approve_chief, grade.approve_deputy, grade.apply_change, grade.acknowledge, grade.review
(review a closed period, bulk filing), grade.period_manage (open/close periods),
grade.standard_edit (the standard).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.domain import grades as dg
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.customers import load_policy
from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services import holidays
from crm_tui.services.context import PERMISSION_LABELS, Actor, Services, Tx
from crm_tui.services.customers import TimelineEntry, register_erase_hook, register_timeline_source, timeline_key
from crm_tui.services.files import private_file
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store import pending
from crm_tui.store.audit import PersonalChange

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

_APP_COLS = ("a.id, a.customer_id, c.number, c.name, c.erased_at, a.from_grade, a.to_grade, a.state, a.applicant_id,"
             " a.filed_at, a.apply_due, a.applied_at, a.chief_id, a.deputy_id, a.applied_by_id, a.period_id")


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
    rows = _sess(s).execute(text(f"SELECT id, display_name FROM staff WHERE id IN ({','.join(map(str, wanted))})"))
    return {r[0]: r[1] for r in rows}


def _policy_codes() -> dict[str, list[str]]:
    p = load_policy()
    return {"credit_codes": list(p.credit_ratings), "risk_codes": list(p.risk_ratings),
            "categories": list(p.categories), "size_codes": list(p.sizes)}


def _standard_in(s: Session | Tx) -> dg.GradeStandard:
    rows = _sess(s).execute(text("SELECT code, name, name_en, rank, description, description_en, contact_days,"
                                 " criteria FROM grade_standard ORDER BY rank")).all()
    if not rows:
        return dg.load_standard(**_policy_codes())
    raw = {r[0]: {"name": r[1], "name_en": r[2], "rank": r[3], "description": r[4], "description_en": r[5],
                  "contact_days": r[6], "criteria": json.loads(r[7] or "{}")} for r in rows}
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
    r = _sess(s).execute(text("SELECT id, number, name, grade, erased_at, category, credit_rating, risk_rating,"
                              " coop_since, important FROM customer WHERE id = :i"), {"i": customer_id}).mappings().first()
    if r is None or r["erased_at"] is not None:
        raise NotFound("No customer archive #{id}.", id=customer_id)
    return dict(r)


def _app(s: Session | Tx, app_id: int) -> dict[str, Any]:
    r = _sess(s).execute(text("SELECT a.*, c.number AS customer_number, c.name AS customer_name,"
                              " c.grade AS current_grade, c.erased_at AS customer_erased_at"
                              " FROM grade_application a JOIN customer c ON c.id = a.customer_id WHERE a.id = :i"),
                         {"i": app_id}).mappings().first()
    if r is None:
        raise NotFound("No grade change application #{id}.", id=app_id)
    return dict(r)


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


# ------------------------------------------------------------------------------------------------
# Filing
# ------------------------------------------------------------------------------------------------


def _insert_application(tx: Tx, actor: Actor, cust: Mapping[str, Any], clean: dg.ApplicationInput,
                        period_id: int | None) -> int:
    from crm_tui.services import customer_rules

    customer_rules.require_business_open(tx, cust["id"], N_("grade change application"))  # R-CUST-3
    open_ = tx.execute("SELECT id FROM grade_application WHERE customer_id = :c AND state IN"
                       " ('submitted', 'chief_approved', 'approved')", {"c": cust["id"]}).first()
    if open_:
        raise Conflict("Customer {number} already has an open grade change application (#{id}).",
                       number=cust["number"], id=open_[0])
    app_id = int(tx.execute(
        "INSERT INTO grade_application (customer_id, from_grade, to_grade, reason, evidence, state, applicant_id,"
        " filed_at, period_id, version) VALUES (:c, :f, :t, :r, :e, 'submitted', :a, :now, :p, 1) RETURNING id",
        {"c": cust["id"], "f": cust["grade"], "t": clean.to_grade, "r": clean.reason, "e": clean.evidence,
         "a": actor.staff_id, "now": tx.now, "p": period_id}).scalar_one())
    personal = [PersonalChange("reason", None, clean.reason)]
    if clean.evidence:
        personal.append(PersonalChange("evidence", None, clean.evidence))
    tx.audit("grade.file", entity="grade_application", entity_id=app_id, customer_id=cust["id"],
             details={"application": app_id, "number": cust["number"], "from": cust["grade"], "to": clean.to_grade,
                      **({"period": period_id} if period_id else {})}, personal=personal)
    return app_id


def file_application(svc: Services, actor: Actor, customer_id: int, to_grade: str, reason: str,
                     evidence: str | None = None, *, period_id: int | None = None) -> int:
    """File a grade change application (等级变更申请表, R-GRD-3): the customer's current grade is
    fixed now; one open application per customer. Needs grade.apply. Returns the application id."""
    svc.require(actor, "grade.apply", customer=customer_id)
    with svc.write(actor) as tx:
        cust = _customer(tx, customer_id)
        clean = dg.validate_application(_standard_in(tx), cust["grade"], to_grade, reason, evidence)
        if period_id is not None:
            _period_row(tx, period_id)
        return _insert_application(tx, actor, cust, clean, period_id)


# ------------------------------------------------------------------------------------------------
# Decisions
# ------------------------------------------------------------------------------------------------


def _decide(svc: Services, actor: Actor, app_id: int, action: str, comment: str | None) -> None:
    frm, to, perm = dg.ACTIONS[action]
    svc.require(actor, perm, application=app_id)
    rejecting = action.startswith("reject")
    try:
        clean = dg.clean_comment(comment, required=rejecting)
    except ValidationError as e:
        raise ValidationErrors([e]) from None
    try:
        with svc.write(actor) as tx:
            row = _app(tx, app_id)
            dg.next_state(row["state"], action)
            dg.check_duties(action, _me(actor), _parties(row))
            sets: dict[str, Any] = {"state": to}
            who = "chief" if action.endswith("chief") else "deputy"
            if rejecting:
                sets.update(rejected_by_id=actor.staff_id, rejected_at=tx.now, reject_reason=clean)
            else:
                sets.update({f"{who}_id": actor.staff_id, f"{who}_at": tx.now, f"{who}_comment": clean})
            if action == "approve_deputy":
                sets["apply_due"] = dg.apply_due(tx.now, _calendar(svc))
            assign = ", ".join(f"{k} = :{k}" for k in sets)
            res = tx.execute(f"UPDATE grade_application SET {assign}, version = version + 1 WHERE id = :_id"
                             " AND state = :_from", {**sets, "_id": app_id, "_from": frm})
            if res.rowcount != 1:  # pragma: no cover - BEGIN IMMEDIATE makes this unreachable
                raise Conflict("This application was changed meanwhile; reload it.")
            details: dict[str, Any] = {"application": app_id, "number": row["customer_number"],
                                       "from": row["from_grade"], "to": row["to_grade"], "state": [frm, to]}
            if "apply_due" in sets:
                details["apply_due"] = sets["apply_due"].isoformat(sep=" ", timespec="minutes")
            tx.audit(f"grade.{action}", entity="grade_application", entity_id=app_id, customer_id=row["customer_id"],
                     details=details, personal=[PersonalChange("comment", None, clean)] if clean else ())
    except PermissionDenied as e:
        _refuse_duty(svc, actor, action, app_id, e)
        raise


def approve_chief(svc: Services, actor: Actor, app_id: int, comment: str | None = None) -> None:
    """The section chief's approval (optional comment). Needs grade.approve_chief; never the applicant."""
    _decide(svc, actor, app_id, "approve_chief", comment)


def reject_chief(svc: Services, actor: Actor, app_id: int, comment: str) -> None:
    """The section chief rejects, with the reason; the application closes (a new one may be filed)."""
    _decide(svc, actor, app_id, "reject_chief", comment)


def approve_deputy(svc: Services, actor: Actor, app_id: int, comment: str | None = None) -> None:
    """The deputy manager's approval; the change is then due to be applied within 1 working day.
    Needs grade.approve_deputy; never the applicant nor the section chief who approved."""
    _decide(svc, actor, app_id, "approve_deputy", comment)


def reject_deputy(svc: Services, actor: Actor, app_id: int, comment: str) -> None:
    _decide(svc, actor, app_id, "reject_deputy", comment)


def _insert_history(tx: Tx, row: Mapping[str, Any], actor: Actor) -> None:
    tx.execute("INSERT INTO grade_history (customer_id, application_id, from_grade, to_grade, changed_at,"
               " changed_by_id) VALUES (:c, :a, :f, :t, :now, :by)",
               {"c": row["customer_id"], "a": row["id"], "f": row["current_grade"], "t": row["to_grade"],
                "now": tx.now, "by": actor.staff_id})


def _insert_filing(tx: Tx, row: Mapping[str, Any], actor: Actor) -> int:
    return int(tx.execute(
        "INSERT INTO grade_filing (application_id, customer_id, from_grade, to_grade, filed_at, filed_by_id)"
        " VALUES (:a, :c, :f, :t, :now, :by) RETURNING id",
        {"a": row["id"], "c": row["customer_id"], "f": row["current_grade"], "t": row["to_grade"], "now": tx.now,
         "by": actor.staff_id}).scalar_one())


def apply_change(svc: Services, actor: Actor, app_id: int) -> None:
    """Apply an approved change (R-GRD-3): in ONE transaction the customer's new grade, the grade
    history, the filing with internal control (内管备案) and the audit entry. The only writer of
    ``customer.grade`` (R-GRD-4). Needs grade.apply_change. A grade changed since filing (it cannot
    be, but a restored backup might) is refused."""
    svc.require(actor, "grade.apply_change", application=app_id)
    try:
        with svc.write(actor) as tx:
            row = _app(tx, app_id)
            dg.next_state(row["state"], "apply")
            dg.check_duties("apply", _me(actor), _parties(row))
            if row["customer_erased_at"] is not None:
                raise Conflict("The customer's data was erased; this change can no longer be applied.")
            if row["current_grade"] != row["from_grade"]:
                raise Conflict("The customer's grade is now {grade}, not the grade at filing; reject this application "
                               "and file a new one.", grade=row["current_grade"] or "-")
            late = tx.now > (_dt(row["apply_due"]) or tx.now)
            res = tx.execute("UPDATE customer SET grade = :g, version = version + 1, updated_at = :now,"
                             " updated_by_id = :by, last_activity_at = :now WHERE id = :c"
                             " AND coalesce(grade, '') = coalesce(:old, '')",
                             {"g": row["to_grade"], "now": tx.now, "by": actor.staff_id, "c": row["customer_id"],
                              "old": row["current_grade"]})
            if res.rowcount != 1:  # pragma: no cover - checked above inside the same transaction
                raise Conflict("The customer's grade changed meanwhile; reload it.")
            _insert_history(tx, row, actor)
            filing = _insert_filing(tx, row, actor)
            # R-CUST-10: a grade for important customers makes the customer important; an important
            # customer with fewer than two active staff in contact gets the second-contact task.
            from crm_tui.services import customer_rules

            grade_def = _standard_in(tx).grades.get(row["to_grade"])
            if grade_def is not None and grade_def.criteria.important:
                customer_rules.became_important_in(tx, svc, row["customer_id"])
            else:
                customer_rules.contact_task_in(tx, svc, row["customer_id"], "grade")
            tx.execute("UPDATE grade_application SET state = 'applied', applied_by_id = :by, applied_at = :now,"
                       " version = version + 1 WHERE id = :i AND state = 'approved'",
                       {"by": actor.staff_id, "now": tx.now, "i": app_id})
            tx.audit("grade.apply", entity="grade_application", entity_id=app_id, customer_id=row["customer_id"],
                     details={"application": app_id, "number": row["customer_number"], "filing": filing,
                              "state": ["approved", "applied"], "late": late,
                              "changes": {"grade": [row["current_grade"], row["to_grade"]]}})
    except PermissionDenied as e:  # pragma: no cover - apply has no duty rule beyond the permission
        _refuse_duty(svc, actor, "apply", app_id, e)
        raise


def acknowledge(svc: Services, actor: Actor, app_id: int, note: str | None = None) -> None:
    """Internal control acknowledges the filing of an applied change. Needs grade.acknowledge;
    never someone who took part in the change."""
    svc.require(actor, "grade.acknowledge", application=app_id)
    try:
        clean = dg.clean_comment(note, required=False)
    except ValidationError as e:
        raise ValidationErrors([e]) from None
    try:
        with svc.write(actor) as tx:
            row = _app(tx, app_id)
            dg.next_state(row["state"], "acknowledge")
            dg.check_duties("acknowledge", _me(actor), _parties(row))
            tx.execute("UPDATE grade_filing SET acknowledged_by_id = :by, acknowledged_at = :now, note = :n"
                       " WHERE application_id = :a", {"by": actor.staff_id, "now": tx.now, "n": clean, "a": app_id})
            tx.execute("UPDATE grade_application SET state = 'acknowledged', version = version + 1 WHERE id = :i",
                       {"i": app_id})
            tx.audit("grade.acknowledge", entity="grade_application", entity_id=app_id, customer_id=row["customer_id"],
                     details={"application": app_id, "number": row["customer_number"],
                              "state": ["applied", "acknowledged"]},
                     personal=[PersonalChange("comment", None, clean)] if clean else ())
    except PermissionDenied as e:
        _refuse_duty(svc, actor, "acknowledge", app_id, e)
        raise


# ------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------


def _step_comments(s: Session, app_id: int) -> dict[int, str]:
    rows = s.execute(text("SELECT l.id, v.new_value FROM audit_log l JOIN audit_value v ON v.audit_id = l.id"
                          " WHERE l.entity = 'grade_application' AND l.entity_id = :e AND v.field = 'comment'"),
                     {"e": str(app_id)}).all()
    return {r[0]: r[1] for r in rows}


_STEP_TITLES = {
    "grade.file": N_("Application filed"),
    "grade.approve_chief": N_("Approved by the section chief"),
    "grade.reject_chief": N_("Rejected by the section chief"),
    "grade.approve_deputy": N_("Approved by the deputy manager"),
    "grade.reject_deputy": N_("Rejected by the deputy manager"),
    "grade.apply": N_("Grade changed and filed with internal control"),
    "grade.acknowledge": N_("Filing acknowledged by internal control"),
}


def get_application(svc: Services, actor: Actor, app_id: int) -> ApplicationView:
    """One application with its steps and what the viewer may do now. Needs grade.view."""
    svc.require(actor, "grade.view", application=app_id)
    now = svc.now()
    with svc.store.read() as s:
        row = _app(s, app_id)
        filing = s.execute(text("SELECT acknowledged_by_id, acknowledged_at, note FROM grade_filing"
                                " WHERE application_id = :a"), {"a": app_id}).first()
        names = _names(s, [row["applicant_id"], row["chief_id"], row["deputy_id"], row["rejected_by_id"],
                           row["applied_by_id"], filing[0] if filing else None])
        comments = _step_comments(s, app_id)
        audit = s.execute(text("SELECT id, at, actor_id, actor_name, action FROM audit_log WHERE entity ="
                               " 'grade_application' AND entity_id = :e AND action LIKE 'grade.%' ORDER BY id"),
                          {"e": str(app_id)}).all()
        actor_names = _names(s, [a[2] for a in audit])
        std = _standard_in(s)
    steps = tuple(Step(_dt(a[1]), _(_STEP_TITLES[a[4]]), actor_names.get(a[2], a[3]), comments.get(a[0]))  # type: ignore[arg-type]
                  for a in audit if a[4] in _STEP_TITLES)
    return ApplicationView(
        id=row["id"], customer_id=row["customer_id"], customer_number=row["customer_number"],
        customer_name=row["customer_name"] if row["customer_erased_at"] is None else _("(erased)"),
        current_grade=row["current_grade"], from_grade=row["from_grade"], to_grade=row["to_grade"],
        direction=std.direction(row["from_grade"], row["to_grade"]), reason=row["reason"], evidence=row["evidence"],
        state=row["state"], applicant_id=row["applicant_id"], applicant=names.get(row["applicant_id"], ""),
        filed_at=_dt(row["filed_at"]),  # type: ignore[arg-type]
        chief=names.get(row["chief_id"]), chief_at=_dt(row["chief_at"]), chief_comment=row["chief_comment"],
        deputy=names.get(row["deputy_id"]), deputy_at=_dt(row["deputy_at"]), deputy_comment=row["deputy_comment"],
        rejected_by=names.get(row["rejected_by_id"]), rejected_at=_dt(row["rejected_at"]),
        reject_reason=row["reject_reason"], apply_due=_dt(row["apply_due"]),
        applied_by=names.get(row["applied_by_id"]), applied_at=_dt(row["applied_at"]),
        acknowledged_by=names.get(filing[0]) if filing and filing[0] else None,
        acknowledged_at=_dt(filing[1]) if filing else None, ack_note=filing[2] if filing else None,
        late=_is_late(row["state"], row["apply_due"], row["applied_at"], now), version=row["version"],
        actions=allowed_actions(actor, row), steps=steps,
    )


def _queue_where(actor: Actor, kind: str) -> tuple[str, dict[str, Any], str] | None:
    """(WHERE clause, params, order) for a queue, or None when the actor has no such queue."""
    me = _me(actor)
    ids = ",".join(map(str, me))
    if kind == "approve":
        parts = []
        if actor.can("grade.approve_chief"):
            parts.append(f"(a.state = 'submitted' AND a.applicant_id NOT IN ({ids}))")
        if actor.can("grade.approve_deputy"):
            parts.append(f"(a.state = 'chief_approved' AND a.applicant_id NOT IN ({ids})"
                         f" AND a.chief_id NOT IN ({ids}))")
        return ("(" + " OR ".join(parts) + ")", {}, "asc") if parts else None
    if kind == "apply":
        return ("a.state = 'approved'", {}, "asc") if actor.can("grade.apply_change") else None
    if kind == "acknowledge":
        if not actor.can("grade.acknowledge"):
            return None
        return (f"a.state = 'applied' AND a.applicant_id NOT IN ({ids}) AND coalesce(a.chief_id, -2) NOT IN ({ids})"
                f" AND coalesce(a.deputy_id, -2) NOT IN ({ids}) AND coalesce(a.applied_by_id, -2) NOT IN ({ids})",
                {}, "asc")
    if kind == "mine":
        return (f"a.applicant_id IN ({ids})", {}, "desc")
    if kind == "all":
        return ("1 = 1", {}, "desc")
    raise ValidationError("queue", "Choose one of: {options}", options=", ".join(QUEUES))


def _rows(s: Session, rows: Sequence[Any], now: datetime) -> list[ApplicationRow]:
    names = _names(s, [r[8] for r in rows])
    return [ApplicationRow(r[0], r[1], r[2], r[3] if r[4] is None else _("(erased)"), r[5], r[6], r[7],
                           names.get(r[8], ""), _dt(r[9]), _dt(r[10]), _is_late(r[7], r[10], r[11], now))  # type: ignore[arg-type]
            for r in rows]


def queue(svc: Services, actor: Actor, kind: str, *, cursor: str | None = None, limit: int = 50,
          customer_id: int | None = None) -> Page:
    """One page of a queue: "approve" (waiting for my approval), "apply" (approved, to apply),
    "acknowledge" (filed, to acknowledge), "mine", "all". Work queues are oldest first, the others
    newest first; page with ``cursor=page.next_cursor``. Needs grade.view."""
    svc.require(actor, "grade.view")
    q = _queue_where(actor, kind)
    if q is None:
        return Page([], None)
    where, params, order = q
    limit = max(1, min(limit, 500))
    if customer_id is not None:
        where += " AND a.customer_id = :cid"
        params["cid"] = customer_id
    if cursor:
        where += " AND a.id > :cur" if order == "asc" else " AND a.id < :cur"
        params["cur"] = int(cursor)
    with svc.store.read() as s:
        rows = s.execute(text(f"SELECT {_APP_COLS} FROM grade_application a JOIN customer c ON c.id = a.customer_id"
                              f" WHERE {where} ORDER BY a.id {order.upper()} LIMIT :n"),
                         {**params, "n": limit + 1}).all()
        out = _rows(s, rows[:limit], svc.now())
    return Page(out, str(out[-1].id) if len(rows) > limit else None)


def _count(s: Session, actor: Actor, kind: str, extra: str = "", **params: Any) -> int:
    q = _queue_where(actor, kind)
    if q is None:
        return 0
    return int(s.execute(text(f"SELECT count(*) FROM grade_application a WHERE {q[0]}{extra}"), params).scalar_one())


def queue_counts(svc: Services, actor: Actor) -> dict[str, int]:
    """How many applications each of the actor's queues holds (all five kinds)."""
    svc.check_password_current(actor)
    if not actor.can("grade.view"):
        return {k: 0 for k in QUEUES}
    with svc.store.read() as s:
        return {k: _count(s, actor, k) for k in QUEUES}


def customer_history(svc: Services, actor: Actor, customer_id: int) -> list[tuple[datetime, str | None, str, str]]:
    """(when, from, to, by) of every grade the customer has had, newest first. Needs grade.view."""
    svc.require(actor, "grade.view")
    with svc.store.read() as s:
        rows = s.execute(text("SELECT changed_at, from_grade, to_grade, changed_by_id FROM grade_history"
                              " WHERE customer_id = :c ORDER BY id DESC"), {"c": customer_id}).all()
        names = _names(s, [r[3] for r in rows])
    return [(_dt(r[0]), r[1], r[2], names.get(r[3], "")) for r in rows]  # type: ignore[misc]


# ------------------------------------------------------------------------------------------------
# Home screen and timeline
# ------------------------------------------------------------------------------------------------


@register_item
def _home_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    if not actor.can("grade.view"):
        return []
    items: list[WorkItem] = []
    if actor.can("grade.approve_chief") or actor.can("grade.approve_deputy"):
        n = _count(s, actor, "approve")
        items.append(WorkItem("grade.approve", N_("Grade changes waiting for my approval"), n, "open('grades')",
                              bool(n)))
    if actor.can("grade.apply_change"):
        n = _count(s, actor, "apply")
        late = _count(s, actor, "apply", " AND a.apply_due < :now", now=svc.now())
        items.append(WorkItem("grade.apply", N_("Approved grade changes to apply"), n, "open('grades')", bool(n)))
        if late:
            items.append(WorkItem("grade.apply_late", N_("Grade changes not applied within 1 working day"), late,
                                  "open('grades')", True))
    if actor.can("grade.acknowledge"):
        n = _count(s, actor, "acknowledge")
        items.append(WorkItem("grade.acknowledge", N_("Grade changes filed, to acknowledge"), n, "open('grades')"))
    if actor.can("grade.review"):  # R-GRD-2: closed, or past its last day without being closed
        now = svc.now()
        cal = _calendar(svc)
        rows = [_period_row(s, int(r[0]), cal) for r in s.execute(text(
            "SELECT id FROM grade_review_period WHERE reviewed_at IS NULL"
            " AND (closed_at IS NOT NULL OR end_date < :today)"), {"today": now.date()})]
        if rows:
            late = any(p.review_due is not None and p.review_due < now for p in rows)
            items.append(WorkItem("grade.review", N_("Grade review periods to review"), len(rows), "open('grades')",
                                  late))
    return items


@register_timeline_source("grades")
def _timeline_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    actions = ",".join(f"'{a}'" for a in _STEP_TITLES)
    params: dict[str, Any] = {"c": customer_id, "n": limit}
    where = ""
    if before is not None:
        where = " AND at <= :b"
        params["b"] = before.isoformat(sep=" ", timespec="microseconds")
    rows = s.execute(text(f"SELECT id, at, actor_id, actor_name, action, details FROM audit_log WHERE customer_id = :c"
                          f" AND action IN ({actions}){where} ORDER BY id DESC LIMIT :n"), params).all()
    if not rows:
        return []
    ids = ",".join(str(r[0]) for r in rows)
    texts: dict[int, dict[str, str | None]] = {}
    for v in s.execute(text(f"SELECT audit_id, field, new_value FROM audit_value WHERE audit_id IN ({ids})")):
        texts.setdefault(v[0], {})[v[1]] = v[2]
    names = _names(s, [r[2] for r in rows])
    std = _standard_in(s)
    out = []
    for audit_id, at, actor_id, actor_name, action, details_json in rows:
        d = json.loads(details_json or "{}")
        lines = [_("Application #{id}: {old} → {new}", id=d.get("application"),
                   old=std.label(d.get("from") if "from" in d else (d.get("changes") or {}).get("grade", [None])[0]),
                   new=std.label(d.get("to") if "to" in d else (d.get("changes") or {}).get("grade", [None, None])[1]))]
        vals = texts.get(audit_id, {})
        if vals.get("reason"):
            lines.append(_("Reason: {reason}", reason=vals["reason"]))
        if vals.get("comment"):
            lines.append(_("Comment: {comment}", comment=vals["comment"]))
        if d.get("apply_due"):
            lines.append(_("To apply by {due}", due=d["apply_due"]))
        if d.get("late"):
            lines.append(_("Applied after the deadline"))
        at_ = _dt(at)
        assert at_ is not None
        out.append(TimelineEntry(at_, "grade", _(_STEP_TITLES[action]), "\n".join(lines),
                                 names.get(actor_id, actor_name), timeline_key(at_, "grade", audit_id)))
    return out


# ------------------------------------------------------------------------------------------------
# Review periods (R-GRD-2) and bulk filing
# ------------------------------------------------------------------------------------------------


def _period_row(s: Session | Tx, period_id: int, cal: WorkCalendar | None = None) -> Period:
    r = _sess(s).execute(text("SELECT id, name, start_date, end_date, closed_at, review_due, reviewed_at"
                              " FROM grade_review_period WHERE id = :i"), {"i": period_id}).first()
    if r is None:
        raise NotFound("No grade review period #{id}.", id=period_id)
    end = _d(r[3])
    assert end is not None
    return Period(r[0], r[1], _d(r[2]), end, _dt(r[4]), _dt(r[5]) or dg.period_review_due(end, cal or WorkCalendar()),
                  _dt(r[6]))


def periods(svc: Services, actor: Actor) -> list[Period]:
    """Every review period, newest first. Needs grade.view or grade.period_manage."""
    if not actor.can("grade.period_manage"):
        svc.require(actor, "grade.view")
    with svc.store.read() as s:
        ids = [r[0] for r in s.execute(text("SELECT id FROM grade_review_period ORDER BY id DESC"))]
        cal = _calendar(svc)
        return [_period_row(s, i, cal) for i in ids]


def open_period(svc: Services, actor: Actor, name: str, start: date | str, end: date | str) -> int:
    """An administrator opens a grade review period (等级评定期). Only one may be open at a time."""
    svc.require(actor, "grade.period_manage")
    errors: list[ValidationError] = []
    clean_name: str | None = None
    try:
        clean_name = clean_text(name, "name", max_len=60, required=True)
    except ValidationError as e:
        errors.append(e)
    dates: dict[str, date] = {}
    for fld, v in (("start_date", start), ("end_date", end)):
        try:
            dates[fld] = v if isinstance(v, date) else date.fromisoformat(str(v).strip())
        except ValueError:
            errors.append(ValidationError(fld, "Write the date as YYYY-MM-DD"))
    if len(dates) == 2 and dates["end_date"] < dates["start_date"]:
        errors.append(ValidationError("end_date", "The period cannot end before it starts"))
    if errors:
        raise ValidationErrors(errors)
    with svc.write(actor) as tx:
        if tx.execute("SELECT 1 FROM grade_review_period WHERE closed_at IS NULL").first():
            raise Conflict("A review period is already open; close it first.")
        pid = int(tx.execute("INSERT INTO grade_review_period (name, start_date, end_date, opened_at, opened_by_id)"
                             " VALUES (:n, :s, :e, :now, :by) RETURNING id",
                             {"n": clean_name, "s": dates["start_date"], "e": dates["end_date"], "now": tx.now,
                              "by": actor.staff_id}).scalar_one())
        tx.audit("grade.period_open", entity="grade_review_period", entity_id=pid,
                 details={"name": clean_name, "start": dates["start_date"].isoformat(),
                          "end": dates["end_date"].isoformat()})
    return pid


def close_period(svc: Services, actor: Actor, period_id: int) -> datetime:
    """Close a period. The section chief's review is due within 3 working days of the period's end
    (R-GRD-2), closed or not. Returns the due time."""
    svc.require(actor, "grade.period_manage")
    with svc.write(actor) as tx:
        p = _period_row(tx, period_id)
        if not p.is_open:
            raise Conflict("This review period is already closed.")
        due = dg.period_review_due(p.end_date, _calendar(svc))
        tx.execute("UPDATE grade_review_period SET closed_at = :now, closed_by_id = :by, review_due = :due"
                   " WHERE id = :i", {"now": tx.now, "by": actor.staff_id, "due": due, "i": period_id})
        tx.audit("grade.period_close", entity="grade_review_period", entity_id=period_id,
                 details={"name": p.name, "review_due": due.isoformat(sep=" ", timespec="minutes")})
    return due


def review_candidates(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 100) -> CandidatePage:
    """Customers whose criteria suggest another grade than theirs and who have no open application
    (R-GRD-2), in customer order; page with ``cursor``. Needs grade.review."""
    svc.require(actor, "grade.review")
    pol = load_policy()
    credit, risk = list(pol.credit_ratings), list(pol.risk_ratings)
    today = svc.now().date()
    out: list[Candidate] = []
    last = int(cursor) if cursor else 0
    with svc.store.read() as s:
        std = _standard_in(s)
        while len(out) <= limit:
            batch = s.execute(text(
                "SELECT c.id, c.number, c.name, c.grade, c.category, c.credit_rating, c.risk_rating, c.coop_since,"
                " c.important, c.size, c.kind FROM customer c WHERE c.id > :last AND c.erased_at IS NULL" + pending.hide(s, "c.id")
                + " AND NOT EXISTS (SELECT 1"
                " FROM grade_application a WHERE a.customer_id = c.id AND a.state IN ('submitted', 'chief_approved',"
                " 'approved')) ORDER BY c.id LIMIT 500"), {"last": last}).mappings().all()
            if not batch:
                break
            for r in batch:
                last = r["id"]
                sug = dg.suggest_grade(std, r, today, credit_order=credit, risk_order=risk,
                                       size_order=list(pol.sizes))
                if sug and sug != r["grade"]:
                    out.append(Candidate(r["id"], r["number"], r["name"], r["grade"], sug))
                    if len(out) > limit:
                        break
    more = len(out) > limit
    out = out[:limit]
    return CandidatePage(out, str(out[-1].customer_id) if more and out else None)


def file_bulk(svc: Services, actor: Actor, items: Sequence[tuple[int, str]], reason: str, *,
              period_id: int | None = None) -> BulkResult:
    """File one application per (customer id, proposed grade) with the same reason, in one
    transaction; customers that cannot get one (open application, same grade, erased) are skipped
    and listed. Needs grade.apply and grade.review."""
    svc.require(actor, "grade.review")
    svc.require(actor, "grade.apply")
    if not items:
        raise ValidationErrors([ValidationError("customers", "Choose at least one customer")])
    try:
        clean_reason = clean_text(reason, "reason", max_len=dg.REASON_MAX, required=True, multiline=True)
    except ValidationError as e:
        raise ValidationErrors([e]) from None
    assert clean_reason is not None
    filed: list[int] = []
    skipped: list[tuple[str, str]] = []
    with svc.write(actor) as tx:
        std = _standard_in(tx)
        if period_id is not None:
            _period_row(tx, period_id)
        for customer_id, grade in items:
            try:
                cust = _customer(tx, customer_id)
            except NotFound as e:
                skipped.append((f"#{customer_id}", e.message))
                continue
            try:
                clean = dg.validate_application(std, cust["grade"], grade, clean_reason, None)
                filed.append(_insert_application(tx, actor, cust, clean, period_id))
            except ValidationErrors as e:
                skipped.append((cust["number"], "; ".join(e.by_field().values())))
            except Conflict as e:
                skipped.append((cust["number"], e.message))
        if period_id is not None:
            tx.execute("UPDATE grade_review_period SET reviewed_at = coalesce(reviewed_at, :now),"
                       " reviewed_by_id = coalesce(reviewed_by_id, :by) WHERE id = :i"
                       " AND (closed_at IS NOT NULL OR end_date < :today)",
                       {"now": tx.now, "by": actor.staff_id, "i": period_id, "today": tx.now.date()})
        tx.audit("grade.bulk_file", entity="grade_review_period", entity_id=period_id,
                 details={"filed": filed, "skipped": len(skipped)})
    return BulkResult(filed, skipped)


def mark_reviewed(svc: Services, actor: Actor, period_id: int) -> None:
    """The section chief records that the review of a closed period is done (R-GRD-2)."""
    svc.require(actor, "grade.review")
    with svc.write(actor) as tx:
        p = _period_row(tx, period_id, _calendar(svc))
        if p.is_open and not p.ended(tx.now.date()):
            raise Conflict("The review period is still open; it is reviewed after it closes.")
        if p.reviewed_at is not None:
            raise Conflict("This review period was already reviewed.")
        tx.execute("UPDATE grade_review_period SET reviewed_at = :now, reviewed_by_id = :by WHERE id = :i",
                   {"now": tx.now, "by": actor.staff_id, "i": period_id})
        late = p.review_due is not None and tx.now > p.review_due
        tx.audit("grade.period_reviewed", entity="grade_review_period", entity_id=period_id,
                 details={"name": p.name, "late": late})


# ------------------------------------------------------------------------------------------------
# The standard (R-GRD-1)
# ------------------------------------------------------------------------------------------------


def _standard_dict(std: dg.GradeStandard) -> dict[str, dict[str, Any]]:
    return {c: {"name": g.name_zh, "name_en": g.name_en, "rank": g.rank, "description": g.description_zh,
                "description_en": g.description_en, "contact_days": g.contact_days, "criteria": g.criteria.as_dict()}
            for c, g in std.grades.items()}


def standard_as_dict(svc: Services) -> dict[str, dict[str, Any]]:
    return _standard_dict(standard(svc))


STANDARD_STATES = {
    "submitted": N_("Waiting for the section chief"),
    "chief_approved": N_("Waiting for the deputy manager"),
    "applied": N_("Approved and in force"),
    "rejected": N_("Rejected"),
}


@dataclass(frozen=True)
class StandardChange:
    """A proposed grade standard (R-GRD-1) and its two approvals."""

    id: int
    state: str
    reason: str
    proposed_by: str
    proposed_at: datetime
    chief: str
    chief_at: datetime | None
    deputy: str
    deputy_at: datetime | None
    rejected_by: str
    reject_reason: str
    changes: dict[str, list[Any]]  # grade -> [old, new] against the standard in force when proposed

    @property
    def state_label(self) -> str:
        return _(STANDARD_STATES.get(self.state, self.state))


def _checked_standard(tx: Tx, raw: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    new = dg.standard_from_dict(raw, **_policy_codes())
    in_use = {r[0] for r in tx.execute("SELECT DISTINCT grade FROM customer WHERE grade IS NOT NULL"
                                       " UNION SELECT to_grade FROM grade_application WHERE state IN"
                                       " ('submitted', 'chief_approved', 'approved')")}
    removed = sorted(in_use - set(new.grades))
    if removed:
        raise ValidationErrors([ValidationError("grades", "Grade {codes} is still in use and cannot be removed",
                                                codes=", ".join(removed))])
    return _standard_dict(new)


def save_standard(svc: Services, actor: Actor, raw: Mapping[str, Mapping[str, Any]], reason: str = "") -> int:
    """Propose a new grade standard (R-GRD-1: set by marketing/sales, approved by management). It
    takes effect only after the section chief and then the deputy manager approve it
    (``decide_standard_change``). Needs grade.standard_edit; one open proposal at a time; a grade
    some customer or open application uses cannot be removed. Returns the proposal's id."""
    svc.require(actor, "grade.standard_edit")
    errors: list[ValidationError] = []
    clean_reason: str | None = None
    try:
        clean_reason = clean_text(reason, "reason", max_len=dg.REASON_MAX, required=True, multiline=True)
        if clean_reason is not None and len(clean_reason) < 4:
            errors.append(ValidationError("reason", "Write the reason for the change (at least {n} characters)", n=4))
    except ValidationError as e:
        errors.append(e)
    with svc.write(actor) as tx:
        try:
            fresh = _checked_standard(tx, raw)
        except ValidationErrors as e:
            raise ValidationErrors([*e.errors, *errors]) from None
        if errors:
            raise ValidationErrors(errors)
        old = _standard_dict(_standard_in(tx))
        if fresh == old:
            raise ValidationErrors([ValidationError("grades", "The proposal is the standard in force; change something")])
        if tx.execute("SELECT 1 FROM grade_standard_change WHERE state IN ('submitted', 'chief_approved')").first():
            raise Conflict(N_("A change of the grade standard is already waiting for approval; it must be decided "
                              "first."))
        cid = int(tx.execute(
            "INSERT INTO grade_standard_change (proposed, reason, state, proposed_by_id, proposed_at) VALUES"
            " (:p, :r, 'submitted', :by, :now) RETURNING id",
            {"p": json.dumps(fresh, ensure_ascii=False), "r": clean_reason, "by": actor.staff_id,
             "now": tx.now}).scalar_one())
        changes = {c: [old.get(c), fresh.get(c)] for c in sorted(set(old) | set(fresh)) if old.get(c) != fresh.get(c)}
        tx.audit("grade.standard_propose", entity="grade_standard_change", entity_id=cid,
                 details={"changes": changes, "reason": clean_reason})
    return cid


def _write_standard(tx: Tx, fresh: Mapping[str, Mapping[str, Any]], proposer: int | None) -> dict[str, Any]:
    old = _standard_dict(_standard_in(tx))
    tx.execute("DELETE FROM grade_standard")
    for code, g in fresh.items():
        tx.execute("INSERT INTO grade_standard (code, name, name_en, rank, description, description_en,"
                   " contact_days, criteria, updated_at, updated_by_id) VALUES (:c, :n, :ne, :r, :d, :de, :k,"
                   " :cr, :now, :by)", {"c": code, "n": g["name"], "ne": g["name_en"], "r": g["rank"],
                                       "d": g["description"], "de": g["description_en"],
                                       "k": g["contact_days"], "cr": json.dumps(g["criteria"], ensure_ascii=False),
                                       "now": tx.now, "by": proposer})
    return {c: [old.get(c), fresh.get(c)] for c in sorted(set(old) | set(fresh)) if old.get(c) != fresh.get(c)}


def _change_row(s: Session | Tx, change_id: int) -> dict[str, Any]:
    r = _sess(s).execute(text("SELECT * FROM grade_standard_change WHERE id = :i"), {"i": change_id}).mappings().first()
    if r is None:
        raise NotFound("No grade standard change #{id}.", id=change_id)
    return dict(r)


def decide_standard_change(svc: Services, actor: Actor, change_id: int, approve: bool, comment: str = "") -> str:
    """The management's decision on a proposed standard (R-GRD-1), in two steps: the section chief
    (grade.approve_chief), then the deputy manager (grade.approve_deputy), whose approval puts it
    in force in the same transaction. Neither may be the proposer; the two approvers are two
    people. A rejection needs a reason and ends the proposal. Returns the new state."""
    svc.check_password_current(actor, change=change_id)
    with svc.store.read() as s:
        row = _change_row(s, change_id)
    if row["state"] not in ("submitted", "chief_approved"):
        raise Conflict(N_("This change of the grade standard was already decided ({state})."),
                       state=_(STANDARD_STATES.get(row["state"], row["state"])))
    step = "chief" if row["state"] == "submitted" else "deputy"
    svc.require(actor, "grade.approve_chief" if step == "chief" else "grade.approve_deputy", change=change_id)
    me = set(_me(actor))
    if row["proposed_by_id"] in me:
        raise _deny_standard(svc, actor, change_id, N_("You proposed this change; management must approve it."))
    if step == "deputy" and row["chief_id"] in me:
        raise _deny_standard(svc, actor, change_id, N_("You gave the section chief's approval; the deputy "
                                                       "manager's approval must come from another person."))
    try:
        clean = clean_text(comment, "comment", max_len=dg.COMMENT_MAX, required=not approve, multiline=True)
    except ValidationError as e:
        raise ValidationErrors([e]) from None
    with svc.write(actor) as tx:
        cur = _change_row(tx, change_id)
        if cur["state"] != row["state"]:
            raise Conflict(N_("This change of the grade standard was already decided ({state})."),
                           state=_(STANDARD_STATES.get(cur["state"], cur["state"])))
        if not approve:
            tx.execute("UPDATE grade_standard_change SET state = 'rejected', rejected_by_id = :by, rejected_at = :now,"
                       " reject_reason = :r WHERE id = :i", {"by": actor.staff_id, "now": tx.now, "r": clean,
                                                            "i": change_id})
            tx.audit("grade.standard_reject", entity="grade_standard_change", entity_id=change_id,
                     details={"step": step, "reason": clean})
            return "rejected"
        if step == "chief":
            tx.execute("UPDATE grade_standard_change SET state = 'chief_approved', chief_id = :by, chief_at = :now"
                       " WHERE id = :i", {"by": actor.staff_id, "now": tx.now, "i": change_id})
            tx.audit("grade.standard_approve_chief", entity="grade_standard_change", entity_id=change_id,
                     details={"comment": clean})
            return "chief_approved"
        fresh = _checked_standard(tx, json.loads(cur["proposed"]))  # still valid now (grades in use)
        changes = _write_standard(tx, fresh, cur["proposed_by_id"])
        tx.execute("UPDATE grade_standard_change SET state = 'applied', deputy_id = :by, deputy_at = :now"
                   " WHERE id = :i", {"by": actor.staff_id, "now": tx.now, "i": change_id})
        tx.audit("grade.standard_approve_deputy", entity="grade_standard_change", entity_id=change_id,
                 details={"comment": clean})
        tx.audit("grade.standard_edit", entity="grade_standard", details={"changes": changes, "change": change_id})
    return "applied"


def _deny_standard(svc: Services, actor: Actor, change_id: int, msgid: str) -> PermissionDenied:
    with svc.write(actor) as tx:
        tx.audit("grade.duty_refused", entity="grade_standard_change", entity_id=change_id, details={"rule": msgid})
    return PermissionDenied(msgid)


def standard_changes(svc: Services, actor: Actor, *, limit: int = 50) -> list[StandardChange]:
    """Proposed grade standards, newest first, with their approvals (grade.view)."""
    svc.require(actor, "grade.view")
    with svc.store.read() as s:
        rows = s.execute(text("SELECT * FROM grade_standard_change ORDER BY id DESC LIMIT :n"),
                         {"n": max(1, min(limit, 500))}).mappings().all()
        names = _names(s, [r[k] for r in rows for k in ("proposed_by_id", "chief_id", "deputy_id", "rejected_by_id")])
        current = _standard_dict(_standard_in(s))
    out = []
    for r in rows:
        new = json.loads(r["proposed"])
        changes = {c: [current.get(c), new.get(c)] for c in sorted(set(current) | set(new))
                   if current.get(c) != new.get(c)} if r["state"] in ("submitted", "chief_approved") else {}
        out.append(StandardChange(r["id"], r["state"], r["reason"], names.get(r["proposed_by_id"], ""),
                                  _dt(r["proposed_at"]), names.get(r["chief_id"], ""),  # type: ignore[arg-type]
                                  _dt(r["chief_at"]), names.get(r["deputy_id"], ""), _dt(r["deputy_at"]),
                                  names.get(r["rejected_by_id"], ""), r["reject_reason"] or "", changes))
    return out


# ------------------------------------------------------------------------------------------------
# The contact plan (R-GRD-1: the grade decides how often the customer is contacted)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactDue:
    customer_id: int
    number: str
    name: str
    grade: str
    grade_label: str
    owner: str
    last_contact: datetime | None
    due: date
    days_over: int  # > 0: overdue by that many days; 0: due today; < 0: due later


#: The last contact with a customer: the contact log, a follow-up visit on one of their cards, a
#: complaint's return visit; never contacted counts from the day the archive was opened.
_LAST_CONTACT = (
    "SELECT c.id, c.number, c.name, c.grade, c.owner_id, c.created_at, max(x.at) AS last FROM customer c"
    " LEFT JOIN (SELECT customer_id, at FROM customer_contact"
    "   UNION ALL SELECT fc.customer_id, v.at FROM followup_visit v JOIN followup_card fc ON fc.id = v.card_id"
    "   UNION ALL SELECT k.customer_id, cv.at FROM complaint_visit cv JOIN complaint k ON k.id = cv.complaint_id"
    " ) x ON x.customer_id = c.id"
    " WHERE c.erased_at IS NULL AND c.grade IS NOT NULL{where} GROUP BY c.id")


def contact_plan(svc: Services, actor: Actor, *, due_only: bool = True, owner_id: int | None = None,
                 customer_id: int | None = None, limit: int = 500) -> list[ContactDue]:
    """R-GRD-1: the next contact of every graded customer is due ``contact_days`` (of the grade in
    the standard in force) after the last contact. ``due_only``: those due today or overdue, most
    overdue first; else every graded customer by due date. A customer manager (grade.apply without
    grade.review) sees his own customers. Needs grade.view."""
    svc.require(actor, "grade.view")
    today = svc.now().date()
    where, params = "", {}
    if customer_id is not None:
        where += " AND c.id = :cid"
        params["cid"] = customer_id
    if not actor.can("grade.review") and actor.can("grade.apply") and owner_id is None:
        owner_id = actor.on_behalf_of or actor.staff_id  # under A/B cover: the absent colleague's
    if owner_id is not None:
        where += " AND c.owner_id = :oid"
        params["oid"] = owner_id
    out: list[ContactDue] = []
    with svc.store.read() as s:
        std = _standard_in(s)
        rows = s.execute(text(_LAST_CONTACT.format(where=where + pending.hide(s, "c.id"))), params).all()
        names = _names(s, [r[4] for r in rows])
    for cid, number, name, grade, owner, created, last in rows:
        days = std.contact_days(grade)
        if days is None:
            continue
        last_dt = _dt(last)
        since = (last_dt or _dt(created)).date()  # type: ignore[union-attr]
        due = date.fromordinal(since.toordinal() + days)
        over = (today - due).days
        if due_only and over < 0:
            continue
        out.append(ContactDue(int(cid), number, name, grade, std.label(grade), names.get(owner, "") if owner else "",
                              last_dt, due, over))
    out.sort(key=lambda d: (d.due, d.number))
    return out[:max(1, min(limit, 5000))]


# ------------------------------------------------------------------------------------------------
# Report (changes per period) and export
# ------------------------------------------------------------------------------------------------


def report(svc: Services, actor: Actor, start: date, end: date) -> Report:
    """Applications filed between ``start`` and ``end`` (inclusive): how many went up, down, were
    rejected, applied late, and the average time from filing to the final approval. Needs grade.view."""
    svc.require(actor, "grade.view")
    if end < start:
        raise ValidationErrors([ValidationError("end_date", "The period cannot end before it starts")])
    with svc.store.read() as s:
        std = _standard_in(s)
        rows = s.execute(text(
            "SELECT a.id, c.number, c.name, c.erased_at, a.from_grade, a.to_grade, a.state, a.filed_at, a.deputy_at,"
            " a.applied_at, a.apply_due FROM grade_application a JOIN customer c ON c.id = a.customer_id"
            " WHERE a.filed_at >= :s AND a.filed_at < :e ORDER BY a.id"),
            {"s": datetime.combine(start, datetime.min.time()),
             "e": datetime.combine(date.fromordinal(end.toordinal() + 1), datetime.min.time())}).all()
    applied = [r for r in rows if r[6] in (dg.APPLIED, dg.ACKNOWLEDGED)]
    dirs = [std.direction(r[4], r[5]) for r in applied]
    hours = [((_dt(r[8]) - _dt(r[7])).total_seconds() / 3600) for r in rows if r[8]]  # type: ignore[operator]
    table = [(r[1], r[2] if r[3] is None else _("(erased)"), std.label(r[4]), std.label(r[5]),
              _(dg.STATE_LABELS[r[6]]), str(r[7])[:16], str(r[9])[:16] if r[9] else "") for r in rows]
    return Report(start, end, len(rows), len(applied), dirs.count("up"), dirs.count("down"), dirs.count("new"),
                  sum(r[6] == dg.REJECTED for r in rows), sum(r[6] in dg.OPEN_STATES for r in rows),
                  sum(1 for r in applied if r[10] and _dt(r[9]) > _dt(r[10])),  # type: ignore[operator]
                  round(sum(hours) / len(hours), 1) if hours else None, table)


def export_report(svc: Services, actor: Actor, start: date, end: date, path: str | Path) -> Path:
    """The report as XLSX (a summary sheet and one row per application). Needs report.view; audited."""
    svc.require(actor, "report.view")
    rep = report(svc, actor, start, end)
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")[:31]
    for label, value in ((N_("From"), rep.start.isoformat()), (N_("To"), rep.end.isoformat()),
                         (N_("Applications filed"), rep.filed), (N_("Applied"), rep.applied), (N_("Up"), rep.up),
                         (N_("Down"), rep.down), (N_("First grade"), rep.new), (N_("Rejected"), rep.rejected),
                         (N_("Still open"), rep.open), (N_("Applied late"), rep.applied_late),
                         (N_("Average hours from filing to final approval"),
                          "" if rep.avg_approval_hours is None else rep.avg_approval_hours)):
        ws.append([_(label), value])
    sheet = wb.create_sheet(_("Applications")[:31])
    sheet.append([_("Customer number"), _("Name"), _("From grade"), _("To grade"), _("State"), _("Filed"),
                  _("Applied")])
    for row in rep.rows:
        sheet.append(list(row))
    target = Path(path)
    with private_file(target) as fh:
        wb.save(fh)
    with svc.write(actor) as tx:
        tx.audit("grade.report_export", details={"start": start.isoformat(), "end": end.isoformat(),
                                                 "rows": len(rep.rows)})
    return target


@register_erase_hook("grades")
def _erase_grade_texts(tx: Tx, customer_id: int) -> list[str]:
    """R-CUST-13: an erased customer's applications keep grades, states, people and times (the
    internal-control filing stays complete); the free texts about the customer are destroyed."""
    n = tx.execute("UPDATE grade_application SET reason = '', evidence = NULL, chief_comment = NULL,"
                   " deputy_comment = NULL, reject_reason = NULL WHERE customer_id = :c",
                   {"c": customer_id}).rowcount
    return ["grade_application"] if n else []
