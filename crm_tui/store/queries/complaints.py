"""The SQL of complaint tickets and light feedback (services/complaints, issue 7).

Every function runs inside the caller's transaction (``Session``); the service owns the
permission check, the workflow, the transaction and the audit row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

#: The columns of a ticket, as :func:`ticket` returns them (keys of its dict).
TICKET_COLUMNS = (
    "id", "number", "customer_id", "channel", "category", "severity", "description", "demand", "received_at",
    "received_by_id", "state", "assignee_id", "responded_at", "resolve_from", "solution", "feedback_result",
    "feedback_reasons", "feedback_method", "feedback_at", "visit_method", "visit_notes", "visit_at",
    "satisfaction", "cause_analysis", "preventive_measure", "closed_at", "closed_by_id", "reopen_count",
    "paused_since", "due_at", "risk_at", "respond_met", "resolve_met", "feedback_id", "version", "created_at",
    "updated_at", "ack_method", "ack_at", "ack_by_id")
_DT_COLS = ("ack_at", "received_at", "responded_at", "resolve_from", "feedback_at", "visit_at", "closed_at",
            "paused_since", "due_at", "risk_at", "created_at", "updated_at")


def _dt(v: Any) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))


def _cols(names: Iterable[str]) -> list[str]:
    cols = list(names)
    unknown = [c for c in cols if c not in TICKET_COLUMNS]
    if unknown:
        raise ValueError(f"not a complaint column: {unknown}")
    return cols


# ------------------------------------------------------------------------------------------------
# One ticket
# ------------------------------------------------------------------------------------------------


def ticket(s: Session, ticket_id: int) -> dict[str, Any] | None:
    """The ticket's columns (:data:`TICKET_COLUMNS`, times as datetimes), or None."""
    r = s.execute(text(f"SELECT {', '.join(TICKET_COLUMNS)} FROM complaint WHERE id = :i"), {"i": ticket_id}
                  ).mappings().first()
    if r is None:
        return None
    row = dict(r)
    for c in _DT_COLS:
        row[c] = _dt(row[c])
    return row


def pauses(s: Session, ticket_id: int) -> list[tuple[datetime, datetime | None]]:
    """(start, end) of the ticket's clock pauses, oldest first; end None while it runs."""
    return [(_dt(a), _dt(b)) for a, b in s.execute(text(  # type: ignore[misc]
        "SELECT start, \"end\" FROM complaint_pause WHERE complaint_id = :i ORDER BY start"), {"i": ticket_id})]


def pauses_of(s: Session, ticket_ids: Sequence[int]) -> dict[int, list[tuple[datetime, datetime | None]]]:
    """The pauses of several tickets, by ticket id (tickets without pauses absent)."""
    out: dict[int, list[tuple[datetime, datetime | None]]] = {}
    if not ticket_ids:
        return out
    ids = ",".join(str(int(i)) for i in ticket_ids)
    for cid, a, b in s.execute(text(
            f"SELECT complaint_id, start, \"end\" FROM complaint_pause WHERE complaint_id IN ({ids})")):
        out.setdefault(int(cid), []).append((_dt(a), _dt(b)))  # type: ignore[arg-type]
    return out


def set_clock(s: Session, ticket_id: int, *, due_at: datetime | None, risk_at: datetime | None,
              respond_met: bool | None, resolve_met: bool | None) -> None:
    """Keep the clock's deadlines on the row, so the at-risk and overdue queues are range scans."""
    s.execute(text("UPDATE complaint SET due_at = :d, risk_at = :r, respond_met = :rm, resolve_met = :sm"
                   " WHERE id = :i"),
              {"d": due_at, "r": risk_at, "rm": respond_met, "sm": resolve_met, "i": ticket_id})


def update_ticket(s: Session, ticket_id: int, sets: Mapping[str, Any]) -> None:
    """Set the given columns (names from :data:`TICKET_COLUMNS`) of one ticket."""
    cols = _cols(sets)
    s.execute(text(f"UPDATE complaint SET {', '.join(f'{k} = :{k}' for k in cols)} WHERE id = :_id"),
              {**sets, "_id": ticket_id})


