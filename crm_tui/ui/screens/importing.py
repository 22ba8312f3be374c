"""Import customers from a spreadsheet (F11, administrators): choose the file, check the column
mapping (automatic from the headers, Enter changes a column, saved by name for reuse), dry run with
errors by row and column, then import every row or only the valid ones. Progress shows rows per
second; Esc cancels a running import, which then leaves nothing behind."""

from __future__ import annotations

import threading
import time

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Input, Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _
from crm_tui.services import importing
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal, BaseScreen, enter_in
from crm_tui.ui.widgets.columns import cell, cells, fixed_columns, widest
from crm_tui.ui.widgets.dialogs import ConfirmDialog, PromptDialog

ERRORS_SHOWN = 500


class ChoiceDialog(BaseModal[str | None]):
    """Pick one of a list (a field for a column, a saved mapping). Enter picks, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, choices: list[tuple[str, str]], current: str | None = None) -> None:
        super().__init__()
        self.question = question
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-box"):
            yield Label(self.question)
            # a saved mapping's name is shown as typed, never read as markup
            yield OptionList(*[Option(cell(label), id=value) for value, label in self.choices], id="choice-list")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ol.focus()
        ids = [v for v, _l in self.choices]
        if self.current in ids:
            ol.highlighted = ids.index(self.current)

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ImportScreen(BaseScreen[None]):
    TITLE_MSGID = "Import customers"
    BINDINGS = [
        Binding("ctrl+d", "dry_run", "Dry run"),
        Binding("ctrl+s", "import_all", "Import all or nothing"),
        Binding("ctrl+e", "import_valid", "Import valid rows"),
        Binding("ctrl+u", "toggle_duplicates", "Duplicates: list / fill blanks"),
        Binding("ctrl+k", "save_mapping", "Save mapping"),
        Binding("ctrl+o", "load_mapping", "Saved mappings"),
        Binding("escape", "cancel_or_back", "Back / cancel"),
        ENTER_BINDING,
    ]

    def __init__(self, svc: Services, actor: Actor, path: str = "") -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.initial_path = path
        self.table: importing.Table | None = None
        self.mapping: dict[str, str] = {}
        self.plan: importing.Plan | None = None
        self.cancel = threading.Event()
        self.running = False
        self.started = 0.0
        self.duplicates = "list"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="import-file-row"):
            yield Label(_("File"), classes="field-label")
            yield Input(self.initial_path, placeholder=_("path to a .csv or .xlsx file, then Enter"), id="import-path")
        yield Static("", id="import-info")
        with Horizontal(id="import-body"):
            yield DataTable(id="import-mapping", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="import-errors", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="import-progress-row"):
            # determinate from the start (an idle bar bounced, as if something ran); shown from the
            # first check or import on
            yield ProgressBar(id="import-progress", show_eta=False, total=1)
            yield Static("", id="import-rate")
        yield Static("", id="import-message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        fields = [_(label) for label in importing.known_fields().values()] + [_("(not imported)")]
        fixed_columns(self.query_one("#import-mapping", DataTable), (_("Column in the file"), 16),
                      (_("Archive field"), widest(fields, cap=24)), (_("First value"), 24))
        fixed_columns(self.query_one("#import-errors", DataTable), (_("Row"), 6), (_("Column"), 16),
                      (_("Problem"), 100))
        self.query_one("#import-path", Input).focus()
        if self.initial_path:
            self.open_file(self.initial_path)

    def _message(self, text: str) -> None:
        self.query_one("#import-message", Static).update(text)

    # -- the file and its mapping --------------------------------------------------------------
    async def action_enter(self) -> None:
        """Enter in the path opens the file when the key arrives, with the whole path typed (or
        pasted) before it; on the mapping it changes the column's field."""
        await enter_in(self, {"import-path": self.path_entered})

    def path_entered(self) -> None:
        path = self.query_one("#import-path", Input).value.strip()
        if path:
            self.open_file(path)

    def open_file(self, path: str) -> None:
        self.run_loader(importing.read_file, path, on_result=self._opened, on_error=lambda e: self._message(e.message),
                        group="import-read")

    def _opened(self, table: importing.Table) -> None:
        self.table = table
        self.mapping = importing.auto_mapping(table.headers)
        self.plan = None
        self.query_one("#import-info", Static).update(_("{name}: {rows} rows, {encoding}.", name=table.name,
                                                        rows=len(table.rows), encoding=table.encoding_label))
        self._show_mapping()
        self.query_one("#import-errors", DataTable).clear()
        self._message(_("Check the mapping (Enter on a column changes it), then Ctrl+D for a dry run."))
        self.query_one("#import-mapping", DataTable).focus()

    def _show_mapping(self) -> None:
        assert self.table is not None
        dt = self.query_one("#import-mapping", DataTable)
        first = self.table.rows[0][1] if self.table.rows else []
        with self.app.batch_update():
            dt.clear()
            for i, h in enumerate(self.table.headers):
                f = self.mapping.get(h)
                label = importing.header_label(f) if f and f != "ignore" else _("(not imported)")
                dt.add_row(*cells(h, label, first[i] if i < len(first) else ""), key=h)

    @on(DataTable.RowSelected, "#import-mapping")
    def change_field(self, event: DataTable.RowSelected) -> None:
        if self.table is None or self.running:
            return
        header = self.table.headers[event.cursor_row]
        choices = [("ignore", _("(not imported)"))] + [
            (f, f"{_(label)} ({f})") for f, label in importing.known_fields().items() if f != "ignore"]

        def chosen(value: str | None) -> None:
            if value is None:
                return
            if value == "ignore":
                self.mapping.pop(header, None)
            else:
                for h, f in list(self.mapping.items()):
                    if f == value and h != header:
                        del self.mapping[h]  # one column per field
                self.mapping[header] = value
            self.plan = None
            self._show_mapping()

        self.app.push_screen(ChoiceDialog(_("Archive field for the column '{column}'", column=header), choices,
                                          self.mapping.get(header, "ignore")), chosen)

    def action_save_mapping(self) -> None:
        if not self.mapping:
            return

        def named(name: str | None) -> None:
            if not name:
                return
            try:
                importing.save_mapping(self.svc, self.actor, name, self.mapping)
                self._message(_("Mapping saved as '{name}'.", name=name))
            except CrmError as e:
                self._message(e.message)

        self.app.push_screen(PromptDialog(_("Name for this column mapping"), max_length=60), named)

    def action_load_mapping(self) -> None:
        if self.table is None:
            return
        try:
            names = importing.list_mappings(self.svc, self.actor)
        except CrmError as e:
            self._message(e.message)
            return
        if not names:
            self._message(_("No saved mappings yet (Ctrl+K saves this one)."))
            return

        def chosen(name: str | None) -> None:
            if name is None or self.table is None:
                return
            saved = importing.load_mapping(self.svc, self.actor, name)
            self.mapping = {h: f for h, f in saved.items() if h in self.table.headers}
            self.plan = None
            self._show_mapping()

        self.app.push_screen(ChoiceDialog(_("Saved column mappings"), [(n, n) for n in names]), chosen)

    # -- dry run and import --------------------------------------------------------------------
    def _progress(self, done: int, total: int) -> None:
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=max(total, 1), progress=done)
        secs = max(time.monotonic() - self.started, 1e-6)
        self.query_one("#import-rate", Static).update(_("{done}/{total} rows, {rate:.0f} rows/s", done=done,
                                                        total=total, rate=done / secs))

    def _start(self) -> bool:
        if self.table is None or self.running:
            return False
        self.running = True
        self.cancel.clear()
        self.started = time.monotonic()
        self.query_one("#import-progress-row").display = True
        return True

    def action_dry_run(self) -> None:
        if self._start():
            self._message(_("Checking every row ..."))
            self._dry_run(then=None)

    def _dry_run(self, then: bool | None) -> None:
        assert self.table is not None
        self.run_action(importing.plan, self.svc, self.actor, self.table, dict(self.mapping), cancel=self.cancel,
                        progress=self.progress(self._progress), group="import-run",
                        on_result=lambda plan: self._planned(plan, then), on_error=lambda e: self._finished(e.message),
                        on_done=self._stopped)

    def _planned(self, plan: importing.Plan, then: bool | None) -> None:
        self.plan = plan
        self.query_one("#import-rate", Static).update(_("{n} rows checked", n=plan.total))
        errors = self.query_one("#import-errors", DataTable)
        with self.app.batch_update():
            errors.clear()
            for e in plan.errors[:ERRORS_SHOWN]:
                errors.add_row(*cells(e.row, e.column, e.reason))
            for d in plan.duplicates[:ERRORS_SHOWN]:
                errors.add_row(*cells(d.row, "", _("{name} is already customer {number} (same {what}); not imported",
                                                   name=d.name, number=d.existing_number,
                                                   what=importing.header_label(d.matched))))
        summary = _("Dry run: {ready} rows ready, {bad} rows with errors, {dups} duplicates of existing customers.",
                    ready=len(plan.ready), bad=plan.bad_rows, dups=len(plan.duplicates))
        self.running = False
        if then is None:
            self._message(summary)
            return
        self._confirm(then, summary)

    def _confirm(self, all_or_nothing: bool, summary: str) -> None:
        assert self.plan is not None
        if all_or_nothing and self.plan.errors:
            self._message(summary + " " + _("Nothing was imported: correct the file, or import the valid rows (Ctrl+E)."))
            return
        if not self.plan.ready and not (self.duplicates == "fill" and self.plan.duplicates):
            self._message(summary + " " + _("Nothing to import."))
            return

        def answer(yes: bool | None) -> None:
            if yes and self._start():
                self._message(_("Importing ... (Esc cancels; nothing stays behind)"))
                self._write(all_or_nothing)

        self.app.push_screen(ConfirmDialog((summary + "\n\n" if summary else "") + _(
            "Import {n} customers now? A backup is taken first.", n=len(self.plan.ready)),
            yes=_("Import"), no=_("Not now")), answer)

    def action_toggle_duplicates(self) -> None:
        self.duplicates = "fill" if self.duplicates == "list" else "list"
        self._message(_("Rows already in the archive will fill its blank fields (nothing is overwritten).")
                      if self.duplicates == "fill" else _("Rows already in the archive are listed, not imported."))

    def action_import_all(self) -> None:
        self._import(True)

    def action_import_valid(self) -> None:
        self._import(False)

    def _import(self, all_or_nothing: bool) -> None:
        if self.table is None or self.running:
            return
        if self.plan is None:
            self._start()
            self._message(_("Checking every row ..."))
            self._dry_run(then=all_or_nothing)
            return
        self._confirm(all_or_nothing, "")

    def _write(self, all_or_nothing: bool) -> None:
        assert self.plan is not None
        self.run_action(importing.run, self.svc, self.actor, self.plan, all_or_nothing=all_or_nothing,
                        cancel=self.cancel, duplicates=self.duplicates, progress=self.progress(self._progress),
                        on_result=self._imported, on_error=lambda e: self._finished(e.message), on_done=self._stopped,
                        group="import-run")

    def _imported(self, result) -> None:  # type: ignore[no-untyped-def]
        self.plan = None
        self._finished(_("Imported {n} customers in {s:.1f} s ({rate:.0f} rows/s); backup before the import: {backup}.",
                         n=result.imported, s=result.seconds, rate=result.rows_per_second, backup=result.backup or "-"))

    def _finished(self, text: str) -> None:
        self.running = False
        self._message(text)

    def _stopped(self) -> None:
        self.running = False

    def on_unmount(self) -> None:
        """Left while an import runs (another area's key, sign-out): it stops and leaves nothing."""
        self.cancel.set()

    def action_cancel_or_back(self) -> None:
        if self.running:
            self.cancel.set()
            self._message(_("Cancelling ..."))
            return
        self.app.action_back()
