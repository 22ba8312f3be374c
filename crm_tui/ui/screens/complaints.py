"""Complaint tickets (R-CMP-1..7): the queues with their time-limit state, one ticket with its
workflow steps, the new-ticket form (customer picked by search), and the customer's feedback list.

Lists load one page by key in a thread worker; every step is one keystroke that opens a small
form (Ctrl+S saves, Esc cancels); the service's refusal (permission, illegal transition, bad
input) is shown in the form or as a notification, and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from crm_tui.domain import complaints as dc
from crm_tui.domain.errors import CrmError, ValidationErrors
from crm_tui.i18n import N_, _
from crm_tui.services import complaints as cp
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal
from crm_tui.ui.parts.area import AreaScreen
from crm_tui.ui.parts.form import Field, FormPart
from crm_tui.ui.parts.leave import leave_form
from crm_tui.ui.parts.picker import CustomerPicker
from crm_tui.ui.parts.queue import QueueScreen, tab_bar
from crm_tui.ui.parts.record import RecordScreen
from crm_tui.ui.screens.complaint_report import ComplaintReportScreen, report_text  # noqa: F401 - importable here
from crm_tui.ui.widgets.columns import cell, cells

PAGE = 50
MAX_ROWS = 500
QUEUE_KEYS = ["open", "unassigned", "mine", "at_risk", "overdue", "visit", "closed"]


def _when(dt) -> str:  # type: ignore[no-untyped-def]
    return f"{dt:%m-%d %H:%M}{holidays.mark(dt)}" if dt else "—"


def _sla_markup(sla: str, label: str) -> str:
    colour = {"overdue": "$error", "at_risk": "$warning", "paused": "$text-muted"}.get(sla)
    return f"[b {colour}]{escape(label)}[/]" if colour else escape(label)


def _sla_cell(sla: str, label: str, theme: dict[str, str]) -> Text:
    """The time-limit state as a table cell: plain text, overdue and at risk in bold theme colours
    (a table cell is a Rich Text, which knows no '$error')."""
    colour = {"overdue": "error", "at_risk": "warning", "paused": "text-muted"}.get(sla)
    text = cell(label)
    if colour and theme.get(colour):
        text.stylize(("" if sla == "paused" else "bold ") + theme[colour])
    return text


def _fixed_columns(table: DataTable, columns: list) -> None:  # type: ignore[type-arg]
    """Columns sized for their widest possible value (label, samples; optional cap or width), so the
    layout never depends on which rows arrived first."""
    from rich.cells import cell_len

    for spec in columns:
        label, samples = spec[0], spec[1]
        width = max([cell_len(label), *(cell_len(v) for v in samples)])
        if len(spec) > 2:
            width = min(width, spec[2]) if samples else spec[2]
        table.add_column(label, width=width)


def _say(widget: Static, message: str) -> None:
    """A field's message under it: shown only when there is one."""
    widget.update(message)
    widget.display = bool(message)


def _default_queue(actor: Actor) -> str:
    if actor.can("complaint.handle") and not actor.can("complaint.supervise"):
        return "mine"
    return "open"


