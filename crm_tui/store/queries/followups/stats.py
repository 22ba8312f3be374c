"""The follow-up area's counts and histories: the weekly review (定期盘点, R-FU-5), the home
screen's counts, the customer's timeline, and erasure (R-CUST-13).

Rows are NamedTuples or tuples of plain values; dates and times as stored (ISO text).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.store.queries.followups.cards import CARD_COLUMNS

# ------------------------------------------------------------------------------------------------
# Weekly review (R-FU-5)
# ------------------------------------------------------------------------------------------------


def open_cards_by_owner_level(s: Session, asof: str) -> list[tuple[int, str, str, int, int]]:
    """Open cards: (owner id, owner, intent level, count, how many due before ``asof``)."""
    return [(r[0], r[1], r[2], int(r[3]), int(r[4] or 0)) for r in s.execute(text(
        "SELECT f.owner_id, st.display_name, f.intent_level, count(*),"
        " sum(CASE WHEN f.next_visit_due < :asof THEN 1 ELSE 0 END) FROM followup_card f"
        " JOIN staff st ON st.id = f.owner_id WHERE f.status = 'open' GROUP BY f.owner_id, f.intent_level"),
        {"asof": asof})]


def new_cards_by_owner(s: Session, first: str, last: str) -> list[tuple[int, str, int]]:
    """Cards dated from ``first`` to ``last`` (inclusive): (owner id, owner, count)."""
    return [(r[0], r[1], int(r[2])) for r in s.execute(text(
        "SELECT f.owner_id, st.display_name, count(*) FROM followup_card f JOIN staff st ON st.id = f.owner_id"
        " WHERE f.card_date >= :a AND f.card_date <= :b GROUP BY f.owner_id"), {"a": first, "b": last})]


def visits_by_staff(s: Session, start: str, end: str) -> list[tuple[int, str, int]]:
    """Visits from ``start`` up to (not including) ``end``: (staff id, staff, count)."""
    return [(r[0], r[1], int(r[2])) for r in s.execute(text(
        "SELECT v.staff_id, st.display_name, count(*) FROM followup_visit v JOIN staff st ON st.id = v.staff_id"
        " WHERE v.at >= :a AND v.at < :b GROUP BY v.staff_id"), {"a": start, "b": end})]


def cards_by_source(s: Session, first: str, last: str) -> list[tuple[str | None, int, int, int]]:
    """Cards (not void) dated from ``first`` to ``last``, by information source, most first:
    (source, cards, won, lost)."""
    return [(r[0], int(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in s.execute(text(
        "SELECT source, count(*), sum(status = 'won'), sum(status = 'lost') FROM followup_card"
        " WHERE card_date >= :a AND card_date <= :b AND status != 'void'"
        " GROUP BY source ORDER BY count(*) DESC"), {"a": first, "b": last}).all()]


# ------------------------------------------------------------------------------------------------
# Home counts
# ------------------------------------------------------------------------------------------------


def covered_ids(s: Session, backup_id: int | None, day: date) -> list[int]:
    """The colleagues ``backup_id`` covers for on ``day`` (A/B post, R-SEC-7)."""
    return [int(r[0]) for r in s.execute(text(
        "SELECT DISTINCT absent_id FROM ab_post WHERE backup_id = :me AND revoked_at IS NULL"
        " AND start_date <= :d AND end_date >= :d"), {"me": backup_id, "d": day}).all()]


def owns_open_card(s: Session, owners: Sequence[int | None]) -> bool:
    return s.execute(text(
        "SELECT 1 FROM followup_card WHERE owner_id IN (SELECT value FROM json_each(:mine)) AND status = 'open'"
        " LIMIT 1"), {"mine": json.dumps(list(owners))}).first() is not None


_DUE = {
    "overdue": "next_visit_due < :d",
    "today": "next_visit_due = :d",
    "week": "next_visit_due > :d AND next_visit_due <= :sun",
}


def count_due(s: Session, owners: Sequence[int | None], which: str, today: str, sunday: str) -> int:
    """Open cards of ``owners`` due: ``overdue`` (before ``today``), ``today``, or ``week`` (after
    today up to ``sunday``)."""
    return int(s.execute(text("SELECT count(*) FROM followup_card WHERE owner_id IN"
                              " (SELECT value FROM json_each(:mine)) AND status = 'open'"
                              f" AND {_DUE[which]}"),
                         {"mine": json.dumps(list(owners)), "d": today, "sun": sunday}).scalar_one())


def count_unsigned(s: Session, me: int | None, today: str, *, late: bool) -> int:
    """Cards (not void, not ``me``'s) waiting for a supervisor's signature; ``late``: past the
    review deadline."""
    params = {"d": today, "me": me}
    if late:
        return int(s.execute(text("SELECT count(*) FROM followup_card WHERE reviewed_at IS NULL AND status != 'void'"
                                  " AND owner_id IS NOT :me AND review_due < :d"), params).scalar_one())
    return int(s.execute(text("SELECT count(*) FROM followup_card WHERE reviewed_at IS NULL AND status != 'void'"
                              " AND owner_id IS NOT :me"), params).scalar_one())


def count_open_claims(s: Session) -> int:
    return int(s.execute(text("SELECT count(*) FROM ownership_claim WHERE decided_at IS NULL")).scalar_one())


def count_register_problems(s: Session) -> int:
    """Register lines without an information source or an archive."""
    return int(s.execute(text("SELECT count(*) FROM register_entry WHERE source IS NULL OR customer_id IS NULL"
                              )).scalar_one())


# ------------------------------------------------------------------------------------------------
# The customer's timeline
# ------------------------------------------------------------------------------------------------


class TimelineCard(NamedTuple):
    id: int
    number: str
    created_at: str
    level: str
    product: str | None
    status: str
    status_reason: str | None
    closed_at: str | None
    reviewed_at: str | None
    review_comment: str | None
    owner: str
    creator: str | None
    reviewer: str | None


class TimelineVisit(NamedTuple):
    id: int
    at: str
    method: str
    participants: str | None
    content: str | None
    feedback: str | None
    objections: str | None
    next_action: str | None
    level: str
    next_due: str | None
    number: str
    staff: str | None


class TimelineLine(NamedTuple):
    id: int
    arrived_at: str
    kind: str
    product: str | None
    summary: str | None
    staff: str | None


def timeline_cards(s: Session, customer_id: int, limit: int) -> list[TimelineCard]:
    """The customer's newest cards with their consultant, creator and reviewer."""
    return [TimelineCard(*r) for r in s.execute(text(
        "SELECT f.id, f.number, f.created_at, f.intent_level, f.product, f.status, f.status_reason, f.closed_at,"
        " f.reviewed_at, f.review_comment, o.display_name, c.display_name, r.display_name FROM followup_card f"
        " JOIN staff o ON o.id = f.owner_id LEFT JOIN staff c ON c.id = f.created_by_id"
        " LEFT JOIN staff r ON r.id = f.reviewed_by_id WHERE f.customer_id = :c ORDER BY f.id DESC LIMIT :n"),
        {"c": customer_id, "n": limit}).all()]


def timeline_visits(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineVisit]:
    """The customer's newest visits (none after ``before``), with the card number and the staff."""
    params: dict[str, object] = {"c": customer_id, "n": limit}
    where = ""
    if before is not None:
        where = " AND v.at <= :b"
        params["b"] = before
    return [TimelineVisit(*r) for r in s.execute(text(
        "SELECT v.id, v.at, v.method, v.participants, v.content, v.feedback, v.objections, v.next_action,"
        " v.level_after, v.next_due, f.number, st.display_name FROM followup_visit v"
        " JOIN followup_card f ON f.id = v.card_id LEFT JOIN staff st ON st.id = v.staff_id"
        f" WHERE f.customer_id = :c{where} ORDER BY v.at DESC, v.id DESC LIMIT :n"), params).all()]


def timeline_lines(s: Session, customer_id: int, limit: int) -> list[TimelineLine]:
    """The customer's newest register lines with who wrote them."""
    return [TimelineLine(*r) for r in s.execute(text(
        "SELECT r.id, r.arrived_at, r.kind, r.product, r.summary, st.display_name FROM register_entry r"
        " LEFT JOIN staff st ON st.id = r.created_by_id WHERE r.customer_id = :c"
        " ORDER BY r.id DESC LIMIT :n"), {"c": customer_id, "n": limit}).all()]


# ------------------------------------------------------------------------------------------------
# Erasure (R-CUST-13)
# ------------------------------------------------------------------------------------------------


def erase_texts(s: Session, customer_id: int, card_columns: Sequence[str]) -> None:
    """Empty ``card_columns`` of the customer's cards, the free text of their visits, the register
    lines' name, phone, companions and summary, and the ownership claims' reasons and notes."""
    bad = [c for c in card_columns if c not in CARD_COLUMNS]
    if bad:
        raise ValueError(f"not a followup_card column: {bad}")
    texts = ", ".join(f"{k} = NULL" for k in card_columns)
    s.execute(text(f"UPDATE followup_card SET {texts} WHERE customer_id = :c"), {"c": customer_id})
    s.execute(text("UPDATE followup_visit SET participants = NULL, content = NULL, feedback = NULL, objections = NULL,"
                   " next_action = NULL, next_due_reason = NULL WHERE card_id IN"
                   " (SELECT id FROM followup_card WHERE customer_id = :c)"), {"c": customer_id})
    s.execute(text("UPDATE register_entry SET name = '', phone = NULL, companions = NULL, summary = NULL"
                   " WHERE customer_id = :c"), {"c": customer_id})
    s.execute(text("UPDATE ownership_claim SET reason = NULL, decision_note = NULL WHERE customer_id = :c"),
              {"c": customer_id})
