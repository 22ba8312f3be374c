"""The Textual application: sign-in, the shell around the areas, idle lock, help and palette."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from crm_tui.i18n import N_, _, get_language, set_language
from crm_tui.ui.base import localise_bindings
from crm_tui.ui.commands import CrmCommands

SETTINGS_POLL_SECONDS = 2.0  # how soon a setting changed by another process applies

if TYPE_CHECKING:  # the services (and SQLAlchemy) load after the login screen shows: see on_mount
    from crm_tui.services import staff
    from crm_tui.services.context import Actor, Services


@dataclass(frozen=True)
class Area:
    """One area of the app: its key, its name (msgid), who may open it, and how to build its screen."""

    name: str
    key: str
    label: str
    permission: str | None
    build: Callable[[Services, Actor], Screen]


def settle_heap() -> None:
    """Take what is alive now out of the garbage collector's rounds.

    After sign-in the process holds a few hundred thousand long-lived objects (modules, SQLAlchemy's
    mappings, Textual's styles and screens). Each full collection walked all of them: a 60-170 ms
    pause at random keystrokes in the customer list (benchmarks/results/NOTES.md, "Keystroke").
    ``gc.freeze`` moves them to the permanent generation, so the collector only looks at what was
    made since; it runs after sign-in and after an area's code is first imported."""
    import gc

    gc.collect()
    gc.freeze()


def _lazy(module: str, name: str) -> Callable[[Services, Actor], Screen]:
    """An area's screen builder that imports its module when the area is first opened: importing
    every area (and its services, phonenumbers, pypinyin...) before the login screen doubled the
    cold start."""

    def build(svc: Services, actor: Actor) -> Screen:
        import importlib
        import sys

        first = module not in sys.modules
        screen = getattr(importlib.import_module(module), name)(svc, actor)
        if first:
            settle_heap()
        return screen  # type: ignore[no-any-return]

    build.__qualname__ = name
    return build


def _areas() -> list[Area]:
    AuditScreen = _lazy("crm_tui.ui.screens.audit", "AuditScreen")
    ComplaintListScreen = _lazy("crm_tui.ui.screens.complaints", "ComplaintListScreen")
    CustomerListScreen = _lazy("crm_tui.ui.screens.customers", "CustomerListScreen")
    followups_area = _lazy("crm_tui.ui.screens.followups", "followups_area")
    GradesScreen = _lazy("crm_tui.ui.screens.grades", "GradesScreen")
    StaffScreen = _lazy("crm_tui.ui.screens.staff", "StaffScreen")
    ApprovalsScreen = _lazy("crm_tui.ui.screens.security", "ApprovalsScreen")
    IncidentsScreen = _lazy("crm_tui.ui.screens.security", "IncidentsScreen")

    return [
        Area("customers", "f2", N_("Customer archives"), "customer.view", CustomerListScreen),
        Area("followups", "f3", N_("Follow-up cards"), "followup.view", followups_area),
        Area("complaints", "f4", N_("Complaints"), "complaint.view", ComplaintListScreen),
        Area("grades", "f5", N_("Grade changes"), "grade.view", GradesScreen),
        Area("reports", "f6", N_("Reports"), "report.view", _reports_screen),
        Area("staff", "f7", N_("Staff accounts"), "staff.manage", StaffScreen),
        Area("audit", "f8", N_("Audit trail"), "audit.view", AuditScreen),
        Area("backup", "f9", N_("Backups"), "backup.run", _backup_screen),
        Area("import", "f11", N_("Import customers"), "import.run", _import_screen),
        # no function key of its own: the palette (Ctrl+P) and home's warning open it
        Area("calendar", "", N_("Holiday schedule"), "calendar.manage",
             _lazy("crm_tui.ui.screens.calendar", "CalendarScreen")),
        Area("approvals", "f12", N_("Approval requests"), "approval.decide", ApprovalsScreen),
        # no key of its own (Ctrl+Y applies a grade change): the palette (Ctrl+P) opens it
        Area("incidents", "", N_("Incident register"), "incident.manage", IncidentsScreen),
        # R-FU-4, the supervisors' daily check (palette; Ctrl+K in the front-desk register)
        Area("register_check", "", N_("Visitors without a register line"), "register.supervise",
             _lazy("crm_tui.ui.screens.register_check", "UnregisteredScreen")),
        # A/B posts (R-SEC-7) for supervisors and administrators: the palette (Ctrl+P) opens it
        Area("covers", "", N_("A/B posts"), "staff.ab_post", _lazy("crm_tui.ui.screens.covers", "CoversScreen")),
    ]


def _reports_screen(svc: Services, actor: Actor) -> Screen:
    from crm_tui.ui.screens.reports import ReportsScreen

    return ReportsScreen(svc, actor)


def _backup_screen(svc: Services, actor: Actor) -> Screen:
    from crm_tui.ui.screens.backup import BackupScreen

    return BackupScreen(svc, actor)


def _import_screen(svc: Services, actor: Actor) -> Screen:
    from crm_tui.ui.screens.importing import ImportScreen

    return ImportScreen(svc, actor)


class CrmApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "crm-tui"
    COMMANDS = {CrmCommands}
    ENABLE_COMMAND_PALETTE = True
    # The key Textual's Footer looks up for its right-hand "^p" hint, which crowds out the area keys
    # at 80 columns: pointed at a key nothing binds, so no hint. Ctrl+P itself is bound below; F1
    # and the README name it.
    COMMAND_PALETTE_BINDING = "f24"
    BINDINGS = [
        Binding("f1", "help", "Help", priority=True),
        Binding("ctrl+l", "lock", "Lock", priority=True),  # in dialogs too: the lock covers them
        Binding("f10", "home", "Home", priority=True),
        Binding("f2", "open('customers')", "Customers", priority=True),
        Binding("f3", "open('followups')", "Follow-ups", priority=True),
        Binding("f4", "open('complaints')", "Complaints", priority=True),
        Binding("f5", "open('grades')", "Grade changes", priority=True),
        Binding("f6", "open('reports')", "Reports", priority=True),
        Binding("f7", "open('staff')", "Staff", priority=True),
        Binding("f8", "open('audit')", "Audit", priority=True),
        Binding("ctrl+q", "sign_out", "Sign out"),
        Binding("f9", "open('backup')", "Backups", priority=True),
        Binding("f11", "open('import')", "Import", priority=True),
        Binding("f12", "open('approvals')", "Approvals", priority=True),
        # Textual adds its palette key in App.__init__, but localise_bindings (here and at a language
        # switch) rebuilds the bindings from the class: Ctrl+P was dropped and never opened. Declared
        # here it survives, with priority so that no Input or table takes the key first.
        Binding("ctrl+p", "palette", "Commands", show=False, priority=True),
    ]

    def __init__(self, svc: Services, *, demo: bool = False, throwaway: bool = False, lang: str | None = None,
                 idle_seconds: float | None = None, monotonic: Callable[[], float] = time.monotonic) -> None:
        if lang:
            set_language(lang)
        super().__init__()
        localise_bindings(self)
        self.svc = svc
        self.demo = demo
        self.throwaway = throwaway
        self.actor: Actor | None = None
        self.locked = False
        self.monotonic = monotonic
        self.last_input = monotonic()
        self.idle_seconds = idle_seconds
        self.idle_fixed = idle_seconds is not None  # else read from the settings at every tick
        self.worker_failures: list[str] = []  # what record_failure logged (ui/workers.py); tests look
        self.areas = _areas()
        self.sub_title = _("Customer management")

    # -- life cycle ------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.set_interval(1.0, self.idle_lock_tick, name="idle-lock")
        self.set_interval(SETTINGS_POLL_SECONDS, self.settings_tick, name="settings-watch")
        self.show_login()
        if getattr(self.svc, "lazy_pending", False):  # cli: load the services while the user types
            self.set_timer(2.0, self._load_services)  # or at the first key (on_event), if sooner

    def _load_services(self) -> None:
        if getattr(self.svc, "lazy_pending", False) and not getattr(self, "_services_loading", False):
            self._services_loading = True
            self.run_worker(self.svc.lazy_resolve, thread=True, name="load-services")

    def login_screen(self, notice: str | None = None) -> Screen:
        from crm_tui.ui.screens.login import LoginScreen

        notice = notice or (_("Demo: a throwaway database, deleted when the app exits.") if self.throwaway else None)
        if self.demo:
            from crm_tui import demo as demo_svc

            return LoginScreen(self.svc, demo_accounts=demo_svc.demo_accounts(), demo_password=demo_svc.DEMO_PASSWORD,
                               notice=notice)
        return LoginScreen(self.svc, notice=notice)

    def show_login(self, notice: str | None = None) -> None:
        self.push_screen(self.login_screen(notice))

    def on_login_screen_signed_in(self, message) -> None:  # type: ignore[no-untyped-def]
        self.start_session(message.signin)

    def start_session(self, signin: staff.SignIn) -> None:
        from crm_tui.ui.screens.login import ChangePasswordScreen

        self.actor = signin.actor
        self.last_input = self.monotonic()
        settle_heap()
        if signin.must_change_password:
            # Until it is changed the services refuse everything else (Actor.must_change_password);
            # the keys and the palette offer only the change, sign-out, help and language.
            self.push_screen(ChangePasswordScreen(self.svc, signin.actor, reason=signin.reason), self._password_changed)
        else:
            self.go_home()

    def _password_changed(self, ok: bool | None) -> None:
        from dataclasses import replace

        if ok and self.actor is not None:
            self.actor = replace(self.actor, must_change_password=False)
        if self.actor is not None and not self.actor.must_change_password:
            self.go_home()

    @property
    def password_pending(self) -> bool:
        return self.actor is not None and self.actor.must_change_password

    def home_screen(self) -> Screen:
        from crm_tui.ui.screens.home import HomeScreen

        assert self.actor is not None
        areas = [(self.get_key_display(Binding(a.key, "")), _(a.label), f"open('{a.name}')")
                 for a in self.areas if a.key and (a.permission is None or self.actor.can(a.permission))]
        return HomeScreen(self.svc, self.actor, areas)

    def go_home(self) -> None:
        """A fresh home screen for the current actor, replacing whatever the stack held."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(self.home_screen())
        self.refresh_bindings()
        self.open_due_list_if_overdue()

    # -- keys, idle lock ------------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self.last_input = self.monotonic()
            if getattr(self.svc, "lazy_pending", False):
                self._load_services()
        if isinstance(event, events.Key) and not event.is_forwarded and not getattr(event, "crm_replayed", False):
            pending = getattr(self.screen, "type_ahead", None)
            if pending is not None:  # the screen is still being built: keep the key for it (ui/base.py)
                pending.append(event)
                return
        await super().on_event(event)

    def idle_lock_tick(self) -> None:
        if self.actor and not self.idle_fixed:  # signed in: the services are loaded
            self.idle_seconds = float(self.svc.setting("security", "idle_lock_minutes")) * 60
        if self.actor and not self.locked and self.idle_seconds and \
                self.monotonic() - self.last_input >= self.idle_seconds:
            self.action_lock(reason="idle")

    def action_lock(self, reason: str = "key") -> None:
        from crm_tui.services import staff
        from crm_tui.ui.screens.login import LockScreen, Unlock

        if not self.actor or self.locked:
            return
        self.locked = True
        self.cancel_screen_work(lock=True)
        self.record_later(self.actor, "auth.lock", reason=reason)  # the screen locks at once

        def unlocked(result: Unlock | None) -> None:
            self.locked = False
            self.last_input = self.monotonic()
            if result is None or result.same:
                return
            assert result.signin is not None
            old = self.actor
            if old:
                self.record_later(old, "auth.logout", reason="user_switch", next=result.signin.actor.username)
            self.start_session(result.signin)

        self.push_screen(LockScreen(self.svc, self.actor), unlocked)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            name = str(parameters[0]) if parameters else ""
            area = next((a for a in self.areas if a.name == name), None)
            if area is None or self.actor is None or self.locked:
                return False  # not signed in, or not this build: hidden
            return area.permission is None or self.actor.can(area.permission)
        if action in ("lock", "home"):
            return self.actor is not None and not self.locked and not self.password_pending
        if action == "sign_out":
            return self.actor is not None and not self.locked
        return True

    # -- actions ---------------------------------------------------------------------------------
    def action_open(self, name: str) -> None:
        area = next((a for a in self.areas if a.name == name), None)
        if area is None or self.actor is None or self.locked:
            return
        if area.permission and not self.actor.can(area.permission):
            try:
                self.svc.require(self.actor, area.permission)
            except Exception as e:  # noqa: BLE001 - the refusal is shown and audited
                self.notify(str(e), severity="error")
            return
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.push_screen(area.build(self.svc, self.actor))

    def open_archive(self, svc: Services, actor: Actor, customer_id: int) -> None:
        """One customer archive, over the current screen. For the screens the archive opens itself
        (its form, the front desk's dialogs): they ask the app, and so need not import the archive
        screen that imports them."""
        from crm_tui.ui.screens.customers import CustomerDetailScreen

        self.push_screen(CustomerDetailScreen(svc, actor, customer_id))

    def action_home(self) -> None:
        if self.actor and not self.password_pending:
            while len(self.screen_stack) > 2:
                self.pop_screen()

    def action_back(self) -> None:
        if len(self.screen_stack) > 2:
            self.pop_screen()

    def action_help(self) -> None:
        from crm_tui.ui.screens.help import HelpScreen

        if type(self.screen).__name__ == "HelpScreen":
            return
        self.push_screen(HelpScreen(self.screen))

    def action_sign_out(self) -> None:
        from crm_tui.services import staff
        from crm_tui.ui.widgets.dialogs import ConfirmDialog

        if not self.actor:
            self.exit()
            return

        def done(yes: bool | None) -> None:
            if not yes or not self.actor:
                return
            self.record_later(self.actor, "auth.logout", reason="sign_out")
            self.actor = None
            self.cancel_screen_work()
            while len(self.screen_stack) > 2:
                self.pop_screen()
            self.switch_screen(self.login_screen())

        self.push_screen(ConfirmDialog(_("Sign out? Unsaved input on open screens is discarded."),
                                       yes=_("Sign out"), no=_("Stay")), done)

    def action_quit_app(self) -> None:
        from crm_tui.domain.errors import CrmError
        from crm_tui.services import staff

        if self.actor:
            try:
                staff.record_event(self.svc, self.actor, "auth.logout", reason="quit")
            except CrmError as e:  # DatabaseBusy: said, and the app stays open; quitting again retries
                self.notify(e.message, severity="error", timeout=8)
                return
        self.exit()

    def record_later(self, actor: Actor, action: str, **details: object) -> None:
        """An audit event (lock, sign-out, user switch) written in a worker: the screen acts at once
        even when another process (an import) holds the database; a busy database is retried for
        a while, and a row that still cannot be written is said, never the end of the app."""
        def write() -> None:
            from crm_tui.domain.errors import DatabaseBusy
            from crm_tui.services import staff

            for attempt in range(6):
                try:
                    staff.record_event(self.svc, actor, action, **details)
                    return
                except DatabaseBusy as e:
                    if attempt == 5:
                        self.call_from_thread(self.notify, e.message, severity="warning", timeout=8)
                        return

        self.run_worker(write, thread=True, group="audit-events", exit_on_error=False)

    def action_switch_language(self) -> None:
        set_language("en" if get_language() == "zh_CN" else "zh_CN")
        localise_bindings(self)
        for screen in self.screen_stack:
            localise_bindings(screen)
            screen.refresh(recompose=True)
            if hasattr(screen, "TITLE_MSGID") and screen.TITLE_MSGID:
                screen.title = _(screen.TITLE_MSGID)
        self.sub_title = _("Customer management")
        self.refresh_bindings()

    def action_cover(self) -> None:
        """A/B post: start working as cover for an absent colleague."""
        from crm_tui.services import staff

        if not self.actor or self.password_pending:
            return
        covers = staff.covers(self.svc, on=self.svc.now().date(), backup_id=self.actor.staff_id)
        if not covers:
            self.notify(_("You have no A/B arrangement for today."))
            return
        self.actor = staff.act_on_behalf(self.svc, self.actor, covers[0].absent_id)
        self.notify(_("Working on behalf of {name}; your actions are recorded as cover.", name=covers[0].absent_name))
        self.go_home()

    # -- background work (ui/workers.py) -----------------------------------------------------------
    def cancel_screen_work(self, *, lock: bool = False) -> None:
        """Cancel the workers of every screen on the stack: all of them (sign-out), or on lock the
        loaders, which run again when their screen shows after the unlock."""
        for screen in self.screen_stack:
            cancel = getattr(screen, "cancel_loaders", None)
            if cancel is not None:
                cancel(lock=lock)

    def settings_tick(self) -> None:
        """Settings changed elsewhere (``crm-tui settings set``) apply within seconds: the check
        (``PRAGMA data_version``) and the reload run in a thread, never on the keys' path."""
        if self.actor is None or getattr(self.svc, "lazy_pending", False):
            return
        from crm_tui.services import settings

        self.run_worker(lambda: settings.refresh_if_changed(self.svc), thread=True, group="settings-watch",
                        exclusive=True, exit_on_error=False, name="settings-watch")

    def _handle_exception(self, error: Exception) -> None:
        """A failed worker is a message to the user, never the end of the app (issue 17); any other
        unhandled error still ends it through ``_fatal_error``."""
        from textual.worker import WorkerFailed

        if isinstance(error, WorkerFailed):
            from crm_tui.ui.workers import record_failure

            record_failure(self, error.error, "app")
            return
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """An unexpected error: the details (no local variables: they may hold passwords) go to the
        crash log beside the database, the screen gets one line, and the app closes. Every save
        already acknowledged is committed; nothing half-done was."""
        from rich.text import Text

        from crm_tui.services.system import crash_text

        exc = self._exception
        path = self.svc.store.db_file.parent / "logs" / "crash.log"
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(crash_text(exc))
            where = str(path)
        except OSError:
            where = "-"
        self.bell()
        self._exit_renderables.append(Text(_("Unexpected error ({kind}); the app closed. Saved work is safe. "
                                             "Details: {path}", kind=type(exc).__name__, path=where)))
        self._close_messages_no_wait()

    def palette_commands(self) -> list[tuple[str, str, str]]:
        cmds: list[tuple[str, str, str]] = []
        if self.actor and not self.locked and self.password_pending:
            cmds.append((_("Change password"), _("Choose a new password"), "change_password"))
            cmds.append((_("Sign out"), _("End this session and return to sign-in"), "sign_out"))
        elif self.actor and not self.locked:
            cmds.append((_("Home"), _("Today's work"), "home"))
            for a in self.areas:
                if a.permission is None or self.actor.can(a.permission):
                    cmds.append((_(a.label), _("Open {area}", area=_(a.label)), f"open('{a.name}')"))
            cmds.append((_("Lock the screen"), _("Lock now; unlock with your password"), "lock"))
            cmds.append((_("Change password"), _("Choose a new password"), "change_password"))
            cmds.append((_("Work as A/B cover"), _("Work the queues of a colleague you cover for today"), "cover"))
            cmds.append((_("Sign out"), _("End this session and return to sign-in"), "sign_out"))
        cmds.append((_("Help: keys of this screen"), "F1", "help"))
        cmds.append((_("Switch language 中文/English"), _("Change the interface language"), "switch_language"))
        cmds.append((_("Quit"), _("Close the application"), "quit_app"))
        if not self.password_pending:
            from textual.actions import parse

            for extra in getattr(self.screen, "palette_commands", lambda: [])():
                target, name, params = parse(extra[2])
                if target == "screen" and self.screen.check_action(name, params) is False:
                    continue  # the role may not: not offered (the screen's ACTION_PERMISSIONS, check_action)
                cmds.append(extra)
        return cmds

    def get_system_commands(self, screen: Screen):  # type: ignore[no-untyped-def]
        yield from ()  # our own provider lists everything, translated

    def action_palette(self) -> None:
        self.action_command_palette()

    def action_change_password(self) -> None:
        from crm_tui.ui.screens.login import ChangePasswordScreen

        if self.actor and not isinstance(self.screen, ChangePasswordScreen):
            self.push_screen(ChangePasswordScreen(self.svc, self.actor))

    def open_due_list_if_overdue(self) -> None:
        """Follow-ups (issue 6): a consultant with overdue visits starts on the due list."""
        from crm_tui.services import followups

        if self.actor and self.check_action("open", ("followups",)) and followups.has_overdue(self.svc, self.actor):
            self.call_later(self.action_open, "followups")


def make_app(svc: Services, *, demo: bool = False, throwaway: bool = False, lang: str | None = None,
             idle_seconds: float | None = None, monotonic: Callable[[], float] = time.monotonic) -> CrmApp:
    """The app factory; tests build the same app with a fixed clock and idle timer."""
    return CrmApp(svc, demo=demo, throwaway=throwaway, lang=lang, idle_seconds=idle_seconds, monotonic=monotonic)
