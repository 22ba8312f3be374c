"""Sign-in, the forced password change, and the lock screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.message import Message
from textual.widgets import Footer, Input, Label, Static

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import N_, _
from crm_tui.ui.base import ENTER_BINDING, BaseModal, BaseScreen, enter_in
from crm_tui.ui.parts.form import Field, FormPart

if TYPE_CHECKING:  # imported where used: the login screen shows before the services load (ui/app.py)
    from crm_tui.services import staff
    from crm_tui.services.context import Actor, Services


class LoginScreen(BaseScreen[None]):
    """The first screen. In demo mode it lists the demo accounts and their password."""

    TITLE_MSGID = "Sign in"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]  # 24 rows: no margin above the box
    BINDINGS = [
        Binding("ctrl+q", "app.quit", "Quit"),
        Binding("f1", "app.help", "Help"),
        ENTER_BINDING,
    ]

    @dataclass
    class SignedIn(Message):
        signin: staff.SignIn

    def __init__(self, svc: Services, *, demo_accounts: list[tuple[str, str, list[str]]] | None = None,
                 demo_password: str | None = None, notice: str | None = None) -> None:
        super().__init__()
        self.svc = svc
        self.demo_accounts = demo_accounts or []
        self.demo_password = demo_password
        self.notice = notice

    def compose(self) -> ComposeResult:
        with Center():
            with Vertical(id="login-box", classes="box"):
                yield Label(_("Customer management · sign in"), classes="box-title")
                yield Label(_("User name"))
                yield Input(id="username", max_length=40)
                yield Label(_("Password"))
                yield Input(id="password", password=True, max_length=128)
                yield Static(self.notice or "", id="login-message", classes="message")
        if self.demo_accounts:
            from rich.cells import cell_len

            from crm_tui.domain.roles import role_label

            lines = [_("Demo accounts (password {password}):", password=self.demo_password)]
            for username, display, roles in self.demo_accounts:
                pad = " " * max(0, 12 - cell_len(display))  # CJK names are 2 cells a character
                lines.append(f"  {username:<10} {display}{pad}{'、'.join(role_label(r) for r in roles)}")
            yield Static("\n".join(lines), id="demo-accounts")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#username", Input).focus()

    async def action_enter(self) -> None:
        await enter_in(self, {"username": self.to_password, "password": self.submit})

    def to_password(self) -> None:
        self.set_focus(self.query_one("#password", Input))

    def submit(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        if not username:
            self.show(_("Type your user name."))
            self.set_focus(self.query_one("#username", Input))
            return
        self.show(_("Checking ..."), error=False)
        self.check(username, password)
        self.set_timer(1.0, lambda: self._still_checking("#login-message"))

    def show(self, text: str, error: bool = True) -> None:
        msg = self.query_one("#login-message", Static)
        msg.update(text)
        msg.set_class(error, "error")

    def check(self, username: str, password: str) -> None:
        def sign_in():  # type: ignore[no-untyped-def]
            from crm_tui.services import staff

            return staff.sign_in(self.svc, username, password)

        self.run_action(sign_in, on_result=lambda result: self.post_message(self.SignedIn(result)),
                        on_error=lambda e: self._failed(e.message), group="signin")

    def _still_checking(self, selector: str) -> None:
        still_checking(self, selector)

    def _failed(self, text: str) -> None:
        self.show(text)
        pw = self.query_one("#password", Input)
        pw.value = ""
        self.set_focus(pw)


WAIT_NOTE = N_("Checking ... the database is busy with another program's writing (an import?); waiting up to a "
               "few seconds.")


def still_checking(screen: BaseModal | BaseScreen, selector: str) -> None:  # type: ignore[type-arg]
    """A sign-in or unlock still running after a second waits for the database (its audit row):
    say so instead of a silent screen. Its worker then shows the outcome or the busy message."""
    if not screen.is_attached:
        return
    msg = screen.query_one(selector, Static)
    if str(msg.render()) == _("Checking ..."):
        msg.update(_(WAIT_NOTE))


class ChangePasswordScreen(FormPart, BaseModal[bool]):
    """Change one's password. Forced (no Esc) at first sign-in and when the password is too old;
    then signing out is the only other way on (the services refuse everything else)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+q", "app.sign_out", "Sign out"), ENTER_BINDING]
    FIELD_ID = staticmethod(lambda name: "old" if name == "old_password" else "new")
    FORM_MESSAGE = "#pw-message"

    def __init__(self, svc: Services, actor: Actor, *, reason: str | None = None) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.reason = reason

    def compose(self) -> ComposeResult:
        heading = {
            "first": _("First sign-in: choose your own password."),
            "expired": _("Your password is older than the policy allows: choose a new one."),
        }.get(self.reason or "", _("Change your password"))
        secret = {"password": True, "max_length": 128, "error": True}
        with Vertical(classes="box dialog"):
            yield Label(heading, classes="box-title")
            yield from self.compose_fields([
                Field("old", _("Current password"), enter="next", **secret),
                Field("new", _("New password (at least {n} characters, letters and digits)",
                               n=self.svc.setting("security", "password_min_length")), enter="next", **secret),
                Field("again", _("Repeat the new password"), enter="save", **secret),
            ])
            yield Static("", id="pw-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        self.focus_first_field()

    def action_save(self) -> None:
        self.save()

    def save(self) -> None:
        from crm_tui.services import staff

        v = self.form_values()
        if v["new"] != v["again"]:
            self.show_errors({"again": _("The two new passwords differ.")})
            self.query_one("#again", Input).value = ""
            return
        try:
            self.actor = staff.change_password(self.svc, self.actor, v["old"], v["new"])
        except CrmError as e:
            self.show_refusal(e)
            return
        self.app.notify(_("Password changed."))
        self.dismiss(True)

    def action_cancel(self) -> None:
        if self.reason:
            self.query_one("#pw-message", Static).update(_("You must set a new password before you continue."))
            return
        self.dismiss(False)


@dataclass(frozen=True)
class Unlock:
    """The lock screen's answer: the same person is back, or someone else signed in."""

    same: bool
    signin: staff.SignIn | None = None


class LockScreen(BaseModal[Unlock]):
    """Covers the whole app. The same user unlocks with the password and finds everything as left;
    a different user may sign in after being told that unsaved input will be discarded."""

    BINDINGS = [Binding("f2", "switch_user", "Sign in as someone else"), ENTER_BINDING]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.other = False

    def compose(self) -> ComposeResult:
        with Center():
            with Vertical(classes="box", id="lock-box"):
                yield Label(_("Locked"), classes="box-title")
                yield Static(_("{name} ({user}) locked this screen. Type the password to continue.",
                               name=self.actor.display_name, user=self.actor.username), id="lock-who")
                yield Label(_("User name"), id="lock-user-label")
                yield Input(self.actor.username, id="lock-user", max_length=40, disabled=True)
                yield Label(_("Password"))
                yield Input(id="lock-password", password=True, max_length=128)
                yield Static("", id="lock-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#lock-password", Input).focus()

    def action_switch_user(self) -> None:
        self.other = True
        user = self.query_one("#lock-user", Input)
        user.disabled = False
        user.value = ""
        self.set_focus(user)
        self.query_one("#lock-message", Static).update(
            _("Signing in as someone else discards {name}'s unsaved input.", name=self.actor.display_name))

    async def action_enter(self) -> None:
        await enter_in(self, {"lock-user": lambda: self.set_focus(self.query_one("#lock-password", Input)),
                        "lock-password": self.submit})

    def submit(self) -> None:
        username = self.query_one("#lock-user", Input).value.strip()
        password = self.query_one("#lock-password", Input).value
        self.query_one("#lock-password", Input).value = ""
        # checking the password writes an audit row: in a worker, so a database busy with someone
        # else's import never freezes the lock screen (the wait is explained, then the outcome shown)
        self.query_one("#lock-message", Static).update(_("Checking ..."))
        self.unlock(username, password)
        self.set_timer(1.0, lambda: still_checking(self, "#lock-message"))

    def unlock(self, username: str, password: str) -> None:
        self.run_action(self._check, username, password, group="unlock", on_result=self._checked,
                        on_error=lambda e: self._say(e.message))

    def _check(self, username: str, password: str) -> Unlock | None:  # in a worker thread
        from crm_tui.services import staff

        if not self.other or username.lower() == self.actor.username.lower():
            if staff.check_password(self.svc, self.actor, password, "unlock"):
                staff.record_event(self.svc, self.actor, "auth.unlock")
                return Unlock(True)
            return None
        return Unlock(False, staff.sign_in(self.svc, username, password))

    def _checked(self, result: Unlock | None) -> None:
        if result is None:
            self._say(_("Wrong password."))
        else:
            self._done(result)

    def _say(self, text: str) -> None:
        if self.is_attached:
            self.query_one("#lock-message", Static).update(text)

    def _done(self, result: Unlock) -> None:
        if self.is_attached and self.app.screen is self:
            self.dismiss(result)
