"""The customer import's statements (services/importing): saved column mappings, the dry run's
look-ups, the import batch (store/pending.py) and its bulk inserts, the timeline's import entry.

The bulk inserts are DB-API ``executemany`` of positional rows in the caller's transaction
(SQLAlchemy's per-row parameter processing of ``text()`` with dicts was ~17 % of an import)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.store import db

# -- saved mappings ---------------------------------------------------------------------------------


def save_mapping(s: Session, name: str, mapping_json: str, now: datetime, by: int | None) -> None:
    s.execute(text("INSERT INTO import_mapping (name, mapping, updated_at, updated_by_id) VALUES (:n, :m, :now, :by)"
                   " ON CONFLICT(name) DO UPDATE SET mapping = excluded.mapping, updated_at = excluded.updated_at,"
                   " updated_by_id = excluded.updated_by_id"),
              {"n": name, "m": mapping_json, "now": now, "by": by})


def mapping_json(s: Session, name: str) -> str | None:
    """The saved mapping's JSON, None when there is none of that name."""
    row = s.execute(text("SELECT mapping FROM import_mapping WHERE name = :n"), {"n": name}).first()
    return None if row is None else str(row[0])


def mapping_names(s: Session) -> list[str]:
    return [str(r[0]) for r in s.execute(text("SELECT name FROM import_mapping ORDER BY name"))]


def delete_mapping(s: Session, name: str) -> None:
    s.execute(text("DELETE FROM import_mapping WHERE name = :n"), {"n": name})


# -- the dry run ------------------------------------------------------------------------------------


def staff_logins(s: Session) -> list[tuple[int, str, str, bool]]:
    """(id, user name, display name, active) of every account."""
    return [(int(i), str(u), str(d), bool(a))
            for i, u, d, a in s.execute(text("SELECT id, username, display_name, active FROM staff"))]


def live_identities(s: Session) -> list[tuple[int, str, str | None, str | None]]:
    """(id, number, ID number, credit code) of the live archives holding either."""
    return [(int(c), str(n), i, u) for c, n, i, u in s.execute(text(
        "SELECT id, number, id_number, uscc FROM customer WHERE erased_at IS NULL"
        " AND (id_number IS NOT NULL OR uscc IS NOT NULL)"))]


def live_phones(s: Session) -> list[tuple[str, int, str, str]]:
    """(national number, customer id, number, name) of every live archive's phones."""
    return [(str(p), int(c), str(n), str(m)) for p, c, n, m in s.execute(text(
        "SELECT ph.national, c.id, c.number, c.name FROM customer_phone ph JOIN customer c"
        " ON c.id = ph.customer_id WHERE c.erased_at IS NULL"))]


# -- the batch --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reserved:
    batch_id: int
    first_id: int  # the rows take first_id .. last_id - 1
    last_id: int  # the placeholder's id
    first_seq: int  # the first customer number's sequence of the year


def reserve_batch(s: Session, *, token: str, file: str, sha256: str, rows: int, started_by: str, now: datetime,
                  placeholder_name: str) -> Reserved:
    """The batch's first short transaction: ids and customer numbers reserved for ``rows`` rows, the
    batch marked running, and a placeholder customer pinning the top of the id range (erased, hidden,
    numbered ``IMPORT-<batch>``) so customers the desk registers meanwhile take ids above it."""
    first_id = int(s.execute(text("SELECT coalesce(max(id), 0) FROM customer")).scalar_one()) + 1
    last_id = first_id + rows
    last = s.execute(text("SELECT last FROM customer_number_seq WHERE year = :y"), {"y": now.year}).first()
    first_seq = (int(last[0]) if last else 0) + 1
    s.execute(text("INSERT INTO customer_number_seq (year, last) VALUES (:y, :l)"
                   " ON CONFLICT(year) DO UPDATE SET last = excluded.last"),
              {"y": now.year, "l": first_seq + rows - 1})
    batch_id = int(s.execute(text(
        "INSERT INTO import_batch (token, state, file, sha256, first_id, last_id, rows, started_by,"
        " started_at) VALUES (:t, 'running', :f, :h, :a, :b, 0, :u, :now) RETURNING id"),
        {"t": token, "f": file, "h": sha256, "a": first_id, "b": last_id, "u": started_by, "now": now}).scalar_one())
    s.execute(text("INSERT INTO customer (id, number, kind, name, important, false_info, business_stopped,"
                   " needs_informing, last_activity_at, version, created_at, updated_at, erased_at)"
                   " VALUES (:id, :n, 'person', :name, 0, 0, 0, 0, :now, 1, :now, :now, :now)"),
              {"id": last_id, "n": f"IMPORT-{batch_id}", "name": placeholder_name, "now": now})
    return Reserved(batch_id, first_id, last_id, first_seq)


