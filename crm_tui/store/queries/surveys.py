"""Satisfaction surveys due (services.surveys, R-CUST-15): one SQL shape for the list and the count."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.store.queries.customers_lists import Page, keyset
from crm_tui.store.queries.survey_sql import survey_filters

__all__ = ["due_count", "due_page"]


def _due_sql(default_days: int, by_grade: Mapping[str, int], categories: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """Every surveyed customer with (due day, id, last survey or None, interval days)."""
    params: dict[str, Any] = {}
    days_sql, cats = survey_filters("c.", default_days, by_grade, categories, params)
    inner = (f"SELECT c.id AS id, {days_sql} AS days,"
             " (SELECT max(f.at) FROM customer_feedback f WHERE f.customer_id = c.id AND f.kind = 'survey') AS last,"
             " c.created_at AS created"
             f" FROM customer c WHERE c.erased_at IS NULL{cats}")
    sql = ("SELECT date(coalesce(t.last, t.created), '+' || t.days || ' days') AS due, t.id AS id, t.last AS last,"
           f" t.days AS days FROM ({inner}) t")
    return sql, params


def due_page(s: Session, today: str, default_days: int, by_grade: Mapping[str, int], categories: Sequence[str],
             cursor: str | None, limit: int) -> Page:
    """(due day, customer id, last survey, interval days) of customers due on or before ``today``."""
    base, params = _due_sql(default_days, by_grade, categories)
    return keyset(s, f"SELECT * FROM ({base}) u WHERE u.due <= :today", {**params, "today": today},
                  cursor, "w15", limit, "u.due", "u.id")


def due_count(s: Session, today: str, default_days: int, by_grade: Mapping[str, int], categories: Sequence[str]) -> int:
    from crm_tui.store.queries import summary  # counts per grade, category and day (issue 22)

    return summary.survey_due_count(s, today, default_days, by_grade, categories)


def due_count_rows(s: Session, today: str, default_days: int, by_grade: Mapping[str, int],
                   categories: Sequence[str]) -> int:
    base, params = _due_sql(default_days, by_grade, categories)
    return int(s.execute(text(f"SELECT count(*) FROM ({base}) u WHERE u.due <= :today"),
                         {**params, "today": today}).scalar_one())
