"""A/B posts (AB岗, R-SEC-7) for supervisors: the covers in force or planned, a new one (N), and
revoking the chosen one (X). While a cover runs, the backup finds the absent colleague's follow-up
cards and complaint tickets in their own queues and may work them (audited)."""

from __future__ import annotations

from datetime import date

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _
from crm_tui.services import staff
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import BaseScreen
from crm_tui.ui.screens.staff import CoverForm
from crm_tui.ui.widgets.columns import cells, fixed_columns
from crm_tui.ui.widgets.dialogs import ConfirmDialog


class CoversScreen(BaseScreen[None]):
    TITLE_MSGID = "A/B posts"
    BINDINGS = [
        Binding("n", "new", "New cover"),
        Binding("x", "revoke", "Revoke"),
        Binding("escape", "app.back", "Back"),
    ]
    ACTION_PERMISSIONS = {"new": "staff.ab_post", "revoke": "staff.ab_post"}

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.rows: list[staff.Cover] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(_("A/B posts in force or planned: while one runs, the backup works the absent colleague's "
                       "follow-up cards and complaints from their own queues."), classes="section")
        yield DataTable(id="covers-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="covers-message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        fixed_columns(table, (_("Absent colleague"), 12), (_("Backup colleague"), 12), (_("From"), 10),
                      (_("To"), 10), (_("Handover note"), 40))
        table.focus()
        self.load()

    def load(self) -> None:
        self.run_loader(staff.covers, self.svc, on_result=self._show, group="covers")

    def _show(self, rows: list[staff.Cover]) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        with self.app.batch_update():
            table.clear()
            for c in rows:
                table.add_row(*cells(c.absent_name, c.backup_name, c.start_date.isoformat(), c.end_date.isoformat(),
                                     c.note or ""))
        self.query_one("#covers-message", Static).update("" if rows else _("None."))

    def current(self) -> staff.Cover | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    def action_new(self) -> None:
        def done(result: tuple[str, str, date, date, str] | None) -> None:
            if not result:
                return
            try:
                staff.set_cover(self.svc, self.actor, *result[:4], result[4] or None)
            except CrmError as e:
                self.notify(e.message, severity="error", timeout=8)
                return
            self.notify(_("A/B post recorded."))
            self.load()

        self.app.push_screen(CoverForm("", self.svc.now().date()), done)

    def action_revoke(self) -> None:
        row = self.current()
        if row is None:
            return

        def done(yes: bool | None) -> None:
            if not yes:
                return
            try:
                staff.revoke_cover(self.svc, self.actor, row.id)
            except CrmError as e:
                self.notify(e.message, severity="error", timeout=8)
                return
            self.notify(_("A/B post revoked."))
            self.load()

        self.app.push_screen(ConfirmDialog(_("Revoke the cover of {absent} by {backup} ({start} to {end})?",
                                             absent=row.absent_name, backup=row.backup_name,
                                             start=row.start_date.isoformat(), end=row.end_date.isoformat())), done)