class ComplaintListScreen(QueueScreen):
    """The queues: every row shows its running time limit (at risk / overdue marked)."""

    TITLE_MSGID = "Complaints"
    BINDINGS = [
        Binding("1", "queue('open')", "Open"),
        Binding("2", "queue('unassigned')", "Unassigned"),
        Binding("3", "queue('mine')", "Mine"),
        Binding("4", "queue('at_risk')", "At risk"),
        Binding("5", "queue('overdue')", "Overdue"),
        Binding("6", "queue('visit')", "Return visit"),
        Binding("7", "queue('closed')", "Closed", show=False),
        Binding("ctrl+n", "new", "New complaint", priority=True),
        Binding("enter", "open", "Open", show=False),
        Binding("ctrl+b", "feedback", "Feedback", priority=True),
        Binding("ctrl+r", "report", "Report"),
        Binding("escape", "app.back", "Back"),
    ]
    ACTION_PERMISSIONS = {"new": "complaint.create", "report": "report.view"}
    QUEUES, QUEUE_LABELS = tuple(QUEUE_KEYS), cp.QUEUES
    TABLE_ID, STATUS_ID, GROUP = "complaint-table", "complaint-status", "complaint-queue"
    MAX_ROWS = MAX_ROWS
    LOAD_ON_MOUNT = False
    KEEP_AFTER_REFRESH = True

    def __init__(self, svc: Services, actor: Actor, queue: str | None = None) -> None:
        super().__init__(svc, actor, queue or _default_queue(actor))

    def compose_top(self) -> ComposeResult:
        yield Static("", id="complaint-queues")

    def columns(self, table: DataTable) -> None:  # type: ignore[type-arg]
        pol = dc.load_policy()
        _fixed_columns(table, [
            (_("Number"), ["TS202600000"]), (_("Customer"), ["王王王王王"]),
            (_("Time limit"), [_(v) for v in cp.SLA_LABELS.values()]), (_("Deadline"), ["00-00 00:00"]),
            (_("State"), [_(v) for v in dc.STATES.values()]), (_("Severity"), [o.label for o in pol.severities.values()]),
            (_("Handler"), ["王王王王"])])

    def palette_commands(self) -> list[tuple[str, str, str]]:
        cmds = [(_(cp.QUEUES[q]), _("Complaint queue"), f"screen.queue('{q}')") for q in QUEUE_KEYS]
        cmds += [(_("New complaint"), _("Record a complaint at once"), "screen.new"),
                 (_("Customer feedback"), _("Praise, suggestion, grumble or survey"), "screen.feedback"),
                 (_("Complaint report"), _("By category, channel, severity, month, handler"), "screen.report")]
        return cmds

    def read_page(self, queue: str, cursor: str | None) -> tuple[cp.TicketPage, dict[str, int] | None]:
        page = cp.queue(self.svc, self.actor, queue, cursor=cursor, limit=PAGE)
        counts = cp.queue_counts(self.svc, self.actor) if cursor is None else None
        return page, counts

    def show_counts(self, counts: Mapping[str, int]) -> None:
        """Overdue and at-risk tickets, when there are any, are marked in the tab bar."""
        tabs = self.tabs(counts)
        styles = {name: style for name, style in (("overdue", "b $error"), ("at_risk", "b $warning")) if counts.get(name)}
        self.query_one("#complaint-queues", Static).update(tab_bar(tabs, self.queue_key, styles=styles))

    def page_cells(self, rows: Sequence[cp.TicketRow]) -> Iterator[list[Text]]:
        pol = dc.load_policy()
        theme = self.app.theme_variables
        for r in rows:
            sev = pol.severities[r.severity].label if r.severity in pol.severities else r.severity
            yield [*cells(r.number, r.customer_name), _sla_cell(r.sla, r.sla_label, theme),
                   *cells(_when(r.due_at), r.state_label, sev, r.assignee or "—")]

    def status_text(self, page: cp.TicketPage) -> str:
        status = _("{count} tickets", count=len(self.rows)) if self.rows else _("No tickets in this queue.")
        return status + ("  " + _("(more below)") if page.next_cursor else "")

    def open_row(self, row: cp.TicketRow) -> None:
        self.app.push_screen(TicketDetailScreen(self.svc, self.actor, row.id))

    def action_new(self) -> None:
        def saved(ticket_id: int | None) -> None:
            if ticket_id:
                self.app.push_screen(TicketDetailScreen(self.svc, self.actor, ticket_id))

        self.app.push_screen(TicketFormScreen(self.svc, self.actor), saved)

    def action_report(self) -> None:
        if not self.actor.can("report.view"):
            try:
                self.svc.require(self.actor, "report.view")
            except CrmError as e:
                self.notify(e.message, severity="error")
            return
        self.app.push_screen(ComplaintReportScreen(self.svc, self.actor))

    def action_feedback(self) -> None:
        def picked(customer: tuple[int, str] | None) -> None:
            if customer:
                self.app.push_screen(FeedbackScreen(self.svc, self.actor, customer[0], customer[1]))

        self.app.push_screen(CustomerPicker(self.svc, self.actor), picked)


# ------------------------------------------------------------------------------------------------
# One ticket
# ------------------------------------------------------------------------------------------------


