"""The damage screen (issue 17): ``crm-tui`` started in a terminal on a damaged database shows what is
damaged and offers the restore of the newest verified backup there and then, keyboard only.

The authority is what ``crm-tui restore FILE --yes`` takes on a damaged file: an administrator's user
name and password as they are in the backup, or the recovery code; never a sign-in on the broken file
(services/damage.restore_over_damage). After a restore, Enter starts the app on the restored file
(ui/launch.run_app). Quitting leaves everything as it was; ``crm-tui`` then prints the same message
and the restore command, and exits 19, as it does without a terminal.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Input, Label, Static

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _
from crm_tui.ui.base import ENTER_BINDING, BaseScreen, enter_in, localise_bindings


class DamageScreen(BaseScreen[None]):
    TITLE_MSGID = "The database file is damaged"
    BINDINGS = [
        ENTER_BINDING,
        Binding("ctrl+s", "restore", "Restore", priority=True),
        Binding("ctrl+q", "app.quit", "Quit", priority=True),
        Binding("escape", "app.quit", "Quit", show=False),
    ]

    def __init__(self, data_dir: Path, key_store: object, message: str, backup: Path | None) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.key_store = key_store
        self.message = message
        self.backup = backup
        self.restoring = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="damage-box"):
            yield Label(_("The database file is damaged"), classes="box-title error")
            yield Static(self.message, id="damage-report")
            if self.backup is not None:
                yield Label(_("Restore {name} now: an administrator's user name and password as they are in that "
                              "backup, or the recovery code.", name=self.backup.name), id="damage-offer")
                with Vertical(id="damage-form"):
                    yield Label(_("User name"))
                    yield Input(id="damage-user", max_length=40)
                    yield Label(_("Password"))
                    yield Input(id="damage-password", password=True, max_length=128)
                    yield Label(_("Or the recovery code"))
                    yield Input(id="damage-code", max_length=120)
            yield Static("", id="damage-message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        if self.backup is not None:
            self.query_one("#damage-user", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "restore":
            return self.backup is not None and not self.restoring and not self.app.restored  # type: ignore[attr-defined]
        return True

    async def action_enter(self) -> None:
        if self.app.restored:  # type: ignore[attr-defined]
            self.app.exit(True)
            return
        await enter_in(self, {"damage-user": lambda: self.focus_next(),
                              "damage-password": self.action_restore,
                              "damage-code": self.action_restore})

    def _say(self, text: str, *, error: bool = False) -> None:
        box = self.query_one("#damage-message", Static)
        box.set_class(error, "error")
        box.update(text)

    def action_restore(self) -> None:
        if self.backup is None or self.restoring or self.app.restored:  # type: ignore[attr-defined]
            return
        from crm_tui.services import damage

        user = self.query_one("#damage-user", Input).value
        password = self.query_one("#damage-password", Input).value
        code = self.query_one("#damage-code", Input).value
        self.restoring = True
        self._say(_("Restoring {name} …", name=self.backup.name))
        self.run_action(damage.restore_over_damage, self.data_dir, self.key_store, self.backup, user=user,
                        password=password, code=code, on_result=self._restored, on_error=self._refused,
                        on_done=self._finished, group="restore")

    def _finished(self) -> None:
        self.restoring = False
        self.refresh_bindings()

    def _restored(self, lines: list[str]) -> None:
        self.app.restored = True  # type: ignore[attr-defined]
        for box in self.query("#damage-form, #damage-offer"):
            box.display = False
        self._say("\n".join([*lines, "", _("Press Enter to start the app on the restored database.")]))

    def _refused(self, error: CrmError) -> None:
        self._say(error.explain(), error=True)
        password = self.query_one("#damage-password", Input)
        password.value = ""
        password.focus()


class DamageApp(App[bool]):
    """Shown instead of the login screen when the start finds the database damaged. Returns True
    once a restore has replaced the file (the caller then starts the app), else None."""

    CSS_PATH = "app.tcss"
    TITLE = "crm-tui"

    def __init__(self, data_dir: Path, key_store: object, message: str, backup: Path | None) -> None:
        super().__init__()
        localise_bindings(self)
        self.restored = False
        self._screen_args = (data_dir, key_store, message, backup)

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.push_screen(DamageScreen(*self._screen_args))


def damage_app(data_dir: Path, key_store: object, error: CrmError) -> DamageApp:
    from crm_tui.services import damage

    found = damage.newest_verified_backup(data_dir)
    return DamageApp(data_dir, key_store, error.message, found.path if found is not None else None)
