"""The watch lists: the archives that need attention (R-CUST-7..11), and what is done from them."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _
from crm_tui.services import customer_forms as cf
from crm_tui.services import customer_rules as cr
from crm_tui.services import customers as cs
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import BaseScreen
from crm_tui.ui.screens.customer_form import HandoverForm
from crm_tui.ui.screens.customers.detail import CustomerDetailScreen
from crm_tui.ui.screens.customers.measures import MEASURES
from crm_tui.ui.widgets.columns import CUSTOMER_NUMBER, PERSON, cells, fixed_columns
from crm_tui.ui.widgets.dialogs import PromptDialog


class WatchListScreen(BaseScreen[None]):
    """The archives that need attention: R-CUST-7, -8, -9, -10, and handover of a leaver's customers."""

    TITLE_MSGID = "Watch lists"
    BINDINGS = [
        Binding("1", "show('phone_changes')", "Phone changed twice"),
        Binding("2", "show('past_deadline')", "Past deadline"),
        Binding("3", "show('shared_phones')", "Shared phones"),
        Binding("4", "show('few_contacts')", "Too few contacts"),
        Binding("5", "show('retention')", "Past retention"),
        # lists 6 on: F1, the palette and the title line name them (the footer is full)
        Binding("6", "show('contact_tasks')", "Second contact due", show=False),
        Binding("7", "show('owner_disabled')", "Owner disabled", show=False),
        Binding("8", "show('shared_filing')", "Shared phones to file", show=False),
        Binding("9", "show('phone_requests')", "New phones to confirm", show=False),
        Binding("0", "show('inform_due')", "To be told", show=False),
        Binding("right_square_bracket", "step(1)", "Next list", show=False),
        Binding("left_square_bracket", "step(-1)", "Previous list", show=False),
        Binding("ctrl+a", "approve", "Approve shared phone"),
        Binding("ctrl+f", "file_shared", "File with internal control"),
        Binding("ctrl+r", "inspect", "Record inspection"),
        Binding("ctrl+g", "told", "Customer told"),
        Binding("ctrl+b", "survey", "Record survey"),
        Binding("ctrl+o", "handover", "Handover"),  # not Ctrl+H: terminals send it as Backspace
        Binding("enter", "open", "Open", show=False),
        Binding("escape", "app.back", "Back"),
    ]
    ACTION_PERMISSIONS = {"approve": "customer.review_shared_phone", "handover": "customer.handover",
                          "told": "customer.edit", "survey": "feedback.create",
                          "file_shared": "customer.shared_phone_file", "inspect": "customer.phone_inspect"}

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.kind = "past_deadline"
        self.items: list[cs.WatchRow] = []
        self.next_cursor: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="watch-title", classes="section")
        yield DataTable(id="watch-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        fixed_columns(table, (_("Number"), CUSTOMER_NUMBER), (_("Name"), 20), (_("Owner"), PERSON), (_("Why"), 60))
        table.focus()
        self.action_show(self.kind)

    def palette_commands(self) -> list[tuple[str, str, str]]:
        return [(_(title), _("Watch lists"), f"screen.show('{kind}')") for kind, title in cf.WATCH_LISTS.items()]

    def action_step(self, by: int) -> None:
        """[ and ]: the previous or next list, round the whole set (there are more lists than digits)."""
        kinds = list(cf.WATCH_LISTS)
        self.action_show(kinds[(kinds.index(self.kind) + by) % len(kinds)])

    def action_show(self, kind: str) -> None:
        self.kind = kind
        self.query_one("#watch-title", Static).update(
            _(cf.WATCH_LISTS[kind]) + "   " + _("(keys 1-9, 0 and [ ] switch lists; F1 names them)"))
        self.load(kind)

    def load(self, kind: str) -> None:
        self.run_loader(cf.watch_list, self.svc, self.actor, kind, on_result=lambda page: self._show(page.rows),
                        group="watch")

    def _show(self, rows: list[cs.WatchRow]) -> None:
        self.items = rows
        table = self.query_one(DataTable)
        with self.app.batch_update():
            table.clear()
            for r in rows:
                table.add_row(*cells(r.customer.number, r.customer.name, r.customer.owner or "", r.detail))

    def current(self) -> cs.WatchRow | None:
        table = self.query_one(DataTable)
        if not self.items or table.cursor_row < 0:
            return None
        return self.items[min(table.cursor_row, len(self.items) - 1)]

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        row = self.current()
        if row:
            self.app.push_screen(CustomerDetailScreen(self.svc, self.actor, row.customer.id))

    def action_approve(self) -> None:
        row = self.current()
        if not row or self.kind != "shared_phones" or row.phone_id is None:
            self.notify(_("Choose a customer in the shared-phone list (key 3)."))
            return
        try:
            slot = cs.approve_shared_phone(self.svc, self.actor, row.phone_id)
        except CrmError as e:
            self.notify(e.explain(), severity="error")
            return
        self.notify(_("Signed as section chief.") if slot == "chief" else _("Signed as deputy manager."))
        self.load(self.kind)

    def on_screen_resume(self) -> None:
        self.load(self.kind)  # back from an archive or a survey: the lists may have changed

    def action_told(self) -> None:
        """R-CUST-5: record that the chosen customer was told of the change (list 0)."""
        from crm_tui.ui.screens.consent import ToldForm

        row = self.current()
        if not row or self.kind != "inform_due" or row.item_id is None:
            self.notify(_("Choose a change in the list of changes to tell (key 0)."))
            return

        def done(ok: bool | None) -> None:
            if ok:
                self.notify(_("Recorded: the customer was told of the change."))
                self.load(self.kind)

        self.app.push_screen(ToldForm(self.svc, self.actor, row.item_id,
                                      f"{row.customer.number} {row.customer.name}: {row.detail}"), done)

    def action_survey(self) -> None:
        """R-CUST-15: record the chosen customer's survey (M in the feedback screen)."""
        from crm_tui.ui.screens.complaints import FeedbackScreen

        row = self.current()
        if not row:
            return
        self.app.push_screen(FeedbackScreen(self.svc, self.actor, row.customer.id,
                                            f"{row.customer.number} {row.customer.name}"))
    def action_file_shared(self) -> None:
        """R-CUST-7: internal control files (备案) a shared phone both signatures approved."""
        row = self.current()
        if not row or self.kind != "shared_filing" or row.phone_id is None:
            self.notify(_("Choose a customer in the list of shared phones to file (key 8)."))
            return

        def done(note: str | None) -> None:
            if note is None:
                return
            try:
                cr.file_shared_phone(self.svc, self.actor, row.phone_id, note)  # type: ignore[arg-type]
            except CrmError as e:
                self.notify(e.explain(), severity="error")
                return
            self.notify(_("Filed with internal control."))
            self.load(self.kind)

        self.app.push_screen(PromptDialog(_("Filing note (optional):"), required=False), done)

    def action_inspect(self) -> None:
        """R-CUST-8: record the closer inspection of the chosen customer (clears the flag)."""
        row = self.current()
        if not row or self.kind != "phone_changes":
            self.notify(_("Choose a customer in the list of phones changed twice (key 1)."))
            return

        def done(result: str | None) -> None:
            if not result:
                return
            try:
                cr.record_phone_inspection(self.svc, self.actor, row.customer.id, result)
            except CrmError as e:
                self.notify(e.explain(), severity="error")
                return
            self.notify(_("Inspection recorded."))
            self.load(self.kind)

        self.app.push_screen(PromptDialog(_(MEASURES["inspect"][1])), done)

    def action_handover(self) -> None:
        def done(result: tuple[str, str, str] | None) -> None:
            if not result:
                return
            try:
                n = cs.handover(self.svc, self.actor, result[0], result[1], None, result[2])
            except CrmError as e:
                self.notify(e.message, severity="error")
                return
            self.notify(_("{n} customers handed over; each is marked 'tell the customer their new contact'.", n=n),
                        timeout=10)

        self.app.push_screen(HandoverForm(), done)
