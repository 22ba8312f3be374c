"""Follow-up cards (A卡), their visits, the card queues and ownership claims (信息归属): the SQL.

Rows are NamedTuples (a tuple of plain values with names); dates and times as stored (ISO text).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

# ------------------------------------------------------------------------------------------------
# Staff and archive heads
# ------------------------------------------------------------------------------------------------


class StaffHead(NamedTuple):
    id: int
    display_name: str
    active: bool


class CustomerHead(NamedTuple):
    id: int
    number: str
    name: str | None
    owner_id: int | None
    version: int
    erased_at: str | None


def staff_names(s: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Display names of the given staff ids (unknown ids are left out)."""
    wanted = sorted({int(i) for i in ids if i is not None})
    if not wanted:
        return {}
    rows = s.execute(text(f"SELECT id, display_name FROM staff WHERE id IN ({','.join(map(str, wanted))})"))
    return {r[0]: r[1] for r in rows}


def staff_by_id(s: Session, staff_id: int) -> StaffHead | None:
    r = s.execute(text("SELECT id, display_name, active FROM staff WHERE id = :i"), {"i": staff_id}).first()
    return None if r is None else StaffHead(int(r[0]), r[1], bool(r[2]))


def staff_by_username(s: Session, username: str) -> StaffHead | None:
    r = s.execute(text("SELECT id, display_name, active FROM staff WHERE username = :u"), {"u": username}).first()
    return None if r is None else StaffHead(int(r[0]), r[1], bool(r[2]))


def staff_active(s: Session, staff_id: int) -> bool | None:
    """Whether the account is active; None when there is no such staff member."""
    v = s.execute(text("SELECT active FROM staff WHERE id = :i"), {"i": staff_id}).scalar()
    return None if v is None else bool(v)


def staff_username(s: Session, staff_id: int) -> str | None:
    return s.execute(text("SELECT username FROM staff WHERE id = :i"), {"i": staff_id}).scalar()


def active_staff_roles(s: Session) -> list[tuple[int, str, str]]:
    """Active staff with their roles: (id, display name, comma-separated roles), by id."""
    rows = s.execute(text("SELECT s.id, s.display_name, group_concat(r.role, ',') FROM staff s"
                          " JOIN staff_role r ON r.staff_id = s.id WHERE s.active GROUP BY s.id ORDER BY s.id")).all()
    return [(int(r[0]), str(r[1]), r[2] or "") for r in rows]


def customer_head(s: Session, customer_id: int) -> CustomerHead | None:
    r = s.execute(text("SELECT id, number, name, owner_id, version, erased_at FROM customer WHERE id = :i"),
                  {"i": customer_id}).first()
    return None if r is None else CustomerHead(*r)


def customer_number_name(s: Session, customer_id: int) -> tuple[str, str | None] | None:
    r = s.execute(text("SELECT number, name FROM customer WHERE id = :c"), {"c": customer_id}).first()
    return None if r is None else (r[0], r[1])


def make_owner(s: Session, customer_id: int, owner_id: int, now: datetime, by: int | None) -> None:
    """The customer's responsible staff member becomes ``owner_id`` (no longer a mere contact)."""
    s.execute(text("UPDATE customer SET owner_id = :o, version = version + 1, updated_at = :now,"
                   " updated_by_id = :by WHERE id = :c"), {"o": owner_id, "now": now, "by": by, "c": customer_id})
    s.execute(text("DELETE FROM customer_staff WHERE customer_id = :c AND staff_id = :o"),
              {"c": customer_id, "o": owner_id})


def touch_customer(s: Session, customer_id: int, now: datetime) -> None:
    s.execute(text("UPDATE customer SET last_activity_at = max(last_activity_at, :now) WHERE id = :c"),
              {"now": now, "c": customer_id})


# ------------------------------------------------------------------------------------------------
# Cards
# ------------------------------------------------------------------------------------------------


class CardRecord(NamedTuple):
    id: int
    number: str
    customer_id: int
    owner_id: int
    register_id: int | None
    card_date: str
    first_reception_date: str
    first_reception_summary: str | None
    intent_level: str
    product: str | None
    configuration: str | None
    budget: str | None
    purchase_method: str | None
    intended_use: str | None
    alternatives: str | None
    source: str
    favourable: str | None
    unfavourable: str | None
    resources_needed: str | None
    next_visit_plan: str | None
    next_visit_due: str | None
    next_due_reason: str | None
    status: str
    status_reason: str | None
    closed_at: str | None
    review_due: str
    reviewed_at: str | None
    reviewed_by_id: int | None
    review_comment: str | None
    last_visit_at: str | None
    visits: int
    version: int
    created_at: str
    created_by_id: int | None
    updated_at: str
    updated_by_id: int | None


