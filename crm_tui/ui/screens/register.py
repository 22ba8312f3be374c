"""The front-desk register (来店/来电登记表, R-FU-4): the fastest screen in the app.

One line per walk-in or call, typed without leaving the keyboard: the name matches existing
archives as you type (↓ to pick one), Enter moves to the next field, Ctrl+S writes the line and
clears the form for the next visitor. Today's lines sit below; Ctrl+O records a departure now,
Ctrl+G opens (or creates) the archive and the card from the highlighted line. Supervisors switch to
the lines without an information source or archive with Ctrl+T, and open the daily check of visitors
without a register line (R-FU-4) with Ctrl+K.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, DataTable, Footer, Header, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from crm_tui.domain import followups as fd
from crm_tui.domain.errors import CrmError, ValidationErrors
from crm_tui.i18n import _
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, clear_field_errors, enter_in, show_field_errors, until
from crm_tui.ui.parts.area import AreaScreen
from crm_tui.ui.parts.leave import leave_form
from crm_tui.ui.parts.queue import PagedRows
from crm_tui.ui.screens.followup_card import CardDetailScreen
from crm_tui.ui.widgets.columns import CUSTOMER_NUMBER, PERSON, PHONE, cell, cells, fixed_columns, widest

PAGE = 200
_TEXT_FIELDS = ("name", "phone", "arrived_at", "companions", "product", "summary")


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - cell_len(text))


class RegisterScreen(PagedRows, AreaScreen[None]):
    """The entry line above today's lines (the register's queue: ``current()`` is the highlighted line)."""

    TITLE_MSGID = "Front-desk register"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save line"),
        Binding("ctrl+o", "departed", "Left now"),
        Binding("ctrl+g", "card", "Archive + card"),
        Binding("ctrl+n", "clear", "New line"),
        Binding("ctrl+r", "line", "Line details"),  # not Ctrl+E: the fields take it (end of line)
        Binding("ctrl+t", "problems", "Missing source/archive", show=False),
        Binding("ctrl+k", "app.open('register_check')", "Unregistered check", show=False),  # R-FU-4
        Binding("escape", "leave", "Back"),
        ENTER_BINDING,
    ]

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__(svc, actor)
        self.customer: cs.CustomerRow | None = None
        self.matches: list[cs.CustomerRow] = []
        self.matches_for: str | None = None  # the name whose matches are listed
        self.rows: list[fu.RegisterRow] = []
        self.problems = False
        self.seq = 0
        self.staff = fu.consultants(svc, actor) if actor.can("followup.view") else []

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="reg-form"):
            with Horizontal(classes="reg-row"):
                yield Input(placeholder=_("Name *"), id="reg-name", max_length=60, classes="reg-wide")
                yield Input(placeholder=_("Phone"), id="reg-phone", max_length=20)
                yield Input(placeholder=_("Arrived HH:MM (now)"), id="reg-arrived_at", max_length=16)
                yield Select([(_(label), code) for code, label in fd.REGISTER_KINDS.items()], value="walk_in",
                             allow_blank=False, id="reg-kind", compact=True)
            yield OptionList(id="reg-matches")
            with Horizontal(classes="reg-row"):
                yield Select([(label, code) for code, label in fu.source_choices()], prompt=_("Source *"),
                             id="reg-source", compact=True)
                yield Input(placeholder=_("Product of interest"), id="reg-product", max_length=100)
                yield Input(placeholder=_("Companions"), id="reg-companions", max_length=200)
            with Horizontal(classes="reg-row"):
                yield Select([(name, str(sid)) for sid, name in self.staff], prompt=_("Consultant"),
                             id="reg-consultant", compact=True)
                yield Checkbox(_("Trial"), id="reg-trial", compact=True)
                yield Input(placeholder=_("Summary of the conversation"), id="reg-summary", max_length=500,
                            classes="reg-wide")
            yield Static("", id="reg-message", classes="message")
        yield Label("", id="reg-title", classes="section")
        yield DataTable(id="reg-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#reg-matches", OptionList).display = False
        self._columns()
        self.query_one("#reg-name", Input).focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    # -- the entry line --------------------------------------------------------------------------
    @on(Input.Changed, "#reg-name")
    def _name_changed(self, event: Input.Changed) -> None:
        if self.customer and event.value != self.customer.name:
            self.customer = None
            self._message("")
        self.seq += 1
        text = event.value.strip()
        if not text or not self.actor.can("customer.view"):
            self._show_matches([], self.seq, event.value)
            return
        self._search(text, self.seq, event.value)

    def _search(self, text: str, seq: int, typed: str) -> None:
        def matches() -> list[cs.CustomerRow]:
            try:
                return cs.search(self.svc, self.actor, text, limit=5).rows
            except CrmError:
                return []

        self.run_loader(matches, on_result=lambda rows: self._show_matches(rows, seq, typed), group="reg-match")

    def _show_matches(self, rows: list[cs.CustomerRow], seq: int, typed: str = "") -> None:
        if seq != self.seq:
            return
        self.matches = rows
        self.matches_for = typed
        ol = self.query_one("#reg-matches", OptionList)
        ol.clear_options()
        for r in rows:
            # names padded to one width (CJK = 2 cells) so the phones line up; plain text, not markup
            line = f"{r.number}  {_pad(r.name, 12)}  {_pad(r.phone, PHONE)}  {r.owner}"
            ol.add_option(Option(Text(line), id=str(r.id)))
        ol.display = bool(rows) and self.customer is None

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key == "down" and self.focused is self.query_one("#reg-name", Input) and self.matches \
                and self.customer is None:
            ol = self.query_one("#reg-matches", OptionList)
            ol.focus()
            ol.highlighted = 0
            event.stop()

    @on(OptionList.OptionSelected, "#reg-matches")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        row = next((r for r in self.matches if str(r.id) == event.option.id), None)
        if row is not None:
            self._pick(row)

    def _pick(self, row: cs.CustomerRow) -> None:
        self.customer = row
        name = self.query_one("#reg-name", Input)
        with name.prevent(Input.Changed):
            name.value = row.name
        self.query_one("#reg-matches", OptionList).display = False
        if row.owner_id is not None and any(sid == row.owner_id for sid, _n in self.staff):
            self.query_one("#reg-consultant", Select).value = str(row.owner_id)
        self._message(_("Archive {number} {name}, looked after by {owner}", number=row.number, name=row.name,
                        owner=row.owner or "—"))
        self.set_focus(self.query_one("#reg-phone", Input))

    async def action_enter(self) -> None:
        """Enter moves on when the key arrives (a visitor's name, Enter, phone typed at once land in
        their own fields); in the summary it saves the line."""
        await enter_in(self, {
            "reg-name": self._name_entered, "reg-phone": self.focus_next, "reg-product": self.focus_next,
            # walk-in/call keeps its default; Tab reaches it
            "reg-arrived_at": lambda: self.set_focus(self.query_one("#reg-source", Select)),
            "reg-companions": lambda: self.set_focus(self.query_one("#reg-consultant", Select)),
            "reg-summary": self.action_save,
        })

    async def _name_entered(self) -> None:
        """Enter after the name: the only archive that matches it (its full name, number or phone;
        pinyin initials) is linked, as a pick from the list would; otherwise on to the phone. A
        part of a name ("张") with one match is not taken for that customer: a new visitor may
        share it."""
        box = self.query_one("#reg-name", Input)
        typed = box.value.strip()
        if typed and self.customer is None and self.actor.can("customer.view"):
            await until(lambda: self.matches_for == box.value, timeout=3)
            if len(self.matches) == 1 and self.matches_for == box.value and self._whole_match(typed, self.matches[0]):
                self._pick(self.matches[0])
                return
        self.focus_next()

    @staticmethod
    def _whole_match(typed: str, row: cs.CustomerRow) -> bool:
        return typed == row.name or typed.upper() == row.number.upper() or typed.isascii()

    def _message(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#reg-message", Static)
        msg.update(text)
        msg.set_class(error, "error")

    def values(self) -> dict[str, str]:
        raw = {f: self.query_one(f"#reg-{f}", Input).value for f in _TEXT_FIELDS}
        src = self.query_one("#reg-source", Select).value
        raw["source"] = "" if src is Select.NULL else str(src)
        raw["kind"] = str(self.query_one("#reg-kind", Select).value)
        raw["trial"] = "yes" if self.query_one("#reg-trial", Checkbox).value else "no"
        return raw

    def dirty(self) -> bool:
        v = self.values()
        return any(v[f].strip() for f in _TEXT_FIELDS) or bool(v["source"])

    def action_save(self) -> None:
        raw = self.values()
        consultant = self.query_one("#reg-consultant", Select).value
        try:
            fu.add_register(self.svc, self.actor, raw, consultant="" if consultant is Select.NULL else str(consultant),
                            customer_id=self.customer.id if self.customer else None)
        except ValidationErrors as e:
            show_field_errors(self, e.by_field(), widget_id=lambda field: f"reg-{field}", message="#reg-message")
            return
        except CrmError as e:
            self._message(e.message, error=True)
            return
        self.action_clear()
        self._message(_("Saved: {name}", name=raw["name"].strip()))
        self.load()

    def action_clear(self) -> None:
        for f in _TEXT_FIELDS:
            self.query_one(f"#reg-{f}", Input).value = ""
        self.query_one("#reg-source", Select).clear()
        self.query_one("#reg-consultant", Select).clear()
        self.query_one("#reg-kind", Select).value = "walk_in"
        self.query_one("#reg-trial", Checkbox).value = False
        self.customer = None
        self.matches = []
        self.query_one("#reg-matches", OptionList).display = False
        clear_field_errors(self)
        self._message("")
        self.set_focus(self.query_one("#reg-name", Input))  # at once: the next visitor's name may follow

    # -- today's lines ----------------------------------------------------------------------------
    def load(self) -> None:
        self.run_loader(fu.register_page, self.svc, self.actor, problems=self.problems, limit=PAGE,
                        on_result=self._show_rows, on_error=lambda e: self._message(e.message, True), group="reg-list")

    def _show_rows(self, page: fu.RegisterPage) -> None:
        self.rows = page.rows
        title = _("Lines without source or archive") if self.problems else _("Today's lines")
        self.query_one("#reg-title", Label).update(f"{title} ({len(page.rows)}{'+' if page.next_cursor else ''})")
        table = self.query_one(DataTable)
        with self.app.batch_update():
            table.clear()
            for r in page.rows:
                when = f"{r.arrived_at:%H:%M}" + (f"-{r.departed_at:%H:%M}" if r.departed_at else "")
                if self.problems:
                    when = f"{r.arrived_at:%m-%d} " + when
                source = cell(fu.source_label(r.source)) if r.source else Text(_("missing"), style="bold red")
                table.add_row(*cells(when, r.name, r.phone, _(fd.REGISTER_KINDS.get(r.kind, r.kind))), source,
                              *cells(r.consultant, _("yes") if r.trial else "", r.customer_number or "—", r.product),
                              key=str(r.id))

    @on(DataTable.RowSelected, "#reg-table")
    def action_line(self) -> None:
        """The highlighted line's details: companions, summary, intent, the linked archive (Enter on
        a line, or Ctrl+R: the line just saved is the first)."""
        row = self.current()
        if row is None:
            self._message(_("No line yet today."))
            return
        from crm_tui.ui.screens.frontdesk import RegisterLineScreen

        self.app.push_screen(RegisterLineScreen(self.svc, self.actor, row))

    def action_departed(self) -> None:
        row = self.current()
        if row is None:
            return
        try:
            at = fu.mark_departed(self.svc, self.actor, row.id)
        except CrmError as e:
            self._message(e.message, error=True)
            return
        self._message(_("{name} left at {time}", name=row.name, time=f"{at:%H:%M}"))
        self.load()

    def action_card(self) -> None:
        row = self.current()
        if row is None:
            return
        try:
            ref = fu.card_from_register(self.svc, self.actor, row.id)
        except fu.OwnershipConflict as e:
            self._message(e.message, error=True)
            return
        except ValidationErrors as e:
            self._message(" ".join(e.by_field().values()), error=True)
            return
        except CrmError as e:
            self._message(e.message, error=True)
            return
        self.app.push_screen(CardDetailScreen(self.svc, self.actor, ref.id))

    def action_problems(self) -> None:
        if not self.actor.can("register.supervise"):
            return
        self.problems = not self.problems
        self._columns()
        self.load()

    def _columns(self) -> None:
        """Fixed widths; the product (free text) last. Lines of other days show the date too."""
        table = self.query_one(DataTable)
        table.clear(columns=True)
        when = len("11-23 09:02-10:15") if self.problems else len("09:02-10:15")
        sources = [label for _code, label in fu.source_choices()] + [_("missing")]
        fixed_columns(table, (_("Time"), when), (_("Name"), PERSON), (_("Phone"), PHONE),
                      (_("Walk-in/call"), widest(_(label) for label in fd.REGISTER_KINDS.values())),
                      (_("Source"), widest(sources)), (_("Consultant"), PERSON), (_("Trial"), widest([_("yes")])),
                      (_("Archive"), CUSTOMER_NUMBER), (_("Product of interest"), 30))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "problems":
            return self.actor.can("register.supervise")
        if action == "line":
            return self.actor.can("register.use") or self.actor.can("register.supervise")
        if action in ("save", "departed", "card", "clear"):
            return self.actor.can("register.use")
        return True

    def action_leave(self) -> None:
        leave_form(self, self.dirty(), self.app.action_back, _("Discard the line being typed?"))
