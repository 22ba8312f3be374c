"""The branch's holiday schedule and the open deadlines a change of it moves (services/holidays)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

REVISION_KEY = "holiday_revision"


def revision(s: Session) -> str:
    """The schedule's revision mark: changes with every change of the branch's entries."""
    return str(s.execute(text("SELECT value FROM app_meta WHERE key = :k"), {"k": REVISION_KEY}).scalar() or "")


def new_revision(s: Session, value: str) -> None:
    s.execute(text("INSERT INTO app_meta (key, value) VALUES (:k, :v) ON CONFLICT(key) DO UPDATE SET"
                   " value = excluded.value"), {"k": REVISION_KEY, "v": value})


def entries(s: Session, years: Iterable[int] | None = None) -> list[tuple[Any, str, str]]:
    """(day, kind, name) of the branch's entries (of ``years`` when given), by day."""
    sql = "SELECT day, kind, name FROM holiday_entry"
    params: dict[str, Any] = {}
    if years is not None:
        ys = sorted(set(years))
        sql += " WHERE day >= :a AND day <= :b"
        params = {"a": date(ys[0], 1, 1).isoformat(), "b": date(ys[-1], 12, 31).isoformat()}
    return [(d, k, n) for d, k, n in s.execute(text(sql + " ORDER BY day"), params).all()]


def has_entry(s: Session, day: date) -> bool:
    return s.execute(text("SELECT 1 FROM holiday_entry WHERE day = :d"), {"d": day.isoformat()}).first() is not None


def delete_entry(s: Session, day: date) -> None:
    s.execute(text("DELETE FROM holiday_entry WHERE day = :d"), {"d": day.isoformat()})


def put_entry(s: Session, day: date, kind: str, name: str, at: datetime, by: int | None) -> None:
    s.execute(text("INSERT INTO holiday_entry (day, kind, name, updated_at, updated_by_id)"
                   " VALUES (:d, :k, :n, :at, :by) ON CONFLICT(day) DO UPDATE SET kind = excluded.kind,"
                   " name = excluded.name, updated_at = excluded.updated_at, updated_by_id = excluded.updated_by_id"),
              {"d": day.isoformat(), "k": kind, "n": name, "at": at, "by": by})


def moved_notices(s: Session, owner_id: int, since: datetime) -> int:
    """Deadlines of ``owner_id`` a schedule change moved since ``since`` (their audit rows)."""
    return int(s.execute(text(
        "SELECT count(*) FROM audit_log WHERE action = 'holiday.deadline_moved' AND at >= :since"
        " AND json_extract(details, '$.owner_id') = :me"), {"since": since, "me": owner_id}).scalar_one())


# -- open deadlines whose counting may cross changed days [a, b] ------------------------------------------


def open_card_dues(s: Session, first: str, last: str) -> list[tuple[Any, ...]]:
    """(id, number, owner, intent level, card date, last visit, next visit due) of open cards whose
    computed (not hand-set) due date is on or after ``first`` and opened by ``last``."""
    return [tuple(r) for r in s.execute(text(
        "SELECT id, number, owner_id, intent_level, card_date, last_visit_at, next_visit_due FROM followup_card"
        " WHERE status = 'open' AND next_visit_due IS NOT NULL AND next_due_reason IS NULL"
        " AND next_visit_due >= :a AND card_date <= :b"), {"a": first, "b": last}).all()]


def set_card_due(s: Session, card_id: int, due: str) -> None:
    s.execute(text("UPDATE followup_card SET next_visit_due = :d WHERE id = :i"), {"d": due, "i": card_id})


def complaint_dues(s: Session, first: str, before: str) -> list[tuple[Any, ...]]:
    """(id, number, assignee, due at) of tickets due on or after ``first``, received before ``before``."""
    return [tuple(r) for r in s.execute(text(
        "SELECT id, number, assignee_id, due_at FROM complaint WHERE due_at IS NOT NULL AND due_at >= :a"
        " AND received_at < :b"), {"a": first, "b": before}).all()]


def application_dues(s: Session, first: str, before: str) -> list[tuple[Any, ...]]:
    """(id, customer number, applicant, deputy approval at, apply due) of approved applications not
    applied or rejected, due on or after ``first``, approved before ``before``."""
    return [tuple(r) for r in s.execute(text(
        "SELECT a.id, c.number, a.applicant_id, a.deputy_at, a.apply_due FROM grade_application a"
        " JOIN customer c ON c.id = a.customer_id WHERE a.apply_due IS NOT NULL AND a.applied_at IS NULL"
        " AND a.rejected_at IS NULL AND a.apply_due >= :a AND a.deputy_at < :b"), {"a": first, "b": before}).all()]


def set_application_due(s: Session, application_id: int, due: datetime) -> None:
    s.execute(text("UPDATE grade_application SET apply_due = :d WHERE id = :i"), {"d": due, "i": application_id})


def review_period_dues(s: Session, first: str, before: str) -> list[tuple[Any, ...]]:
    """(id, name, closed by, end date, review due) of closed review periods not reviewed."""
    return [tuple(r) for r in s.execute(text(
        "SELECT id, name, closed_by_id, end_date, review_due FROM grade_review_period WHERE review_due IS NOT NULL"
        " AND reviewed_at IS NULL AND review_due >= :a AND end_date < :b"), {"a": first, "b": before}).all()]


def set_review_due(s: Session, period_id: int, due: datetime) -> None:
    s.execute(text("UPDATE grade_review_period SET review_due = :d WHERE id = :i"), {"d": due, "i": period_id})


def incomplete_dues(s: Session, first: str, before: str) -> list[tuple[Any, ...]]:
    """(id, number, owner, created at, incomplete due) of live incomplete archives."""
    return [tuple(r) for r in s.execute(text(
        "SELECT id, number, owner_id, created_at, incomplete_due FROM customer WHERE incomplete_due IS NOT NULL"
        " AND erased_at IS NULL AND incomplete_due >= :a AND created_at < :b"), {"a": first, "b": before}).all()]


def set_incomplete_due(s: Session, customer_id: int, due: datetime) -> None:
    s.execute(text("UPDATE customer SET incomplete_due = :d WHERE id = :i"), {"d": due, "i": customer_id})
