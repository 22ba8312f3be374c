"""The queue screen part: numbered tabs with counts over a keyset-paged table.

An area's queue screen (complaints, follow-up cards, grade changes) subclasses :class:`QueueScreen`
and says only what is its own: the tabs (``QUEUES``, the labels, which a role sees), the widget ids
its CSS names, the columns, how a page is read (in a thread worker, ``read_page``), how a row looks
(``page_cells``), the line under the table (``status_text``) and what Enter opens (``open_row``).

The paging is the shared keyset-paged table of ``parts/paged.py`` (``PagedTable``): a page is
fetched by key (``cursor``) with ``run_loader`` (ui/workers.py), the next page is asked for when the
cursor nears the bottom, past ``MAX_ROWS`` a page replaces the rows instead of joining them, a
result asked for before the latest load is dropped and Enter opens the row. This part adds the
tabs, their counts (read with the first page), the status line, and coming back to the screen
keeps the cursor where it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.cells import cell_len
from rich.markup import escape
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Header, Static

from crm_tui.i18n import _
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.parts.paged import PagedRows, PagedTable

__all__ = ["PagedRows", "PagedTable", "QueueScreen", "tab_bar", "tab_text"]  # PagedRows: from its old place


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


class QueueScreen(PagedTable):
    """A queue area: see the module docstring. Subclasses set the ids and the hooks below (the
    paging ones, ``TABLE_ID`` (app.tcss sizes it), ``GROUP``, ``MAX_ROWS``, ``KEEP_AFTER_REFRESH``,
    ``page_error``, ``page_cells`` and ``open_row``, are those of ``PagedTable``)."""

    QUEUES: tuple[str, ...] = ()  # the tabs, in the order of their number keys
    QUEUE_LABELS: Mapping[str, str] = {}  # tab -> its name's msgid
    STATUS_ID = ""  # the message line under the table
    LOAD_ON_MOUNT = True  # else the first load comes with the first on_screen_resume

    def __init__(self, svc: Services, actor: Actor, queue: str) -> None:
        super().__init__(svc, actor)
        self.queue_key = queue

    # -- what an area says -------------------------------------------------------------------------
    def compose_top(self) -> ComposeResult:
        """The widgets above the table (the tab bar)."""
        yield from ()

    def columns(self, table: DataTable) -> None:  # type: ignore[type-arg]
        raise NotImplementedError

    def read_page(self, queue: str, cursor: str | None) -> tuple[Any, Mapping[str, int] | None]:
        """In a thread worker: the page at ``cursor`` of ``queue`` and, on the first page, the counts."""
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

    def page_args(self, cursor: str | None) -> tuple[Any, ...]:
        return (self.queue_key, cursor)

    def page_arrived(self, result: tuple[Any, Mapping[str, int] | None], args: tuple[Any, ...], first: bool) -> Any:
        page, counts = result
        if counts is not None:
            self.show_counts(counts)
        holidays.work_calendar(self.svc)  # fresh for the ≈ marks
        return page

    def page_shown(self, page: Any, args: tuple[Any, ...], first: bool) -> None:
        self.query_one("#" + self.STATUS_ID, Static).update(self.status_text(page))

    def _page_failed(self, message: str) -> None:
        """A page was refused: say why on the status line; a later page may be asked for again."""
        self.query_one("#" + self.STATUS_ID, Static).update(message)
        self.loading_more = False
