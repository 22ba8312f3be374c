"""Errors and result types of the customer-archive use cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from crm_tui.domain.customers import (
    Rating,
)
from crm_tui.domain.errors import Conflict
from crm_tui.i18n import N_

# ------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------


class DuplicateIdNumber(Conflict):
    """The ID number (or USCC) belongs to another archive: open that one instead (R-CUST-1)."""

    def __init__(self, *, field_name: str, existing_id: int, existing_number: str) -> None:
        super().__init__(N_("Customer {number} already has this ID number; open that archive instead."),
                         number=existing_number)
        self.field = field_name
        self.existing_id = existing_id
        self.existing_number = existing_number


@dataclass(frozen=True)
class SharedWith:
    id: int
    number: str
    masked_name: str
    similar_name: bool


@dataclass(frozen=True)
class SharedPhoneConflict:
    national: str
    display: str
    others: tuple[SharedWith, ...]


class SharedPhone(Conflict):
    """A phone is already used by other customers and no reason was given (R-CUST-7).

    ``phone`` / ``others`` describe the first such phone; ``conflicts`` lists all. Save again with
    ``shared_phone_reasons={national_digits: reason}`` to keep the phone and have it reviewed.
    """

    def __init__(self, *, conflicts: list[SharedPhoneConflict]) -> None:
        first = conflicts[0]
        similar = any(o.similar_name for c in conflicts for o in c.others)
        customers = ", ".join(f"{o.number} {o.masked_name}" for o in first.others)
        if similar:
            super().__init__(N_("The phone {phone} is already used by {customers}, with a similar name. Check it "
                                "is not the same customer; to keep both, write down why they share the phone."),
                             phone=first.display, customers=customers)
        else:
            super().__init__(N_("The phone {phone} is already used by {customers}. To keep it, write down why "
                                "they share the phone; it will be reviewed."),
                             phone=first.display, customers=customers)
        self.conflicts = conflicts
        self.phone = first.national
        self.others = list(first.others)
        self.similar_name = similar


# ------------------------------------------------------------------------------------------------
# Result types
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerRef:
    id: int
    number: str


@dataclass(frozen=True)
class SearchFilters:
    category: str | None = None
    grade: str | None = None
    owner_id: int | None = None
    tag: str | None = None


@dataclass(frozen=True)
class CustomerRow:
    """One line of a result list. ``phone`` is the masked primary phone; ``owner`` a display name."""

    id: int
    number: str
    name: str
    kind: str
    phone: str
    category: str | None
    grade: str | None
    owner: str
    tags: tuple[str, ...]
    important: bool = False
    owner_id: int | None = None
    erased: bool = False


@dataclass(frozen=True)
class SearchPage:
    rows: list[CustomerRow]
    next_cursor: str | None
    count_hint: str  # "37", or "1000+"


@dataclass(frozen=True)
class PhoneView:
    id: int
    number: str  # display form, masked unless the viewer may see sensitive data
    kind: str
    label: str | None
    primary: bool
    shared_reason: str | None
    shared_approved: bool
    shared_signatures: str = ""  # R-CUST-7: who signed, filed (display text)


@dataclass(frozen=True)
class ConsentView:
    id: int
    purpose: str | None
    scope: str
    method: str
    given_at: date
    withdrawn_at: datetime | None
    recorded_by: str


@dataclass(frozen=True)
class CustomerView:
    """A customer archive as shown on the detail screen.

    ``values`` maps every field of the kind (see ``domain.customers.fields_of``, minus owner,
    staff contacts, tags and important which have their own attributes) to its typed value;
    ``id_number`` and ``bank_account`` are masked unless ``masked`` is False. ``form_values()``
    gives the strings an edit form starts from (sensitive fields left out while masked: send only
    changed keys to ``update_customer``).
    """

    id: int
    number: str
    kind: str
    version: int
    name: str
    values: dict[str, Any]
    phones: tuple[PhoneView, ...]
    owner_id: int | None
    owner: str
    staff_contacts: tuple[tuple[int, str], ...]
    tags: tuple[str, ...]
    grade: str | None
    important: bool
    consents: tuple[ConsentView, ...]
    false_info: bool
    false_info_note: str | None
    business_stopped: bool
    needs_informing: bool
    missing: dict[str, list[str]]
    incomplete_due: datetime | None
    credit_measures: Rating | None
    risk_measures: Rating | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    erased_at: datetime | None
    masked: bool  # some sensitive field is masked for this viewer
    whole: frozenset[str] = frozenset()  # the sensitive fields (domain.masking) shown unmasked
    business_stop_note: str | None = None  # R-CUST-3
    phone_inspection_since: datetime | None = None  # R-CUST-8: closer inspection due since
    last_inspection: str | None = None  # R-CUST-8: the latest inspection (when, who, result)
    contact_task_due: datetime | None = None  # R-CUST-10: second staff contact due by
    owner_disabled: bool = False  # R-CUST-10: the responsible staff member's account is disabled

    def form_values(self) -> dict[str, str]:
        """Masked fields start masked: ``customer_forms.save_edit`` sends only what was typed anew,
        so a masked value is never saved back, and a value typed in full replaces it."""
        out: dict[str, str] = {}
        for k, v in self.values.items():
            out[k] = "" if v is None else (v.isoformat() if isinstance(v, date) else str(v))
        out["tags"] = " ".join(self.tags)
        out["important"] = "1" if self.important else "0"
        return out


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "change", "contact", "consent", "handover", ... (one per source)
    title: str
    body: str
    staff: str
    key: str = ""  # pass the last entry's key as ``before`` to get the next page


@dataclass(frozen=True)
class WatchRow:
    customer: CustomerRow
    detail: str
    due: datetime | date | None = None
    phone_id: int | None = None
    item_id: int | None = None  # the listed item itself, e.g. the change to tell (services.consent)


@dataclass(frozen=True)
class WatchPage:
    rows: list[WatchRow]
    next_cursor: str | None
