"""Complaint tickets (R-CMP-1..7): the queues with their time-limit state, one ticket with its
workflow steps, the new-ticket form (customer picked by search), and the customer's feedback list.

Lists load one page by key in a thread worker; every step is one keystroke that opens a small
form (Ctrl+S saves, Esc cancels); the service's refusal (permission, illegal transition, bad
input) is shown in the form or as a notification, and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from crm_tui.domain import complaints as dc
from crm_tui.domain.errors import CrmError, ValidationError, ValidationErrors
from crm_tui.i18n import N_, _
from crm_tui.services import complaints as cp
from crm_tui.services import customers as cs
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal, BaseScreen, enter_in, show_field_errors, until
from crm_tui.ui.widgets.columns import SIDE_BY_SIDE, cell, cells
from crm_tui.ui.widgets.dialogs import PromptDialog

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


class ComplaintListScreen(BaseScreen[None]):
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

    def __init__(self, svc: Services, actor: Actor, queue: str | None = None) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.queue_name = queue or _default_queue(actor)
        self.rows: list[cp.TicketRow] = []
        self.next_cursor: str | None = None
        self.seq = 0
        self.loading_more = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="complaint-queues")
        yield DataTable(id="complaint-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="complaint-status", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        pol = dc.load_policy()
        _fixed_columns(table, [
            (_("Number"), ["TS202600000"]), (_("Customer"), ["王王王王王"]),
            (_("Time limit"), [_(v) for v in cp.SLA_LABELS.values()]), (_("Deadline"), ["00-00 00:00"]),
            (_("State"), [_(v) for v in dc.STATES.values()]), (_("Severity"), [o.label for o in pol.severities.values()]),
            (_("Handler"), ["王王王王"])])
        table.focus()

    def on_screen_resume(self) -> None:
        """First shown, or back from a ticket: (re)load the queue, keeping the cursor when coming back."""
        self.load(keep=bool(self.rows))

    def action_queue(self, name: str) -> None:
        self.queue_name = name
        self.load()

    def palette_commands(self) -> list[tuple[str, str, str]]:
        cmds = [(_(cp.QUEUES[q]), _("Complaint queue"), f"screen.queue('{q}')") for q in QUEUE_KEYS]
        cmds += [(_("New complaint"), _("Record a complaint at once"), "screen.new"),
                 (_("Customer feedback"), _("Praise, suggestion, grumble or survey"), "screen.feedback"),
                 (_("Complaint report"), _("By category, channel, severity, month, handler"), "screen.report")]
        return cmds

    def load(self, keep: bool = False) -> None:
        self.seq += 1
        self.fetch(self.queue_name, None, self.seq, keep)

    def fetch(self, name: str, cursor: str | None, seq: int, keep: bool = False) -> None:
        def read() -> tuple[cp.TicketPage, dict[str, int] | None]:
            page = cp.queue(self.svc, self.actor, name, cursor=cursor, limit=PAGE)
            counts = cp.queue_counts(self.svc, self.actor) if cursor is None else None
            return page, counts

        self.run_loader(read, on_result=lambda r: self._show(r[0], r[1], cursor is not None, seq, keep),
                        group="complaint-queue")

    def _queue_bar(self, counts: dict[str, int]) -> str:
        parts = []
        for i, name in enumerate(QUEUE_KEYS, start=1):
            label = _(cp.QUEUES[name])
            n = counts.get(name)
            text = f"{i} {label}" + (f" ({n})" if n is not None else "")
            if name == self.queue_name:
                parts.append(f"[reverse] {escape(text)} [/]")
            elif name == "overdue" and n:
                parts.append(f"[b $error]{escape(text)}[/]")
            elif name == "at_risk" and n:
                parts.append(f"[b $warning]{escape(text)}[/]")
            else:
                parts.append(escape(text))
        return "  ".join(parts)

    def _show(self, page: cp.TicketPage, counts: dict[str, int] | None, append: bool, seq: int, keep: bool) -> None:
        if seq != self.seq:
            return
        if counts is not None:
            self.query_one("#complaint-queues", Static).update(self._queue_bar(counts))
        table = self.query_one(DataTable)
        before = table.cursor_row
        if append and len(self.rows) + len(page.rows) > MAX_ROWS:
            append = False
        pol = dc.load_policy()
        theme = self.app.theme_variables
        holidays.work_calendar(self.svc)  # fresh for the ≈ marks
        with self.app.batch_update():
            if not append:
                table.clear()
                self.rows = []
            for r in page.rows:
                self.rows.append(r)
                sev = pol.severities[r.severity].label if r.severity in pol.severities else r.severity
                table.add_row(*cells(r.number, r.customer_name), _sla_cell(r.sla, r.sla_label, theme),
                              *cells(_when(r.due_at), r.state_label, sev, r.assignee or "—"), key=str(r.id))
        if keep and self.rows:
            self.call_after_refresh(table.move_cursor, row=min(before, len(self.rows) - 1))
        self.next_cursor = page.next_cursor
        self.loading_more = False
        status = _("{count} tickets", count=len(self.rows)) if self.rows else _("No tickets in this queue.")
        if page.next_cursor:
            status += "  " + _("(more below)")
        self.query_one("#complaint-status", Static).update(status)

    @on(DataTable.RowHighlighted, "#complaint-table")
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        if self.next_cursor and not self.loading_more and event.cursor_row >= len(self.rows) - 5:
            self.loading_more = True
            self.fetch(self.queue_name, self.next_cursor, self.seq)

    def current(self) -> cp.TicketRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    @on(DataTable.RowSelected, "#complaint-table")
    def action_open(self) -> None:
        row = self.current()
        if row:
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


class TicketDetailScreen(BaseScreen[None]):
    """A ticket: its facts and clock on the left, its history on the right, one key per step."""

    TITLE_MSGID = "Complaint ticket"
    HORIZONTAL_BREAKPOINTS = SIDE_BY_SIDE  # narrower: the facts above the history
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

    def __init__(self, svc: Services, actor: Actor, ticket_id: int) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.ticket_id = ticket_id
        self.view: cp.TicketView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="ticket-body"):
            with VerticalScroll(id="ticket-facts"):
                yield Static("", id="ticket-text")
            with Vertical(id="ticket-history"):
                yield Label(_("Handling history"), classes="section")
                yield DataTable(id="ticket-events", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#ticket-events", DataTable)
        _fixed_columns(table, [
            (_("Time"), ["2026-00-00 00:00"]), (_("What"), [_(v) for v in cp.EVENT_TITLES.values()], 24),
            (_("State"), [_(v) for v in dc.STATES.values()]), (_("Staff"), ["王王王王"]), (_("Note"), [], 60)])
        table.focus()

    def on_screen_resume(self) -> None:
        self.load()

    def load(self) -> None:
        self.run_loader(cp.get_ticket, self.svc, self.actor, self.ticket_id, on_result=self._show, group="ticket-detail")

    def _show(self, view: cp.TicketView) -> None:
        self.view = view
        self.sub_title = f"{view.number} · {view.state_label}"
        holidays.work_calendar(self.svc)  # fresh for the ≈ marks
        self.query_one("#ticket-text", Static).update(ticket_text(view))
        table = self.query_one("#ticket-events", DataTable)
        with self.app.batch_update():
            table.clear()
            for e in view.events:
                table.add_row(*cells(f"{e.at:%Y-%m-%d %H:%M}", e.title, dc.state_label(e.to_state), e.staff,
                                     e.note.replace("\n", " ")[:80]))

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


class StepForm(BaseModal[bool]):
    """A workflow step's fields. Ctrl+S calls the service; its refusal stays on the form."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]

    def __init__(self, title: str, fields: tuple[tuple[str, str, str], ...],
                 submit: Callable[[dict[str, str]], None]) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog wide", id="step-box"):
            yield Label(self.title_text, classes="box-title")
            for name, label, kind in self.fields:
                yield Label(_(label))
                if kind == "text":
                    yield TextArea(id=f"step-{name}", classes="multiline", compact=True)
                else:
                    yield Input(id=f"step-{name}", max_length=3 if kind == "score" else 200, compact=True)
                yield Static("", id=f"step-{name}-error", classes="cmp-error")
            yield Static("", id="step-message", classes="message error")
            yield Label(_("Ctrl+S save · Esc cancel"), classes="hint")

    def on_mount(self) -> None:
        first = self.query("#step-box Input, #step-box TextArea").first()
        first.focus()

    async def action_enter(self) -> None:
        """Enter in a one-line field moves on when the key arrives (in a text box it is a new line)."""
        await enter_in(self, {f"step-{name}": self.focus_next for name, _label, kind in self.fields if kind != "text"})

    def values(self) -> dict[str, str]:
        out = {}
        for name, _label, kind in self.fields:
            w = self.query_one(f"#step-{name}")
            out[name] = w.text if isinstance(w, TextArea) else w.value  # type: ignore[attr-defined]
        return out

    def action_save(self) -> None:
        for err in self.query(".cmp-error"):
            _say(err, "")  # type: ignore[arg-type]
        try:
            self.submit(self.values())
        except ValidationErrors as e:
            show_field_errors(self, e.by_field(), widget_id=lambda field: f"step-{field}", message="#step-message")
            return
        except ValidationError as e:
            show_field_errors(self, {e.field: e.message}, widget_id=lambda field: f"step-{field}",
                              message="#step-message")
            return
        except CrmError as e:
            self.query_one("#step-message", Static).update(e.message)
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


