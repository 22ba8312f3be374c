"""One customer archive: the profile pane, the timeline, and what may be done to the archive from it."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Label, Static

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _
from crm_tui.services import customers as cs
from crm_tui.services import frontdesk as fd
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import BaseScreen
from crm_tui.ui.screens.customer_form import ContactForm, CustomerFormScreen
from crm_tui.ui.screens.customers.measures import (MEASURE_PERMISSIONS, MEASURES, ChoiceDialog, RevealDialog,
                                                   measures_for)
from crm_tui.ui.screens.customers.profile import profile_text
from crm_tui.ui.widgets.columns import DATE_TIME, PERSON, SIDE_BY_SIDE, cells, fixed_columns
from crm_tui.ui.widgets.dialogs import ConfirmDialog, InfoDialog, PromptDialog


class CustomerDetailScreen(BaseScreen[None]):
    """One archive: the profile (sensitive fields masked unless the role may see them) and the
    timeline of every change and contact."""

    TITLE_MSGID = "Customer archive"
    HORIZONTAL_BREAKPOINTS = SIDE_BY_SIDE  # narrower: the profile above the timeline
    BINDINGS = [
        Binding("ctrl+e", "edit", "Edit"),
        Binding("ctrl+r", "reveal", "Reveal ID/phone"),
        Binding("ctrl+k", "contact", "Log contact"),
        Binding("ctrl+o", "export_one", "Export data"),
        Binding("ctrl+g", "informed", "Customer informed", show=False),
        Binding("ctrl+d", "erase", "Erase", show=False),
        Binding("escape", "app.back", "Back"),
        Binding("ctrl+b", "feedback", "Feedback / complaint"),
        Binding("ctrl+n", "new_phone", "New phone"),
        Binding("ctrl+t", "confirm_phone", "Confirm new phone"),
        Binding("ctrl+a", "consents", "Consents"),
        # R-CUST-3, R-CUST-8: false information, business stop, phone inspection (by role, F1 and palette)
        Binding("ctrl+u", "measures", "Measures: false information, stop business, inspection", show=False),
    ]
    ACTION_PERMISSIONS = {"consents": "customer.view", "edit": "customer.edit", "reveal": "customer.view_sensitive",
                          "contact": "customer.contact_log", "export_one": "customer.export_one",
                          "informed": "customer.edit", "erase": "customer.erase", "feedback": "complaint.view"}

    def __init__(self, svc: Services, actor: Actor, customer_id: int) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.customer_id = customer_id
        self.view: cs.CustomerView | None = None
        self.pending_phones: list[fd.PhoneRequestView] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="detail-body"):
            with VerticalScroll(id="profile"):
                yield Static("", id="phone-requests", classes="message")
                yield Static("", id="profile-text")
            with Vertical(id="timeline-pane"):
                yield Label(_("Timeline"), classes="section")
                yield DataTable(id="timeline", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#timeline", DataTable)
        # the details (often a paragraph) last, so the staff member stays on screen
        fixed_columns(table, (_("Time"), DATE_TIME), (_("What"), 22), (_("Staff"), PERSON), (_("Details"), 160))
        table.focus()
        self.query_one("#phone-requests", Static).display = False
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def load(self) -> None:
        def read() -> tuple[cs.CustomerView, list[cs.TimelineEntry], list[fd.PhoneRequestView]]:
            view, history = cs.archive_page(self.svc, self.actor, self.customer_id)  # one audit row per view
            return view, history, fd.pending_phone_changes(self.svc, self.actor, self.customer_id)

        self.run_loader(read, on_result=lambda r: self._show(*r), group="customer-detail")

    def _show(self, view: cs.CustomerView, entries: list[cs.TimelineEntry],
              pending: list[fd.PhoneRequestView] = ()) -> None:  # type: ignore[assignment]
        if not self.is_attached:
            return  # closed while it loaded
        self.view = view
        self.pending_phones = list(pending)
        notice = self.query_one("#phone-requests", Static)
        notice.update("\n".join(
            _("New phone awaiting confirmation: {old} → {new}, recorded by {who} on {time}",
              old=p.replaces or _("(an additional phone)"), new=p.number, who=p.requested_by,
              time=f"{p.requested_at:%m-%d %H:%M}")
            + (" " + _("(Ctrl+T)") if self._owns() else "") for p in self.pending_phones))
        notice.display = bool(self.pending_phones)
        self.refresh_bindings()
        self.sub_title = f"{view.number} {view.name}"
        holidays.work_calendar(self.svc)  # fresh for the ≈ marks
        self.query_one("#profile-text", Static).update(profile_text(view))
        table = self.query_one("#timeline", DataTable)
        with self.app.batch_update():
            table.clear()
            for e in entries:
                table.add_row(*cells(f"{e.at:%Y-%m-%d %H:%M}", e.title, e.staff or "", e.body))

    def _owns(self) -> bool:
        v = self.view
        return v is not None and v.owner_id is not None and v.owner_id in (self.actor.staff_id, self.actor.on_behalf_of)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_phone":  # the front desk's way to a caller's new phone (data/roles.toml)
            return fd.phone_change_mode(self.actor) is not None and self.view is not None \
                and self.view.erased_at is None
        if action == "confirm_phone":
            return self.actor.can("customer.edit") and self._owns() and bool(self.pending_phones)
        if action == "measures":
            return any(self.actor.can(p) for p in MEASURE_PERMISSIONS)
        return super().check_action(action, parameters)

    def action_new_phone(self) -> None:
        if self.view is None:
            return
        from crm_tui.ui.screens.frontdesk import NewPhoneForm

        def done(out: fd.PhoneChangeOutcome | None) -> None:
            if out is None:
                return
            self.notify(_("New phone saved.") if out.state == "saved" else
                        _("New phone sent to {owner} for confirmation.", owner=self.view.owner if self.view else ""))
            self.load()

        self.app.push_screen(NewPhoneForm(self.svc, self.actor, self.view), done)

    def action_confirm_phone(self) -> None:
        from crm_tui.ui.screens.frontdesk import confirm_phone_requests

        confirm_phone_requests(self, self.svc, self.actor, self.customer_id, self.load)

    def action_edit(self) -> None:
        self.app.push_screen(CustomerFormScreen(self.svc, self.actor, self.customer_id))

    def action_reveal(self) -> None:
        """Show one masked value whole: which one, why (recorded in the audit trail), then a dialog
        that holds it for this view only; nothing keeps it afterwards."""
        def chosen(field: str | None) -> None:
            if not field:
                return

            def reason_given(reason: str | None) -> None:
                if not reason:
                    return
                from crm_tui.services.approvals import ApprovalNeeded
                from crm_tui.ui import approval

                number = self.view.number if self.view else None
                try:
                    value = cs.reveal(self.svc, self.actor, self.customer_id, field, reason,
                                      approval_id=approval.usable(self.svc, self.actor, "customer.reveal_other", number))
                except ApprovalNeeded as e:  # another's customer's ID number (R-SEC-2)
                    approval.offer_request(self, self.svc, self.actor, e, number)
                    return
                except CrmError as e:
                    self.notify(e.explain(), severity="error")
                    return
                self.app.push_screen(InfoDialog(_("Revealed (recorded in the audit trail)"), value))

            self.app.push_screen(PromptDialog(_("Why do you need to see it? (recorded in the audit trail)")),
                                 reason_given)

        self.app.push_screen(RevealDialog(), chosen)

    def action_contact(self) -> None:
        def done(result: dict | None) -> None:
            if not result:
                return
            try:
                cs.add_contact(self.svc, self.actor, self.customer_id, result.pop("method"), result.pop("summary"),
                               **result)
            except CrmError as e:
                self.notify(e.message, severity="error")
                return
            self.notify(_("Contact recorded."))
            self.load()

        self.app.push_screen(ContactForm(), done)

    def action_informed(self) -> None:
        """Tick off "to be told" (after a change or a handover, R-CUST-11): who (you), when (now), how."""

        def done(method: str | None) -> None:
            if method is None:
                return
            try:
                cs.mark_informed(self.svc, self.actor, self.customer_id, method=method)
            except CrmError as e:
                self.notify(e.message, severity="error")
                return
            self.notify(_("Recorded: the customer was told of the change."))
            self.load()

        self.app.push_screen(PromptDialog(_("How was the customer told? (phone, visit, letter ...)"), required=False,
                                          max_length=40), done)

    def action_export_one(self) -> None:
        def done(path: str | None) -> None:
            if not path:
                return
            fmt = "json" if path.lower().endswith(".json") else "xlsx"
            try:
                cs.export_customer(self.svc, self.actor, self.customer_id, Path(path).expanduser(), fmt)
            except CrmError as e:
                self.notify(e.message, severity="error")
                return
            self.notify(_("Exported to {path}", path=path), timeout=10)

        number = self.view.number if self.view else str(self.customer_id)
        self.app.push_screen(PromptDialog(_("Export this customer's complete data to (.json or .xlsx):"),
                                          value=str(Path.home() / f"{number}.json")), done)

    def action_erase(self) -> None:
        def reason_given(reason: str | None) -> None:
            if not reason:
                return

            def confirmed(yes: bool | None) -> None:
                if not yes:
                    return
                from crm_tui.services.approvals import ApprovalNeeded
                from crm_tui.ui import approval

                number = self.view.number if self.view else None
                try:
                    cs.erase_customer(self.svc, self.actor, self.customer_id, reason,
                                      approval_id=approval.usable(self.svc, self.actor, "customer.erase", number))
                except ApprovalNeeded as e:  # R-SEC-2
                    approval.offer_request(self, self.svc, self.actor, e, number)
                    return
                except CrmError as e:
                    self.notify(e.message, severity="error")
                    return
                self.notify(_("Personal data erased."))
                self.app.pop_screen()

            self.app.push_screen(ConfirmDialog(
                _("Erase this customer's personal data for good? Statistics and the audit trail stay, without "
                  "personal data. This cannot be undone.")), confirmed)

        self.app.push_screen(PromptDialog(_("Why is this customer's data erased? (recorded)")), reason_given)

    def action_consents(self) -> None:
        """R-CUST-6: the archive's consents; add one (then an ID number can be entered) or withdraw one."""
        from crm_tui.ui.screens.consent import ConsentsDialog

        label = f"{self.view.number} {self.view.name}" if self.view else str(self.customer_id)
        self.app.push_screen(ConsentsDialog(self.svc, self.actor, self.customer_id, label), lambda _r: self.load())
    def palette_commands(self) -> list[tuple[str, str, str]]:
        return [(_("Measures: false information, stop business, inspection"), _("Customer archive"),
                 "screen.measures")]

    def action_measures(self) -> None:
        """R-CUST-3 / R-CUST-8: the measures this role may take on this archive, then the reason."""
        view = self.view
        if view is None:
            return
        offered = measures_for(self.actor, view)
        if not offered:
            self.notify(_("Nothing to do here for your role."))
            return

        def chosen(key: str | None) -> None:
            if not key:
                return

            def reason_given(reason: str | None) -> None:
                if not reason:
                    return
                try:
                    MEASURES[key][2](self.svc, self.actor, self.customer_id, reason)
                except CrmError as e:
                    self.notify(e.explain(), severity="error")
                    return
                self.notify(_(MEASURES[key][3]))
                self.load()

            self.app.push_screen(PromptDialog(_(MEASURES[key][1])), reason_given)

        self.app.push_screen(ChoiceDialog(_("Measures for this customer"),
                                          [(k, _(MEASURES[k][0])) for k in offered]), chosen)

    def action_feedback(self) -> None:
        """Hook into the complaints area: this customer's praise, suggestions, grumbles, surveys."""
        from crm_tui.ui.screens.complaints import FeedbackScreen

        label = f"{self.view.number} {self.view.name}" if self.view else str(self.customer_id)
        self.app.push_screen(FeedbackScreen(self.svc, self.actor, self.customer_id, label))