class TicketDetailScreen(RecordScreen):
    """A ticket: its facts and clock on the left, its history on the right, one key per step."""

    TITLE_MSGID = "Complaint ticket"
    BINDINGS = [
        Binding("k", "step('acknowledge')", "Told customer"),
        Binding("a", "step('assign')", "Assign"),
        Binding("s", "step('solve')", "Solution"),
        Binding("f", "step('feed_back')", "Feedback"),
        Binding("v", "step('visit')", "Return visit"),
        Binding("c", "step('close')", "Close"),
        Binding("r", "step('reopen')", "Reopen"),
        Binding("p", "step('pause')", "Pause/restart"),
        Binding("escape", "app.back", "Back"),
    ]
    BODY_ID, FACTS_ID, TEXT_ID = "ticket-body", "ticket-facts", "ticket-text"
    HISTORY_ID, TABLE_ID, HISTORY_TITLE = "ticket-history", "ticket-events", N_("Handling history")
    GROUP = "ticket-detail"
    LOAD_ON_MOUNT = False
    view: cp.TicketView | None

    ticket_id = property(lambda self: self.record_id)  # what the tests and the actions call it

    def columns(self, table: DataTable) -> None:  # type: ignore[type-arg]
        _fixed_columns(table, [
            (_("Time"), ["2026-00-00 00:00"]), (_("What"), [_(v) for v in cp.EVENT_TITLES.values()], 24),
            (_("State"), [_(v) for v in dc.STATES.values()]), (_("Staff"), ["王王王王"]), (_("Note"), [], 60)])

    def read_record(self) -> cp.TicketView:
        return cp.get_ticket(self.svc, self.actor, self.ticket_id)

    def subtitle(self, view: cp.TicketView) -> str:
        return f"{view.number} · {view.state_label}"

    def facts(self, view: cp.TicketView) -> str:
        return ticket_text(view)

    def history(self, view: cp.TicketView) -> Iterator[list[Text]]:
        for e in view.events:
            yield cells(f"{e.at:%Y-%m-%d %H:%M}", e.title, dc.state_label(e.to_state), e.staff,
                        e.note.replace("\n", " ")[:80])

    def palette_commands(self) -> list[tuple[str, str, str]]:
        return [(_(dc.ACTIONS[a]).capitalize(), self.view.number if self.view else "", f"screen.step('{a}')")
                for a in ("acknowledge", "assign", "solve", "feed_back", "visit", "close", "reopen", "pause")]

    def action_step(self, action: str) -> None:
        view = self.view
        if view is None:
            return
        if action == "pause":
            action = "resume" if view.values["paused_since"] else "pause"
        if action == "assign" and view.state != dc.REGISTERED:
            action = "reassign"
        spec = STEP_FORMS[action]
        tid = self.ticket_id
        try:
            cp.check_step(self.svc, self.actor, tid, action)
        except CrmError as e:
            self.notify(e.message, severity="error", timeout=8)
            return

        def submit(values: dict[str, str]) -> None:
            spec.call(self.svc, self.actor, tid, values)

        def done(ok: bool | None) -> None:
            if ok:
                self.notify(_(spec.done))
                self.load()

        if action in ("assign", "reassign"):
            self.app.push_screen(AssignDialog(self.svc, view, submit), done)
        else:
            self.app.push_screen(StepForm(_(spec.title), spec.fields, submit), done)


@dataclass(frozen=True)
class StepSpec:
    title: str
    fields: tuple[tuple[str, str, str], ...]  # (name, label msgid, kind: line | text | score)
    call: Callable[[Services, Actor, int, dict[str, str]], object]
    done: str