class CustomerPicker(BaseModal[tuple[int, str] | None]):
    """Find the customer by name, pinyin, phone digits or number; Enter/Down to the list, Enter picks."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), ENTER_BINDING]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.found: list[cs.CustomerRow] = []
        self.found_for: str | None = None  # the query whose results are listed
        self.seq = 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog wide", id="picker-box"):
            yield Label(_("Which customer?"), classes="box-title")
            yield Input(placeholder=_("Name, pinyin (zs), 4+ phone digits, KH number, ID number"), id="picker-q",
                        max_length=60)
            yield OptionList(id="picker-list")
            yield Static("", id="picker-message", classes="message")

    def on_mount(self) -> None:
        self.query_one("#picker-q", Input).focus()
        self.run_search("")

    @on(Input.Changed, "#picker-q")
    def _changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    async def action_enter(self) -> None:
        """Enter in the search box goes to the results of what it holds (waiting for them if the
        search is still running), so an Enter typed right after picks from those results."""
        await enter_in(self, {"picker-q": self._to_list})

    async def _to_list(self) -> None:
        box = self.query_one("#picker-q", Input)
        await until(lambda: self.found_for == box.value)
        if len(self.found) == 1 and box.value.strip():  # the only match: Enter picks it
            row = self.found[0]
            self.dismiss((row.id, f"{row.number} {row.name}"))
        elif self.found:
            self.set_focus(self.query_one(OptionList))

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key == "down" and self.focused is self.query_one("#picker-q", Input) and self.found:
            self.query_one(OptionList).focus()
            event.stop()

    def run_search(self, q: str) -> None:
        self.seq += 1
        self.search(q, self.seq)

    def search(self, q: str, seq: int) -> None:
        self.run_loader(cs.search, self.svc, self.actor, q, limit=20, on_result=lambda page: self._show(page.rows, seq, q),
                        on_error=lambda e: self.query_one("#picker-message", Static).update(e.message),
                        group="complaint-picker")

    def _show(self, rows: list[cs.CustomerRow], seq: int, q: str) -> None:
        if seq != self.seq:
            return
        self.found = rows
        self.found_for = q
        ol = self.query_one(OptionList)
        ol.clear_options()
        ol.add_options([Option(cell(f"{r.number}  {r.name}  {r.phone}"), id=str(r.id)) for r in rows])
        if rows:
            ol.highlighted = 0
        self.query_one("#picker-message", Static).update(
            "" if rows else _("No customer found; register the customer first (F2, Ctrl+N)."))

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        row = next(r for r in self.found if str(r.id) == event.option.id)
        self.dismiss((row.id, f"{row.number} {row.name}"))

    def action_cancel(self) -> None:
        self.dismiss(None)


class TicketFormScreen(BaseScreen[int | None]):
    """Record a complaint at once (R-CMP-1). Dismisses with the new ticket's id."""

    TITLE_MSGID = "New complaint"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+u", "pick", "Choose customer"),
        Binding("escape", "leave", "Back"),
        ENTER_BINDING,
    ]

    def __init__(self, svc: Services, actor: Actor, customer: tuple[int, str] | None = None,
                 description: str = "") -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.customer = customer
        self.description = description

    def compose(self) -> ComposeResult:
        pol = dc.load_policy()
        yield Header()
        with VerticalScroll(id="form-scroll"):
            with Horizontal(classes="field-row"):
                yield Label(_("Customer") + " *", classes="field-label")
                yield Static(escape(self.customer[1]) if self.customer else _("(Ctrl+U to choose)"), id="fld-customer",
                             classes="readonly")
            yield Static("", id="fld-customer-error", classes="cmp-error")
            for name, label, choices, default in (
                ("channel", N_("Channel"), [(o.label, c) for c, o in pol.channels.items()], "phone"),
                ("category", N_("Complaint category"), [(o.label, c) for c, o in pol.categories.items()], None),
                ("severity", N_("Severity"), [(o.label, c) for c, o in pol.severities.items()], "normal"),
            ):
                with Horizontal(classes="field-row"):
                    yield Label(_(label) + " *", classes="field-label")
                    yield Select(choices, value=default if default else Select.NULL, id=f"fld-{name}",
                                 prompt=_("(choose)"), compact=True)
                yield Static("", id=f"fld-{name}-error", classes="cmp-error")
            with Horizontal(classes="field-row"):
                yield Label(_("Received at") + " *", classes="field-label")
                yield Input(f"{self.svc.now():%Y-%m-%d %H:%M}", id="fld-received_at", max_length=16, compact=True)
            yield Static("", id="fld-received_at-error", classes="cmp-error")
            for name, label, required in (("description", N_("Description"), True),
                                          ("demand", N_("Customer's demand"), False)):
                with Horizontal(classes="field-row"):
                    yield Label(_(label) + (" *" if required else ""), classes="field-label")
                    yield TextArea(self.description if name == "description" else "", id=f"fld-{name}",
                                   classes="multiline", compact=True)
                yield Static("", id=f"fld-{name}-error", classes="cmp-error")
            with Horizontal(classes="field-row"):  # R-CMP-1: how the customer was told it will be handled
                yield Label(_("Told customer via"), classes="field-label")
                yield Select([(o.label, c) for c, o in pol.channels.items()], value="phone", id="fld-ack_method",
                             prompt=_("(not yet told)"), compact=True)
            yield Static("", id="fld-ack_method-error", classes="cmp-error")
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

    async def action_enter(self) -> None:
        """Enter in the time received moves on when the key arrives; on a list it opens the list."""
        await enter_in(self, {"fld-received_at": self.focus_next})

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in ("channel", "category", "severity", "ack_method"):
            v = self.query_one(f"#fld-{name}", Select).value
            out[name] = "" if v is Select.NULL else str(v)
        out["received_at"] = self.query_one("#fld-received_at", Input).value
        out["description"] = self.query_one("#fld-description", TextArea).text
        out["demand"] = self.query_one("#fld-demand", TextArea).text
        return out

    def action_save(self) -> None:
        for err in self.query(".cmp-error"):
            _say(err, "")  # type: ignore[arg-type]
        self.query_one("#form-message", Static).update("")
        if self.customer is None:
            show_field_errors(self, {"customer": _("Choose the customer the complaint is about")},
                              widget_id=lambda field: f"fld-{field}")
            return
        try:
            ref = cp.file_complaint(self.svc, self.actor, self.customer[0], self.values())
        except ValidationErrors as e:
            show_field_errors(self, e.by_field(), widget_id=lambda field: f"fld-{field}")
            return
        except CrmError as e:
            self.query_one("#form-message", Static).update(e.message)
            return
        told = self.values()["ack_method"]
        self.app.notify(_("Complaint {number} recorded; the customer was told it will be handled.", number=ref.number)
                        if told else _("Complaint {number} recorded; tell the customer it will be handled and record "
                                       "it on the ticket (K).", number=ref.number))
        self.dismiss(ref.id)

    def action_leave(self) -> None:
        from crm_tui.ui.widgets.dialogs import ConfirmDialog

        v = self.values()
        if not (v["description"].strip() or v["demand"].strip()):
            self.dismiss(None)
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(ConfirmDialog(_("Discard the changes on this form?"), yes=_("Discard"),
                                           no=_("Keep editing")), done)


