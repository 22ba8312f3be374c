"""Import batches not yet published, and the unique indexes on live ID numbers and credit codes.

An import (services/importing.py) writes its customers in short transactions, each a few
thousand rows, so no write holds the lock for long. Until its final short transaction marks the
batch ``published`` the rows are invisible: every list, count, queue, report and search adds
:func:`hide` (``AND NOT (c.id BETWEEN first AND last)`` for each unpublished batch; nothing at all
when none is running, so the usual query plans are untouched). The id range is reserved by the
batch's first transaction (a placeholder row at ``last_id``), so customers the desk registers
meanwhile take ids above it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm_tui.store.db import dbapi_connection

UNIQUE_COLUMNS = ("id_number", "uscc")


def ranges(session: Any) -> list[tuple[int, int]]:
    """(first_id, last_id) of every unpublished batch, looked up once per transaction."""
    conn = dbapi_connection(session)
    info = getattr(session, "info", None)
    if info is not None:
        cached = info.get("_crm_pending")
        tx = session.get_transaction()
        if cached is not None and cached[0] is tx:
            return cached[1]  # type: ignore[no-any-return]
    try:
        found = [(int(a), int(b)) for a, b in conn.execute(
            "SELECT first_id, last_id FROM import_batch INDEXED BY ix_import_batch_pending"
            " WHERE state <> 'published'").fetchall()]
    except Exception as e:  # noqa: BLE001 - a database from before 1201 has no batches
        if "no such table" not in str(e) and "no such index" not in str(e):
            raise
        found = []
    if info is not None:
        info["_crm_pending"] = (session.get_transaction(), found)
    return found


def conditions(session: Any, col: str = "c.id") -> list[str]:
    """WHERE conditions that keep unpublished imports out of a query over customers (``col``
    their id): none at all when no import is running."""
    return [f"NOT ({col} BETWEEN {a} AND {b})" for a, b in ranges(session)]


def hide(session: Any, col: str = "c.id") -> str:
    """:func:`conditions` as SQL to append to a WHERE clause (" AND ..."), or ""."""
    return "".join(" AND " + c for c in conditions(session, col))


def is_unique(run: Callable[[str], list[Any]], col: str) -> bool:
    for row in run("PRAGMA index_list(customer)"):
        if row[1] == f"ix_customer_{col}":
            return bool(row[2])
    return False


def duplicates(run: Callable[[str], list[Any]], col: str, limit: int = 20) -> list[tuple[str, int]]:
    """Live values of ``col`` held by more than one archive: (value, how many)."""
    return [(str(v), int(n)) for v, n in run(
        f"SELECT {col}, count(*) FROM customer WHERE {col} IS NOT NULL GROUP BY {col} HAVING count(*) > 1"
        f" LIMIT {int(limit)}")]


def make_unique_indexes(run: Callable[[str], list[Any]]) -> dict[str, list[tuple[str, int]]]:
    """Make ``ix_customer_id_number`` / ``ix_customer_uscc`` UNIQUE where the data allows; returns
    the duplicates that keep a column's index plain (empty when both are unique)."""
    blocked: dict[str, list[tuple[str, int]]] = {}
    for col in UNIQUE_COLUMNS:
        if is_unique(run, col):
            continue
        found = duplicates(run, col)
        if found:
            blocked[col] = found
            continue
        run(f"DROP INDEX IF EXISTS ix_customer_{col}")
        run(f"CREATE UNIQUE INDEX ix_customer_{col} ON customer ({col}) WHERE {col} IS NOT NULL")
    return blocked
