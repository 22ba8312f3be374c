"""The SQL of grade changes (services/grades, issue 8, R-GRD-1..4): the standard, applications,
the apply step, the filing with internal control, queues, review periods and the contact plan.

Every function runs inside the caller's transaction (``Session``); the service owns the
permission check, separation of duties, the transaction and the audit row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.store import pending

OPEN_STATES_SQL = "('submitted', 'chief_approved', 'approved')"


def _dt(v: Any) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))


def staff_names(s: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Display names of the given staff ids (None ignored)."""
    wanted = sorted({int(i) for i in ids if i is not None})
    if not wanted:
        return {}
    rows = s.execute(text(f"SELECT id, display_name FROM staff WHERE id IN ({','.join(map(str, wanted))})"))
    return {r[0]: r[1] for r in rows}


# ------------------------------------------------------------------------------------------------
# The standard (R-GRD-1)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StandardRow:
    code: str
    name: str
    name_en: str
    rank: int
    description: str
    description_en: str
    contact_days: int | None
    criteria: str | None  # JSON


def standard_rows(s: Session) -> list[StandardRow]:
    """The administrator's grade standard, highest rank first (empty: the shipped one is in force)."""
    rows = s.execute(text("SELECT code, name, name_en, rank, description, description_en, contact_days,"
                          " criteria FROM grade_standard ORDER BY rank")).all()
    return [StandardRow(*r) for r in rows]


def replace_standard(s: Session, rows: Mapping[str, Mapping[str, Any]], *, now: datetime, by_id: int | None) -> None:
    """Put a new standard in force: every grade row replaced (code -> name, name_en, rank,
    description, description_en, contact_days, criteria; the criteria stored as JSON)."""
    s.execute(text("DELETE FROM grade_standard"))
    for code, g in rows.items():
        s.execute(text("INSERT INTO grade_standard (code, name, name_en, rank, description, description_en,"
                       " contact_days, criteria, updated_at, updated_by_id) VALUES (:c, :n, :ne, :r, :d, :de, :k,"
                       " :cr, :now, :by)"), {"c": code, "n": g["name"], "ne": g["name_en"], "r": g["rank"],
                                             "d": g["description"], "de": g["description_en"],
                                             "k": g["contact_days"], "cr": json.dumps(g["criteria"], ensure_ascii=False),
                                             "now": now, "by": by_id})


def grades_in_use(s: Session) -> set[str]:
    """Grades some customer has or some open application asks for."""
    return {r[0] for r in s.execute(text("SELECT DISTINCT grade FROM customer WHERE grade IS NOT NULL"
                                         " UNION SELECT to_grade FROM grade_application WHERE state IN"
                                         " ('submitted', 'chief_approved', 'approved')"))}


def standard_change_pending(s: Session) -> bool:
    return s.execute(text("SELECT 1 FROM grade_standard_change WHERE state IN ('submitted', 'chief_approved')"
                          )).first() is not None


def insert_standard_change(s: Session, *, proposed_json: str, reason: str | None, by_id: int | None,
                           now: datetime) -> int:
    return int(s.execute(text(
        "INSERT INTO grade_standard_change (proposed, reason, state, proposed_by_id, proposed_at) VALUES"
        " (:p, :r, 'submitted', :by, :now) RETURNING id"),
        {"p": proposed_json, "r": reason, "by": by_id, "now": now}).scalar_one())


#: The columns of a ``grade_standard_change`` row, as :func:`standard_change` returns them.
CHANGE_COLUMNS = ("id", "proposed", "reason", "state", "proposed_by_id", "proposed_at", "chief_id", "chief_at",
                  "deputy_id", "deputy_at", "rejected_by_id", "rejected_at", "reject_reason")


def standard_change(s: Session, change_id: int) -> dict[str, Any] | None:
    """One proposed standard (every column of ``grade_standard_change``), or None."""
    r = s.execute(text("SELECT * FROM grade_standard_change WHERE id = :i"), {"i": change_id}).mappings().first()
    return None if r is None else dict(r)


def standard_changes(s: Session, limit: int) -> list[dict[str, Any]]:
    """Proposed standards, newest first (every column of ``grade_standard_change``)."""
    return [dict(r) for r in s.execute(text("SELECT * FROM grade_standard_change ORDER BY id DESC LIMIT :n"),
                                       {"n": limit}).mappings().all()]


