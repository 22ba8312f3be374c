"""The front-desk register (来店/来电登记表, R-FU-4) and the supervisor's daily register check: the SQL.

Rows are NamedTuples (a tuple of plain values with names); dates and times as stored (ISO text).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

# ------------------------------------------------------------------------------------------------
# Register lines
# ------------------------------------------------------------------------------------------------


class RegisterEntry(NamedTuple):
    id: int
    name: str
    phone: str | None
    companions: str | None
    arrived_at: str
    departed_at: str | None
    product: str | None
    source: str | None
    summary: str | None
    consultant_id: int | None
    kind: str
    trial: bool
    customer_id: int | None
    created_at: str
    created_by_id: int | None


class RegisterLine(NamedTuple):
    """A register line for lists and its own view, with its consultant, archive and newest card."""
    id: int
    arrived_at: str
    departed_at: str | None
    name: str
    phone: str | None
    companions: str | None
    product: str | None
    source: str | None
    summary: str | None
    consultant_id: int | None
    consultant: str | None
    kind: str
    trial: bool
    customer_id: int | None
    customer_number: str | None
    card_id: int | None


def insert_entry(s: Session, *, name: str, phone: str | None, companions: str | None, arrived_at: datetime,
                 departed_at: datetime | None, product: str | None, source: str | None, summary: str | None,
                 consultant_id: int | None, kind: str, trial: bool, customer_id: int | None, now: datetime,
                 by: int | None) -> int:
    return int(s.execute(text(
        "INSERT INTO register_entry (name, phone, companions, arrived_at, departed_at, product, source, summary,"
        " consultant_id, kind, trial, customer_id, created_at, created_by_id) VALUES (:n, :p, :c, :a, :d, :pr,"
        " :s, :su, :co, :k, :t, :cu, :now, :by) RETURNING id"),
        {"n": name, "p": phone, "c": companions, "a": arrived_at, "d": departed_at, "pr": product, "s": source,
         "su": summary, "co": consultant_id, "k": kind, "t": trial, "cu": customer_id, "now": now,
         "by": by}).scalar_one())


def entry(s: Session, entry_id: int) -> RegisterEntry | None:
    r = s.execute(text(f"SELECT {', '.join(RegisterEntry._fields)} FROM register_entry WHERE id = :i"),
                  {"i": entry_id}).first()
    return None if r is None else RegisterEntry(*r)


def set_departed(s: Session, entry_id: int, now: datetime) -> None:
    s.execute(text("UPDATE register_entry SET departed_at = :now WHERE id = :i"), {"now": now, "i": entry_id})


def set_customer(s: Session, entry_id: int, customer_id: int) -> None:
    s.execute(text("UPDATE register_entry SET customer_id = :c WHERE id = :i"), {"c": customer_id, "i": entry_id})


def set_customer_if_unlinked(s: Session, entry_id: int, customer_id: int) -> None:
    s.execute(text("UPDATE register_entry SET customer_id = :c WHERE id = :r AND customer_id IS NULL"),
              {"c": customer_id, "r": entry_id})


def tie_audit_values(s: Session, entry_id: int, customer_id: int) -> None:
    """The personal values audited with the line belong to the customer from now on (not part of
    the hash chain)."""
    # (values of a row whose audit_log.customer_id is set are that customer's already: NULL, 2203)
    s.execute(text("UPDATE audit_value SET customer_id = :c WHERE customer_id IS NULL AND audit_id IN"
                   " (SELECT id FROM audit_log WHERE entity = 'register_entry' AND entity_id = :e"
                   " AND customer_id IS NULL)"),
              {"c": customer_id, "e": str(entry_id)})


_LINE_SQL = ("SELECT r.id, r.arrived_at, r.departed_at, r.name, r.phone, r.companions, r.product, r.source, r.summary,"
             " r.consultant_id, st.display_name, r.kind, r.trial, r.customer_id, c.number,"
             " (SELECT max(f.id) FROM followup_card f WHERE f.customer_id = r.customer_id) FROM register_entry r"
             " LEFT JOIN staff st ON st.id = r.consultant_id LEFT JOIN customer c ON c.id = r.customer_id")


def lines(s: Session, *, day: tuple[str, str] | None, before_id: int | None, limit: int) -> list[RegisterLine]:
    """At most ``limit`` lines, newest first, below ``before_id``: those arriving in ``day`` (from,
    to: ISO text), or with ``day`` None every line without an information source or archive."""
    where: list[str] = []
    params: dict[str, object] = {}
    if day is None:
        where.append("(r.source IS NULL OR r.customer_id IS NULL)")
    else:
        where.append("r.arrived_at >= :a AND r.arrived_at < :b")
        params.update(a=day[0], b=day[1])
    if before_id is not None:
        where.append("r.id < :_i")
        params["_i"] = before_id
    return [RegisterLine(*r) for r in s.execute(text(
        _LINE_SQL + " WHERE " + " AND ".join(where) + " ORDER BY r.id DESC LIMIT :_n"), {**params, "_n": limit}).all()]


def line(s: Session, entry_id: int) -> RegisterLine | None:
    r = s.execute(text(_LINE_SQL + " WHERE r.id = :i"), {"i": entry_id}).first()
    return None if r is None else RegisterLine(*r)


def customer_owner(s: Session, customer_id: int) -> int | None:
    return s.execute(text("SELECT owner_id FROM customer WHERE id = :c"), {"c": customer_id}).scalar()


def customer_contacts(s: Session, customer_id: int) -> list[int]:
    """The staff in contact with the customer (customer_staff)."""
    return [int(x[0]) for x in s.execute(text("SELECT staff_id FROM customer_staff WHERE customer_id = :c"),
                                         {"c": customer_id})]


def primary_phone(s: Session, customer_id: int) -> str | None:
    """The archive's primary phone (national digits), or its first."""
    return s.execute(text("SELECT national FROM customer_phone WHERE customer_id = :c"
                          " ORDER BY is_primary DESC, id LIMIT 1"), {"c": customer_id}).scalar()


