"""The archive form (keyboard only: Tab order follows the paper form, Enter moves on, Ctrl+S saves
everything or nothing, Esc asks before discarding) and the small contact and handover forms."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Label, Select, Static

from crm_tui.domain.errors import CrmError, ValidationErrors
from crm_tui.i18n import _
from crm_tui.services import customer_forms as cf
from crm_tui.services import customers as cs
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal, BaseScreen
from crm_tui.ui.parts.form import Field, FormPart, Section, read_widget
from crm_tui.ui.widgets.dialogs import ConfirmDialog, PromptDialog


def _ids(values: object) -> str:
    """Staff ids in one order, so an untouched list of staff in contact is not a change."""
    return " ".join(sorted((str(v) for v in values), key=int))  # type: ignore[attr-defined]


def _field_id(name: str) -> str:
    return "fld-" + name.replace(".", "-")


class CustomerFormScreen(FormPart, BaseScreen[int | None]):
    """New archive (``customer_id`` None) or edit. Dismisses with the customer id when saved."""

    TITLE_MSGID = "Customer form"
    FORM_LAYOUT = "rows"
    FIELD_ID = staticmethod(_field_id)  # a refused field the form does not list (another kind's)
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
            yield from self.compose_fields(self.form_spec())
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def form_spec(self) -> list[Field | Section]:
        """The archive's fields by section, as the paper form has them (services/customer_forms.py),
        then the consent asked with a new archive, or the change told to the customer on an edit."""
        spec: list[Field | Section] = []
        for section, fields in cf.form_layout(self.kind, phones_editable=self.phones_editable):
            spec.append(Section(_(section)))
            spec.extend(self._field(f, self.initial.get(f.name, "")) for f in fields)
        if self.customer_id is None:
            spec += [
                Section(_("Consent (R-CUST-6)")),
                Field("consent-basic", _("Customer agreed to the stated purpose of collection"), "check", compact=True),
                Field("consent-sensitive", _("Explicit consent for sensitive items (ID number, bank account)"), "check",
                      compact=True),
                Field("consent-marketing", _("Agreed to marketing contact"), "check", compact=True),
                Field("consent_purpose", _("Purpose told to the customer"), id="fld-consent_purpose", compact=True,
                      placeholder=_("e.g. car purchase and after-sales service"), error=True, enter="next"),
                Field("consent_method", _("How the consent was given"), "select", id="fld-consent_method",
                      choices=[(label, code) for code, label in cf.consent_methods()], prompt=_("(choose)"),
                      compact=True, error=True),
            ]
        else:
            spec.append(Field("informed", _("The customer was told of this change and consented"), "check",
                              compact=True))
        return spec

    def _field(self, f: "cf.FormField", value: str) -> Field:
        """One archive field: the owner and the staff in contact by name (Space ticks a colleague), a
        list of the policy's choices, several lines, shown only, or one line."""
        common: dict[str, Any] = {"label": _(f.label), "required": f.required, "id": _field_id(f.name),
                                  "compact": True, "error": True, "value": value}
        if f.name == "owner" and not f.readonly:
            staff = [(name, str(sid)) for sid, name in cf.owner_choices(self.svc)]
            return Field(f.name, kind="select", choices=staff, prompt=_("(choose)"), **common)
        if f.name == "staff_contacts" and not f.readonly:
            staff = [(name, str(sid)) for sid, name in cf.owner_choices(self.svc)]
            # a short list that scrolls, not a page of names
            return Field(f.name, kind="ticks", choices=staff, height=min(len(staff), 6) or 1,
                         **{**common, "value": value.split()})
        if f.choices:  # policy labels pass through unchanged
            return Field(f.name, kind="select", choices=[(_(lbl), code) for code, lbl in f.choices],
                         prompt=_("(choose)"), **common)
        if f.multiline:
            return Field(f.name, kind="text", classes="multiline", **common)
        if f.readonly:
            return Field(f.name, kind="readonly", **common)
        return Field(f.name, max_length=f.max_length or 200, enter="next", **common)

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

    # Enter in a one-line field moves on when the key arrives, with what was typed before it in the
    # field (fast typing after Enter lands in the next field); elsewhere Enter does what the widget
    # does (open a list, new line): FormPart.action_enter, every one-line field listed with enter="next".

    def values(self) -> dict[str, str]:
        """The archive's values (of this kind's fields; during a kind switch, those the form shows)."""
        out: dict[str, str] = {}
        for _section, fields in cf.form_layout(self.kind, phones_editable=self.phones_editable):
            for f in fields:
                w = None if f.readonly else self.widget_of(f.name)
                value = None if w is None else read_widget(w)
                if isinstance(value, list):  # staff ids in the list's order, as form_values gives them
                    out[f.name] = _ids(value)
                elif value is not None:
                    out[f.name] = value
        return out

    def dirty(self) -> bool:
        return any(v != self.saved.get(k, "") for k, v in self.values().items())

    def action_save(self) -> None:
        values = self.values()
        self.query_one("#form-message", Static).update("")
        try:
            if self.customer_id is None:
                asked = self.form_values(("consent-basic", "consent-sensitive", "consent-marketing",
                                          "consent_purpose", "consent_method"))
                consents = [scope for scope in ("basic", "sensitive", "marketing") if asked[f"consent-{scope}"]]
                ref = cf.save_new(self.svc, self.actor, self.kind, values, consents, self.shared_reasons,
                                  purpose=asked["consent_purpose"], method=asked["consent_method"])
                saved_id = ref.id
                self.app.notify(_("Archive {number} created.", number=ref.number))
            else:
                assert self.version is not None
                self.version = cf.save_edit(self.svc, self.actor, self.customer_id, values, self.saved,
                                            self.version, informed=self.form_values(("informed",))["informed"],
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
                if yes:  # the app opens it: the archive screen imports this form
                    self.app.open_archive(self.svc, self.actor, e.existing_id)  # type: ignore[attr-defined]

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


class ContactForm(FormPart, BaseModal[dict | None]):
    """A letter, call, visit, email or WeChat with the customer (R-CUST-14, R-FU-6)."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog wide"):
            yield Label(_("Log a contact"), classes="box-title")
            yield from self.compose_fields([
                Field("method", _("Method"), "select", choices=[(label, code) for code, label in cf.contact_methods()],
                      allow_blank=False, focus=True),
                Field("summary", _("Summary *"), max_length=500, enter="next"),
                Field("participants", _("Participants"), max_length=200, enter="next"),
                Field("feedback", _("Customer feedback"), max_length=500, enter="next"),
                Field("next_action", _("Next action"), max_length=200, enter="save"),  # the last field saves
            ])
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        self.focus_first_field()

    def action_save(self) -> None:
        v = self.form_values()
        summary = v["summary"].strip()
        if not summary:
            self.show_errors({"summary": _("Write a short summary of the contact.")})
            return
        self.dismiss({"method": v["method"], "summary": summary,
                      **{k: v[k].strip() for k in ("participants", "feedback", "next_action")}})

    def action_cancel(self) -> None:
        self.dismiss(None)


class HandoverForm(FormPart, BaseModal[tuple[str, str, str] | None]):
    """R-CUST-11: every customer of a leaving colleague moves to another, in one step."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog"):
            yield Label(_("Hand over customers"), classes="box-title")
            yield from self.compose_fields([
                Field("from", _("From (user name of the colleague leaving)"), max_length=40, enter="next"),
                Field("to", _("To (user name of the new responsible colleague)"), max_length=40, enter="next"),
                Field("note", _("Handover note *"), max_length=300, enter="save"),  # the last field saves
            ])
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def action_save(self) -> None:
        v = {name: value.strip() for name, value in self.form_values().items()}
        if not all(v.values()):
            self.show_errors({name: _("This field is required") for name, value in v.items() if not value})
            return
        self.dismiss((v["from"], v["to"], v["note"]))

    def action_cancel(self) -> None:
        self.dismiss(None)