def reject_standard_change(s: Session, change_id: int, *, by_id: int | None, now: datetime,
                           reason: str | None) -> None:
    s.execute(text("UPDATE grade_standard_change SET state = 'rejected', rejected_by_id = :by, rejected_at = :now,"
                   " reject_reason = :r WHERE id = :i"), {"by": by_id, "now": now, "r": reason, "i": change_id})


def approve_standard_change_chief(s: Session, change_id: int, *, by_id: int | None, now: datetime) -> None:
    s.execute(text("UPDATE grade_standard_change SET state = 'chief_approved', chief_id = :by, chief_at = :now"
                   " WHERE id = :i"), {"by": by_id, "now": now, "i": change_id})


def apply_standard_change(s: Session, change_id: int, *, by_id: int | None, now: datetime) -> None:
    s.execute(text("UPDATE grade_standard_change SET state = 'applied', deputy_id = :by, deputy_at = :now"
                   " WHERE id = :i"), {"by": by_id, "now": now, "i": change_id})


# ------------------------------------------------------------------------------------------------
# Customers and applications
# ------------------------------------------------------------------------------------------------


def customer(s: Session, customer_id: int) -> dict[str, Any] | None:
    """id, number, name, grade, erased_at, category, credit_rating, risk_rating, coop_since,
    important of one customer, or None."""
    r = s.execute(text("SELECT id, number, name, grade, erased_at, category, credit_rating, risk_rating,"
                       " coop_since, important FROM customer WHERE id = :i"), {"i": customer_id}).mappings().first()
    return None if r is None else dict(r)


def application(s: Session, app_id: int) -> dict[str, Any] | None:
    """Every column of ``grade_application`` with customer_number, customer_name, current_grade and
    customer_erased_at, or None."""
    r = s.execute(text("SELECT a.*, c.number AS customer_number, c.name AS customer_name,"
                       " c.grade AS current_grade, c.erased_at AS customer_erased_at"
                       " FROM grade_application a JOIN customer c ON c.id = a.customer_id WHERE a.id = :i"),
                  {"i": app_id}).mappings().first()
    return None if r is None else dict(r)


def open_application_id(s: Session, customer_id: int) -> int | None:
    r = s.execute(text("SELECT id FROM grade_application WHERE customer_id = :c AND state IN"
                       " ('submitted', 'chief_approved', 'approved')"), {"c": customer_id}).first()
    return None if r is None else r[0]


def insert_application(s: Session, *, customer_id: int, from_grade: str | None, to_grade: str, reason: str,
                       evidence: str | None, applicant_id: int | None, now: datetime, period_id: int | None) -> int:
    return int(s.execute(text(
        "INSERT INTO grade_application (customer_id, from_grade, to_grade, reason, evidence, state, applicant_id,"
        " filed_at, period_id, version) VALUES (:c, :f, :t, :r, :e, 'submitted', :a, :now, :p, 1) RETURNING id"),
        {"c": customer_id, "f": from_grade, "t": to_grade, "r": reason, "e": evidence, "a": applicant_id,
         "now": now, "p": period_id}).scalar_one())


_DECISION_COLUMNS = frozenset({"state", "rejected_by_id", "rejected_at", "reject_reason", "chief_id", "chief_at",
                               "chief_comment", "deputy_id", "deputy_at", "deputy_comment", "apply_due"})


def decide(s: Session, app_id: int, from_state: str, sets: Mapping[str, Any]) -> int:
    """Record a decision (the given columns) on an application still in ``from_state``; rows changed."""
    unknown = set(sets) - _DECISION_COLUMNS
    if unknown:
        raise ValueError(f"not a decision column: {sorted(unknown)}")
    assign = ", ".join(f"{k} = :{k}" for k in sets)
    return int(s.execute(text(f"UPDATE grade_application SET {assign}, version = version + 1 WHERE id = :_id"
                              " AND state = :_from"), {**sets, "_id": app_id, "_from": from_state}
                         ).rowcount)  # type: ignore[attr-defined]


