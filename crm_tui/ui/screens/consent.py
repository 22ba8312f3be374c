"""Consents of an archive, added and withdrawn (R-CUST-6), and recording that a customer was told
of a change (R-CUST-5). Keyboard only: arrows choose, A adds, W withdraws, Ctrl+S saves, Esc closes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from crm_tui.domain.errors import CrmError, ValidationErrors
from crm_tui.i18n import _
from crm_tui.services import consent
from crm_tui.services import customer_forms as cf
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal
from crm_tui.ui.parts.form import Field, FormPart
from crm_tui.ui.widgets.dialogs import ConfirmDialog, PromptDialog


class ConsentForm(FormPart, BaseModal[int | None]):
    """A consent the customer gives now: what for (the purpose told to them), which scope, how it
    was given, on which day. The service checks it; a refusal shows next to its field."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]

    def __init__(self, svc: Services, actor: Actor, customer_id: int) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.customer_id = customer_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog wide"):
            yield Label(_("Record a consent (R-CUST-6)"), classes="box-title")
            yield from self.compose_fields([
                Field("scope", _("Scope"), "select", choices=[(label, code) for code, label in consent.scope_choices()],
                      prompt=_("(choose)"), error=True),
                Field("purpose", _("Purpose told to the customer"), error=True, enter="next"),
                Field("method", _("How the consent was given"), "select", prompt=_("(choose)"), error=True,
                      choices=[(label, code) for code, label in consent.method_choices()]),
                Field("given", _("Given on (YYYY-MM-DD)"), value=self.svc.now().date().isoformat(), max_length=12,
                      error=True, enter="next"),
                Field("note", _("Note"), max_length=500, error=True, enter="save"),
            ])
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        self.focus_first_field()

    def action_save(self) -> None:
        try:
            cid = consent.add_consent(self.svc, self.actor, self.customer_id, **self.form_values())
        except ValidationErrors as e:
            self.show_errors(e.by_field())
            return
        except CrmError as e:
            self.query_one("#form-message", Static).update(e.message)
            return
        self.dismiss(cid)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConsentsDialog(BaseModal[None]):
    """The archive's consents: A adds one, W withdraws the chosen one (what the rule says happens to
    the data is done and said)."""

    BINDINGS = [Binding("a", "add", "Add consent"), Binding("w", "withdraw", "Withdraw"),
                Binding("escape", "close", "Close")]
    ACTION_PERMISSIONS = {"add": "customer.edit", "withdraw": "customer.edit"}

    def __init__(self, svc: Services, actor: Actor, customer_id: int, label: str) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.customer_id = customer_id
        self.label = label
        self.lines: list[consent.ConsentLine] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog wide"):
            yield Label(_("Consents of {customer}", customer=self.label), classes="box-title")
            yield OptionList(id="consents")
            yield Static(_("A: add a consent   W: withdraw the chosen one   Esc: close"), classes="hint")
            yield Static("", id="form-message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#consents", OptionList).focus()

    def reload(self) -> None:
        try:
            self.lines = consent.consent_lines(self.svc, self.actor, self.customer_id)
        except CrmError as e:
            self.query_one("#form-message", Static).update(e.message)
            return
        lst = self.query_one("#consents", OptionList)
        lst.clear_options()
        lst.add_options([Option(line.label, id=str(line.id)) for line in self.lines] or
                        [Option(_("No consent recorded yet."), disabled=True)])
        if self.lines:
            lst.highlighted = 0

    def action_add(self) -> None:
        def done(cid: int | None) -> None:
            if cid:
                self.query_one("#form-message", Static).update(_("Consent recorded."))
                self.reload()

        self.app.push_screen(ConsentForm(self.svc, self.actor, self.customer_id), done)

    def action_withdraw(self) -> None:
        lst = self.query_one("#consents", OptionList)
        if not self.lines or lst.highlighted is None:
            return
        line = self.lines[lst.highlighted]
        if line.withdrawn:
            self.query_one("#form-message", Static).update(_("This consent was already withdrawn."))
            return

        def noted(note: str | None) -> None:
            if note is None:
                return

            def confirmed(yes: bool | None) -> None:
                if not yes:
                    return
                try:
                    done = consent.withdraw_consent(self.svc, self.actor, line.id, note=note)
                except CrmError as e:
                    self.query_one("#form-message", Static).update(e.message)
                    return
                self.query_one("#form-message", Static).update(" ".join(done))
                self.reload()

            warn = _("Withdraw this consent? {line}", line=line.label)
            if line.scope == "sensitive":
                warn += "\n\n" + _("Without a sensitive-data consent the ID number and bank account are deleted "
                                   "from the archive.")
            self.app.push_screen(ConfirmDialog(warn), confirmed)

        self.app.push_screen(PromptDialog(_("How did the customer withdraw it? (note, optional)"), required=False),
                             noted)

    def action_close(self) -> None:
        self.dismiss(None)


class ToldForm(FormPart, BaseModal[bool | None]):
    """The customer was told of a change (R-CUST-5): how, and a note; who and when are recorded."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]

    def __init__(self, svc: Services, actor: Actor, due_id: int, what: str) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.due_id = due_id
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog"):
            yield Label(_("The customer was told"), classes="box-title")
            yield Static(self.what)
            yield from self.compose_fields([
                Field("method", _("How"), "select", choices=[(label, code) for code, label in cf.contact_methods()],
                      prompt=_("(choose)"), error=True),
                Field("note", _("Note"), max_length=500, error=True, enter="save"),
            ])
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        self.focus_first_field()

    def action_save(self) -> None:
        v = self.form_values()
        try:
            consent.record_told(self.svc, self.actor, self.due_id, v["method"], v["note"])
        except ValidationErrors as e:
            self.show_errors(e.by_field())
            return
        except CrmError as e:
            self.query_one("#form-message", Static).update(e.message)
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(None)
