"""Customer archives: the use cases of issue 4 (R-CUST-1..15, R-KPI-2).

Every function takes ``(svc, actor, ...)``, checks the actor's permission first (a refusal raises
``PermissionDenied`` and leaves a ``permission.denied`` audit row, nothing else), validates, and
writes the change, its search-index terms and its audit entry in ONE transaction: a failed call
writes nothing. Errors are ``CrmError`` subclasses with English msgids (``str(err)`` translates).

Field history is the audit trail: each create/update writes one ``customer.create`` /
``customer.update`` entry whose details hold non-personal changes as ``{"changes": {field: [old,
new]}}``; personal values (names, phones, ID numbers, addresses, free text ...) go to ``audit_value``
through ``PersonalChange`` so erasure can destroy them without breaking the hash chain.

Permissions (data/roles.toml): customer.view (get, search, timeline, watch lists),
customer.create, customer.edit (update, consents, informed, false information),
customer.contact_log, customer.view_sensitive (unmasked view, reveal), customer.export (list
export), customer.export_one (one customer's data), customer.handover,
customer.review_shared_phone, customer.erase (erase, vacuum, past retention).

Masking (``domain.masking``, one policy for every output): the ID number, bank account and phones
are shown whole only to a role with customer.view_sensitive, and by default only for the customers
it owns or is in contact with; such an unmasked view (archive, edit form, history, export) writes a
``customer.view_unmasked`` audit row. Everything else is masked, in free text too; ``reveal`` shows
one value with a reason, audited. Phones in search rows and list exports are always masked.
The archive screen reads archive and history through ``archive_page``: one audit row per view
(``audit_unmasked``; a reload of the same view within ``SAME_VIEW`` adds none). Free text about a
customer typed elsewhere (complaints, feedback, follow-up cards, register lines) is masked for
every reader (``text_policy``); the front-desk register's own outputs are in services.followups
(``register_page``, ``register_line``, ``reveal_register_phone``).

The package, by use case (every name stays importable as ``crm_tui.services.customers.X``):
``model`` (errors, result types), ``common`` (the archive row and its parts, visibility, audited
unmasked views), ``archive`` (create, update, false information), ``views`` (get, archive page,
reveal), ``listing`` (search, list export), ``history`` (timeline and its sources), ``contacts``
(contact log, consents), ``watch`` (watch lists, shared-phone signatures, home counts),
``handovers`` (handover, told of the new contact) and ``rights`` (export of one customer, erasure).
Their SQL is in ``crm_tui.store.queries``.
"""

from __future__ import annotations

from crm_tui.domain.customers import ConsentInput, PhoneInput  # noqa: F401
from crm_tui.services.customers.archive import (  # noqa: F401
    _check_duplicate_ident,
    _clean_reasons,
    _insert_phones,
    _people,
    _phones_text,
    _require_informed_note,
    _resolve_staff,
    _shared_conflicts,
    _similar,
    clear_false_information,
    create_customer,
    mark_false_information,
    update_customer,
)
from crm_tui.services.customers.common import (  # noqa: F401
    _BOOL_COLS,
    _CUSTOMER_COLS,
    _SENSITIVE,
    _WRITABLE,
    SAME_VIEW,
    _audit_unmasked,
    _calendar,
    _completeness,
    _d,
    _display_phone,
    _dt,
    _has_sensitive_consent,
    _load_areas,
    _load_row,
    _personal_text,
    _phones_of,
    _plain,
    _rating,
    _sess,
    _share_with_holders,
    _staff_names,
    _staff_of,
    _tags_of,
    _terms,
    _unshare_lonely,
    _visibility,
    audit_unmasked,
    policy,
)
from crm_tui.services.customers.contacts import (  # noqa: F401
    add_contact,
    record_consent,
    withdraw_consent,
)
from crm_tui.services.customers.handovers import (  # noqa: F401
    handover,
    handover_in,
    mark_informed,
)
from crm_tui.services.customers.history import (  # noqa: F401
    _AUDIT_TITLES,
    _EXTRA_LABELS,
    _TIMELINE,
    TimelineSource,
    _apply_policy,
    _audit_source,
    _consent_source,
    _contact_source,
    _handover_source,
    _known_sensitive,
    _label,
    _timeline,
    _value_text,
    register_timeline_source,
    text_policy,
    timeline,
    timeline_key,
)
from crm_tui.services.customers.listing import (  # noqa: F401
    _LIST_COLUMNS,
    _LIST_WIDTHS,
    _filters,
    _rows,
    export_list,
    search,
    search_count,
)
from crm_tui.services.customers.model import (  # noqa: F401
    ConsentView,
    CustomerRef,
    CustomerRow,
    CustomerView,
    DuplicateIdNumber,
    PhoneView,
    SearchFilters,
    SearchPage,
    SharedPhone,
    SharedPhoneConflict,
    SharedWith,
    TimelineEntry,
    WatchPage,
    WatchRow,
)
from crm_tui.services.customers.rights import (  # noqa: F401
    _ERASE_HOOKS,
    EraseHook,
    _full_record,
    erase_customer,
    erase_in,
    export_customer,
    past_retention,
    register_erase_hook,
    vacuum,
)
from crm_tui.services.customers.views import (  # noqa: F401
    _customer_view,
    _is_own,
    _signatures,
    archive_page,
    customer_id_by_number,
    get_customer,
    reveal,
    visibility_of,
)
from crm_tui.services.customers.watch import (  # noqa: F401
    _ACTIVE_CONTACTS,
    _SHARED_DUE,
    _UNDERSTAFFED,
    _customer_items,
    _keyset,
    _watch_cursor,
    approve_shared_phone,
    watch_past_deadline,
    watch_phone_changes,
    watch_shared_phones,
    watch_understaffed,
)

__all__ = [
    "ConsentInput", "ConsentView", "CustomerRef", "CustomerRow", "CustomerView", "DuplicateIdNumber",
    "PhoneInput", "PhoneView", "SearchFilters", "SearchPage", "SharedPhone", "SharedWith", "TimelineEntry",
    "WatchPage", "WatchRow", "add_contact", "approve_shared_phone", "archive_page", "audit_unmasked", "text_policy",
    "clear_false_information",
    "create_customer", "erase_customer", "export_customer", "export_list", "get_customer", "handover",
    "mark_false_information", "mark_informed", "past_retention", "policy", "record_consent",
    "register_timeline_source", "reveal", "search", "search_count", "timeline", "timeline_key", "update_customer", "vacuum",
    "watch_past_deadline", "watch_phone_changes", "watch_shared_phones", "watch_understaffed",
    "withdraw_consent",
]
