"""The queue screen part: numbered tabs with counts over a keyset-paged table.

An area's queue screen (complaints, follow-up cards, grade changes) subclasses :class:`QueueScreen`
and says only what is its own: the tabs (``QUEUES``, the labels, which a role sees), the widget ids
its CSS names, the columns, how a page is read (in a thread worker, ``read_page``), how a row looks
(``page_cells``), the line under the table (``status_text``) and what Enter opens (``open_row``).

The part does the rest the same way everywhere: a page is fetched by key (``cursor``) with
``run_loader`` (ui/workers.py), the next page is asked for when the cursor nears the bottom, past
``MAX_ROWS`` a page replaces the rows instead of joining them, a result asked for before the latest
load is dropped, coming back to the screen keeps the cursor where it was, and Enter opens the row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from rich.cells import cell_len
from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Header, Static

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.parts.area import AreaScreen


def tab_text(number: int, label: str, count: int | None = None) -> str:
    """A tab as the user reads it: its key, its name and, when known, how many it holds."""
    return f"{number} {label}" + (f" ({count})" if count is not None else "")


def tab_bar(tabs: Sequence[tuple[str, str]], current: str, *, pad: str = " ", pad_all: bool = False,
            styles: Mapping[str, str] | None = None, sep: str = "  ", room: int | None = None) -> str:
    """The tab bar's markup from ``(key, text)`` pairs: the current tab reversed (with ``pad`` on
    either side; on every tab with ``pad_all``), others in their style from ``styles`` (key -> Rich
    style), if any. With ``room`` the bar is broken into lines between tabs, never inside one."""
    parts: list[tuple[str, int]] = []
    for key, text in tabs:
        shown = escape(text)
        style = "reverse" if key == current else (styles or {}).get(key)
        around = pad if key == current or pad_all else ""
        markup = f"{around}{shown}{around}"
        parts.append((f"[{style}]{markup}[/]" if style else markup, cell_len(text) + 2 * len(around)))
    if room is None:
        return sep.join(markup for markup, _width in parts)
    lines: list[list[str]] = [[]]
    used = 0
    for markup, width in parts:
        if lines[-1] and used + len(sep) + width > room:
            lines.append([])
            used = 0
        used += width + (len(sep) if lines[-1] else 0)
        lines[-1].append(markup)
    return "\n".join(sep.join(line) for line in lines)


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


class QueueScreen(PagedRows, AreaScreen[None]):
    """A queue area: see the module docstring. Subclasses set the ids and the hooks below."""

    QUEUES: tuple[str, ...] = ()  # the tabs, in the order of their number keys
    QUEUE_LABELS: Mapping[str, str] = {}  # tab -> its name's msgid
    TABLE_ID = ""  # the table's id (app.tcss sizes it)
    STATUS_ID = ""  # the message line under the table
    GROUP = ""  # the loader group of the pages
    MAX_ROWS: int | None = None  # past it, the next page replaces the rows
    LOAD_ON_MOUNT = True  # else the first load comes with the first on_screen_resume
    KEEP_AFTER_REFRESH = False  # put the kept cursor back after the refresh, not inside the update
    page_error: Callable[[CrmError], object] | None = None  # a page's refusal; default: notified

    def __init__(self, svc: Services, actor: Actor, queue: str) -> None:
        super().__init__(svc, actor)
        self.queue_key = queue
        self._init_paging()

    # -- what an area says -------------------------------------------------------------------------
    def compose_top(self) -> ComposeResult:
        """The widgets above the table (the tab bar)."""
        yield from ()

    def columns(self, table: DataTable) -> None:  # type: ignore[type-arg]
        raise NotImplementedError

    def read_page(self, queue: str, cursor: str | None) -> tuple[Any, Mapping[str, int] | None]:
        """In a thread worker: the page at ``cursor`` of ``queue`` and, on the first page, the counts."""
        raise NotImplementedError

    def page_cells(self, rows: Sequence[Any]) -> Iterable[Sequence[object]]:
        raise NotImplementedError

    def status_text(self, page: Any) -> str:
        raise NotImplementedError

    def show_counts(self, counts: Mapping[str, int]) -> None:
        """The first page's counts arrived: redraw the tab bar."""

    def tab_shown(self, queue: str) -> bool:
        """Whether the signed-in person has this tab."""
        return True

    def tabs(self, counts: Mapping[str, int] | None = None) -> list[tuple[str, str]]:
        """``(key, text)`` of the tabs shown, each numbered by its key, with its count when known."""
        return [(k, tab_text(i, _(self.QUEUE_LABELS[k]), None if counts is None else counts.get(k)))
                for i, k in enumerate(self.QUEUES, start=1) if self.tab_shown(k)]

    def open_row(self, row: Any) -> None:
        raise NotImplementedError

    # -- the part ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_top()
        yield DataTable(id=self.TABLE_ID, cursor_type="row", zebra_stripes=True)
        yield Static("", id=self.STATUS_ID, classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        self.columns(table)
        table.focus()
        if self.LOAD_ON_MOUNT:
            self.load()

    def on_screen_resume(self) -> None:
        """First shown, or back from a record: (re)load the queue, keeping the cursor when coming back
        (a queue that loads on its first resume only once it has rows)."""
        self.load(keep=True if self.LOAD_ON_MOUNT else bool(self.rows))

    def action_queue(self, name: str) -> None:
        self.queue_key = name
        self.load()

    def load(self, keep: bool = False) -> None:
        self.seq += 1
        self.fetch(None, self.seq, keep)

    def fetch(self, cursor: str | None, seq: int, keep: bool = False) -> None:
        self.run_loader(self.read_page, self.queue_key, cursor, group=self.GROUP, on_error=self.page_error,
                        on_result=lambda r: self._show_page(r[0], r[1], cursor is not None, seq, keep))

    def _show_page(self, page: Any, counts: Mapping[str, int] | None, append: bool, seq: int, keep: bool) -> None:
        if seq != self.seq or not self.is_attached:
            return
        if counts is not None:
            self.show_counts(counts)
        table = self.query_one(DataTable)
        before = table.cursor_row
        holidays.work_calendar(self.svc)  # fresh for the ≈ marks
        if append and self.MAX_ROWS is not None and len(self.rows) + len(page.rows) > self.MAX_ROWS:
            append = False
        with self.app.batch_update():
            if not append:
                table.clear()
                self.rows = []
            self.rows.extend(page.rows)
            for row, values in zip(page.rows, self.page_cells(page.rows)):
                table.add_row(*values, key=str(row.id))
            if keep and self.rows and not self.KEEP_AFTER_REFRESH:
                table.move_cursor(row=min(before, len(self.rows) - 1))
        if keep and self.rows and self.KEEP_AFTER_REFRESH:
            self.call_after_refresh(table.move_cursor, row=min(before, len(self.rows) - 1))
        self.next_cursor = page.next_cursor
        self.loading_more = False
        self.query_one("#" + self.STATUS_ID, Static).update(self.status_text(page))

    def _page_failed(self, message: str) -> None:
        """A page was refused: say why on the status line; a later page may be asked for again."""
        self.query_one("#" + self.STATUS_ID, Static).update(message)
        self.loading_more = False

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
