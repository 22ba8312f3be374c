"""Follow-up cards (A卡): the queues (due today, overdue, this week, ...), a card with its visits,
the card form, the visit form, the weekly review and the ownership claims (issue 6, R-FU-1..6).

Lists are fetched one page at a time in thread workers (keyset paging); the next page is asked
for when the cursor nears the bottom.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static, TextArea

from crm_tui.domain import followups as fd
from crm_tui.domain.errors import CrmError, ValidationError, ValidationErrors
from crm_tui.i18n import _
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal, BaseScreen, enter_in, show_field_errors, until
from crm_tui.ui.widgets.columns import (CUSTOMER_NUMBER, DATE, DATE_TIME, PERSON, PHONE, SIDE_BY_SIDE, cells,
                                        fixed_columns, widest)
from crm_tui.ui.widgets.dialogs import ConfirmDialog, PromptDialog

PAGE = 100
MAX_ROWS = 1000
QUEUE_KEYS = ("today", "overdue", "week", "open", "review", "closed")


def _status_label(code: str) -> str:
    return _(fd.CARD_STATUSES.get(code, code))


def _due_text(row_due: date | None, overdue: bool) -> str:
    if row_due is None:
        return "—"
    return (f"! {row_due:%m-%d}" if overdue else f"  {row_due:%m-%d}") + holidays.mark(row_due)


class FollowupsScreen(BaseScreen[None]):
    """F3: the consultant's queues; supervisors pick a consultant or see everyone's."""

    TITLE_MSGID = "Follow-up cards"
    BINDINGS = [
        Binding("1", "queue('today')", "Due today"),
        Binding("2", "queue('overdue')", "Overdue visits"),
        Binding("3", "queue('week')", "This week"),
        Binding("4", "queue('open')", "All open", show=False),
        Binding("5", "queue('review')", "To sign", show=False),
        Binding("6", "queue('closed')", "Closed cards", show=False),
        Binding("enter", "open", "Open", show=False),
        Binding("ctrl+n", "new", "New card", priority=True),
        Binding("ctrl+k", "visit", "Log visit", priority=True),
        Binding("ctrl+r", "register", "Register"),
        Binding("ctrl+w", "review", "Weekly review", show=False),
        Binding("ctrl+o", "claims", "Ownership claims", show=False),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor, which: str | None = None) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.supervisor = actor.can("followup.supervise")
        self.which = which or ("overdue" if fu.has_overdue(svc, actor) else "week")
        self.owner_id: int | None = None if self.supervisor else actor.staff_id
        self.rows: list[fu.CardRow] = []
        self.next_cursor: str | None = None
        self.seq = 0
        self.loading_more = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="fu-bar"):
            yield Static("", id="fu-queues")
            if self.supervisor:
                opts = [(_("Everyone"), 0)] + [(name, sid) for sid, name in fu.consultants(self.svc, self.actor)]
                yield Select(opts, value=0, allow_blank=False, id="fu-owner", compact=True)
        yield DataTable(id="fu-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="fu-status", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        due = max(len("! 11-23"), widest(_(label) for label in fd.CARD_STATUSES.values()))
        # the product (free text) last, so the consultant and the signature stay on screen
        fixed_columns(table, (_("Next visit"), due), (_("Card"), 11), (_("Customer"), 16), (_("Level"), 2),
                      (_("Consultant"), PERSON), (_("Signed"), 1), (_("Product of interest"), 30))
        table.focus()
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload(keep=True)

    def _bar(self) -> None:
        keys = [k for k in QUEUE_KEYS if self.supervisor or k != "review"]
        parts = []
        for i, k in enumerate(QUEUE_KEYS, start=1):
            if k not in keys:
                continue
            label = f"{i} {_(fu.QUEUES[k])}"
            parts.append((f"[reverse] {label} [/]" if k == self.which else f" {label} ", cell_len(label) + 2))
        # Broken into lines between queues, never inside one ('5' / '待审核签字'): at 80 columns a
        # supervisor's bar, beside the consultant picker, takes two lines.
        room = max(20, self.app.size.width - (25 if self.supervisor else 0))
        lines: list[list[str]] = [[]]
        used = 0
        for markup, width in parts:
            if lines[-1] and used + 1 + width > room:
                lines.append([])
                used = 0
            used += width + (1 if lines[-1] else 0)
            lines[-1].append(markup)
        self.query_one("#fu-queues", Static).update("\n".join(" ".join(line) for line in lines))

    def on_resize(self) -> None:
        self._bar()

    def action_queue(self, which: str) -> None:
        if which == "review" and not self.supervisor:
            return
        self.which = which
        self.reload()

    @on(Select.Changed, "#fu-owner")
    def _owner(self, event: Select.Changed) -> None:
        self.owner_id = int(event.value) or None if event.value is not Select.NULL else None  # type: ignore[arg-type]
        self.reload()

    def reload(self, keep: bool = False) -> None:
        self._bar()
        self.seq += 1
        self.fetch(self.which, self.owner_id, None, self.seq, keep)

    def fetch(self, which: str, owner_id: int | None, cursor: str | None, seq: int, keep: bool = False) -> None:
        self.run_loader(fu.queue, self.svc, self.actor, which, owner_id=owner_id, cursor=cursor, limit=PAGE,
                        on_result=lambda page: self._show(page, cursor is not None, seq, keep),
                        on_error=lambda e: self._error(e.message), group="fu-queue")

    def _error(self, message: str) -> None:
        self.query_one("#fu-status", Static).update(message)
        self.loading_more = False

    def _show(self, page: fu.CardPage, append: bool, seq: int, keep: bool) -> None:
        if seq != self.seq:
            return
        table = self.query_one(DataTable)
        before = table.cursor_row
        holidays.work_calendar(self.svc)  # fresh for the ≈ marks
        if append and len(self.rows) + len(page.rows) > MAX_ROWS:
            append = False
        with self.app.batch_update():
            if not append:
                table.clear()
                self.rows = []
            for r in page.rows:
                self.rows.append(r)
                due = _due_text(r.next_due, r.overdue) if r.status == "open" else _status_label(r.status)
                table.add_row(*cells(due, r.number, r.customer, r.level, r.owner, "✓" if r.reviewed else "",
                                     r.product), key=str(r.id))
            if keep and self.rows:
                table.move_cursor(row=min(before, len(self.rows) - 1))
        self.next_cursor = page.next_cursor
        self.loading_more = False
        if not self.rows:
            text = _("Nothing in this queue.")
        else:
            text = _("{count} card(s)", count=len(self.rows)) + ("  " + _("(more below)") if page.next_cursor else "")
            if any(holidays.mark(r.next_due) for r in self.rows):
                text += "   " + _(holidays.MARK_LEGEND)
        self.query_one("#fu-status", Static).update(text)

    @on(DataTable.RowHighlighted, "#fu-table")
    def _more(self, event: DataTable.RowHighlighted) -> None:
        if self.next_cursor and not self.loading_more and event.cursor_row >= len(self.rows) - 5:
            self.loading_more = True
            self.fetch(self.which, self.owner_id, self.next_cursor, self.seq)

    def current(self) -> fu.CardRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    @on(DataTable.RowSelected, "#fu-table")
    def action_open(self) -> None:
        row = self.current()
        if row:
            self.app.push_screen(CardDetailScreen(self.svc, self.actor, row.id))

    def action_visit(self) -> None:
        row = self.current()
        if row:
            open_visit_form(self, self.svc, self.actor, row.id, row.level, lambda: self.reload(keep=True))

    def action_new(self) -> None:
        def picked(customer_id: int | None) -> None:
            if customer_id:
                self.app.push_screen(CardFormScreen(self.svc, self.actor, customer_id=customer_id), self._saved)

        self.app.push_screen(CustomerPickerScreen(self.svc, self.actor), picked)

    def _saved(self, card_id: int | None) -> None:
        if card_id:
            self.app.push_screen(CardDetailScreen(self.svc, self.actor, card_id))

    def action_register(self) -> None:
        from crm_tui.ui.screens.register import RegisterScreen

        self.app.push_screen(RegisterScreen(self.svc, self.actor))

    def action_review(self) -> None:
        if self.supervisor:
            self.app.push_screen(WeeklyReviewScreen(self.svc, self.actor))

    def action_claims(self) -> None:
        if self.supervisor:
            self.app.push_screen(ClaimsScreen(self.svc, self.actor))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("review", "claims"):
            return self.supervisor
        if action == "register":
            return self.actor.can("register.use") or self.actor.can("register.supervise")
        if action in ("new", "visit"):  # a visit is logged by those who work on cards
            return self.actor.can("followup.edit")
        return True

    def palette_commands(self) -> list[tuple[str, str, str]]:
        cmds = [(_(fu.QUEUES[k]), _("Follow-up cards"), f"screen.queue('{k}')") for k in QUEUE_KEYS
                if self.supervisor or k != "review"]
        if self.actor.can("register.use") or self.actor.can("register.supervise"):
            cmds.append((_("Front-desk register"), _("Walk-ins and calls, one line each"), "screen.register"))
        if self.supervisor:
            cmds.append((_("Weekly review"), _("By intent level and consultant; conversion by source"),
                         "screen.review"))
            cmds.append((_("Ownership claims"), _("Decide who follows a customer up"), "screen.claims"))
        return cmds


def open_visit_form(screen: Widget, svc: Services, actor: Actor, card_id: int, level: str, after) -> None:  # type: ignore[no-untyped-def]
    """Push the visit form for a card; save through the service; ``after()`` on success."""

    def done(result: dict[str, str] | None) -> None:
        if result is None:
            return
        after()

    screen.app.push_screen(VisitForm(svc, actor, card_id, level), done)


class CardDetailScreen(BaseScreen[None]):
    """One card: its fields, next visit, review signature and every visit, newest first."""

    TITLE_MSGID = "Follow-up card"
    HORIZONTAL_BREAKPOINTS = SIDE_BY_SIDE  # narrower: the card above its visits
    BINDINGS = [
        Binding("ctrl+k", "visit", "Log visit", priority=True),
        Binding("ctrl+e", "edit", "Edit"),
        Binding("ctrl+x", "close_card", "Won/lost/void"),
        Binding("ctrl+g", "sign", "Sign (supervisor)"),
        Binding("ctrl+a", "archive", "Archive"),
        Binding("ctrl+u", "reopen", "Reopen", show=False),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor, card_id: int) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.card_id = card_id
        self.view: fu.CardView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="card-body"):
            with VerticalScroll(id="card-profile"):
                yield Static("", id="card-text")
            with Vertical(id="card-visits-pane"):
                yield Label(_("Visit records"), classes="section")
                yield DataTable(id="card-visits", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#card-visits", DataTable)
        methods = widest(o.label for o in fd.load_policy().visit_methods.values())
        # the content (a paragraph, with the objections) last, so the other columns stay on screen
        fixed_columns(table, (_("Time"), DATE_TIME), (_("Method"), methods), (_("Level"), 4), (_("Next visit"), DATE),
                      (_("Staff"), PERSON), (_("Content"), 120))
        table.focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def load(self) -> None:
        self.run_loader(fu.get_card, self.svc, self.actor, self.card_id, on_result=self._show, group="card-detail")

    def _show(self, view: fu.CardView) -> None:
        self.view = view
        self.sub_title = f"{view.number} {view.customer}"
        holidays.work_calendar(self.svc)  # fresh for the ≈ marks
        self.query_one("#card-text", Static).update(card_text(view))
        table = self.query_one("#card-visits", DataTable)
        with self.app.batch_update():
            table.clear()
            for v in view.visits:
                content = v.content
                if v.objections:
                    content += " / " + _("Objections: {text}", text=v.objections)
                level = v.level_after if v.level_after == v.level_before else f"{v.level_before}→{v.level_after}"
                table.add_row(*cells(f"{v.at:%Y-%m-%d %H:%M}", fu.method_label(v.method), level,
                                     f"{v.next_due:%Y-%m-%d}" if v.next_due else "—", v.staff, content))

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
        def done(comment: str | None) -> None:
            if not comment:
                return
            try:
                fu.sign_review(self.svc, self.actor, self.card_id, comment)
            except CrmError as e:
                self.notify(e.message, severity="error")
                return
            self.notify(_("Card signed."))
            self.load()

        self.app.push_screen(PromptDialog(_("Supervisor review: your comment")), done)

    def action_reopen(self) -> None:
        def done(reason: str | None) -> None:
            if not reason:
                return
            try:
                fu.reopen_card(self.svc, self.actor, self.card_id, reason)
            except CrmError as e:
                self.notify(e.message, severity="error")
                return
            self.load()

        self.app.push_screen(PromptDialog(_("Reopen the lost card: why did the customer come back?")), done)

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


class CardFormScreen(BaseScreen[int | None]):
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
        super().__init__()
        self.svc = svc
        self.actor = actor
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
        if not self.dirty():
            self.dismiss(None)
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(ConfirmDialog(_("Discard the changes on this form?"), yes=_("Discard"),
                                           no=_("Keep editing")), done)


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


class CustomerPickerScreen(BaseModal[int | None]):
    """Pick the archive for a new card with the archive search, or create one (Ctrl+N)."""

    BINDINGS = [Binding("ctrl+n", "new", "New archive", priority=True), Binding("escape", "cancel", "Cancel"),
                ENTER_BINDING]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.rows: list[cs.CustomerRow] = []
        self.rows_for: str | None = None  # the query whose results are listed
        self.seq = 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog wide", id="picker-box"):
            yield Label(_("Which customer? Type a name, pinyin initials or phone digits"), classes="box-title")
            yield Input(id="pick-q", max_length=60)
            yield DataTable(id="pick-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        fixed_columns(self.query_one(DataTable), (_("Number"), CUSTOMER_NUMBER), (_("Name"), 20), (_("Phone"), PHONE),
                      (_("Owner"), PERSON))
        self.query_one("#pick-q", Input).focus()
        self.search("")

    @on(Input.Changed, "#pick-q")
    def _changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    def search(self, q: str) -> None:
        self.seq += 1
        self._fetch(q, self.seq)

    def _fetch(self, q: str, seq: int) -> None:
        self.run_loader(cs.search, self.svc, self.actor, q, limit=20, on_result=lambda page: self._show(page.rows, seq, q),
                        group="fu-pick")

    def _show(self, rows: list[cs.CustomerRow], seq: int, q: str) -> None:
        if seq != self.seq:
            return
        self.rows = rows
        self.rows_for = q
        table = self.query_one(DataTable)
        table.clear()
        for r in rows:
            table.add_row(*cells(r.number, r.name, r.phone, r.owner), key=str(r.id))

    async def action_enter(self) -> None:
        """Enter in the search box goes to the results of what it holds (waiting for them if the
        search is still running), so an Enter typed right after picks from those results."""
        await enter_in(self, {"pick-q": self._to_table})

    async def _to_table(self) -> None:
        box = self.query_one("#pick-q", Input)
        await until(lambda: self.rows_for == box.value)
        if len(self.rows) == 1 and box.value.strip():  # the only match: Enter picks it
            self.dismiss(self.rows[0].id)
        elif self.rows:
            self.set_focus(self.query_one(DataTable))

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key == "down" and self.focused is self.query_one("#pick-q", Input) and self.rows:
            self.query_one(DataTable).focus()
            event.stop()

    @on(DataTable.RowSelected, "#pick-table")
    def _pick(self, event: DataTable.RowSelected) -> None:
        self.dismiss(int(str(event.row_key.value)))

    def action_new(self) -> None:
        from crm_tui.ui.screens.customer_form import CustomerFormScreen

        def created(customer_id: int | None) -> None:
            if customer_id:
                self.dismiss(customer_id)

        self.app.push_screen(CustomerFormScreen(self.svc, self.actor, None), created)

    def action_cancel(self) -> None:
        self.dismiss(None)


class WeeklyReviewScreen(BaseScreen[None]):
    """定期盘点 (R-FU-5): open cards by intent level and consultant, the week's new cards and
    visits, overdue rate; conversion by information source. Ctrl+X exports to XLSX."""

    TITLE_MSGID = "Weekly review"
    BINDINGS = [
        Binding("p", "week(-7)", "Previous week"),
        Binding("n", "week(7)", "Next week"),
        Binding("ctrl+x", "export", "Export XLSX"),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.day = svc.now().date()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="rv-week", classes="section")
        yield DataTable(id="rv-staff", cursor_type="row", zebra_stripes=True)
        yield Label(_("Conversion by information source"), classes="section")
        yield DataTable(id="rv-source", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#rv-staff", DataTable).focus()
        self.load()

    def action_week(self, days: int) -> None:
        from datetime import timedelta

        self.day += timedelta(days=days)
        self.load()

    def load(self) -> None:
        self.run_loader(fu.weekly_review, self.svc, self.actor, self.day, on_result=self._show, group="fu-review")

    def _show(self, review: fu.WeeklyReview) -> None:
        week = _("Week {start} to {end}", start=review.week_start.isoformat(), end=review.week_end.isoformat())
        if review.cards is not None:  # R-FU-5: new against existing cards of the week
            t = review.cards.total
            week += "   " + _("Cards: {new} new, {existing} existing, {won} won, {lost} lost",
                              new=t.new, existing=t.existing, won=t.won, lost=t.lost)
        self.query_one("#rv-week", Static).update(week)
        staff = self.query_one("#rv-staff", DataTable)
        staff.clear(columns=True)
        fixed_columns(staff, (_("Consultant"), PERSON), *((lvl, 3) for lvl in review.levels), (_("Open cards"), 4),
                      (_("New cards"), 4), (_("Visits"), 4), (_("Overdue"), 4), (_("Overdue rate"), 4))
        for r in review.staff:
            staff.add_row(*cells(r.staff, *(r.by_level.get(lvl, 0) for lvl in review.levels), r.open_cards,
                                 r.new_cards, r.visits, r.overdue, f"{r.overdue_rate:.0%}"))
        src = self.query_one("#rv-source", DataTable)
        src.clear(columns=True)
        fixed_columns(src, (_("Information source"), widest(label for _code, label in fu.source_choices())),
                      (_("Cards"), 4), (_("Won"), 4), (_("Lost"), 4), (_("Conversion"), 4))
        for s in review.sources:
            src.add_row(*cells(s.source, s.cards, s.won, s.lost, f"{s.conversion:.0%}"))

    def action_export(self) -> None:
        def done(path: str | None) -> None:
            if not path:
                return
            try:
                fu.export_review(self.svc, self.actor, Path(path).expanduser(), self.day)
            except (CrmError, OSError) as e:
                self.notify(str(e), severity="error")
                return
            self.notify(_("Exported to {path}", path=path), timeout=10)

        default = str(Path.home() / f"followup-review-{self.day:%Y%m%d}.xlsx")
        self.app.push_screen(PromptDialog(_("Export the weekly review to (.xlsx):"), value=default), done)


class ClaimsScreen(BaseScreen[None]):
    """Ownership claims (信息归属): a supervisor grants or refuses each."""

    TITLE_MSGID = "Ownership claims"
    BINDINGS = [
        Binding("g", "decide(True)", "Grant"),
        Binding("x", "decide(False)", "Refuse"),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.rows: list[fu.ClaimRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="claims", cursor_type="row", zebra_stripes=True)
        yield Static("", id="claims-status", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        fixed_columns(self.query_one(DataTable), (_("Filed"), len("11-23 10:30")), (_("Customer"), 20),
                      (_("Claimed by"), PERSON), (_("Current owner"), PERSON), (_("Reason"), 60))
        self.query_one(DataTable).focus()
        self.load()

    def load(self) -> None:
        try:
            self.rows = fu.pending_claims(self.svc, self.actor)
        except CrmError as e:
            self.notify(e.message, severity="error")
            return
        table = self.query_one(DataTable)
        table.clear()
        for r in self.rows:
            table.add_row(*cells(f"{r.created_at:%m-%d %H:%M}", r.customer, r.claimant, r.owner, r.reason), key=str(r.id))
        self.query_one("#claims-status", Static).update("" if self.rows else _("No claims waiting."))

    def action_decide(self, grant: bool) -> None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0:
            return
        row = self.rows[min(table.cursor_row, len(self.rows) - 1)]

        def done(note: str | None) -> None:
            if note is None:
                return
            try:
                fu.decide_claim(self.svc, self.actor, row.id, grant, note)
            except CrmError as e:
                self.notify(e.message, severity="error")
                return
            self.load()

        self.app.push_screen(PromptDialog(_("Note on the decision (optional):"), required=False), done)


def followups_area(svc: Services, actor: Actor) -> BaseScreen:
    """F3: the front desk lands on the register, everyone else on their follow-up queues."""
    if "front_desk" in actor.roles and not actor.can("followup.supervise"):
        from crm_tui.ui.screens.register import RegisterScreen

        return RegisterScreen(svc, actor)
    return FollowupsScreen(svc, actor)
