"""What may be done to an archive beyond editing it (R-CUST-3, R-CUST-8), and the archive's small
choosing dialogs: a measure, a masked value to reveal."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label

from crm_tui.i18n import N_, _
from crm_tui.services import customer_rules as cr
from crm_tui.services import customers as cs
from crm_tui.services.context import Actor
from crm_tui.ui.base import BaseModal


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

    def __init__(self, title: str, options: list[tuple[str, str]], *, list_id: str = "choice") -> None:
        super().__init__()
        self.title_text = title
        self.options = options
        self.list_id = list_id

    def compose(self) -> ComposeResult:
        from textual.widgets import OptionList
        from textual.widgets.option_list import Option

        with Vertical(classes="box dialog"):
            yield Label(self.title_text, classes="box-title")
            yield OptionList(*(Option(label, id=key) for key, label in self.options), id=self.list_id)

    def on_mount(self) -> None:
        self.query_one("#" + self.list_id).focus()

    def on_option_list_option_selected(self, event) -> None:  # type: ignore[no-untyped-def]
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)



class RevealDialog(ChoiceDialog):
    """Which masked value to show; the reveal is recorded in the audit trail."""

    def __init__(self) -> None:
        super().__init__(_("Reveal which value? (recorded in the audit trail)"),
                         [("id_number", _("ID number")), ("phones", _("Phones")), ("bank_account", _("Bank account"))],
                         list_id="reveal-choice")
