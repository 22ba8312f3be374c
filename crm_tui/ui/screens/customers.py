"""Customer archives: the list with search as you type, the archive with its timeline, watch lists.

The list never loads a table: each keystroke asks the search service for one page in a thread
worker (a newer keystroke supersedes the older query), and later pages are fetched by key when the
cursor reaches the bottom. The table holds at most MAX_ROWS rows.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import N_, _
from crm_tui.services import customer_forms as cf
from crm_tui.services import customer_rules as cr
from crm_tui.services import customers as cs
from crm_tui.services import frontdesk as fd
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal, BaseScreen, enter_in
from crm_tui.ui.widgets.columns import (CUSTOMER_NUMBER, DATE_TIME, PERSON, PHONE, SIDE_BY_SIDE, cells,
                                        fixed_columns, widest)
from crm_tui.ui.widgets.dialogs import ConfirmDialog, InfoDialog, PromptDialog
from crm_tui.ui.widgets.plain_table import PlainTable

PAGE = 100
MAX_ROWS = 1000


class CustomerListScreen(BaseScreen[None]):
    TITLE_MSGID = "Customer archives"
    BINDINGS = [
        Binding("ctrl+n", "new", "New", priority=True),
        Binding("enter", "open", "Open", show=False),
        Binding("ctrl+e", "edit", "Edit", priority=True),
        Binding("ctrl+f", "search", "Search", priority=True),
        Binding("ctrl+t", "filters", "Filters", priority=True),
        Binding("ctrl+x", "export", "Export list", priority=True),
        Binding("ctrl+w", "watch", "Watch lists", priority=True),
        Binding("escape", "app.back", "Back"),
        ENTER_BINDING,
    ]
    ACTION_PERMISSIONS = {"new": "customer.create", "edit": "customer.edit", "export": "customer.export"}

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.rows: list[cs.CustomerRow] = []
        self.next_cursor: str | None = None
        self.query_seq = 0
        self.loading_more = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="search-bar"):
            yield Input(placeholder=_("Name, pinyin (zs), 4+ phone digits, KH number, ID number"),
                        id="q", max_length=60)
        with Horizontal(id="customer-filters", classes="filters"):
            yield Select([(label, code) for code, label in cf.category_choices()], prompt=_("Category"),
                         id="f-category")
            yield Select([(label, code) for code, label in cf.grade_choices(self.svc)], prompt=_("Grade"),
                         id="f-grade")
            yield Select([(label, sid) for sid, label in cf.owner_choices(self.svc)], prompt=_("Owner"),
                         id="f-owner")
            yield Input(placeholder=_("Tag"), id="f-tag", max_length=20)
        yield PlainTable(id="customer-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="customer-status", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        fixed_columns(table, (_("Number"), CUSTOMER_NUMBER), (_("Name"), 20), (_("Phone"), PHONE),
                      (_("Category"), widest(label for _code, label in cf.category_choices())),
                      (_("Grade"), 2),
                      (_("Owner"), PERSON), (_("Tags"), 30))
        self.query_one("#q", Input).focus()
        self.run_search()

    def on_screen_resume(self) -> None:
        self.run_search(keep_cursor=True)

    # -- searching -------------------------------------------------------------------------------
    def filters(self) -> cs.SearchFilters:
        def val(sel_id: str):  # type: ignore[no-untyped-def]
            v = self.query_one(sel_id, Select).value
            return None if v is Select.NULL else v

        tag = self.query_one("#f-tag", Input).value.strip() or None
        return cs.SearchFilters(category=val("#f-category"), grade=val("#f-grade"), owner_id=val("#f-owner"), tag=tag)

    @on(Input.Changed, "#q")
    @on(Input.Changed, "#f-tag")
    @on(Select.Changed)
    def _changed(self) -> None:
        self.run_search()

    async def action_enter(self) -> None:
        """Enter in the search box goes to the results at once, so Down/Enter typed right after it
        move in and open the list instead of landing in the box."""
        await enter_in(self, {"q": self._to_table})

    def _to_table(self) -> None:
        if self.rows:
            self.set_focus(self.query_one(DataTable))

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        """Down from the search box goes to the results, as Enter does."""
        if event.key == "down" and self.focused is self.query_one("#q", Input) and self.rows:
            self.query_one(DataTable).focus()
            event.stop()

    def run_search(self, keep_cursor: bool = False) -> None:
        self.query_seq += 1
        self.fetch(self.query_one("#q", Input).value, self.filters(), None, self.query_seq, keep_cursor)

    def fetch(self, query: str, filters: cs.SearchFilters, cursor: str | None, seq: int, keep: bool = False) -> None:
        self.run_loader(cs.search, self.svc, self.actor, query, filters, cursor=cursor, limit=PAGE,
                        on_result=lambda page: self._show(page, cursor is not None, seq, keep),
                        on_error=lambda e: self._error(e.message, seq), group="customer-search")

    def _error(self, text: str, seq: int) -> None:
        if seq == self.query_seq and self.is_attached:
            self.query_one("#customer-status", Static).update(text)
            self.loading_more = False

    def _show(self, page: cs.SearchPage, append: bool, seq: int, keep: bool) -> None:
        if seq != self.query_seq or not self.is_attached:
            return  # a newer keystroke has asked already, or the screen was closed meanwhile
        table = self.query_one("#customer-table", PlainTable)
        row_before = table.cursor_row
        if append and len(self.rows) + len(page.rows) > MAX_ROWS:
            append = False  # keep the widget small: the next page replaces the table
        with self.app.batch_update():
            if not append:
                table.clear()
                self.rows = []
            seen = {r.id for r in self.rows}
            new = []
            for r in page.rows:
                if r.id not in seen:
                    seen.add(r.id)
                    new.append(r)
            self.rows.extend(new)
            table.add_plain_rows((str(r.id), cells(r.number, r.name, r.phone or "", category_label(r.category),
                                                   r.grade or "", r.owner or "", " ".join(r.tags))) for r in new)
            if keep and self.rows:
                table.move_cursor(row=min(row_before, len(self.rows) - 1))
        self.next_cursor = page.next_cursor
        self.loading_more = False
        more = _("(more below)") if page.next_cursor else ""
        # One line of fixed height (app.tcss): no layout pass for it at every keystroke.
        self.query_one("#customer-status", Static).update(
            _("{count} found", count=page.count_hint) + ("  " + more if more else ""), layout=False)

    @on(DataTable.RowHighlighted, "#customer-table")
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        if self.next_cursor and not self.loading_more and event.cursor_row >= len(self.rows) - 5:
            self.loading_more = True
            self.fetch(self.query_one("#q", Input).value, self.filters(), self.next_cursor, self.query_seq)

    # -- actions ---------------------------------------------------------------------------------
    def current(self) -> cs.CustomerRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    @on(DataTable.RowSelected, "#customer-table")
    def action_open(self) -> None:
        row = self.current()
        if row:
            self.app.push_screen(CustomerDetailScreen(self.svc, self.actor, row.id))

    def action_new(self) -> None:
        from crm_tui.ui.screens.customer_form import CustomerFormScreen

        self.app.push_screen(CustomerFormScreen(self.svc, self.actor, None), self._after_save)

    def action_edit(self) -> None:
        from crm_tui.ui.screens.customer_form import CustomerFormScreen

        row = self.current()
        if row:
            self.app.push_screen(CustomerFormScreen(self.svc, self.actor, row.id), self._after_save)

    def _after_save(self, customer_id: int | None) -> None:
        if customer_id:
            self.app.push_screen(CustomerDetailScreen(self.svc, self.actor, customer_id))

    def action_search(self) -> None:
        self.query_one("#q", Input).focus()

    def action_filters(self) -> None:
        self.query_one("#f-category", Select).focus()

    def action_watch(self) -> None:
        self.app.push_screen(WatchListScreen(self.svc, self.actor))

    def action_export(self) -> None:
        def done(path: str | None) -> None:
            if not path:
                return
            fmt = "csv" if path.lower().endswith(".csv") else "xlsx"
            self.export_list(Path(path).expanduser(), fmt)

        default = str(Path.home() / f"customers-{self.svc.now():%Y%m%d}.xlsx")
        self.app.push_screen(PromptDialog(_("Export the listed customers to (.xlsx or .csv):"), value=default), done)

    def export_list(self, path: Path, fmt: str) -> None:
        from crm_tui.services.approvals import ApprovalNeeded
        from crm_tui.ui import approval

        def failed(e: CrmError) -> None:
            if isinstance(e, ApprovalNeeded):  # R-SEC-2: offer to ask a second person
                approval.offer_request(self, self.svc, self.actor, e)
            else:
                self.notify(e.message, severity="error", timeout=10)

        self.run_action(cs.export_list, self.svc, self.actor, self.query_one("#q", Input).value, self.filters(), path,
                        fmt, approval_id=approval.usable(self.svc, self.actor, "customer.export"),
                        group="customer-export",
                        on_result=lambda n: self.notify(_("{n} customers exported to {path}", n=n, path=str(path)),
                                                        timeout=10),
                        on_error=failed)


class CustomerDetailScreen(BaseScreen[None]):
    """One archive: the profile (sensitive fields masked unless the role may see them) and the
    timeline of every change and contact."""

    TITLE_MSGID = "Customer archive"
    HORIZONTAL_BREAKPOINTS = SIDE_BY_SIDE  # narrower: the profile above the timeline
    BINDINGS = [
        Binding("ctrl+e", "edit", "Edit"),
        Binding("ctrl+r", "reveal", "Reveal ID/phone"),
        Binding("ctrl+k", "contact", "Log contact"),
        Binding("ctrl+o", "export_one", "Export data"),
        Binding("ctrl+g", "informed", "Customer informed", show=False),
        Binding("ctrl+d", "erase", "Erase", show=False),
        Binding("escape", "app.back", "Back"),
        Binding("ctrl+b", "feedback", "Feedback / complaint"),
        Binding("ctrl+n", "new_phone", "New phone"),
        Binding("ctrl+t", "confirm_phone", "Confirm new phone"),
        Binding("ctrl+a", "consents", "Consents"),
        # R-CUST-3, R-CUST-8: false information, business stop, phone inspection (by role, F1 and palette)
        Binding("ctrl+u", "measures", "Measures: false information, stop business, inspection", show=False),
    ]
    ACTION_PERMISSIONS = {"consents": "customer.view", "edit": "customer.edit", "reveal": "customer.view_sensitive",
                          "contact": "customer.contact_log", "export_one": "customer.export_one",
                          "informed": "customer.edit", "erase": "customer.erase", "feedback": "complaint.view"}

    def __init__(self, svc: Services, actor: Actor, customer_id: int) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.customer_id = customer_id
        self.view: cs.CustomerView | None = None
        self.pending_phones: list[fd.PhoneRequestView] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="detail-body"):
            with VerticalScroll(id="profile"):
                yield Static("", id="phone-requests", classes="message")
                yield Static("", id="profile-text")
            with Vertical(id="timeline-pane"):
                yield Label(_("Timeline"), classes="section")
                yield DataTable(id="timeline", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#timeline", DataTable)
        # the details (often a paragraph) last, so the staff member stays on screen
        fixed_columns(table, (_("Time"), DATE_TIME), (_("What"), 22), (_("Staff"), PERSON), (_("Details"), 160))
        table.focus()
        self.query_one("#phone-requests", Static).display = False
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def load(self) -> None:
        def read() -> tuple[cs.CustomerView, list[cs.TimelineEntry], list[fd.PhoneRequestView]]:
            view, history = cs.archive_page(self.svc, self.actor, self.customer_id)  # one audit row per view
            return view, history, fd.pending_phone_changes(self.svc, self.actor, self.customer_id)

        self.run_loader(read, on_result=lambda r: self._show(*r), group="customer-detail")

    def _show(self, view: cs.CustomerView, entries: list[cs.TimelineEntry],
              pending: list[fd.PhoneRequestView] = ()) -> None:  # type: ignore[assignment]
        if not self.is_attached:
            return  # closed while it loaded
        self.view = view
        self.pending_phones = list(pending)
        notice = self.query_one("#phone-requests", Static)
        notice.update("\n".join(
            _("New phone awaiting confirmation: {old} → {new}, recorded by {who} on {time}",
              old=p.replaces or _("(an additional phone)"), new=p.number, who=p.requested_by,
              time=f"{p.requested_at:%m-%d %H:%M}")
            + (" " + _("(Ctrl+T)") if self._owns() else "") for p in self.pending_phones))
        notice.display = bool(self.pending_phones)
        self.refresh_bindings()
        self.sub_title = f"{view.number} {view.name}"
        holidays.work_calendar(self.svc)  # fresh for the ≈ marks
        self.query_one("#profile-text", Static).update(profile_text(view))
        table = self.query_one("#timeline", DataTable)
        with self.app.batch_update():
            table.clear()
            for e in entries:
                table.add_row(*cells(f"{e.at:%Y-%m-%d %H:%M}", e.title, e.staff or "", e.body))

    def _owns(self) -> bool:
        v = self.view
        return v is not None and v.owner_id is not None and v.owner_id in (self.actor.staff_id, self.actor.on_behalf_of)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_phone":  # the front desk's way to a caller's new phone (data/roles.toml)
            return fd.phone_change_mode(self.actor) is not None and self.view is not None \
                and self.view.erased_at is None
        if action == "confirm_phone":
            return self.actor.can("customer.edit") and self._owns() and bool(self.pending_phones)
        if action == "measures":
            return any(self.actor.can(p) for p in MEASURE_PERMISSIONS)
        return super().check_action(action, parameters)

    def action_new_phone(self) -> None:
        if self.view is None:
            return
        from crm_tui.ui.screens.frontdesk import NewPhoneForm

        def done(out: fd.PhoneChangeOutcome | None) -> None:
            if out is None:
                return
            self.notify(_("New phone saved.") if out.state == "saved" else
                        _("New phone sent to {owner} for confirmation.", owner=self.view.owner if self.view else ""))
            self.load()

        self.app.push_screen(NewPhoneForm(self.svc, self.actor, self.view), done)

    def action_confirm_phone(self) -> None:
        from crm_tui.ui.screens.frontdesk import confirm_phone_requests

        confirm_phone_requests(self, self.svc, self.actor, self.customer_id, self.load)

    def action_edit(self) -> None:
        from crm_tui.ui.screens.customer_form import CustomerFormScreen

        self.app.push_screen(CustomerFormScreen(self.svc, self.actor, self.customer_id))

    def action_reveal(self) -> None:
        """Show one masked value whole: which one, why (recorded in the audit trail), then a dialog
        that holds it for this view only; nothing keeps it afterwards."""
        def chosen(field: str | None) -> None:
            if not field:
                return

            def reason_given(reason: str | None) -> None:
                if not reason:
                    return
                from crm_tui.services.approvals import ApprovalNeeded
                from crm_tui.ui import approval

                number = self.view.number if self.view else None
                try:
                    value = cs.reveal(self.svc, self.actor, self.customer_id, field, reason,
                                      approval_id=approval.usable(self.svc, self.actor, "customer.reveal_other", number))
                except ApprovalNeeded as e:  # another's customer's ID number (R-SEC-2)
                    approval.offer_request(self, self.svc, self.actor, e, number)
                    return
                except CrmError as e:
                    self.notify(e.explain(), severity="error")
                    return
                self.app.push_screen(InfoDialog(_("Revealed (recorded in the audit trail)"), value))

            self.app.push_screen(PromptDialog(_("Why do you need to see it? (recorded in the audit trail)")),
                                 reason_given)

        self.app.push_screen(RevealDialog(), chosen)

    def action_contact(self) -> None:
        from crm_tui.ui.screens.customer_form import ContactForm

        def done(result: dict | None) -> None:
            if not result:
                return
            try:
                cs.add_contact(self.svc, self.actor, self.customer_id, result.pop("method"), result.pop("summary"),
                               **result)
            except CrmError as e:
                self.notify(e.message, severity="error")
                return
            self.notify(_("Contact recorded."))
            self.load()

        self.app.push_screen(ContactForm(), done)

    def action_informed(self) -> None:
        """Tick off "to be told" (after a change or a handover, R-CUST-11): who (you), when (now), how."""

        def done(method: str | None) -> None:
            if method is None:
                return
            try:
                cs.mark_informed(self.svc, self.actor, self.customer_id, method=method)
            except CrmError as e:
                self.notify(e.message, severity="error")
                return
            self.notify(_("Recorded: the customer was told of the change."))
            self.load()

        self.app.push_screen(PromptDialog(_("How was the customer told? (phone, visit, letter ...)"), required=False,
                                          max_length=40), done)

    def action_export_one(self) -> None:
        def done(path: str | None) -> None:
            if not path:
                return
            fmt = "json" if path.lower().endswith(".json") else "xlsx"
            try:
                cs.export_customer(self.svc, self.actor, self.customer_id, Path(path).expanduser(), fmt)
            except CrmError as e:
                self.notify(e.message, severity="error")
                return
            self.notify(_("Exported to {path}", path=path), timeout=10)

        number = self.view.number if self.view else str(self.customer_id)
        self.app.push_screen(PromptDialog(_("Export this customer's complete data to (.json or .xlsx):"),
                                          value=str(Path.home() / f"{number}.json")), done)

    def action_erase(self) -> None:
        def reason_given(reason: str | None) -> None:
            if not reason:
                return

            def confirmed(yes: bool | None) -> None:
                if not yes:
                    return
                from crm_tui.services.approvals import ApprovalNeeded
                from crm_tui.ui import approval

                number = self.view.number if self.view else None
                try:
                    cs.erase_customer(self.svc, self.actor, self.customer_id, reason,
                                      approval_id=approval.usable(self.svc, self.actor, "customer.erase", number))
                except ApprovalNeeded as e:  # R-SEC-2
                    approval.offer_request(self, self.svc, self.actor, e, number)
                    return
                except CrmError as e:
                    self.notify(e.message, severity="error")
                    return
                self.notify(_("Personal data erased."))
                self.app.pop_screen()

            self.app.push_screen(ConfirmDialog(
                _("Erase this customer's personal data for good? Statistics and the audit trail stay, without "
                  "personal data. This cannot be undone.")), confirmed)

        self.app.push_screen(PromptDialog(_("Why is this customer's data erased? (recorded)")), reason_given)

    def action_consents(self) -> None:
        """R-CUST-6: the archive's consents; add one (then an ID number can be entered) or withdraw one."""
        from crm_tui.ui.screens.consent import ConsentsDialog

        label = f"{self.view.number} {self.view.name}" if self.view else str(self.customer_id)
        self.app.push_screen(ConsentsDialog(self.svc, self.actor, self.customer_id, label), lambda _r: self.load())
    def palette_commands(self) -> list[tuple[str, str, str]]:
        return [(_("Measures: false information, stop business, inspection"), _("Customer archive"),
                 "screen.measures")]

    def action_measures(self) -> None:
        """R-CUST-3 / R-CUST-8: the measures this role may take on this archive, then the reason."""
        view = self.view
        if view is None:
            return
        offered = measures_for(self.actor, view)
        if not offered:
            self.notify(_("Nothing to do here for your role."))
            return

        def chosen(key: str | None) -> None:
            if not key:
                return

            def reason_given(reason: str | None) -> None:
                if not reason:
                    return
                try:
                    MEASURES[key][2](self.svc, self.actor, self.customer_id, reason)
                except CrmError as e:
                    self.notify(e.explain(), severity="error")
                    return
                self.notify(_(MEASURES[key][3]))
                self.load()

            self.app.push_screen(PromptDialog(_(MEASURES[key][1])), reason_given)

        self.app.push_screen(ChoiceDialog(_("Measures for this customer"),
                                          [(k, _(MEASURES[k][0])) for k in offered]), chosen)

    def action_feedback(self) -> None:
        """Hook into the complaints area: this customer's praise, suggestions, grumbles, surveys."""
        from crm_tui.ui.screens.complaints import FeedbackScreen

        label = f"{self.view.number} {self.view.name}" if self.view else str(self.customer_id)
        self.app.push_screen(FeedbackScreen(self.svc, self.actor, self.customer_id, label))


