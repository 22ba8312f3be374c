"""Small modal dialogs: confirm, information (shown once), and a text prompt.

Enter answers when the key arrives (priority bindings), not when a Button.Pressed or Input.Submitted
message is handled later: the keys typed right after it then reach the screen below, and cannot
be taken by a dialog that is about to close (ui/base.py ENTER_BINDING)."""

from __future__ import annotations

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from crm_tui.i18n import _
from crm_tui.ui.base import ENTER_BINDING, BaseModal, enter_in


class ConfirmDialog(BaseModal[bool]):
    """Yes/no. Enter or Y confirms, Esc or N declines."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical { width: 64; max-width: 95%; height: auto; border: thick $warning;
        background: $surface; padding: 1 2; }
    ConfirmDialog #question { margin-bottom: 1; }
    ConfirmDialog Horizontal { height: auto; align-horizontal: right; }
    ConfirmDialog Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("escape,n", "answer(False)", "No"),
        Binding("y", "answer(True)", "Yes"),
        Binding("enter", "press_focused", "OK", show=False, priority=True),
    ]

    def __init__(self, question: str, *, yes: str | None = None, no: str | None = None) -> None:
        super().__init__()
        self.question = question
        self.yes = yes or _("Yes")
        self.no = no or _("No")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="question")
            with Horizontal():
                yield Button(self.yes, id="yes", variant="warning")
                yield Button(self.no, id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    def action_press_focused(self) -> None:
        """Enter answers with the focused button (Yes unless Tab moved to No)."""
        if not isinstance(self.focused, Button):
            raise SkipAction()
        self.dismiss(self.focused.id == "yes")


class InfoDialog(BaseModal[None]):
    """A message that must be read (a one-time password, a result). Enter or Esc closes."""

    DEFAULT_CSS = """
    InfoDialog { align: center middle; }
    InfoDialog > Vertical { width: 70; max-width: 95%; height: auto; border: thick $primary;
        background: $surface; padding: 1 2; }
    InfoDialog #title { text-style: bold; margin-bottom: 1; }
    InfoDialog #body { margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False, priority=True),
    ]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="title")
            yield Static(self.body, id="body")
            yield Button(_("OK"), id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    @on(Button.Pressed)
    def pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class PromptDialog(BaseModal[str | None]):
    """One line of text (a reason, a comment). Enter accepts; Esc cancels with None."""

    DEFAULT_CSS = """
    PromptDialog { align: center middle; }
    PromptDialog > Vertical { width: 70; max-width: 95%; height: auto; border: thick $primary;
        background: $surface; padding: 1 2; }
    PromptDialog #error { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel"), ENTER_BINDING]

    def __init__(self, question: str, *, value: str = "", password: bool = False, required: bool = True,
                 max_length: int = 500) -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.password = password
        self.required = required
        self.max_length = max_length

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            yield Input(self.value, password=self.password, max_length=self.max_length, id="answer")
            yield Static("", id="error")

    async def action_enter(self) -> None:
        await enter_in(self, {"answer": self.submitted})

    def submitted(self) -> None:
        value = self.query_one("#answer", Input).value
        text = value.strip() if not self.password else value
        if self.required and not text:
            self.query_one("#error", Static).update(_("This cannot be left empty."))
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
