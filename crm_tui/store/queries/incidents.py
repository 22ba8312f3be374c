"""The incident register (services/incidents, R-SEC-6): incidents, their affected customers and
the notices."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def state_of(s: Session, incident_id: int) -> str | None:
    """The incident's state, None when there is no such incident."""
    r = s.execute(text("SELECT state FROM incident WHERE id = :i"), {"i": incident_id}).first()
    return None if r is None else str(r[0])


def insert_incident(s: Session, title: str, description: str, found_at: Any, measures: str | None, now: datetime,
                    by: int | None) -> int:
    return int(s.execute(text(
        "INSERT INTO incident (title, description, found_at, measures, state, created_at, created_by_id)"
        " VALUES (:t, :d, :f, :m, 'open', :now, :by) RETURNING id"),
        {"t": title, "d": description, "f": found_at, "m": measures, "now": now, "by": by}).scalar_one())


def measures_of(s: Session, incident_id: int) -> str | None:
    return s.execute(text("SELECT measures FROM incident WHERE id = :i"), {"i": incident_id}).scalar()


def set_measures(s: Session, incident_id: int, measures: str) -> None:
    s.execute(text("UPDATE incident SET measures = :m WHERE id = :i"), {"m": measures, "i": incident_id})


def query_of(s: Session, incident_id: int) -> str | None:
    return s.execute(text("SELECT query FROM incident WHERE id = :i"), {"i": incident_id}).scalar()


def set_query(s: Session, incident_id: int, query: str) -> None:
    s.execute(text("UPDATE incident SET query = :q WHERE id = :i"), {"q": query, "i": incident_id})


def customer_id_by_number(s: Session, number: str) -> int | None:
    r = s.execute(text("SELECT id FROM customer WHERE number = :n"), {"n": number}).first()
    return None if r is None else int(r[0])


def affected_count(s: Session, incident_id: int) -> int:
    return int(s.execute(text("SELECT count(*) FROM incident_customer WHERE incident_id = :i"),
                         {"i": incident_id}).scalar_one())


def add_affected(s: Session, incident_id: int, customer_ids: Iterable[int]) -> None:
    """The customers added to the incident's list (those already on it stay once)."""
    s.execute(text("INSERT OR IGNORE INTO incident_customer (incident_id, customer_id) VALUES (:i, :c)"),
              [{"i": incident_id, "c": c} for c in customer_ids])


def affected_customer_id(s: Session, incident_id: int, number: str) -> int | None:
    """The customer numbered ``number`` if on the incident's list."""
    r = s.execute(text("SELECT ic.customer_id FROM incident_customer ic JOIN customer c ON c.id = ic.customer_id"
                       " WHERE ic.incident_id = :i AND c.number = :n"), {"i": incident_id, "n": number}).first()
    return None if r is None else int(r[0])


def record_notice(s: Session, incident_id: int, customer_id: int, *, at: Any, told_by: str, method: str,
                  note: str | None, recorded_by: int | None) -> None:
    s.execute(text("UPDATE incident_customer SET notified_at = :at, notified_by = :by, notice_method = :m,"
                   " notice_note = :n, recorded_by_id = :rec WHERE incident_id = :i AND customer_id = :c"),
              {"at": at, "by": told_by, "m": method, "n": note, "rec": recorded_by, "i": incident_id, "c": customer_id})


def close_incident(s: Session, incident_id: int, report: str, now: datetime, by: int | None) -> int:
    """Closed with its report; returns the affected customers not told."""
    s.execute(text("UPDATE incident SET state = 'closed', report = :r, closed_at = :now, closed_by_id = :by"
                   " WHERE id = :i"), {"r": report, "now": now, "by": by, "i": incident_id})
    return int(s.execute(text("SELECT count(*) FROM incident_customer WHERE incident_id = :i AND notified_at IS NULL"),
                         {"i": incident_id}).scalar_one())


@dataclass(frozen=True)
class IncidentLine:
    id: int
    title: str | None
    found_at: Any
    state: str
    affected: int
    notified: int


def incidents(s: Session, limit: int) -> list[IncidentLine]:
    """Open ones first, newest first."""
    rows = s.execute(text(
        "SELECT i.id, i.title, i.found_at, i.state,"
        " (SELECT count(*) FROM incident_customer c WHERE c.incident_id = i.id),"
        " (SELECT count(*) FROM incident_customer c WHERE c.incident_id = i.id AND c.notified_at IS NOT NULL)"
        " FROM incident i ORDER BY i.state = 'closed', i.id DESC LIMIT :l"), {"l": limit}).all()
    return [IncidentLine(int(r[0]), r[1], r[2], r[3], int(r[4]), int(r[5])) for r in rows]


@dataclass(frozen=True)
class IncidentRecord:
    id: int
    title: str | None
    description: str | None
    found_at: Any
    measures: str | None
    state: str
    query: str | None
    report: str | None
    created_at: Any
    created_by: str | None
    closed_at: Any
    closed_by: str | None


@dataclass(frozen=True)
class AffectedLine:
    customer_id: int
    number: str
    name: str | None
    erased_at: Any
    notified_at: Any
    notified_by: str | None
    notice_method: str | None
    notice_note: str | None


def incident(s: Session, incident_id: int) -> IncidentRecord | None:
    r = s.execute(text(
        "SELECT i.id, i.title, i.description, i.found_at, i.measures, i.state, i.query, i.report, i.created_at,"
        " a.display_name, i.closed_at, b.display_name FROM incident i LEFT JOIN staff a ON a.id = i.created_by_id"
        " LEFT JOIN staff b ON b.id = i.closed_by_id WHERE i.id = :i"), {"i": incident_id}).first()
    return None if r is None else IncidentRecord(int(r[0]), *r[1:])


def affected(s: Session, incident_id: int) -> list[AffectedLine]:
    """The incident's customers by number."""
    return [AffectedLine(int(a[0]), *a[1:]) for a in s.execute(text(
        "SELECT c.id, c.number, c.name, c.erased_at, ic.notified_at, ic.notified_by, ic.notice_method,"
        " ic.notice_note FROM incident_customer ic JOIN customer c ON c.id = ic.customer_id"
        " WHERE ic.incident_id = :i ORDER BY c.number"), {"i": incident_id}).all()]


def erase_notice_notes(s: Session, customer_id: int) -> int:
    """The customer's notice notes removed (erasure); returns how many."""
    return int(s.execute(text("UPDATE incident_customer SET notice_note = NULL WHERE customer_id = :c"
                              " AND notice_note IS NOT NULL"), {"c": customer_id}).rowcount)