CARD_COLUMNS = CardRecord._fields


def _columns(names: Iterable[str]) -> list[str]:
    names = list(names)
    bad = [n for n in names if n not in CARD_COLUMNS]
    if bad:
        raise ValueError(f"not a followup_card column: {bad}")
    return names


def card(s: Session, card_id: int) -> CardRecord | None:
    r = s.execute(text(f"SELECT {', '.join(CARD_COLUMNS)} FROM followup_card WHERE id = :i"), {"i": card_id}).first()
    return None if r is None else CardRecord(*r)


def next_card_seq(s: Session, year: int) -> int:
    """The next card number of ``year`` (followup_card_seq)."""
    return int(s.execute(text("INSERT INTO followup_card_seq (year, last) VALUES (:y, 1) ON CONFLICT(year)"
                              " DO UPDATE SET last = last + 1 RETURNING last"), {"y": year}).scalar_one())


def insert_card(s: Session, values: Mapping[str, Any]) -> int:
    """A new card from column -> value; returns its id."""
    keys = _columns(values)
    return int(s.execute(text(f"INSERT INTO followup_card ({', '.join(keys)}) VALUES "
                              f"({', '.join(':' + k for k in keys)}) RETURNING id"), dict(values)).scalar_one())


def update_card(s: Session, card_id: int, sets: Mapping[str, Any]) -> None:
    """Set the given columns and bump the version."""
    keys = _columns(sets)
    s.execute(text(f"UPDATE followup_card SET {', '.join(f'{k} = :{k}' for k in keys)}, version = version + 1"
                   " WHERE id = :_id"), {**sets, "_id": card_id})


def insert_visit(s: Session, *, card_id: int, at: datetime, method: str, participants: str | None,
                 content: str | None, feedback: str | None, objections: str | None, next_action: str | None,
                 level_before: str, level_after: str, next_due: str | None, next_due_reason: str | None,
                 staff_id: int | None, now: datetime) -> int:
    return int(s.execute(text(
        "INSERT INTO followup_visit (card_id, at, method, participants, content, feedback, objections,"
        " next_action, level_before, level_after, next_due, next_due_reason, staff_id, created_at)"
        " VALUES (:c, :at, :m, :p, :ct, :f, :o, :n, :lb, :la, :due, :r, :st, :now) RETURNING id"),
        {"c": card_id, "at": at, "m": method, "p": participants, "ct": content, "f": feedback, "o": objections,
         "n": next_action, "lb": level_before, "la": level_after, "due": next_due, "r": next_due_reason,
         "st": staff_id, "now": now}).scalar_one())


def apply_visit(s: Session, card_id: int, *, level: str, due: str | None, reason: str | None, plan: str | None,
                last: datetime, status: str, status_reason: str | None, closed: datetime | None, now: datetime,
                by: int | None) -> None:
    """The card after its newest visit: level, due date, plan, count, and the result when it ends."""
    s.execute(text("UPDATE followup_card SET intent_level = :l, next_visit_due = :due, next_due_reason = :r,"
                   " next_visit_plan = coalesce(:plan, next_visit_plan), last_visit_at = :last,"
                   " visits = visits + 1, status = :st, status_reason = :sr, closed_at = :closed,"
                   " version = version + 1, updated_at = :now, updated_by_id = :by WHERE id = :i"),
              {"l": level, "due": due, "r": reason, "plan": plan, "last": last, "st": status, "sr": status_reason,
               "closed": closed, "now": now, "by": by, "i": card_id})


def count_visit(s: Session, card_id: int, now: datetime, by: int | None) -> None:
    """A visit older than the newest one: only the count and the version change."""
    s.execute(text("UPDATE followup_card SET visits = visits + 1, version = version + 1, updated_at = :now,"
                   " updated_by_id = :by WHERE id = :i"), {"now": now, "by": by, "i": card_id})


def close_card(s: Session, card_id: int, status: str, reason: str | None, now: datetime, by: int | None) -> None:
    s.execute(text("UPDATE followup_card SET status = :s, status_reason = :r, closed_at = :now, next_visit_due = NULL,"
                   " next_due_reason = NULL, version = version + 1, updated_at = :now, updated_by_id = :by WHERE id = :i"),
              {"s": status, "r": reason, "now": now, "by": by, "i": card_id})


