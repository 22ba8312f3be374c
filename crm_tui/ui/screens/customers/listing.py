"""The customer list: search as you type, filters, export.

The list never loads a table: each keystroke asks the search service for one page in a thread
worker (a newer keystroke supersedes the older query), and later pages are fetched by key when the
cursor reaches the bottom. The table holds at most MAX_ROWS rows.

Rows first (issue 22): the first paint holds the search box, the table and its first page only.
The count ("N found") comes from a second worker started once the page is shown, and the filter
row's lists (categories, grades, owners: three Select widgets, most of the screen's widgets) are
mounted after the rows have been painted. What the screen shows once settled is unchanged.

The paging (a page by key, the next one near the bottom, at most MAX_ROWS rows, a result of an
older query dropped, Enter opens) is the shared keyset-paged table, ``ui/parts/paged.py``; this
screen adds the search box and filters it reads a page with, its count and a table that leaves
out a row already listed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _
from crm_tui.services import customer_forms as cf
from crm_tui.services import customers as cs
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, enter_in
from crm_tui.ui.parts.paged import PagedTable
from crm_tui.ui.screens.customer_form import CustomerFormScreen
from crm_tui.ui.screens.customers.detail import CustomerDetailScreen
from crm_tui.ui.screens.customers.profile import category_label
from crm_tui.ui.screens.customers.watch import WatchListScreen
from crm_tui.ui.widgets.columns import CUSTOMER_NUMBER, PERSON, PHONE, cells, fixed_columns, widest
from crm_tui.ui.widgets.dialogs import PromptDialog
from crm_tui.ui.widgets.plain_table import PlainTable

PAGE = 100
MAX_ROWS = 1000


class CustomerListScreen(PagedTable):
    TITLE_MSGID = "Customer archives"
    BINDINGS = [
        Binding("ctrl+n", "new", "New", priority=True),
        Binding("enter", "open", "Open", show=False),
        Binding("ctrl+e", "edit", "Edit", priority=True),
        Binding("ctrl+f", "search", "Search", priority=True),
        Binding("ctrl+t", "filters", "Filters", priority=True),
        Binding("ctrl+x", "export", "Export list", priority=True),
        Binding("ctrl+w", "watch", "Watch lists", priority=True),
        Binding("escape", "app.back", "Back"),
        ENTER_BINDING,
    ]
    ACTION_PERMISSIONS = {"new": "customer.create", "edit": "customer.edit", "export": "customer.export"}
    TABLE_ID, GROUP = "customer-table", "customer-search"
    MAX_ROWS = MAX_ROWS

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__(svc, actor)
        self.rows: list[cs.CustomerRow] = []
        self.count_text: str | None = None  # "37" / "1000+" for the current query, None until counted
        self.filters_mounted = False
        self.painted = False  # the first page has been shown: later searches read their count with the page

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="search-bar"):
            yield Input(placeholder=_("Name, pinyin (zs), 4+ phone digits, KH number, ID number"),
                        id="q", max_length=60)
        yield Horizontal(id="customer-filters", classes="filters")  # filled after the first rows show
        yield PlainTable(id="customer-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="customer-status", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        fixed_columns(table, (_("Number"), CUSTOMER_NUMBER), (_("Name"), 20), (_("Phone"), PHONE),
                      (_("Category"), widest(label for _code, label in cf.category_choices())),
                      (_("Grade"), 2),
                      (_("Owner"), PERSON), (_("Tags"), 30))
        self.query_one("#q", Input).focus()
        self.run_search()

    @property
    def query_seq(self) -> int:
        """The number of the latest search (the paged table's load); an older one's results are dropped."""
        return self.seq

    def on_screen_resume(self) -> None:
        self.run_search(keep_cursor=True)

    async def mount_filters(self) -> None:
        """Fill the filter row (once): after the first page has been painted, or at once when asked
        for (Ctrl+T) before that."""
        if self.filters_mounted or not self.is_attached:
            return
        self.filters_mounted = True
        await self.query_one("#customer-filters", Horizontal).mount_all([
            Select([(label, code) for code, label in cf.category_choices()], prompt=_("Category"), id="f-category"),
            Select([(label, code) for code, label in cf.grade_choices(self.svc)], prompt=_("Grade"), id="f-grade"),
            Select([(label, sid) for sid, label in cf.owner_choices(self.svc)], prompt=_("Owner"), id="f-owner"),
            Input(placeholder=_("Tag"), id="f-tag", max_length=20),
        ])

    # -- searching -------------------------------------------------------------------------------
    def filters(self) -> cs.SearchFilters:
        if not self.filters_mounted:
            return cs.SearchFilters()

        def val(sel_id: str):  # type: ignore[no-untyped-def]
            v = self.query_one(sel_id, Select).value
            return None if v is Select.NULL else v

        tag = self.query_one("#f-tag", Input).value.strip() or None
        return cs.SearchFilters(category=val("#f-category"), grade=val("#f-grade"), owner_id=val("#f-owner"), tag=tag)

    @on(Input.Changed, "#q")
    @on(Input.Changed, "#f-tag")
    @on(Select.Changed)
    def _changed(self) -> None:
        self.run_search()

    async def action_enter(self) -> None:
        """Enter in the search box goes to the results at once, so Down/Enter typed right after it
        move in and open the list instead of landing in the box."""
        await enter_in(self, {"q": self._to_table})

    def _to_table(self) -> None:
        if self.rows:
            self.set_focus(self.query_one(DataTable))

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        """Down from the search box goes to the results, as Enter does."""
        if event.key == "down" and self.focused is self.query_one("#q", Input) and self.rows:
            self.query_one(DataTable).focus()
            event.stop()

    def run_search(self, keep_cursor: bool = False) -> None:
        self.load(keep_cursor)

    # -- the paged table's hooks -----------------------------------------------------------------
    def page_args(self, cursor: str | None) -> tuple[Any, ...]:
        # The screen's first page comes alone, its count after it (the first paint, issue 22). Every
        # later search (a keystroke) reads its count in the same worker and snapshot as its page: one
        # result, one repaint and one refit of the table, not two of each and a second thread.
        return self.query_one("#q", Input).value, self.filters(), cursor, cursor is None and self.painted

    def read_page(self, query: str, filters: cs.SearchFilters, cursor: str | None,
                  count: bool = False) -> cs.SearchPage:
        return cs.search(self.svc, self.actor, query, filters, cursor=cursor, limit=PAGE, count=count)

    def page_error_for(self, seq: int) -> Callable[[CrmError], object]:
        return lambda e: self._error(e.message, seq)

    def _error(self, text: str, seq: int) -> None:
        if seq == self.seq and self.is_attached:
            self.query_one("#customer-status", Static).update(text)
            self.loading_more = False
            if not self.filters_mounted:
                self.call_after_refresh(self.mount_filters)

    def count(self, query: str, filters: cs.SearchFilters, seq: int) -> None:
        """The second worker: how many the query finds, asked once its first page is on screen."""
        self.run_loader(cs.search_count, self.svc, self.actor, query, filters,
                        on_result=lambda text: self._show_count(text, seq),
                        on_error=lambda e: self._error(e.message, seq), group="customer-count")

    def _show_count(self, text: str, seq: int) -> None:
        if seq != self.seq or not self.is_attached:
            return
        self.count_text = text
        self._show_status()

    def _show_status(self) -> None:
        parts = [] if self.count_text is None else [_("{count} found", count=self.count_text)]
        if self.next_cursor:
            parts.append(_("(more below)"))
        # One line of fixed height (app.tcss): no layout pass for it at every keystroke.
        self.query_one("#customer-status", Static).update("  ".join(parts), layout=False)

    def _show_page(self, *args: Any) -> None:
        self._show(*args)  # benchmarks/probe.py wraps _show to time the first paint

    def _show(self, *args: Any) -> None:
        """A page arrived (the paged table's ``_show_page``)."""
        super()._show_page(*args)

    def add_rows(self, table: PlainTable, rows: Sequence[cs.CustomerRow]) -> None:  # type: ignore[override]
        """Rows already listed are left out (a customer can come again on a later page)."""
        seen = {r.id for r in self.rows}
        new = []
        for r in rows:
            if r.id not in seen:
                seen.add(r.id)
                new.append(r)
        self.rows.extend(new)
        table.add_plain_rows((str(r.id), cells(r.number, r.name, r.phone or "", category_label(r.category),
                                               r.grade or "", r.owner or "", " ".join(r.tags))) for r in new)

    def page_shown(self, page: cs.SearchPage, args: tuple[Any, ...], first: bool) -> None:
        if first:  # of a new query: its count came with it, or follows from the second worker
            self.count_text = page.count_hint or None
            if self.count_text is None:
                self.count(args[0], args[1], self.seq)
            self.painted = True
        self._show_status()
        if not self.filters_mounted:
            self.call_after_refresh(self.mount_filters)  # after the rows are painted

    def open_row(self, row: cs.CustomerRow) -> None:
        self.app.push_screen(CustomerDetailScreen(self.svc, self.actor, row.id))

    # -- actions ---------------------------------------------------------------------------------
    def action_new(self) -> None:
        self.app.push_screen(CustomerFormScreen(self.svc, self.actor, None), self._after_save)

    def action_edit(self) -> None:
        row = self.current()
        if row:
            self.app.push_screen(CustomerFormScreen(self.svc, self.actor, row.id), self._after_save)

    def _after_save(self, customer_id: int | None) -> None:
        if customer_id:
            self.app.push_screen(CustomerDetailScreen(self.svc, self.actor, customer_id))

    def action_search(self) -> None:
        self.query_one("#q", Input).focus()

    async def action_filters(self) -> None:
        await self.mount_filters()
        self.query_one("#f-category", Select).focus()

    def action_watch(self) -> None:
        self.app.push_screen(WatchListScreen(self.svc, self.actor))

    def action_export(self) -> None:
        def done(path: str | None) -> None:
            if not path:
                return
            fmt = "csv" if path.lower().endswith(".csv") else "xlsx"
            self.export_list(Path(path).expanduser(), fmt)

        default = str(Path.home() / f"customers-{self.svc.now():%Y%m%d}.xlsx")
        self.app.push_screen(PromptDialog(_("Export the listed customers to (.xlsx or .csv):"), value=default), done)

    def export_list(self, path: Path, fmt: str) -> None:
        from crm_tui.services.approvals import ApprovalNeeded
        from crm_tui.ui import approval

        def failed(e: CrmError) -> None:
            if isinstance(e, ApprovalNeeded):  # R-SEC-2: offer to ask a second person
                approval.offer_request(self, self.svc, self.actor, e)
            else:
                self.notify(e.message, severity="error", timeout=10)

        self.run_action(cs.export_list, self.svc, self.actor, self.query_one("#q", Input).value, self.filters(), path,
                        fmt, approval_id=approval.usable(self.svc, self.actor, "customer.export"),
                        group="customer-export",
                        on_result=lambda n: self.notify(_("{n} customers exported to {path}", n=n, path=str(path)),
                                                        timeout=10),
                        on_error=failed)