STEP_FORMS: dict[str, StepSpec] = {
    "acknowledge": StepSpec(N_("Customer told it will be handled"), (
        ("ack_method", N_("How (phone, e-mail, letter, in person, online) *"), "line"),
        ("ack_at", N_("When (YYYY-MM-DD HH:MM, empty = now)"), "line"),
        ("ack_note", N_("Note"), "line")),
        lambda s, a, t, v: cp.acknowledge(s, a, t, v["ack_method"], v.get("ack_at", ""), v.get("ack_note", "")),
        N_("Recorded that the customer was told it will be handled.")),
    "assign": StepSpec(N_("Assign a handler"), (), lambda s, a, t, v: cp.assign(s, a, t, v["assignee"], v.get("note", "")),
                       N_("Handler assigned.")),
    "reassign": StepSpec(N_("Change the handler"), (),
                         lambda s, a, t, v: cp.assign(s, a, t, v["assignee"], v.get("note", "")), N_("Handler changed.")),
    "solve": StepSpec(N_("Solution"), (("solution", N_("Investigation and solution *"), "text"),),
                      lambda s, a, t, v: cp.solve(s, a, t, v["solution"]), N_("Solution recorded.")),
    "feed_back": StepSpec(N_("Feedback to the customer"), (
        ("feedback_result", N_("Result told to the customer *"), "text"),
        ("feedback_reasons", N_("Reasons given *"), "text"),
        ("feedback_method", N_("How (phone, visit, letter ...) *"), "line")),
        lambda s, a, t, v: cp.feed_back(s, a, t, v["feedback_result"], v["feedback_reasons"], v["feedback_method"]),
        N_("Feedback recorded; the ticket waits for the return visit.")),
    "visit": StepSpec(N_("Return visit"), (
        ("visit_method", N_("How (phone, visit ...) *"), "line"),
        ("visit_notes", N_("What the customer said *"), "text"),
        ("satisfaction", N_("Satisfaction 1-5 *"), "score")),
        lambda s, a, t, v: cp.return_visit(s, a, t, v["visit_method"], v["visit_notes"], v["satisfaction"]),
        N_("Return visit recorded.")),
    "close": StepSpec(N_("Close the complaint"), (
        ("cause_analysis", N_("Cause analysis *"), "text"),
        ("preventive_measure", N_("Preventive measure *"), "text")),
        lambda s, a, t, v: cp.close(s, a, t, v["cause_analysis"], v["preventive_measure"]), N_("Complaint closed.")),
    "reopen": StepSpec(N_("Reopen: the customer is not satisfied"), (("reason", N_("Why *"), "text"),),
                       lambda s, a, t, v: cp.reopen(s, a, t, v["reason"]), N_("Complaint reopened.")),
    "pause": StepSpec(N_("Pause the clock: waiting for the customer"), (("reason", N_("Waiting for what *"), "line"),),
                      lambda s, a, t, v: cp.pause(s, a, t, v["reason"]), N_("Clock paused.")),
    "resume": StepSpec(N_("Restart the clock"), (("note", N_("Note"), "line"),),
                       lambda s, a, t, v: cp.resume(s, a, t, v.get("note", "")), N_("Clock restarted.")),
}


def _acknowledgement_line(view: cp.TicketView, pol: dc.ComplaintPolicy) -> str:
    """R-CMP-1: how, when and by whom the customer was told it will be handled, or that it is missing."""
    v = view.values
    if v.get("ack_at") is None:
        return "[$error]" + escape(_("Customer not yet told it will be handled: record it with K")) + "[/]"
    ch = pol.channels.get(v["ack_method"] or "")
    return _("Customer told it will be handled: {method}, {at}, by {who}", method=ch.label if ch else v["ack_method"],
             at=f"{v['ack_at']:%Y-%m-%d %H:%M}", who=escape(v.get("ack_by") or "—"))