def bump_version(s: Session, ticket_id: int, now: datetime) -> None:
    s.execute(text("UPDATE complaint SET version = version + 1, updated_at = :n WHERE id = :i"),
              {"n": now, "i": ticket_id})


def set_acknowledgement(s: Session, ticket_id: int, *, method: str, at: datetime, by_id: int | None) -> None:
    s.execute(text("UPDATE complaint SET ack_method = :m, ack_at = :at, ack_by_id = :by WHERE id = :i"),
              {"m": method, "at": at, "by": by_id, "i": ticket_id})


def next_number(s: Session, year: int) -> int:
    """The next sequence number of the year's tickets (one counter row per year)."""
    return int(s.execute(text("INSERT INTO complaint_number_seq (year, last) VALUES (:y, 1) ON CONFLICT(year)"
                              " DO UPDATE SET last = last + 1 RETURNING last"), {"y": year}).scalar_one())


def insert_ticket(s: Session, cols: Mapping[str, Any]) -> int:
    """A new ticket with the given columns (names from :data:`TICKET_COLUMNS`); returns its id."""
    names = _cols(cols)
    return int(s.execute(text(f"INSERT INTO complaint ({', '.join(names)}) VALUES"
                              f" ({', '.join(':' + k for k in names)}) RETURNING id"), dict(cols)).scalar_one())


def add_event(s: Session, *, complaint_id: int, customer_id: int, at: datetime, actor_id: int | None, action: str,
              from_state: str | None, to_state: str, note: str | None) -> None:
    """One line of the ticket's history (and of the customer's timeline)."""
    s.execute(text("INSERT INTO complaint_event (complaint_id, customer_id, at, actor_id, action, from_state,"
                   " to_state, note) VALUES (:c, :cu, :at, :a, :act, :f, :t, :n)"),
              {"c": complaint_id, "cu": customer_id, "at": at, "a": actor_id, "act": action, "f": from_state,
               "t": to_state, "n": note})


def end_pause(s: Session, ticket_id: int, now: datetime) -> None:
    s.execute(text("UPDATE complaint_pause SET \"end\" = :n WHERE complaint_id = :i AND \"end\" IS NULL"),
              {"n": now, "i": ticket_id})


def start_pause(s: Session, ticket_id: int, now: datetime, reason: str | None) -> None:
    s.execute(text("INSERT INTO complaint_pause (complaint_id, start, reason) VALUES (:i, :n, :r)"),
              {"i": ticket_id, "n": now, "r": reason})


def add_visit(s: Session, *, complaint_id: int, at: datetime, method: str, satisfaction: int,
              handler_id: int | None, staff_id: int | None) -> None:
    """Every return visit's score (R-CMP-6), reopened tickets' too."""
    s.execute(text("INSERT INTO complaint_visit (complaint_id, at, method, satisfaction, handler_id, staff_id)"
                   " VALUES (:c, :at, :m, :s, :h, :by)"),
              {"c": complaint_id, "at": at, "m": method, "s": satisfaction, "h": handler_id, "by": staff_id})


@dataclass(frozen=True)
class EventLine:
    at: datetime
    action: str
    from_state: str | None
    to_state: str
    note: str | None
    staff: str | None


