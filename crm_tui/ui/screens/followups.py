"""Follow-up cards (A卡): the queues (due today, overdue, this week, ...), the weekly review and the
ownership claims (issue 6, R-FU-1..6). A card with its visits, the card form and the visit form are
in followup_card.py (importable from here as before).

Lists are fetched one page at a time in thread workers (keyset paging); the next page is asked
for when the cursor nears the bottom.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static

from crm_tui.domain import followups as fd
from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseScreen
from crm_tui.ui.parts.area import AreaScreen
from crm_tui.ui.parts.picker import SearchPicker
from crm_tui.ui.parts.queue import QueueScreen, tab_bar
from crm_tui.ui.screens.followup_card import (CardDetailScreen, CardFormScreen, CloseCardDialog,  # noqa: F401
                                              VisitForm, _status_label, card_text, open_visit_form)
from crm_tui.ui.widgets.columns import CUSTOMER_NUMBER, PERSON, PHONE, cells, fixed_columns, widest
from crm_tui.ui.widgets.dialogs import PromptDialog

PAGE = 100
MAX_ROWS = 1000
QUEUE_KEYS = ("today", "overdue", "week", "open", "review", "closed")


def _due_text(row_due: date | None, overdue: bool) -> str:
    if row_due is None:
        return "—"
    return (f"! {row_due:%m-%d}" if overdue else f"  {row_due:%m-%d}") + holidays.mark(row_due)


class FollowupsScreen(QueueScreen):
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

    QUEUES, QUEUE_LABELS = QUEUE_KEYS, fu.QUEUES
    TABLE_ID, STATUS_ID, GROUP = "fu-table", "fu-status", "fu-queue"
    MAX_ROWS = MAX_ROWS

    def __init__(self, svc: Services, actor: Actor, which: str | None = None) -> None:
        super().__init__(svc, actor, which or ("overdue" if fu.has_overdue(svc, actor) else "week"))
        self.supervisor = actor.can("followup.supervise")
        self.owner_id: int | None = None if self.supervisor else actor.staff_id

    def compose_top(self) -> ComposeResult:
        with Horizontal(id="fu-bar"):
            yield Static("", id="fu-queues")
            if self.supervisor:
                opts = [(_("Everyone"), 0)] + [(name, sid) for sid, name in fu.consultants(self.svc, self.actor)]
                yield Select(opts, value=0, allow_blank=False, id="fu-owner", compact=True)

    def columns(self, table: DataTable) -> None:  # type: ignore[type-arg]
        due = max(len("! 11-23"), widest(_(label) for label in fd.CARD_STATUSES.values()))
        # the product (free text) last, so the consultant and the signature stay on screen
        fixed_columns(table, (_("Next visit"), due), (_("Card"), 11), (_("Customer"), 16), (_("Level"), 2),
                      (_("Consultant"), PERSON), (_("Signed"), 1), (_("Product of interest"), 30))

    def _bar(self) -> None:
        tabs = self.tabs()
        # Broken into lines between queues, never inside one ('5' / '待审核签字'): at 80 columns a
        # supervisor's bar, beside the consultant picker, takes two lines.
        room = max(20, self.app.size.width - (25 if self.supervisor else 0))
        self.query_one("#fu-queues", Static).update(tab_bar(tabs, self.queue_key, pad_all=True, sep=" ", room=room))

    def tab_shown(self, queue: str) -> bool:
        return self.supervisor or queue != "review"

    def on_resize(self) -> None:
        self._bar()

    def action_queue(self, which: str) -> None:
        if which == "review" and not self.supervisor:
            return
        super().action_queue(which)

    @on(Select.Changed, "#fu-owner")
    def _owner(self, event: Select.Changed) -> None:
        self.owner_id = int(event.value) or None if event.value is not Select.NULL else None  # type: ignore[arg-type]
        self.load()

    def load(self, keep: bool = False) -> None:
        self._bar()
        super().load(keep)

    def read_page(self, queue: str, cursor: str | None) -> tuple[fu.CardPage, None]:
        return fu.queue(self.svc, self.actor, queue, owner_id=self.owner_id, cursor=cursor, limit=PAGE), None

    def page_error(self, error: CrmError) -> None:
        self._page_failed(error.message)

    def page_cells(self, rows: Sequence[fu.CardRow]) -> Iterator[list[Text]]:
        for r in rows:
            due = _due_text(r.next_due, r.overdue) if r.status == "open" else _status_label(r.status)
            yield cells(due, r.number, r.customer, r.level, r.owner, "✓" if r.reviewed else "", r.product)

    def status_text(self, page: fu.CardPage) -> str:
        if not self.rows:
            return _("Nothing in this queue.")
        text = _("{count} card(s)", count=len(self.rows)) + ("  " + _("(more below)") if page.next_cursor else "")
        if any(holidays.mark(r.next_due) for r in self.rows):
            text += "   " + _(holidays.MARK_LEGEND)
        return text

    def open_row(self, row: fu.CardRow) -> None:
        self.app.push_screen(CardDetailScreen(self.svc, self.actor, row.id))

    def action_visit(self) -> None:
        row = self.current()
        if row:
            open_visit_form(self, self.svc, self.actor, row.id, row.level, lambda: self.load(keep=True))

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


class CustomerPickerScreen(SearchPicker[int | None]):
    """Pick the archive for a new card with the archive search, or create one (Ctrl+N)."""

    BINDINGS = [Binding("ctrl+n", "new", "New archive", priority=True), Binding("escape", "cancel", "Cancel"),
                ENTER_BINDING]
    BOX_ID, GROUP = "pick-q", "fu-pick"

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog wide", id="picker-box"):
            yield Label(_("Which customer? Type a name, pinyin initials or phone digits"), classes="box-title")
            yield Input(id="pick-q", max_length=60)
            yield DataTable(id="pick-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:  # before the part's: the columns, then the search
        fixed_columns(self.query_one(DataTable), (_("Number"), CUSTOMER_NUMBER), (_("Name"), 20), (_("Phone"), PHONE),
                      (_("Owner"), PERSON))

    def results(self) -> DataTable:  # type: ignore[type-arg]
        return self.query_one(DataTable)

    def choice(self, row: cs.CustomerRow) -> int:
        return row.id

    def show_found(self, rows: list[cs.CustomerRow]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for r in rows:
            table.add_row(*cells(r.number, r.name, r.phone, r.owner), key=str(r.id))

    @on(DataTable.RowSelected, "#pick-table")
    def _pick(self, event: DataTable.RowSelected) -> None:
        self.dismiss(int(str(event.row_key.value)))

    def action_new(self) -> None:
        from crm_tui.ui.screens.customer_form import CustomerFormScreen

        def created(customer_id: int | None) -> None:
            if customer_id:
                self.dismiss(customer_id)

        self.app.push_screen(CustomerFormScreen(self.svc, self.actor, None), created)


class WeeklyReviewScreen(AreaScreen[None]):
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
        super().__init__(svc, actor)
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


class ClaimsScreen(AreaScreen[None]):
    """Ownership claims (信息归属): a supervisor grants or refuses each."""

    TITLE_MSGID = "Ownership claims"
    BINDINGS = [
        Binding("g", "decide(True)", "Grant"),
        Binding("x", "decide(False)", "Refuse"),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__(svc, actor)
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
