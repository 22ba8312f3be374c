"""The complaint report (R-KPI-1): complaints by category, channel, severity and month, time to
respond and feed back, share within limits, satisfaction by handler and repeated complainants."""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import N_, _
from crm_tui.services import complaints as cp
from crm_tui.services.context import Actor, Services
from crm_tui.ui.parts.area import AreaScreen
from crm_tui.ui.widgets.dialogs import PromptDialog


class ComplaintReportScreen(AreaScreen[None]):
    """Complaints by category, channel, severity and month, time to respond and feed back, share
    within limits, satisfaction by handler and repeated complainants; export to XLSX."""

    TITLE_MSGID = "Complaint report"
    BINDINGS = [
        Binding("p", "period", "Period"),
        Binding("ctrl+x", "export", "Export XLSX"),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__(svc, actor)
        now = svc.now()
        self.start = datetime(now.year, 1, 1)
        self.end = datetime(now.year, now.month, now.day) + timedelta(days=1)
        self.rep: cp.ComplaintReport | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="report-scroll"):
            yield Static("", id="report-text")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#report-scroll").focus()
        self.load()

    def load(self) -> None:
        self.run_loader(cp.report, self.svc, self.actor, self.start, self.end, on_result=self._show,
                        group="complaint-report")

    def _show(self, rep: cp.ComplaintReport) -> None:
        self.rep = rep
        self.query_one("#report-text", Static).update(report_text(rep))

    def action_period(self) -> None:
        def done(value: str | None) -> None:
            if not value:
                return
            try:
                a, b = value.split()
                start = datetime.strptime(a, "%Y-%m-%d")
                end = datetime.strptime(b, "%Y-%m-%d") + timedelta(days=1)
            except ValueError:
                self.notify(_("Write the period as two dates: YYYY-MM-DD YYYY-MM-DD"), severity="error")
                return
            self.start, self.end = start, end
            self.load()

        current = f"{self.start:%Y-%m-%d} {self.end - timedelta(days=1):%Y-%m-%d}"
        self.app.push_screen(PromptDialog(_("Period (first and last day):"), value=current), done)

    def action_export(self) -> None:
        from pathlib import Path

        def done(path: str | None) -> None:
            if not path or self.rep is None:
                return
            try:
                target = cp.export_report(self.svc, self.actor, self.rep, path)
            except CrmError as e:
                self.notify(e.message, severity="error", timeout=10)
                return
            self.notify(_("Exported to {path}", path=str(target)), timeout=10)

        default = str(Path.home() / f"complaints-{self.start:%Y%m%d}-{self.end:%Y%m%d}.xlsx")
        self.app.push_screen(PromptDialog(_("Export the report to (.xlsx):"), value=default), done)


def report_text(rep: cp.ComplaintReport) -> str:
    def pct(x: float | None) -> str:
        return "—" if x is None else f"{x * 100:.0f}%"

    def hours(x: float | None) -> str:
        return "—" if x is None else f"{x:.1f}"

    period = f"{rep.start:%Y-%m-%d} – {rep.end - timedelta(days=1):%Y-%m-%d}"
    lines = [_("{label}: {value}", label=f"[b]{escape(_('Period'))}[/b]", value=period) + "   "
             + escape(_("{count} tickets", count=rep.total)),
             _("Median working hours to respond: {h}", h=hours(rep.median_respond_hours)),
             _("Median working hours to feed back: {h}", h=hours(rep.median_resolve_hours)),
             _("Within the time limit: respond {r}, feed back {f}", r=pct(rep.respond_within),
               f=pct(rep.resolve_within))]
    for title, data in ((N_("By category"), rep.by_category), (N_("By channel"), rep.by_channel),
                        (N_("By severity"), rep.by_severity), (N_("By month"), rep.by_month)):
        lines.append("")
        lines.append(f"[b]{escape(_(title))}[/b]")
        lines.extend(f"  {escape(str(k))}  {n}" for k, n in data)
    lines.append("")
    lines.append(f"[b]{escape(_('Satisfaction by handler'))}[/b]")
    lines.extend(escape(_("  {handler}: {avg} / 5 ({n} return visits)", handler=h, avg=f"{a:.1f}", n=n))
                 for h, a, n in rep.satisfaction_by_handler)
    lines.append("")
    lines.append(f"[b]{escape(_('Repeated complaints'))}[/b]")
    lines.extend(f"  {escape(num)} {escape(name)}  {n}" for num, name, n in rep.repeat_customers)
    return "\n".join(lines)
