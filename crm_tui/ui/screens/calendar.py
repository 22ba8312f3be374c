"""The holiday schedule (节假日安排, issue 16), for administrators: a year's days off and make-up
working days with where each comes from; add, edit or remove a day and import a file, keyboard only.
Every change goes through services.holidays (permission, audit, recomputed deadlines)."""

from __future__ import annotations

from datetime import date

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Label, Static

from crm_tui.domain.calendar import KIND_LABELS, ScheduleEntry
from crm_tui.domain.errors import CrmError, ValidationErrors
from crm_tui.i18n import _
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal, BaseScreen
from crm_tui.ui.parts.form import Field, FormPart
from crm_tui.ui.widgets.columns import DATE, cells, fixed_columns, widest
from crm_tui.ui.widgets.dialogs import ConfirmDialog, PromptDialog

FIELDS = ("day", "kind", "name")


class DayForm(FormPart, BaseModal[tuple[str, str, str] | None]):
    """One day of the schedule: date, 休 or 班, holiday name. Enter moves on, Ctrl+S saves."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]
    FORM_MESSAGE = None  # a refusal sits under its field; any other under the last one

    def __init__(self, svc: Services, actor: Actor, entry: ScheduleEntry | None = None,
                 day: date | None = None) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.entry = entry
        self.day = entry.day if entry else day

    def compose(self) -> ComposeResult:
        e = self.entry
        line = {"error": True, "error_classes": "message error"}  # always there: the dialog keeps its height
        with Vertical(classes="box dialog", id="day-form"):
            yield Label(_("Edit a day of the holiday schedule") if e else _("Add a day to the holiday schedule"),
                        classes="box-title")
            yield from self.compose_fields([
                Field("day", _("Date (YYYY-MM-DD)"), value=self.day.isoformat() if self.day else "", max_length=10,
                      enter="next", **line),
                Field("kind", _("Type: 休 (day off) or 班 (make-up working day)"), max_length=4, enter="next",
                      value=("休" if e.kind == "off" else "班") if e else "休", **line),
                Field("name", _("Holiday name"), value=e.name_label if e else "", max_length=30, enter="save",
                      focus=e is not None, **line),
            ])
        yield Footer()

    def on_mount(self) -> None:
        self.focus_first_field()

    def action_save(self) -> None:
        v = {f: value.strip() for f, value in self.form_values(FIELDS).items()}
        values = tuple(v[f] for f in FIELDS)
        self.clear_errors()
        try:
            holidays.set_day(self.svc, self.actor, *values)
        except ValidationErrors as e:  # under each field, the field marked, focus on the first
            self.show_errors(e.by_field())
            return
        except CrmError as e:
            self.query_one("#name-error", Static).update(e.message)
            return
        self.dismiss(values)  # type: ignore[arg-type]

    def action_cancel(self) -> None:
        self.dismiss(None)


class CalendarScreen(BaseScreen[None]):
    TITLE_MSGID = "Holiday schedule"
    BINDINGS = [
        Binding("a", "add", "Add a day"),
        Binding("e", "edit", "Edit"),  # Enter on a row too
        Binding("delete", "remove", "Remove"),
        Binding("i", "import_file", "Import file"),
        Binding("left_square_bracket", "year(-1)", "Previous year"),
        Binding("right_square_bracket", "year(1)", "Next year"),
        Binding("y", "pick_year", "Year"),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor, year: int | None = None) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.year = year or svc.now().year
        self.entries: list[ScheduleEntry] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="calendar-status")
        yield DataTable(id="calendar-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="calendar-message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        fixed_columns(table, (_("Date"), DATE), (_("Weekday"), 4), (_("Type"), widest(_(k) for k in KIND_LABELS.values())), (_("Holiday name"), 20),
                      (_("Source"), 10))
        table.focus()
        self.load()

    # -- loading --------------------------------------------------------------------------------
    def load(self) -> None:
        self.run_loader(self._read, self.year, group="calendar-load",
                        on_result=lambda r: self._show(*r), on_error=lambda e: self._message(e.message))

    def _read(self, year: int) -> tuple[holidays.YearSchedule, list[int]]:  # in a worker thread
        return holidays.year_schedule(self.svc, year), holidays.missing_years(self.svc)

    def _message(self, text: str) -> None:
        self.query_one("#calendar-message", Static).update(text)

    def _show(self, sched: holidays.YearSchedule, missing: list[int]) -> None:
        if sched.year != self.year:
            return  # a newer year was asked for meanwhile
        self.entries = sched.entries
        table = self.query_one(DataTable)
        with self.app.batch_update():
            table.clear()
            for e in sched.entries:
                table.add_row(*cells(e.day.isoformat(), _(holidays.WEEKDAYS[e.day.weekday()]), e.kind_label,
                                     e.name_label, _("branch") if e.source == "branch" else _("package")),
                              key=e.day.isoformat())
        if sched.branch_covers:
            where = _("the branch's schedule on top of the package") if sched.package_covers else \
                _("the branch's schedule")
        elif sched.package_covers:
            where = _("the shipped package (chinese-calendar)")
        else:
            where = _("no schedule: only weekends count as days off; deadlines are marked ≈")
        status = _("{year}: {off} days off, {work} make-up working days; source: {where}.", year=sched.year,
                   off=len(sched.days_off), work=len(sched.workdays), where=where)
        if missing:
            status += "\n" + _("Missing: {years}. Press i to import a file, or a to add days.",
                               years=", ".join(map(str, missing)))
        self.query_one("#calendar-status", Static).update(status)

    # -- actions --------------------------------------------------------------------------------
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def _selected(self) -> ScheduleEntry | None:
        table = self.query_one(DataTable)
        if not self.entries or table.cursor_row < 0 or table.cursor_row >= len(self.entries):
            return None
        return self.entries[table.cursor_row]

    def action_year(self, step: int) -> None:
        self.year = min(max(self.year + step, 2000), 2100)
        self._message("")
        self.load()

    def action_pick_year(self) -> None:
        def chosen(text: str | None) -> None:
            if text and text.strip().isdigit() and 2000 <= int(text) <= 2100:
                self.year = int(text)
                self.load()
            elif text:
                self._message(_("The year must be between {first} and {last}.", first=2000, last=2100))

        self.app.push_screen(PromptDialog(_("Which year?"), value=str(self.year), max_length=4), chosen)

    def _after_change(self, values: tuple[str, str, str] | None) -> None:
        if values is None:
            return
        self._message(_("Saved {day} ({kind}, {name}). Deadlines that counted over it were recomputed.",
                        day=values[0], kind=values[1], name=values[2]))
        self.load()

    def action_add(self) -> None:
        self.app.push_screen(DayForm(self.svc, self.actor, day=date(self.year, 1, 1)), self._after_change)

    def action_edit(self) -> None:
        entry = self._selected()
        if entry is not None:
            self.app.push_screen(DayForm(self.svc, self.actor, entry), self._after_change)

    def action_remove(self) -> None:
        entry = self._selected()
        if entry is None:
            return
        if entry.source != "branch":
            self._message(_("{day} comes from the shipped package; add a branch entry for that date to change it.",
                            day=entry.day.isoformat()))
            return

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            try:
                change = holidays.unset_day(self.svc, self.actor, entry.day)
            except CrmError as e:
                self._message(e.explain())
                return
            self._message(_("Removed {day}; {n} open deadline(s) recomputed.", day=entry.day.isoformat(),
                            n=len(change.moved)))
            self.load()

        self.app.push_screen(ConfirmDialog(_("Remove {day} ({name}) from the branch's schedule?",
                                             day=entry.day.isoformat(), name=entry.name_label),
                                           yes=_("Remove"), no=_("Keep")), confirmed)

    def action_import_file(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self._message(_("Importing {path} ...", path=path))
                self._run_import(path)

        self.app.push_screen(PromptDialog(_("Schedule file (CSV or XLSX; columns 日期, 类型, 名称):")), chosen)

    def _run_import(self, path: str) -> None:
        def done(change: holidays.Change) -> None:
            text = _("Imported {path}: {added} added, {changed} changed, {removed} removed; {n} open deadline(s) "
                     "recomputed.", path=path, added=change.added, changed=change.changed, removed=change.removed,
                     n=len(change.moved))
            self._imported(text, change.years[0] if change.years else self.year)

        self.run_action(holidays.import_file, self.svc, self.actor, path, group="calendar-import",
                        on_result=done, on_error=lambda e: self._message(e.explain()))

    def _imported(self, text: str, year: int) -> None:
        self.year = year
        self._message(text)
        self.load()