# ------------------------------------------------------------------------------------------------
# Feedback on the archive (R-CMP-7, R-CUST-15)
# ------------------------------------------------------------------------------------------------


class FeedbackScreen(BaseScreen[None]):
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
        super().__init__()
        self.svc = svc
        self.actor = actor
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





# ------------------------------------------------------------------------------------------------
# Report (R-KPI-1)
# ------------------------------------------------------------------------------------------------


class ComplaintReportScreen(BaseScreen[None]):
    """Complaints by category, channel, severity and month, time to respond and feed back, share
    within limits, satisfaction by handler and repeated complainants; export to XLSX."""

    TITLE_MSGID = "Complaint report"
    BINDINGS = [
        Binding("p", "period", "Period"),
        Binding("ctrl+x", "export", "Export XLSX"),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        now = svc.now()
        self.start = datetime(now.year, 1, 1)
        self.end = datetime(now.year, now.month, now.day) + timedelta(days=1)
        self.rep: cp.ComplaintReport | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="report-scroll"):
            yield Static("", id="report-text")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#report-scroll").focus()
        self.load()

    def load(self) -> None:
        self.run_loader(cp.report, self.svc, self.actor, self.start, self.end, on_result=self._show,
                        group="complaint-report")

    def _show(self, rep: cp.ComplaintReport) -> None:
        self.rep = rep
        self.query_one("#report-text", Static).update(report_text(rep))

    def action_period(self) -> None:
        def done(value: str | None) -> None:
            if not value:
                return
            try:
                a, b = value.split()
                start = datetime.strptime(a, "%Y-%m-%d")
                end = datetime.strptime(b, "%Y-%m-%d") + timedelta(days=1)
            except ValueError:
                self.notify(_("Write the period as two dates: YYYY-MM-DD YYYY-MM-DD"), severity="error")
                return
            self.start, self.end = start, end
            self.load()

        current = f"{self.start:%Y-%m-%d} {self.end - timedelta(days=1):%Y-%m-%d}"
        self.app.push_screen(PromptDialog(_("Period (first and last day):"), value=current), done)

    def action_export(self) -> None:
        from pathlib import Path

        def done(path: str | None) -> None:
            if not path or self.rep is None:
                return
            try:
                target = cp.export_report(self.svc, self.actor, self.rep, path)
            except CrmError as e:
                self.notify(e.message, severity="error", timeout=10)
                return
            self.notify(_("Exported to {path}", path=str(target)), timeout=10)

        default = str(Path.home() / f"complaints-{self.start:%Y%m%d}-{self.end:%Y%m%d}.xlsx")
        self.app.push_screen(PromptDialog(_("Export the report to (.xlsx):"), value=default), done)


