"""The erasure ledger (services.erasure, R-CUST-13): customer numbers and times, no personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = ["ledger_add", "ledger_rows", "live_id_by_number", "past_retention", "raw_ledger_rows"]


def ledger_add(s: Session, number: str, at: datetime) -> None:
    """The number into the database copy of the ledger (kept when already there)."""
    s.execute(text("INSERT OR IGNORE INTO erasure_ledger (number, erased_at) VALUES (:n, :at)"), {"n": number, "at": at})


def ledger_rows(s: Session) -> list[tuple[str, Any]]:
    """(number, erased_at) of the database copy of the ledger."""
    return [(r[0], r[1]) for r in s.execute(text("SELECT number, erased_at FROM erasure_ledger"))]


def raw_ledger_rows(conn: Any) -> list[tuple[Any, Any]]:
    """The same on a plain sqlcipher3 connection; raises when the table does not exist (older schema)."""
    return conn.execute("SELECT number, erased_at FROM erasure_ledger").fetchall()  # type: ignore[no-any-return]


def live_id_by_number(s: Session, number: str) -> int | None:
    r = s.execute(text("SELECT id FROM customer WHERE number = :n AND erased_at IS NULL"), {"n": number}).first()
    return None if r is None else int(r[0])


def past_retention(s: Session, cutoff: str) -> list[tuple[int, str]]:
    """(id, number) of live archives with no activity since before ``cutoff`` (ISO text), by id."""
    return [(r[0], r[1]) for r in s.execute(text(
        "SELECT id, number FROM customer WHERE erased_at IS NULL AND last_activity_at < :cut ORDER BY id"),
        {"cut": cutoff}).all()]
