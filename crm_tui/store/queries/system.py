"""The app's stored settings, and ``Tx.execute``'s statement (services/context). What the start and
the doctor read with a plain connection is in :mod:`crm_tui.store.queries.startup`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def execute(s: Session, sql: str, params: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    """``Tx.execute``'s statement (services/context): kept for code not yet moved to this package."""
    return s.execute(text(sql), params or {})


# -- settings -----------------------------------------------------------------------------------------


def settings(s: Session) -> list[tuple[str, str]]:
    """(key, JSON value) of every stored setting."""
    return [(str(k), str(v)) for k, v in s.execute(text("SELECT key, value FROM app_setting"))]


def put_setting(s: Session, key: str, value_json: str, now: datetime, by: int | None) -> None:
    s.execute(text("INSERT INTO app_setting (key, value, updated_at, updated_by_id) VALUES (:k, :v, :now, :by)"
                   " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,"
                   " updated_by_id = excluded.updated_by_id"),
              {"k": key, "v": value_json, "now": now, "by": by})
