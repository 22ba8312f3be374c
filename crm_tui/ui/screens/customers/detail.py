"""One customer archive (客户档案) on the shared record screen: the profile pane (with the new phones
awaiting confirmation above it), the timeline, and what may be done to the archive from it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Static

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services import frontdesk as fd
from crm_tui.services.context import Actor, Services
from crm_tui.ui.parts.record import RecordScreen
from crm_tui.ui.screens.customer_form import ContactForm, CustomerFormScreen
from crm_tui.ui.screens.customers.measures import (MEASURE_PERMISSIONS, MEASURES, ChoiceDialog, RevealDialog,
                                                   measures_for)
from crm_tui.ui.screens.customers.profile import profile_text
from crm_tui.ui.widgets.columns import DATE_TIME, PERSON, cells, fixed_columns
from crm_tui.ui.widgets.dialogs import ConfirmDialog, InfoDialog, PromptDialog

Loaded = tuple[cs.CustomerView, list[cs.TimelineEntry], list[fd.PhoneRequestView]]


class CustomerDetailScreen(RecordScreen):
    """One archive: the profile (sensitive fields masked unless the role may see them, by the
    services' one policy) and the timeline of every change and contact."""

    TITLE_MSGID = "Customer archive"
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
    BODY_ID, FACTS_ID, TEXT_ID = "detail-body", "profile", "profile-text"
    HISTORY_ID, TABLE_ID, HISTORY_TITLE = "timeline-pane", "timeline", N_("Timeline")
    GROUP = "customer-detail"
    view: cs.CustomerView | None

    customer_id = property(lambda self: self.record_id)  # what the tests and the actions call it

    def __init__(self, svc: Services, actor: Actor, customer_id: int) -> None:
        super().__init__(svc, actor, customer_id)
        self.entries: list[cs.TimelineEntry] = []
        self.pending_phones: list[fd.PhoneRequestView] = []

    # -- the record --------------------------------------------------------------------------------
    def columns(self, table: DataTable) -> None:  # type: ignore[type-arg]
        # the details (often a paragraph) last, so the staff member stays on screen
        fixed_columns(table, (_("Time"), DATE_TIME), (_("What"), 22), (_("Staff"), PERSON), (_("Details"), 160))

    def read_record(self) -> Loaded:
        view, history = cs.archive_page(self.svc, self.actor, self.customer_id)  # one audit row per view
        return view, history, fd.pending_phone_changes(self.svc, self.actor, self.customer_id)

    def take(self, value: Loaded) -> cs.CustomerView:
        view, self.entries, pending = value
        self.pending_phones = list(pending)
        return view

    def subtitle(self, view: cs.CustomerView) -> str:
        return f"{view.number} {view.name}"

    def facts(self, view: cs.CustomerView) -> str:
        return profile_text(view)

    def history(self, view: cs.CustomerView) -> Iterator[list]:  # type: ignore[type-arg]
        for e in self.entries:
            yield cells(f"{e.at:%Y-%m-%d %H:%M}", e.title, e.staff or "", e.body)

    def facts_above(self) -> Iterable[Widget]:
        notice = Static("", id="phone-requests", classes="message")
        notice.display = False
        yield notice

    def show_more(self, view: cs.CustomerView) -> None:
        notice = self.query_one("#phone-requests", Static)
        notice.update("\n".join(
            _("New phone awaiting confirmation: {old} → {new}, recorded by {who} on {time}",
              old=p.replaces or _("(an additional phone)"), new=p.number, who=p.requested_by,
              time=f"{p.requested_at:%m-%d %H:%M}")
            + (" " + _("(Ctrl+T)") if self._owns() else "") for p in self.pending_phones))
        notice.display = bool(self.pending_phones)

    def _owns(self) -> bool:
        v = self.view
        return v is not None and v.owner_id is not None and v.owner_id in (self.actor.staff_id, self.actor.on_behalf_of)

    def _label(self) -> str:
        return f"{self.view.number} {self.view.name}" if self.view else str(self.customer_id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_phone":  # the front desk's way to a caller's new phone (data/roles.toml)
            return fd.phone_change_mode(self.actor) is not None and self.view is not None \
                and self.view.erased_at is None
        if action == "confirm_phone":
            return self.actor.can("customer.edit") and self._owns() and bool(self.pending_phones)
        if action == "measures":
            return any(self.actor.can(p) for p in MEASURE_PERMISSIONS)
        return super().check_action(action, parameters)

    def palette_commands(self) -> list[tuple[str, str, str]]:
        return [(_("Measures: false information, stop business, inspection"), _("Customer archive"),
                 "screen.measures")]

    # -- the actions -------------------------------------------------------------------------------
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

    def _approved(self, operation: str, call: Callable[[int | None], object]) -> bool:
        """Run ``call(approval_id)`` for an operation that may need a second person's approval
        (R-SEC-2): without one, offer to request it; a refusal is said. True when it was done."""
        from crm_tui.services.approvals import ApprovalNeeded
        from crm_tui.ui import approval

        number = self.view.number if self.view else None
        try:
            call(approval.usable(self.svc, self.actor, operation, number))
        except ApprovalNeeded as e:  # another's customer's ID number, an erasure
            approval.offer_request(self, self.svc, self.actor, e, number)
            return False
        except CrmError as e:
            self.notify(e.explain(), severity="error")
            return False
        return True

    def action_reveal(self) -> None:
        """Show one masked value whole: which one, why (recorded in the audit trail), then a dialog
        that holds it for this view only; nothing keeps it afterwards."""
        def chosen(field: str | None) -> None:
            if not field:
                return

            def reason_given(reason: str | None) -> None:
                shown: list[str] = []
                if reason and self._approved("customer.reveal_other", lambda approval_id: shown.append(cs.reveal(
                        self.svc, self.actor, self.customer_id, field, reason, approval_id=approval_id))):
                    self.app.push_screen(InfoDialog(_("Revealed (recorded in the audit trail)"), shown[0]))

            self.app.push_screen(PromptDialog(_("Why do you need to see it? (recorded in the audit trail)")),
                                 reason_given)

        self.app.push_screen(RevealDialog(), chosen)

    def action_contact(self) -> None:
        def done(result: dict | None) -> None:  # type: ignore[type-arg]
            if result:
                self.attempt(lambda: cs.add_contact(self.svc, self.actor, self.customer_id, result.pop("method"),
                                                    result.pop("summary"), **result), _("Contact recorded."))

        self.app.push_screen(ContactForm(), done)

    def action_informed(self) -> None:
        """Tick off "to be told" (after a change or a handover, R-CUST-11): who (you), when (now), how."""
        self.prompt_step(_("How was the customer told? (phone, visit, letter ...)"),
                         lambda method: cs.mark_informed(self.svc, self.actor, self.customer_id, method=method),
                         _("Recorded: the customer was told of the change."), required=False, max_length=40)

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
                if yes and self._approved("customer.erase", lambda approval_id: cs.erase_customer(
                        self.svc, self.actor, self.customer_id, reason, approval_id=approval_id)):
                    self.notify(_("Personal data erased."))
                    self.app.pop_screen()

            self.app.push_screen(ConfirmDialog(
                _("Erase this customer's personal data for good? Statistics and the audit trail stay, without "
                  "personal data. This cannot be undone.")), confirmed)

        self.app.push_screen(PromptDialog(_("Why is this customer's data erased? (recorded)")), reason_given)

    def action_consents(self) -> None:
        """R-CUST-6: the archive's consents; add one (then an ID number can be entered) or withdraw one."""
        from crm_tui.ui.screens.consent import ConsentsDialog

        self.app.push_screen(ConsentsDialog(self.svc, self.actor, self.customer_id, self._label()),
                             lambda _r: self.load())

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
            if key:
                question, call, done = MEASURES[key][1:]
                self.prompt_step(_(question), lambda reason: call(self.svc, self.actor, self.customer_id, reason),
                                 _(done))

        self.app.push_screen(ChoiceDialog(_("Measures for this customer"),
                                          [(k, _(MEASURES[k][0])) for k in offered]), chosen)

    def action_feedback(self) -> None:
        """Hook into the complaints area: this customer's praise, suggestions, grumbles, surveys."""
        from crm_tui.ui.screens.complaints import FeedbackScreen

        self.app.push_screen(FeedbackScreen(self.svc, self.actor, self.customer_id, self._label()))