def events(s: Session, ticket_id: int) -> list[EventLine]:
    """The ticket's history, oldest first, with the acting staff member's name."""
    return [EventLine(_dt(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in s.execute(text(  # type: ignore[arg-type]
        "SELECT e.at, e.action, e.from_state, e.to_state, e.note, st.display_name FROM complaint_event e"
        " LEFT JOIN staff st ON st.id = e.actor_id WHERE e.complaint_id = :i ORDER BY e.id"), {"i": ticket_id})]


# ------------------------------------------------------------------------------------------------
# Customers and staff, as complaints need them
# ------------------------------------------------------------------------------------------------


def customer_brief(s: Session, customer_id: int) -> tuple[str, str, bool] | None:
    """(number, name, erased) of a customer, or None."""
    r = s.execute(text("SELECT number, name, erased_at FROM customer WHERE id = :c"), {"c": customer_id}).first()
    return None if r is None else (r[0], r[1], r[2] is not None)


def touch_customer(s: Session, customer_id: int, now: datetime) -> None:
    s.execute(text("UPDATE customer SET last_activity_at = :n WHERE id = :c"), {"n": now, "c": customer_id})


def staff_name(s: Session, staff_id: int) -> str | None:
    r = s.execute(text("SELECT display_name FROM staff WHERE id = :i"), {"i": staff_id}).first()
    return None if r is None else str(r[0])


def staff_with_roles(s: Session, roles: Sequence[str]) -> list[tuple[int, str]]:
    """Active staff holding one of ``roles``: (id, display name) by id."""
    rows = s.execute(text(
        "SELECT DISTINCT st.id, st.display_name FROM staff st JOIN staff_role r ON r.staff_id = st.id"
        f" WHERE st.active AND r.role IN ({', '.join(repr(x) for x in roles)}) ORDER BY st.id")).all()
    return [(int(a), str(b)) for a, b in rows]


def staff_by_id(s: Session, staff_id: int) -> tuple[int, str] | None:
    r = s.execute(text("SELECT id, display_name, active FROM staff WHERE id = :i"), {"i": staff_id}).first()
    return None if r is None else (int(r[0]), str(r[1]))


def staff_by_username(s: Session, username: str) -> tuple[int, str] | None:
    r = s.execute(text("SELECT id, display_name, active FROM staff WHERE username = :u"), {"u": username}).first()
    return None if r is None else (int(r[0]), str(r[1]))


# ------------------------------------------------------------------------------------------------
# Queues
# ------------------------------------------------------------------------------------------------

#: Queue name -> (WHERE over ``complaint c``, order: "id" newest first | "due" soonest deadline first).
_QUEUE_WHERE = {
    "open": ("c.state != 'closed'", "id"),
    "unassigned": ("c.state = 'registered'", "id"),
    "mine": ("c.state != 'closed' AND c.assignee_id IN (SELECT value FROM json_each(:mine))", "id"),
    "at_risk": ("c.risk_at <= :now AND c.due_at >= :now", "due"),
    "overdue": ("c.due_at < :now", "due"),
    "visit": ("c.state = 'awaiting_visit'", "id"),
    "closed": ("c.state = 'closed'", "id"),
}
QUEUE_NAMES = tuple(_QUEUE_WHERE)


@dataclass(frozen=True)
class QueueRow:
    id: int
    number: str
    customer_id: int
    customer_number: str
    customer_name: str
    customer_erased: bool
    state: str
    severity: str
    category: str
    received_at: datetime
    assignee: str | None
    due_at: datetime | None
    risk_at: datetime | None
    paused: bool


def queue_page(s: Session, name: str, *, now: datetime, mine: str, limit: int, cursor: str | None = None,
               customer_id: int | None = None) -> tuple[list[QueueRow], str | None]:
    """One page of a queue by key, and the cursor of the next page (None at the end). ``mine`` is a
    JSON list of the staff ids whose tickets are the reader's."""
    where, order = _QUEUE_WHERE[name]
    params: dict[str, Any] = {"now": now, "mine": mine, "n": limit + 1}
    if customer_id is not None:
        where += " AND c.customer_id = :cust"
        params["cust"] = customer_id
    if order == "due":
        key_sql, sort = "c.due_at", "c.due_at, c.id"
        if cursor:
            k, i = cursor.rsplit("|", 1)
            where += " AND (c.due_at, c.id) > (:k, :i)"
            params.update(k=k, i=int(i))
    else:
        key_sql, sort = "c.id", "c.id DESC"
        if cursor:
            where += " AND c.id < :i"
            params["i"] = int(cursor)
    rows = s.execute(text(
        f"SELECT c.id, c.number, c.customer_id, cu.number, cu.name, cu.erased_at, c.state, c.severity, c.category,"
        f" c.received_at, st.display_name, c.due_at, c.risk_at, c.paused_since, {key_sql}"
        " FROM complaint c JOIN customer cu ON cu.id = c.customer_id LEFT JOIN staff st ON st.id = c.assignee_id"
        f" WHERE {where} ORDER BY {sort} LIMIT :n"), params).all()
    more = len(rows) > limit
    rows = rows[:limit]
    out = [QueueRow(int(r[0]), r[1], int(r[2]), r[3], r[4], r[5] is not None, r[6], r[7], r[8],
                    _dt(r[9]), r[10], _dt(r[11]), _dt(r[12]), bool(r[13]))  # type: ignore[arg-type]
           for r in rows]
    nxt = None
    if more and rows:
        last = rows[-1]
        nxt = f"{last[14]}|{last[0]}" if order == "due" else str(last[0])
    return out, nxt


def queue_counts(s: Session, now: datetime, mine: str) -> dict[str, int]:
    """How many tickets each queue but the closed one holds."""
    params = {"now": now, "mine": mine}
    return {name: int(s.execute(text(f"SELECT count(*) FROM complaint c WHERE {where}"), params).scalar_one())
            for name, (where, _o) in _QUEUE_WHERE.items() if name not in ("closed",)}


# ------------------------------------------------------------------------------------------------
# Light feedback (R-CMP-7, R-CUST-15)
# ------------------------------------------------------------------------------------------------


def add_feedback(s: Session, *, customer_id: int, kind: str, at: datetime, text_: str | None, score: int | None,
                 staff_id: int | None) -> int:
    return int(s.execute(text("INSERT INTO customer_feedback (customer_id, kind, at, text, score, staff_id,"
                              " created_at) VALUES (:c, :k, :at, :t, :s, :st, :at) RETURNING id"),
                         {"c": customer_id, "k": kind, "at": at, "t": text_, "s": score, "st": staff_id}
                         ).scalar_one())


@dataclass(frozen=True)
class FeedbackLine:
    id: int
    kind: str
    at: datetime
    text: str | None
    score: int | None
    staff: str | None
    complaint_id: int | None
    complaint_number: str | None


def feedback_of(s: Session, customer_id: int, limit: int) -> list[FeedbackLine]:
    """The customer's feedback, newest first."""
    rows = s.execute(text(
        "SELECT f.id, f.kind, f.at, f.text, f.score, st.display_name, f.complaint_id, c.number"
        " FROM customer_feedback f LEFT JOIN staff st ON st.id = f.staff_id"
        " LEFT JOIN complaint c ON c.id = f.complaint_id WHERE f.customer_id = :c ORDER BY f.at DESC, f.id DESC"
        " LIMIT :n"), {"c": customer_id, "n": limit}).all()
    return [FeedbackLine(int(r[0]), r[1], _dt(r[2]), r[3], r[4], r[5], r[6], r[7])  # type: ignore[arg-type]
            for r in rows]


@dataclass(frozen=True)
class FeedbackEntry:
    customer_id: int
    kind: str
    at: datetime
    text: str | None
    complaint_id: int | None


def feedback_entry(s: Session, feedback_id: int) -> FeedbackEntry | None:
    r = s.execute(text("SELECT customer_id, kind, at, text, complaint_id FROM customer_feedback WHERE id = :i"),
                  {"i": feedback_id}).first()
    return None if r is None else FeedbackEntry(int(r[0]), r[1], _dt(r[2]), r[3], r[4])  # type: ignore[arg-type]


def link_feedback(s: Session, feedback_id: int, ticket_id: int) -> None:
    s.execute(text("UPDATE customer_feedback SET complaint_id = :t WHERE id = :i"), {"t": ticket_id, "i": feedback_id})


# ------------------------------------------------------------------------------------------------
# Customer timeline (R-CUST-14) and erasure (R-CUST-13)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEvent:
    id: int
    at: datetime
    action: str
    to_state: str
    note: str | None
    number: str
    staff: str | None


def timeline_events(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEvent]:
    params: dict[str, Any] = {"c": customer_id, "n": limit}
    where = ""
    if before is not None:
        where = " AND e.at <= :b"
        params["b"] = before
    rows = s.execute(text(
        "SELECT e.id, e.at, e.action, e.to_state, e.note, c.number, st.display_name FROM complaint_event e"
        " JOIN complaint c ON c.id = e.complaint_id LEFT JOIN staff st ON st.id = e.actor_id"
        f" WHERE e.customer_id = :c{where} ORDER BY e.at DESC, e.id DESC LIMIT :n"), params).all()
    return [TimelineEvent(r[0], _dt(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]  # type: ignore[arg-type]


@dataclass(frozen=True)
class TimelineFeedback:
    id: int
    at: datetime
    kind: str
    text: str | None
    score: int | None
    staff: str | None


def timeline_feedback(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineFeedback]:
    params: dict[str, Any] = {"c": customer_id, "n": limit}
    where = ""
    if before is not None:
        where = " AND f.at <= :b"
        params["b"] = before
    rows = s.execute(text(
        "SELECT f.id, f.at, f.kind, f.text, f.score, st.display_name FROM customer_feedback f"
        f" LEFT JOIN staff st ON st.id = f.staff_id WHERE f.customer_id = :c{where} ORDER BY f.at DESC, f.id DESC"
        " LIMIT :n"), params).all()
    return [TimelineFeedback(r[0], _dt(r[1]), r[2], r[3], r[4], r[5]) for r in rows]  # type: ignore[arg-type]


def erase_texts(s: Session, customer_id: int) -> tuple[int, int]:
    """Empty the customer's words and what was said to them; (tickets, feedback entries) touched."""
    n = s.execute(text("UPDATE complaint SET description = NULL, demand = NULL, solution = NULL,"
                       " feedback_result = NULL, feedback_reasons = NULL, feedback_method = NULL, visit_notes = NULL,"
                       " visit_method = NULL WHERE customer_id = :c"), {"c": customer_id}).rowcount  # type: ignore[attr-defined]
    s.execute(text("UPDATE complaint_event SET note = NULL WHERE customer_id = :c"), {"c": customer_id})
    s.execute(text("UPDATE complaint_pause SET reason = NULL WHERE complaint_id IN"
                   " (SELECT id FROM complaint WHERE customer_id = :c)"), {"c": customer_id})
    f = s.execute(text("UPDATE customer_feedback SET text = NULL WHERE customer_id = :c"),
                  {"c": customer_id}).rowcount  # type: ignore[attr-defined]
    return int(n), int(f)


# ------------------------------------------------------------------------------------------------
# Report (R-KPI-1, R-CMP-6)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    id: int
    category: str
    channel: str
    severity: str
    received_at: datetime
    responded_at: datetime | None
    resolve_from: datetime | None
    feedback_at: datetime | None
    respond_met: bool | None
    resolve_met: bool | None
    satisfaction: int | None
    handler: str | None
    customer_id: int
    customer_number: str
    customer_name: str
    customer_erased: bool
    due_at: datetime | None


def report_rows(s: Session, start: datetime, end: datetime) -> list[ReportRow]:
    """Tickets received in ``[start, end)``, by id."""
    rows = s.execute(text(
        "SELECT c.id, c.category, c.channel, c.severity, c.received_at, c.responded_at, c.resolve_from,"
        " c.feedback_at, c.respond_met, c.resolve_met, c.satisfaction, st.display_name, c.customer_id,"
        " cu.number, cu.name, cu.erased_at, c.due_at FROM complaint c JOIN customer cu ON cu.id = c.customer_id"
        " LEFT JOIN staff st ON st.id = c.assignee_id WHERE c.received_at >= :a AND c.received_at < :b"
        " ORDER BY c.id"), {"a": start, "b": end}).all()
    return [ReportRow(int(r[0]), r[1], r[2], r[3], _dt(r[4]), _dt(r[5]), _dt(r[6]), _dt(r[7]),  # type: ignore[arg-type]
                      None if r[8] is None else bool(r[8]), None if r[9] is None else bool(r[9]), r[10], r[11],
                      int(r[12]), r[13], r[14], r[15] is not None, _dt(r[16]))
            for r in rows]


def visit_scores(s: Session, start: datetime, end: datetime) -> list[tuple[str | None, int]]:
    """(handler's name, satisfaction) of every return visit in ``[start, end)``, by id."""
    return [(h, int(v)) for h, v in s.execute(text(
        "SELECT st.display_name, v.satisfaction FROM complaint_visit v"
        " LEFT JOIN staff st ON st.id = v.handler_id WHERE v.at >= :a AND v.at < :b ORDER BY v.id"),
        {"a": start, "b": end})]
