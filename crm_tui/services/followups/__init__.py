"""Follow-up cards (A卡), visits, queues, supervisor review, ownership and the front-desk register
(issue 6, R-FU-1..6).

Every function takes ``(svc, actor, ...)``, checks the permission first (a refusal raises
``PermissionDenied`` and leaves a ``permission.denied`` audit row, nothing else), validates, and
writes the change with its audit entry in ONE transaction: a failed call writes nothing.

Who may do what (data/roles.toml):
    followup.view       see cards; without followup.supervise only one's own cards and queues
    followup.edit       open cards; edit, visit and close one's OWN cards; claim a customer
    followup.supervise  everything above on anyone's card; sign cards (主管审核签字); reopen lost
                        cards; decide ownership claims; per-consultant queues; the weekly review
    register.use        write register lines, mark departures, open the archive/card from a line
    register.supervise  see lines with no information source or no archive

Ownership (信息归属, R-CUST-10): a card's consultant is the customer's responsible staff member.
A card for a customer owned by someone else is refused with ``OwnershipConflict`` naming the
owner; the consultant files a claim and a supervisor decides (granting moves the customer and
their open cards).

Modules (one use case group each; every name is importable from here, as before the split):
    common    permission labels, queue names, result types and the helpers the others share
    cards     open, change, visit, close, reopen, sign and read one card
    queues    the card queues, a customer's cards, the consultants, ownership claims
    register  the front-desk register
    review    the weekly review and its export
    hooks     home counts, the customer's timeline, the erase hook (registered on import)
    forms     choices and previews for the forms
Their SQL lives in ``crm_tui.store.queries.followups``.
"""

from __future__ import annotations

from crm_tui.domain.customers import load_policy as customer_policy
from crm_tui.services.followups.common import (
    QUEUES, _CARD_TEXT, _CARD_CODES, OwnershipConflict, CardRef, CardRow, VisitView, CardView, CardPage,
    VisitResult, RegisterRow, RegisterLineView, RegisterPage, ClaimRow, ReviewRow, SourceRow, WeeklyReview,
    policy, calendar, week_bounds,
)
from crm_tui.services.followups.cards import (
    create_card, update_card, log_visit, close_card, reopen_card, sign_review, get_card,
)
from crm_tui.services.followups.queues import (
    queue, customer_cards, consultants, has_overdue, claim_customer, pending_claims, decide_claim,
)
from crm_tui.services.followups.register import (
    add_register, mark_departed, link_register, card_from_register, register_page, register_line,
    reveal_register_phone,
)
from crm_tui.services.followups.review import (
    weekly_review, export_review,
)
from crm_tui.services.followups import hooks as hooks  # registers home counts, timeline, erase hook
from crm_tui.services.followups.forms import (
    level_choices, visit_method_choices, purchase_method_choices, source_choices, source_label, method_label,
    preview_next_due,
)

__all__ = [
    'customer_policy', 'QUEUES', '_CARD_TEXT', '_CARD_CODES', 'OwnershipConflict', 'CardRef', 'CardRow',
    'VisitView', 'CardView', 'CardPage', 'VisitResult', 'RegisterRow', 'RegisterLineView', 'RegisterPage',
    'ClaimRow', 'ReviewRow', 'SourceRow', 'WeeklyReview', 'policy', 'calendar', 'week_bounds', 'create_card',
    'update_card', 'log_visit', 'close_card', 'reopen_card', 'sign_review', 'get_card', 'queue',
    'customer_cards', 'consultants', 'has_overdue', 'claim_customer', 'pending_claims', 'decide_claim',
    'add_register', 'mark_departed', 'link_register', 'card_from_register', 'register_page', 'register_line',
    'reveal_register_phone', 'weekly_review', 'export_review', 'level_choices', 'visit_method_choices',
    'purchase_method_choices', 'source_choices', 'source_label', 'method_label', 'preview_next_due',
]