def ticket_text(view: cp.TicketView) -> str:
    pol = dc.load_policy()
    v = view.values
    sev = pol.severities.get(v["severity"])
    ch = pol.channels.get(v["channel"])
    cat = pol.categories.get(v["category"])
    ck = view.clock
    lines = [f"[b]{escape(view.number)}[/b]  {escape(view.state_label)}",
             _("Customer: {number} {name}", number=escape(view.customer_number), name=escape(view.customer_name)),
             _("Channel: {channel}   Severity: {severity}", channel=ch.label if ch else v["channel"],
               severity=sev.label if sev else v["severity"]),
             _("Category: {category}", category=cat.label if cat else v["category"]),
             _("Received {at} by {who}", at=f"{v['received_at']:%Y-%m-%d %H:%M}", who=escape(view.received_by or "—")),
             _acknowledgement_line(view, pol),
             _("Handler: {name}", name=escape(view.assignee or "—"))]
    if ck.status is not None:
        sla = "paused" if ck.status.paused else ck.status.state
        lines.append(_sla_markup(sla, dc.clock_text(ck)))
        lines.append(_("Used {used} of {total} working hours", used=f"{ck.status.elapsed_minutes / 60:.1f}",
                       total=f"{ck.status.total_minutes / 60:.1f}"))
    if sev:
        lines.append(_("Respond by {respond} ({rlimit}); resolve by {resolve} ({slimit})",
                       respond=_when(ck.respond_deadline), rlimit=sev.respond.label(),
                       resolve=_when(ck.resolve_deadline), slimit=sev.resolve.label()))
    for flag, label in ((ck.respond_met, N_("Responded in time")), (ck.resolve_met, N_("Fed back in time"))):
        if flag is not None:
            lines.append(_("{label}: {value}", label=_(label), value=_("yes") if flag else _("no")))
    sections = [
        (N_("Description"), v["description"]), (N_("Customer's demand"), v["demand"]),
        (N_("Solution"), v["solution"]), (N_("Result told to the customer"), v["feedback_result"]),
        (N_("Reasons given"), v["feedback_reasons"]), (N_("Told by"), v["feedback_method"]),
        (N_("Return visit"), v["visit_notes"]), (N_("Cause analysis"), v["cause_analysis"]),
        (N_("Preventive measure"), v["preventive_measure"]),
    ]
    if v["satisfaction"] is not None:
        sections.insert(7, (N_("Satisfaction"), f"{v['satisfaction']}/5"))
    for label, value in sections:
        if value:
            lines.append(_("{label}: {value}", label=f"[b]{escape(_(label))}[/b]", value=escape(str(value))))
    if view.allowed:
        lines.append("")
        lines.append(_("Next: {actions}", actions="、".join(_(dc.ACTIONS[a]) for a in view.allowed)))
    return "\n".join(lines)


class StepForm(FormPart, BaseModal[bool]):
    """A workflow step's fields (name, label, kind: ``text`` several lines, ``score`` 1-5, else one
    line). Ctrl+S calls the service; its refusal stays on the form, under each field."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]
    FIELD_ID = staticmethod(lambda name: f"step-{name}")
    FORM_MESSAGE = "#step-message"

    def __init__(self, title: str, fields: tuple[tuple[str, str, str], ...],
                 submit: Callable[[dict[str, str]], None]) -> None:
        super().__init__()
        self.title_text = title
        self.steps = fields
        self.submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog wide", id="step-box"):
            yield Label(self.title_text, classes="box-title")
            yield from self.compose_fields([
                Field(name, _(label), "text" if kind == "text" else "input", id=f"step-{name}", compact=True,
                      max_length=3 if kind == "score" else 200, classes="multiline" if kind == "text" else None,
                      error=True, enter=None if kind == "text" else "next")
                for name, label, kind in self.steps])
            yield Static("", id="step-message", classes="message error")
            yield Label(_("Ctrl+S save · Esc cancel"), classes="hint")

    def on_mount(self) -> None:
        self.focus_first_field()

    def values(self) -> dict[str, str]:
        return self.form_values()

    def action_save(self) -> None:
        self.clear_errors()
        try:
            self.submit(self.form_values())
        except CrmError as e:
            self.show_refusal(e)
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class AssignDialog(BaseModal[bool]):
    """Choose the handler (R-CMP-2) from the staff who may handle complaints."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, svc: Services, view: cp.TicketView, submit: Callable[[dict[str, str]], None]) -> None:
        super().__init__()
        self.svc = svc
        self.view = view
        self.submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog", id="assign-box"):
            yield Label(_("Who handles {number}?", number=self.view.number), classes="box-title")
            yield OptionList(*[Option(cell(name + ("  ✓" if sid == self.view.assignee_id else "")), id=str(sid))
                               for sid, name in cp.handlers(self.svc)], id="assign-list")
            yield Static("", id="assign-message", classes="message error")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ol.highlighted = 0 if ol.option_count else None
        ol.focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        try:
            self.submit({"assignee": str(event.option.id)})
        except CrmError as e:
            msg = e.by_field().get("assignee", e.message) if isinstance(e, ValidationErrors) else e.message
            self.query_one("#assign-message", Static).update(msg)
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