def insert_history(s: Session, *, customer_id: int, application_id: int, from_grade: str | None, to_grade: str,
                   now: datetime, by_id: int | None) -> None:
    s.execute(text("INSERT INTO grade_history (customer_id, application_id, from_grade, to_grade, changed_at,"
                   " changed_by_id) VALUES (:c, :a, :f, :t, :now, :by)"),
              {"c": customer_id, "a": application_id, "f": from_grade, "t": to_grade, "now": now, "by": by_id})


def insert_filing(s: Session, *, application_id: int, customer_id: int, from_grade: str | None, to_grade: str,
                  now: datetime, by_id: int | None) -> int:
    return int(s.execute(text(
        "INSERT INTO grade_filing (application_id, customer_id, from_grade, to_grade, filed_at, filed_by_id)"
        " VALUES (:a, :c, :f, :t, :now, :by) RETURNING id"),
        {"a": application_id, "c": customer_id, "f": from_grade, "t": to_grade, "now": now, "by": by_id}
    ).scalar_one())


def set_customer_grade(s: Session, customer_id: int, *, grade: str, old: str | None, now: datetime,
                       by_id: int | None) -> int:
    """The only writer of ``customer.grade`` (R-GRD-4), if the grade is still ``old``; rows changed."""
    return int(s.execute(text("UPDATE customer SET grade = :g, version = version + 1, updated_at = :now,"
                              " updated_by_id = :by, last_activity_at = :now WHERE id = :c"
                              " AND coalesce(grade, '') = coalesce(:old, '')"),
                         {"g": grade, "now": now, "by": by_id, "c": customer_id, "old": old}
                         ).rowcount)  # type: ignore[attr-defined]


def mark_applied(s: Session, app_id: int, *, by_id: int | None, now: datetime) -> None:
    s.execute(text("UPDATE grade_application SET state = 'applied', applied_by_id = :by, applied_at = :now,"
                   " version = version + 1 WHERE id = :i AND state = 'approved'"), {"by": by_id, "now": now, "i": app_id})


def acknowledge_filing(s: Session, app_id: int, *, by_id: int | None, now: datetime, note: str | None) -> None:
    s.execute(text("UPDATE grade_filing SET acknowledged_by_id = :by, acknowledged_at = :now, note = :n"
                   " WHERE application_id = :a"), {"by": by_id, "now": now, "n": note, "a": app_id})
    s.execute(text("UPDATE grade_application SET state = 'acknowledged', version = version + 1 WHERE id = :i"),
              {"i": app_id})


def filing_ack(s: Session, app_id: int) -> tuple[int | None, datetime | None, str | None] | None:
    """(acknowledged_by_id, acknowledged_at, note) of the application's filing, or None."""
    r = s.execute(text("SELECT acknowledged_by_id, acknowledged_at, note FROM grade_filing"
                       " WHERE application_id = :a"), {"a": app_id}).first()
    return None if r is None else (r[0], _dt(r[1]), r[2])


def step_comments(s: Session, app_id: int) -> dict[int, str]:
    """The comments of an application's steps, by audit id."""
    rows = s.execute(text("SELECT l.id, v.new_value FROM audit_log l JOIN audit_value v ON v.audit_id = l.id"
                          " WHERE l.entity = 'grade_application' AND l.entity_id = :e AND v.field = 'comment'"),
                     {"e": str(app_id)}).all()
    return {r[0]: r[1] for r in rows}


@dataclass(frozen=True)
class AuditStep:
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str


def application_steps(s: Session, app_id: int) -> list[AuditStep]:
    """The audit entries (grade.*) of one application, oldest first."""
    rows = s.execute(text("SELECT id, at, actor_id, actor_name, action FROM audit_log WHERE entity ="
                          " 'grade_application' AND entity_id = :e AND action LIKE 'grade.%' ORDER BY id"),
                     {"e": str(app_id)}).all()
    return [AuditStep(r[0], _dt(r[1]), r[2], r[3], r[4]) for r in rows]  # type: ignore[arg-type]