def reopen_card(s: Session, card_id: int, level: str, due: str | None, now: datetime, by: int | None) -> None:
    s.execute(text("UPDATE followup_card SET status = 'open', status_reason = NULL, closed_at = NULL,"
                   " intent_level = :l, next_visit_due = :due, version = version + 1, updated_at = :now,"
                   " updated_by_id = :by WHERE id = :i"),
              {"l": level, "due": due, "now": now, "by": by, "i": card_id})


def sign_card(s: Session, card_id: int, comment: str | None, now: datetime, by: int | None) -> None:
    s.execute(text("UPDATE followup_card SET reviewed_at = :now, reviewed_by_id = :by, review_comment = :c,"
                   " version = version + 1, updated_at = :now, updated_by_id = :by WHERE id = :i"),
              {"now": now, "by": by, "c": comment, "i": card_id})


class VisitRecord(NamedTuple):
    id: int
    at: str
    method: str
    participants: str | None
    content: str | None
    feedback: str | None
    objections: str | None
    next_action: str | None
    level_before: str
    level_after: str
    next_due: str | None
    next_due_reason: str | None
    staff_id: int | None


def card_visits(s: Session, card_id: int) -> list[VisitRecord]:
    """A card's visits, newest first."""
    return [VisitRecord(*r) for r in s.execute(text(
        "SELECT id, at, method, participants, content, feedback, objections, next_action, level_before,"
        " level_after, next_due, next_due_reason, staff_id FROM followup_visit WHERE card_id = :c"
        " ORDER BY at DESC, id DESC"), {"c": card_id}).all()]


def open_card_of(s: Session, customer_id: int) -> tuple[int, str] | None:
    """The customer's newest open card: (id, number)."""
    r = s.execute(text("SELECT id, number FROM followup_card WHERE customer_id = :c AND status = 'open'"
                       " ORDER BY id DESC LIMIT 1"), {"c": customer_id}).first()
    return None if r is None else (int(r[0]), str(r[1]))


# ------------------------------------------------------------------------------------------------
# Queues (R-FU-3)
# ------------------------------------------------------------------------------------------------


class CardListRow(NamedTuple):
    key: Any  # the keyset value of the row's queue
    id: int
    number: str
    customer_id: int
    customer: str | None
    erased_at: str | None
    owner_id: int
    owner: str | None
    level: str
    product: str | None
    next_visit_due: str | None
    status: str
    reviewed_at: str | None
    review_due: str
    last_visit_at: str | None


_ROW_SQL = ("SELECT {key} AS k, f.id, f.number, f.customer_id, c.name, c.erased_at, f.owner_id, st.display_name,"
            " f.intent_level, f.product, f.next_visit_due, f.status, f.reviewed_at, f.review_due, f.last_visit_at"
            " FROM followup_card f{idx} JOIN customer c ON c.id = f.customer_id JOIN staff st ON st.id = f.owner_id")


def card_queue(s: Session, which: str, *, today: str, sunday: str, me: int | None, owner_id: int | None,
               owners: Sequence[int] | None, after: tuple[str, int] | None, limit: int) -> list[CardListRow]:
    """At most ``limit`` rows of one queue (``today``, ``overdue``, ``week``, ``open``, ``review``,
    ``closed``) after the keyset ``after``; one owner's (``owner_id``), several owners'
    (``owners``) or everyone's cards."""
    where = ["1 = 1"]
    params: dict[str, Any] = {"today": today, "sun": sunday}
    if owner_id is not None:
        where.append("f.owner_id = :owner")
        params["owner"] = owner_id
    elif owners is not None:
        where.append("f.owner_id IN (SELECT value FROM json_each(:owners))")
        params["owners"] = json.dumps(list(owners))
    key, desc = "f.next_visit_due", False
    if which == "today":
        where.append("f.status = 'open' AND f.next_visit_due = :today")
    elif which == "overdue":
        where.append("f.status = 'open' AND f.next_visit_due < :today")
    elif which == "week":
        where.append("f.status = 'open' AND f.next_visit_due <= :sun")
    elif which == "open":
        where.append("f.status = 'open' AND f.next_visit_due IS NOT NULL")
    elif which == "review":
        key = "f.review_due"
        where.append("f.reviewed_at IS NULL AND f.status != 'void' AND f.owner_id IS NOT :me")  # not one's own
        params["me"] = me
    else:
        key, desc = "f.closed_at", True
        where.append("f.status != 'open'")
    if after is not None:
        where.append(f"({key}, f.id) {'<' if desc else '>'} (:_k, :_i)")
        params.update(_k=after[0], _i=after[1])
    order = f"{key} DESC, f.id DESC" if desc else f"{key}, f.id"
    idx = ""
    if which in ("today", "overdue", "week", "open"):  # walk the partial index of open cards in due order
        idx = " INDEXED BY ix_followup_card_due" if owner_id is not None else (
            "" if owners is not None else " INDEXED BY ix_followup_card_due_all")
    sql = _ROW_SQL.format(key=key, idx=idx) + " WHERE " + " AND ".join(where) + f" ORDER BY {order} LIMIT :_n"
    return [CardListRow(*r) for r in s.execute(text(sql), {**params, "_n": limit}).all()]


