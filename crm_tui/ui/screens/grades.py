"""Grade changes (R-GRD-1..4): my queues, the application form, the application with its approval
actions, the grade standard and the review of a closed period with bulk filing. Keyboard only;
every list is one page fetched by key in a thread worker."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static, TextArea

from crm_tui.domain.errors import CrmError, ValidationErrors
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services import grades as gs
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal, BaseScreen, enter_in, show_field_errors, until
from crm_tui.ui.widgets.columns import SIDE_BY_SIDE, cells, fixed_columns, widest
from crm_tui.ui.widgets.dialogs import ConfirmDialog, InfoDialog, PromptDialog

PAGE = 100


QUEUE_ORDER = ("approve", "apply", "acknowledge", "mine", "all")


# Fixed widths: the layout does not depend on which rows arrived first; cells are plain text.
_columns = fixed_columns


def _when(v: datetime | None) -> str:
    return f"{v:%Y-%m-%d %H:%M}" if v else "—"


def _due(v: datetime | None) -> str:
    """A deadline, marked ≈ when its year has no holiday schedule."""
    return f"{v:%Y-%m-%d %H:%M}{holidays.mark(v)}" if v else "—"


class GradesScreen(BaseScreen[None]):
    """The area screen: the queues of the signed-in person, one at a time (1-5)."""

    TITLE_MSGID = "Grade changes"
    BINDINGS = [
        Binding("1", "queue('approve')", "To approve", show=False),
        Binding("2", "queue('apply')", "To apply", show=False),
        Binding("3", "queue('acknowledge')", "To acknowledge", show=False),
        Binding("4", "queue('mine')", "Mine", show=False),
        Binding("5", "queue('all')", "All", show=False),
        Binding("ctrl+n", "new", "New application", priority=True),
        Binding("enter", "open", "Open", show=False),
        Binding("ctrl+g", "standard", "Grade standard"),
        Binding("ctrl+r", "review", "Review periods"),
        Binding("ctrl+x", "report", "Report"),
        Binding("ctrl+t", "contact_plan", "Contact plan", show=False),  # R-GRD-1; also in the palette
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.kind = self._first_queue()
        self.rows: list[gs.ApplicationRow] = []
        self.next_cursor: str | None = None
        self.loading_more = False

    def _first_queue(self) -> str:
        a = self.actor
        if a.can("grade.approve_chief") or a.can("grade.approve_deputy"):
            return "approve"
        if a.can("grade.acknowledge"):
            return "acknowledge"
        if a.can("grade.apply"):
            return "mine"
        return "all"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        a = self.actor
        if action == "queue":
            kind = str(parameters[0]) if parameters else ""
            return {"approve": a.can("grade.approve_chief") or a.can("grade.approve_deputy"),
                    "apply": a.can("grade.apply_change"), "acknowledge": a.can("grade.acknowledge"),
                    "mine": a.can("grade.apply"), "all": True}.get(kind, False)
        if action == "new":
            return a.can("grade.apply")
        if action == "review":
            return a.can("grade.review") or a.can("grade.period_manage")
        if action == "report":
            return a.can("report.view")
        return True

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="grade-queues")
        yield Static("", id="grade-queue-title", classes="section")
        yield DataTable(id="grade-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="grade-status", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        # the deadline right after the change, so it is in view at 80 columns (issue 21)
        _columns(table, (_("No."), 4), (_("Customer"), 13), (_("Name"), 9), (_("Change"), 6), (_("Apply by"), 13),
                 (_("State"), 20), (_("Applicant"), 9), (_("Filed on"), 10))
        table.focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load(keep=True)

    def action_queue(self, kind: str) -> None:
        self.kind = kind
        self.load()

    def load(self, keep: bool = False) -> None:
        self.fetch(self.kind, None, keep)

    def fetch(self, kind: str, cursor: str | None, keep: bool = False) -> None:
        def read():  # type: ignore[no-untyped-def]
            page = gs.queue(self.svc, self.actor, kind, cursor=cursor, limit=PAGE)
            counts = gs.queue_counts(self.svc, self.actor) if cursor is None else None
            return page, counts, gs.standard(self.svc)

        self.run_loader(read, on_result=lambda r: self._show(kind, r[0], r[1], r[2], cursor is not None, keep),
                        group="grade-queue")

    def _show(self, kind: str, page: gs.Page, counts: dict[str, int] | None, std, append: bool,  # type: ignore[no-untyped-def]
              keep: bool) -> None:
        holidays.work_calendar(self.svc)  # fresh for the ≈ marks
        if kind != self.kind or not self.is_attached:
            return
        if counts is not None:
            parts = []
            for i, k in enumerate(QUEUE_ORDER, start=1):
                if not self.check_action("queue", (k,)):
                    continue
                label = f"{i} {_(gs.QUEUES[k])} ({counts[k]})"
                parts.append(f"[reverse]{label}[/]" if k == kind else label)
            self.query_one("#grade-queues", Static).update("  ".join(parts))
        self.query_one("#grade-queue-title", Static).update(_(gs.QUEUES[kind]))
        table = self.query_one(DataTable)
        before = table.cursor_row
        with self.app.batch_update():
            if not append:
                table.clear()
                self.rows = []
            for r in page.rows:
                self.rows.append(r)
                change = f"{r.from_grade or '—'} → {r.to_grade}"
                due = (f"{r.apply_due:%m-%d %H:%M}" + holidays.mark(r.apply_due) + (" !" if r.late else "")) if r.state == "approved" and r.apply_due \
                    else ""
                table.add_row(*cells(r.id, r.customer_number, r.customer_name, change, due, r.state_label,
                                     r.applicant, f"{r.filed_at:%Y-%m-%d}"), key=str(r.id))
            if keep and self.rows:
                table.move_cursor(row=min(before, len(self.rows) - 1))
        self.next_cursor = page.next_cursor
        self.loading_more = False
        late = sum(r.late and r.state == "approved" for r in self.rows)
        status = _("{count} shown", count=len(self.rows))
        if late:
            status += "  " + _("{count} not applied within 1 working day (!)", count=late)
        if not self.rows:
            status = _("Nothing in this queue.")
        self.query_one("#grade-status", Static).update(status)

    @on(DataTable.RowHighlighted, "#grade-table")
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        if self.next_cursor and not self.loading_more and event.cursor_row >= len(self.rows) - 5:
            self.loading_more = True
            self.fetch(self.kind, self.next_cursor)

    def current(self) -> gs.ApplicationRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    @on(DataTable.RowSelected, "#grade-table")
    def action_open(self) -> None:
        row = self.current()
        if row:
            self.app.push_screen(ApplicationScreen(self.svc, self.actor, row.id))

    def action_new(self) -> None:
        def done(app_id: int | None) -> None:
            if app_id:
                self.kind = "mine"
                self.app.push_screen(ApplicationScreen(self.svc, self.actor, app_id))

        self.app.push_screen(ApplicationFormScreen(self.svc, self.actor), done)

    def action_standard(self) -> None:
        self.app.push_screen(StandardScreen(self.svc, self.actor))

    def action_contact_plan(self) -> None:
        self.app.push_screen(ContactPlanScreen(self.svc, self.actor))

    def action_review(self) -> None:
        self.app.push_screen(ReviewScreen(self.svc, self.actor))

    def action_report(self) -> None:
        today = self.svc.now().date()
        start = today.replace(day=1)
        default = str(Path.home() / f"grade-changes-{start:%Y%m}.xlsx")

        def done(path: str | None) -> None:
            if path:
                self.export(start, today, Path(path).expanduser())

        self.app.push_screen(PromptDialog(_("Export this month's grade changes to (.xlsx):"), value=default), done)

    def export(self, start: date, end: date, path: Path) -> None:
        def run():  # type: ignore[no-untyped-def]
            gs.export_report(self.svc, self.actor, start, end, path)
            return gs.report(self.svc, self.actor, start, end)

        self.run_action(run, group="grade-export", on_error=lambda e: self.notify(e.message, severity="error", timeout=10),
                        on_result=lambda rep: self.notify(_(
                            "{filed} filed, {up} up, {down} down, {rejected} rejected; exported to {path}",
                            filed=rep.filed, up=rep.up, down=rep.down, rejected=rep.rejected, path=str(path)),
                            timeout=10))

    def palette_commands(self) -> list[tuple[str, str, str]]:
        cmds = []
        if self.actor.can("grade.apply"):
            cmds.append((_("New grade change application"), _("File an application (R-GRD-3)"), "screen.new"))
        cmds.append((_("Grade standard"), _("Grades, criteria and contact frequency"), "screen.standard"))
        cmds.append((_("Contact plan"), _("Customers whose contact is due by their grade (R-GRD-1)"),
                     "screen.contact_plan"))
        if self.check_action("review", ()):
            cmds.append((_("Grade review periods"), _("Open, close and review periods (R-GRD-2)"), "screen.review"))
        return cmds


# ------------------------------------------------------------------------------------------------
# The application form
# ------------------------------------------------------------------------------------------------


# the application's fields -> the form's widgets (the error under each is the widget's id + "-error")
_GRADE_FORM_IDS = {"customer": "g-query", "to_grade": "g-to", "reason": "g-reason", "evidence": "g-evidence"}


class ApplicationFormScreen(BaseScreen[int | None]):
    """等级变更申请表: find the customer, propose a grade, give the reason. Ctrl+S files it."""

    TITLE_MSGID = "Grade change application"
    BINDINGS = [
        Binding("ctrl+s", "save", "File application"),
        Binding("escape", "leave", "Back"),
        ENTER_BINDING,
    ]

    def __init__(self, svc: Services, actor: Actor, customer_id: int | None = None) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.customer_id = customer_id
        self.found: list[cs.CustomerRow] = []
        self.found_for = ""  # the query whose results are listed
        self.seq = 0
        self.std = gs.standard(svc)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="grade-form"):
            yield Label(_("Customer *"), classes="section")
            yield Input(placeholder=_("Name, pinyin (zs), 4+ phone digits, KH number, ID number"), id="g-query",
                        max_length=60)
            yield DataTable(id="g-customers", cursor_type="row")
            yield Static(_("No customer chosen yet: search, then Enter on the customer."), id="g-chosen")
            yield Static("", id="fld-customer-error", classes="g-error")
            with Horizontal(classes="field-row"):
                yield Label(_("Proposed grade *"), classes="field-label")
                yield Select([(label, code) for code, label in gs.grade_choices(self.svc)], id="g-to",
                             prompt=_("(choose)"), compact=True)
            yield Static("", id="fld-to_grade-error", classes="g-error")
            yield Label(_("Reason for the change *"))
            yield TextArea(id="g-reason", classes="multiline", compact=True)
            yield Static("", id="fld-reason-error", classes="g-error")
            yield Label(_("Evidence notes"))
            yield TextArea(id="g-evidence", classes="multiline", compact=True)
            yield Static("", id="fld-evidence-error", classes="g-error")
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        _columns(self.query_one("#g-customers", DataTable), (_("Number"), 13), (_("Name"), 24), (_("Phone"), 12),
                 (_("Grade"), 22))
        self.query_one("#g-customers", DataTable).display = False  # shown with the first results
        if self.customer_id is not None:
            self.choose_by_id(self.customer_id)
            self.query_one("#g-to", Select).focus()
        else:
            self.query_one("#g-query", Input).focus()

    @on(Input.Changed, "#g-query")
    def _search(self, event: Input.Changed) -> None:
        self.seq += 1
        if event.value.strip():
            self.search(event.value, self.seq)

    async def action_enter(self) -> None:
        """Enter in the search box goes to the results of what it holds (waiting for them if the
        search is still running), so an Enter typed right after chooses from those results."""
        await enter_in(self, {"g-query": self._to_results})

    async def _to_results(self) -> None:
        box = self.query_one("#g-query", Input)
        await until(lambda: not box.value.strip() or self.found_for == box.value)
        if len(self.found) == 1 and box.value.strip():  # the only match: Enter chooses it
            row = self.found[0]
            self._set_customer(row.id, row.number, row.name, row.grade)
            self.set_focus(self.query_one("#g-to", Select))
        elif self.found:
            self.set_focus(self.query_one("#g-customers", DataTable))

    def search(self, query: str, seq: int) -> None:
        self.run_loader(cs.search, self.svc, self.actor, query, cs.SearchFilters(), limit=20,
                        on_result=lambda page: self._found(page.rows, seq, query), group="grade-customer-search")

    def _found(self, rows: list[cs.CustomerRow], seq: int, query: str) -> None:
        if seq != self.seq or not self.is_attached:
            return
        self.found = rows
        self.found_for = query
        table = self.query_one("#g-customers", DataTable)
        with self.app.batch_update():
            table.clear()
            for r in rows:
                table.add_row(*cells(r.number, r.name, r.phone, self.std.label(r.grade) if r.grade else "—"),
                              key=str(r.id))
            table.display = bool(rows)  # no Tab stop that shows nothing

    @on(DataTable.RowSelected, "#g-customers")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self.found):
            row = self.found[event.cursor_row]
            self._set_customer(row.id, row.number, row.name, row.grade)
            self.query_one("#g-to", Select).focus()

    def choose_by_id(self, customer_id: int) -> None:
        try:
            view = cs.get_customer(self.svc, self.actor, customer_id, purpose="ref")
        except CrmError as e:
            self.notify(e.message, severity="error")
            return
        self._set_customer(view.id, view.number, view.name, view.grade)

    def _set_customer(self, cid: int, number: str, name: str, grade: str | None) -> None:
        self.customer_id = cid
        self.query_one("#g-chosen", Static).update(
            _("Customer: {number} {name} · current grade: {grade}", number=escape(number), name=escape(name),
              grade=escape(self.std.label(grade))))
        self.query_one("#fld-customer-error", Static).display = False

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        """Down from the search box goes to the results, as Enter does."""
        if event.key == "down" and self.focused is self.query_one("#g-query", Input) and self.found:
            self.query_one("#g-customers", DataTable).focus()
            event.stop()

    def dirty(self) -> bool:
        return bool(self.query_one("#g-reason", TextArea).text.strip()
                    or self.query_one("#g-evidence", TextArea).text.strip()
                    or self.query_one("#g-to", Select).value is not Select.NULL)

    def action_save(self) -> None:
        for err in self.query(".g-error"):
            err.update("")
            err.display = False
        self.query_one("#form-message", Static).update("")
        if self.customer_id is None:
            show_field_errors(self, {"customer": _("Choose the customer first.")}, widget_id=_GRADE_FORM_IDS.get,
                              error_id=lambda field: f"fld-{field}-error")
            self.set_focus(self.query_one("#g-query", Input))
            return
        to = self.query_one("#g-to", Select).value
        try:
            app_id = gs.file_application(self.svc, self.actor, self.customer_id,
                                         "" if to is Select.NULL else str(to),
                                         self.query_one("#g-reason", TextArea).text,
                                         self.query_one("#g-evidence", TextArea).text)
        except ValidationErrors as e:
            show_field_errors(self, e.by_field(), widget_id=lambda field: _GRADE_FORM_IDS.get(field, field),
                              error_id=lambda field: f"fld-{field}-error")
            return
        except CrmError as e:
            self.query_one("#form-message", Static).update(e.message)
            return
        self.app.notify(_("Application #{id} filed; it now waits for the section chief.", id=app_id))
        self.dismiss(app_id)

    def action_leave(self) -> None:
        if not self.dirty():
            self.dismiss(None)
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(ConfirmDialog(_("Discard the changes on this form?"), yes=_("Discard"),
                                           no=_("Keep editing")), done)


# ------------------------------------------------------------------------------------------------
# One application: details, steps, and the actions the viewer may take
# ------------------------------------------------------------------------------------------------

ACTION_BINDINGS = {"approve": ("approve_chief", "approve_deputy"), "reject": ("reject_chief", "reject_deputy"),
                   "apply": ("apply",), "acknowledge": ("acknowledge",)}


class ApplicationScreen(BaseScreen[None]):
    TITLE_MSGID = "Grade change application"
    HORIZONTAL_BREAKPOINTS = SIDE_BY_SIDE  # narrower: the facts above the steps
    BINDINGS = [
        Binding("ctrl+a", "decide('approve')", "Approve"),
        Binding("ctrl+r", "decide('reject')", "Reject"),
        Binding("ctrl+y", "decide('apply')", "Apply the change"),
        Binding("ctrl+k", "decide('acknowledge')", "Acknowledge filing"),
        Binding("ctrl+o", "customer", "Customer archive"),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor, app_id: int) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.app_id = app_id
        self.view: gs.ApplicationView | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "decide":
            which = str(parameters[0]) if parameters else ""
            return self.view is not None and any(a in self.view.actions for a in ACTION_BINDINGS.get(which, ()))
        if action == "customer":
            return self.actor.can("customer.view")
        return True

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="grade-detail"):
            with VerticalScroll(id="grade-facts"):
                yield Static("", id="grade-facts-text")
            with Vertical(id="grade-steps-pane"):
                yield Label(_("Steps"), classes="section")
                yield DataTable(id="grade-steps", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#grade-steps", DataTable)
        _columns(table, (_("Time"), 16), (_("Step"), 22), (_("Staff"), 8), (_("Comment"), 30))
        table.focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def load(self) -> None:
        def read():  # type: ignore[no-untyped-def]
            return gs.get_application(self.svc, self.actor, self.app_id), gs.standard(self.svc)

        self.run_loader(read, on_result=lambda r: self._show(*r), group="grade-application")

    def _show(self, v: gs.ApplicationView, std) -> None:  # type: ignore[no-untyped-def]
        holidays.work_calendar(self.svc)  # fresh for the ≈ marks
        if not self.is_attached:
            return  # left meanwhile (signed out, Esc)
        self.view = v
        self.std = std
        self.sub_title = f"#{v.id} {v.customer_number} {v.customer_name}"
        direction = {"up": _("up"), "down": _("down"), "new": _("first grade")}[v.direction]
        # what people typed (names, the reason, the evidence) is shown as typed, never read as markup
        lines = [
            f"[b]{escape(_('Application #{id}', id=v.id))}[/b]   {escape(v.state_label)}",
            _("Customer: {number} {name}", number=escape(v.customer_number), name=escape(v.customer_name)),
            _("Grade at filing: {old}  →  proposed: {new} ({direction})", old=escape(std.label(v.from_grade)),
              new=escape(std.label(v.to_grade)), direction=direction),
            _("Current grade: {grade}", grade=escape(std.label(v.current_grade))),
            _("Filed by {name} at {time}", name=escape(v.applicant), time=_when(v.filed_at)),
            "",
            f"[b]{escape(_('Reason'))}[/b]",
            escape(v.reason),
        ]
        if v.evidence:
            lines += ["", f"[b]{escape(_('Evidence notes'))}[/b]", escape(v.evidence)]
        lines.append("")
        if v.chief:
            lines.append(_("Section chief: {name}, {time}", name=escape(v.chief), time=_when(v.chief_at)))
        if v.deputy:
            lines.append(_("Deputy manager: {name}, {time}", name=escape(v.deputy), time=_when(v.deputy_at)))
        if v.rejected_by:
            lines.append(_("Rejected by {name}, {time}: {reason}", name=escape(v.rejected_by), time=_when(v.rejected_at),
                           reason=escape(v.reject_reason or "")))
        if v.apply_due:
            due = _("To apply by {due}", due=_due(v.apply_due))
            if v.late:
                due += "  [b]" + _("LATE") + "[/b]"
            lines.append(due)
        if v.applied_by:
            lines.append(_("Applied by {name}, {time}; filed with internal control", name=escape(v.applied_by),
                           time=_when(v.applied_at)))
        if v.acknowledged_by:
            lines.append(_("Acknowledged by {name}, {time}", name=escape(v.acknowledged_by),
                           time=_when(v.acknowledged_at)))
        if not v.actions and v.state in ("submitted", "chief_approved", "approved", "applied"):
            lines += ["", f"[dim]{_('Nothing for you to do on this application.')}[/dim]"]
        self.query_one("#grade-facts-text", Static).update("\n".join(lines))
        table = self.query_one("#grade-steps", DataTable)
        with self.app.batch_update():
            table.clear()
            for s in v.steps:
                table.add_row(*cells(_when(s.at), s.what, s.staff, s.comment or ""))
        self.refresh_bindings()

    def action_decide(self, which: str) -> None:
        v = self.view
        if v is None:
            return
        action = next((a for a in ACTION_BINDINGS[which] if a in v.actions), None)
        if action is None:
            return
        fn = {"approve_chief": gs.approve_chief, "reject_chief": gs.reject_chief,
              "approve_deputy": gs.approve_deputy, "reject_deputy": gs.reject_deputy}.get(action)

        def run(call) -> None:  # type: ignore[no-untyped-def]
            try:
                call()
            except CrmError as e:
                self.notify(e.message, severity="error", timeout=8)
                self.load()
                return
            self.notify(_(DONE[action]))
            self.load()

        if action == "apply":
            def confirmed(yes: bool | None) -> None:
                if yes:
                    run(lambda: gs.apply_change(self.svc, self.actor, v.id))

            self.app.push_screen(ConfirmDialog(_(
                "Change the grade of {number} {name} to {grade} now? The change is filed with internal control.",
                number=v.customer_number, name=v.customer_name, grade=self.std.label(v.to_grade))), confirmed)
            return
        if action == "acknowledge":
            self.app.push_screen(PromptDialog(_("Acknowledge the filing. Note (optional):"), required=False),
                                 lambda note: None if note is None else run(
                                     lambda: gs.acknowledge(self.svc, self.actor, v.id, note)))
            return
        assert fn is not None
        rejecting = which == "reject"
        question = _("Why is it rejected? (the applicant sees this)") if rejecting else _("Comment (optional):")
        self.app.push_screen(PromptDialog(question, required=rejecting),
                             lambda comment: None if comment is None else run(
                                 lambda: fn(self.svc, self.actor, v.id, comment)))

    def action_customer(self) -> None:
        from crm_tui.ui.screens.customers import CustomerDetailScreen

        if self.view:
            self.app.push_screen(CustomerDetailScreen(self.svc, self.actor, self.view.customer_id))


DONE = {
    "approve_chief": N_("Approved; it now waits for the deputy manager."),
    "reject_chief": N_("Rejected; the applicant can file again."),
    "approve_deputy": N_("Approved; the section chief applies it within 1 working day."),
    "reject_deputy": N_("Rejected; the applicant can file again."),
    "apply": N_("Grade changed and filed with internal control."),
    "acknowledge": N_("Filing acknowledged."),
}


# ------------------------------------------------------------------------------------------------
# The standard (R-GRD-1)
# ------------------------------------------------------------------------------------------------


def _criteria_text(c) -> str:  # type: ignore[no-untyped-def]
    parts = []
    pol = cs.policy()

    def label(table, code: str) -> str:  # type: ignore[no-untyped-def]
        return table[code].label if code in table else code

    if c.categories:
        parts.append(_("category {values}", values="/".join(label(pol.categories, x) for x in c.categories)))
    if c.min_credit:
        parts.append(_("credit ≥ {value}", value=c.min_credit))
    if c.max_risk:
        parts.append(_("risk ≤ {value}", value=label(pol.risk_ratings, c.max_risk)))
    if c.min_coop_years is not None:
        parts.append(_("{n}+ years", n=c.min_coop_years))
    if c.important:
        parts.append(_("important"))
    if c.min_size:
        parts.append(_("organisation size ≥ {value}", value=label(pol.sizes, c.min_size)))
    return ", ".join(parts) or _("any customer")


class StandardScreen(BaseScreen[None]):
    """The grade standard in force, and the proposal waiting for management (R-GRD-1): an edit is a
    proposal with its reason; the section chief (A / X) and then the deputy manager decide on it."""

    TITLE_MSGID = "Grade standard"
    BINDINGS = [
        Binding("enter", "edit", "Propose a change"),
        Binding("a", "decide(True)", "Approve proposal"),
        Binding("x", "decide(False)", "Reject proposal"),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.codes: list[str] = []
        self.pending: gs.StandardChange | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit":
            return self.actor.can("grade.standard_edit")
        if action == "decide":
            return self.actor.can("grade.approve_chief") or self.actor.can("grade.approve_deputy")
        return True

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="grade-standard", cursor_type="row", zebra_stripes=True)
        yield Static("", id="grade-standard-desc", classes="message")
        yield Static("", id="grade-standard-change", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        # each column as wide as its heading or its longest value, so the criteria start on screen at 80
        grades = widest((g.label for g in gs.standard(self.svc).grades.values()), cap=22)
        _columns(self.query_one(DataTable), (_("Grade"), grades), (_("Order"), 3), (_("Contact every (days)"), 3),
                 (_("Criteria"), 60))
        self.query_one(DataTable).focus()
        self.load()

    def load(self) -> None:
        std = gs.standard(self.svc)
        self.std = std
        table = self.query_one(DataTable)
        table.clear()
        self.codes = list(std.grades)
        for g in std.grades.values():
            table.add_row(*cells(g.label, g.rank, g.contact_days, _criteria_text(g.criteria)), key=g.code)
        changes = gs.standard_changes(self.svc, self.actor, limit=1) if self.actor.can("grade.view") else []
        self.pending = changes[0] if changes and changes[0].state in ("submitted", "chief_approved") else None
        self.query_one("#grade-standard-change", Static).update(_standard_change_text(self.pending))

    @on(DataTable.RowHighlighted)
    def _desc(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.codes):
            self.query_one("#grade-standard-desc", Static).update(
                escape(self.std.grades[self.codes[event.cursor_row]].description))

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        if self.actor.can("grade.standard_edit"):
            self.action_edit()

    def action_edit(self) -> None:
        row = self.query_one(DataTable).cursor_row
        if not 0 <= row < len(self.codes):
            return
        code = self.codes[row]
        raw = gs.standard_as_dict(self.svc)

        def propose(values: dict, reason: str | None) -> None:
            if reason is None:
                return
            raw[code].update(values)
            try:
                cid = gs.save_standard(self.svc, self.actor, raw, reason)
            except CrmError as e:
                self.notify(e.explain(), severity="error", timeout=10)
                return
            self.notify(_("Proposal {id} filed; the standard changes once the section chief and then the deputy "
                          "manager approve it.", id=cid))
            self.load()

        def done(values: dict | None) -> None:
            if values:
                self.app.push_screen(PromptDialog(_("Why change the grade standard?")),
                                     lambda reason: propose(values, reason))

        self.app.push_screen(GradeEditDialog(code, raw[code]), done)

    def action_decide(self, approve: bool) -> None:
        change = self.pending
        if change is None:
            self.notify(_("No change of the grade standard is waiting for approval."), severity="warning")
            return

        def done(comment: str | None) -> None:
            if comment is None:
                return
            try:
                state = gs.decide_standard_change(self.svc, self.actor, change.id, approve, comment)
            except CrmError as e:
                self.notify(e.explain(), severity="error", timeout=10)
                return
            self.notify(_(gs.STANDARD_STATES[state]))
            self.load()

        question = _("Approve proposal {id}? A comment (optional):", id=change.id) if approve else \
            _("Why is proposal {id} rejected?", id=change.id)
        self.app.push_screen(PromptDialog(question, required=not approve), done)


def _standard_change_text(change: gs.StandardChange | None) -> str:
    if change is None:
        return ""
    lines = [_("Proposal {id} by {name} ({at}): {state}", id=change.id, name=escape(change.proposed_by),
               at=f"{change.proposed_at:%Y-%m-%d %H:%M}", state=change.state_label),
             _("Reason: {reason}", reason=escape(change.reason))]
    for code, (old, new) in change.changes.items():
        if old and new:
            diff = ", ".join(f"{k} {old.get(k)} → {new.get(k)}" for k in new if old.get(k) != new.get(k))
        else:
            diff = _("new grade") if new else _("removed")
        lines.append(f"  {escape(code)}: {escape(diff)}")
    if change.chief:
        lines.append(_("Section chief approved: {name}", name=escape(change.chief)))
    return "\n".join(lines)


class ContactPlanScreen(BaseScreen[None]):
    """R-GRD-1: the grade decides how often the customer is contacted; who is due or overdue now
    (T toggles every graded customer by due date). Enter opens the archive."""

    TITLE_MSGID = "Contact plan"
    BINDINGS = [
        Binding("t", "toggle", "Due only / all"),
        Binding("enter", "open", "Customer archive", show=False),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.due_only = True
        self.rows: list[gs.ContactDue] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="plan-title", classes="section")
        yield DataTable(id="plan-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        _columns(self.query_one(DataTable), (_("Customer number"), 12), (_("Name"), 12), (_("Grade"), 12),
                 (_("Every (days)"), 4), (_("Last contact"), 16), (_("Due"), 10), (_("Days over"), 5),
                 (_("Owner"), 8))
        self.query_one(DataTable).focus()
        self.load()

    def load(self) -> None:
        self.run_loader(gs.contact_plan, self.svc, self.actor, due_only=self.due_only, on_result=self._show,
                        group="contact-plan")

    def _show(self, rows: list[gs.ContactDue]) -> None:
        self.rows = rows
        std = gs.standard(self.svc)
        self.query_one("#plan-title", Label).update(
            (_("Due or overdue: {n}", n=len(rows)) if self.due_only else _("All graded customers: {n}", n=len(rows))))
        table = self.query_one(DataTable)
        with self.app.batch_update():
            table.clear()
            for r in rows:
                table.add_row(*cells(r.number, r.name, r.grade_label, std.contact_days(r.grade) or "",
                                     f"{r.last_contact:%Y-%m-%d %H:%M}" if r.last_contact else _("never"),
                                     r.due.isoformat(), r.days_over if r.days_over > 0 else "", r.owner),
                              key=str(r.customer_id))

    def action_toggle(self) -> None:
        self.due_only = not self.due_only
        self.load()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0:
            return
        from crm_tui.ui.screens.customers import CustomerDetailScreen

        self.app.push_screen(CustomerDetailScreen(self.svc, self.actor, self.rows[table.cursor_row].customer_id))


class GradeEditDialog(BaseModal[dict | None]):
    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]
    FIELDS = ("name", "name_en", "rank", "contact_days", "description")

    def __init__(self, code: str, values: dict) -> None:
        super().__init__()
        self.code = code
        self.values = values

    def compose(self) -> ComposeResult:
        v = self.values
        with Vertical(classes="box dialog wide"):
            yield Label(_("Grade {code}", code=self.code), classes="box-title")
            yield Label(_("Name (Chinese)"))
            yield Input(v["name"], id="e-name", max_length=40, compact=True)
            yield Label(_("Name (English)"))
            yield Input(v["name_en"], id="e-name_en", max_length=60, compact=True)
            yield Label(_("Order (1 = highest)"))
            yield Input(str(v["rank"]), id="e-rank", max_length=3, compact=True)
            yield Label(_("Contact every (days)"))
            yield Input(str(v["contact_days"]), id="e-contact_days", max_length=3, compact=True)
            yield Label(_("Grade description"))
            yield Input(v["description"], id="e-description", max_length=500, compact=True)
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#e-name", Input).focus()

    async def action_enter(self) -> None:
        """Enter moves to the next field when the key arrives."""
        await enter_in(self, {f"e-{k}": self.focus_next for k in self.FIELDS})

    def action_save(self) -> None:
        out: dict = {k: self.query_one(f"#e-{k}", Input).value for k in ("name", "name_en", "description")}
        bad = {}
        for k in ("rank", "contact_days"):
            text_ = self.query_one(f"#e-{k}", Input).value.strip()
            if not text_.isdigit():
                bad[k] = _("Write a whole number.")
            else:
                out[k] = int(text_)
        if bad:  # the message line names each field; focus on the first
            show_field_errors(self, bad, widget_id=lambda k: f"e-{k}")
            return
        self.dismiss(out)

    def action_cancel(self) -> None:
        self.dismiss(None)


# ------------------------------------------------------------------------------------------------
# Review periods (R-GRD-2) and bulk filing
# ------------------------------------------------------------------------------------------------


class ReviewScreen(BaseScreen[None]):
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
        super().__init__()
        self.svc = svc
        self.actor = actor
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
