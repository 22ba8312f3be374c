"""The supervisors' daily register check (R-FU-4): the day's visits, cards and contacts without a line
in the front-desk register. L links the highlighted item to a register line of that day, M marks it
with a reason, [ and ] move a day back and forth, D types a day. Keyboard only; the services decide."""

from __future__ import annotations

from datetime import date, timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _
from crm_tui.services import register_check as rc
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import BaseModal, BaseScreen
from crm_tui.ui.widgets.columns import CUSTOMER_NUMBER, PERSON, cells, fixed_columns, widest
from crm_tui.ui.widgets.dialogs import PromptDialog


class LinePicker(BaseModal[int | None]):
    """The register lines of one day; Enter picks, Esc cancels."""

    DEFAULT_CSS = """
    LinePicker { align: center middle; }
    LinePicker > Vertical { width: 70; max-width: 95%; height: auto; max-height: 80%; border: thick $primary;
        background: $surface; padding: 1 2; }
    LinePicker OptionList { height: auto; max-height: 20; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, lines: list[tuple[int, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            yield OptionList(*[Option(f"#{i}  {label}", id=str(i)) for i, label in self.lines], id="lines")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)


class UnregisteredScreen(BaseScreen[None]):
    """未登记来访 check: one day at a time, today first."""

    TITLE_MSGID = "Visitors without a register line"
    BINDINGS = [
        Binding("l", "link", "Link a register line"),
        Binding("m", "mark", "Mark with a reason"),
        Binding("left_square_bracket", "day(-1)", "Day before"),
        Binding("right_square_bracket", "day(1)", "Day after"),
        Binding("d", "pick_day", "Go to day"),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.day: date = svc.now().date()
        self.items: list[rc.UnregisteredItem] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="check-title", classes="section")
        yield DataTable(id="check-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="check-message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        fixed_columns(table, (_("Time"), 5), (_("What"), widest(_(v) for v in rc.KINDS.values())),
                      (_("Archive"), CUSTOMER_NUMBER), (_("Customer"), PERSON), (_("Staff"), PERSON),
                      (_("Method / card"), 14), (_("Check"), 40))
        table.focus()
        self.load()

    def load(self) -> None:
        self.query_one("#check-title", Label).update(_("Day checked: {day}", day=self.day.isoformat()))
        self.run_loader(rc.unregistered, self.svc, self.actor, self.day, on_result=self._show,
                        on_error=lambda e: self._say(e.explain(), True), group="register-check")

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#check-message", Static)
        msg.update(text)
        msg.set_class(error, "error")

    def _show(self, items: list[rc.UnregisteredItem]) -> None:
        self.items = items
        table = self.query_one(DataTable)
        at = table.cursor_row
        with self.app.batch_update():
            table.clear()
            for i in items:
                if i.resolved:
                    check = Text(_("linked to line {id}", id=i.register_id) if i.register_id
                                 else _("marked: {reason}", reason=i.reason))
                else:
                    check = Text(_("no register line"), style="bold red")
                table.add_row(*cells(f"{i.at:%H:%M}", i.kind_label, i.customer_number, i.customer_name, i.staff,
                                     i.method), check, key=f"{i.kind}:{i.ref_id}")
            if items:
                table.move_cursor(row=min(max(at, 0), len(items) - 1))
        still = sum(not i.resolved for i in items)
        self._say(_("Every visitor of {day} is in the register.", day=self.day.isoformat()) if not items else
                  _("{n} to resolve: L links a register line of the day, M marks with a reason.", n=still))

    def current(self) -> rc.UnregisteredItem | None:
        table = self.query_one(DataTable)
        if not self.items or table.cursor_row < 0:
            return None
        return self.items[min(table.cursor_row, len(self.items) - 1)]

    def _resolve(self, item: rc.UnregisteredItem, **kw: object) -> None:
        try:
            rc.resolve(self.svc, self.actor, item.kind, item.ref_id, self.day, **kw)  # type: ignore[arg-type]
        except CrmError as e:
            self._say(e.explain(), True)
            return
        self.notify(_("Resolved."))
        self.load()

    def action_link(self) -> None:
        item = self.current()
        if item is None:
            return
        if item.resolved:
            self._say(_("This item was already resolved by {name}.", name=item.resolved_by or "—"), True)
            return
        try:
            lines = rc.day_lines(self.svc, self.actor, self.day)
        except CrmError as e:
            self._say(e.explain(), True)
            return
        if not lines:
            self._say(_("The register has no line on {day}; mark the item with a reason (M).", day=self.day.isoformat()),
                      True)
            return

        def done(line: int | None) -> None:
            if line is not None:
                self._resolve(item, register_id=line)

        self.app.push_screen(LinePicker(_("Which register line of {day} is {name}'s?", day=self.day.isoformat(),
                                          name=item.customer_name), lines), done)

    def action_mark(self) -> None:
        item = self.current()
        if item is None:
            return
        if item.resolved:
            self._say(_("This item was already resolved by {name}.", name=item.resolved_by or "—"), True)
            return

        def done(reason: str | None) -> None:
            if reason is not None:
                self._resolve(item, reason=reason)

        self.app.push_screen(PromptDialog(_("Why is there no register line for {name}?", name=item.customer_name)),
                             done)

    def action_day(self, step: int) -> None:
        self.day = self.day + timedelta(days=step)
        self.load()

    def action_pick_day(self) -> None:
        def done(text: str | None) -> None:
            if not text:
                return
            try:
                self.day = date.fromisoformat(text.strip())
            except ValueError:
                self._say(_("Write the date as YYYY-MM-DD"), True)
                return
            self.load()

        self.app.push_screen(PromptDialog(_("Which day (YYYY-MM-DD)?"), value=self.day.isoformat()), done)
