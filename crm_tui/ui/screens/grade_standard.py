"""The grade standard (R-GRD-1): the grades in force with their criteria and contact frequency, a
proposed change waiting for management, the edit of one grade, and the contact plan it sets."""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Label, Static

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _
from crm_tui.services import customers as cs
from crm_tui.services import grades as gs
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal
from crm_tui.ui.parts.area import AreaScreen
from crm_tui.ui.parts.form import Field, FormPart
from crm_tui.ui.widgets.columns import cells, fixed_columns, widest
from crm_tui.ui.widgets.dialogs import PromptDialog

# Fixed widths: the layout does not depend on which rows arrived first; cells are plain text.
_columns = fixed_columns


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


class StandardScreen(AreaScreen[None]):
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
        super().__init__(svc, actor)
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


class ContactPlanScreen(AreaScreen[None]):
    """R-GRD-1: the grade decides how often the customer is contacted; who is due or overdue now
    (T toggles every graded customer by due date). Enter opens the archive."""

    TITLE_MSGID = "Contact plan"
    BINDINGS = [
        Binding("t", "toggle", "Due only / all"),
        Binding("enter", "open", "Customer archive", show=False),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__(svc, actor)
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


class GradeEditDialog(FormPart, BaseModal[dict | None]):
    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]
    FIELDS = ("name", "name_en", "rank", "contact_days", "description")
    FIELD_ID = staticmethod(lambda k: f"e-{k}")

    def __init__(self, code: str, values: dict) -> None:
        super().__init__()
        self.code = code
        self.values = values

    def compose(self) -> ComposeResult:
        v = self.values
        labels = {"name": (_("Name (Chinese)"), 40), "name_en": (_("Name (English)"), 60),
                  "rank": (_("Order (1 = highest)"), 3), "contact_days": (_("Contact every (days)"), 3),
                  "description": (_("Grade description"), 500)}
        with Vertical(classes="box dialog wide"):
            yield Label(_("Grade {code}", code=self.code), classes="box-title")
            yield from self.compose_fields([
                Field(k, labels[k][0], value=str(v[k]), max_length=labels[k][1], compact=True, error=True,
                      enter="next", id=f"e-{k}") for k in self.FIELDS])
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def on_mount(self) -> None:
        self.focus_first_field()

    def action_save(self) -> None:
        out: dict = self.form_values(("name", "name_en", "description"))
        bad = {}
        for k, text_ in self.form_values(("rank", "contact_days")).items():
            if not text_.strip().isdigit():
                bad[k] = _("Write a whole number.")
            else:
                out[k] = int(text_.strip())
        if bad:  # under each field and on the message line; focus on the first
            self.show_errors(bad)
            return
        self.dismiss(out)

    def action_cancel(self) -> None:
        self.dismiss(None)
