"""The front desk's SQL (services/frontdesk): a caller's new phone awaiting the owner's
confirmation (phone_change_request) and the archive's phones it replaces.

Rows are NamedTuples (a tuple of plain values with names); dates and times as stored (ISO text).
The archive's head and contacts come from ``store.queries.followups``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session


class Phone(NamedTuple):
    id: int
    national: str
    label: str | None
    is_primary: bool


class PhoneRequest(NamedTuple):
    id: int
    customer_id: int
    national: str
    replaces_phone_id: int | None
    note: str | None
    informed: bool
    state: str
    requested_by_id: int
    requested_at: str
    decided_by_id: int | None
    decided_at: str | None
    decision_note: str | None


class PendingRequest(NamedTuple):
    id: int
    national: str
    replaces_phone_id: int | None
    note: str | None
    requested_by: str | None
    requested_at: str
    state: str


def phones(s: Session, customer_id: int) -> list[Phone]:
    """The archive's phones, the primary first."""
    return [Phone(int(r[0]), r[1], r[2], bool(r[3])) for r in s.execute(text(
        "SELECT id, national, label, is_primary FROM customer_phone WHERE customer_id = :c ORDER BY is_primary DESC, id"),
        {"c": customer_id}).all()]


def request_waiting(s: Session, customer_id: int, national: str) -> bool:
    """Whether this number already awaits the owner's confirmation for the archive."""
    return s.execute(text("SELECT 1 FROM phone_change_request WHERE customer_id = :c AND national = :n"
                          " AND state = 'requested'"), {"c": customer_id, "n": national}).first() is not None


def insert_request(s: Session, *, customer_id: int, national: str, replaces: int | None, note: str | None,
                   informed: bool, by: int | None, now: datetime) -> int:
    return int(s.execute(text(
        "INSERT INTO phone_change_request (customer_id, national, replaces_phone_id, note, informed, state,"
        " requested_by_id, requested_at) VALUES (:c, :n, :r, :note, :inf, 'requested', :by, :now) RETURNING id"),
        {"c": customer_id, "n": national, "r": replaces, "note": note, "inf": informed, "by": by,
         "now": now}).scalar_one())


def pending_requests(s: Session, customer_id: int) -> list[PendingRequest]:
    """The archive's requests awaiting confirmation, oldest first, with who asked."""
    return [PendingRequest(*r) for r in s.execute(text(
        "SELECT r.id, r.national, r.replaces_phone_id, r.note, st.display_name, r.requested_at, r.state"
        " FROM phone_change_request r LEFT JOIN staff st ON st.id = r.requested_by_id"
        " WHERE r.customer_id = :c AND r.state = 'requested' ORDER BY r.id"), {"c": customer_id}).all()]


def request(s: Session, request_id: int) -> PhoneRequest | None:
    r = s.execute(text(f"SELECT {', '.join(PhoneRequest._fields)} FROM phone_change_request WHERE id = :i"),
                  {"i": request_id}).first()
    return None if r is None else PhoneRequest(*r)._replace(informed=bool(r[5]))


def confirm_request(s: Session, request_id: int, by: int | None, now: datetime) -> None:
    s.execute(text("UPDATE phone_change_request SET state = 'confirmed', decided_by_id = :by, decided_at = :now"
                   " WHERE id = :i AND state = 'requested'"), {"by": by, "now": now, "i": request_id})


def reject_request(s: Session, request_id: int, reason: str | None, by: int | None, now: datetime) -> None:
    s.execute(text("UPDATE phone_change_request SET state = 'rejected', decided_by_id = :by, decided_at = :now,"
                   " decision_note = :r WHERE id = :i"), {"by": by, "now": now, "r": reason, "i": request_id})


def _ids(owner_ids: Sequence[int]) -> str:
    return ",".join(str(int(i)) for i in owner_ids)


def waiting_by_customer(s: Session, owner_ids: Sequence[int], limit: int) -> list[tuple[int, int, str]]:
    """Archives (not erased) of ``owner_ids`` with requests waiting: (customer id, how many, the
    oldest request's time), by the oldest request."""
    return [(int(r[0]), int(r[1]), r[2]) for r in s.execute(text(
        "SELECT r.customer_id, count(*), min(r.requested_at) FROM phone_change_request r"
        " JOIN customer c ON c.id = r.customer_id WHERE r.state = 'requested' AND c.erased_at IS NULL"
        f" AND c.owner_id IN ({_ids(owner_ids)}) GROUP BY r.customer_id ORDER BY min(r.id)"
        " LIMIT :n"), {"n": limit}).all()]


def count_waiting(s: Session, owner_ids: Sequence[int]) -> int:
    """Requests waiting for the owners ``owner_ids``."""
    return int(s.execute(text("SELECT count(*) FROM phone_change_request r JOIN customer c ON c.id = r.customer_id"
                              f" WHERE r.state = 'requested' AND c.owner_id IN ({_ids(owner_ids)})")).scalar_one())


def delete_requests(s: Session, customer_id: int) -> None:
    s.execute(text("DELETE FROM phone_change_request WHERE customer_id = :c"), {"c": customer_id})
