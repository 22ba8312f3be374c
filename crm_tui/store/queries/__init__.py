"""Every SQL statement the services run lives here, one module per area.

Where a new query goes:
- a module per area (``customers``, ``followups``, ``complaints``, ``grades``, ``staff`` ...), split
  into a package when it would pass about 700 lines;
- one named function per statement or tight group of statements. The first parameter is the
  SQLAlchemy ``Session`` (or ``Connection``) of the caller's transaction: a query never opens,
  commits or rolls back a transaction; the service that calls it owns the transaction, the
  permission check and the audit row;
- typed parameters and typed results: a frozen dataclass, a tuple of plain values, or an ``int``
  row count. No ``Row`` objects and no dicts of unknown shape leave this package;
- SQLAlchemy Core or SQLModel ``select()`` where it reads better than a string; hand-written SQL
  (``text``) where speed or SQLite features (FTS5, pragmas, ``INSERT OR IGNORE``, window
  functions) need it. SQLite-only SQL never leaves ``store/``.

The services hold no SQL: ``tests/test_services_hold_no_sql.py`` fails on an SQL string or a
``text(`` call in ``crm_tui/services``.
"""
