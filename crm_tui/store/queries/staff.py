"""Staff accounts, roles, sign-in state, what a leaver holds and its handover, A/B posts
(services/staff)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def _in_list(states: Sequence[str]) -> str:
    return ", ".join(f"'{x}'" for x in states)


# -- accounts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    active: bool
    must_change_password: bool
    locked_until: Any
    last_login_at: Any
    password_set_at: Any


_ACCOUNT = ("SELECT id, username, display_name, active, must_change_password, locked_until, last_login_at,"
            " password_set_at FROM staff WHERE ")


def _account(r: Any) -> Account | None:
    if r is None:
        return None
    return Account(int(r[0]), r[1], r[2], bool(r[3]), bool(r[4]), r[5], r[6], r[7])


def account_by_id(s: Session, staff_id: int) -> Account | None:
    return _account(s.execute(text(_ACCOUNT + "id = :i"), {"i": staff_id}).first())


def account_by_username(s: Session, username: str) -> Account | None:
    return _account(s.execute(text(_ACCOUNT + "username = :u"), {"u": username}).first())


def roles_of(s: Session, staff_id: int) -> tuple[str, ...]:
    rows = s.execute(text("SELECT role FROM staff_role WHERE staff_id = :i ORDER BY role"), {"i": staff_id})
    return tuple(r[0] for r in rows)


def username_taken(s: Session, username: str) -> bool:
    return s.execute(text("SELECT 1 FROM staff WHERE username = :u"), {"u": username}).first() is not None


def insert_staff(s: Session, *, username: str, display_name: str, password_hash: str, now: datetime,
                 must_change: bool, approval_note: str | None, by: int | None, roles: Sequence[str]) -> int:
    staff_id = s.execute(text(
        "INSERT INTO staff (username, display_name, password_hash, password_set_at, must_change_password,"
        " active, failed_logins, approval_note, created_at, created_by_id)"
        " VALUES (:u, :d, :h, :now, :m, 1, 0, :a, :now, :by) RETURNING id"),
        {"u": username, "d": display_name, "h": password_hash, "now": now, "m": must_change,
         "a": approval_note, "by": by},
    ).scalar_one()
    for code in roles:
        s.execute(text("INSERT INTO staff_role (staff_id, role) VALUES (:i, :r)"), {"i": staff_id, "r": code})
    return int(staff_id)


def replace_roles(s: Session, staff_id: int, roles: Sequence[str]) -> None:
    s.execute(text("DELETE FROM staff_role WHERE staff_id = :i"), {"i": staff_id})
    for code in roles:
        s.execute(text("INSERT INTO staff_role (staff_id, role) VALUES (:i, :r)"), {"i": staff_id, "r": code})


def count_staff(s: Session) -> int:
    return int(s.execute(text("SELECT count(*) FROM staff")).scalar_one())


def staff_ids(s: Session, include_disabled: bool = True) -> list[int]:
    """Ids of the accounts, active first, then by user name."""
    return [int(r[0]) for r in s.execute(text(
        "SELECT id FROM staff" + ("" if include_disabled else " WHERE active") + " ORDER BY active DESC, username"))]


def other_active_admins(s: Session, staff_id: int) -> int:
    return int(s.execute(text(
        "SELECT count(*) FROM staff s JOIN staff_role r ON r.staff_id = s.id AND r.role = 'admin'"
        " WHERE s.active AND s.id != :i"), {"i": staff_id}).scalar_one())


def set_active(s: Session, staff_id: int, active: bool, now: datetime) -> None:
    s.execute(text("UPDATE staff SET active = :a, disabled_at = :d, failed_logins = 0, locked_until = NULL"
                   " WHERE id = :i"), {"a": active, "d": None if active else now, "i": staff_id})


def set_one_time_password(s: Session, staff_id: int, password_hash: str, now: datetime) -> None:
    s.execute(text("UPDATE staff SET password_hash = :h, password_set_at = :now, must_change_password = 1,"
                   " failed_logins = 0, locked_until = NULL WHERE id = :i"),
              {"h": password_hash, "now": now, "i": staff_id})


def set_password(s: Session, staff_id: int | None, password_hash: str, now: datetime) -> None:
    s.execute(text("UPDATE staff SET password_hash = :h, password_set_at = :now, must_change_password = 0"
                   " WHERE id = :i"), {"h": password_hash, "now": now, "i": staff_id})


# -- signing in -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    id: int
    password_hash: str
    active: bool
    failed_logins: int
    locked_until: Any


def login(s: Session, username: str) -> Login | None:
    r = s.execute(text("SELECT id, password_hash, active, failed_logins, locked_until FROM staff"
                       " WHERE username = :u"), {"u": username}).first()
    return None if r is None else Login(int(r[0]), r[1], bool(r[2]), int(r[3]), r[4])


def set_failed_logins(s: Session, staff_id: int, failed: int, locked_until: datetime | None) -> None:
    s.execute(text("UPDATE staff SET failed_logins = :f, locked_until = :l WHERE id = :i"),
              {"f": failed, "l": locked_until, "i": staff_id})


def record_login(s: Session, staff_id: int, now: datetime, password_hash: str) -> None:
    s.execute(text("UPDATE staff SET failed_logins = 0, locked_until = NULL, last_login_at = :now,"
                   " password_hash = :h WHERE id = :i"), {"now": now, "h": password_hash, "i": staff_id})


def active_password_hash(s: Session, staff_id: int | None) -> str | None:
    return s.execute(text("SELECT password_hash FROM staff WHERE id = :i AND active"), {"i": staff_id}).scalar()


# -- leaving staff (R-CUST-11, R-SEC-1) ---------------------------------------------------------------

_HOLDING_SQL: dict[str, str] = {
    "customers": "SELECT count(*) FROM customer WHERE owner_id = :s AND erased_at IS NULL",
    "cards": "SELECT count(*) FROM followup_card WHERE owner_id = :s AND status = 'open'",
    "tickets": "SELECT count(*) FROM complaint WHERE assignee_id = :s AND state IN ({tickets})",
    "applications": "SELECT count(*) FROM grade_application WHERE applicant_id = :s AND state IN ({applications})",
    "contacts": "SELECT count(*) FROM customer_staff cs JOIN customer c ON c.id = cs.customer_id"
                " WHERE cs.staff_id = :s AND c.erased_at IS NULL",
    "covers": "SELECT count(*) FROM ab_post WHERE (absent_id = :s OR backup_id = :s) AND revoked_at IS NULL"
              " AND end_date >= :today",
}


def holding(s: Session, kind: str, staff_id: int, today: date, *, ticket_states: Sequence[str],
            application_states: Sequence[str]) -> int:
    """How many of ``kind`` (customers, cards, tickets, applications, contacts, covers) the account
    holds; tickets and applications count in the open states given."""
    sql = _HOLDING_SQL[kind].format(tickets=_in_list(ticket_states), applications=_in_list(application_states))
    return int(s.execute(text(sql), {"s": staff_id, "today": today}).scalar_one())


def owned_customer_ids(s: Session, staff_id: int) -> list[int]:
    return [int(r[0]) for r in s.execute(text("SELECT id FROM customer WHERE owner_id = :s AND erased_at IS NULL"
                                              " ORDER BY id"), {"s": staff_id})]


def hand_over_cards(s: Session, src: int, dst: int, now: datetime, by: int | None) -> None:
    s.execute(text("UPDATE followup_card SET owner_id = :d, updated_at = :now, updated_by_id = :by,"
                   " version = version + 1 WHERE owner_id = :s AND status = 'open'"),
              {"s": src, "d": dst, "now": now, "by": by})


def hand_over_tickets(s: Session, src: int, dst: int, note: str, states: Sequence[str], now: datetime,
                      by: int | None) -> None:
    """Tickets in ``states`` assigned to ``src`` reassigned to ``dst``, a 'reassign' event each."""
    p = {"s": src, "d": dst, "now": now, "by": by}
    rows = s.execute(text(f"SELECT id, customer_id, state FROM complaint WHERE assignee_id = :s"
                          f" AND state IN ({_in_list(states)})"), p).all()
    s.execute(text(f"UPDATE complaint SET assignee_id = :d, updated_at = :now, version = version + 1"
                   f" WHERE assignee_id = :s AND state IN ({_in_list(states)})"), p)
    for cid, customer_id, state in rows:
        s.execute(text("INSERT INTO complaint_event (complaint_id, customer_id, at, actor_id, action, from_state,"
                       " to_state, note) VALUES (:c, :cu, :now, :by, 'reassign', :st, :st, :n)"),
                  {**p, "c": cid, "cu": customer_id, "st": state, "n": note})


def hand_over_applications(s: Session, src: int, dst: int, states: Sequence[str]) -> None:
    s.execute(text(f"UPDATE grade_application SET applicant_id = :d WHERE applicant_id = :s"
                   f" AND state IN ({_in_list(states)})"), {"s": src, "d": dst})


def hand_over_contacts(s: Session, src: int, dst: int) -> None:
    """The receiver takes the leaver's place among the other staff in contact, unless already there
    or now the owner."""
    p = {"s": src, "d": dst}
    s.execute(text("INSERT OR IGNORE INTO customer_staff (customer_id, staff_id)"
                   " SELECT cs.customer_id, :d FROM customer_staff cs JOIN customer c ON c.id = cs.customer_id"
                   " WHERE cs.staff_id = :s AND c.owner_id != :d"), p)
    s.execute(text("DELETE FROM customer_staff WHERE staff_id = :s"), p)


def hand_over_covers(s: Session, src: int, dst: int, now: datetime, today: date) -> None:
    """The leaver's own absences end; where the leaver was the backup, the receiver takes over."""
    p = {"s": src, "d": dst, "now": now, "today": today}
    s.execute(text("UPDATE ab_post SET revoked_at = :now WHERE revoked_at IS NULL AND end_date >= :today"
                   " AND (absent_id = :s OR (backup_id = :s AND absent_id = :d))"), p)
    s.execute(text("UPDATE ab_post SET backup_id = :d WHERE revoked_at IS NULL AND end_date >= :today"
                   " AND backup_id = :s"), p)