def customer_history(s: Session, customer_id: int) -> list[tuple[datetime, str | None, str, int | None]]:
    """(changed_at, from, to, changed_by_id) of the customer's grades, newest first."""
    rows = s.execute(text("SELECT changed_at, from_grade, to_grade, changed_by_id FROM grade_history"
                          " WHERE customer_id = :c ORDER BY id DESC"), {"c": customer_id}).all()
    return [(_dt(r[0]), r[1], r[2], r[3]) for r in rows]  # type: ignore[misc]


# ------------------------------------------------------------------------------------------------
# Queues
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    """Which applications a queue holds for one reader. ``me``: the reader's identities (self and,
    under cover, the colleague); ``chief`` / ``deputy``: the approval steps the reader may take
    (the "approve" queue); ``order``: "asc" (work queues, oldest first) or "desc"."""

    kind: str
    me: tuple[int, ...]
    order: str
    chief: bool = False
    deputy: bool = False


def _where(f: QueueFilter) -> str:
    ids = ",".join(map(str, f.me))
    if f.kind == "approve":
        parts = []
        if f.chief:
            parts.append(f"(a.state = 'submitted' AND a.applicant_id NOT IN ({ids}))")
        if f.deputy:
            parts.append(f"(a.state = 'chief_approved' AND a.applicant_id NOT IN ({ids})"
                         f" AND a.chief_id NOT IN ({ids}))")
        return "(" + " OR ".join(parts) + ")"
    if f.kind == "apply":
        return "a.state = 'approved'"
    if f.kind == "acknowledge":
        return (f"a.state = 'applied' AND a.applicant_id NOT IN ({ids}) AND coalesce(a.chief_id, -2) NOT IN ({ids})"
                f" AND coalesce(a.deputy_id, -2) NOT IN ({ids}) AND coalesce(a.applied_by_id, -2) NOT IN ({ids})")
    if f.kind == "mine":
        return f"a.applicant_id IN ({ids})"
    if f.kind == "all":
        return "1 = 1"
    raise ValueError(f"unknown queue {f.kind!r}")


@dataclass(frozen=True)
class ApplicationLine:
    id: int
    customer_id: int
    customer_number: str
    customer_name: str
    customer_erased: bool
    from_grade: str | None
    to_grade: str
    state: str
    applicant_id: int
    filed_at: datetime
    apply_due: datetime | None
    applied_at: datetime | None


def queue_page(s: Session, f: QueueFilter, *, limit: int, cursor: str | None = None,
               customer_id: int | None = None) -> list[ApplicationLine]:
    """Up to ``limit + 1`` applications of a queue after ``cursor`` (an application id)."""
    where = _where(f)
    params: dict[str, Any] = {}
    if customer_id is not None:
        where += " AND a.customer_id = :cid"
        params["cid"] = customer_id
    if cursor:
        where += " AND a.id > :cur" if f.order == "asc" else " AND a.id < :cur"
        params["cur"] = int(cursor)
    rows = s.execute(text("SELECT a.id, a.customer_id, c.number, c.name, c.erased_at, a.from_grade, a.to_grade,"
                          " a.state, a.applicant_id, a.filed_at, a.apply_due, a.applied_at"
                          " FROM grade_application a JOIN customer c ON c.id = a.customer_id"
                          f" WHERE {where} ORDER BY a.id {f.order.upper()} LIMIT :n"),
                     {**params, "n": limit + 1}).all()
    return [ApplicationLine(r[0], r[1], r[2], r[3], r[4] is not None, r[5], r[6], r[7], r[8], _dt(r[9]),  # type: ignore[arg-type]
                            _dt(r[10]), _dt(r[11])) for r in rows]


def queue_count(s: Session, f: QueueFilter, *, due_before: datetime | None = None) -> int:
    """How many applications the queue holds (``due_before``: only those to apply before then)."""
    extra, params = "", {}
    if due_before is not None:
        extra, params = " AND a.apply_due < :now", {"now": due_before}
    return int(s.execute(text(f"SELECT count(*) FROM grade_application a WHERE {_where(f)}{extra}"),
                         params).scalar_one())


# ------------------------------------------------------------------------------------------------
# Timeline (R-CUST-14) and erasure (R-CUST-13)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineAudit:
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    details: str | None  # JSON


