"""Backups for administrators (F9): the list with each copy's verification, back up now, verify
again, and how to restore (restore needs the app closed, so it is a command)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import N_, _
from crm_tui.services import backup
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import BaseScreen
from crm_tui.ui.widgets.columns import DATE_TIME, cells, fixed_columns, widest
from crm_tui.ui.widgets.dialogs import InfoDialog

REASONS = {
    "manual": N_("by hand"), "daily": N_("daily"), "init": N_("set-up"), "pre-import": N_("before an import"),
    "pre-restore": N_("before a restore"), "pre-rotate": N_("before a key rotation"),
    "rotated": N_("after a key rotation"), "restored": N_("after a restore"),
}


def verified_text(problems: tuple[str, ...] | None) -> str:
    if problems is None:
        return _("not verified")
    if not problems:
        return _("verified")
    return _("damaged: {what}", what=", ".join(backup.problem_text(p) for p in problems))


def size_text(n: int) -> str:
    return f"{n / 1_048_576:.1f} MiB" if n >= 1_048_576 else f"{n / 1024:.0f} KiB"


class BackupScreen(BaseScreen[None]):
    TITLE_MSGID = "Backups"
    BINDINGS = [
        Binding("ctrl+b", "backup_now", "Back up now"),
        Binding("ctrl+v", "verify", "Verify selected"),
        Binding("ctrl+r", "how_to_restore", "How to restore"),
        Binding("r", "refresh", "Refresh"),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.rows: list[backup.BackupRow] = []
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="backup-status")
        yield DataTable(id="backup-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="backup-message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        # a damaged copy's problems end in '…' here and show in full after Ctrl+V; the file name last
        fixed_columns(table, (_("Taken at"), DATE_TIME), (_("Occasion"), widest(_(r) for r in REASONS.values())),
                      (_("File size"), len("123.4 MiB")), (_("Customers"), 6), (_("Schema"), 4),
                      (_("Verification"), 20),
                      (_("File"), len("crm-20261123-103000-pre-restore.db")))
        table.focus()
        self.load()

    def action_refresh(self) -> None:
        self.load()

    def load(self) -> None:
        self.run_loader(backup.list_backups, self.svc, self.actor, on_result=self._show,
                        on_error=lambda e: self._message(e.message), group="backup-list")

    def _message(self, text: str) -> None:
        self.query_one("#backup-message", Static).update(text)

    def _show(self, rows: list[backup.BackupRow]) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        with self.app.batch_update():
            table.clear()
            for r in rows:
                table.add_row(*cells(f"{r.taken_at:%Y-%m-%d %H:%M}", _(REASONS.get(r.reason, r.reason)),
                                     size_text(r.size), r.customers, r.schema, verified_text(r.problems), r.name),
                              key=r.name)
        if rows:
            age = (self.svc.now() - rows[0].taken_at).total_seconds() / 3600
            status = _("Newest backup: {when}, {hours:.0f} h ago, {result}. {n} backups kept.",
                       when=f"{rows[0].taken_at:%Y-%m-%d %H:%M}", hours=max(0.0, age),
                       result=verified_text(rows[0].problems), n=len(rows))
        else:
            status = _("No backup yet: press Ctrl+B to make one.")
        self.query_one("#backup-status", Static).update(status)

    def action_backup_now(self) -> None:
        if self.busy:
            return
        self.busy = True
        self._message(_("Backing up ..."))
        self._run_backup()

    def _run_backup(self) -> None:
        def run() -> str:
            try:
                row, problems = backup.backup_now(self.svc, self.actor)
                return _("Backup written: {path} ({size}), {result}.", path=row.name, size=size_text(row.size),
                         result=verified_text(tuple(problems)))
            except CrmError as e:
                return e.message

        self.run_action(run, on_result=self._done, on_done=self._idle, group="backup-run")

    def _done(self, text: str) -> None:
        self.busy = False
        self._message(text)
        self.load()

    def _idle(self) -> None:
        self.busy = False

    def action_verify(self) -> None:
        table = self.query_one(DataTable)
        if self.busy or not self.rows or table.cursor_row < 0:
            return
        self.busy = True
        name = self.rows[table.cursor_row].name
        self._message(_("Verifying {name} ...", name=name))
        self._run_verify(name)

    def _run_verify(self, name: str) -> None:
        def run() -> str:
            try:
                problems = backup.verify_now(self.svc, self.actor, name)
                return f"{name}: {verified_text(tuple(problems))}"
            except CrmError as e:
                return e.message

        self.run_action(run, on_result=self._done, on_done=self._idle, group="backup-run")

    def action_how_to_restore(self) -> None:
        table = self.query_one(DataTable)
        path = str(self.rows[table.cursor_row].path) if self.rows and table.cursor_row >= 0 else "FILE"
        self.app.push_screen(InfoDialog(_("How to restore"), _(
            "A restore replaces the database, so it runs with the app closed:\n\n"
            "1. Quit the app on every computer using this database.\n"
            "2. Run: crm-tui --user {user} restore {path} --yes\n\n"
            "The backup is verified first, the current database is kept as a safety copy, and the audit "
            "trail is checked. On a new computer add --recovery-code and type the sealed recovery code.",
            user=self.actor.username, path=path)))
