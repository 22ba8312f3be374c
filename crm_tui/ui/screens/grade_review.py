"""Grade review periods (R-GRD-2) and bulk filing: the periods, and for the section chief the
customers whose criteria suggest another grade, marked and filed for in one step."""

from __future__ import annotations

from datetime import date, datetime

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Label, Static

from crm_tui.domain.errors import CrmError, ValidationErrors
from crm_tui.i18n import _
from crm_tui.services import grades as gs
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.parts.area import AreaScreen
from crm_tui.ui.widgets.columns import cells, fixed_columns
from crm_tui.ui.widgets.dialogs import ConfirmDialog, InfoDialog, PromptDialog

# Fixed widths: the layout does not depend on which rows arrived first; cells are plain text.
_columns = fixed_columns


def _when(v: datetime | None) -> str:
    return f"{v:%Y-%m-%d %H:%M}" if v else "—"


def _due(v: datetime | None) -> str:
    """A deadline, marked ≈ when its year has no holiday schedule."""
    return f"{v:%Y-%m-%d %H:%M}{holidays.mark(v)}" if v else "—"


class ReviewScreen(AreaScreen[None]):
    """The periods, and for the section chief the customers whose criteria suggest another grade:
    Space marks, Ctrl+S files applications for the marked ones in one step."""

    TITLE_MSGID = "Grade review"
    BINDINGS = [
        Binding("space", "mark", "Mark"),
        Binding("ctrl+s", "file", "File for marked"),
        Binding("ctrl+d", "reviewed", "Review done"),
        Binding("ctrl+n", "open_period", "Open period"),
        Binding("ctrl+w", "close_period", "Close period"),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__(svc, actor)
        self.periods: list[gs.Period] = []
        self.candidates: list[gs.Candidate] = []
        self.marked: set[int] = set()
        self.next_cursor: str | None = None
        self.std = gs.standard(svc)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("mark", "file"):
            return self.actor.can("grade.review") and self.actor.can("grade.apply")
        if action == "reviewed":
            return self.actor.can("grade.review")
        if action in ("open_period", "close_period"):
            return self.actor.can("grade.period_manage")
        return True

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="grade-periods")
        yield Label(_("Customers whose criteria suggest another grade"), classes="section")
        yield DataTable(id="grade-candidates", cursor_type="row", zebra_stripes=True)
        yield Static("", id="grade-review-status", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        _columns(self.query_one(DataTable), ("", 1), (_("Number"), 13), (_("Name"), 22), (_("Grade"), 14),
                 (_("Suggested"), 22))
        self.query_one(DataTable).focus()
        self.load()

    def load(self) -> None:
        def read():  # type: ignore[no-untyped-def]
            periods = gs.periods(self.svc, self.actor)
            page = gs.review_candidates(self.svc, self.actor, limit=200) if self.actor.can("grade.review") else None
            return periods, page

        self.run_loader(read, on_result=lambda r: self._show(*r), group="grade-review")

    def _show(self, periods: list[gs.Period], page: gs.CandidatePage | None) -> None:
        holidays.work_calendar(self.svc)  # fresh for the ≈ marks
        if not self.is_attached:
            return
        self.periods = periods
        lines = []
        for p in periods[:3]:
            if p.is_open and not p.ended(self.svc.now().date()):
                state = _("open")
            elif p.reviewed_at:
                state = _("reviewed {time}", time=_when(p.reviewed_at))
            elif p.is_open:
                state = _("ended, not closed; review due {due}", due=_when(p.review_due))
            else:
                state = _("closed; review due {due}", due=_due(p.review_due))
            lines.append(escape(f"{p.name}  {p.start_date} – {p.end_date}  {state}"))
        self.query_one("#grade-periods", Static).update("\n".join(lines) or _("No review period yet."))
        self.candidates = page.rows if page else []
        self.marked &= {c.customer_id for c in self.candidates}
        self.next_cursor = page.next_cursor if page else None
        table = self.query_one(DataTable)
        with self.app.batch_update():
            table.clear()
            for c in self.candidates:
                table.add_row(*cells("✓" if c.customer_id in self.marked else " ", c.number, c.name,
                                     self.std.label(c.grade), self.std.label(c.suggested)), key=str(c.customer_id))
        self._status()

    def _status(self) -> None:
        self.query_one("#grade-review-status", Static).update(
            _("{count} customers listed, {marked} marked", count=len(self.candidates), marked=len(self.marked))
            + ("  " + _("(more after filing these)") if self.next_cursor else ""))

    def action_mark(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        if not 0 <= row < len(self.candidates):
            return
        cid = self.candidates[row].customer_id
        self.marked ^= {cid}
        table.update_cell_at((row, 0), "✓" if cid in self.marked else " ")
        if row + 1 < len(self.candidates):
            table.move_cursor(row=row + 1)
        self._status()

    def _period_id(self) -> int | None:
        closed = [p for p in self.periods if not p.is_open]
        return closed[0].id if closed else None

    def action_file(self) -> None:
        items = [(c.customer_id, c.suggested) for c in self.candidates if c.customer_id in self.marked]
        if not items:
            self.notify(_("Mark customers with Space first."), severity="warning")
            return

        def done(reason: str | None) -> None:
            if not reason:
                return
            try:
                result = gs.file_bulk(self.svc, self.actor, items, reason, period_id=self._period_id())
            except CrmError as e:
                self.notify(e.message, severity="error", timeout=10)
                return
            self.marked.clear()
            body = _("{count} applications filed.", count=len(result.filed))
            if result.skipped:
                body += "\n" + "\n".join(f"{n}: {why}" for n, why in result.skipped[:10])
            self.app.push_screen(InfoDialog(_("Grade review"), body))
            self.load()

        self.app.push_screen(PromptDialog(_("Reason for these {count} applications (R-GRD-2 review):",
                                            count=len(items))), done)

    def action_reviewed(self) -> None:
        due = next((p for p in self.periods if not p.is_open and p.reviewed_at is None), None)
        if due is None:
            self.notify(_("No closed review period is waiting for its review."), severity="warning")
            return

        def done(yes: bool | None) -> None:
            if not yes:
                return
            try:
                gs.mark_reviewed(self.svc, self.actor, due.id)
            except CrmError as e:
                self.notify(e.message, severity="error")
                return
            self.notify(_("Review of {name} recorded.", name=due.name))
            self.load()

        self.app.push_screen(ConfirmDialog(_("Record that the review of {name} is done?", name=due.name)), done)

    def action_open_period(self) -> None:
        today = self.svc.now().date()

        def done(text_: str | None) -> None:
            if not text_:
                return
            parts = text_.split()
            if len(parts) < 3:
                self.notify(_("Write: name start end, e.g. 2026Q4 2026-10-01 2026-12-31"), severity="error")
                return
            try:
                gs.open_period(self.svc, self.actor, " ".join(parts[:-2]), parts[-2], parts[-1])
            except ValidationErrors as e:
                self.notify("\n".join(e.by_field().values()), severity="error", timeout=10)
                return
            except CrmError as e:
                self.notify(e.message, severity="error", timeout=10)
                return
            self.notify(_("Review period opened."))
            self.load()

        quarter = (today.month - 1) // 3
        start = date(today.year, quarter * 3 + 1, 1)
        end = date(today.year + (quarter == 3), 1 if quarter == 3 else quarter * 3 + 4, 1)
        end = date.fromordinal(end.toordinal() - 1)
        self.app.push_screen(PromptDialog(_("New review period: name, start and end date"),
                                          value=f"{today.year}Q{quarter + 1} {start} {end}"), done)

    def action_close_period(self) -> None:
        open_ = next((p for p in self.periods if p.is_open), None)
        if open_ is None:
            self.notify(_("No review period is open."), severity="warning")
            return

        def done(yes: bool | None) -> None:
            if not yes:
                return
            try:
                due = gs.close_period(self.svc, self.actor, open_.id)
            except CrmError as e:
                self.notify(e.message, severity="error")
                return
            self.notify(_("Period closed; the section chief reviews by {due}.", due=_when(due)))
            self.load()

        self.app.push_screen(ConfirmDialog(_("Close the review period {name}?", name=open_.name)), done)