def report_text(rep: cp.ComplaintReport) -> str:
    def pct(x: float | None) -> str:
        return "—" if x is None else f"{x * 100:.0f}%"

    def hours(x: float | None) -> str:
        return "—" if x is None else f"{x:.1f}"

    period = f"{rep.start:%Y-%m-%d} – {rep.end - timedelta(days=1):%Y-%m-%d}"
    lines = [_("{label}: {value}", label=f"[b]{escape(_('Period'))}[/b]", value=period) + "   "
             + escape(_("{count} tickets", count=rep.total)),
             _("Median working hours to respond: {h}", h=hours(rep.median_respond_hours)),
             _("Median working hours to feed back: {h}", h=hours(rep.median_resolve_hours)),
             _("Within the time limit: respond {r}, feed back {f}", r=pct(rep.respond_within),
               f=pct(rep.resolve_within))]
    for title, data in ((N_("By category"), rep.by_category), (N_("By channel"), rep.by_channel),
                        (N_("By severity"), rep.by_severity), (N_("By month"), rep.by_month)):
        lines.append("")
        lines.append(f"[b]{escape(_(title))}[/b]")
        lines.extend(f"  {escape(str(k))}  {n}" for k, n in data)
    lines.append("")
    lines.append(f"[b]{escape(_('Satisfaction by handler'))}[/b]")
    lines.extend(escape(_("  {handler}: {avg} / 5 ({n} return visits)", handler=h, avg=f"{a:.1f}", n=n))
                 for h, a, n in rep.satisfaction_by_handler)
    lines.append("")
    lines.append(f"[b]{escape(_('Repeated complaints'))}[/b]")
    lines.extend(f"  {escape(num)} {escape(name)}  {n}" for num, name, n in rep.repeat_customers)
    return "\n".join(lines)
