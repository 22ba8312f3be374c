"""Reads of the home dashboard's summary tables (crm_tui/store/summary.py), their recount from the
base tables (``doctor``, tests) and their rebuild.

Each reader answers exactly what its base-table query in store/queries/reports (or
customers_lists) answers; those call it when :func:`usable` says so: no import batch is waiting to
be published (its rows are in the counts already but must stay hidden until it is). Periods are
whole days: the bounds the reports pass are midnights, so ``day >= date(:a) AND day < date(:b)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.store import pending, summary
from crm_tui.store.queries.survey_sql import survey_filters

_WEEK = "date(day, 'weekday 0', '-6 days')"


def usable(s: Session) -> bool:
    """The counts answer the dashboard: no unpublished import batch is being written."""
    return not pending.ranges(s)


def _own(owner: int | None, col: str = "owner_id") -> str:
    return f" AND {col} = :me" if owner is not None else ""


def category_grade_counts(s: Session, owner: int | None) -> list[tuple[str | None, str | None, int]]:
    """Live customers by (category, grade) code: store/queries/reports.category_grade_counts."""
    rows = s.execute(text("SELECT category, grade, sum(n) FROM sum_customer_live WHERE 1" + _own(owner)
                          + " GROUP BY category, grade HAVING sum(n) != 0"), {"me": owner}).all()
    return [(c or None, g or None, int(n)) for c, g, n in rows]


def new_customers_by_week(s: Session, a: str, b: str, owner: int | None) -> dict[str, int]:
    """Archives created from day ``a`` to before day ``b``, by the Monday of their week."""
    return {str(w): int(n) for w, n in s.execute(text(
        f"SELECT {_WEEK} w, sum(n) FROM sum_customer_new WHERE day >= date(:a) AND day < date(:b){_own(owner)}"
        " GROUP BY w HAVING sum(n) != 0"), {"a": a, "b": b, "me": owner}).all()}


def new_customers(s: Session, a: str, b: str, owner: int | None) -> int:
    return int(s.execute(text("SELECT coalesce(sum(n), 0) FROM sum_customer_new WHERE day >= date(:a)"
                              f" AND day < date(:b){_own(owner)}"), {"a": a, "b": b, "me": owner}).scalar_one())


def cards_opened(s: Session, da: str, db: str, owner: int | None) -> int:
    """Cards not void with a card date in [da, db] (days)."""
    return int(s.execute(text("SELECT coalesce(sum(n), 0) FROM sum_card WHERE day >= :da AND day <= :db"
                              f" AND status != 'void'{_own(owner)}"), {"da": da, "db": db, "me": owner}).scalar_one())


def cards_won_lost(s: Session, a: str, b: str, owner: int | None) -> tuple[int, int]:
    """Cards won and lost with the result recorded from day ``a`` to before day ``b``."""
    w, lo = s.execute(text("SELECT sum(n * (status = 'won')), sum(n * (status = 'lost')) FROM sum_card_closed"
                           f" WHERE day >= date(:a) AND day < date(:b){_own(owner)}"),
                      {"a": a, "b": b, "me": owner}).one()
    return int(w or 0), int(lo or 0)


def source_counts(s: Session, start: str, end: str, owner: int | None) -> list[tuple[str | None, int, int, int]]:
    """store/queries/reports.source_counts: cards opened in [start, end], not void, by source."""
    rows = s.execute(text(
        "SELECT source, sum(n), sum(n * (status = 'won')), sum(n * (status = 'lost')) FROM sum_card"
        f" WHERE day >= :a AND day <= :b AND status != 'void'{_own(owner)}"
        " GROUP BY source HAVING sum(n) != 0 ORDER BY sum(n) DESC, source"),
        {"a": start, "b": end, "me": owner}).all()
    return [(c, int(n), int(w or 0), int(lo or 0)) for c, n, w, lo in rows]


def count_owner_disabled(s: Session) -> int:
    """Live customers whose responsible staff member is disabled."""
    return int(s.execute(text("SELECT coalesce(sum(l.n), 0) FROM sum_customer_live l JOIN staff st"
                              " ON st.id = l.owner_id WHERE st.active = 0")).scalar_one())


def count_understaffed(s: Session) -> int:
    """Important live customers with fewer than two active staff in contact (the responsible one,
    if active, and the active others of customer_staff): customers_lists.UNDERSTAFFED."""
    return int(s.execute(text(
        "SELECT coalesce(sum(t.n), 0) FROM sum_important t WHERE t.n != 0 AND ((SELECT count(*) FROM staff o"
        " WHERE o.id = t.owner_id AND o.active = 1) + (SELECT count(*) FROM json_each('[' || t.others || ']') j"
        " JOIN staff st ON st.id = j.value WHERE j.value IS NOT t.owner_id AND st.active = 1)) < 2")).scalar_one())


def count_past_deadline(s: Session, now: str) -> int:
    """Archives whose maintenance deadline is before ``now``: whole days from the summary, today's
    from the index."""
    return int(s.execute(text(
        "SELECT (SELECT coalesce(sum(n), 0) FROM sum_incomplete WHERE day < date(:n))"
        " + (SELECT count(*) FROM customer WHERE incomplete_due >= date(:n) AND incomplete_due < :n)"),
        {"n": now}).scalar_one())


def survey_due_count(s: Session, today: str, default_days: int, by_grade: Mapping[str, int],
                     categories: Sequence[str]) -> int:
    """store/queries/surveys.due_count from the counts per grade, category and day of the last survey
    (or of the archive's creation): due when that day plus the grade's interval is not after today."""
    p: dict[str, Any] = {"today": today}
    days_sql, cats = survey_filters("", default_days, by_grade, categories, p)
    return int(s.execute(text(f"SELECT coalesce(sum(n), 0) FROM sum_survey WHERE n != 0{cats}"
                              f" AND date(day, '+' || {days_sql} || ' days') <= :today"), p).scalar_one())


# -- recount, compare, rebuild (a Session, or the plain connection ``doctor`` holds) ----------------------


def _all(s: Any, sql: str) -> list[Any]:
    if isinstance(s, Session):
        return list(s.execute(text(sql)).all())
    return list(s.execute(sql).fetchall())


@dataclass(frozen=True)
class Mismatch:
    table: str
    key: tuple[Any, ...]
    stored: int
    counted: int


def recount(s: Any) -> dict[str, dict[tuple[Any, ...], int]]:
    """What every summary table should hold, counted from the base tables."""
    return {table: {tuple(r[:-1]): int(r[-1]) for r in _all(s, select)}
            for table, (_keys, select) in summary.TABLES.items()}


def stored(s: Any) -> dict[str, dict[tuple[Any, ...], int]]:
    """What the summary tables hold (rows counting 0 left out)."""
    return {table: {tuple(r[:-1]): int(r[-1]) for r in _all(s, f"SELECT {', '.join(keys)}, n FROM {table} WHERE n != 0")}
            for table, (keys, _select) in summary.TABLES.items()}


def compare(s: Any) -> list[Mismatch]:
    """Every key whose stored count differs from the recount (empty: the summary is right)."""
    have, want = stored(s), recount(s)
    out = []
    for table in summary.TABLES:
        for key in sorted(set(have[table]) | set(want[table]), key=repr):
            a, b = have[table].get(key, 0), want[table].get(key, 0)
            if a != b:
                out.append(Mismatch(table, key, a, b))
    return out


def missing_triggers(s: Any) -> list[str]:
    have = {r[0] for r in _all(s, "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return [t for t in summary.trigger_names() if t not in have]


def rebuild(s: Any) -> None:
    """Refill the counts from the base tables, and put back any trigger a table copy dropped (in
    the caller's transaction)."""
    def run(sql: str) -> None:
        _all(s, sql)

    summary.install_triggers(run)
    summary.rebuild(run)


def rebuild_now(conn: Any) -> None:
    """:func:`rebuild` in a transaction of its own on ``doctor``'s plain connection."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        rebuild(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