# -- A/B posts (R-SEC-7) ----------------------------------------------------------------------------


def cover_overlaps(s: Session, absent_id: int, start: date, end: date) -> bool:
    return s.execute(text("SELECT 1 FROM ab_post WHERE absent_id = :a AND revoked_at IS NULL"
                          " AND NOT (end_date < :s OR start_date > :e)"),
                     {"a": absent_id, "s": start, "e": end}).first() is not None


def insert_cover(s: Session, absent_id: int, backup_id: int, start: date, end: date, note: str | None,
                 now: datetime, by: int | None) -> int:
    return int(s.execute(text(
        "INSERT INTO ab_post (absent_id, backup_id, start_date, end_date, note, created_at, created_by_id)"
        " VALUES (:a, :b, :s, :e, :n, :now, :by) RETURNING id"),
        {"a": absent_id, "b": backup_id, "s": start, "e": end, "n": note, "now": now, "by": by},
    ).scalar_one())


def live_cover_absent_id(s: Session, cover_id: int) -> int | None:
    """The absent colleague of a cover not revoked; None when there is no such cover."""
    r = s.execute(text("SELECT absent_id FROM ab_post WHERE id = :i AND revoked_at IS NULL"), {"i": cover_id}).first()
    return None if r is None else r[0]


def revoke_cover(s: Session, cover_id: int, now: datetime) -> None:
    s.execute(text("UPDATE ab_post SET revoked_at = :now WHERE id = :i"), {"now": now, "i": cover_id})


