"""Grade changes (R-GRD-1..4): my queues, the application form, the application with its approval
actions. The grade standard (grade_standard.py) and the review of a closed period with bulk filing
(grade_review.py) are importable from here too. Keyboard only; every list is one page fetched by
key in a thread worker."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from crm_tui.domain import grades as dg
from crm_tui.domain.errors import CrmError
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services import grades as gs
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, enter_in, until
from crm_tui.ui.parts.area import AreaScreen
from crm_tui.ui.parts.form import Field, FormPart, Section
from crm_tui.ui.parts.leave import leave_form
from crm_tui.ui.parts.queue import QueueScreen, tab_bar
from crm_tui.ui.parts.record import RecordScreen
from crm_tui.ui.screens.grade_review import ReviewScreen, _due, _when
from crm_tui.ui.screens.grade_standard import GradeEditDialog  # noqa: F401 - importable from here as before
from crm_tui.ui.screens.grade_standard import ContactPlanScreen, StandardScreen, _columns
from crm_tui.ui.widgets.columns import cells
from crm_tui.ui.widgets.dialogs import ConfirmDialog, PromptDialog

PAGE = 100


QUEUE_ORDER = ("approve", "apply", "acknowledge", "mine", "all")


class GradesScreen(QueueScreen):
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
    QUEUES, QUEUE_LABELS = QUEUE_ORDER, gs.QUEUES
    TABLE_ID, STATUS_ID, GROUP = "grade-table", "grade-status", "grade-queue"

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__(svc, actor, self._first_queue(actor))

    @staticmethod
    def _first_queue(a: Actor) -> str:
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

    def compose_top(self) -> ComposeResult:
        yield Static("", id="grade-queues")
        yield Static("", id="grade-queue-title", classes="section")

    def columns(self, table: DataTable) -> None:  # type: ignore[type-arg]
        # the deadline right after the change, so it is in view at 80 columns (issue 21)
        _columns(table, (_("No."), 4), (_("Customer"), 13), (_("Name"), 9), (_("Change"), 6), (_("Apply by"), 13),
                 (_("State"), 20), (_("Applicant"), 9), (_("Filed on"), 10))

    def read_page(self, queue: str, cursor: str | None) -> tuple[gs.Page, dict[str, int] | None]:
        page = gs.queue(self.svc, self.actor, queue, cursor=cursor, limit=PAGE)
        counts = gs.queue_counts(self.svc, self.actor) if cursor is None else None
        gs.standard(self.svc)  # read with every page, as before
        return page, counts

    def tab_shown(self, queue: str) -> bool:
        return bool(self.check_action("queue", (queue,)))

    def show_counts(self, counts: Mapping[str, int]) -> None:
        self.query_one("#grade-queues", Static).update(tab_bar(self.tabs(counts), self.queue_key, pad=""))
        self.query_one("#grade-queue-title", Static).update(_(gs.QUEUES[self.queue_key]))

    def page_cells(self, rows: Sequence[gs.ApplicationRow]) -> Iterator[list[Text]]:
        for r in rows:
            change = f"{r.from_grade or '—'} → {r.to_grade}"
            due = (f"{r.apply_due:%m-%d %H:%M}" + holidays.mark(r.apply_due) + (" !" if r.late else "")) \
                if r.state == "approved" and r.apply_due else ""
            yield cells(r.id, r.customer_number, r.customer_name, change, due, r.state_label, r.applicant,
                        f"{r.filed_at:%Y-%m-%d}")

    def status_text(self, page: gs.Page) -> str:
        late = sum(r.late and r.state == "approved" for r in self.rows)
        status = _("{count} shown", count=len(self.rows))
        if late:
            status += "  " + _("{count} not applied within 1 working day (!)", count=late)
        return status if self.rows else _("Nothing in this queue.")

    def open_row(self, row: gs.ApplicationRow) -> None:
        self.app.push_screen(ApplicationScreen(self.svc, self.actor, row.id))

    def action_new(self) -> None:
        def done(app_id: int | None) -> None:
            if app_id:
                self.queue_key = "mine"
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


class ApplicationFormScreen(FormPart, AreaScreen[int | None]):
    """等级变更申请表: find the customer, propose a grade, give the reason. Ctrl+S files it."""

    TITLE_MSGID = "Grade change application"
    BINDINGS = [
        Binding("ctrl+s", "save", "File application"),
        Binding("escape", "leave", "Back"),
        ENTER_BINDING,
    ]
    FIELD_ID = staticmethod(lambda field: _GRADE_FORM_IDS.get(field, field))

    def __init__(self, svc: Services, actor: Actor, customer_id: int | None = None) -> None:
        super().__init__(svc, actor)
        self.customer_id = customer_id
        self.found: list[cs.CustomerRow] = []
        self.found_for = ""  # the query whose results are listed
        self.seq = 0
        self.std = gs.standard(svc)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="grade-form"):
            yield from self.compose_fields([
                Section(_("Customer *")),
                Field("customer", id="g-query", max_length=60, error_id="fld-customer-error",
                      placeholder=_("Name, pinyin (zs), 4+ phone digits, KH number, ID number")),
                DataTable(id="g-customers", cursor_type="row"),
                Static(_("No customer chosen yet: search, then Enter on the customer."), id="g-chosen"),
                Static("", id="fld-customer-error", classes="g-error"),  # under the search and its results
                Field("to_grade", _("Proposed grade *"), "select", id="g-to", prompt=_("(choose)"),
                      choices=[(label, code) for code, label in gs.grade_choices(self.svc)], compact=True,
                      layout="rows", error=True, error_id="fld-to_grade-error", error_classes="g-error"),
                Field("reason", _("Reason for the change *"), "text", id="g-reason",
                      classes="multiline", compact=True, error=True, error_id="fld-reason-error",
                      error_classes="g-error"),
                Field("evidence", _("Evidence notes"), "text", id="g-evidence", classes="multiline", compact=True,
                      error=True, error_id="fld-evidence-error", error_classes="g-error"),
            ])
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
        v = self.form_values(("to_grade", "reason", "evidence"))
        return bool(v["reason"].strip() or v["evidence"].strip() or v["to_grade"])

    def action_save(self) -> None:
        self.clear_errors()
        if self.customer_id is None:
            self.show_errors({"customer": _("Choose the customer first.")})
            self.set_focus(self.query_one("#g-query", Input))
            return
        v = self.form_values(("to_grade", "reason", "evidence"))
        try:
            app_id = gs.file_application(self.svc, self.actor, self.customer_id, v["to_grade"], v["reason"],
                                         v["evidence"])
        except CrmError as e:
            self.show_refusal(e)
            return
        self.app.notify(_("Application #{id} filed; it now waits for the section chief.", id=app_id))
        self.dismiss(app_id)

    def action_leave(self) -> None:
        leave_form(self, self.dirty(), lambda: self.dismiss(None))


# ------------------------------------------------------------------------------------------------
# One application: details, steps, and the actions the viewer may take
# ------------------------------------------------------------------------------------------------

ACTION_BINDINGS = {"approve": ("approve_chief", "approve_deputy"), "reject": ("reject_chief", "reject_deputy"),
                   "apply": ("apply",), "acknowledge": ("acknowledge",)}


class ApplicationScreen(RecordScreen):
    TITLE_MSGID = "Grade change application"
    BINDINGS = [
        Binding("ctrl+a", "decide('approve')", "Approve"),
        Binding("ctrl+r", "decide('reject')", "Reject"),
        Binding("ctrl+y", "decide('apply')", "Apply the change"),
        Binding("ctrl+k", "decide('acknowledge')", "Acknowledge filing"),
        Binding("ctrl+o", "customer", "Customer archive"),
        Binding("escape", "app.back", "Back"),
    ]
    BODY_ID, FACTS_ID, TEXT_ID = "grade-detail", "grade-facts", "grade-facts-text"
    HISTORY_ID, TABLE_ID, HISTORY_TITLE = "grade-steps-pane", "grade-steps", N_("Steps")
    GROUP = "grade-application"
    view: gs.ApplicationView | None

    app_id = property(lambda self: self.record_id)  # what the tests and the actions call it

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "decide":
            which = str(parameters[0]) if parameters else ""
            return self.view is not None and any(a in self.view.actions for a in ACTION_BINDINGS.get(which, ()))
        if action == "customer":
            return self.actor.can("customer.view")
        return True

    def columns(self, table: DataTable) -> None:  # type: ignore[type-arg]
        _columns(table, (_("Time"), 16), (_("Step"), 22), (_("Staff"), 8), (_("Comment"), 30))

    def read_record(self) -> tuple[gs.ApplicationView, dg.GradeStandard]:
        return gs.get_application(self.svc, self.actor, self.app_id), gs.standard(self.svc)

    def take(self, value: tuple[gs.ApplicationView, dg.GradeStandard]) -> gs.ApplicationView:
        view, self.std = value
        return view

    def subtitle(self, v: gs.ApplicationView) -> str:
        return f"#{v.id} {v.customer_number} {v.customer_name}"

    def facts(self, v: gs.ApplicationView) -> str:
        return application_text(v, self.std)

    def history(self, v: gs.ApplicationView) -> Iterator[list[Text]]:
        for s in v.steps:
            yield cells(_when(s.at), s.what, s.staff, s.comment or "")

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
            self.attempt(call, _(DONE[action]), timeout=8, reload_on_error=True)

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


def application_text(v: gs.ApplicationView, std: dg.GradeStandard) -> str:
    """The facts of an application; what people typed (names, the reason, the evidence) is shown as
    typed, never read as markup."""
    direction = {"up": _("up"), "down": _("down"), "new": _("first grade")}[v.direction]
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
    return "\n".join(lines)


DONE = {
    "approve_chief": N_("Approved; it now waits for the deputy manager."),
    "reject_chief": N_("Rejected; the applicant can file again."),
    "approve_deputy": N_("Approved; the section chief applies it within 1 working day."),
    "reject_deputy": N_("Rejected; the applicant can file again."),
    "apply": N_("Grade changed and filed with internal control."),
    "acknowledge": N_("Filing acknowledged."),
}
