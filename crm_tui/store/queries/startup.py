"""What the app's start and the doctor read with a plain sqlcipher3 connection (``conn``, from
store.db.raw_connect) before SQLAlchemy is loaded: this module imports no SQLAlchemy (services/startup
must stay light to import)."""

from __future__ import annotations

from typing import Any


def stored_setting(conn: Any, key: str) -> str | None:
    """The setting's stored JSON value, None when only the default applies."""
    row = conn.execute("SELECT value FROM app_setting WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def schema_version(conn: Any) -> str | None:
    """The alembic revision of the file; None for a file never migrated (no version table)."""
    try:
        current = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except Exception:  # noqa: BLE001 - an unmigrated file has no version table
        return None
    return current[0] if current else None


def holiday_years(conn: Any) -> set[int]:
    """The years the branch's holiday schedule has entries for."""
    return {int(r[0][:4]) for r in conn.execute("SELECT DISTINCT substr(day, 1, 4) FROM holiday_entry")}


def unpublished_imports(conn: Any) -> list[tuple[str, str, str | None, Any]]:
    """(token, file, started by, started at) of the import batches not published, oldest first."""
    return [tuple(r) for r in conn.execute(  # type: ignore[misc]
        "SELECT token, file, started_by, started_at FROM import_batch WHERE state <> 'published'"
        " ORDER BY id").fetchall()]


def unpublished_import_count(conn: Any) -> int:
    """Import batches not published; raises on a database from before the batches (migration 1201)."""
    return int(conn.execute("SELECT count(*) FROM import_batch WHERE state <> 'published'").fetchone()[0])


def make_unique_indexes(conn: Any) -> dict[str, list[tuple[str, int]]]:
    """The doctor's step of store.pending.make_unique_indexes on a plain connection: the indexes of
    live ID numbers and credit codes made UNIQUE where the data allows; returns the duplicates that
    keep a column's index plain."""
    from crm_tui.store import pending

    def run(sql: str) -> list[Any]:
        return list(conn.execute(sql).fetchall())

    return pending.make_unique_indexes(run)
