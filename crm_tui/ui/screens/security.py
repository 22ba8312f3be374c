"""The approval queue (R-SEC-2, F12) and the incident register (R-SEC-6, from the command palette): keyboard only."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Label, Static, TextArea

from collections.abc import Callable

from crm_tui.domain.errors import CrmError, ValidationError, ValidationErrors
from crm_tui.i18n import _
from crm_tui.services import approvals, incidents
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal, BaseScreen
from crm_tui.ui.parts.form import Field, FormPart
from crm_tui.ui.widgets.columns import DATE_TIME, cells, fixed_columns
from crm_tui.ui.widgets.dialogs import ConfirmDialog, InfoDialog, PromptDialog


class _Table(BaseScreen[None]):
    """A list above, the highlighted entry's details below."""

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor

    def _try(self, fn, *args, **kw):  # type: ignore[no-untyped-def]
        try:
            return fn(*args, **kw)
        except CrmError as e:
            self.notify(e.explain(), severity="error", timeout=10)
            return None

    def current_key(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0 or table.cursor_row < 0:
            return None
        return str(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)


class ApprovalsScreen(_Table):
    """Requests for sensitive operations: approvers decide those of others (A approve, X reject)."""

    TITLE_MSGID = "Approval requests"
    BINDINGS = [
        Binding("a", "approve", "Approve"),
        Binding("x", "reject", "Reject"),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__(svc, actor)
        self.rows: dict[str, approvals.ApprovalView] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="approval-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="approval-detail", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        fixed_columns(table, ("#", 5), (_("State"), 10), (_("Operation"), 28), (_("Target"), 22),
                      (_("Requested by"), 10), (_("Requested at"), DATE_TIME))
        table.focus()
        self.load()

    def load(self) -> None:
        self.run_loader(approvals.list_requests, self.svc, self.actor, group="approvals", on_result=self._show)

    def _show(self, rows: list[approvals.ApprovalView]) -> None:
        self.rows = {str(v.id): v for v in rows}
        table = self.query_one(DataTable)
        at = table.cursor_row
        with self.app.batch_update():
            table.clear()
            for v in rows:
                table.add_row(*cells(str(v.id), v.state_label, v.operation_label, v.target or "-",
                                     v.requester_name, f"{v.requested_at:%Y-%m-%d %H:%M}"), key=str(v.id))
            if rows:
                table.move_cursor(row=min(max(at, 0), len(rows) - 1))
        if not rows:
            self.query_one("#approval-detail", Static).update(_("No approval requests."))

    @on(DataTable.RowHighlighted)
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        v = self.rows.get(str(event.row_key.value)) if event.row_key else None
        if v is None:
            return
        lines = [_("Reason: {reason}", reason=v.reason),
                 _("Expires: {at}", at=f"{v.expires_at:%Y-%m-%d %H:%M}")]
        if v.decided_at:
            lines.append(_("Decided by {name} on {at}: {note}", name=v.decided_by_name or v.decided_by or "-",
                           at=f"{v.decided_at:%Y-%m-%d %H:%M}", note=v.decision_note or ""))
        if v.used_at:
            lines.append(_("Used on {at}", at=f"{v.used_at:%Y-%m-%d %H:%M}"))
        self.query_one("#approval-detail", Static).update("\n".join(lines))

    def action_approve(self) -> None:
        key = self.current_key()
        if key is None:
            return
        v = self.rows[key]

        def done(yes: bool | None) -> None:
            if yes and self._try(approvals.approve, self.svc, self.actor, v.id) is None:
                self.notify(_("Request {id} approved.", id=v.id))
            self.load()

        self.app.push_screen(ConfirmDialog(_("Approve request {id} of {name}: {what} {target}?\n{reason}", id=v.id,
                                             name=v.requester_name, what=v.operation_label,
                                             target=f"({v.target})" if v.target else "", reason=v.reason)), done)

    def action_reject(self) -> None:
        key = self.current_key()
        if key is None:
            return
        v = self.rows[key]

        def done(reason: str | None) -> None:
            if reason and self._try(approvals.reject, self.svc, self.actor, v.id, reason) is None:
                self.notify(_("Request {id} rejected.", id=v.id))
            self.load()

        self.app.push_screen(PromptDialog(_("Why is request {id} rejected?", id=v.id)), done)


def _submit(form: "IncidentForm | NoticeForm", submit: "Callable[[dict[str, str]], object] | None") -> None:
    """Send the form's values; a refusal names its fields on the form (focus to the first), and the
    form stays with what was typed. A form's ``FIELD_ID`` maps the service's field names it does not
    use itself to its widget ids."""
    values = form.form_values()
    if submit is None:
        form.dismiss(values)
        return
    try:
        submit(values)
    except ValidationErrors as e:
        form.show_errors(e.by_field())
        return
    except ValidationError as e:
        form.show_errors({e.field: e.message})
        return
    except CrmError as e:
        form.query_one("#form-message", Static).update(e.message)
        return
    form.dismiss(values)


class IncidentForm(FormPart, BaseModal[dict[str, str] | None]):
    """A new incident: title, what happened, when found, measures so far. Ctrl+S saves."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]
    FIELD_ID = staticmethod(lambda name: {"found_at": "found"}.get(name, name))

    def __init__(self, now_text: str, submit: "Callable[[dict[str, str]], object] | None" = None) -> None:
        super().__init__()
        self.now_text = now_text
        self.submit = submit  # the service call: a refusal stays on the form, next to its field

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog"):
            yield Label(_("New incident (leak or loss)"), classes="box-title")
            yield from self.compose_fields([
                Field("title", _("Title"), enter="next"),
                Field("description", _("What happened"), "text"),
                Field("found", _("Found at (YYYY-MM-DD HH:MM)"), value=self.now_text, max_length=16, enter="next"),
                Field("measures", _("Measures taken so far"), max_length=500, enter="save"),
            ])
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#description", TextArea).styles.height = 5
        self.focus_first_field()

    def action_save(self) -> None:
        _submit(self, self.submit)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoticeForm(FormPart, BaseModal[dict[str, str] | None]):
    """One affected customer was told: customer number, who, when, how."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]
    FIELDS = ("number", "by", "at", "method", "note")
    FIELD_ID = staticmethod(lambda name: {"told_by": "by", "told_at": "at"}.get(name, name))

    def __init__(self, number: str, by: str, now_text: str,
                 submit: "Callable[[dict[str, str]], object] | None" = None) -> None:
        super().__init__()
        self.defaults = {"number": number, "by": by, "at": now_text, "method": "", "note": ""}
        self.submit = submit

    def compose(self) -> ComposeResult:
        labels = {"number": _("Customer number"), "by": _("Told by"), "at": _("When (YYYY-MM-DD HH:MM)"),
                  "method": _("How (phone, visit, letter ...)"), "note": _("Note")}
        with Vertical(classes="box dialog"):
            yield Label(_("Notice to an affected customer"), classes="box-title")
            yield from self.compose_fields([Field(f, labels[f], value=self.defaults[f], enter="next")
                                            for f in self.FIELDS[:-1]]
                                           + [Field("note", labels["note"], enter="save")])
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def action_save(self) -> None:
        _submit(self, self.submit)

    def action_cancel(self) -> None:
        self.dismiss(None)


class IncidentsScreen(_Table):
    """The incident register: N new, C affected customers, M measure, T notice, X close with report,
    V the report."""

    TITLE_MSGID = "Incident register"
    BINDINGS = [
        Binding("n", "new", "New incident"),
        Binding("c", "affected", "Affected customers"),
        Binding("m", "measure", "Measure"),
        Binding("t", "notice", "Notice"),
        Binding("x", "close", "Close"),
        Binding("v", "report", "Incident report"),
        Binding("escape", "app.back", "Back"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="incident-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="incident-detail", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        fixed_columns(table, ("#", 4), (_("State"), 6), (_("Found"), DATE_TIME), (_("Told"), 9), (_("Title"), 50))
        table.focus()
        self.load()

    def load(self) -> None:
        self.run_loader(incidents.list_incidents, self.svc, self.actor, group="incidents", on_result=self._show)

    def _show(self, rows: list[incidents.IncidentRow]) -> None:
        table = self.query_one(DataTable)
        at = table.cursor_row
        with self.app.batch_update():
            table.clear()
            for r in rows:
                table.add_row(*cells(str(r.id), r.state_label, f"{r.found_at:%Y-%m-%d %H:%M}",
                                     f"{r.notified}/{r.affected}", r.title), key=str(r.id))
            if rows:
                table.move_cursor(row=min(max(at, 0), len(rows) - 1))
        if not rows:
            self.query_one("#incident-detail", Static).update(_("No incidents."))
        else:
            self._detail()

    @on(DataTable.RowHighlighted)
    def highlighted(self) -> None:
        self._detail()

    def _detail(self) -> None:
        key = self.current_key()
        if key is None:
            return
        text = self._try(incidents.report_text, self.svc, self.actor, int(key))
        if text is not None:
            self.query_one("#incident-detail", Static).update(text)

    def _now(self) -> str:
        return f"{self.svc.now():%Y-%m-%d %H:%M}"

    def _then(self, ok: object) -> None:
        if ok is not None:
            self.load()

    def action_new(self) -> None:
        made: list[int] = []

        def submit(v: dict[str, str]) -> None:
            made.append(incidents.new_incident(self.svc, self.actor, v["title"], v["description"], v["found"],
                                               v["measures"]))

        def done(v: dict[str, str] | None) -> None:
            if v and made:
                self.notify(_("Incident {id} recorded.", id=made[-1]))
                self.load()

        self.app.push_screen(IncidentForm(self._now(), submit), done)

    def action_affected(self) -> None:
        key = self.current_key()
        if key is None:
            return

        def done(v: str | None) -> None:
            if not v:
                return
            parts = [p.strip() for p in v.replace("，", ",").split(",") if p.strip()]
            numbers = "," in v.replace("，", ",")  # a list of numbers has commas; anything else is a search
            n = self._try(incidents.set_affected, self.svc, self.actor, int(key),
                          query=None if numbers else v, numbers=parts if numbers else ())
            if n is not None:
                self.notify(_("{n} affected customers added.", n=n))
                self.load()

        self.app.push_screen(PromptDialog(_("Affected customers: a search as in the customer list, or customer "
                                            "numbers separated by commas (one number: end it with a comma)")), done)

    def action_measure(self) -> None:
        key = self.current_key()
        if key is None:
            return
        self.app.push_screen(PromptDialog(_("Measure taken:")), lambda v: v and self._then(
            self._try(incidents.add_measures, self.svc, self.actor, int(key), v) or True))

    def action_notice(self) -> None:
        key = self.current_key()
        if key is None:
            return

        def submit(v: dict[str, str]) -> None:
            incidents.record_notice(self.svc, self.actor, int(key), v["number"], told_by=v["by"], told_at=v["at"],
                                    method=v["method"], note=v["note"])

        def done(v: dict[str, str] | None) -> None:
            if v:
                self.load()

        self.app.push_screen(NoticeForm("", self.actor.display_name, self._now(), submit), done)

    def action_close(self) -> None:
        key = self.current_key()
        if key is None:
            return
        self.app.push_screen(PromptDialog(_("Closing report (cause, measures, who was told):"), max_length=5000),
                             lambda v: v and self._then(
                                 self._try(incidents.close, self.svc, self.actor, int(key), v) or True))

    def action_report(self) -> None:
        key = self.current_key()
        if key is None:
            return
        text = self._try(incidents.report_text, self.svc, self.actor, int(key))
        if text is not None:
            self.app.push_screen(InfoDialog(_("Incident report"), text))
