"""Grade change applications (R-GRD-3): filing, the two approvals, the apply step (the ONLY writer
of ``customer.grade``, R-GRD-4) with the filing with internal control (内管备案), and its
acknowledgement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_tui.domain import grades as dg
from crm_tui.domain.errors import Conflict, PermissionDenied, ValidationError, ValidationErrors
from crm_tui.i18n import N_
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.grades.common import (
    _app, _calendar, _customer, _dt, _me, _parties, _period_row, _refuse_duty, _standard_in,
)
from crm_tui.store.audit import PersonalChange
from crm_tui.store.queries import grades as q

# ------------------------------------------------------------------------------------------------
# Filing
# ------------------------------------------------------------------------------------------------


def _insert_application(tx: Tx, actor: Actor, cust: Mapping[str, Any], clean: dg.ApplicationInput,
                        period_id: int | None) -> int:
    from crm_tui.services import customer_rules

    customer_rules.require_business_open(tx, cust["id"], N_("grade change application"))  # R-CUST-3
    open_ = q.open_application_id(tx.session, cust["id"])
    if open_ is not None:
        raise Conflict("Customer {number} already has an open grade change application (#{id}).",
                       number=cust["number"], id=open_)
    app_id = q.insert_application(tx.session, customer_id=cust["id"], from_grade=cust["grade"],
                                  to_grade=clean.to_grade, reason=clean.reason, evidence=clean.evidence,
                                  applicant_id=actor.staff_id, now=tx.now, period_id=period_id)
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
            if q.decide(tx.session, app_id, frm, sets) != 1:  # pragma: no cover - BEGIN IMMEDIATE makes this unreachable
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
    q.insert_history(tx.session, customer_id=row["customer_id"], application_id=row["id"],
                     from_grade=row["current_grade"], to_grade=row["to_grade"], now=tx.now, by_id=actor.staff_id)


def _insert_filing(tx: Tx, row: Mapping[str, Any], actor: Actor) -> int:
    return q.insert_filing(tx.session, application_id=row["id"], customer_id=row["customer_id"],
                           from_grade=row["current_grade"], to_grade=row["to_grade"], now=tx.now,
                           by_id=actor.staff_id)


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
            if q.set_customer_grade(tx.session, row["customer_id"], grade=row["to_grade"], old=row["current_grade"],
                                    now=tx.now, by_id=actor.staff_id) != 1:  # pragma: no cover - checked above inside the same transaction
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
            q.mark_applied(tx.session, app_id, by_id=actor.staff_id, now=tx.now)
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
            q.acknowledge_filing(tx.session, app_id, by_id=actor.staff_id, now=tx.now, note=clean)
            tx.audit("grade.acknowledge", entity="grade_application", entity_id=app_id, customer_id=row["customer_id"],
                     details={"application": app_id, "number": row["customer_number"],
                              "state": ["applied", "acknowledged"]},
                     personal=[PersonalChange("comment", None, clean)] if clean else ())
    except PermissionDenied as e:
        _refuse_duty(svc, actor, "acknowledge", app_id, e)
        raise

