"""Pickers shared by the areas: the customer a record is about, found by the archive search.

Each lists what the search returns for what is typed (in a thread worker, the newest search only);
Enter in the search box waits for the results of what the box holds, so an Enter typed right after
picks from those; with one match Enter picks it; Down goes to the list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _
from crm_tui.services import customers as cs
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal, enter_in, until
from crm_tui.ui.widgets.columns import cell

T = TypeVar("T")


class SearchPicker(BaseModal[T]):
    """The search box (``BOX_ID``) and the list of what it found (``results()``): see the module
    docstring. A picker says how the found rows are shown (``show_found``) and what picking one
    returns (``choice``)."""

    BOX_ID = ""
    GROUP = ""  # the loader group of the searches
    search_error: Callable[[CrmError], object] | None = None  # a refused search; default: notified

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.found: list[cs.CustomerRow] = []
        self.found_for: str | None = None  # the query whose results are listed
        self.seq = 0

    def results(self) -> Widget:
        raise NotImplementedError

    def show_found(self, rows: list[cs.CustomerRow]) -> None:
        raise NotImplementedError

    def choice(self, row: cs.CustomerRow) -> Any:
        raise NotImplementedError

    def on_mount(self) -> None:
        self.query_one("#" + self.BOX_ID, Input).focus()
        self.run_search("")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input.id == self.BOX_ID:
            self.run_search(event.value)

    async def action_enter(self) -> None:
        """Enter in the search box goes to the results of what it holds (waiting for them if the
        search is still running), so an Enter typed right after picks from those results."""
        await enter_in(self, {self.BOX_ID: self._to_results})

    async def _to_results(self) -> None:
        box = self.query_one("#" + self.BOX_ID, Input)
        await until(lambda: self.found_for == box.value)
        if len(self.found) == 1 and box.value.strip():  # the only match: Enter picks it
            self.dismiss(self.choice(self.found[0]))
        elif self.found:
            self.set_focus(self.results())

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key == "down" and self.focused is self.query_one("#" + self.BOX_ID, Input) and self.found:
            self.results().focus()
            event.stop()

    def run_search(self, q: str) -> None:
        self.seq += 1
        self.search(q, self.seq)

    def search(self, q: str, seq: int) -> None:
        self.run_loader(cs.search, self.svc, self.actor, q, limit=20, on_result=lambda page: self._found(page.rows, seq, q),
                        on_error=self.search_error, group=self.GROUP)

    def _found(self, rows: list[cs.CustomerRow], seq: int, q: str) -> None:
        if seq != self.seq:
            return
        self.found = rows
        self.found_for = q
        self.show_found(rows)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CustomerPicker(SearchPicker[tuple[int, str] | None]):
    """Find the customer by name, pinyin, phone digits or number; Enter/Down to the list, Enter picks."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), ENTER_BINDING]
    BOX_ID, GROUP = "picker-q", "complaint-picker"

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog wide", id="picker-box"):
            yield Label(_("Which customer?"), classes="box-title")
            yield Input(placeholder=_("Name, pinyin (zs), 4+ phone digits, KH number, ID number"), id="picker-q",
                        max_length=60)
            yield OptionList(id="picker-list")
            yield Static("", id="picker-message", classes="message")

    def results(self) -> OptionList:
        return self.query_one(OptionList)

    def choice(self, row: cs.CustomerRow) -> tuple[int, str]:
        return row.id, f"{row.number} {row.name}"

    def search_error(self, error: CrmError) -> None:
        self.query_one("#picker-message", Static).update(error.message)

    def show_found(self, rows: list[cs.CustomerRow]) -> None:
        ol = self.query_one(OptionList)
        ol.clear_options()
        ol.add_options([Option(cell(f"{r.number}  {r.name}  {r.phone}"), id=str(r.id)) for r in rows])
        if rows:
            ol.highlighted = 0
        self.query_one("#picker-message", Static).update(
            "" if rows else _("No customer found; register the customer first (F2, Ctrl+N)."))

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        row = next(r for r in self.found if str(r.id) == event.option.id)
        self.dismiss(self.choice(row))
