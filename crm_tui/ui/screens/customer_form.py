"""The archive form (keyboard only: Tab order follows the paper form, Enter moves on, Ctrl+S saves
everything or nothing, Esc asks before discarding) and the small contact and handover forms."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Checkbox, Footer, Header, Input, Label, Select, SelectionList, Static, TextArea

from crm_tui.domain.errors import CrmError, ValidationErrors
from crm_tui.i18n import _
from crm_tui.services import customer_forms as cf
from crm_tui.services import customers as cs
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal, BaseScreen, enter_in, show_field_errors
from crm_tui.ui.widgets.dialogs import ConfirmDialog, PromptDialog


def _ids(values: object) -> str:
    """Staff ids in one order, so an untouched list of staff in contact is not a change."""
    return " ".join(sorted((str(v) for v in values), key=int))  # type: ignore[attr-defined]


def _field_id(name: str) -> str:
    return "fld-" + name.replace(".", "-")


class CustomerFormScreen(BaseScreen[int | None]):
    """New archive (``customer_id`` None) or edit. Dismisses with the customer id when saved."""

    TITLE_MSGID = "Customer form"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "leave", "Back"),
        ENTER_BINDING,
    ]

    def __init__(self, svc: Services, actor: Actor, customer_id: int | None, *, kind: str = "person") -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.customer_id = customer_id
        self.kind = kind
        self.version: int | None = None
        self.initial: dict[str, str] = {}
        self.saved: dict[str, str] = {}
        self.phones_editable = True
        self.shared_reasons: dict[str, str] = {}
        if customer_id is not None:
            form = cf.form_values(svc, actor, customer_id)
            self.kind = form.kind
            self.version = form.version
            self.initial = dict(form.values)
            self.saved = dict(form.values)
            self.phones_editable = form.phones_editable
            for values in (self.initial, self.saved):  # as the ticked list gives them back
                values["staff_contacts"] = _ids(values.get("staff_contacts", "").split())

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form-scroll"):
            if self.customer_id is None:
                with Horizontal(classes="field-row"):
                    yield Label(_("Kind"), classes="field-label")
                    yield Select([(_("Person"), "person"), (_("Organisation"), "org")], value=self.kind,
                                 allow_blank=False, id="kind", compact=True)
            for section, fields in cf.form_layout(self.kind, phones_editable=self.phones_editable):
                yield Label(_(section), classes="section")
                for f in fields:
                    with Horizontal(classes="field-row"):
                        yield Label(_(f.label) + (" *" if f.required else ""), classes="field-label")
                        if f.name == "owner" and not f.readonly:  # by name, not the staff id
                            yield self._owner_widget(f, self.initial.get(f.name, ""))
                        elif f.name == "staff_contacts" and not f.readonly:  # by name: Space ticks
                            yield self._contacts_widget(f, self.initial.get(f.name, ""))
                        else:
                            yield self._widget(f, self.initial.get(f.name, ""))
                    yield Static("", id=_field_id(f.name) + "-error", classes="field-error")
            if self.customer_id is None:
                yield Label(_("Consent (R-CUST-6)"), classes="section")
                yield Checkbox(_("Customer agreed to the stated purpose of collection"), id="consent-basic",
                               compact=True)
                yield Checkbox(_("Explicit consent for sensitive items (ID number, bank account)"),
                               id="consent-sensitive", compact=True)
                yield Checkbox(_("Agreed to marketing contact"), id="consent-marketing", compact=True)
                with Horizontal(classes="field-row"):
                    yield Label(_("Purpose told to the customer"), classes="field-label")
                    yield Input(id="fld-consent_purpose", max_length=200, compact=True,
                                placeholder=_("e.g. car purchase and after-sales service"))
                yield Static("", id="fld-consent_purpose-error", classes="field-error")
                with Horizontal(classes="field-row"):
                    yield Label(_("How the consent was given"), classes="field-label")
                    yield Select([(label, code) for code, label in cf.consent_methods()], id="fld-consent_method",
                                 prompt=_("(choose)"), compact=True)
                yield Static("", id="fld-consent_method-error", classes="field-error")
            else:
                yield Checkbox(_("The customer was told of this change and consented"), id="informed",
                               compact=True)
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    @staticmethod
    def _widget(f: "cf.FormField", value: str) -> Widget:
        if f.choices:
            opts = [(_(lbl), code) for code, lbl in f.choices]  # policy labels pass through unchanged
            chosen = value if value in {c for c, _l in f.choices} else Select.NULL
            return Select(opts, value=chosen, id=_field_id(f.name), prompt=_("(choose)"), compact=True)
        if f.multiline:
            return TextArea(value, id=_field_id(f.name), classes="multiline", compact=True)
        if f.readonly:
            return Static(value or "-", id=_field_id(f.name), classes="readonly")
        return Input(value, id=_field_id(f.name), max_length=f.max_length or 200, compact=True)

    def _owner_widget(self, f: "cf.FormField", value: str) -> Widget:
        opts = [(name, str(sid)) for sid, name in cf.owner_choices(self.svc)]
        chosen = value if value in {code for _n, code in opts} else Select.NULL
        return Select(opts, value=chosen, id=_field_id(f.name), prompt=_("(choose)"), compact=True)

    def _contacts_widget(self, f: "cf.FormField", value: str) -> Widget:
        chosen = set(value.split())
        people = cf.owner_choices(self.svc)
        box = SelectionList[str](*[(name, str(sid), str(sid) in chosen) for sid, name in people],
                                 id=_field_id(f.name), compact=True)
        box.styles.height = min(len(people), 6) or 1  # a short list that scrolls, not a page of names
        return box

    def on_mount(self) -> None:
        super().on_mount()
        if self.customer_id is not None and self.view_number():
            self.sub_title = self.view_number()
        self._focus_first_field()

    def _focus_first_field(self) -> None:
        """Where the clerk types first: the name, not the kind drop-down above it."""
        fields = self.query("#form-scroll Input, #form-scroll TextArea") or self.query("#form-scroll Select")
        self.set_focus(fields.first())

    def view_number(self) -> str:
        return self.initial.get("number", "")

    @on(Select.Changed, "#kind")
    async def _kind(self, event: Select.Changed) -> None:
        """The form takes the other kind's fields, and focus goes to the name; keys typed meanwhile
        are kept and reach the name (the screen's type-ahead, ui/base.py)."""
        event.prevent_default()  # not the usual move to the next field: the form changes shape
        if event.value != self.kind and event.value is not Select.NULL:
            self.kind = str(event.value)
            values = self.values()
            self.initial = values
            if self.type_ahead is None:
                self.type_ahead = []
            await self.recompose()
            self._focus_first_field()
            self.call_after_refresh(self.app.call_later, self._deliver_type_ahead)
        elif self.focused is event.select:
            self._focus_first_field()

    async def action_enter(self) -> None:
        """Enter in a text field moves on when the key arrives, with what was typed before it in the
        field (fast typing after Enter lands in the next field); elsewhere Enter does what the widget
        does (open a list, new line)."""
        await enter_in(self, {w.id: self.focus_next for w in self.query(Input) if w.id})

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for _section, fields in cf.form_layout(self.kind, phones_editable=self.phones_editable):
            for f in fields:
                if f.readonly:
                    continue
                try:
                    w: Widget = self.query_one("#" + _field_id(f.name))
                except Exception:  # noqa: BLE001 - a field of the other kind during a kind switch
                    continue
                if isinstance(w, Select):
                    out[f.name] = "" if w.value is Select.NULL else str(w.value)
                elif isinstance(w, TextArea):
                    out[f.name] = w.text
                elif isinstance(w, SelectionList):  # staff ids in the list's order, as form_values gives them
                    out[f.name] = _ids(w.selected)
                elif isinstance(w, Input):
                    out[f.name] = w.value
        return out

    def dirty(self) -> bool:
        return any(v != self.saved.get(k, "") for k, v in self.values().items())

    def show_errors(self, errors: dict[str, str]) -> None:
        show_field_errors(self, errors, widget_id=_field_id)

    def action_save(self) -> None:
        values = self.values()
        self.query_one("#form-message", Static).update("")
        try:
            if self.customer_id is None:
                consents = [scope for scope in ("basic", "sensitive", "marketing")
                            if self.query_one(f"#consent-{scope}", Checkbox).value]
                method = self.query_one("#fld-consent_method", Select).value
                ref = cf.save_new(self.svc, self.actor, self.kind, values, consents, self.shared_reasons,
                                  purpose=self.query_one("#fld-consent_purpose", Input).value,
                                  method="" if method is Select.NULL else str(method))
                saved_id = ref.id
                self.app.notify(_("Archive {number} created.", number=ref.number))
            else:
                assert self.version is not None
                self.version = cf.save_edit(self.svc, self.actor, self.customer_id, values, self.saved,
                                            self.version, informed=self.query_one("#informed", Checkbox).value,
                                            phones_editable=self.phones_editable,
                                            shared_phone_reasons=self.shared_reasons)
                saved_id = self.customer_id
                self.app.notify(_("Saved."))
        except ValidationErrors as e:
            self.show_errors(e.by_field())
            return
        except cs.SharedPhone as e:
            self._ask_shared_reason(e)
            return
        except cs.DuplicateIdNumber as e:
            self.show_errors({e.field: e.message})

            def open_existing(yes: bool | None) -> None:
                if yes:
                    from crm_tui.ui.screens.customers import CustomerDetailScreen

                    self.app.push_screen(CustomerDetailScreen(self.svc, self.actor, e.existing_id))

            self.app.push_screen(ConfirmDialog(e.message + "\n\n" + _("Open the existing archive?")), open_existing)
            return
        except CrmError as e:
            self.query_one("#form-message", Static).update(e.message)
            return
        self.saved = self.values()
        self.dismiss(saved_id)

    def _ask_shared_reason(self, e: "cs.SharedPhone") -> None:
        def done(reason: str | None) -> None:
            if reason:
                self.shared_reasons[e.phone] = reason
                self.action_save()

        self.app.push_screen(PromptDialog(e.message + "\n\n" + _("To save anyway, write why they share this phone "
                                                               "(kept for periodic review):")), done)

    def action_leave(self) -> None:
        if not self.dirty():
            self.dismiss(None)
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(ConfirmDialog(_("Discard the changes on this form?"), yes=_("Discard"), no=_("Keep editing")),
                             done)


class ContactForm(BaseModal[dict | None]):
    """A letter, call, visit, email or WeChat with the customer (R-CUST-14, R-FU-6)."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog wide"):
            yield Label(_("Log a contact"), classes="box-title")
            yield Label(_("Method"))
            yield Select([(label, code) for code, label in cf.contact_methods()], id="method", allow_blank=False)
            yield Label(_("Summary *"))
            yield Input(id="summary", max_length=500)
            yield Label(_("Participants"))
            yield Input(id="participants", max_length=200)
            yield Label(_("Customer feedback"))
            yield Input(id="feedback", max_length=500)
            yield Label(_("Next action"))
            yield Input(id="next_action", max_length=200)
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#method", Select).focus()

    async def action_enter(self) -> None:
        """Enter moves on when the key arrives; in the last field it saves."""
        await enter_in(self, {**dict.fromkeys(("summary", "participants", "feedback"), self.focus_next),
                              "next_action": self.action_save})

    def action_save(self) -> None:
        summary = self.query_one("#summary", Input).value.strip()
        if not summary:
            show_field_errors(self, {"summary": _("Write a short summary of the contact.")}, widget_id=str)
            return
        self.dismiss({
            "method": str(self.query_one("#method", Select).value),
            "summary": summary,
            "participants": self.query_one("#participants", Input).value.strip(),
            "feedback": self.query_one("#feedback", Input).value.strip(),
            "next_action": self.query_one("#next_action", Input).value.strip(),
        })

    def action_cancel(self) -> None:
        self.dismiss(None)


class HandoverForm(BaseModal[tuple[str, str, str] | None]):
    """R-CUST-11: every customer of a leaving colleague moves to another, in one step."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog"):
            yield Label(_("Hand over customers"), classes="box-title")
            yield Label(_("From (user name of the colleague leaving)"))
            yield Input(id="from", max_length=40)
            yield Label(_("To (user name of the new responsible colleague)"))
            yield Input(id="to", max_length=40)
            yield Label(_("Handover note *"))
            yield Input(id="note", max_length=300)
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    async def action_enter(self) -> None:
        """Enter moves on when the key arrives; in the note it saves."""
        await enter_in(self, {"from": self.focus_next, "to": self.focus_next, "note": self.action_save})

    def action_save(self) -> None:
        v = [self.query_one(f"#{i}", Input).value.strip() for i in ("from", "to", "note")]
        if not all(v):
            show_field_errors(self, {i: _("This field is required") for i, x in zip(("from", "to", "note"), v)
                                     if not x}, widget_id=str)
            return
        self.dismiss((v[0], v[1], v[2]))

    def action_cancel(self) -> None:
        self.dismiss(None)