class WatchListScreen(BaseScreen[None]):
    """The archives that need attention: R-CUST-7, -8, -9, -10, and handover of a leaver's customers."""

    TITLE_MSGID = "Watch lists"
    BINDINGS = [
        Binding("1", "show('phone_changes')", "Phone changed twice"),
        Binding("2", "show('past_deadline')", "Past deadline"),
        Binding("3", "show('shared_phones')", "Shared phones"),
        Binding("4", "show('few_contacts')", "Too few contacts"),
        Binding("5", "show('retention')", "Past retention"),
        # lists 6 on: F1, the palette and the title line name them (the footer is full)
        Binding("6", "show('contact_tasks')", "Second contact due", show=False),
        Binding("7", "show('owner_disabled')", "Owner disabled", show=False),
        Binding("8", "show('shared_filing')", "Shared phones to file", show=False),
        Binding("9", "show('phone_requests')", "New phones to confirm", show=False),
        Binding("0", "show('inform_due')", "To be told", show=False),
        Binding("right_square_bracket", "step(1)", "Next list", show=False),
        Binding("left_square_bracket", "step(-1)", "Previous list", show=False),
        Binding("ctrl+a", "approve", "Approve shared phone"),
        Binding("ctrl+f", "file_shared", "File with internal control"),
        Binding("ctrl+r", "inspect", "Record inspection"),
        Binding("ctrl+g", "told", "Customer told"),
        Binding("ctrl+b", "survey", "Record survey"),
        Binding("ctrl+o", "handover", "Handover"),  # not Ctrl+H: terminals send it as Backspace
        Binding("enter", "open", "Open", show=False),
        Binding("escape", "app.back", "Back"),
    ]
    ACTION_PERMISSIONS = {"approve": "customer.review_shared_phone", "handover": "customer.handover",
                          "told": "customer.edit", "survey": "feedback.create",
                          "file_shared": "customer.shared_phone_file", "inspect": "customer.phone_inspect"}

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.kind = "past_deadline"
        self.items: list[cs.WatchRow] = []
        self.next_cursor: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="watch-title", classes="section")
        yield DataTable(id="watch-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        fixed_columns(table, (_("Number"), CUSTOMER_NUMBER), (_("Name"), 20), (_("Owner"), PERSON), (_("Why"), 60))
        table.focus()
        self.action_show(self.kind)

    def palette_commands(self) -> list[tuple[str, str, str]]:
        return [(_(title), _("Watch lists"), f"screen.show('{kind}')") for kind, title in cf.WATCH_LISTS.items()]

    def action_step(self, by: int) -> None:
        """[ and ]: the previous or next list, round the whole set (there are more lists than digits)."""
        kinds = list(cf.WATCH_LISTS)
        self.action_show(kinds[(kinds.index(self.kind) + by) % len(kinds)])

    def action_show(self, kind: str) -> None:
        self.kind = kind
        self.query_one("#watch-title", Static).update(
            _(cf.WATCH_LISTS[kind]) + "   " + _("(keys 1-9, 0 and [ ] switch lists; F1 names them)"))
        self.load(kind)

    def load(self, kind: str) -> None:
        self.run_loader(cf.watch_list, self.svc, self.actor, kind, on_result=lambda page: self._show(page.rows),
                        group="watch")

    def _show(self, rows: list[cs.WatchRow]) -> None:
        self.items = rows
        table = self.query_one(DataTable)
        with self.app.batch_update():
            table.clear()
            for r in rows:
                table.add_row(*cells(r.customer.number, r.customer.name, r.customer.owner or "", r.detail))

    def current(self) -> cs.WatchRow | None:
        table = self.query_one(DataTable)
        if not self.items or table.cursor_row < 0:
            return None
        return self.items[min(table.cursor_row, len(self.items) - 1)]

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        row = self.current()
        if row:
            self.app.push_screen(CustomerDetailScreen(self.svc, self.actor, row.customer.id))

    def action_approve(self) -> None:
        row = self.current()
        if not row or self.kind != "shared_phones" or row.phone_id is None:
            self.notify(_("Choose a customer in the shared-phone list (key 3)."))
            return
        try:
            slot = cs.approve_shared_phone(self.svc, self.actor, row.phone_id)
        except CrmError as e:
            self.notify(e.explain(), severity="error")
            return
        self.notify(_("Signed as section chief.") if slot == "chief" else _("Signed as deputy manager."))
        self.load(self.kind)

    def on_screen_resume(self) -> None:
        self.load(self.kind)  # back from an archive or a survey: the lists may have changed

    def action_told(self) -> None:
        """R-CUST-5: record that the chosen customer was told of the change (list 0)."""
        from crm_tui.ui.screens.consent import ToldForm

        row = self.current()
        if not row or self.kind != "inform_due" or row.item_id is None:
            self.notify(_("Choose a change in the list of changes to tell (key 0)."))
            return

        def done(ok: bool | None) -> None:
            if ok:
                self.notify(_("Recorded: the customer was told of the change."))
                self.load(self.kind)

        self.app.push_screen(ToldForm(self.svc, self.actor, row.item_id,
                                      f"{row.customer.number} {row.customer.name}: {row.detail}"), done)

    def action_survey(self) -> None:
        """R-CUST-15: record the chosen customer's survey (M in the feedback screen)."""
        from crm_tui.ui.screens.complaints import FeedbackScreen

        row = self.current()
        if not row:
            return
        self.app.push_screen(FeedbackScreen(self.svc, self.actor, row.customer.id,
                                            f"{row.customer.number} {row.customer.name}"))
    def action_file_shared(self) -> None:
        """R-CUST-7: internal control files (备案) a shared phone both signatures approved."""
        row = self.current()
        if not row or self.kind != "shared_filing" or row.phone_id is None:
            self.notify(_("Choose a customer in the list of shared phones to file (key 8)."))
            return

        def done(note: str | None) -> None:
            if note is None:
                return
            try:
                cr.file_shared_phone(self.svc, self.actor, row.phone_id, note)  # type: ignore[arg-type]
            except CrmError as e:
                self.notify(e.explain(), severity="error")
                return
            self.notify(_("Filed with internal control."))
            self.load(self.kind)

        self.app.push_screen(PromptDialog(_("Filing note (optional):"), required=False), done)

    def action_inspect(self) -> None:
        """R-CUST-8: record the closer inspection of the chosen customer (clears the flag)."""
        row = self.current()
        if not row or self.kind != "phone_changes":
            self.notify(_("Choose a customer in the list of phones changed twice (key 1)."))
            return

        def done(result: str | None) -> None:
            if not result:
                return
            try:
                cr.record_phone_inspection(self.svc, self.actor, row.customer.id, result)
            except CrmError as e:
                self.notify(e.explain(), severity="error")
                return
            self.notify(_("Inspection recorded."))
            self.load(self.kind)

        self.app.push_screen(PromptDialog(_(MEASURES["inspect"][1])), done)

    def action_handover(self) -> None:
        from crm_tui.ui.screens.customer_form import HandoverForm

        def done(result: tuple[str, str, str] | None) -> None:
            if not result:
                return
            try:
                n = cs.handover(self.svc, self.actor, result[0], result[1], None, result[2])
            except CrmError as e:
                self.notify(e.message, severity="error")
                return
            self.notify(_("{n} customers handed over; each is marked 'tell the customer their new contact'.", n=n),
                        timeout=10)

        self.app.push_screen(HandoverForm(), done)


def category_label(code: str | None) -> str:
    if not code:
        return ""
    opt = cs.policy().categories.get(code)
    return opt.label if opt else code


def profile_text(view: cs.CustomerView) -> str:
    """The archive as lines of text: label, value; masked values stay masked."""
    from rich.markup import escape

    from crm_tui.domain.customers import FIELD_LABELS

    lines = [f"[b]{escape(view.number)}  {escape(view.name)}[/b]   {_(KIND_LABELS.get(view.kind, view.kind))}"]
    flags = []
    if view.important:
        flags.append(_("important"))
    if view.false_info:
        flags.append(_("false information: {note}", note=view.false_info_note or ""))
    if view.business_stopped:
        flags.append(_("business stopped") + (f": {view.business_stop_note}" if view.business_stop_note else ""))
    if view.phone_inspection_since:
        flags.append(_("phone changed twice in a month: closer inspection due since {date}",
                       date=f"{view.phone_inspection_since:%Y-%m-%d}"))
    if view.owner_disabled:
        flags.append(_("The responsible staff member's account is disabled; hand over"))
    if view.contact_task_due:
        flags.append(_("second staff contact due by {date}", date=f"{view.contact_task_due:%Y-%m-%d}"))
    if view.needs_informing:
        flags.append(_("tell the customer their new contact"))
    if view.erased_at:
        flags.append(_("erased {date}", date=f"{view.erased_at:%Y-%m-%d}"))
    if flags:
        lines.append("[b $warning]" + escape(" · ".join(flags)) + "[/]")
    lines.append(_("Grade: {grade}   Owner: {owner}", grade=view.grade or "-", owner=view.owner or "-"))
    if view.staff_contacts:
        lines.append(_("Other staff in contact: {names}", names="、".join(n for _i, n in view.staff_contacts)))
    for phone in view.phones:
        shared = _(" (shared: {reason})", reason=phone.shared_reason) if phone.shared_reason else ""
        lines.append(f"{_('Phone')}: {escape(phone.number)}{escape(shared)}")
        if phone.shared_signatures:
            lines.append("  " + escape(phone.shared_signatures))
    if view.last_inspection:
        lines.append(escape(_("Last phone-change inspection: {what}", what=view.last_inspection)))
    for name, value in view.values.items():
        if value in (None, "") or name in ("name",):
            continue
        label = _(FIELD_LABELS.get(name, name))
        lines.append(f"{escape(label)}: {escape(_display(name, value))}")
    if view.tags:
        lines.append(f"{_('Tags')}: {escape(' '.join(view.tags))}")
    groups = cs.policy().deadline_groups
    for group, fields in view.missing.items():
        if fields:
            names = "、".join(_(FIELD_LABELS.get(f, f)) for f in fields)
            label = groups[group].label if group in groups else group
            lines.append("[$warning]" + escape(_("Missing ({group}): {fields}", group=label, fields=names)) + "[/]")
    if view.incomplete_due:
        lines.append(_("Complete by {date}", date=f"{view.incomplete_due:%Y-%m-%d}{holidays.mark(view.incomplete_due)}"))
    if view.credit_measures:
        m = view.credit_measures
        lines.append(_("Credit {rating}: limit {limit}, term {days} days, prepayment {pct}%",
                       rating=m.label, limit=f"{m.credit_limit:,}", days=m.term_days, pct=m.prepayment_pct))
    if view.risk_measures:  # R-KPI-2: the rating and the measures it implies
        m = view.risk_measures
        lines.append(escape(_("Risk rating {rating}: limit {limit}, term {days} days, prepayment {pct}%",
                              rating=m.label, limit=f"{m.credit_limit:,}", days=m.term_days, pct=m.prepayment_pct)))
        if m.response:
            lines.append(escape(_("Risk response: {measures}", measures=m.response)))
    for c in view.consents:
        state = _("withdrawn") if c.withdrawn_at else _("given")
        from crm_tui.domain.customers import CONSENT_SCOPES

        scope = _(CONSENT_SCOPES[c.scope]) if c.scope in CONSENT_SCOPES else c.scope
        lines.append(_("Consent {scope}: {state} {date}", scope=scope, state=state, date=c.given_at.isoformat()))
    lines.append(_("Created {at} by {who}; updated {uat} by {uwho}", at=f"{view.created_at:%Y-%m-%d %H:%M}",
                   who=view.created_by, uat=f"{view.updated_at:%Y-%m-%d %H:%M}", uwho=view.updated_by))
    return "\n".join(lines)


KIND_LABELS = {"person": N_("Person"), "org": N_("Organisation")}

#: R-CUST-3 / R-CUST-8 measures on an archive: key -> (label, question, service, done message).
MEASURES = {
    "false_info": (N_("Mark as having given false information (stops business)"),
                   N_("What false information did the customer give? (recorded)"),
                   lambda svc, actor, cid, r: cs.mark_false_information(svc, actor, cid, r),
                   N_("Marked as having given false information; business stopped.")),
    "stop": (N_("Stop business with the customer"), N_("Why is business stopped? (recorded)"),
             cr.stop_business, N_("Business stopped.")),
    "clear_false_info": (N_("Lift the false-information mark (resumes business)"),
                         N_("Why is the mark lifted? (recorded)"), cs.clear_false_information,
                         N_("False information mark lifted")),
    "resume": (N_("Resume business"), N_("Why is business resumed? (recorded)"), cr.resume_business,
               N_("Business resumed")),
    "inspect": (N_("Record the phone-change inspection"),
                N_("What did the closer inspection find? (recorded with your name and the time)"),
                cr.record_phone_inspection, N_("Inspection recorded.")),
}
MEASURE_PERMISSIONS = ("customer.edit", "customer.business_resume", "customer.phone_inspect")


def measures_for(actor: Actor, view: cs.CustomerView) -> list[str]:
    """The measures that fit the archive's state and the role (the services check again)."""
    out = []
    if actor.can("customer.edit") and not view.false_info:
        out.append("false_info")
    if actor.can("customer.edit") and not view.business_stopped:
        out.append("stop")
    if actor.can("customer.business_resume") and view.false_info:
        out.append("clear_false_info")
    if actor.can("customer.business_resume") and view.business_stopped and not view.false_info:
        out.append("resume")
    if actor.can("customer.phone_inspect") and view.phone_inspection_since:
        out.append("inspect")
    return out


class ChoiceDialog(BaseModal[str | None]):
    """Choose one of a few options (Enter), or Esc."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, options: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        from textual.widgets import OptionList
        from textual.widgets.option_list import Option

        with Vertical(classes="box dialog"):
            yield Label(self.title_text, classes="box-title")
            yield OptionList(*(Option(label, id=key) for key, label in self.options), id="choice")

    def on_mount(self) -> None:
        self.query_one("#choice").focus()

    def on_option_list_option_selected(self, event) -> None:  # type: ignore[no-untyped-def]
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _display(name: str, value: object) -> str:
    p = cs.policy()
    tables = {"category": p.categories, "source": p.sources, "industry": p.industries, "size": p.sizes,
              "credit_rating": p.credit_ratings, "risk_rating": p.risk_ratings}
    if name in tables and str(value) in tables[name]:
        return tables[name][str(value)].label
    if name == "gender":
        from crm_tui.domain.customers import GENDERS

        return _(GENDERS.get(str(value), str(value)))
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return, attr-defined]
    return str(value)


class RevealDialog(BaseModal[str | None]):
    """Which masked value to show; the reveal is recorded in the audit trail."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        from textual.widgets import OptionList
        from textual.widgets.option_list import Option

        with Vertical(classes="box dialog"):
            yield Label(_("Reveal which value? (recorded in the audit trail)"), classes="box-title")
            yield OptionList(Option(_("ID number"), id="id_number"), Option(_("Phones"), id="phones"),
                             Option(_("Bank account"), id="bank_account"), id="reveal-choice")

    def on_mount(self) -> None:
        self.query_one("#reveal-choice").focus()

    def on_option_list_option_selected(self, event) -> None:  # type: ignore[no-untyped-def]
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
