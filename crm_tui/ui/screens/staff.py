"""Staff accounts (administrators) and A/B post arrangements."""

from __future__ import annotations

from datetime import date

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from crm_tui.domain.errors import CrmError, ValidationError
from crm_tui.domain.roles import all_roles, role_label
from crm_tui.domain.validation import parse_day
from crm_tui.i18n import _
from crm_tui.services import staff
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal, BaseScreen, enter_in
from crm_tui.ui.parts.form import Field, FormPart
from crm_tui.ui.widgets.columns import DATE_TIME, cells, fixed_columns, widest
from crm_tui.ui.widgets.dialogs import ConfirmDialog, InfoDialog


class AccountForm(FormPart, BaseModal[tuple[str, str, list[str], str] | None]):
    """New account: user name, display name, roles, whose approval (R-SEC-1). Ctrl+S saves."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]

    def __init__(self, *, roles: tuple[str, ...] = (), username: str | None = None,
                 actor: Actor | None = None) -> None:
        super().__init__()
        self.actor = actor
        self.initial_roles = roles
        self.edit_username = username

    def compose(self) -> ComposeResult:
        fields = [Field("roles", _("Roles (Space to tick)"), "ticks", value=self.initial_roles,
                        choices=[(r.name, code) for code, r in all_roles().items()])]
        with Vertical(classes="box dialog"):
            if self.edit_username:
                yield Label(_("Roles of {user}", user=self.edit_username), classes="box-title")
            else:
                yield Label(_("New staff account"), classes="box-title")
                fields[:0] = [
                    Field("username", _("User name (letters, digits; used to sign in)"), max_length=40, enter="next"),
                    Field("display", _("Display name"), max_length=40, enter="next"),
                    Field("approval", _("Approved by (department head, R-SEC-1)"), max_length=100, enter="next"),
                ]
            yield from self.compose_fields(fields)
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def action_save(self) -> None:
        v = self.form_values()
        roles = v["roles"]
        errors = {}
        if not self.edit_username and not v["username"].strip():
            errors["username"] = _("Type a user name.")
        if not self.edit_username and self.actor is not None:
            try:  # R-SEC-1: the service refuses an account without its approver; say so next to the field
                staff.check_approver(self.actor, v["approval"])
            except ValidationError as e:
                errors["approval"] = e.message
        if not roles:
            errors["roles"] = _("Give the account at least one role.")
        if errors:
            self.show_errors(errors)
            return
        if self.edit_username:
            self.dismiss(("", "", roles, ""))
            return
        self.dismiss((v["username"].strip(), v["display"].strip(), roles, v["approval"].strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)


class CoverForm(FormPart, BaseModal[tuple[str, str, date, date, str] | None]):
    """A/B post: who is away, who covers, from, to, note."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]

    def __init__(self, absent: str, today: date) -> None:
        super().__init__()
        self.absent = absent
        self.today = today

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog"):
            yield Label(_("A/B post: cover for an absent colleague"), classes="box-title")
            yield from self.compose_fields([
                Field("absent", _("Absent colleague (user name)"), value=self.absent, max_length=40, enter="next"),
                Field("backup", _("Backup colleague (user name)"), max_length=40, enter="next"),
                Field("start", _("From (YYYY-MM-DD)"), value=self.today.isoformat(), max_length=10, enter="next"),
                Field("end", _("To (YYYY-MM-DD)"), value=self.today.isoformat(), max_length=10, enter="next"),
                Field("note", _("Handover note"), enter="next"),
            ])
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def action_save(self) -> None:
        v = {name: value.strip() for name, value in self.form_values().items()}
        errors: dict[str, str] = {}
        for who in ("absent", "backup"):
            if not v[who]:
                errors[who] = _("Name both colleagues.")
        days: dict[str, date] = {}
        for when in ("start", "end"):
            try:  # 2026-12-6, 12/6 ...
                days[when] = parse_day(v[when], when, today=self.today, allow_future=True)
            except ValidationError as e:
                errors[when] = e.message
        if len(days) == 2 and days["end"] < days["start"]:
            errors["end"] = _("The end is before the start.")
        if errors:
            self.show_errors(errors)
            return
        self.dismiss((v["absent"], v["backup"], days["start"], days["end"], v["note"]))

    def action_cancel(self) -> None:
        self.dismiss(None)