def customer_cards(s: Session, customer_id: int) -> list[CardListRow]:
    """One customer's cards, newest first (at most 50)."""
    return [CardListRow(*r) for r in s.execute(text(
        _ROW_SQL.format(key="f.id", idx="") + " WHERE f.customer_id = :c ORDER BY f.id DESC LIMIT 50"),
        {"c": customer_id}).all()]


def has_overdue(s: Session, owner_id: int, today: str) -> bool:
    return s.execute(text("SELECT 1 FROM followup_card WHERE owner_id = :me AND status = 'open'"
                          " AND next_visit_due < :d LIMIT 1"), {"me": owner_id, "d": today}).first() is not None


# ------------------------------------------------------------------------------------------------
# Ownership claims (信息归属)
# ------------------------------------------------------------------------------------------------


class ClaimHead(NamedTuple):
    id: int
    customer_id: int
    claimant_id: int
    owner_id: int | None
    decided_at: str | None


class ClaimListRow(NamedTuple):
    id: int
    customer_id: int
    customer: str | None
    claimant: str
    owner: str | None
    reason: str | None
    created_at: str


def claim_waiting(s: Session, customer_id: int, claimant_id: int | None) -> bool:
    return s.execute(text("SELECT 1 FROM ownership_claim WHERE customer_id = :c AND claimant_id = :me"
                          " AND decided_at IS NULL"), {"c": customer_id, "me": claimant_id}).first() is not None


def insert_claim(s: Session, customer_id: int, claimant_id: int | None, owner_id: int | None, reason: str | None,
                 now: datetime) -> int:
    return int(s.execute(text(
        "INSERT INTO ownership_claim (customer_id, claimant_id, owner_id, reason, created_at)"
        " VALUES (:c, :me, :o, :r, :now) RETURNING id"),
        {"c": customer_id, "me": claimant_id, "o": owner_id, "r": reason, "now": now}).scalar_one())


def pending_claims(s: Session) -> list[ClaimListRow]:
    return [ClaimListRow(*r) for r in s.execute(text(
        "SELECT k.id, k.customer_id, c.name, a.display_name, o.display_name, k.reason, k.created_at"
        " FROM ownership_claim k JOIN customer c ON c.id = k.customer_id JOIN staff a ON a.id = k.claimant_id"
        " LEFT JOIN staff o ON o.id = k.owner_id WHERE k.decided_at IS NULL ORDER BY k.id LIMIT 200")).all()]


def claim(s: Session, claim_id: int) -> ClaimHead | None:
    r = s.execute(text("SELECT id, customer_id, claimant_id, owner_id, decided_at FROM ownership_claim"
                       " WHERE id = :i"), {"i": claim_id}).first()
    return None if r is None else ClaimHead(*r)


def decide_claim(s: Session, claim_id: int, grant: bool, note: str | None, now: datetime, by: int | None) -> None:
    s.execute(text("UPDATE ownership_claim SET decided_at = :now, decided_by_id = :by, granted = :g,"
                   " decision_note = :n WHERE id = :i"), {"now": now, "by": by, "g": grant, "n": note, "i": claim_id})


def move_open_cards(s: Session, customer_id: int, owner_id: int, now: datetime, by: int | None) -> int:
    """The customer's open cards go to ``owner_id``; returns how many moved."""
    return int(s.execute(text("UPDATE followup_card SET owner_id = :o, version = version + 1, updated_at = :now,"
                              " updated_by_id = :by WHERE customer_id = :c AND status = 'open'"),
                         {"o": owner_id, "now": now, "by": by, "c": customer_id}).rowcount)  # type: ignore[attr-defined]
