"""One follow-up card (A卡, R-FU-1..6): the card with its visits, the card form, the visit form and
the dialog that ends a card. The queues (followups.py) and the register (register.py) open them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Header, Label, Select, Static

from crm_tui.domain import followups as fd
from crm_tui.domain.errors import CrmError
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal
from crm_tui.ui.parts.area import AreaScreen
from crm_tui.ui.parts.form import Field, FormPart
from crm_tui.ui.parts.leave import leave_form
from crm_tui.ui.parts.record import RecordScreen
from crm_tui.ui.widgets.columns import DATE, DATE_TIME, PERSON, cells, fixed_columns, widest
from crm_tui.ui.widgets.dialogs import ConfirmDialog, PromptDialog


def _status_label(code: str) -> str:
    return _(fd.CARD_STATUSES.get(code, code))


def open_visit_form(screen: Widget, svc: Services, actor: Actor, card_id: int, level: str, after) -> None:  # type: ignore[no-untyped-def]
    """Push the visit form for a card; save through the service; ``after()`` on success."""

    def done(result: dict[str, str] | None) -> None:
        if result is None:
            return
        after()

    screen.app.push_screen(VisitForm(svc, actor, card_id, level), done)


class CardDetailScreen(RecordScreen):
    """One card: its fields, next visit, review signature and every visit, newest first."""

    TITLE_MSGID = "Follow-up card"
    BINDINGS = [
        Binding("ctrl+k", "visit", "Log visit", priority=True),
        Binding("ctrl+e", "edit", "Edit"),
        Binding("ctrl+x", "close_card", "Won/lost/void"),
        Binding("ctrl+g", "sign", "Sign (supervisor)"),
        Binding("ctrl+a", "archive", "Archive"),
        Binding("ctrl+u", "reopen", "Reopen", show=False),
        Binding("escape", "app.back", "Back"),
    ]
    BODY_ID, FACTS_ID, TEXT_ID = "card-body", "card-profile", "card-text"
    HISTORY_ID, TABLE_ID, HISTORY_TITLE = "card-visits-pane", "card-visits", N_("Visit records")
    GROUP = "card-detail"
    view: fu.CardView | None

    card_id = property(lambda self: self.record_id)  # what the tests and the actions call it

    def columns(self, table: DataTable) -> None:  # type: ignore[type-arg]
        methods = widest(o.label for o in fd.load_policy().visit_methods.values())
        # the content (a paragraph, with the objections) last, so the other columns stay on screen
        fixed_columns(table, (_("Time"), DATE_TIME), (_("Method"), methods), (_("Level"), 4), (_("Next visit"), DATE),
                      (_("Staff"), PERSON), (_("Content"), 120))

    def read_record(self) -> fu.CardView:
        return fu.get_card(self.svc, self.actor, self.card_id)

    def subtitle(self, view: fu.CardView) -> str:
        return f"{view.number} {view.customer}"

    def facts(self, view: fu.CardView) -> str:
        return card_text(view)

    def history(self, view: fu.CardView) -> Iterator[list]:  # type: ignore[type-arg]
        for v in view.visits:
            content = v.content
            if v.objections:
                content += " / " + _("Objections: {text}", text=v.objections)
            level = v.level_after if v.level_after == v.level_before else f"{v.level_before}→{v.level_after}"
            yield cells(f"{v.at:%Y-%m-%d %H:%M}", fu.method_label(v.method), level,
                        f"{v.next_due:%Y-%m-%d}" if v.next_due else "—", v.staff, content)

    def action_visit(self) -> None:
        if self.view:
            open_visit_form(self, self.svc, self.actor, self.card_id, self.view.values["intent_level"], self.load)

    def action_edit(self) -> None:
        if self.view:
            self.app.push_screen(CardFormScreen(self.svc, self.actor, card=self.view), lambda _id: self.load())

    def action_close_card(self) -> None:
        def done(result: tuple[str, str] | None) -> None:
            if not result:
                return
            self.notify(_("Card {status}.", status=_status_label(result[0])))
            self.load()

        self.app.push_screen(CloseCardDialog(lambda status, reason: fu.close_card(
            self.svc, self.actor, self.card_id, status, reason)), done)

    def action_sign(self) -> None:
        self.prompt_step(_("Supervisor review: your comment"),
                         lambda comment: fu.sign_review(self.svc, self.actor, self.card_id, comment), _("Card signed."))

    def action_reopen(self) -> None:
        self.prompt_step(_("Reopen the lost card: why did the customer come back?"),
                         lambda reason: fu.reopen_card(self.svc, self.actor, self.card_id, reason))

    def action_archive(self) -> None:
        from crm_tui.ui.screens.customers import CustomerDetailScreen

        if self.view:
            self.app.push_screen(CustomerDetailScreen(self.svc, self.actor, self.view.customer_id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("sign", "reopen"):
            return self.actor.can("followup.supervise")
        if action in ("visit", "edit", "close_card"):
            return self.actor.can("followup.edit")
        return True


def card_text(view: fu.CardView) -> str:
    from rich.markup import escape

    lines = [f"[b]{escape(view.number)}[/b]  {escape(view.customer)} ({escape(view.customer_number)})",
             f"{_('Status')}: {_status_label(view.status)}"
             + (f" — {escape(view.status_reason)}" if view.status_reason else ""),
             f"{_('Consultant')}: {escape(view.owner)}"]
    if view.status == "open":
        due = f"{view.next_due:%Y-%m-%d}{holidays.mark(view.next_due)}" if view.next_due else "—"
        mark = "  [b red]" + _("Overdue") + "[/]" if view.overdue else ""
        lines.append(f"{_('Next visit')}: {due}{mark}"
                     + (f" ({_('set by hand')}: {escape(view.next_due_reason)})" if view.next_due_reason else ""))
    if view.reviewed_at:
        lines.append(f"{_('Supervisor review')}: {escape(view.reviewed_by)} {view.reviewed_at:%Y-%m-%d} — "
                     f"{escape(view.review_comment)}")
    else:
        late = "  [b red]" + _("late") + "[/]" if view.review_late else ""
        lines.append(f"{_('Supervisor review')}: {_('not signed yet, due {date}', date=f'{view.review_due:%Y-%m-%d}')}"
                     f"{late}")
    lines.append("")
    for name in ("card_date", "first_reception_date", "intent_level", "source", "product", "configuration",
                 "budget", "purchase_method", "intended_use", "alternatives", "first_reception_summary",
                 "favourable", "unfavourable", "resources_needed", "next_visit_plan"):
        v = view.values.get(name)
        if v in (None, ""):
            continue
        if name == "intent_level":
            text = fd.level_label(v)
        elif name == "source":
            text = fu.source_label(v)
        elif name == "purchase_method":
            opt = fd.load_policy().purchase_methods.get(v)
            text = opt.label if opt else v
        else:
            text = v.isoformat() if isinstance(v, date) else str(v)
        lines.append(f"[dim]{_(fd.CARD_FIELD_LABELS.get(name, name))}[/]: {escape(text)}")
    return "\n".join(lines)


class CardFormScreen(FormPart, AreaScreen[int | None]):
    """New card for a customer, or edit an open card. Ctrl+S saves all or nothing; Esc asks."""

    TITLE_MSGID = "Follow-up card form"
    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "leave", "Back"), ENTER_BINDING]
    FORM_LAYOUT = "rows"
    FIELD_ID = staticmethod(lambda name: f"fld-{name}")

    FIELDS: tuple[tuple[str, str], ...] = (
        # (name, widget kind)
        ("owner", "owner"), ("first_reception_date", "input"), ("intent_level", "level"), ("source", "source"),
        ("product", "input"), ("configuration", "input"), ("budget", "input"), ("purchase_method", "purchase"),
        ("intended_use", "input"), ("alternatives", "input"), ("first_reception_summary", "text"),
        ("favourable", "text"), ("unfavourable", "text"), ("resources_needed", "text"), ("next_visit_plan", "text"),
    )
    REQUIRED = ("first_reception_date", "intent_level", "source", "first_reception_summary")

    def __init__(self, svc: Services, actor: Actor, *, customer_id: int | None = None,
                 card: fu.CardView | None = None, initial: dict[str, str] | None = None) -> None:
        super().__init__(svc, actor)
        self.customer_id = customer_id if card is None else card.customer_id
        self.card = card
        me = {} if "front_desk" in actor.roles else {"owner": str(actor.staff_id)}  # blank: the customer's owner
        self.initial = dict(card.form_values()) if card else {"first_reception_date": svc.now().date().isoformat(),
                                                              "intent_level": "N", **me, **(initial or {})}
        self.saved = dict(self.initial)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form-scroll"):
            yield from self.compose_fields([self._field(name, kind) for name, kind in self.FIELDS
                                            if not (kind == "owner" and self.card is not None)])
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def _choices(self, kind: str) -> list[tuple[str, str]]:
        if kind == "level":
            return [(label, code) for code, label in fu.level_choices(open_only=True)]
        if kind == "source":
            return [(label, code) for code, label in fu.source_choices()]
        if kind == "purchase":
            return [(label, code) for code, label in fu.purchase_method_choices()]
        return [(label, str(sid)) for sid, label in fu.consultants(self.svc, self.actor)]

    def _field(self, name: str, kind: str) -> Field:
        common = {"label": _(fd.CARD_FIELD_LABELS[name]), "value": self.initial.get(name, ""), "compact": True,
                  "required": name in self.REQUIRED, "error": True, "id": f"fld-{name}"}
        if kind in ("level", "source", "purchase", "owner"):
            return Field(name, kind="select", choices=self._choices(kind), prompt=_("(choose)"), **common)
        if kind == "text":
            return Field(name, kind="text", classes="multiline", **common)
        return Field(name, placeholder="YYYY-MM-DD" if name == "first_reception_date" else "", enter="next", **common)

    def on_mount(self) -> None:
        super().on_mount()
        if self.card:
            self.sub_title = f"{self.card.number} {self.card.customer}"
        elif self.customer_id is not None:
            try:
                view = cs.get_customer(self.svc, self.actor, self.customer_id, purpose="ref")
                self.sub_title = f"{view.number} {view.name}"
            except CrmError:
                pass
        self.focus_first_field()

    def values(self) -> dict[str, str]:
        return self.form_values()

    def dirty(self) -> bool:
        return any(v != self.saved.get(k, "") for k, v in self.values().items())

    def action_save(self, take_over: bool = False) -> None:
        values = self.values()
        self.say("")
        try:
            if self.card is None:
                assert self.customer_id is not None
                owner = values.pop("owner", "")
                ref = fu.create_card(self.svc, self.actor, self.customer_id, values, owner=owner, take_over=take_over)
                self.app.notify(_("Card {number} opened.", number=ref.number))
                result = ref.id
            else:
                changed = {k: v for k, v in values.items() if v != self.saved.get(k, "")}
                fu.update_card(self.svc, self.actor, self.card.id, changed, expected_version=self.card.version)
                self.app.notify(_("Saved."))
                result = self.card.id
        except fu.OwnershipConflict as e:
            self._ownership(e)
            return
        except CrmError as e:
            self.show_refusal(e)
            return
        self.saved = self.values()
        self.dismiss(result)

    def _ownership(self, e: fu.OwnershipConflict) -> None:
        self.say(e.message)
        if self.actor.can("followup.supervise"):
            def decide(yes: bool | None) -> None:
                if yes:
                    self.action_save(take_over=True)

            self.app.push_screen(ConfirmDialog(e.message + "\n\n" + _("As a supervisor, move the customer to the "
                                                                   "chosen consultant?")), decide)
            return

        def reason(text: str | None) -> None:
            if not text:
                return
            try:
                fu.claim_customer(self.svc, self.actor, e.customer_id, text)
            except CrmError as err:
                self.notify(err.message, severity="error")
                return
            self.app.notify(_("Claim filed; a supervisor will decide."))

        self.app.push_screen(PromptDialog(e.message + "\n\n" + _("To file a claim, write why you should follow "
                                                               "this customer up:")), reason)

    def action_leave(self) -> None:
        leave_form(self, self.dirty(), lambda: self.dismiss(None))


class VisitForm(FormPart, BaseModal[dict | None]):
    """One visit (R-FU-6): the new intent level shows the next date it sets (R-FU-3)."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]
    FIELDS = ("content", "participants", "feedback", "objections", "next_action", "at", "next_due",
              "override_reason", "lost_reason")
    FORM_LAYOUT = "rows"
    FIELD_ID = staticmethod(lambda name: f"v-{name}")
    FORM_MESSAGE = "#v-message"

    def __init__(self, svc: Services, actor: Actor, card_id: int, level: str) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.card_id = card_id
        self.level = level

    def compose(self) -> ComposeResult:
        labels = {"content": _("Content *"), "participants": _("Participants"), "feedback": _("Customer feedback"),
                  "objections": _("Main objections/demands"), "next_action": _("Next action"),
                  "at": _("Visit time"), "next_due": _("Next visit by hand"),
                  "override_reason": _("Reason for the date by hand"), "lost_reason": _("Reason lost (level F)")}
        placeholders = {"at": _("now"), "next_due": "YYYY-MM-DD"}
        with VerticalScroll(classes="box dialog wide", id="visit-box"):
            yield Label(_("Log a visit"), classes="box-title")
            yield from self.compose_fields([
                Field("method", _("Method"), "select", value="call", allow_blank=False, compact=True, id="v-method",
                      choices=[(label, code) for code, label in fu.visit_method_choices()]),
                Field("level", _("New intent level"), "select", value=self.level, allow_blank=False, compact=True,
                      id="v-level", choices=[(label, code) for code, label in fu.level_choices()]),
                Static("", id="v-next", classes="readonly"),
                *(Field(fid, labels[fid], max_length=500, compact=True, placeholder=placeholders.get(fid, ""),
                        error=True, enter="next", id=f"v-{fid}") for fid in self.FIELDS),
            ])
            yield Static("", id="v-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        self.focus_first_field()
        self._preview()

    @on(Select.Changed, "#v-level")
    def _preview(self) -> None:
        level = self.query_one("#v-level", Select).value
        lvl = fd.load_policy().levels.get(str(level))
        if lvl and lvl.ends:
            text = _("This ends the card: {status}", status=_status_label(lvl.ends))
        else:
            due = fu.preview_next_due(self.svc, str(level))
            text = _("Next visit due {date}", date=f"{due:%Y-%m-%d}") if due else ""
        self.query_one("#v-next", Static).update(text)

    def action_save(self) -> None:
        raw = self.form_values()
        try:
            res = fu.log_visit(self.svc, self.actor, self.card_id, raw)
        except CrmError as e:
            self.show_refusal(e)
            return
        if res.status != "open":
            self.app.notify(_("Visit recorded; the card is {status}.", status=_status_label(res.status)))
        else:
            self.app.notify(_("Visit recorded; next visit due {date}.",
                              date=f"{res.next_due:%Y-%m-%d}" if res.next_due else "—"))
        self.dismiss(raw)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CloseCardDialog(FormPart, BaseModal[tuple[str, str] | None]):
    """Won, lost or void, with the reason. ``submit`` calls the service: a refusal stays on the
    dialog, next to its field, with what was typed."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]
    FIELD_ID = staticmethod(lambda name: {"status_reason": "c-reason"}.get(name, f"c-{name}"))

    def __init__(self, submit: "Callable[[str, str], object] | None" = None) -> None:
        super().__init__()
        self.submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog"):
            yield Label(_("End the card"), classes="box-title")
            yield from self.compose_fields([
                Field("status", kind="select", value="won", allow_blank=False, id="c-status",
                      choices=[(_status_label(s), s) for s in ("won", "lost", "void")]),
                Field("reason", _("Reason (required for lost and void)"), max_length=500, error=True, enter="save",
                      id="c-reason"),
            ])
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        self.focus_first_field()

    def action_save(self) -> None:
        v = self.form_values()
        result = (v["status"], v["reason"])
        if self.submit is not None:
            try:
                self.submit(*result)
            except CrmError as e:
                self.show_refusal(e)
                return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)