@dataclass(frozen=True)
class CoverRow:
    id: int
    absent_id: int
    absent_name: str
    backup_id: int
    backup_name: str
    start_date: Any
    end_date: Any
    note: str | None


def covers(s: Session, *, on: date | None, today: date, backup_id: int | None) -> list[CoverRow]:
    """Covers not revoked: in force on ``on``, or (``on`` None) ending on ``today`` or later."""
    sql = ("SELECT p.id, p.absent_id, a.display_name, p.backup_id, b.display_name, p.start_date, p.end_date, p.note"
           " FROM ab_post p JOIN staff a ON a.id = p.absent_id JOIN staff b ON b.id = p.backup_id"
           " WHERE p.revoked_at IS NULL")
    params: dict[str, object] = {}
    if on is not None:
        sql += " AND p.start_date <= :d AND p.end_date >= :d"
        params["d"] = on
    else:
        sql += " AND p.end_date >= :d"
        params["d"] = today
    if backup_id is not None:
        sql += " AND p.backup_id = :b"
        params["b"] = backup_id
    rows = s.execute(text(sql + " ORDER BY p.start_date"), params).all()
    return [CoverRow(*r) for r in rows]


def covered_absent_ids(s: Session, backup_id: int, day: date) -> tuple[int, ...]:
    rows = s.execute(text("SELECT DISTINCT absent_id FROM ab_post WHERE backup_id = :me AND revoked_at IS NULL"
                          " AND start_date <= :d AND end_date >= :d ORDER BY absent_id"),
                     {"me": backup_id, "d": day}).all()
    return tuple(int(r[0]) for r in rows)
