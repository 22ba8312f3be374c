"""The demo data's SQL (``crm_tui/demo``): the few reads its generators need, and the bulk inserts
that write 2,000 demo customers in seconds (Core executemany; ``INSERT OR IGNORE`` stays here).

Demo customers are written straight to the tables (the rest of the demo goes through the services,
so it is validated and audited like real work)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class StaffName:
    id: int
    display_name: str


@dataclass(frozen=True)
class StaffRoles:
    id: int
    display_name: str
    roles: frozenset[str]


class GradeCandidate(TypedDict):
    """A customer's grading facts (the shape ``domain.grades.suggest_grade`` reads)."""

    id: int
    number: str
    grade: str | None
    category: str | None
    credit_rating: str | None
    risk_rating: str | None
    coop_since: int | None
    important: int  # 0 or 1 as stored
    owner_id: int
    size: str | None
    kind: str


def staff_by_username(s: Session) -> dict[str, StaffName]:
    """Every staff account's id and display name, by username."""
    return {str(r[0]): StaffName(int(r[1]), str(r[2]))
            for r in s.execute(text("SELECT username, id, display_name FROM staff"))}


def staff_with_roles(s: Session, username: str) -> StaffRoles | None:
    """One account with its roles (``None`` if it has no roles or does not exist)."""
    r = s.execute(text("SELECT s.id, s.display_name, group_concat(r.role, ',') FROM staff s JOIN staff_role r"
                       " ON r.staff_id = s.id WHERE s.username = :u GROUP BY s.id"), {"u": username}).first()
    if r is None:
        return None
    return StaffRoles(int(r[0]), str(r[1]), frozenset(str(r[2]).split(",")))


def customer_ids(s: Session, limit: int) -> list[int]:
    """The first ``limit`` customers not erased, by id."""
    return [int(r[0]) for r in s.execute(text(
        "SELECT id FROM customer WHERE erased_at IS NULL ORDER BY id LIMIT :n"), {"n": limit})]


def person_ids_of_owner(s: Session, owner_id: int, limit: int) -> list[int]:
    """The first ``limit`` persons (not erased) an account owns, by id."""
    return [int(r[0]) for r in s.execute(text(
        "SELECT id FROM customer WHERE owner_id = :o AND kind = 'person' AND erased_at IS NULL ORDER BY id"
        " LIMIT :n"), {"o": owner_id, "n": limit})]


def customer_name(s: Session, customer_id: int) -> str:
    return str(s.execute(text("SELECT name FROM customer WHERE id = :i"), {"i": customer_id}).scalar())


def grade_candidates(s: Session, created_before: datetime, limit: int) -> list[GradeCandidate]:
    """The first ``limit`` customers (not erased) created before ``created_before``, by id."""
    rows = s.execute(text(
        "SELECT id, number, grade, category, credit_rating, risk_rating, coop_since, important, owner_id, size, kind"
        " FROM customer WHERE erased_at IS NULL AND created_at < :cut ORDER BY id LIMIT :n"),
        {"cut": created_before, "n": limit}).mappings().all()
    return [GradeCandidate(**dict(r)) for r in rows]  # type: ignore[typeddict-item]


def next_customer_id(s: Session) -> int:
    return int(s.execute(text("SELECT coalesce(max(id), 0) FROM customer")).scalar_one()) + 1


def customer_number_seqs(s: Session) -> dict[int, int]:
    """The last customer number given, by year."""
    return {int(r[0]): int(r[1]) for r in s.execute(text("SELECT year, last FROM customer_number_seq"))}


def insert_customers(s: Session, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Customer rows, each a dict of ``columns``."""
    s.execute(text(f"INSERT INTO customer ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"),
              rows)


def insert_phones(s: Session, phones: list[dict[str, Any]]) -> None:
    """Phone rows keyed c, n, e, k, l, p, r, by, at, due, ci, ca, di, da, now (the columns below)."""
    if phones:
        s.execute(text("INSERT INTO customer_phone (customer_id, national, e164, kind, label, is_primary,"
                       " shared_reason, shared_approved_by_id, shared_approved_at, shared_review_due,"
                       " shared_chief_id, shared_chief_at, shared_deputy_id, shared_deputy_at, created_at)"
                       " VALUES (:c, :n, :e, :k, :l, :p, :r, :by, :at, :due, :ci, :ca, :di, :da, :now)"), phones)


def insert_tags(s: Session, tags: list[dict[str, Any]]) -> None:
    """Tag rows keyed c (customer id), t (tag)."""
    if tags:
        s.execute(text("INSERT OR IGNORE INTO customer_tag (customer_id, tag) VALUES (:c, :t)"), tags)


def insert_contact_staff(s: Session, rows: list[dict[str, Any]]) -> None:
    """Contact staff rows keyed c (customer id), s (staff id)."""
    if rows:
        s.execute(text("INSERT OR IGNORE INTO customer_staff (customer_id, staff_id) VALUES (:c, :s)"), rows)


def insert_consents(s: Session, consents: list[dict[str, Any]]) -> None:
    """Consent rows keyed c, p (purpose), s (scope), m (method), g (given on), by, at."""
    if consents:
        s.execute(text("INSERT INTO customer_consent (customer_id, purpose, scope, method, given_at,"
                       " recorded_by_id, recorded_at) VALUES (:c, :p, :s, :m, :g, :by, :at)"), consents)


def insert_contacts(s: Session, contacts: list[dict[str, Any]]) -> None:
    """Contact log rows keyed c, at, m (method), p, s (summary), f, n (next action), st (staff), now."""
    if contacts:
        s.execute(text("INSERT INTO customer_contact (customer_id, at, method, participants, summary, feedback,"
                       " next_action, staff_id, created_at) VALUES (:c, :at, :m, :p, :s, :f, :n, :st, :now)"),
                  contacts)


def set_customer_number_seq(s: Session, year: int, last: int) -> None:
    s.execute(text("INSERT INTO customer_number_seq (year, last) VALUES (:y, :l)"
                   " ON CONFLICT(year) DO UPDATE SET last = excluded.last"), {"y": year, "l": last})


__all__ = ["GradeCandidate", "StaffName", "StaffRoles", "customer_ids", "customer_name", "customer_number_seqs",
           "grade_candidates", "insert_consents", "insert_contact_staff", "insert_contacts", "insert_customers",
           "insert_phones", "insert_tags", "next_customer_id", "person_ids_of_owner", "set_customer_number_seq",
           "staff_by_username", "staff_with_roles"]
