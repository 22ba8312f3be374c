"""The record screen part: one record's facts beside (below 140 columns: above) its history table,
and the actions the service allows on it now.

An area's record screen (a customer archive, a complaint ticket, a follow-up card, a grade change application)
subclasses :class:`RecordScreen` and says only what is its own: the widget ids its CSS names, the
history's title and columns, how the record is read (in a thread worker, ``read_record``), the facts
(``facts``, Rich markup), the history rows (``history``) and its actions. ``check_action`` may look
at ``self.view`` (what the service said is allowed now): the footer is refreshed after every load.
``attempt`` runs one step through the service and says the outcome, the same way everywhere.
A record that shows more than its facts (the archive's phones awaiting confirmation) puts the
widgets above the facts with ``facts_above`` and fills them in ``show_more``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Header, Label, Static

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.parts.area import AreaScreen
from crm_tui.ui.widgets.columns import SIDE_BY_SIDE


class RecordScreen(AreaScreen[None]):
    """A record: see the module docstring. Subclasses set the ids and the hooks below."""

    HORIZONTAL_BREAKPOINTS = SIDE_BY_SIDE  # narrower: the facts above the history
    BODY_ID = ""  # the Horizontal holding both panes
    FACTS_ID = ""  # the scrolling facts pane
    TEXT_ID = ""  # the facts' Static
    HISTORY_ID = ""  # the history pane (its title and table)
    TABLE_ID = ""  # the history table
    HISTORY_TITLE = ""  # msgid of the history's title
    GROUP = ""  # the loader group of the record
    LOAD_ON_MOUNT = True  # else the first load comes with the first on_screen_resume

    def __init__(self, svc: Services, actor: Actor, record_id: int) -> None:
        super().__init__(svc, actor)
        self.record_id = record_id
        self.view: Any = None

    # -- what an area says -------------------------------------------------------------------------
    def columns(self, table: DataTable) -> None:  # type: ignore[type-arg]
        raise NotImplementedError

    def read_record(self) -> Any:
        """In a thread worker: the record (and whatever else ``take`` needs)."""
        raise NotImplementedError

    def take(self, value: Any) -> Any:
        """The view to show from what ``read_record`` returned (keep the rest on the screen here)."""
        return value

    def subtitle(self, view: Any) -> str:
        raise NotImplementedError

    def facts(self, view: Any) -> str:
        raise NotImplementedError

    def history(self, view: Any) -> Iterable[Sequence[object]]:
        raise NotImplementedError

    def facts_above(self) -> Iterable[Widget]:
        """Widgets above the facts, in their pane (a notice); none unless an area says."""
        return ()

    def show_more(self, view: Any) -> None:
        """After each load, before the footer is refreshed: fill what ``facts_above`` added."""

    # -- the part ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id=self.BODY_ID):
            with VerticalScroll(id=self.FACTS_ID):
                yield from self.facts_above()
                yield Static("", id=self.TEXT_ID)
            with Vertical(id=self.HISTORY_ID):
                yield Label(_(self.HISTORY_TITLE), classes="section")
                yield DataTable(id=self.TABLE_ID, cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#" + self.TABLE_ID, DataTable)
        self.columns(table)
        table.focus()
        if self.LOAD_ON_MOUNT:
            self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def load(self) -> None:
        self.run_loader(self.read_record, on_result=self._show_record, group=self.GROUP)

    def _show_record(self, value: Any) -> None:
        if not self.is_attached:
            return  # left meanwhile (signed out, Esc)
        view = self.take(value)
        self.view = view
        self.sub_title = self.subtitle(view)
        holidays.work_calendar(self.svc)  # fresh for the ≈ marks
        self.query_one("#" + self.TEXT_ID, Static).update(self.facts(view))
        table = self.query_one("#" + self.TABLE_ID, DataTable)
        with self.app.batch_update():
            table.clear()
            for values in self.history(view):
                table.add_row(*values)
        self.show_more(view)
        self.refresh_bindings()  # the actions offered follow what the service now allows

    def attempt(self, call: Callable[[], object], done: str | None = None, *, timeout: float | None = None,
                reload_on_error: bool = False) -> bool:
        """Run one step through the service: its refusal is notified (and nothing changed); on
        success ``done`` is said and the record read again."""
        try:
            call()
        except CrmError as e:
            self.notify(e.message, severity="error", timeout=timeout)
            if reload_on_error:
                self.load()
            return False
        if done:
            self.notify(done)
        self.load()
        return True

    def prompt_step(self, question: str, call: Callable[[str], object], done: str | None = None, *,
                    required: bool = True, max_length: int = 500) -> None:
        """Ask for the step's text (a reason, a comment), then ``attempt`` it; Esc or nothing typed
        (when ``required``) does nothing."""
        from crm_tui.ui.widgets.dialogs import PromptDialog

        def answered(text: str | None) -> None:
            if text is None or (required and not text):
                return
            self.attempt(lambda: call(text), done)

        self.app.push_screen(PromptDialog(question, required=required, max_length=max_length), answered)