# ------------------------------------------------------------------------------------------------
# New ticket
# ------------------------------------------------------------------------------------------------



class TicketFormScreen(FormPart, AreaScreen[int | None]):
    """Record a complaint at once (R-CMP-1). Dismisses with the new ticket's id."""

    TITLE_MSGID = "New complaint"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+u", "pick", "Choose customer"),
        Binding("escape", "leave", "Back"),
        ENTER_BINDING,
    ]
    FORM_LAYOUT = "rows"
    FIELD_ID = staticmethod(lambda name: f"fld-{name}")

    def __init__(self, svc: Services, actor: Actor, customer: tuple[int, str] | None = None,
                 description: str = "") -> None:
        super().__init__(svc, actor)
        self.customer = customer
        self.description = description

    def compose(self) -> ComposeResult:
        pol = dc.load_policy()

        def choose(name: str, label: str, options: Mapping[str, dc.Option], value: str | None = None,
                   prompt: str = N_("(choose)"), required: bool = True) -> Field:
            return Field(name, _(label), "select", value=value, choices=[(o.label, c) for c, o in options.items()],
                         prompt=_(prompt), required=required, compact=True, error=True, id=f"fld-{name}")

        yield Header()
        with VerticalScroll(id="form-scroll"):
            yield from self.compose_fields([
                Field("customer", _("Customer"), "readonly", required=True, error=True, id="fld-customer",
                      value=escape(self.customer[1]) if self.customer else _("(Ctrl+U to choose)")),
                choose("channel", N_("Channel"), pol.channels, "phone"),
                choose("category", N_("Complaint category"), pol.categories),
                choose("severity", N_("Severity"), pol.severities, "normal"),
                Field("received_at", _("Received at"), value=f"{self.svc.now():%Y-%m-%d %H:%M}", max_length=16,
                      required=True, compact=True, error=True, enter="next", id="fld-received_at"),
                Field("description", _("Description"), "text", value=self.description, required=True,
                      classes="multiline", compact=True, error=True, id="fld-description"),
                Field("demand", _("Customer's demand"), "text", classes="multiline", compact=True, error=True,
                      id="fld-demand"),
                # R-CMP-1: how the customer was told it will be handled
                choose("ack_method", N_("Told customer via"), pol.channels, "phone", N_("(not yet told)"), False),
            ])
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    @on(Select.Changed, "#fld-channel")
    def _channel_changed(self, event: Select.Changed) -> None:
        """A phone or desk complaint is acknowledged on the spot by the same channel; a letter, e-mail or
        online complaint starts as "not yet told" (recorded later on the ticket with K)."""
        ack = self.query_one("#fld-ack_method", Select)
        ack.value = event.value if event.value in dc.ACK_AT_ONCE else Select.NULL

    def on_mount(self) -> None:
        super().on_mount()
        if self.customer is None:
            self.action_pick()
        else:
            self.query_one("#fld-channel", Select).focus()

    def action_pick(self) -> None:
        def picked(customer: tuple[int, str] | None) -> None:
            if customer:
                self.customer = customer
                self.query_one("#fld-customer", Static).update(escape(customer[1]))
                _say(self.query_one("#fld-customer-error", Static), "")
            self.query_one("#fld-channel", Select).focus()

        self.app.push_screen(CustomerPicker(self.svc, self.actor), picked)

    def values(self) -> dict[str, str]:
        return self.form_values()

    def action_save(self) -> None:
        self.clear_errors()
        if self.customer is None:
            self.show_errors({"customer": _("Choose the customer the complaint is about")})
            return
        try:
            ref = cp.file_complaint(self.svc, self.actor, self.customer[0], self.values())
        except CrmError as e:
            self.show_refusal(e)
            return
        told = self.values()["ack_method"]
        self.app.notify(_("Complaint {number} recorded; the customer was told it will be handled.", number=ref.number)
                        if told else _("Complaint {number} recorded; tell the customer it will be handled and record "
                                       "it on the ticket (K).", number=ref.number))
        self.dismiss(ref.id)

    def action_leave(self) -> None:
        v = self.values()
        leave_form(self, bool(v["description"].strip() or v["demand"].strip()), lambda: self.dismiss(None))