def timeline_audit(s: Session, customer_id: int, actions: Sequence[str], before: datetime | None,
                   limit: int) -> list[TimelineAudit]:
    """The customer's audit entries of ``actions``, newest first."""
    listed = ",".join(f"'{a}'" for a in actions)
    params: dict[str, Any] = {"c": customer_id, "n": limit}
    where = ""
    if before is not None:
        where = " AND at <= :b"
        params["b"] = before.isoformat(sep=" ", timespec="microseconds")
    rows = s.execute(text(f"SELECT id, at, actor_id, actor_name, action, details FROM audit_log WHERE customer_id = :c"
                          f" AND action IN ({listed}){where} ORDER BY id DESC LIMIT :n"), params).all()
    return [TimelineAudit(r[0], _dt(r[1]), r[2], r[3], r[4], r[5]) for r in rows]  # type: ignore[arg-type]


def audit_texts(s: Session, audit_ids: Sequence[int]) -> dict[int, dict[str, str | None]]:
    """The personal values (field -> new value) of the given audit entries."""
    texts: dict[int, dict[str, str | None]] = {}
    if not audit_ids:
        return texts
    ids = ",".join(str(i) for i in audit_ids)
    for v in s.execute(text(f"SELECT audit_id, field, new_value FROM audit_value WHERE audit_id IN ({ids})")):
        texts.setdefault(v[0], {})[v[1]] = v[2]
    return texts


def erase_texts(s: Session, customer_id: int) -> int:
    """Destroy the free texts of an erased customer's applications; rows touched."""
    return int(s.execute(text("UPDATE grade_application SET reason = '', evidence = NULL, chief_comment = NULL,"
                              " deputy_comment = NULL, reject_reason = NULL WHERE customer_id = :c"),
                         {"c": customer_id}).rowcount)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------------
# Review periods (R-GRD-2)
# ------------------------------------------------------------------------------------------------


def period(s: Session, period_id: int) -> tuple[int, str, Any, Any, datetime | None, datetime | None,
                                                 datetime | None] | None:
    """(id, name, start_date, end_date, closed_at, review_due, reviewed_at) or None; dates as stored."""
    r = s.execute(text("SELECT id, name, start_date, end_date, closed_at, review_due, reviewed_at"
                       " FROM grade_review_period WHERE id = :i"), {"i": period_id}).first()
    return None if r is None else (r[0], r[1], r[2], r[3], _dt(r[4]), _dt(r[5]), _dt(r[6]))


def period_ids(s: Session) -> list[int]:
    """Every review period, newest first."""
    return [r[0] for r in s.execute(text("SELECT id FROM grade_review_period ORDER BY id DESC"))]


def periods_to_review(s: Session, today: date) -> list[int]:
    """Periods not yet reviewed that are closed or past their last day."""
    return [int(r[0]) for r in s.execute(text(
        "SELECT id FROM grade_review_period WHERE reviewed_at IS NULL"
        " AND (closed_at IS NOT NULL OR end_date < :today)"), {"today": today})]


def open_period_exists(s: Session) -> bool:
    return s.execute(text("SELECT 1 FROM grade_review_period WHERE closed_at IS NULL")).first() is not None


def insert_period(s: Session, *, name: str | None, start: date, end: date, now: datetime, by_id: int | None) -> int:
    return int(s.execute(text("INSERT INTO grade_review_period (name, start_date, end_date, opened_at, opened_by_id)"
                              " VALUES (:n, :s, :e, :now, :by) RETURNING id"),
                         {"n": name, "s": start, "e": end, "now": now, "by": by_id}).scalar_one())


def close_period(s: Session, period_id: int, *, now: datetime, by_id: int | None, due: datetime) -> None:
    s.execute(text("UPDATE grade_review_period SET closed_at = :now, closed_by_id = :by, review_due = :due"
                   " WHERE id = :i"), {"now": now, "by": by_id, "due": due, "i": period_id})


def mark_reviewed(s: Session, period_id: int, *, now: datetime, by_id: int | None) -> None:
    s.execute(text("UPDATE grade_review_period SET reviewed_at = :now, reviewed_by_id = :by WHERE id = :i"),
              {"now": now, "by": by_id, "i": period_id})


