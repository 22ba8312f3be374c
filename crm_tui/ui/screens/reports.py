"""Reports (F6): the weekly or monthly review pack on screen (R-FU-5, R-KPI-1, R-KPI-2) and its
export to XLSX or plain text. W / M choose the period kind, [ and ] step back and forward, T goes
to the current period; 1-5 switch the tabs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from crm_tui.domain import reports as dr
from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _
from crm_tui.services import reports
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import BaseScreen
from crm_tui.ui.widgets.charts import Chart, draw_conversion, draw_weeks
from crm_tui.ui.widgets.dialogs import PromptDialog


def _fill(table: DataTable, header: list[str], rows: list[list[Any]],
          widths: list[int | None] | None = None) -> None:
    """``widths``: a column's width, or None for as wide as its widest value."""
    table.clear(columns=True)
    for i, h in enumerate(header):  # never narrower than its heading in the current language
        w = None if widths is None or i >= len(widths) else widths[i]
        table.add_column(h, width=None if w is None else max(w, cell_len(h)))
    for r in rows:
        table.add_row(*(_cell(v, i > 0) for i, v in enumerate(r)))


def _cell(v: Any, may_be_number: bool) -> Text:
    """Numbers, percentages and dashes right-aligned, so a column of figures reads at a glance."""
    s = "" if v is None else str(v)
    if may_be_number and s and dr.is_figure(s):
        return Text(s, justify="right")
    return Text(s)  # never markup: names and labels are shown as typed