# ------------------------------------------------------------------------------------------------
# Feedback on the archive (R-CMP-7, R-CUST-15)
# ------------------------------------------------------------------------------------------------


class FeedbackScreen(AreaScreen[None]):
    """A customer's praise, suggestions, grumbles and surveys; a grumble becomes a ticket with T."""

    TITLE_MSGID = "Customer feedback"
    BINDINGS = [
        Binding("p", "add('praise')", "Praise"),
        Binding("s", "add('suggestion')", "Suggestion"),
        Binding("g", "add('grumble')", "Grumble"),
        Binding("m", "add('survey')", "Survey"),
        Binding("t", "to_ticket", "Grumble → complaint"),
        Binding("ctrl+n", "new_ticket", "New complaint"),
        Binding("escape", "app.back", "Back"),
    ]
    ACTION_PERMISSIONS = {"add": "feedback.create", "to_ticket": "complaint.create", "new_ticket": "complaint.create"}

    def __init__(self, svc: Services, actor: Actor, customer_id: int, customer_label: str) -> None:
        super().__init__(svc, actor)
        self.customer_id = customer_id
        self.customer_label = customer_label
        self.rows: list[cp.FeedbackRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(escape(self.customer_label), id="feedback-customer", classes="section")
        yield DataTable(id="feedback-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = self.customer_label
        table = self.query_one(DataTable)
        _fixed_columns(table, [
            (_("Time"), ["2026-00-00 00:00"]), (_("Kind"), [_(v) for v in dc.FEEDBACK_KINDS.values()]),
            (_("Score"), ["5"]), (_("Text"), [], 40), (_("Staff"), ["王王王王"]), (_("Complaint"), ["TS202600000"])])
        table.focus()
        self.load()

    def load(self) -> None:
        self.run_loader(cp.list_feedback, self.svc, self.actor, self.customer_id, on_result=self._show, group="feedback")

    def _show(self, rows: list[cp.FeedbackRow]) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        with self.app.batch_update():
            table.clear()
            for r in rows:
                table.add_row(*cells(f"{r.at:%Y-%m-%d %H:%M}", r.kind_label, str(r.score) if r.score else "",
                                     r.text.replace("\n", " ")[:60], r.staff, r.complaint_number or ""))

    def action_add(self, kind: str) -> None:
        fields: tuple[tuple[str, str, str], ...] = (("text", N_("What the customer said *"), "text"),)
        if kind == "survey":
            fields = (("score", N_("Satisfaction 1-5 *"), "score"), ("text", N_("Comments"), "text"))

        def submit(v: dict[str, str]) -> None:
            cp.add_feedback(self.svc, self.actor, self.customer_id, kind, v.get("text", ""), v.get("score"))

        def done(ok: bool | None) -> None:
            if ok:
                self.notify(_("Feedback recorded."))
                self.load()

        self.app.push_screen(StepForm(_(dc.FEEDBACK_KINDS[kind]), fields, submit), done)

    def action_to_ticket(self) -> None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0:
            return
        row = self.rows[min(table.cursor_row, len(self.rows) - 1)]
        try:
            ref = cp.grumble_to_ticket(self.svc, self.actor, row.id)
        except CrmError as e:
            self.notify(e.message, severity="error")
            return
        self.notify(_("Complaint {number} recorded; the customer can be told it will be handled.", number=ref.number))
        self.load()
        self.app.push_screen(TicketDetailScreen(self.svc, self.actor, ref.id))

    def action_new_ticket(self) -> None:
        def saved(ticket_id: int | None) -> None:
            if ticket_id:
                self.app.push_screen(TicketDetailScreen(self.svc, self.actor, ticket_id))

        self.app.push_screen(TicketFormScreen(self.svc, self.actor, (self.customer_id, self.customer_label)), saved)
