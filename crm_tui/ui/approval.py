"""Where a sensitive operation is refused for want of a second person's approval (R-SEC-2): the
screen offers to file the request, with a reason, for a section chief or administrator to decide
(F12). Once approved, the same action finds the request by itself (services.approvals.find_usable)."""

from __future__ import annotations

from textual.screen import Screen

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _
from crm_tui.services import approvals
from crm_tui.services.context import Actor, Services
from crm_tui.ui.widgets.dialogs import PromptDialog


def usable(svc: Services, actor: Actor, operation: str, target: str | None = None) -> int | None:
    return approvals.find_usable(svc, actor, operation, target)


def offer_request(screen: Screen, svc: Services, actor: Actor, err: approvals.ApprovalNeeded,  # type: ignore[type-arg]
                  target: str | None = None) -> None:
    """Say why it was refused and ask for the reason of a request; Esc files nothing."""

    def done(reason: str | None) -> None:
        if not reason:
            return
        try:
            rid = approvals.request(svc, actor, err.operation, reason, target=target)
        except CrmError as e:
            screen.notify(e.message, severity="error", timeout=10)
            return
        screen.notify(_("Approval request {id} sent; a section chief or an administrator decides it.", id=rid),
                      timeout=10)

    what = _(approvals.OPERATIONS[err.operation][0])
    if err.msgid.startswith("This operation"):  # none yet
        screen.notify(_("To {what} needs a second person's approval (F12 for approvers); once approved, do it "
                        "again.", what=what), severity="warning", timeout=12)
    else:  # one was found but cannot be used (expired, used, another customer)
        screen.notify(err.message, severity="warning", timeout=12)
    screen.app.push_screen(PromptDialog(_("Reason for the approval request (Esc: none):")), done)
