"""Home, the dashboard: who is signed in, today's work (each area adds its queues), this week's
figures, the charts of the last twelve weeks, and the areas one key away."""

from __future__ import annotations

from rich.cells import cell_len
from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from crm_tui.domain import reports as dr
from crm_tui.domain.roles import role_label
from crm_tui.i18n import _
from crm_tui.services import home, reports
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import BaseScreen
from crm_tui.ui.widgets.charts import Chart, draw_conversion, draw_weeks


def _short(grade_label: str) -> str:
    """'A 重点客户' -> 'A': the chart has room for the grade's code, not its name."""
    return grade_label.split(" ", 1)[0]


SHORT = 30  # rows below which today's work and the charts take the screen in turn


class HomeScreen(BaseScreen[None]):
    """Today's queues for this person, this week's figures and the charts of the last twelve weeks
    (branch-wide for those who may view reports, else their own customers, cards and tickets)."""

    TITLE_MSGID = "Home"
    BINDINGS = [
        Binding("r", "refresh", "Refresh"),
        Binding("c", "charts", "Charts"),
    ]

    def __init__(self, svc: Services, actor: Actor, areas: list[tuple[str, str, str]]) -> None:
        """``areas``: (key, label, action) for each area this actor may open."""
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.areas = areas
        self.items: list[home.WorkItem] = []
        self.dash: reports.Dashboard | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        roles = "、".join(role_label(r) for r in sorted(self.actor.roles))
        who = _("{name} ({user}) · {roles}", name=self.actor.display_name, user=self.actor.username, roles=roles)
        if self.actor.on_behalf_of_name:
            who += "  " + _("· covering for {name}", name=self.actor.on_behalf_of_name)
        today = self.svc.now()
        yield Static(f"{who}    {today:%Y-%m-%d}", id="home-who")
        with Horizontal(id="home-body"):
            with Vertical(id="home-today"):
                yield Label(_("Today's work"), classes="section")
                yield OptionList(id="today-list")
            with Vertical(id="home-week"):
                yield Label(_("This week"), classes="section", id="home-week-title")
                yield Static("", id="home-week-figures")
            with Vertical(id="home-areas"):
                yield Label(_("Areas"), classes="section")
                yield Static("\n".join(f"{key:<4} {label}" for key, label, _a in self.areas), id="areas-list")
        with VerticalScroll(id="home-charts"):
            with Grid(id="chart-grid"):
                yield Chart(_("New customers per week"), id="chart-new")
                yield Chart(_("Complaints per week"), id="chart-complaints")
                yield Chart(_("Satisfaction trend (1-5)"), id="chart-satisfaction")
                yield Chart(_("Customers by category and grade"), id="chart-distribution")
                yield Chart(_("Follow-up conversion by source (%)"), id="chart-conversion")
                yield Chart(_("Customers by grade"), id="chart-grades")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        # query, not query_one: a sign-out or an exit right after sign-in can take the children away
        # before this runs, and a missing list must not end the app (issue 17)
        for ol in self.query("#today-list").results(OptionList):
            ol.focus()

    def on_resize(self) -> None:
        if self.query("#chart-grid"):
            self._layout()

    def _layout(self) -> None:
        wide = self.size.width >= 150
        self.query_one("#chart-grid", Grid).styles.grid_size_columns = 3 if wide else 2
        self.query_one("#home-areas").display = self.size.width >= 100
        # 24 rows: today's work takes the screen (its due-today and due-this-week rows were below the
        # fold); the charts take it in turn with C (app.tcss, "HomeScreen.-short")
        self.set_class(self.size.height < SHORT, "-short")

    def on_screen_resume(self) -> None:
        """Also the first showing: loading here and in on_mount ran the dashboard twice. Not when
        another screen is already over it: an area key on a screen over home (F2 on the due list)
        pops down to home and pushes the area at once, and the dashboard, read for nobody, took
        the CPU from the area's first paint (issue 22). It loads when home really shows."""
        if self.app.screen is self:
            self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_charts(self) -> None:
        if self.has_class("-short"):
            self.toggle_class("-charts")
            if not self.has_class("-charts"):
                self.query_one("#today-list", OptionList).focus()
                return
        self.query_one("#home-charts", VerticalScroll).focus()

    def load(self) -> None:
        self.run_loader(reports.dashboard, self.svc, self.actor, on_result=self._show, group="home")

    def _show(self, dash: reports.Dashboard) -> None:
        self.dash = dash
        items = dash.items
        self.items = items
        ol = self.query_one("#today-list", OptionList)
        highlighted = ol.highlighted
        ol.clear_options()
        if not items:
            ol.add_option(Option(_("Nothing waiting for you."), id="none", disabled=True))
        else:
            for item in items:
                mark = "!" if item.urgent and item.count else " "
                ol.add_option(Option(f"{mark} {item.count:>5}  {_(item.label)}", id=item.key))
            if highlighted is not None and highlighted < len(items):
                ol.highlighted = highlighted
        self._show_week(dash)
        self._show_charts(dash)

    def _show_week(self, dash: reports.Dashboard) -> None:
        w = dash.week
        title = _("This week (mine)") if dash.scope_own else _("This week")
        self.query_one("#home-week-title", Label).update(f"{title} {w.period.start:%m-%d}–{w.period.end:%m-%d}")
        lines = [
            (_("New customers"), str(w.new_customers)),
            (_("Complaints received"), str(w.complaints)),
            (_("Within the time limits"), dr.ratio(w.complaints_within, w.complaints_decided)),
            (_("Handling satisfaction"), dr.num(w.satisfaction, 2)),
            (_("Follow-up visits"), str(w.visits)),
            (_("Cards opened/won/lost"), f"{w.cards_opened}/{w.cards_won}/{w.cards_lost}"),
            (_("Grade changes applied"), str(w.grade_changes)),
        ]
        width = max(cell_len(k) for k, _v in lines)
        self.query_one("#home-week-figures", Static).update(
            "\n".join(f"{escape(k)}{' ' * (width - cell_len(k))}  [b]{escape(v)}[/b]" for k, v in lines))

    def _show_charts(self, dash: reports.Dashboard) -> None:
        draw_weeks(self, "chart", dash.weeks)
        draw_conversion(self.query_one("#chart-conversion", Chart), dash.sources)
        dist = dash.distribution
        grades = [g for g, n in dist.by_grade() if n]
        self.query_one("#chart-distribution", Chart).stacked(
            [c for c, _n in dist.by_category()],
            [(_short(g), [dist.counts.get((c, g), 0) for c, _n in dist.by_category()]) for g in grades])
        self.query_one("#chart-grades", Chart).bars([_short(g) for g, _n in dist.by_grade()],
                                                    [n for _g, n in dist.by_grade()])

    @on(OptionList.OptionSelected, "#today-list")
    async def open_item(self, event: OptionList.OptionSelected) -> None:
        for item in self.items:
            if item.key == event.option.id and item.action:
                self.app.call_later(self.app.run_action, item.action)