def publish_batch(s: Session, batch_id: int, last_id: int, written: int, now: datetime) -> None:
    """The placeholder removed, the batch published: its rows show everywhere from the commit."""
    s.execute(text("DELETE FROM customer WHERE id = :id AND number = :n"), {"id": last_id, "n": f"IMPORT-{batch_id}"})
    s.execute(text("UPDATE import_batch SET state = 'published', rows = :r, finished_at = :now WHERE id = :b"),
              {"r": written, "now": now, "b": batch_id})


def customer_columns_insert(cols: Sequence[str]) -> str:
    """The positional INSERT of a customer row with ``cols`` (for :func:`insert_rows`)."""
    return f"INSERT INTO customer ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


_PHONE_COLUMNS = ("customer_id", "national", "e164", "kind", "label", "is_primary", "created_at")


def insert_rows(s: Session, insert_customer: str, rows: Sequence[tuple[Any, ...]],
                phones: Sequence[tuple[Any, ...]], tags: Sequence[tuple[Any, ...]],
                staff_rows: Sequence[tuple[Any, ...]], consents: Sequence[tuple[Any, ...]], *,
                labels: bool = True) -> None:
    """One chunk of the batch: customers (``insert_customer`` from :func:`customer_columns_insert`),
    (customer, national, e164, kind, label, primary, created) phones (without label when not
    ``labels``: NULL), (customer, tag) tags, (customer, staff) contacts and (customer, purpose,
    scope, method, given, by, at) consents."""
    db.executemany(s, insert_customer, rows)
    cols = [c for c in _PHONE_COLUMNS if labels or c != "label"]
    db.executemany(s, f"INSERT INTO customer_phone ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", phones)
    db.executemany(s, "INSERT OR IGNORE INTO customer_tag (customer_id, tag) VALUES (?, ?)", tags)
    db.executemany(s, "INSERT OR IGNORE INTO customer_staff (customer_id, staff_id) VALUES (?, ?)", staff_rows)
    db.executemany(s, "INSERT INTO customer_consent (customer_id, purpose, scope, method, given_at,"
                      " recorded_by_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)", consents)


def taken(s: Session, idents: Sequence[str], nationals: Sequence[str]) -> set[tuple[str, str]]:
    """("id_number" | "uscc" | "phone", value) of ``idents`` (ID numbers and credit codes) and
    ``nationals`` (phones of live archives) the archive holds now, any batch published or not.
    Index lookups."""
    out: set[tuple[str, str]] = set()
    conn = db.dbapi_connection(s)
    if idents:
        arg = json.dumps(list(idents), ensure_ascii=False)
        for col in ("id_number", "uscc"):
            out.update((col, v) for (v,) in conn.execute(
                f"SELECT {col} FROM customer WHERE {col} IN (SELECT value FROM json_each(?))", (arg,)))
    if nationals:
        out.update(("phone", v) for (v,) in conn.execute(
            "SELECT ph.national FROM customer_phone ph JOIN customer c ON c.id = ph.customer_id"
            " WHERE ph.national IN (SELECT value FROM json_each(?)) AND c.erased_at IS NULL",
            (json.dumps(list(nationals), ensure_ascii=False),)))
    return out


def mark_batch_failed(s: Session, batch_id: int) -> None:
    s.execute(text("UPDATE import_batch SET state = 'failed' WHERE id = :b AND state = 'running'"), {"b": batch_id})


def customers_between(s: Session, a: int, b: int) -> list[tuple[int, str, str | None, str, str | None, str | None]]:
    """(id, number, name, kind, ID number, credit code) of the customers with ids a..b."""
    conn = db.dbapi_connection(s)
    return [tuple(r) for r in conn.execute(  # type: ignore[misc]
        "SELECT id, number, name, kind, id_number, uscc FROM customer WHERE id BETWEEN ? AND ?", (a, b)).fetchall()]


