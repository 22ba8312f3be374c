"""Summary tables of the home dashboard (issue 22): counts the dashboard would otherwise re-count
over a million customers at every visit home.

The counts are kept by SQLite triggers on the base tables, so every write that changes them - the
services, the importer, the demo, the benchmark generators, a rolled-back transaction - moves them
in the same transaction, and no writer can forget to. The tables (a missing key means 0):

- ``sum_customer_live (owner_id, category, grade, n)``: archives not erased (``erased_at IS NULL``)
  by responsible person, category and grade: the category/grade chart and the count of customers
  whose responsible person is disabled.
- ``sum_customer_new (day, owner_id, n)``: archives by the day they were created (erased ones still
  count, as the report defines new customers) and their current responsible person.
- ``sum_card (day, owner_id, source, status, n)``: follow-up cards by card date, consultant, source
  and status: cards opened, and the conversion chart.
- ``sum_card_closed (day, owner_id, status, n)``: won and lost cards by the day of the result.

Keys are NOT NULL so that the upserts meet: a missing person is 0, a missing code is ''.

Counts that depend on today's date are not stored as counts: the rows are kept by DAY, and a period
(a week, twelve weeks) is a sum over a short range of days, read in microseconds.

Rows of an import batch not yet published are counted by the triggers like any other row; the
readers (store/queries/summary) count from the base tables while such a batch exists.

``install`` creates everything and fills it (migration 2201); ``rebuild`` refills the counts from
the base tables (``crm-tui doctor --rebuild-summary``, and bulk writers may call it once at the end);
``recount`` returns what the counts should be, for ``doctor`` and the tests. A migration that
recreates ``customer`` or ``followup_card`` (alembic batch mode copies the table) drops their
triggers: it must call ``install_triggers`` again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: table -> (key columns, SELECT of (key..., n) from the base tables)
TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "sum_customer_live": (("owner_id", "category", "grade"),
                          "SELECT coalesce(owner_id, 0), coalesce(category, ''), coalesce(grade, ''), count(*)"
                          " FROM customer WHERE erased_at IS NULL GROUP BY 1, 2, 3"),
    "sum_customer_new": (("day", "owner_id"),
                         "SELECT coalesce(date(created_at), ''), coalesce(owner_id, 0), count(*) FROM customer"
                         " WHERE created_at IS NOT NULL GROUP BY 1, 2"),
    "sum_card": (("day", "owner_id", "source", "status"),
                 "SELECT coalesce(card_date, ''), coalesce(owner_id, 0), coalesce(source, ''), coalesce(status, ''),"
                 " count(*) FROM followup_card GROUP BY 1, 2, 3, 4"),
    "sum_card_closed": (("day", "owner_id", "status"),
                        "SELECT coalesce(date(closed_at), ''), coalesce(owner_id, 0), status, count(*) FROM followup_card"
                        " WHERE closed_at IS NOT NULL AND status IN ('won', 'lost') GROUP BY 1, 2, 3"),
    "sum_incomplete": (("day",),
                       "SELECT coalesce(date(incomplete_due), ''), count(*) FROM customer"
                       " WHERE incomplete_due IS NOT NULL GROUP BY 1"),
    "sum_survey": (("grade", "category", "day"),
                   "SELECT coalesce(grade, ''), coalesce(category, ''), coalesce(date(coalesce((SELECT max(f.at)"
                   " FROM customer_feedback f WHERE f.customer_id = c.id AND f.kind = 'survey'), c.created_at)), ''),"
                   " count(*) FROM customer c WHERE erased_at IS NULL GROUP BY 1, 2, 3"),
    "sum_important": (("owner_id", "others"),
                      "SELECT coalesce(owner_id, 0), coalesce((SELECT group_concat(sid, ',') FROM (SELECT cs.staff_id AS sid"
                      " FROM customer_staff cs WHERE cs.customer_id = c.id ORDER BY 1)), ''), count(*) FROM customer c"
                      " WHERE important = 1 AND erased_at IS NULL GROUP BY 1, 2"),
}

_TYPES = {"owner_id": "INTEGER", "day": "TEXT", "category": "TEXT", "grade": "TEXT", "source": "TEXT",
          "status": "TEXT", "others": "TEXT"}

# A customer's last survey and its other staff in contact, from its child rows: {cid} the customer,
# {excl} a child row left out (the one a trigger fires for), {extra} that row put back ("" or a UNION).
_LAST = ("(SELECT max(at) FROM (SELECT at FROM customer_feedback WHERE customer_id = {cid} AND kind = 'survey'"
         " AND id IS NOT {excl}{extra}))")
# (An ordered subquery rather than group_concat(... ORDER BY ...), which needs SQLite 3.44: the schema must
# stay readable by older SQLite builds, e.g. Python's own sqlite3 on a decrypted copy. SQLite does not
# flatten an ordered subquery into an aggregate, so the order holds.)
_OTHERS = ("(SELECT group_concat(sid, ',') FROM (SELECT staff_id AS sid FROM customer_staff"
           " WHERE customer_id = {cid} AND rowid IS NOT {excl}{extra} ORDER BY 1))")

# Per table: (base table, columns whose update moves a row, condition on the row (R = NEW or OLD),
# key expressions on the row).
_ROWS: dict[str, tuple[str, tuple[str, ...], str, tuple[str, ...]]] = {
    "sum_customer_live": ("customer", ("owner_id", "category", "grade", "erased_at"), "R.erased_at IS NULL",
                          ("coalesce(R.owner_id, 0)", "coalesce(R.category, '')", "coalesce(R.grade, '')")),
    "sum_customer_new": ("customer", ("owner_id", "created_at"), "R.created_at IS NOT NULL",
                         ("coalesce(date(R.created_at), '')", "coalesce(R.owner_id, 0)")),
    "sum_card": ("followup_card", ("card_date", "owner_id", "source", "status"), "1",
                 ("coalesce(R.card_date, '')", "coalesce(R.owner_id, 0)", "coalesce(R.source, '')",
                  "coalesce(R.status, '')")),
    "sum_card_closed": ("followup_card", ("closed_at", "owner_id", "status"),
                        "R.closed_at IS NOT NULL AND R.status IN ('won', 'lost')",
                        ("coalesce(date(R.closed_at), '')", "coalesce(R.owner_id, 0)", "R.status")),
    "sum_incomplete": ("customer", ("incomplete_due",), "R.incomplete_due IS NOT NULL",
                       ("coalesce(date(R.incomplete_due), '')",)),
    "sum_survey": ("customer", ("grade", "category", "erased_at", "created_at"), "R.erased_at IS NULL",
                   ("coalesce(R.grade, '')", "coalesce(R.category, '')",
                    "coalesce(date(coalesce(" + _LAST.format(cid="R.id", excl="NULL", extra="") + ", R.created_at)), '')")),
    "sum_important": ("customer", ("important", "erased_at", "owner_id"), "R.important = 1 AND R.erased_at IS NULL",
                      ("coalesce(R.owner_id, 0)", "coalesce(" + _OTHERS.format(cid="R.id", excl="NULL", extra="") + ", '')")),
}

# Summary tables whose key also depends on a child table: (child, its columns that matter, the child's
# customer column, the key expression of the customer row c given the aggregate, the aggregate
# template, the child's row id, how a child row joins the aggregate).
_CHILD: dict[str, tuple[str, tuple[str, ...], str, tuple[str, ...], str, str, str]] = {
    "sum_survey": ("customer_feedback", ("customer_id", "kind", "at"), "customer_id",
                   ("coalesce(c.grade, '')", "coalesce(c.category, '')", "coalesce(date(coalesce({agg}, c.created_at)), '')"),
                   _LAST, "id", " UNION ALL SELECT {R}.at WHERE {R}.kind = 'survey'"),
    "sum_important": ("customer_staff", ("customer_id", "staff_id"), "customer_id",
                      ("coalesce(c.owner_id, 0)", "coalesce({agg}, '')"), _OTHERS, "rowid",
                      " UNION SELECT {R}.staff_id"),
}


def _ddl(table: str) -> list[str]:
    keys = TABLES[table][0]
    cols = ", ".join(f"{k} {_TYPES[k]} NOT NULL" for k in keys)
    return [f"CREATE TABLE IF NOT EXISTS {table} ({cols}, n INTEGER NOT NULL, PRIMARY KEY ({', '.join(keys)}))"
            " WITHOUT ROWID"]


def _bump(table: str, row: str, delta: int) -> str:
    base, _cols, cond, exprs = _ROWS[table]
    keys = TABLES[table][0]
    vals = ", ".join(e.replace("R.", f"{row}.") for e in exprs)
    return (f"INSERT INTO {table} ({', '.join(keys)}, n) SELECT {vals}, {delta} WHERE {cond.replace('R.', row + '.')}"
            " ON CONFLICT DO UPDATE SET n = n + excluded.n;")


def _child_bump(table: str, row: str, delta: int, with_row: bool) -> str:
    """Move the customer of child row ``row`` (NEW/OLD): its key with the row (``with_row``) or without."""
    child, _cols, fk, exprs, agg, rid, extra = _CHILD[table]
    keys = TABLES[table][0]
    cond = _ROWS[table][2].replace("R.", "c.")
    a = agg.format(cid="c.id", excl=f"{row}.{rid}", extra=extra.format(R=row) if with_row else "")
    vals = ", ".join(e.format(agg=a) for e in exprs)
    return (f"INSERT INTO {table} ({', '.join(keys)}, n) SELECT {vals}, {delta} FROM customer c"
            f" WHERE c.id = {row}.{fk} AND {cond} ON CONFLICT DO UPDATE SET n = n + excluded.n;")


def _triggers(table: str) -> list[str]:
    base, cols, _cond, _exprs = _ROWS[table]
    t = f"trg_{table}"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {t}_ins AFTER INSERT ON {base} BEGIN {_bump(table, 'NEW', 1)} END",
        f"CREATE TRIGGER IF NOT EXISTS {t}_del AFTER DELETE ON {base} BEGIN {_bump(table, 'OLD', -1)} END",
        f"CREATE TRIGGER IF NOT EXISTS {t}_upd AFTER UPDATE OF {', '.join(cols)} ON {base} BEGIN"
        f" {_bump(table, 'OLD', -1)} {_bump(table, 'NEW', 1)} END",
    ]


def _child_triggers(table: str) -> list[str]:
    child, cols, *_rest = _CHILD[table]
    t = f"trg_{table}_child"
    add = _child_bump(table, "NEW", -1, False) + " " + _child_bump(table, "NEW", 1, True)
    remove = _child_bump(table, "OLD", -1, True) + " " + _child_bump(table, "OLD", 1, False)
    return [
        f"CREATE TRIGGER IF NOT EXISTS {t}_ins AFTER INSERT ON {child} BEGIN {add} END",
        f"CREATE TRIGGER IF NOT EXISTS {t}_del AFTER DELETE ON {child} BEGIN {remove} END",
        f"CREATE TRIGGER IF NOT EXISTS {t}_upd AFTER UPDATE OF {', '.join(cols)} ON {child} BEGIN {remove} {add} END",
    ]


def trigger_names() -> list[str]:
    return ([f"trg_{t}_{k}" for t in TABLES for k in ("ins", "del", "upd")]
            + [f"trg_{t}_child_{k}" for t in _CHILD for k in ("ins", "del", "upd")])


Run = Callable[[str], Any]


def install_triggers(run: Run) -> None:
    for table in TABLES:
        for sql in _triggers(table) + (_child_triggers(table) if table in _CHILD else []):
            run(sql)


def rebuild(run: Run) -> None:
    """Refill every summary table from the base tables (one GROUP BY each)."""
    for table, (keys, select) in TABLES.items():
        run(f"DELETE FROM {table}")
        run(f"INSERT INTO {table} ({', '.join(keys)}, n) {select}")


def install(run: Run) -> None:
    """Tables, triggers and their first fill (migration 2201)."""
    for table in TABLES:
        for sql in _ddl(table):
            run(sql)
    install_triggers(run)
    rebuild(run)


def drop(run: Run) -> None:
    for name in trigger_names():
        run(f"DROP TRIGGER IF EXISTS {name}")
    for table in TABLES:
        run(f"DROP TABLE IF EXISTS {table}")
