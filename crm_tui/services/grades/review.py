"""Grade review periods (等级评定期, R-GRD-2): opening and closing them, the customers whose
criteria suggest another grade, bulk filing and the section chief's review."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from crm_tui.domain import grades as dg
from crm_tui.domain.customers import load_policy
from crm_tui.domain.errors import Conflict, NotFound, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.services.context import Actor, Services
from crm_tui.services.grades.applications import _insert_application
from crm_tui.services.grades.common import (
    BulkResult, Candidate, CandidatePage, Period, _calendar, _customer, _period_row, _standard_in,
)
from crm_tui.store.queries import grades as q

# ------------------------------------------------------------------------------------------------
# Review periods (R-GRD-2) and bulk filing
# ------------------------------------------------------------------------------------------------


def periods(svc: Services, actor: Actor) -> list[Period]:
    """Every review period, newest first. Needs grade.view or grade.period_manage."""
    if not actor.can("grade.period_manage"):
        svc.require(actor, "grade.view")
    with svc.store.read() as s:
        ids = q.period_ids(s)
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
        if q.open_period_exists(tx.session):
            raise Conflict("A review period is already open; close it first.")
        pid = q.insert_period(tx.session, name=clean_name, start=dates["start_date"], end=dates["end_date"],
                              now=tx.now, by_id=actor.staff_id)
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
        q.close_period(tx.session, period_id, now=tx.now, by_id=actor.staff_id, due=due)
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
            batch = q.candidate_batch(s, last)
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
            q.mark_reviewed_if_due(tx.session, period_id, now=tx.now, by_id=actor.staff_id)
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
        q.mark_reviewed(tx.session, period_id, now=tx.now, by_id=actor.staff_id)
        late = p.review_due is not None and tx.now > p.review_due
        tx.audit("grade.period_reviewed", entity="grade_review_period", entity_id=period_id,
                 details={"name": p.name, "late": late})

