"""The front desk's dialogs (issue 21): a caller's new phone number, the owner's confirmation of
it, and a register line's details with its linked archive (phones as the services mask them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Label, Static

from crm_tui.domain import followups as fdom
from crm_tui.domain.errors import CrmError, ValidationError, ValidationErrors
from crm_tui.i18n import _
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services import frontdesk as fd
from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import ENTER_BINDING, BaseModal
from crm_tui.ui.parts.form import Field, FormPart
from crm_tui.ui.widgets.dialogs import ConfirmDialog, PromptDialog

ANOTHER = "another"


class NewPhoneForm(FormPart, BaseModal["fd.PhoneChangeOutcome | None"]):
    """The caller's new number: which phone it replaces (shown masked) or another phone, the number,
    a note. Saved at once or sent to the responsible staff member, as data/roles.toml says."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"), ENTER_BINDING]

    def __init__(self, svc: Services, actor: Actor, view: cs.CustomerView) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.view = view
        self.shared_reasons: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        v = self.view
        with Vertical(classes="box dialog wide"):
            yield Label(_("New phone of {number} {name}", number=v.number, name=v.name), classes="box-title")
            opts = [(f"{p.number}" + (f" ({p.label})" if p.label else "") + (f" · {_('main')}" if p.primary else ""),
                     str(p.id)) for p in v.phones]
            main = next((str(p.id) for p in v.phones if p.primary), opts[0][1] if opts else ANOTHER)
            yield from self.compose_fields([
                Field("phone", _("New phone *"), max_length=30, error=True, enter="next"),
                Field("replaces", _("Replaces"), "select", value=main, allow_blank=False, compact=True, error=True,
                      choices=[*opts, (_("(none: an additional phone)"), ANOTHER)]),
                Field("note", _("Note (who called, how the number was checked)"), max_length=300, error=True,
                      enter="save"),
                Field("informed", _("The customer was told of this change and consented"), "check", compact=True),
            ])
            if fd.phone_change_mode(self.actor) == fd.DIRECT or self._own():
                yield Static(_("Saved at once, recorded in the archive's history."), id="mode")
            else:
                yield Static(_("{owner}, the responsible staff member, confirms it before it is saved.",
                               owner=v.owner or "—"), id="mode")
            yield Static("", id="form-message", classes="message error")
        yield Footer()

    def _own(self) -> bool:
        return self.view.owner_id is not None and self.view.owner_id in (self.actor.staff_id, self.actor.on_behalf_of)

    def on_mount(self) -> None:
        self.focus_first_field(at_once=True)  # the phone, where the clerk types first

    def action_save(self) -> None:
        v = self.form_values()
        try:
            out = fd.record_new_phone(
                self.svc, self.actor, self.view.id, v["phone"],
                replaces=None if v["replaces"] in (ANOTHER, "") else int(v["replaces"]), note=v["note"],
                informed=v["informed"], expected_version=self.view.version,
                shared_phone_reasons=self.shared_reasons or None)
        except ValidationErrors as e:
            self.show_errors(e.by_field())
            return
        except ValidationError as e:
            self.show_errors({e.field: e.message})
            return
        except cs.SharedPhone as e:
            self._ask_shared_reason(e)
            return
        except CrmError as e:
            self.query_one("#form-message", Static).update(e.message)
            return
        self.dismiss(out)

    def _ask_shared_reason(self, e: cs.SharedPhone) -> None:
        def done(reason: str | None) -> None:
            if reason:
                self.shared_reasons[e.phone] = reason
                self.action_save()

        self.app.push_screen(PromptDialog(e.message + "\n\n" + _("To save anyway, write why they share this phone "
                                                               "(kept for periodic review):")), done)

    def action_cancel(self) -> None:
        self.dismiss(None)


def confirm_phone_requests(screen: object, svc: Services, actor: Actor, customer_id: int,
                           reload: Callable[[], None]) -> None:
    """The owner's step: each new phone awaiting confirmation, oldest first: Enter/Y confirms (the
    phones change as any phone change does), N/Esc asks for a reason to reject (Esc there: decide
    later)."""
    app = screen.app  # type: ignore[attr-defined]
    try:
        pending = fd.pending_phone_changes(svc, actor, customer_id)
    except CrmError as e:
        app.notify(e.message, severity="error")
        return
    if not pending:
        app.notify(_("No new phone awaits confirmation on this archive."))
        return
    req = pending[0]
    question = _("{who} recorded a new phone on {time}:\n{old} → {new}", who=req.requested_by,
                 time=f"{req.requested_at:%Y-%m-%d %H:%M}", old=req.replaces or _("(an additional phone)"),
                 new=req.number)
    if req.note:
        question += "\n" + _("Note: {note}", note=req.note)

    def confirm(reasons: dict[str, str] | None = None) -> None:
        try:
            fd.confirm_phone_change(svc, actor, req.id, shared_phone_reasons=reasons)
        except cs.SharedPhone as e:
            def with_reason(reason: str | None) -> None:
                if reason:
                    confirm({**(reasons or {}), e.phone: reason})

            app.push_screen(PromptDialog(e.message + "\n\n" + _("To save anyway, write why they share this phone "
                                                              "(kept for periodic review):")), with_reason)
            return
        except CrmError as e:
            app.notify(e.message, severity="error")
            return
        app.notify(_("New phone confirmed and saved."))
        reload()

    def reject(reason: str | None) -> None:
        if not reason:
            return
        try:
            fd.reject_phone_change(svc, actor, req.id, reason)
        except CrmError as e:
            app.notify(e.message, severity="error")
            return
        app.notify(_("New phone rejected; the archive is unchanged."))
        reload()

    def answered(yes: bool | None) -> None:
        if yes:
            confirm()
        else:
            app.push_screen(PromptDialog(_("Reject the new phone: why? (Esc: decide later)")), reject)

    app.push_screen(ConfirmDialog(question, yes=_("Confirm"), no=_("Reject")), answered)