class HandoverDialog(BaseModal[tuple[str, str] | None]):
    """A leaver still holds work (R-CUST-11): what they hold, and the colleague who takes it all
    over (a list: arrows, Enter), with a note; Ctrl+S or Enter in the note hands over and disables."""

    BINDINGS = [Binding("ctrl+s", "save", "Hand over and disable"), Binding("escape", "cancel", "Cancel"),
                ENTER_BINDING]

    def __init__(self, leaver: staff.StaffRow, held: dict[str, int], colleagues: list[staff.StaffRow]) -> None:
        super().__init__()
        self.leaver = leaver
        self.held = held
        self.colleagues = colleagues

    def compose(self) -> ComposeResult:
        from textual.widgets import OptionList
        from textual.widgets.option_list import Option

        with Vertical(classes="box dialog", id="handover-dialog"):
            yield Label(_("{name} is leaving: hand over first", name=self.leaver.display_name), classes="box-title")
            yield Static("\n".join(f"• {_(staff.HOLDING_LABELS[k])}: {n}" for k, n in self.held.items()),
                         id="held")
            yield Label(_("Hand everything over to (arrows, Enter)"))
            yield OptionList(*[Option(f"{c.display_name} ({c.username})", id=c.username) for c in self.colleagues],
                             id="receiver")
            yield Label(_("Handover note"))
            yield Input(id="note", max_length=200)
            yield Static(_("The customers are marked to be told of their new contact."), classes="hint")
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        from textual.widgets import OptionList

        lst = self.query_one("#receiver", OptionList)
        if self.colleagues:
            lst.highlighted = 0
        lst.focus()

    def on_option_list_option_selected(self, event) -> None:  # type: ignore[no-untyped-def]
        self.query_one("#note", Input).focus()

    async def action_enter(self) -> None:
        await enter_in(self, {"note": self.action_save})

    def action_save(self) -> None:
        from textual.widgets import OptionList

        lst = self.query_one("#receiver", OptionList)
        if lst.highlighted is None or not self.colleagues:
            self.query_one("#form-message", Static).update(_("Choose the colleague who takes over."))
            lst.focus()
            return
        self.dismiss((self.colleagues[lst.highlighted].username, self.query_one("#note", Input).value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)


class StaffScreen(BaseScreen[None]):
    TITLE_MSGID = "Staff accounts"
    BINDINGS = [
        Binding("a", "add", "New account"),
        Binding("r", "roles", "Roles"),
        Binding("d", "toggle", "Disable/enable"),
        Binding("p", "reset", "Reset password"),
        Binding("b", "cover", "A/B post"),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.rows: list[staff.StaffRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="staff-body"):
            yield DataTable(id="staff-table", cursor_type="row", zebra_stripes=True)
        yield Label(_("A/B posts in force or planned"), classes="section")
        yield Static("", id="covers")
        yield Static("", id="staff-message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        states = (_("disabled"), _("locked"), _("one-time password"), _("active"))
        # the roles (several may be joined) last, so the state and the last sign-in stay on screen
        fixed_columns(table, (_("User name"), 12), (_("Name"), 10), (_("State"), widest(states)),
                      (_("Last sign-in"), DATE_TIME), (_("Roles"), 40))
        table.focus()
        self.load()

    def load(self) -> None:
        def read() -> tuple[list[staff.StaffRow], list[staff.Cover]]:
            return staff.list_staff(self.svc, self.actor), staff.covers(self.svc)

        self.run_loader(read, on_result=lambda r: self._show(*r), group="staff")

    def _show(self, rows: list[staff.StaffRow], cover: list[staff.Cover]) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        row_index = table.cursor_row
        now = self.svc.now()
        with self.app.batch_update():
            table.clear()
            for r in rows:
                if not r.active:
                    state = _("disabled")
                elif r.locked_until and r.locked_until > now:
                    state = _("locked")
                elif r.must_change_password:
                    state = _("one-time password")
                else:
                    state = _("active")
                table.add_row(*cells(r.username, r.display_name, state,
                                     f"{r.last_login_at:%Y-%m-%d %H:%M}" if r.last_login_at else "-",
                                     "、".join(role_label(x) for x in r.roles)), key=r.username)
            if rows:
                table.move_cursor(row=min(row_index, len(rows) - 1))
        lines = [_("{absent} → {backup}, {start} to {end}  {note}", absent=c.absent_name, backup=c.backup_name,
                   start=c.start_date.isoformat(), end=c.end_date.isoformat(), note=c.note or "") for c in cover]
        self.query_one("#covers", Static).update("\n".join(lines) or _("None."))

    def current(self) -> staff.StaffRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    def _try(self, fn, *args):  # type: ignore[no-untyped-def]
        try:
            return fn(*args)
        except CrmError as e:
            self.notify(e.message, severity="error", timeout=8)
            return None

    def action_add(self) -> None:
        def done(result: tuple[str, str, list[str], str] | None) -> None:
            if not result:
                return
            username, display, roles, approval = result
            out = self._try(staff.add_user, self.svc, self.actor, username, roles, display or None, approval or None)
            if out:
                self.load()
                self.app.push_screen(InfoDialog(
                    _("Account {user} created", user=username),
                    _("One-time password (shown once, must be changed at first sign-in):\n\n    {otp}", otp=out[1])))

        self.app.push_screen(AccountForm(actor=self.actor), done)

    def action_roles(self) -> None:
        row = self.current()
        if not row:
            return

        def done(result: tuple[str, str, list[str], str] | None) -> None:
            if result and self._try(staff.set_roles, self.svc, self.actor, row.username, result[2]):
                self.notify(_("Roles of {user} updated.", user=row.username))
                self.load()

        self.app.push_screen(AccountForm(roles=row.roles, username=row.username), done)

    def action_toggle(self) -> None:
        row = self.current()
        if not row:
            return
        if row.active:
            held = self._try(staff.holdings, self.svc, self.actor, row.username)
            if held is None:
                return
            if held:
                self._hand_over(row, held)
                return
        question = (_("Disable the account {user}? It is kept (history keeps the name) and can be enabled again.",
                      user=row.username) if row.active else _("Enable the account {user} again?", user=row.username))

        def done(yes: bool | None) -> None:
            if yes:
                fn = staff.disable_user if row.active else staff.enable_user
                self._try(fn, self.svc, self.actor, row.username)
                self.load()

        self.app.push_screen(ConfirmDialog(question), done)

    def action_reset(self) -> None:
        row = self.current()
        if not row:
            return

        def done(yes: bool | None) -> None:
            if yes:
                otp = self._try(staff.reset_password, self.svc, self.actor, row.username)
                if otp:
                    self.load()
                    self.app.push_screen(InfoDialog(_("New one-time password for {user}", user=row.username),
                                                    f"\n    {otp}"))

        self.app.push_screen(ConfirmDialog(_("Give {user} a new one-time password?", user=row.username)), done)

    def action_cover(self) -> None:
        row = self.current()

        def done(result: tuple[str, str, date, date, str] | None) -> None:
            if result and self._try(staff.set_cover, self.svc, self.actor, *result[:4], result[4] or None):
                self.notify(_("A/B post recorded."))
                self.load()

        self.app.push_screen(CoverForm(row.username if row else "", self.svc.now().date()), done)

    def _hand_over(self, row: staff.StaffRow, held: dict[str, int]) -> None:
        colleagues = [r for r in self.rows if r.active and r.username != row.username]

        def done(result: tuple[str, str] | None) -> None:
            if not result:
                return
            moved = self._try(lambda: staff.disable_user(self.svc, self.actor, row.username,
                                                         handover_to=result[0], note=result[1]))
            if moved is not None:
                self.notify(_("Handed over to {other}: {what}", other=result[0], what=staff.holdings_text(moved)),
                            timeout=10)
                self.notify(_("Account {user} disabled.", user=row.username))
                self.load()

        self.app.push_screen(HandoverDialog(row, held, colleagues), done)
