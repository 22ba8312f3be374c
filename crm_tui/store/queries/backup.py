"""What a restore reads in a database or a backup file before trusting it (services/backup): the
audit chain's head and a row's hash, and the staff table for the administrator's password.
``conn`` is a plain sqlcipher3 connection (store.db.raw_connect, store.backup._read_only)."""

from __future__ import annotations

from typing import Any


def audit_head(conn: Any) -> int:
    """The newest audit entry's id (0 for none)."""
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0])


def audit_hash(conn: Any, at_id: int) -> str | None:
    """The chain hash of audit entry ``at_id``; None when there is no such entry."""
    from crm_tui.store.audit_sql import HASH_HEX

    row = conn.execute(f"SELECT {HASH_HEX} FROM audit_log WHERE id = ?", (at_id,)).fetchone()
    return row[0] if row else None


def staff_login(conn: Any, username: str) -> tuple[int, str, str, bool] | None:
    """(id, user name, password hash, active) of the account, the name matched without case."""
    row = conn.execute("SELECT id, username, password_hash, active FROM staff WHERE username = ? COLLATE NOCASE",
                       (username,)).fetchone()
    return None if row is None else (row[0], row[1], row[2], row[3])


def staff_roles(conn: Any, staff_id: int) -> list[str]:
    return [r[0] for r in conn.execute("SELECT role FROM staff_role WHERE staff_id = ?", (staff_id,))]
