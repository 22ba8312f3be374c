"""The home screen's own counts (services/home): accounts to look after and A/B covers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session


def count_locked(s: Session, now: datetime) -> int:
    """Active accounts locked after wrong passwords."""
    return int(s.execute(text("SELECT count(*) FROM staff WHERE active AND locked_until > :now"),
                         {"now": now}).scalar_one())


def count_first_login(s: Session) -> int:
    """Active accounts still on their one-time password."""
    return int(s.execute(text("SELECT count(*) FROM staff WHERE active AND must_change_password")).scalar_one())


def count_covers(s: Session, backup_id: int | None, day: date) -> int:
    """The A/B posts in force on ``day`` where ``backup_id`` covers a colleague."""
    return int(s.execute(text("SELECT count(*) FROM ab_post WHERE backup_id = :me AND revoked_at IS NULL"
                              " AND start_date <= :d AND end_date >= :d"), {"me": backup_id, "d": day}).scalar_one())
