"""The keyset-paged table part: one table of rows read a page at a time, by key.

A screen with such a table (the queues of ``parts/queue.py``, the customer list) subclasses
:class:`PagedTable` and says only what is its own: the table's id (``TABLE_ID``, a table it
composes itself), the loader group (``GROUP``), what a page read takes (``page_args``, read on the
app's thread: the widgets are read there, never in the worker), the read (``read_page``, in a thread
worker), what comes with a page besides its rows (``page_arrived`` before they go in,
``page_shown`` after), how rows go into the table (``add_rows``; by default one ``add_row`` per
row from ``page_cells``) and what Enter opens (``open_row``).

The part does the paging the same way everywhere: ``load`` asks for the first page with
``run_loader`` (ui/workers.py), the next page is asked for when the cursor nears the bottom, past
``MAX_ROWS`` a page replaces the rows instead of joining them, a result asked for before the latest
load is dropped, ``load(keep=True)`` keeps the cursor where it was, and Enter opens the row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from textual import on
from textual.widgets import DataTable

from crm_tui.domain.errors import CrmError
from crm_tui.services.context import Actor, Services
from crm_tui.ui.parts.area import AreaScreen


class PagedRows:
    """The rows of a keyset-paged table, and what the part needs to ask for the next page."""

    rows: list[Any]
    next_cursor: str | None
    seq: int
    loading_more: bool

    def _init_paging(self) -> None:
        self.rows = []
        self.next_cursor = None
        self.seq = 0
        self.loading_more = False

    def current(self) -> Any | None:
        """The highlighted row, or None when the table is empty."""
        table = self.query_one(DataTable)  # type: ignore[attr-defined]
        if not self.rows or table.cursor_row < 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]


class PagedTable(PagedRows, AreaScreen[None]):
    """A screen around one keyset-paged table: see the module docstring."""

    TABLE_ID = ""  # the table's id
    GROUP = ""  # the loader group of the pages
    MAX_ROWS: int | None = None  # past it, the next page replaces the rows
    KEEP_AFTER_REFRESH = False  # put the kept cursor back after the refresh, not inside the update
    page_error: Callable[[CrmError], object] | None = None  # a page's refusal; default: notified

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__(svc, actor)
        self._init_paging()

    # -- what a screen says ------------------------------------------------------------------------
    def page_args(self, cursor: str | None) -> tuple[Any, ...]:
        """On the app's thread: what ``read_page`` takes to read the page at ``cursor``."""
        return (cursor,)

    def read_page(self, *args: Any, **kwargs: Any) -> Any:
        """In a thread worker: the page (``rows``, ``next_cursor``), or what ``page_arrived`` makes one of."""
        raise NotImplementedError

    def page_error_for(self, seq: int) -> Callable[[CrmError], object] | None:
        """What a refused page of load number ``seq`` does (``page_error``; without one, notified)."""
        return self.page_error

    def page_arrived(self, result: Any, args: tuple[Any, ...], first: bool) -> Any:
        """A read's result (``args``: what it was read with), before its rows go in: the page."""
        return result

    def page_cells(self, rows: Sequence[Any]) -> Iterable[Sequence[object]]:
        raise NotImplementedError

    def add_rows(self, table: DataTable, rows: Sequence[Any]) -> None:  # type: ignore[type-arg]
        """Put a page's rows into ``self.rows`` and the table, each keyed by its id."""
        self.rows.extend(rows)
        for row, values in zip(rows, self.page_cells(rows)):
            table.add_row(*values, key=str(row.id))

    def page_shown(self, page: Any, args: tuple[Any, ...], first: bool) -> None:
        """After a page's rows are in (``first``: the first page of a load): the status line."""

    def open_row(self, row: Any) -> None:
        raise NotImplementedError

    # -- the part ----------------------------------------------------------------------------------
    def load(self, keep: bool = False) -> None:
        """Read the first page again (a new load: the results of older ones are dropped)."""
        self.seq += 1
        self.fetch(None, self.seq, keep)

    def fetch(self, cursor: str | None, seq: int, keep: bool = False) -> None:
        args = self.page_args(cursor)
        self.run_loader(self.read_page, *args, group=self.GROUP, on_error=self.page_error_for(seq),
                        on_result=lambda r: self._show_page(r, args, cursor is not None, seq, keep))

    def _show_page(self, result: Any, args: tuple[Any, ...], append: bool, seq: int, keep: bool) -> None:
        if seq != self.seq or not self.is_attached:
            return  # a newer load has asked already, or the screen was closed meanwhile
        first = not append  # a later page past MAX_ROWS replaces the rows too, but is no first page
        page = self.page_arrived(result, args, first)
        table = self.query_one("#" + self.TABLE_ID, DataTable)
        before = table.cursor_row
        if append and self.MAX_ROWS is not None and len(self.rows) + len(page.rows) > self.MAX_ROWS:
            append = False  # keep the widget small: the page replaces the rows
        with self.app.batch_update():
            if not append:
                table.clear()
                self.rows = []
            self.add_rows(table, page.rows)
            if keep and self.rows and not self.KEEP_AFTER_REFRESH:
                table.move_cursor(row=min(before, len(self.rows) - 1))
        if keep and self.rows and self.KEEP_AFTER_REFRESH:
            self.call_after_refresh(table.move_cursor, row=min(before, len(self.rows) - 1))
        self.next_cursor = page.next_cursor
        self.loading_more = False
        self.page_shown(page, args, first)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # (Textual calls the handler of every class, so the layout's fitting runs after this too)
        if event.data_table.id == self.TABLE_ID and self.next_cursor and not self.loading_more \
                and event.cursor_row >= len(self.rows) - 5:
            self.loading_more = True
            self.fetch(self.next_cursor, self.seq)

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        row = self.current()
        if row:
            self.open_row(row)
