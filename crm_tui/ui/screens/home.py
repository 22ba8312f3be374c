"""Home: who is signed in, today's work (each area adds its queues), and the areas one key away."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from crm_tui.domain.roles import role_label
from crm_tui.i18n import _
from crm_tui.services import home
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import BaseScreen


class HomeScreen(BaseScreen[None]):
    TITLE_MSGID = "Home"
    BINDINGS = [
        Binding("r", "refresh", "Refresh"),
    ]

    def __init__(self, svc: Services, actor: Actor, areas: list[tuple[str, str, str]]) -> None:
        """``areas``: (key, label, action) for each area this actor may open."""
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.areas = areas
        self.items: list[home.WorkItem] = []

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        roles = "、".join(role_label(r) for r in sorted(self.actor.roles))
        who = _("{name} ({user}) · {roles}", name=self.actor.display_name, user=self.actor.username, roles=roles)
        if self.actor.on_behalf_of_name:
            who += "  " + _("· covering for {name}", name=self.actor.on_behalf_of_name)
        today = self.svc.now()
        yield Static(f"{who}    {today:%Y-%m-%d}", id="home-who")
        with Horizontal(id="home-body"):
            with Vertical(id="home-today"):
                yield Label(_("Today's work"), classes="section")
                yield OptionList(id="today-list")
            with Vertical(id="home-areas"):
                yield Label(_("Areas"), classes="section")
                yield Static("\n".join(f"{key:<4} {label}" for key, label, _a in self.areas), id="areas-list")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#today-list", OptionList).focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="home")
    def load(self) -> None:
        items = home.today(self.svc, self.actor)
        self.app.call_from_thread(self._show, items)

    def _show(self, items: list[home.WorkItem]) -> None:
        self.items = items
        ol = self.query_one("#today-list", OptionList)
        highlighted = ol.highlighted
        ol.clear_options()
        if not items:
            ol.add_option(Option(_("Nothing waiting for you."), id="none", disabled=True))
            return
        for item in items:
            mark = "!" if item.urgent and item.count else " "
            ol.add_option(Option(f"{mark} {item.count:>5}  {_(item.label)}", id=item.key))
        if highlighted is not None and highlighted < len(items):
            ol.highlighted = highlighted

    @on(OptionList.OptionSelected, "#today-list")
    def open_item(self, event: OptionList.OptionSelected) -> None:
        for item in self.items:
            if item.key == event.option.id and item.action:
                self.app.run_action(item.action)