def mark_reviewed_if_due(s: Session, period_id: int, *, now: datetime, by_id: int | None) -> None:
    """The bulk filing of a closed (or ended) period records its review, once."""
    s.execute(text("UPDATE grade_review_period SET reviewed_at = coalesce(reviewed_at, :now),"
                   " reviewed_by_id = coalesce(reviewed_by_id, :by) WHERE id = :i"
                   " AND (closed_at IS NOT NULL OR end_date < :today)"),
              {"now": now, "by": by_id, "i": period_id, "today": now.date()})


def candidate_batch(s: Session, after_id: int, size: int = 500) -> list[dict[str, Any]]:
    """Up to ``size`` customers after ``after_id`` (published, not erased, no open application): id,
    number, name, grade, category, credit_rating, risk_rating, coop_since, important, size, kind."""
    return [dict(r) for r in s.execute(text(
        "SELECT c.id, c.number, c.name, c.grade, c.category, c.credit_rating, c.risk_rating, c.coop_since,"
        " c.important, c.size, c.kind FROM customer c WHERE c.id > :last AND c.erased_at IS NULL" + pending.hide(s, "c.id")
        + " AND NOT EXISTS (SELECT 1"
        " FROM grade_application a WHERE a.customer_id = c.id AND a.state IN ('submitted', 'chief_approved',"
        f" 'approved')) ORDER BY c.id LIMIT {int(size)}"), {"last": after_id}).mappings().all()]


# ------------------------------------------------------------------------------------------------
# Contact plan (R-GRD-1) and report
# ------------------------------------------------------------------------------------------------

#: The last contact with a customer: the contact log, a follow-up visit on one of their cards, a
#: complaint's return visit; never contacted counts from the day the archive was opened.
_LAST_CONTACT = (
    "SELECT c.id, c.number, c.name, c.grade, c.owner_id, c.created_at, max(x.at) AS last FROM customer c"
    " LEFT JOIN (SELECT customer_id, at FROM customer_contact"
    "   UNION ALL SELECT fc.customer_id, v.at FROM followup_visit v JOIN followup_card fc ON fc.id = v.card_id"
    "   UNION ALL SELECT k.customer_id, cv.at FROM complaint_visit cv JOIN complaint k ON k.id = cv.complaint_id"
    " ) x ON x.customer_id = c.id"
    " WHERE c.erased_at IS NULL AND c.grade IS NOT NULL{where} GROUP BY c.id")


@dataclass(frozen=True)
class LastContact:
    customer_id: int
    number: str
    name: str
    grade: str
    owner_id: int | None
    created_at: datetime
    last: datetime | None


def last_contacts(s: Session, *, customer_id: int | None = None, owner_id: int | None = None) -> list[LastContact]:
    """Every graded (published, not erased) customer with the time of the last contact."""
    where, params = "", {}
    if customer_id is not None:
        where += " AND c.id = :cid"
        params["cid"] = customer_id
    if owner_id is not None:
        where += " AND c.owner_id = :oid"
        params["oid"] = owner_id
    rows = s.execute(text(_LAST_CONTACT.format(where=where + pending.hide(s, "c.id"))), params).all()
    return [LastContact(int(r[0]), r[1], r[2], r[3], r[4], _dt(r[5]), _dt(r[6])) for r in rows]  # type: ignore[arg-type]


@dataclass(frozen=True)
class ReportLine:
    id: int
    customer_number: str
    customer_name: str
    customer_erased: bool
    from_grade: str | None
    to_grade: str
    state: str
    filed_at: Any  # as stored (the report shows its first 16 characters)
    deputy_at: Any
    applied_at: Any
    apply_due: Any


def report_rows(s: Session, start: datetime, end: datetime) -> list[ReportLine]:
    """Applications filed in ``[start, end)``, by id."""
    rows = s.execute(text(
        "SELECT a.id, c.number, c.name, c.erased_at, a.from_grade, a.to_grade, a.state, a.filed_at, a.deputy_at,"
        " a.applied_at, a.apply_due FROM grade_application a JOIN customer c ON c.id = a.customer_id"
        " WHERE a.filed_at >= :s AND a.filed_at < :e ORDER BY a.id"), {"s": start, "e": end}).all()
    return [ReportLine(r[0], r[1], r[2], r[3] is not None, r[4], r[5], r[6], r[7], r[8], r[9], r[10]) for r in rows]