# ------------------------------------------------------------------------------------------------
# The daily register check (R-FU-4)
# ------------------------------------------------------------------------------------------------


class CheckItem(NamedTuple):
    kind: str  # visit | card | contact
    ref_id: int
    at: str
    customer_id: int
    customer_number: str
    customer_name: str | None
    staff: str | None
    method: str  # a card: its number


class CheckResolution(NamedTuple):
    kind: str
    ref_id: int
    register_id: int | None
    reason: str | None
    resolved_by: str | None


#: A register line of the same day for the same customer.
_HAS_LINE = ("EXISTS (SELECT 1 FROM register_entry r WHERE r.customer_id = {cust} AND r.arrived_at >= :a"
             " AND r.arrived_at < :b)")
#: Listed: no line, or resolved already (kept in the list as done).
_LISTED = ("(NOT " + _HAS_LINE + " OR EXISTS (SELECT 1 FROM register_check x WHERE x.kind = '{kind}'"
           " AND x.ref_id = {ref}))")


def _in(prefix: str, codes: Sequence[str]) -> tuple[str, dict[str, str]]:
    names = {f"{prefix}{i}": c for i, c in enumerate(codes)}
    return (", ".join(":" + k for k in names) or "NULL"), names


def unregistered(s: Session, day: tuple[str, str], visit_methods: Sequence[str],
                 contact_methods: Sequence[str]) -> list[CheckItem]:
    """The visits (by ``visit_methods``), cards and contact-log entries (by ``contact_methods``) of
    ``day`` (from, to: ISO text) without a register line of that day for their customer, or
    already resolved; by time."""
    vin, vparams = _in("vm", visit_methods)
    kin, kparams = _in("km", contact_methods)
    params = {"a": day[0], "b": day[1], **vparams, **kparams}
    sql = (
        "SELECT 'visit', v.id, v.at, c.id, c.number, c.name, st.display_name, v.method FROM followup_visit v"
        " JOIN followup_card fc ON fc.id = v.card_id JOIN customer c ON c.id = fc.customer_id"
        " LEFT JOIN staff st ON st.id = v.staff_id"
        f" WHERE v.at >= :a AND v.at < :b AND v.method IN ({vin}) AND {_LISTED.format(cust='c.id', kind='visit', ref='v.id')}"
        " UNION ALL "
        "SELECT 'card', fc.id, fc.created_at, c.id, c.number, c.name, st.display_name, fc.number FROM followup_card fc"
        " JOIN customer c ON c.id = fc.customer_id LEFT JOIN staff st ON st.id = fc.owner_id"
        " WHERE fc.created_at >= :a AND fc.created_at < :b"
        " AND (fc.register_id IS NULL OR EXISTS (SELECT 1 FROM register_check y WHERE y.kind = 'card'"
        " AND y.ref_id = fc.id))"
        f" AND {_LISTED.format(cust='c.id', kind='card', ref='fc.id')}"
        " UNION ALL "
        "SELECT 'contact', k.id, k.at, c.id, c.number, c.name, st.display_name, k.method FROM customer_contact k"
        " JOIN customer c ON c.id = k.customer_id LEFT JOIN staff st ON st.id = k.staff_id"
        f" WHERE k.at >= :a AND k.at < :b AND k.method IN ({kin})"
        f" AND {_LISTED.format(cust='c.id', kind='contact', ref='k.id')}"
        " ORDER BY 3, 1, 2")
    return [CheckItem(*r) for r in s.execute(text(sql), params)]