class ReportsScreen(BaseScreen[None]):
    TITLE_MSGID = "Reports"
    BINDINGS = [
        Binding("w", "kind('week')", "Week"),
        Binding("m", "kind('month')", "Month"),
        Binding("left_square_bracket", "step(-1)", "Previous"),
        Binding("right_square_bracket", "step(1)", "Next"),
        Binding("t", "current", "Current period", show=False),
        Binding("1", "tab('tab-summary')", "Summary", show=False),
        Binding("2", "tab('tab-staff')", "Staff metrics", show=False),
        Binding("3", "tab('tab-customers')", "Customers", show=False),
        Binding("4", "tab('tab-charts')", "Charts", show=False),
        Binding("5", "tab('tab-followups')", "Follow-up review", show=False),
        Binding("ctrl+x", "export('xlsx')", "Export XLSX", priority=True),
        Binding("ctrl+t", "export('txt')", "Export text", priority=True),
        Binding("escape", "app.home", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.period = dr.Period.of("week", svc.now().date())
        self.pack: reports.Pack | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static("", id="report-period")
        with TabbedContent(id="report-tabs"):
            with TabPane(_("Summary"), id="tab-summary"):
                yield DataTable(id="report-summary", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="report-sources", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="report-categories", cursor_type="row", zebra_stripes=True)
            with TabPane(_("Staff metrics"), id="tab-staff"):
                yield DataTable(id="report-staff", cursor_type="row", zebra_stripes=True)
            with TabPane(_("Customers"), id="tab-customers"):
                yield DataTable(id="report-distribution", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="report-credit", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="report-risk", cursor_type="row", zebra_stripes=True)
            with TabPane(_("Follow-up review"), id="tab-followups"):
                yield DataTable(id="report-review-total", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="report-review-levels", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="report-review-staff", cursor_type="row", zebra_stripes=True)
            with TabPane(_("Charts"), id="tab-charts"):
                with VerticalScroll():
                    with Grid(id="report-chart-grid"):
                        yield Chart(_("New customers per week"), id="rchart-new")
                        yield Chart(_("Complaints per week"), id="rchart-complaints")
                        yield Chart(_("Satisfaction trend (1-5)"), id="rchart-satisfaction")
                        yield Chart(_("Follow-up conversion by source (%)"), id="rchart-conversion")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self._show_period()
        self.query_one("#report-summary", DataTable).focus()
        self.load()

    def _show_period(self) -> None:
        kind = _("Weekly review") if self.period.kind == "week" else _("Monthly review")
        self.query_one("#report-period", Static).update(
            f"[b]{escape(kind)}[/b]  {self.period.label()}   "
            + escape(_("W week · M month · [ ] previous/next · T current · Ctrl+X XLSX · Ctrl+T text")))

    # -- actions ---------------------------------------------------------------------------------
    def action_kind(self, kind: str) -> None:
        """Switch between week and month, staying near the period on screen."""
        self.period = dr.Period.of(kind, min(self.period.end, self.svc.now().date()))
        self._show_period()
        self.load()

    def action_step(self, steps: int) -> None:
        nxt = self.period.shifted(steps)
        if nxt.start > self.svc.now().date():
            self.notify(_("The period has not started yet"), severity="warning")
            return
        self.period = nxt
        self._show_period()
        self.load()

    def action_current(self) -> None:
        self.period = dr.Period.of(self.period.kind, self.svc.now().date())
        self._show_period()
        self.load()

    def action_tab(self, tab: str) -> None:
        """Show a tab and put the keys in its first table, so arrows scroll the figures (on the tab
        bar they would switch tabs)."""
        self.query_one(TabbedContent).active = tab
        pane = self.query_one(f"#{tab}", TabPane)
        target = next(iter(pane.query("DataTable, VerticalScroll")), None)
        if target is not None:
            target.focus()

    def action_export(self, fmt: str) -> None:
        pack = self.pack
        if pack is None:
            return
        kind = "weekly" if pack.period.kind == "week" else "monthly"
        default = str(Path.home() / f"crm-{kind}-{pack.period.start:%Y%m%d}.{fmt}")

        def done(path: str | None) -> None:
            if not path:
                return
            try:
                if fmt == "xlsx":
                    target = reports.export_xlsx(self.svc, self.actor, pack, path)
                else:
                    target = reports.export_text(self.svc, self.actor, pack, path)
            except CrmError as e:
                self.notify(e.explain(), severity="error", timeout=10)
                return
            self.notify(_("Exported to {path}", path=str(target)), timeout=10)

        question = _("Export the review pack to (.xlsx):") if fmt == "xlsx" else _("Export the review pack to (.txt):")
        self.app.push_screen(PromptDialog(question, value=default), done)

    # -- data ------------------------------------------------------------------------------------
    def load(self) -> None:
        self.run_loader(reports.pack, self.svc, self.actor, self.period.kind, self.period.start, on_result=self._show,
                        group="reports")

    def _show(self, pack: reports.Pack) -> None:
        self.pack = pack
        h, rows = reports.summary_table(pack)
        _fill(self.query_one("#report-summary", DataTable), h, rows, [26, 14, 14])
        _fill(self.query_one("#report-categories", DataTable), [_("Complaint category"), _("Complaints")],
              [list(r) for r in pack.complaint_categories] or [["—", 0]], [24, 8])
        _fill(self.query_one("#report-sources", DataTable), *reports.sources_table(pack.sources),
              [16, 8, 8, 8, 10])
        h, rows = reports.staff_table(pack.staff)
        # Headings may wrap at 14 columns; a share with its counts ("98% (463/473)") is never cut.
        _fill(self.query_one("#report-staff", DataTable), h, rows,
              [8] + [max(6, min(14, cell_len(x)), *(cell_len(str(r[i])) for r in rows))
                     for i, x in enumerate(h) if i])
        h, rows = reports.distribution_table(pack.distribution)
        _fill(self.query_one("#report-distribution", DataTable), h, rows, [12] + [12] * (len(h) - 1))
        _fill(self.query_one("#report-credit", DataTable),
              *reports.ratings_table(pack.ratings.credit, _("Credit rating")), [14, 8, 12, 8, 8])
        _fill(self.query_one("#report-risk", DataTable),
              *reports.ratings_table(pack.ratings.risk, _("Risk rating")), [14, 8, 12, 8, 8, None])
        if pack.review is not None:
            widths: list[int | None] = [None, 8, 8, 8, 8, 8, 8]
            _fill(self.query_one("#report-review-total", DataTable),
                  *reports.review_table([pack.review.total], _("Cards")), widths)
            _fill(self.query_one("#report-review-levels", DataTable),
                  *reports.review_table(pack.review.levels, _("Intent level")), widths)
            _fill(self.query_one("#report-review-staff", DataTable),
                  *reports.review_table(pack.review.staff, _("Consultant")), widths)
        draw_weeks(self, "rchart", pack.weeks)
        draw_conversion(self.query_one("#rchart-conversion", Chart), pack.sources)
