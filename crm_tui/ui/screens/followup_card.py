"""One follow-up card (A卡, R-FU-1..6): the card with its visits, the card form, the visit form and
the dialog that ends a card. The queues (followups.py) and the register (register.py) open them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static, TextArea

from crm_tui.domain import followups as fd
from crm_tui.domain.errors import CrmError, ValidationError, ValidationErrors
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal, enter_in, show_field_errors
from crm_tui.ui.parts.area import AreaScreen
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


class CardFormScreen(AreaScreen[int | None]):
    """New card for a customer, or edit an open card. Ctrl+S saves all or nothing; Esc asks."""

    TITLE_MSGID = "Follow-up card form"
    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "leave", "Back"), ENTER_BINDING]

    FIELDS: tuple[tuple[str, str], ...] = (
        # (name, widget kind)
        ("owner", "owner"), ("first_reception_date", "input"), ("intent_level", "level"), ("source", "source"),
        ("product", "input"), ("configuration", "input"), ("budget", "input"), ("purchase_method", "purchase"),
        ("intended_use", "input"), ("alternatives", "input"), ("first_reception_summary", "text"),
        ("favourable", "text"), ("unfavourable", "text"), ("resources_needed", "text"), ("next_visit_plan", "text"),
    )

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
            for name, kind in self.FIELDS:
                if kind == "owner" and self.card is not None:
                    continue
                label = _(fd.CARD_FIELD_LABELS[name]) + (" *" if name in ("first_reception_date", "intent_level",
                                                                            "source", "first_reception_summary")
                                                         else "")
                with Horizontal(classes="field-row"):
                    yield Label(label, classes="field-label")
                    yield self._widget(name, kind, self.initial.get(name, ""))
                yield Static("", id=f"fld-{name}-error", classes="field-error")
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def _widget(self, name: str, kind: str, value: str) -> Widget:
        fid = f"fld-{name}"
        if kind in ("level", "source", "purchase", "owner"):
            if kind == "level":
                opts = [(label, code) for code, label in fu.level_choices(open_only=True)]
            elif kind == "source":
                opts = [(label, code) for code, label in fu.source_choices()]
            elif kind == "purchase":
                opts = [(label, code) for code, label in fu.purchase_method_choices()]
            else:
                opts = [(label, str(sid)) for sid, label in fu.consultants(self.svc, self.actor)]
                value = value or ""
            codes = {c for _l, c in opts}
            return Select(opts, value=value if value in codes else Select.NULL, id=fid, prompt=_("(choose)"),
                          compact=True)
        if kind == "text":
            return TextArea(value, id=fid, classes="multiline", compact=True)
        return Input(value, id=fid, max_length=200, compact=True,
                     placeholder="YYYY-MM-DD" if name == "first_reception_date" else "")

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
        self.query("#form-scroll Input, #form-scroll Select").first().focus()

    async def action_enter(self) -> None:
        """Enter in a one-line field moves on when the key arrives; on a list it opens the list, in a
        text box it starts a new line."""
        await enter_in(self, {f"fld-{name}": self.focus_next for name, kind in self.FIELDS if kind == "input"})

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, _kind in self.FIELDS:
            try:
                w = self.query_one(f"#fld-{name}")
            except Exception:  # noqa: BLE001 - owner is not on the edit form
                continue
            if isinstance(w, Select):
                out[name] = "" if w.value is Select.NULL else str(w.value)
            elif isinstance(w, TextArea):
                out[name] = w.text
            elif isinstance(w, Input):
                out[name] = w.value
        return out

    def dirty(self) -> bool:
        return any(v != self.saved.get(k, "") for k, v in self.values().items())

    def show_errors(self, errors: dict[str, str]) -> None:
        show_field_errors(self, errors, widget_id=lambda field: f"fld-{field}")

    def action_save(self, take_over: bool = False) -> None:
        values = self.values()
        self.query_one("#form-message", Static).update("")
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
        except ValidationErrors as e:
            self.show_errors(e.by_field())
            return
        except fu.OwnershipConflict as e:
            self._ownership(e)
            return
        except CrmError as e:
            self.query_one("#form-message", Static).update(e.message)
            return
        self.saved = self.values()
        self.dismiss(result)

    def _ownership(self, e: fu.OwnershipConflict) -> None:
        self.query_one("#form-message", Static).update(e.message)
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


class VisitForm(BaseModal[dict | None]):
    """One visit (R-FU-6): the new intent level shows the next date it sets (R-FU-3)."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]
    FIELDS = ("content", "participants", "feedback", "objections", "next_action", "at", "next_due",
              "override_reason", "lost_reason")

    def __init__(self, svc: Services, actor: Actor, card_id: int, level: str) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.card_id = card_id
        self.level = level

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="box dialog wide", id="visit-box"):
            yield Label(_("Log a visit"), classes="box-title")
            with Horizontal(classes="field-row"):
                yield Label(_("Method"), classes="field-label")
                yield Select([(label, code) for code, label in fu.visit_method_choices()], value="call",
                             allow_blank=False, id="v-method", compact=True)
            with Horizontal(classes="field-row"):
                yield Label(_("New intent level"), classes="field-label")
                yield Select([(label, code) for code, label in fu.level_choices()], value=self.level,
                             allow_blank=False, id="v-level", compact=True)
            yield Static("", id="v-next", classes="readonly")
            for fid, label in (("content", _("Content *")), ("participants", _("Participants")),
                               ("feedback", _("Customer feedback")), ("objections", _("Main objections/demands")),
                               ("next_action", _("Next action")), ("at", _("Visit time")),
                               ("next_due", _("Next visit by hand")),
                               ("override_reason", _("Reason for the date by hand")),
                               ("lost_reason", _("Reason lost (level F)"))):
                with Horizontal(classes="field-row"):
                    yield Label(label, classes="field-label")
                    yield Input(id=f"v-{fid}", max_length=500, compact=True,
                                placeholder={"at": _("now"), "next_due": "YYYY-MM-DD"}.get(fid, ""))
                yield Static("", id=f"v-{fid}-error", classes="field-error")
            yield Static("", id="v-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#v-method", Select).focus()
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

    async def action_enter(self) -> None:
        """Enter moves to the next field when the key arrives; on a list it opens the list."""
        await enter_in(self, {f"v-{fid}": self.focus_next for fid in self.FIELDS})

    def action_save(self) -> None:
        raw = {"method": str(self.query_one("#v-method", Select).value),
               "level": str(self.query_one("#v-level", Select).value)}
        for fid in self.FIELDS:
            raw[fid] = self.query_one(f"#v-{fid}", Input).value
        try:
            res = fu.log_visit(self.svc, self.actor, self.card_id, raw)
        except ValidationErrors as e:
            show_field_errors(self, e.by_field(), widget_id=lambda field: f"v-{field}", message="#v-message")
            return
        except CrmError as e:
            self.query_one("#v-message", Static).update(e.message)
            return
        if res.status != "open":
            self.app.notify(_("Visit recorded; the card is {status}.", status=_status_label(res.status)))
        else:
            self.app.notify(_("Visit recorded; next visit due {date}.",
                              date=f"{res.next_due:%Y-%m-%d}" if res.next_due else "—"))
        self.dismiss(raw)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CloseCardDialog(BaseModal[tuple[str, str] | None]):
    """Won, lost or void, with the reason. ``submit`` calls the service: a refusal stays on the
    dialog, next to its field, with what was typed."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]

    def __init__(self, submit: "Callable[[str, str], object] | None" = None) -> None:
        super().__init__()
        self.submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog"):
            yield Label(_("End the card"), classes="box-title")
            yield Select([(_status_label(s), s) for s in ("won", "lost", "void")], value="won", allow_blank=False,
                         id="c-status")
            yield Label(_("Reason (required for lost and void)"))
            yield Input(id="c-reason", max_length=500)
            yield Static("", id="c-reason-error", classes="field-error")
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#c-status", Select).focus()

    async def action_enter(self) -> None:
        """Enter in the reason saves, with all of it typed (not what had arrived when Enter did)."""
        await enter_in(self, {"c-reason": self.action_save})

    def action_save(self) -> None:
        result = (str(self.query_one("#c-status", Select).value), self.query_one("#c-reason", Input).value)
        if self.submit is not None:
            ids = {"status": "c-status", "reason": "c-reason", "status_reason": "c-reason"}
            try:
                self.submit(*result)
            except ValidationErrors as e:
                show_field_errors(self, e.by_field(), widget_id=lambda f: ids.get(f, f"c-{f}"))
                return
            except ValidationError as e:
                show_field_errors(self, {e.field: e.message}, widget_id=lambda f: ids.get(f, f"c-{f}"))
                return
            except CrmError as e:
                self.query_one("#form-message", Static).update(e.message)
                return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)