class RegisterLineScreen(BaseModal[None]):
    """One register line after saving: who came or called, with whom, what they want, the summary,
    and the linked archive with its phone as the masking policy shows it to this role."""

    DEFAULT_CSS = """
    RegisterLineScreen { align: center middle; }
    RegisterLineScreen > Vertical { width: 90; max-width: 98%; height: auto; max-height: 95%;
        border: thick $primary; background: $surface; padding: 0 1; }
    RegisterLineScreen #line-body { height: auto; max-height: 100%; }
    """
    BINDINGS = [Binding("ctrl+g", "archive", "Open archive"), Binding("ctrl+r", "reveal", "Reveal phone"),
                Binding("escape", "close", "Back")]
    ACTION_PERMISSIONS = {"reveal": "customer.view_sensitive"}

    def __init__(self, svc: Services, actor: Actor, row: fu.RegisterRow) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor
        self.row = row
        self.archive: fd.LinkedArchive | None = None
        self.archive_phone = ""  # the linked archive's phone as the policy shows it (fu.register_line)
        self.may_reveal = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(_("Register line"), classes="box-title")
            with VerticalScroll(id="line-body"):
                yield Static(self._text(None), id="line-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#line-body").focus()
        # the line itself under the masking policy (one audit row where anything shows whole), then the
        # linked archive's owner and card
        self.run_loader(fu.register_line, self.svc, self.actor, self.row.id, on_result=self._line,
                        on_error=lambda e: self.notify(e.message, severity="error"), group="line")

    def _line(self, view: fu.RegisterLineView) -> None:
        self.row, self.archive_phone, self.may_reveal = view.row, view.archive_phone, view.may_reveal
        self._refresh()
        self.refresh_bindings()
        if self.row.customer_id is not None and self.actor.can("customer.view"):
            self.run_loader(fd.linked_archive, self.svc, self.actor, self.row.customer_id, self.row.card_id,
                            on_result=self._archive_loaded,
                            on_error=lambda e: self.notify(e.message, severity="error"), group="line-archive")

    def _archive_loaded(self, archive: fd.LinkedArchive) -> None:
        self.archive = archive
        self._refresh()

    def _refresh(self) -> None:
        self.query_one("#line-text", Static).update(self._text(self.archive))

    def _text(self, archive: fd.LinkedArchive | None) -> Text:
        r = self.row
        when = f"{r.arrived_at:%Y-%m-%d %H:%M}" + (f" - {r.departed_at:%H:%M}" if r.departed_at else "")
        lines: list[tuple[str, str]] = [
            (_("Name"), r.name), (_("Phone"), r.phone or "—"), (_("Time"), when),
            (_("Walk-in/call"), _(fdom.REGISTER_KINDS.get(r.kind, r.kind))),
            (_("Source"), fu.source_label(r.source) if r.source else _("missing")),
            (_("Consultant"), r.consultant or "—"), (_("Trial"), _("yes") if r.trial else _("no")),
            (_("Companions"), r.companions or "—"), (_("Product of interest"), r.product or "—"),
            (_("Summary of the conversation"), r.summary or "—"),
        ]
        if r.customer_id is None:
            lines.append((_("Archive"), _("not linked (Ctrl+G on the register opens or creates it)")))
        elif archive is None:
            lines.append((_("Archive"), r.customer_number or "…"))
        else:
            lines += [(_("Archive"), f"{archive.number} {archive.name}"), (_("Archive phone"), self.archive_phone or "—"),
                      (_("Responsible staff"), archive.owner or "—")]
            if archive.card:
                lines.append((_("Follow-up card (intent)"), archive.card))
        out = Text()
        for label, value in lines:
            out.append(f"{label}: ", style="bold")
            out.append(f"{value}\n")  # plain text: a name with [brackets] is shown as typed
        return out

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "archive":
            return self.row.customer_id is not None and self.actor.can("customer.view")
        if action == "reveal":
            return self.may_reveal and super().check_action(action, parameters)
        return super().check_action(action, parameters)

    def action_reveal(self) -> None:
        """The line's whole phone for this view only, with a reason (audited, R-SEC-3)."""

        def given(reason: str | None) -> None:
            if not reason:
                return
            try:
                phone = fu.reveal_register_phone(self.svc, self.actor, self.row.id, reason)
            except CrmError as e:
                self.notify(e.explain(), severity="error")
                return
            self.row = replace(self.row, phone=phone)
            self._refresh()

        self.app.push_screen(PromptDialog(_("Why do you need to see it? (recorded in the audit trail)")), given)

    def action_archive(self) -> None:
        if self.row.customer_id is None:
            return
        cid = self.row.customer_id
        self.dismiss(None)
        # through the app: the archive screen imports this module
        self.app.open_archive(self.svc, self.actor, cid)  # type: ignore[attr-defined]

    def action_close(self) -> None:
        self.dismiss(None)