def resolutions(s: Session, day: str) -> dict[tuple[str, int], CheckResolution]:
    """The day's resolved items by (kind, ref id)."""
    return {(r[0], int(r[1])): CheckResolution(*r) for r in s.execute(text(
        "SELECT rc.kind, rc.ref_id, rc.register_id, rc.reason, st.display_name FROM register_check rc"
        " LEFT JOIN staff st ON st.id = rc.resolved_by_id WHERE rc.day = :d"), {"d": day})}


def day_lines(s: Session, day: tuple[str, str]) -> list[tuple[int, str, str, str | None]]:
    """The lines of a day (from, to: ISO text): (id, arrived at, name, archive number), by arrival."""
    return [(int(r[0]), r[1], r[2], r[3]) for r in s.execute(text(
        "SELECT r.id, r.arrived_at, r.name, c.number FROM register_entry r LEFT JOIN customer c"
        " ON c.id = r.customer_id WHERE r.arrived_at >= :a AND r.arrived_at < :b ORDER BY r.arrived_at, r.id"),
        {"a": day[0], "b": day[1]}).all()]


def insert_resolution(s: Session, *, kind: str, ref_id: int, customer_id: int, day: str, register_id: int | None,
                      reason: str | None, now: datetime, by: int | None) -> None:
    s.execute(text("INSERT INTO register_check (kind, ref_id, customer_id, day, register_id, reason, resolved_at,"
                   " resolved_by_id) VALUES (:k, :r, :c, :d, :l, :why, :now, :by)"),
              {"k": kind, "r": ref_id, "c": customer_id, "d": day, "l": register_id, "why": reason, "now": now,
               "by": by})


def line_customer_arrival(s: Session, entry_id: int) -> tuple[int | None, str] | None:
    """A line's archive id and arrival time, or None when there is no such line."""
    r = s.execute(text("SELECT customer_id, arrived_at FROM register_entry WHERE id = :i"), {"i": entry_id}).first()
    return None if r is None else (r[0], r[1])


def set_card_line_if_unset(s: Session, card_id: int, entry_id: int) -> None:
    s.execute(text("UPDATE followup_card SET register_id = :l WHERE id = :i AND register_id IS NULL"),
              {"l": entry_id, "i": card_id})
