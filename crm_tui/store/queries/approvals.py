"""Approval requests of sensitive operations (services/approvals, R-SEC-2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_SELECT = ("SELECT r.id, s.username, s.display_name, r.operation, r.target, r.params, r.reason, r.state,"
           " r.requested_at, r.expires_at, d.username, r.decided_at, r.decision_note, r.used_at, r.requester_id,"
           " d.display_name"
           " FROM approval_request r JOIN staff s ON s.id = r.requester_id LEFT JOIN staff d ON d.id = r.decided_by_id")


@dataclass(frozen=True)
class RequestRow:
    id: int
    requester: str
    requester_name: str
    operation: str
    target: str | None
    params: str | None  # JSON
    reason: str
    state: str  # as stored: requested | approved | rejected | used
    requested_at: Any
    expires_at: Any
    decided_by: str | None
    decided_at: Any
    decision_note: str | None
    used_at: Any
    requester_id: int
    decided_by_name: str | None


def _row(r: Any) -> RequestRow:
    return RequestRow(int(r[0]), *r[1:])


def live_customer_numbered(s: Session, number: str) -> bool:
    return s.execute(text("SELECT 1 FROM customer WHERE number = :n AND erased_at IS NULL"),
                     {"n": number}).first() is not None


def insert_request(s: Session, *, requester_id: int | None, operation: str, target: str | None, params_json: str,
                   reason: str, now: datetime, expires_at: datetime) -> int:
    return int(s.execute(text(
        "INSERT INTO approval_request (requester_id, operation, target, params, reason, state, requested_at,"
        " expires_at) VALUES (:a, :o, :t, :p, :r, 'requested', :now, :exp) RETURNING id"),
        {"a": requester_id, "o": operation, "t": target, "p": params_json, "r": reason, "now": now,
         "exp": expires_at}).scalar_one())


def requests(s: Session, *, requester_id: int | None = None, only_own: bool = False, pending_at: datetime | None = None,
             limit: int = 200) -> list[RequestRow]:
    """Newest first; ``only_own``: the requester's own; ``pending_at``: requested and unexpired then."""
    sql = _SELECT
    where = []
    params: dict[str, Any] = {"lim": limit}
    if only_own:
        where.append("r.requester_id = :me")
        params["me"] = requester_id
    if pending_at is not None:
        where.append("r.state = 'requested' AND r.expires_at > :now")
        params["now"] = pending_at
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [_row(r) for r in s.execute(text(sql + " ORDER BY r.id DESC LIMIT :lim"), params).all()]


def request(s: Session, request_id: int) -> RequestRow | None:
    r = s.execute(text(_SELECT + " WHERE r.id = :i"), {"i": request_id}).first()
    return None if r is None else _row(r)


def decide(s: Session, request_id: int, state: str, by: int | None, now: datetime, note: str | None) -> None:
    s.execute(text("UPDATE approval_request SET state = :s, decided_by_id = :by, decided_at = :now,"
                   " decision_note = :n WHERE id = :i"),
              {"s": state, "by": by, "now": now, "n": note, "i": request_id})


def mark_used(s: Session, request_id: int, now: datetime) -> bool:
    """An approved request marked used; False when it was not approved (any more)."""
    return s.execute(text("UPDATE approval_request SET state = 'used', used_at = :now WHERE id = :i"
                          " AND state = 'approved'"), {"now": now, "i": request_id}).rowcount == 1


def pending_for(s: Session, approver_id: int | None, now: datetime) -> int:
    """Requests waiting for a decision that ``approver_id`` may take (not their own)."""
    return int(s.execute(text("SELECT count(*) FROM approval_request WHERE state = 'requested' AND expires_at > :now"
                              " AND requester_id != :me"), {"now": now, "me": approver_id}).scalar_one())


def newest_usable(s: Session, requester_id: int | None, operation: str, target: str | None,
                  now: datetime) -> int | None:
    r = s.execute(text("SELECT id FROM approval_request WHERE requester_id = :me AND operation = :o"
                       " AND state = 'approved' AND expires_at > :now AND (target IS NULL OR target = :t)"
                       " ORDER BY id DESC LIMIT 1"),
                  {"me": requester_id, "o": operation, "now": now, "t": target}).first()
    return int(r[0]) if r else None
