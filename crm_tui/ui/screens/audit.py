"""The audit trail for internal control and administrators: filter, page, verify the chain."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Static

from crm_tui.i18n import _
from crm_tui.services import audit
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseScreen, enter_in
from crm_tui.ui.widgets.columns import cells, fixed_columns
from crm_tui.ui.widgets.dialogs import InfoDialog

PAGE = 200


class AuditScreen(BaseScreen[None]):
    TITLE_MSGID = "Audit trail"
    BINDINGS = [
        Binding("ctrl+f", "focus_filters", "Filter", priority=True),
        Binding("ctrl+v", "verify", "Verify chain"),
        Binding("ctrl+n", "more", "Older entries"),
        Binding("enter", "details", "Details", show=False),
        Binding("escape", "app.back", "Back"),
        ENTER_BINDING,
    ]

    FILTERS = ("f-user", "f-action", "f-since", "f-until", "f-customer")

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.entries: list[audit.AuditEntry] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="audit-filters", classes="filters"):
            yield Input(placeholder=_("user"), id="f-user", max_length=40)
            yield Input(placeholder=_("action, e.g. auth."), id="f-action", max_length=60)
            yield Input(placeholder=_("from YYYY-MM-DD"), id="f-since", max_length=10)
            yield Input(placeholder=_("to YYYY-MM-DD"), id="f-until", max_length=10)
            yield Input(placeholder=_("customer id"), id="f-customer", max_length=12, type="integer")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="audit-message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        # Fixed widths: auto widths are measured when rows arrive, and a refresh racing the first
        # page left them at the width of the headers ("custome…"). Details scroll sideways.
        fixed_columns(table, ("#", 6), (_("Time"), 19), (_("Staff"), 9), (_("Action"), 22), (_("Details"), 80))
        table.focus()
        self.load()

    def _filter(self) -> audit.AuditFilter:
        v = {i: self.query_one(f"#{i}", Input).value.strip() for i in self.FILTERS}
        return audit.AuditFilter(v["f-user"] or None, int(v["f-customer"]) if v["f-customer"] else None,
                                 v["f-action"] or None, v["f-since"] or None, v["f-until"] or None)

    async def action_enter(self) -> None:
        """Enter in a filter applies the filters when the key arrives (what was typed just before is in
        them) and goes to the entries; on the entries it opens the details."""
        await enter_in(self, dict.fromkeys(self.FILTERS, self.apply))

    def apply(self) -> None:
        self.load()
        self.set_focus(self.query_one(DataTable))

    def action_focus_filters(self) -> None:
        # at once (focus() waits its turn behind the keys typed after Ctrl+F, which then missed the box)
        self.set_focus(self.query_one("#f-user", Input))

    def action_more(self) -> None:
        if self.entries:
            self.load(before=self.entries[-1].id)

    def load(self, before: int | None = None) -> None:
        try:
            flt = self._filter()
        except ValueError:  # a lone '-' in the customer id: nothing to ask yet
            return
        self.run_loader(audit.list_entries, self.svc, self.actor, flt, PAGE, before_id=before,
                        on_result=lambda rows: self._show(rows, before is not None),
                        on_error=lambda e: self.query_one("#audit-message", Static).update(e.message), group="audit")

    def _show(self, rows: list[audit.AuditEntry], append: bool) -> None:
        table = self.query_one(DataTable)
        # keep the widget small: one page shown, older pages replace it
        self.entries = rows if not append or not rows else rows
        with self.app.batch_update():
            table.clear()
            for e in self.entries:
                actor = e.actor + (f" ({_('on behalf of')} #{e.on_behalf_of_id})" if e.on_behalf_of_id else "")
                table.add_row(*cells(e.id, f"{e.at:%Y-%m-%d %H:%M:%S}", actor, e.action, e.summary[:120]), key=str(e.id))
        msg = _("{n} entries shown", n=len(rows)) if rows else _("No entries match.")
        self.query_one("#audit-message", Static).update(msg)

    @on(DataTable.RowSelected, "#audit-table")
    def action_details(self) -> None:
        table = self.query_one(DataTable)
        if not self.entries or table.cursor_row < 0:
            return
        e = self.entries[table.cursor_row]
        import json

        from textual.markup import escape

        # as recorded: a detail with '[/]' or '[bold]' in it is text, not markup
        body = escape(json.dumps(e.details, ensure_ascii=False, indent=2))
        self.app.push_screen(InfoDialog(escape(f"#{e.id} {e.action} · {e.at:%Y-%m-%d %H:%M:%S} · {e.actor}"), body))

    def action_verify(self) -> None:
        self.run_action(audit.verify_chain, self.svc, self.actor, on_result=self._verified, group="audit-verify")

    def _verified(self, report) -> None:  # type: ignore[no-untyped-def]
        if report.first_broken is None:
            text = _("Audit trail intact: {rows} rows, head {head}.", rows=report.rows, head=report.head[:16])
            self.notify(text, timeout=8)
        else:
            text = _("Audit trail BROKEN at row {id} ({reason}); {rows} rows before it are intact.",
                     id=report.first_broken, reason=report.reason_text, rows=report.rows)
            self.notify(text, severity="error", timeout=30)
        self.load()