def phones_between(s: Session, a: int, b: int) -> dict[int, list[str]]:
    """The national phone numbers of the customers with ids a..b."""
    out: dict[int, list[str]] = {}
    for cid, nat in db.dbapi_connection(s).execute("SELECT customer_id, national FROM customer_phone"
                                                    " WHERE customer_id BETWEEN ? AND ?", (a, b)):
        out.setdefault(int(cid), []).append(str(nat))
    return out


def delete_customers_between(s: Session, a: int, b: int, terms: Sequence[tuple[str, int]]) -> None:
    """The customers with ids a..b removed with their rows and their (term, customer) search terms."""
    conn = db.dbapi_connection(s)
    conn.executemany("DELETE FROM search_term WHERE term = ? AND customer_id = ?", terms)
    for table in ("customer_phone", "customer_tag", "customer_staff", "customer_consent"):
        conn.execute(f"DELETE FROM {table} WHERE customer_id BETWEEN ? AND ?", (a, b))
    conn.execute("DELETE FROM customer WHERE id BETWEEN ? AND ?", (a, b))


def pop_batch(s: Session, batch_id: int) -> tuple[str, str | None, Any] | None:
    """The batch removed; returns its (file, started by, started at), None when there was none."""
    info = s.execute(text("SELECT file, started_by, started_at FROM import_batch WHERE id = :b"), {"b": batch_id}).first()
    s.execute(text("DELETE FROM import_batch WHERE id = :b"), {"b": batch_id})
    return None if info is None else (info[0], info[1], info[2])


@dataclass(frozen=True)
class Unpublished:
    id: int
    token: str
    first_id: int
    last_id: int
    file: str
    started_by: str | None
    started_at: Any


def unpublished_batches(s: Session) -> list[Unpublished]:
    return [Unpublished(int(i), str(t), int(a), int(b), str(f), by, at) for i, t, a, b, f, by, at in s.execute(text(
        "SELECT id, token, first_id, last_id, file, started_by, started_at FROM import_batch"
        " WHERE state <> 'published'")).all()]


# -- filling existing archives ------------------------------------------------------------------------


def held_by_another(s: Session, col: str, value: str, customer_id: int) -> bool:
    """Whether another archive holds ``value`` in ``col`` ("id_number" or "uscc")."""
    assert col in ("id_number", "uscc")
    return s.execute(text(f"SELECT 1 FROM customer WHERE {col} = :v AND id != :c"),
                     {"v": value, "c": customer_id}).first() is not None


def update_customer(s: Session, customer_id: int, sets: Mapping[str, Any]) -> None:
    """``sets`` (column -> value) written on the archive, its version counted up."""
    s.execute(text(f"UPDATE customer SET {', '.join(f'{k} = :{k}' for k in sets)}, version = version + 1"
                   " WHERE id = :id"), {**sets, "id": customer_id})


def add_sensitive_consent(s: Session, customer_id: int, purpose: str, given: date, by: int | None,
                          at: datetime) -> None:
    s.execute(text("INSERT INTO customer_consent (customer_id, purpose, scope, method, given_at, recorded_by_id,"
                   " recorded_at) VALUES (:c, :p, 'sensitive', 'signed_form', :g, :by, :at)"),
              {"c": customer_id, "p": purpose, "g": given, "by": by, "at": at})


# -- the customer's timeline ----------------------------------------------------------------------------


def import_entry(s: Any, customer_id: int, before: Any) -> list[tuple[int, Any, str | None, str]]:
    """(audit id, at, actor name, details JSON) of the import that created the customer (its single
    audit entry records the range of ids), at or before ``before`` when given."""
    params: dict[str, Any] = {"c": customer_id}
    where = ""
    if before is not None:
        where = " AND at <= :b"
        params["b"] = before
    return [(int(a), at, n, str(d)) for a, at, n, d in s.execute(text(
        "SELECT id, at, actor_name, details FROM audit_log WHERE action = 'customer.import'"
        " AND json_extract(details, '$.first_id') <= :c AND json_extract(details, '$.last_id') >= :c" + where +
        " ORDER BY id DESC LIMIT 1"), params).all()]
