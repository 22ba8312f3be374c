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
"""

from __future__ import annotations

import csv
import difflib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.domain import masking, search_terms
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.customers import (
    CONSENT_SCOPES,
    FIELD_LABELS,
    GENDERS,
    KINDS,
    PERSONAL_FIELDS,
    CleanPhone,
    ConsentInput,
    CustomerPolicy,
    PhoneInput,
    Rating,
    choose,
    fields_of,
    format_number,
    load_policy,
    maintenance_due,
    mask_name,
    mask_phone,
    missing_fields,
    needs_sensitive_consent,
    validate_consents,
    validate_customer,
    validate_phones,
)
from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text, normalise_phone
from crm_tui.i18n import N_, _
from crm_tui.services import holidays
from crm_tui.services.accuracy import refusals_recorded
from crm_tui.services.context import PERMISSION_LABELS, Actor, Services, Tx
from crm_tui.services.files import private_file
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store import pending, search_index
from crm_tui.store.audit import PersonalChange

__all__ = [
    "ConsentInput", "ConsentView", "CustomerRef", "CustomerRow", "CustomerView", "DuplicateIdNumber",
    "PhoneInput", "PhoneView", "SearchFilters", "SearchPage", "SharedPhone", "SharedWith", "TimelineEntry",
    "WatchPage", "WatchRow", "add_contact", "approve_shared_phone", "archive_page", "audit_unmasked", "text_policy",
    "clear_false_information",
    "create_customer", "erase_customer", "export_customer", "export_list", "get_customer", "handover",
    "mark_false_information", "mark_informed", "past_retention", "policy", "record_consent",
    "register_timeline_source", "reveal", "search", "timeline", "timeline_key", "update_customer", "vacuum",
    "watch_past_deadline", "watch_phone_changes", "watch_shared_phones", "watch_understaffed",
    "withdraw_consent",
]

PERMISSION_LABELS.update({
    "customer.view": N_("view customer archives"),
    "customer.create": N_("register customers"),
    "customer.edit": N_("edit customer archives"),
    "customer.contact_log": N_("record contacts with customers"),
    "customer.view_sensitive": N_("see customers' sensitive data"),
    "customer.export": N_("export the customer list"),
    "customer.export_one": N_("export a customer's data"),
    "customer.handover": N_("hand customers over"),
    "customer.erase": N_("erase customer data"),
    "customer.review_shared_phone": N_("approve shared phones"),
    "customer.shared_phone_chief": N_("sign shared phones as section chief"),
    "customer.shared_phone_deputy": N_("sign shared phones as deputy manager"),
    "customer.shared_phone_file": N_("file shared phones with internal control"),
    "customer.phone_inspect": N_("record phone-change inspections"),
    "customer.business_resume": N_("lift a false-information mark or resume business"),
})

_BOOL_COLS = ("important", "false_info", "business_stopped", "needs_informing")
_CUSTOMER_COLS = (
    "id", "number", "kind", "name", "contact_person", "address", "postcode", "email", "gender", "birth_date",
    "occupation", "employer", "family_notes", "id_number", "legal_rep", "fax", "business_scope",
    "registered_capital", "uscc", "key_decision_makers", "business_needs", "cooperation_history",
    "credit_status", "bank_name", "bank_account", "notes", "category", "industry", "size", "coop_since",
    "source", "credit_rating", "risk_rating", "grade", "owner_id", "important", "false_info",
    "false_info_note", "false_info_at", "business_stopped", "business_stop_note", "business_stopped_at",
    "needs_informing", "missing_fields", "incomplete_due", "phone_changed_at", "phone_changed_prev_at",
    "phone_inspection_since", "last_activity_at", "version",
    "created_at", "created_by_id", "updated_at", "updated_by_id", "erased_at",
)
#: Plain columns a form writes directly (owner, staff contacts, tags and phones are handled apart).
_WRITABLE = tuple(f for f in (*fields_of("person"), *fields_of("org"))
                  if f not in ("owner", "staff_contacts", "tags", "important")) + ("important",)
_WRITABLE = tuple(dict.fromkeys(_WRITABLE))
_SENSITIVE = ("id_number", "bank_account")


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


def policy() -> CustomerPolicy:
    """The archive policy (choices, ratings and their measures, deadlines) for forms and filters."""
    return load_policy()


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def _calendar(svc: Services) -> WorkCalendar:
    return holidays.work_calendar(svc)


def _dt(v: Any) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))


def _d(v: Any) -> date | None:
    if v is None or isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def _plain(v: Any) -> Any:
    """A value as kept in audit details and compared for changes."""
    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (list, tuple, set, frozenset)):
        return sorted(str(x) for x in v)
    return v


def _personal_text(v: Any) -> str | None:
    p = _plain(v)
    if p is None:
        return None
    if isinstance(p, list):
        return ", ".join(p)
    return str(p)


def _sess(s: Session | Tx | Any) -> Session:
    return s.session if isinstance(s, Tx) else s


def _load_row(s: Session | Tx, customer_id: int, *, allow_erased: bool = False) -> dict[str, Any]:
    r = _sess(s).execute(text(f"SELECT {', '.join(_CUSTOMER_COLS)} FROM customer WHERE id = :i"),
                  {"i": customer_id}).mappings().first()
    if r is None or (r["erased_at"] is not None and not allow_erased):
        raise NotFound("No customer archive #{id}.", id=customer_id)
    row = dict(r)
    for b in _BOOL_COLS:
        row[b] = bool(row[b])
    return row


def _phones_of(s: Session | Tx, customer_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in _sess(s).execute(text(
        "SELECT id, national, e164, kind, label, is_primary, shared_reason, shared_approved_at, shared_review_due,"
        " shared_chief_id, shared_chief_at, shared_deputy_id, shared_deputy_at, shared_filed_by_id, shared_filed_at"
        " FROM customer_phone WHERE customer_id = :c ORDER BY is_primary DESC, id"), {"c": customer_id}).mappings()]


def _tags_of(s: Session | Tx, customer_id: int) -> list[str]:
    return [r[0] for r in _sess(s).execute(text("SELECT tag FROM customer_tag WHERE customer_id = :c ORDER BY tag"),
                                    {"c": customer_id})]


def _staff_of(s: Session | Tx, customer_id: int) -> list[int]:
    return [r[0] for r in _sess(s).execute(text("SELECT staff_id FROM customer_staff WHERE customer_id = :c ORDER BY staff_id"),
                                    {"c": customer_id})]


def _staff_names(s: Session | Tx, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = _sess(s).execute(text(f"SELECT id, display_name FROM staff WHERE id IN ({','.join(map(str, wanted))})"))
    return {r[0]: r[1] for r in rows}


def _resolve_staff(tx: Tx, token: str, field_name: str) -> tuple[int, str]:
    if token.isdigit():
        r = tx.execute("SELECT id, display_name, active FROM staff WHERE id = :i", {"i": int(token)}).first()
    else:
        r = tx.execute("SELECT id, display_name, active FROM staff WHERE username = :u", {"u": token}).first()
    if r is None:
        raise ValidationError(field_name, "Unknown staff member '{name}'", name=token)
    if not r[2]:
        raise ValidationError(field_name, "{name}'s account is disabled; choose an active colleague", name=r[1])
    return int(r[0]), str(r[1])


def _people(tx: Tx, clean: dict[str, Any], errors: list[ValidationError], *, default_owner: int | None,
            creating: bool) -> tuple[int | None, list[int] | None]:
    """Resolve ``owner`` and ``staff_contacts`` to staff ids, appending errors."""
    owner: int | None = None
    if "owner" in clean or creating:
        token = clean.get("owner")
        if token:
            try:
                owner = _resolve_staff(tx, token, "owner")[0]
            except ValidationError as e:
                errors.append(e)
        elif creating and default_owner is not None:
            owner = default_owner
        else:
            errors.append(ValidationError("owner", "Every customer needs a responsible staff member"))
    contacts: list[int] | None = None
    if "staff_contacts" in clean:
        contacts = []
        for token in clean["staff_contacts"]:
            try:
                sid = _resolve_staff(tx, token, "staff_contacts")[0]
            except ValidationError as e:
                errors.append(e)
                continue
            if sid not in contacts:
                contacts.append(sid)
    return owner, contacts


def _clean_reasons(reasons: Mapping[str, str] | None, errors: list[ValidationError]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, reason in (reasons or {}).items():
        try:
            national = normalise_phone(key, "shared_phone_reasons").national
        except ValidationError:
            continue
        try:
            text_ = clean_text(reason, f"shared_phone_reasons.{national}", max_len=200)
        except ValidationError as e:
            errors.append(e)
            continue
        if text_:
            out[national] = text_
    return out


def _similar(a: str | None, b: str | None) -> bool:
    a, b = search_terms.normalise(a or ""), search_terms.normalise(b or "")
    if not a or not b:
        return False
    return a == b or difflib.SequenceMatcher(None, a, b).ratio() >= 0.6


def _check_duplicate_ident(tx: Tx, values: Mapping[str, Any], exclude: int | None) -> None:
    for col in ("id_number", "uscc"):
        v = values.get(col)
        if not v:
            continue
        r = tx.execute(f"SELECT id, number FROM customer WHERE {col} = :v AND id != :x AND erased_at IS NULL LIMIT 1",
                       {"v": v, "x": exclude or 0}).first()
        if r:
            raise DuplicateIdNumber(field_name=col, existing_id=int(r[0]), existing_number=str(r[1]))


def _shared_conflicts(tx: Tx, phones: Sequence[CleanPhone], reasons: Mapping[str, str], name: str | None,
                      exclude: int | None) -> tuple[list[SharedPhoneConflict], set[str]]:
    """(conflicts without reason, nationals shared with a reason)."""
    conflicts: list[SharedPhoneConflict] = []
    shared: set[str] = set()
    for p in phones:
        rows = tx.execute(
            "SELECT DISTINCT c.id, c.number, c.name, c.kind FROM customer_phone ph JOIN customer c ON c.id = ph.customer_id"
            " WHERE ph.national = :n AND c.id != :x AND c.erased_at IS NULL ORDER BY c.id LIMIT 20",
            {"n": p.national, "x": exclude or 0}).all()
        if not rows:
            continue
        if p.national in reasons:
            shared.add(p.national)
            continue
        conflicts.append(SharedPhoneConflict(p.national, p.display, tuple(
            SharedWith(int(r[0]), str(r[1]), mask_name(r[2], r[3]), _similar(name, r[2])) for r in rows)))
    return conflicts, shared


def _has_sensitive_consent(tx: Tx, customer_id: int) -> bool:
    return tx.execute("SELECT 1 FROM customer_consent WHERE customer_id = :c AND scope = 'sensitive'"
                      " AND withdrawn_at IS NULL LIMIT 1", {"c": customer_id}).first() is not None


def _terms(row: Mapping[str, Any], phones: Iterable[str]) -> set[str]:
    return search_terms.customer_terms(name=row.get("name"), kind=row["kind"], number=row["number"],
                                       phones=phones, idents=(row.get("id_number"), row.get("uscc")))


def _completeness(values: Mapping[str, Any], kind: str, created_at: datetime, phones: int,
                  calendar: WorkCalendar, memo: dict[Any, Any] | None = None) -> tuple[str | None, datetime | None]:
    """(missing_fields JSON, incomplete_due). With ``memo`` (bulk writers: imports) the answer is
    remembered by creation time and missing fields, which are all it depends on."""
    missing = missing_fields({**values, "phones": phones}, kind)
    key = (created_at, *((g, *fs) for g, fs in missing.items())) if memo is not None else None
    if memo is not None and key in memo:
        return memo[key]  # type: ignore[no-any-return]
    due = maintenance_due(created_at, missing, calendar)
    out = (json.dumps(missing, separators=(",", ":")) if missing else None), due
    if memo is not None:
        memo[key] = out
    return out


def _share_with_holders(tx: Tx, customer_id: int, national: str, reason: str) -> None:
    """R-CUST-7 on BOTH customers: the customers who had the number first get the reason too (when
    they had none) and come back for review with fresh signatures, one audit entry each."""
    rows = tx.execute("SELECT ph.id, ph.customer_id, ph.shared_reason, c.number FROM customer_phone ph"
                      " JOIN customer c ON c.id = ph.customer_id WHERE ph.national = :n AND ph.customer_id != :c"
                      " AND c.erased_at IS NULL", {"n": national, "c": customer_id}).all()
    joined = str(tx.execute("SELECT number FROM customer WHERE id = :c", {"c": customer_id}).scalar_one())
    for pid, cid, old_reason, number in rows:
        tx.execute("UPDATE customer_phone SET shared_reason = coalesce(shared_reason, :r), shared_review_due = :d,"
                   " shared_approved_at = NULL, shared_approved_by_id = NULL, shared_chief_id = NULL,"
                   " shared_chief_at = NULL, shared_deputy_id = NULL, shared_deputy_at = NULL WHERE id = :i",
                   {"r": reason, "d": tx.now.date(), "i": pid})
        tx.audit("customer.shared_phone_joined", entity="customer_phone", entity_id=pid, customer_id=int(cid),
                 details={"number": number, "shared_with": joined},
                 personal=[] if old_reason else [PersonalChange("shared_reason", None, reason)])


def _unshare_lonely(tx: Tx, nationals: Iterable[str]) -> None:
    """A number left on one customer is no longer shared: its reason and review go."""
    for n in nationals:
        rows = tx.execute("SELECT ph.id FROM customer_phone ph JOIN customer c ON c.id = ph.customer_id"
                          " WHERE ph.national = :n AND c.erased_at IS NULL", {"n": n}).all()
        if len(rows) == 1:
            tx.execute("UPDATE customer_phone SET shared_reason = NULL, shared_review_due = NULL WHERE id = :i",
                       {"i": rows[0][0]})


def _insert_phones(tx: Tx, customer_id: int, phones: Sequence[CleanPhone], reasons: Mapping[str, str],
                   shared: set[str]) -> None:
    for p in phones:
        is_shared = p.national in shared
        if is_shared:
            _share_with_holders(tx, customer_id, p.national, reasons[p.national])
        tx.execute(
            "INSERT INTO customer_phone (customer_id, national, e164, kind, label, is_primary, shared_reason,"
            " shared_review_due, created_at) VALUES (:c, :n, :e, :k, :l, :p, :r, :due, :now)",
            {"c": customer_id, "n": p.national, "e": p.e164, "k": p.kind, "l": p.label, "p": p.primary,
             "r": reasons[p.national] if is_shared else None, "due": tx.now.date() if is_shared else None,
             "now": tx.now})


def _phones_text(phones: Iterable[Any]) -> str | None:
    parts = []
    for p in phones:
        national = p.national if isinstance(p, CleanPhone) else p["national"]
        label = p.label if isinstance(p, CleanPhone) else p["label"]
        parts.append(national + (f" ({label})" if label else ""))
    return ", ".join(parts) or None


def _require_informed_note(changed: Iterable[str], informed: bool) -> dict[str, Any]:
    told = sorted(set(changed) & load_policy().inform_on_change)
    return {"informed": bool(informed), "inform_fields": told} if told else {}


# ------------------------------------------------------------------------------------------------
# Create and update
# ------------------------------------------------------------------------------------------------


@refusals_recorded("customer.create")
def create_customer(svc: Services, actor: Actor, kind: str, raw: Mapping[str, str], *,
                    phones: Sequence[PhoneInput] = (), consents: Sequence[ConsentInput] = (),
                    shared_phone_reasons: Mapping[str, str] | None = None) -> CustomerRef:
    """Register a customer (person or org). Needs customer.create.

    ``raw``: field -> typed text (see ``domain.customers.fields_of``; ``owner`` and
    ``staff_contacts`` as user names or staff ids, ``tags`` space/comma separated, ``important``
    yes/no). The owner defaults to the actor. Raises ``ValidationErrors`` (every field error,
    fields ``phones.<i>``, ``consents.<i>.<part>`` included), ``DuplicateIdNumber``,
    ``SharedPhone``. A phone already used elsewhere is saved only with
    ``shared_phone_reasons[national digits]``, and then awaits review. An ID number or bank
    account needs a consent of scope "sensitive" in ``consents`` (R-CUST-6).
    """
    svc.require(actor, "customer.create")
    now = svc.now()
    today = now.date()
    if kind not in KINDS:
        raise ValidationErrors([ValidationError("kind", "Choose one of: {options}", options=", ".join(KINDS))])
    clean, errors = validate_customer(raw, kind, today)
    cphones, perrs = validate_phones(list(phones))
    cconsents, cerrs = validate_consents(consents, today)
    errors += perrs + cerrs
    reasons = _clean_reasons(shared_phone_reasons, errors)
    with svc.write(actor) as tx:
        owner, contacts = _people(tx, clean, errors, default_owner=actor.staff_id, creating=True)
        if needs_sensitive_consent(clean) and not any(c.scope == "sensitive" for c in cconsents):
            errors.append(ValidationError(
                "id_number" if clean.get("id_number") else "bank_account",
                "An ID number or bank account is kept only with the customer's consent to sensitive data; "
                "record that consent first"))
        if errors:
            raise ValidationErrors(errors)
        _check_duplicate_ident(tx, clean, None)
        conflicts, shared = _shared_conflicts(tx, cphones, reasons, clean.get("name"), None)
        if conflicts:
            raise SharedPhone(conflicts=conflicts)
        seq = tx.execute("INSERT INTO customer_number_seq (year, last) VALUES (:y, 1) ON CONFLICT(year)"
                         " DO UPDATE SET last = last + 1 RETURNING last", {"y": now.year}).scalar_one()
        number = format_number(now.year, int(seq))
        values = {k: clean.get(k) for k in _WRITABLE}
        values["important"] = bool(clean.get("important"))
        missing, due = _completeness(values, kind, now, len(cphones), _calendar(svc))
        search_name, search_pinyin = search_terms.search_columns(clean["name"], kind)
        cols = {**values, "number": number, "kind": kind, "owner_id": owner, "search_name": search_name,
                "search_pinyin": search_pinyin, "missing_fields": missing, "incomplete_due": due,
                "false_info": False, "business_stopped": False, "needs_informing": False,
                "last_activity_at": now, "version": 1, "created_at": now, "created_by_id": actor.staff_id,
                "updated_at": now, "updated_by_id": actor.staff_id}
        names = list(cols)
        cid = int(tx.execute(f"INSERT INTO customer ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"
                             " RETURNING id", cols).scalar_one())
        _insert_phones(tx, cid, cphones, reasons, shared)
        for tag in clean.get("tags") or []:
            tx.execute("INSERT INTO customer_tag (customer_id, tag) VALUES (:c, :t)", {"c": cid, "t": tag})
        for sid in contacts or []:
            if sid != owner:
                tx.execute("INSERT INTO customer_staff (customer_id, staff_id) VALUES (:c, :s)", {"c": cid, "s": sid})
        for c in cconsents:
            tx.execute("INSERT INTO customer_consent (customer_id, purpose, scope, method, given_at, note,"
                       " recorded_by_id, recorded_at) VALUES (:c, :p, :s, :m, :g, :n, :by, :now)",
                       {"c": cid, "p": c.purpose, "s": c.scope, "m": c.method, "g": c.given_at, "n": c.note,
                        "by": actor.staff_id, "now": now})
        search_index.add_terms(tx.session, cid, _terms({**cols, "id": cid}, [p.national for p in cphones]))
        if cols.get("important"):
            from crm_tui.services import customer_rules

            customer_rules.contact_task_in(tx, svc, cid, "important")  # R-CUST-10
        staff = _staff_names(tx, [owner, *(contacts or [])])
        changes: dict[str, list[Any]] = {}
        personal: list[PersonalChange] = []
        for f_, v in values.items():
            if v in (None, False):
                continue
            if f_ in PERSONAL_FIELDS:
                personal.append(PersonalChange(f_, None, _personal_text(v)))
            else:
                changes[f_] = [None, _plain(v)]
        if owner is not None:
            changes["owner"] = [None, staff.get(owner)]
        if contacts:
            changes["staff_contacts"] = [None, sorted(staff[s] for s in contacts if s in staff and s != owner)]
        if clean.get("tags"):
            changes["tags"] = [None, sorted(clean["tags"])]
        if cphones:
            personal.append(PersonalChange("phones", None, _phones_text(cphones)))
        details: dict[str, Any] = {"number": number, "kind": kind, "changes": changes}
        if cconsents:
            details["consents"] = [{"scope": c.scope, "method": c.method} for c in cconsents]
        if shared:
            details["shared_phones"] = len(shared)
        tx.audit("customer.create", entity="customer", entity_id=cid, customer_id=cid, details=details,
                 personal=personal)
    return CustomerRef(cid, number)


@refusals_recorded("customer.update")
def update_customer(svc: Services, actor: Actor, customer_id: int, raw: Mapping[str, str], *,
                    expected_version: int, phones: Sequence[PhoneInput] | None = None, informed: bool = False,
                    shared_phone_reasons: Mapping[str, str] | None = None) -> int:
    """Change the fields present in ``raw`` (blank clears), and the phones when ``phones`` is given
    (the list replaces them). Needs customer.edit. Returns the new version (the old one when
    nothing changed).

    Refuses ``grade`` (changed only by grade changes), ``number`` and ``kind``. A stale
    ``expected_version`` raises ``Conflict`` naming who changed the archive and when. Changes of
    fields the policy tells the customer about record ``informed`` (R-CUST-5). Two phone changes
    within the policy window flag the customer (R-CUST-8).
    """
    svc.require(actor, "customer.edit")
    now = svc.now()
    today = now.date()
    with svc.write(actor) as tx:
        cur = _load_row(tx, customer_id)
        if cur["version"] != expected_version:
            who = _staff_names(tx, [cur["updated_by_id"]]).get(cur["updated_by_id"], "system")
            raise Conflict("This archive was changed by {name} at {time}; reload it and make your change again.",
                           name=who, time=str(cur["updated_at"])[:16])
        kind = cur["kind"]
        clean, errors = validate_customer(raw, kind, today, partial=True, current=cur)
        cphones: list[CleanPhone] | None = None
        if phones is not None:
            cphones, perrs = validate_phones(list(phones))
            errors += perrs
        reasons = _clean_reasons(shared_phone_reasons, errors)
        owner, contacts = _people(tx, clean, errors, default_owner=None, creating=False)
        merged = {**cur, **{k: v for k, v in clean.items() if k in _WRITABLE}}
        if needs_sensitive_consent(merged) and any(clean.get(k) for k in _SENSITIVE) \
                and not _has_sensitive_consent(tx, customer_id):
            errors.append(ValidationError(
                "id_number" if clean.get("id_number") else "bank_account",
                "An ID number or bank account is kept only with the customer's consent to sensitive data; "
                "record that consent first"))
        if errors:
            raise ValidationErrors(errors)
        old_phones = _phones_of(tx, customer_id)
        old_nationals = {p["national"] for p in old_phones}
        added: list[CleanPhone] = []
        if cphones is not None:
            added = [p for p in cphones if p.national not in old_nationals]
        if any(k in clean for k in ("id_number", "uscc")):
            _check_duplicate_ident(tx, {k: clean.get(k) for k in ("id_number", "uscc") if k in clean}, customer_id)
        conflicts, shared = _shared_conflicts(tx, added, reasons, merged.get("name"), customer_id)
        if conflicts:
            raise SharedPhone(conflicts=conflicts)

        changes: dict[str, list[Any]] = {}
        personal: list[PersonalChange] = []
        sets: dict[str, Any] = {}
        for f_ in _WRITABLE:
            if f_ not in clean:
                continue
            old, new = cur.get(f_), clean[f_]
            if f_ == "important":
                new = bool(new)
            if _plain(old) == _plain(new):
                continue
            sets[f_] = new
            if f_ in PERSONAL_FIELDS:
                personal.append(PersonalChange(f_, _personal_text(old), _personal_text(new)))
            else:
                changes[f_] = [_plain(old), _plain(new)]
        staff_ids = [cur["owner_id"], owner, *(contacts or []), *_staff_of(tx, customer_id)]
        names = _staff_names(tx, staff_ids)
        if owner is not None and owner != cur["owner_id"]:
            sets["owner_id"] = owner
            changes["owner"] = [names.get(cur["owner_id"]), names.get(owner)]
        new_owner = sets.get("owner_id", cur["owner_id"])
        if contacts is not None:
            old_contacts = set(_staff_of(tx, customer_id))
            new_contacts = {s for s in contacts if s != new_owner}
            if new_contacts != old_contacts:
                tx.execute("DELETE FROM customer_staff WHERE customer_id = :c", {"c": customer_id})
                for sid in sorted(new_contacts):
                    tx.execute("INSERT INTO customer_staff (customer_id, staff_id) VALUES (:c, :s)",
                               {"c": customer_id, "s": sid})
                changes["staff_contacts"] = [sorted(names.get(s, str(s)) for s in old_contacts),
                                             sorted(names.get(s, str(s)) for s in new_contacts)]
        elif "owner_id" in sets:
            tx.execute("DELETE FROM customer_staff WHERE customer_id = :c AND staff_id = :s",
                       {"c": customer_id, "s": new_owner})
        if "tags" in clean:
            old_tags = set(_tags_of(tx, customer_id))
            new_tags = set(clean["tags"])
            if old_tags != new_tags:
                for t in old_tags - new_tags:
                    tx.execute("DELETE FROM customer_tag WHERE customer_id = :c AND tag = :t", {"c": customer_id, "t": t})
                for t in new_tags - old_tags:
                    tx.execute("INSERT INTO customer_tag (customer_id, tag) VALUES (:c, :t)", {"c": customer_id, "t": t})
                changes["tags"] = [sorted(old_tags), sorted(new_tags)]
        phones_changed = False
        final_nationals = [p["national"] for p in old_phones]
        if cphones is not None:
            new_nationals = {p.national for p in cphones}
            old_shape = [(p["national"], p["label"], bool(p["is_primary"])) for p in old_phones]
            new_shape = [(p.national, p.label, p.primary) for p in cphones]
            if sorted(old_shape, key=str) != sorted(new_shape, key=str):
                removed = old_nationals - new_nationals
                for p in old_phones:
                    if p["national"] in removed:
                        tx.execute("DELETE FROM customer_phone WHERE id = :i", {"i": p["id"]})
                for p in cphones:
                    if p.national in old_nationals:
                        tx.execute("UPDATE customer_phone SET label = :l, is_primary = :p WHERE customer_id = :c"
                                   " AND national = :n", {"l": p.label, "p": p.primary, "c": customer_id,
                                                          "n": p.national})
                _insert_phones(tx, customer_id, added, reasons, shared)
                _unshare_lonely(tx, removed)
                personal.append(PersonalChange("phones", _phones_text(old_phones), _phones_text(cphones)))
                final_nationals = [p.national for p in cphones]
                if new_nationals != old_nationals and old_nationals:
                    phones_changed = True
        if not sets and not changes and not personal:
            return int(cur["version"])
        if phones_changed:
            sets["phone_changed_prev_at"] = cur["phone_changed_at"]
            sets["phone_changed_at"] = now
            # R-CUST-8: the second change within the window flags the customer until an inspection
            # is recorded (customer_rules.record_phone_inspection); the flag does not lapse.
            prev = _dt(cur["phone_changed_at"])
            window = timedelta(days=load_policy().phone_change_window_days)
            if prev is not None and now - prev <= window and cur["phone_inspection_since"] is None:
                sets["phone_inspection_since"] = now
                changes["phone_inspection"] = [False, True]
        after = {**cur, **sets}
        missing, due = _completeness(after, kind, _dt(cur["created_at"]) or now, len(final_nationals), _calendar(svc))
        sets["missing_fields"], sets["incomplete_due"] = missing, due
        if "name" in sets:
            sets["search_name"], sets["search_pinyin"] = search_terms.search_columns(sets["name"], kind)
        sets.update(updated_at=now, updated_by_id=actor.staff_id, last_activity_at=now)
        assignments = ", ".join(f"{k} = :{k}" for k in sets)
        res = tx.execute(f"UPDATE customer SET {assignments}, version = version + 1 WHERE id = :_id AND version = :_v",
                         {**sets, "_id": customer_id, "_v": expected_version})
        if res.rowcount != 1:  # pragma: no cover - BEGIN IMMEDIATE makes this unreachable
            raise Conflict("This archive was changed meanwhile; reload it and make your change again.")
        old_terms = _terms(cur, [p["national"] for p in old_phones])
        new_terms = _terms(after, final_nationals)
        search_index.replace_terms(tx.session, customer_id, old_terms, new_terms)
        if "important" in sets or "staff_contacts" in changes or "owner" in changes:
            from crm_tui.services import customer_rules

            customer_rules.contact_task_in(tx, svc, customer_id, "important")  # R-CUST-10
        changed = [*changes, *(p.field for p in personal)]
        details: dict[str, Any] = {"number": cur["number"], "changes": changes, **_require_informed_note(changed, informed)}
        from crm_tui.services import consent  # R-CUST-5: a change not told yet is owed a notice

        consent.note_change(tx, customer_id, changed, informed, _calendar(svc))
        if shared:
            details["shared_phones"] = len(shared)
        tx.audit("customer.update", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details=details, personal=personal)
        return int(cur["version"]) + 1


def mark_false_information(svc: Services, actor: Actor, customer_id: int, note: str, *,
                           stop_business: bool = True) -> int:
    """R-CUST-3: mark the customer as having given false information (and stop business with
    them). Needs customer.edit. Returns the new version."""
    svc.require(actor, "customer.edit")
    clean_note = clean_text(note, "note", max_len=500, multiline=True, required=True)
    with svc.write(actor) as tx:
        cur = _load_row(tx, customer_id)
        if cur["false_info"]:
            raise Conflict("This customer is already marked as having given false information.")
        tx.execute("UPDATE customer SET false_info = 1, false_info_note = :n, false_info_at = :now,"
                   " business_stopped = :b, business_stopped_at = coalesce(business_stopped_at, :now), version = version + 1, updated_at = :now, updated_by_id = :by"
                   " WHERE id = :i", {"n": clean_note, "now": tx.now, "b": bool(stop_business or cur["business_stopped"]),
                                     "by": actor.staff_id, "i": customer_id})
        tx.audit("customer.false_info", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": cur["number"], "changes": {
                     "false_info": [cur["false_info"], True],
                     **({} if cur["business_stopped"] or not stop_business else {"business_stopped": [False, True]})}},
                 personal=[PersonalChange("false_info_note", cur["false_info_note"], clean_note)])
        return int(cur["version"]) + 1


def clear_false_information(svc: Services, actor: Actor, customer_id: int, note: str) -> int:
    """Lift the false-information mark and resume business (the reason is recorded). A
    supervisor's decision (R-CUST-3): needs customer.business_resume."""
    svc.require(actor, "customer.business_resume", customer=customer_id)
    clean_note = clean_text(note, "note", max_len=500, multiline=True, required=True)
    with svc.write(actor) as tx:
        cur = _load_row(tx, customer_id)
        tx.execute("UPDATE customer SET false_info = 0, false_info_note = NULL, business_stopped = 0,"
                   " business_stop_note = NULL, business_stopped_at = NULL,"
                   " version = version + 1, updated_at = :now, updated_by_id = :by WHERE id = :i",
                   {"now": tx.now, "by": actor.staff_id, "i": customer_id})
        tx.audit("customer.false_info_cleared", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": cur["number"], "changes": {"false_info": [cur["false_info"], False],
                                                               "business_stopped": [cur["business_stopped"], False]}},
                 personal=[PersonalChange("false_info_note", cur["false_info_note"], clean_note)])
        return int(cur["version"]) + 1


# ------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------


def _rating(table: Mapping[str, Rating], code: str | None) -> Rating | None:
    return table.get(code) if code else None


def _visibility(actor: Actor, owner_id: int | None, contact_ids: Iterable[int]) -> masking.Visibility:
    rel = masking.relation((actor.staff_id, actor.on_behalf_of), owner_id, contact_ids)
    return masking.visibility(actor.permissions, rel)


def visibility_of(svc: Services, actor: Actor, customer_id: int) -> masking.Visibility:
    """What ``actor`` sees whole of this customer by default (domain.masking)."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        r = s.execute(text("SELECT owner_id FROM customer WHERE id = :i"), {"i": customer_id}).first()
        if r is None:
            raise NotFound("No customer archive #{id}.", id=customer_id)
        return _visibility(actor, r[0], _staff_of(s, customer_id))


#: R-SEC-3 without flooding: a view repeated within this time (the same viewer, record, fields and
#: purpose), with nothing else recorded by that viewer in between, is the same view: one audit row.
SAME_VIEW = timedelta(minutes=10)


def audit_unmasked(svc: Services, actor: Actor, fields: Iterable[str], purpose: str, *,
                   customer_id: int | None, number: str | None = None, entity: str = "customer",
                   entity_id: int | None = None, action: str = "customer.view_unmasked") -> bool:
    """R-SEC-3: a view that showed sensitive values whole is recorded: who, the customer (or the
    register line), the fields shown and the view (``purpose``). Every service that returns a value
    whole calls this; a reload of the same view (``SAME_VIEW``) adds no second row. Returns whether
    a row was written."""
    shown = sorted(set(fields))
    if not shown:
        return False
    ident = customer_id if entity_id is None else entity_id
    details = {"number": number, "fields": shown, "purpose": purpose}
    with svc.write(actor) as tx:
        last = tx.execute(
            "SELECT action, entity, entity_id, details, at FROM audit_log WHERE actor_id = :a"
            " ORDER BY at DESC, id DESC LIMIT 1", {"a": actor.staff_id}).first()
        if last is not None and last[0] == action and last[1] == entity and str(last[2]) == str(ident):
            at = _dt(last[4])
            try:
                before = json.loads(last[3] or "{}")
            except ValueError:
                before = {}
            if at is not None and tx.now - at < SAME_VIEW and before == details:
                return False
        tx.audit(action, entity=entity, entity_id=ident, customer_id=customer_id, details=details)
    return True


def _audit_unmasked(svc: Services, actor: Actor, customer_id: int, number: str, fields: Iterable[str],
                    purpose: str) -> None:
    audit_unmasked(svc, actor, fields, purpose, customer_id=customer_id, number=number)


def customer_id_by_number(svc: Services, actor: Actor, number: str) -> int:
    """The archive id of a customer number (the CLI's way in). Needs customer.view."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        r = s.execute(text("SELECT id FROM customer WHERE number = :n AND erased_at IS NULL"),
                      {"n": (number or "").strip()}).first()
    if r is None:
        raise NotFound("No customer numbered {number}.", number=number)
    return int(r[0])


def get_customer(svc: Services, actor: Actor, customer_id: int, *, purpose: str = "view") -> CustomerView:
    """The archive for the detail screen (``purpose`` "view"), the edit form ("edit"), or only its
    number and name ("ref": everything sensitive masked, nothing audited). Needs customer.view.
    Sensitive fields follow ``domain.masking``; a view with any of them whole (and present) writes a
    ``customer.view_unmasked`` audit row. Erased archives load too (``erased_at`` set)."""
    view, shown = _customer_view(svc, actor, customer_id, purpose)
    if shown and not view.erased_at:
        _audit_unmasked(svc, actor, customer_id, view.number, shown, purpose)
    return view


def archive_page(svc: Services, actor: Actor, customer_id: int, *, limit: int = 100
                 ) -> tuple[CustomerView, list[TimelineEntry]]:
    """What the archive screen shows at once: the archive and the newest page of its history, under
    the masking policy, with ONE ``customer.view_unmasked`` row (purpose "view") for the fields
    either showed whole (R-SEC-3, one row per view). Needs customer.view."""
    view, shown = _customer_view(svc, actor, customer_id, "view")
    entries, history_shown, _number = _timeline(svc, actor, customer_id, None, limit)
    if not view.erased_at:
        _audit_unmasked(svc, actor, customer_id, view.number, [*shown, *history_shown], "view")
    return view, entries


def _customer_view(svc: Services, actor: Actor, customer_id: int, purpose: str) -> tuple[CustomerView, list[str]]:
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        row = _load_row(s, customer_id, allow_erased=True)
        phones = _phones_of(s, customer_id)
        tags = _tags_of(s, customer_id)
        contacts = _staff_of(s, customer_id)
        consents = s.execute(text(
            "SELECT id, purpose, scope, method, given_at, withdrawn_at, recorded_by_id FROM customer_consent"
            " WHERE customer_id = :c ORDER BY given_at, id"), {"c": customer_id}).all()
        from crm_tui.services import customer_rules

        extra = customer_rules.archive_extras(s, customer_id)
        names = _staff_names(s, [row["owner_id"], row["created_by_id"], row["updated_by_id"], *contacts,
                                 *(c[6] for c in consents),
                                 *(p[k] for p in phones for k in ("shared_chief_id", "shared_deputy_id",
                                                                   "shared_filed_by_id"))])
    vis = masking.NOBODY if purpose == "ref" else _visibility(actor, row["owner_id"], contacts)
    masked = vis.any_masked
    values: dict[str, Any] = {}
    for f_ in fields_of(row["kind"]):
        if f_ in ("owner", "staff_contacts", "tags", "important"):
            continue
        v = row.get(f_)
        if f_ == "birth_date":
            v = _d(v)
        if v and f_ in masking.SENSITIVE_FIELDS and vis.masked(f_):
            v = masking.mask(f_, v)
        values[f_] = v
    pol = load_policy()
    shown = [f_ for f_ in vis.whole if (phones if f_ == masking.PHONES else row.get(f_))]
    return CustomerView(
        id=row["id"], number=row["number"], kind=row["kind"], version=int(row["version"]),
        name=row["name"] if not row["erased_at"] else _("(erased)"), values=values,
        phones=tuple(PhoneView(p["id"], mask_phone(p["national"]) if vis.masked(masking.PHONES)
                               else _display_phone(p["national"]),
                               p["kind"], p["label"], bool(p["is_primary"]), p["shared_reason"],
                               p["shared_approved_at"] is not None, _signatures(p, names)) for p in phones),
        owner_id=row["owner_id"], owner=names.get(row["owner_id"], ""),
        staff_contacts=tuple((sid, names.get(sid, "")) for sid in contacts), tags=tuple(tags), grade=row["grade"],
        important=row["important"],
        consents=tuple(ConsentView(c[0], c[1], c[2], c[3], _d(c[4]), _dt(c[5]), names.get(c[6], ""))  # type: ignore[arg-type]
                       for c in consents),
        false_info=row["false_info"], false_info_note=row["false_info_note"], business_stopped=row["business_stopped"],
        needs_informing=row["needs_informing"], missing=json.loads(row["missing_fields"] or "{}"),
        incomplete_due=_dt(row["incomplete_due"]),
        credit_measures=_rating(pol.credit_ratings, row["credit_rating"]),
        risk_measures=_rating(pol.risk_ratings, row["risk_rating"]),
        created_at=_dt(row["created_at"]), created_by=names.get(row["created_by_id"], ""),  # type: ignore[arg-type]
        updated_at=_dt(row["updated_at"]), updated_by=names.get(row["updated_by_id"], ""),  # type: ignore[arg-type]
        erased_at=_dt(row["erased_at"]), masked=masked, whole=vis.whole,
        business_stop_note=row["business_stop_note"], phone_inspection_since=_dt(row["phone_inspection_since"]),
        last_inspection=extra.last_inspection, contact_task_due=extra.contact_task_due,
        owner_disabled=extra.owner_disabled,
    ), shown


def _signatures(p: Mapping[str, Any], names: Mapping[int, str]) -> str:
    """R-CUST-7: "section chief X ✓, deputy manager —, filed —" for a shared phone."""
    if not p["shared_reason"]:
        return ""

    def who(id_key: str, at_key: str) -> str:
        return f"{names.get(p[id_key], '?')} {str(p[at_key])[:10]}" if p[at_key] else "—"

    return _("section chief: {chief}; deputy manager: {deputy}; filed: {filed}",
             chief=who("shared_chief_id", "shared_chief_at"), deputy=who("shared_deputy_id", "shared_deputy_at"),
             filed=who("shared_filed_by_id", "shared_filed_at"))


def _display_phone(national: str) -> str:
    try:
        return normalise_phone(national).display
    except ValidationError:
        return national


def _is_own(tx: Tx, actor: Actor, row: Mapping[str, Any]) -> bool:
    """The actor (or the colleague they cover for) owns the customer or is in contact with them."""
    ids = {i for i in (actor.staff_id, actor.on_behalf_of) if i is not None}
    if row["owner_id"] in ids:
        return True
    return any(i in ids for i in _staff_of(tx, int(row["id"])))


def reveal(svc: Services, actor: Actor, customer_id: int, field: str, reason: str, *,
           approval_id: int | None = None) -> str:
    """The unmasked value of ``id_number``, ``bank_account`` or ``phones`` / ``phone`` (all, comma
    separated), or ``phone:<id>`` (one, by ``PhoneView.id``), for this view only: the caller shows
    it once and keeps it nowhere. Needs customer.view_sensitive and a reason; every reveal is
    audited with who, the customer, the field and the reason (R-SEC-3)."""
    svc.require(actor, "customer.view_sensitive", customer=customer_id, field=field)
    clean_reason = clean_text(reason, "reason", max_len=200, required=True)
    with svc.write(actor) as tx:
        row = _load_row(tx, customer_id)
        policy_field = masking.PHONES if field.startswith("phone") else field
        rel = masking.relation((actor.staff_id, actor.on_behalf_of), row["owner_id"], _staff_of(tx, customer_id))
        if not masking.may_reveal(actor.permissions, policy_field, rel):
            raise ValidationError("field", "Only the ID number, bank account and phones are masked")
        if field == "id_number" and not _is_own(tx, actor, row):  # R-SEC-2: a second person approves
            from crm_tui.services import approvals

            approvals.use(tx, svc, "customer.reveal_other", approval_id, str(row["number"]))
        if field in _SENSITIVE:
            value = row[field] or ""
        elif field in ("phones", "phone"):
            value = ", ".join(_display_phone(p["national"]) for p in _phones_of(tx, customer_id))
        elif field.startswith("phone:") and field[6:].isdigit():
            r = tx.execute("SELECT national FROM customer_phone WHERE id = :i AND customer_id = :c",
                           {"i": int(field[6:]), "c": customer_id}).first()
            if r is None:
                raise NotFound("No such phone.")
            value = _display_phone(r[0])
        else:
            raise ValidationError("field", "Only the ID number, bank account and phones are masked")
        tx.audit("customer.reveal", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": row["number"], "field": field, "reason": masking.GENERIC.text(clean_reason)})
    return value


def _rows(s: Session | Tx | Any, ids: Sequence[int]) -> list[CustomerRow]:
    return [CustomerRow(
        id=r[0], number=r[1], name=r[2] if r[9] is None else _("(erased)"), kind=r[3],
        phone=mask_phone(r[10]) if r[10] else "", category=r[4], grade=r[5], owner=r[6] or "",
        tags=tuple(sorted(r[11].split("\x1f"))) if r[11] else (), important=bool(r[7]), owner_id=r[8],
        erased=r[9] is not None) for r in search_index.rows(_sess(s), list(ids))]


def _filters(f: SearchFilters) -> search_index.Filters:
    return search_index.Filters(category=f.category or None, grade=f.grade or None, owner_id=f.owner_id,
                                tag=(f.tag or "").strip() or None)


def search(svc: Services, actor: Actor, query: str, filters: SearchFilters = SearchFilters(),
           cursor: str | None = None, limit: int = 50) -> SearchPage:
    """One page of customers matching ``query`` (see ``domain.search_terms.parse_query``) and the
    filters; an empty query lists by newest first. ``next_cursor`` fetches the next page (None at
    the end; a last page may be empty). ``count_hint`` is exact up to 1000, else "1000+". Every
    query is an index lookup, so it is fast at any size; still, call it off the UI thread."""
    svc.require(actor, "customer.view")
    q = search_terms.parse_query(query)
    f = _filters(filters)
    with search_index.reader(svc.store.engine) as conn:  # one snapshot, no ORM session: per keystroke
        page = search_index.page(conn, q, f, cursor, limit)
        n = search_index.count(conn, q, f)
        rows = _rows(conn, page.ids)
    return SearchPage(rows, page.next_cursor, search_index.count_hint(n))


# ------------------------------------------------------------------------------------------------
# Timeline
# ------------------------------------------------------------------------------------------------

#: (session, customer_id, before (entries at or before it; None = newest), limit) -> entries.
TimelineSource = Callable[[Session, int, datetime | None, int], list[TimelineEntry]]
_TIMELINE: dict[str, TimelineSource] = {}


def register_timeline_source(name: str) -> Callable[[TimelineSource], TimelineSource]:
    """Register a source of timeline entries (follow-ups, complaints, grade changes add theirs).

    A source returns at most ``limit`` entries of one customer, newest first, none later than
    ``before``; set ``key`` with :func:`timeline_key` so paging is stable.
    """
    def deco(fn: TimelineSource) -> TimelineSource:
        _TIMELINE[name] = fn
        return fn

    return deco


def timeline_key(at: datetime, kind: str, ident: int) -> str:
    return f"{at.isoformat(sep=' ', timespec='microseconds')}|{kind}|{ident:012d}"


def timeline(svc: Services, actor: Actor, customer_id: int, *, before: str | None = None,
             limit: int = 100) -> list[TimelineEntry]:
    """Everything that happened to the customer, newest first: field changes (old -> new),
    contacts, consents, handovers and whatever later areas register. Page with
    ``before=<last entry's key>``. Needs customer.view."""
    entries, shown, number = _timeline(svc, actor, customer_id, before, limit)
    if shown:
        _audit_unmasked(svc, actor, customer_id, number, shown, "history")
    return entries


def _timeline(svc: Services, actor: Actor, customer_id: int, before: str | None,
              limit: int) -> tuple[list[TimelineEntry], list[str], str]:
    """(entries as ``actor`` may see them, the sensitive fields they show whole, the archive's number)."""
    svc.require(actor, "customer.view")
    _load_areas()
    limit = max(1, min(limit, 500))
    before_at = _dt(before.split("|", 1)[0]) if before else None
    entries: list[TimelineEntry] = []
    with svc.store.read() as s:
        row = _load_row(s, customer_id, allow_erased=True)
        for source in _TIMELINE.values():
            entries.extend(source(s, customer_id, before_at, limit + 1))
        vis = _visibility(actor, row["owner_id"], _staff_of(s, customer_id))
        known = _known_sensitive(s, customer_id, row)
    if before:
        entries = [e for e in entries if e.key < before]
    entries.sort(key=lambda e: e.key, reverse=True)
    entries, shown = _apply_policy(entries[:limit], vis, known)
    return entries, shown, str(row["number"])


def _known_sensitive(s: Session, customer_id: int, row: Mapping[str, Any]) -> dict[str, list[str]]:
    """The customer's sensitive values, present and past (history keeps the old ones)."""
    known: dict[str, list[str]] = {f_: [] for f_ in masking.SENSITIVE_FIELDS}
    for f_ in (masking.ID_NUMBER, masking.BANK_ACCOUNT):
        if row.get(f_):
            known[f_].append(str(row[f_]))
    known[masking.PHONES] += [p["national"] for p in _phones_of(s, customer_id)]
    for field, old, new in s.execute(text(
            "SELECT field, old_value, new_value FROM audit_value WHERE customer_id = :c"
            " AND field IN ('id_number', 'bank_account', 'phones')"), {"c": customer_id}):
        known[field] += [v for v in (old, new) if v]
    return known


def text_policy(s: Session | Tx, actor: Actor, customer_id: int) -> Callable[[Any], Any]:
    """How free text about one customer typed outside the archive (a complaint, feedback, a note)
    reads under ``domain.masking``: the customer's values, present and past, and anything shaped like
    an ID number, phone or account, masked for every viewer. Whole values show only in the archive's
    own audited views (its history holds these texts too); ``actor`` is for the record."""
    row = _load_row(s, customer_id, allow_erased=True)
    scrub = masking.scrubber(masking.LISTING, _known_sensitive(_sess(s), customer_id, row))
    assert scrub is not None
    return scrub.value


def _apply_policy(entries: list[TimelineEntry], vis: masking.Visibility,
                  known: Mapping[str, list[str]]) -> tuple[list[TimelineEntry], list[str]]:
    """(entries as this viewer may see them, the sensitive fields they show whole)."""
    from dataclasses import replace

    if vis.any_masked:
        scrub = masking.Scrubber({f_: v for f_, v in known.items() if vis.masked(f_)})
        return [replace(e, title=scrub.text(e.title), body=scrub.text(e.body)) for e in entries], []
    shown = []
    for f_, values in known.items():
        probe = masking.Scrubber({f_: values})
        if values and any(probe.text(e.body) != e.body or probe.text(e.title) != e.title for e in entries):
            shown.append(f_)
    return entries, shown


_EXTRA_LABELS = {"shared_reason": N_("Reason for the shared phone"), "inspection_result": N_("Inspection result"),
                 "business_stop_note": N_("Why business was stopped"),
                 "phone_inspection": N_("Closer inspection due (phone changed twice)"),
                 "business_stopped": N_("Business stopped"), "false_info": N_("False information")}


def _label(field_name: str) -> str:
    return _(FIELD_LABELS.get(field_name) or _EXTRA_LABELS.get(field_name, field_name))


def _value_text(field_name: str, v: Any) -> str:
    if v is None or v == "" or v == []:
        return "—"
    pol = load_policy()
    tables: dict[str, Mapping[str, Any]] = {
        "category": pol.categories, "industry": pol.industries, "size": pol.sizes, "source": pol.sources,
        "credit_rating": pol.credit_ratings, "risk_rating": pol.risk_ratings,
    }
    if field_name in tables and v in tables[field_name]:
        return tables[field_name][v].label
    if field_name == "gender" and v in GENDERS:
        return _(GENDERS[v])
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    if isinstance(v, list):
        return ", ".join(str(x) for x in v) or "—"
    return str(v)


_AUDIT_TITLES = {
    "customer.create": N_("Archive created"),
    "customer.update": N_("Archive changed"),
    "customer.false_info": N_("Marked as having given false information"),
    "customer.false_info_cleared": N_("False information mark lifted"),
    "customer.informed": N_("Customer told of the new contact person"),
    "customer.shared_phone_approved": N_("Shared phone approved"),
    "customer.shared_phone_signed": N_("Shared phone signed"),
    "customer.shared_phone_filed": N_("Shared phone filed with internal control"),
    "customer.shared_phone_joined": N_("Phone now shared with another customer; review due"),
    "customer.phone_inspected": N_("Closer inspection recorded (phone changed twice)"),
    "customer.business_stopped": N_("Business stopped"),
    "customer.business_resumed": N_("Business resumed"),
    "customer.erase": N_("Personal data erased"),
    "customer.consent_withdrawn": N_("Consent withdrawn"),
}


@register_timeline_source("change")
def _audit_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    actions = ",".join(f"'{a}'" for a in _AUDIT_TITLES)
    params: dict[str, Any] = {"c": customer_id, "n": limit}
    where = ""
    if before is not None:
        where = " AND at <= :b"
        params["b"] = before.isoformat(sep=" ", timespec="microseconds")
    rows = s.execute(text(
        f"SELECT id, at, actor_name, action, details FROM audit_log WHERE customer_id = :c AND action IN ({actions})"
        f"{where} ORDER BY id DESC LIMIT :n"), params).all()
    if not rows:
        return []
    ids = ",".join(str(r[0]) for r in rows)
    values: dict[int, dict[str, tuple[str | None, str | None]]] = {}
    for v in s.execute(text(f"SELECT audit_id, field, old_value, new_value FROM audit_value WHERE audit_id IN ({ids})")):
        values.setdefault(v[0], {})[v[1]] = (v[2], v[3])
    users = {r[2] for r in rows}
    display = {u: d for u, d in s.execute(text(
        "SELECT username, display_name FROM staff WHERE username IN (" + ",".join(f":u{i}" for i in range(len(users)))
        + ")"), {f"u{i}": u for i, u in enumerate(sorted(users))})} if users else {}
    out = []
    for audit_id, at, actor_name, action, details_json in rows:
        details = json.loads(details_json or "{}")
        lines = []
        for f_, (old, new) in sorted((details.get("changes") or {}).items()):
            lines.append(f"{_label(f_)}: {_value_text(f_, old)} → {_value_text(f_, new)}")
        for f_ in sorted(details.get("personal") or {}):
            if f_ in values.get(audit_id, {}):
                old, new = values[audit_id][f_]
                lines.append(f"{_label(f_)}: {_value_text(f_, old)} → {_value_text(f_, new)}")
            else:
                lines.append(f"{_label(f_)}: " + _("(value erased)"))
        if "informed" in details:
            lines.append(_("Customer informed / consented: {answer}",
                           answer=_("yes") if details["informed"] else _("no")))
        if action == "customer.erase" and details.get("reason"):
            lines.append(_("Reason: {reason}", reason=details["reason"]))
        at_ = _dt(at)
        assert at_ is not None
        out.append(TimelineEntry(at_, "change", _(_AUDIT_TITLES[action]), "\n".join(lines),
                                 display.get(actor_name, actor_name), timeline_key(at_, "change", audit_id)))
    return out


@register_timeline_source("contact")
def _contact_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    params: dict[str, Any] = {"c": customer_id, "n": limit}
    where = ""
    if before is not None:
        where = " AND k.at <= :b"
        params["b"] = before
    rows = s.execute(text(
        "SELECT k.id, k.at, k.method, k.participants, k.summary, k.feedback, k.next_action, st.display_name"
        f" FROM customer_contact k LEFT JOIN staff st ON st.id = k.staff_id WHERE k.customer_id = :c{where}"
        " ORDER BY k.at DESC, k.id DESC LIMIT :n"), params).all()
    methods = load_policy().contact_methods
    out = []
    for cid, at, method, participants, summary, feedback, next_action, staff in rows:
        lines = [summary or _("(summary erased)")]
        if participants:
            lines.append(_("Participants: {who}", who=participants))
        if feedback:
            lines.append(_("Customer feedback: {text}", text=feedback))
        if next_action:
            lines.append(_("Next action: {text}", text=next_action))
        at_ = _dt(at)
        assert at_ is not None
        title = methods[method].label if method in methods else method
        out.append(TimelineEntry(at_, "contact", title, "\n".join(lines), staff or "",
                                 timeline_key(at_, "contact", cid)))
    return out


@register_timeline_source("consent")
def _consent_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    rows = s.execute(text(
        "SELECT k.id, k.purpose, k.scope, k.method, k.given_at, k.withdrawn_at, k.recorded_at, st.display_name"
        " FROM customer_consent k LEFT JOIN staff st ON st.id = k.recorded_by_id WHERE k.customer_id = :c"
        " ORDER BY k.id DESC LIMIT :n"), {"c": customer_id, "n": limit}).all()
    methods = load_policy().consent_methods
    out = []
    for cid, purpose, scope, method, given_at, withdrawn_at, recorded_at, staff in rows:
        scope_label = _(CONSENT_SCOPES.get(scope, scope))
        how = methods[method].label if method in methods else method
        at_ = _dt(recorded_at)
        assert at_ is not None
        body = _("Purpose: {purpose}; given {date} ({how})", purpose=purpose or "—",
                 date=str(given_at)[:10], how=how)
        out.append(TimelineEntry(at_, "consent", _("Consent recorded: {scope}", scope=scope_label), body,
                                 staff or "", timeline_key(at_, "consent", cid)))
        w = _dt(withdrawn_at)
        if w is not None:
            out.append(TimelineEntry(w, "consent", _("Consent withdrawn: {scope}", scope=scope_label), "",
                                     staff or "", timeline_key(w, "consent-w", cid)))
    return [e for e in out if before is None or e.at <= before]


@register_timeline_source("handover")
def _handover_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    rows = s.execute(text(
        "SELECT h.id, h.at, a.display_name, b.display_name, h.note, by_.display_name, i.informed_at"
        " FROM customer_handover_item i JOIN customer_handover h ON h.id = i.handover_id"
        " JOIN staff a ON a.id = h.from_staff_id JOIN staff b ON b.id = h.to_staff_id"
        " LEFT JOIN staff by_ ON by_.id = h.by_id WHERE i.customer_id = :c ORDER BY h.id DESC LIMIT :n"),
        {"c": customer_id, "n": limit}).all()
    out = []
    for hid, at, a, b, note, by, informed_at in rows:
        at_ = _dt(at)
        assert at_ is not None
        body = note or ""
        if informed_at:
            body = (body + "\n" if body else "") + _("Customer told on {date}", date=str(informed_at)[:10])
        out.append(TimelineEntry(at_, "handover", _("Handed over from {old} to {new}", old=a, new=b), body,
                                 by or "", timeline_key(at_, "handover", hid)))
    return [e for e in out if before is None or e.at <= before]


# ------------------------------------------------------------------------------------------------
# Contact log and consents
# ------------------------------------------------------------------------------------------------


def add_contact(svc: Services, actor: Actor, customer_id: int, method: str, summary: str, *,
                at: datetime | None = None, participants: str = "", feedback: str = "",
                next_action: str = "") -> int:
    """Record a call, visit, letter, e-mail or WeChat exchange (R-CUST-14, R-FU-6). Needs
    customer.contact_log. ``at`` defaults to now and cannot be in the future."""
    svc.require(actor, "customer.contact_log")
    now = svc.now()
    errors: list[ValidationError] = []
    values: dict[str, Any] = {}
    for name, check in (
        ("method", lambda: choose(method, "method", load_policy().contact_methods)),
        ("summary", lambda: clean_text(summary, "summary", max_len=2000, multiline=True, required=True)),
        ("participants", lambda: clean_text(participants, "participants", max_len=200)),
        ("feedback", lambda: clean_text(feedback, "feedback", max_len=1000, multiline=True)),
        ("next_action", lambda: clean_text(next_action, "next_action", max_len=500, multiline=True)),
    ):
        try:
            values[name] = check()
        except ValidationError as e:
            errors.append(e)
    when = at or now
    if when > now + timedelta(minutes=5):
        errors.append(ValidationError("at", "The time cannot be later than now"))
    if errors:
        raise ValidationErrors(errors)
    with svc.write(actor) as tx:
        cur = _load_row(tx, customer_id)
        contact_id = int(tx.execute(
            "INSERT INTO customer_contact (customer_id, at, method, participants, summary, feedback, next_action,"
            " staff_id, created_at) VALUES (:c, :at, :m, :p, :s, :f, :n, :st, :now) RETURNING id",
            {"c": customer_id, "at": when, "m": values["method"], "p": values["participants"], "s": values["summary"],
             "f": values["feedback"], "n": values["next_action"], "st": actor.staff_id, "now": now}).scalar_one())
        tx.execute("UPDATE customer SET last_activity_at = max(last_activity_at, :now) WHERE id = :c",
                   {"now": now, "c": customer_id})
        tx.audit("customer.contact", entity="customer_contact", entity_id=contact_id, customer_id=customer_id,
                 details={"number": cur["number"], "method": values["method"]})
    return contact_id


def record_consent(svc: Services, actor: Actor, customer_id: int, consent: ConsentInput) -> int:
    """Record a consent the customer gave (R-CUST-6). Needs customer.edit."""
    svc.require(actor, "customer.edit")
    clean, errors = validate_consents([consent], svc.now().date(), prefix="consent")
    if errors:
        raise ValidationErrors(errors)
    c = clean[0]
    with svc.write(actor) as tx:
        cur = _load_row(tx, customer_id)
        consent_id = int(tx.execute(
            "INSERT INTO customer_consent (customer_id, purpose, scope, method, given_at, note, recorded_by_id,"
            " recorded_at) VALUES (:c, :p, :s, :m, :g, :n, :by, :now) RETURNING id",
            {"c": customer_id, "p": c.purpose, "s": c.scope, "m": c.method, "g": c.given_at, "n": c.note,
             "by": actor.staff_id, "now": tx.now}).scalar_one())
        tx.audit("customer.consent", entity="customer_consent", entity_id=consent_id, customer_id=customer_id,
                 details={"number": cur["number"], "scope": c.scope, "method": c.method,
                          "given_at": c.given_at.isoformat()})
    return consent_id


def withdraw_consent(svc: Services, actor: Actor, consent_id: int, *, note: str = "") -> None:
    """The customer withdraws a consent. When the last sensitive-scope consent goes, the ID number
    and bank account are deleted from the archive (R-CUST-6). Needs customer.edit."""
    svc.require(actor, "customer.edit")
    clean_note = clean_text(note, "note", max_len=500, multiline=True)
    with svc.write(actor) as tx:
        r = tx.execute("SELECT customer_id, scope, withdrawn_at FROM customer_consent WHERE id = :i",
                       {"i": consent_id}).first()
        if r is None:
            raise NotFound("No such consent.")
        if r[2] is not None:
            raise Conflict("This consent was already withdrawn.")
        customer_id, scope = int(r[0]), str(r[1])
        cur = _load_row(tx, customer_id)
        tx.execute("UPDATE customer_consent SET withdrawn_at = :now WHERE id = :i", {"now": tx.now, "i": consent_id})
        personal = []
        if scope == "sensitive" and not _has_sensitive_consent(tx, customer_id) and needs_sensitive_consent(cur):
            personal = [PersonalChange(f_, cur[f_], None) for f_ in _SENSITIVE if cur[f_]]
            tx.execute("UPDATE customer SET id_number = NULL, bank_account = NULL, version = version + 1,"
                       " updated_at = :now, updated_by_id = :by WHERE id = :c",
                       {"now": tx.now, "by": actor.staff_id, "c": customer_id})
            phones = [p["national"] for p in _phones_of(tx, customer_id)]
            search_index.replace_terms(tx.session, customer_id, _terms(cur, phones),
                                       _terms({**cur, "id_number": None}, phones))
        tx.audit("customer.consent_withdrawn", entity="customer_consent", entity_id=consent_id,
                 customer_id=customer_id, details={"number": cur["number"], "scope": scope,
                                                   "note_given": bool(clean_note)}, personal=personal)


# ------------------------------------------------------------------------------------------------
# Watch lists (R-CUST-7, -8, -9, -10)
# ------------------------------------------------------------------------------------------------


def _watch_cursor(cursor: str | None, mode: str) -> tuple[str | None, int] | None:
    return search_index.decode_cursor(cursor, mode)


def _keyset(s: Session, sql: str, params: dict[str, Any], cursor: str | None, mode: str, limit: int,
            key_col: str, id_col: str) -> tuple[list[tuple[Any, ...]], str | None]:
    """Rows ordered by (key_col, id_col) after the cursor; the SELECT's first two columns are the key and id."""
    limit = max(1, min(limit, 500))
    after = _watch_cursor(cursor, mode)
    if after is not None:
        sql += f" AND ({key_col}, {id_col}) > (:_k, :_i)"
        params = {**params, "_k": after[0], "_i": after[1]}
    rows = s.execute(text(f"{sql} ORDER BY {key_col}, {id_col} LIMIT :_n"), {**params, "_n": limit + 1}).all()
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = search_index.encode_cursor(mode, str(rows[-1][0]), int(rows[-1][1])) if more and rows else None
    return rows, nxt


def watch_phone_changes(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> WatchPage:
    """R-CUST-8: customers whose phone changed twice within the policy window (30 days) and whose
    closer inspection is not recorded yet. The flag does not lapse: only an inspection
    (``customer_rules.record_phone_inspection``) takes a customer off this list."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        rows, nxt = _keyset(s, "SELECT c.phone_inspection_since, c.id, c.phone_changed_prev_at, c.phone_changed_at"
                            " FROM customer c WHERE c.phone_inspection_since IS NOT NULL AND c.erased_at IS NULL",
                            {}, cursor, "w8", limit, "c.phone_inspection_since", "c.id")
        crow = {r.id: r for r in _rows(s, [r[1] for r in rows])}
    return WatchPage([WatchRow(crow[r[1]], _("Phone changed on {first} and {second}; closer inspection due",
                                             first=str(r[2] or "")[:10], second=str(r[3] or "")[:10]), _dt(r[0]))
                      for r in rows if r[1] in crow], nxt)


def watch_past_deadline(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> WatchPage:
    """R-CUST-9: archives with required fields still empty after their maintenance deadline."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        rows, nxt = _keyset(s, "SELECT c.incomplete_due, c.id, c.missing_fields FROM customer c"
                            " WHERE c.incomplete_due IS NOT NULL AND c.incomplete_due < :now",
                            {"now": svc.now().isoformat(sep=" ", timespec="microseconds")}, cursor, "w9", limit,
                            "c.incomplete_due", "c.id")
        crow = {r.id: r for r in _rows(s, [r[1] for r in rows])}
    out = []
    for due, cid, missing in rows:
        if cid not in crow:
            continue
        fields_ = [f_ for fs in json.loads(missing or "{}").values() for f_ in fs]
        out.append(WatchRow(crow[cid], _("Missing: {fields}", fields=", ".join(_label(f_) for f_ in fields_)), _dt(due)))
    return WatchPage(out, nxt)


#: R-CUST-7: a shared phone awaits signatures when it was never approved or its review is due.
_SHARED_DUE = ("ph.shared_reason IS NOT NULL AND (ph.shared_approved_at IS NULL OR ph.shared_review_due <= :today)")


def watch_shared_phones(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> WatchPage:
    """R-CUST-7: phones shared between customers (every customer holding the number, the first
    holder too), awaiting the two signatures (section chief, deputy manager) of their first
    approval or periodic review. ``WatchRow.phone_id`` goes to :func:`approve_shared_phone`."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        rows, nxt = _keyset(s, "SELECT ph.shared_review_due, ph.id, ph.customer_id, ph.shared_reason,"
                            " ph.shared_chief_at, ph.shared_deputy_at FROM customer_phone ph WHERE " + _SHARED_DUE,
                            {"today": svc.now().date().isoformat()}, cursor, "w7", limit,
                            "ph.shared_review_due", "ph.id")
        crow = {r.id: r for r in _rows(s, [r[2] for r in rows])}

    def signed(chief: Any, deputy: Any) -> str:
        have = [_("section chief") if chief else "", _("deputy manager") if deputy else ""]
        return _("signed by: {who}", who="、".join(h for h in have if h)) if any(have) else _("no signature yet")

    return WatchPage([WatchRow(crow[r[2]], _("Reason: {reason}", reason=r[3]) + " · " + signed(r[4], r[5]),
                               _d(r[0]), int(r[1])) for r in rows if r[2] in crow], nxt)


# Important customers with fewer than two ACTIVE staff in contact, owner included (a disabled account
# is nobody's contact, R-CUST-10). INDEXED BY: the planner, without statistics, once met
# "erased_at IS NULL" with another partial index and scanned every customer.
_ACTIVE_CONTACTS = ("((SELECT count(*) FROM staff o WHERE o.id = c.owner_id AND o.active = 1) + (SELECT count(*)"
                    " FROM customer_staff cs JOIN staff st ON st.id = cs.staff_id WHERE cs.customer_id = c.id"
                    " AND cs.staff_id IS NOT c.owner_id AND st.active = 1))")
_UNDERSTAFFED = ("INDEXED BY ix_customer_important WHERE c.important = 1 AND c.erased_at IS NULL AND "
                 + _ACTIVE_CONTACTS + " < 2")


def watch_understaffed(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> WatchPage:
    """R-CUST-10: important customers with fewer than two active staff in contact (owner included;
    disabled accounts do not count)."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        rows, nxt = _keyset(s, f"SELECT c.id, c.id FROM customer c {_UNDERSTAFFED}", {}, cursor, "w10", limit, "c.id", "c.id")
        crow = {r.id: r for r in _rows(s, [r[1] for r in rows])}
    return WatchPage([WatchRow(crow[r[1]], _("Fewer than two active staff in contact")) for r in rows if r[1] in crow],
                     nxt)


def approve_shared_phone(svc: Services, actor: Actor, phone_id: int, note: str = "") -> str:
    """Sign a shared phone awaiting approval or review (R-CUST-7): the section chief's signature
    (customer.shared_phone_chief) and the deputy manager's (customer.shared_phone_deputy), two
    different people, in either order. With both, the phone is approved until the next review
    (policy interval) and awaits filing with internal control (customer_rules.file_shared_phone).
    Needs customer.review_shared_phone. Returns "chief" or "deputy" (the signature given)."""
    svc.require(actor, "customer.review_shared_phone")
    clean_note = clean_text(note, "note", max_len=500, multiline=True)
    with svc.write(actor) as tx:
        r = tx.execute("SELECT ph.customer_id, c.number, ph.shared_chief_id, ph.shared_chief_at, ph.shared_deputy_id,"
                       " ph.shared_deputy_at FROM customer_phone ph JOIN customer c ON c.id = ph.customer_id"
                       " WHERE ph.id = :i AND " + _SHARED_DUE, {"i": phone_id, "today": tx.now.date()}).first()
        if r is None:
            raise NotFound("No shared phone awaiting review.")
        customer_id, number, chief_id, chief_at, deputy_id, deputy_at = r
        if chief_at and deputy_at:  # the last review was complete: this signature opens a new one
            chief_id = chief_at = deputy_id = deputy_at = None
        me = actor.staff_id
        if actor.can("customer.shared_phone_chief") and chief_at is None and deputy_id != me:
            slot = "chief"
        elif actor.can("customer.shared_phone_deputy") and deputy_at is None and chief_id != me:
            slot = "deputy"
        elif chief_id == me or deputy_id == me:
            raise Conflict("You have signed this shared phone already; the other signature must come from someone else.")
        else:
            raise PermissionDenied("The signatures still missing are not yours to give (section chief and deputy manager).")
        sets = {"chief": (me, tx.now) if slot == "chief" else (chief_id, chief_at),
                "deputy": (me, tx.now) if slot == "deputy" else (deputy_id, deputy_at)}
        complete = all(v[1] is not None for v in sets.values())
        due = tx.now.date() + timedelta(days=load_policy().shared_phone_review_days) if complete else None
        tx.execute("UPDATE customer_phone SET shared_chief_id = :ci, shared_chief_at = :ca, shared_deputy_id = :di,"
                   " shared_deputy_at = :da" + (", shared_approved_by_id = :by, shared_approved_at = :now,"
                                                " shared_review_due = :due, shared_filed_by_id = NULL,"
                                                " shared_filed_at = NULL" if complete else "") + " WHERE id = :i",
                   {"ci": sets["chief"][0], "ca": sets["chief"][1], "di": sets["deputy"][0], "da": sets["deputy"][1],
                    "by": me, "now": tx.now, "due": due, "i": phone_id})
        tx.audit("customer.shared_phone_approved" if complete else "customer.shared_phone_signed",
                 entity="customer_phone", entity_id=phone_id, customer_id=int(customer_id),
                 details={"number": number, "signature": slot, "note": clean_note,
                          **({"next_review": due.isoformat()} if due else {})})
    return slot


@register_item
def _customer_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    if not actor.can("customer.view"):
        return []
    now = svc.now()

    def one(sql: str, **params: Any) -> int:
        return int(s.execute(text(sql), params).scalar_one())

    changed = one("SELECT count(*) FROM customer WHERE phone_inspection_since IS NOT NULL AND erased_at IS NULL")
    late = one("SELECT count(*) FROM customer WHERE incomplete_due IS NOT NULL AND incomplete_due < :n",
               n=now.isoformat(sep=" ", timespec="microseconds"))
    shared = one("SELECT count(*) FROM customer_phone ph WHERE " + _SHARED_DUE, today=now.date().isoformat())
    thin = one(f"SELECT count(*) FROM customer c {_UNDERSTAFFED}" + pending.hide(s, "c.id"))
    items = [
        WorkItem("customer.phone_changes", N_("Customers whose phone changed twice in 30 days"), changed,
                 "open('customers')", bool(changed)),
        WorkItem("customer.past_deadline", N_("Incomplete archives past their deadline"), late, "open('customers')"),
        WorkItem("customer.shared_phones", N_("Shared phones awaiting review"), shared, "open('customers')",
                 bool(shared) and actor.can("customer.review_shared_phone")),
        WorkItem("customer.understaffed", N_("Important customers with fewer than two staff in contact"), thin,
                 "open('customers')"),
    ]
    if actor.staff_id is not None:
        tell = one("SELECT count(*) FROM customer WHERE needs_informing = 1 AND owner_id = :me", me=actor.staff_id)
        if tell:
            items.append(WorkItem("customer.tell_new_contact", N_("Handed-over customers to tell about their new contact"),
                                  tell, "open('customers')", True))
    return items


# ------------------------------------------------------------------------------------------------
# Handover (R-CUST-11)
# ------------------------------------------------------------------------------------------------


def handover(svc: Services, actor: Actor, from_staff: str, to_staff: str, customer_ids: Sequence[int] | None,
             note: str) -> int:
    """Move all (``customer_ids`` None) or the chosen customers of ``from_staff`` to ``to_staff``
    (user names) in one transaction, with a handover record; the moved customers are marked
    "tell the customer their new contact". Returns the handover id. Needs customer.handover."""
    svc.require(actor, "customer.handover")
    errors: list[ValidationError] = []
    try:
        clean_note = clean_text(note, "note", max_len=500, multiline=True)
    except ValidationError as e:
        errors.append(e)
        clean_note = None
    with svc.write(actor) as tx:
        ids: dict[str, tuple[int, str]] = {}
        for fld, token in (("from_staff", from_staff), ("to_staff", to_staff)):
            r = tx.execute("SELECT id, display_name, active FROM staff WHERE username = :u", {"u": (token or "").strip()}).first()
            if r is None:
                errors.append(ValidationError(fld, "Unknown staff member '{name}'", name=token))
            elif fld == "to_staff" and not r[2]:
                errors.append(ValidationError(fld, "{name}'s account is disabled; choose an active colleague", name=r[1]))
            else:
                ids[fld] = (int(r[0]), str(r[1]))
        if len(ids) == 2 and ids["from_staff"][0] == ids["to_staff"][0]:
            errors.append(ValidationError("to_staff", "Hand over to someone else"))
        if errors:
            raise ValidationErrors(errors)
        src, dst = ids["from_staff"][0], ids["to_staff"][0]
        if customer_ids is None:
            chosen = [r[0] for r in tx.execute("SELECT id FROM customer WHERE owner_id = :s AND erased_at IS NULL"
                                               + pending.hide(tx.session, "id") + " ORDER BY id",
                                               {"s": src})]
        else:
            chosen = sorted(set(int(i) for i in customer_ids))
            if chosen:
                owned = {r[0] for r in tx.execute(
                    f"SELECT id FROM customer WHERE owner_id = :s AND erased_at IS NULL AND id IN ({','.join(map(str, chosen))})",
                    {"s": src})}
                foreign = [i for i in chosen if i not in owned]
                if foreign:
                    raise Conflict("{count} of the chosen customers are not {name}'s; reload the list.",
                                   count=len(foreign), name=ids["from_staff"][1])
        if not chosen:
            raise Conflict("{name} has no customers to hand over.", name=ids["from_staff"][1])
        hid = handover_in(tx, src, dst, chosen, clean_note, from_staff=from_staff, to_staff=to_staff,
                          all_=customer_ids is None)
    return hid


def handover_in(tx: Tx, src: int, dst: int, chosen: Sequence[int], clean_note: str | None, *, from_staff: str,
                to_staff: str, all_: bool) -> int:
    """The move itself, inside the caller's transaction (used by :func:`handover` and by disabling a
    leaver's account, services.staff): a handover record, the customers marked "tell the customer
    their new contact", audited. The caller has checked permission and the customers."""
    hid = int(tx.execute("INSERT INTO customer_handover (at, from_staff_id, to_staff_id, note, count, by_id)"
                         " VALUES (:now, :a, :b, :n, :k, :by) RETURNING id",
                         {"now": tx.now, "a": src, "b": dst, "n": clean_note, "k": len(chosen),
                          "by": tx.actor.staff_id}).scalar_one())
    chosen = list(chosen)
    for i in range(0, len(chosen), 500):
        part = ",".join(map(str, chosen[i:i + 500]))
        tx.execute(f"UPDATE customer SET owner_id = :b, needs_informing = 1, version = version + 1,"
                   f" updated_at = :now, updated_by_id = :by WHERE id IN ({part})",
                   {"b": dst, "now": tx.now, "by": tx.actor.staff_id})
        tx.execute(f"DELETE FROM customer_staff WHERE staff_id = :b AND customer_id IN ({part})", {"b": dst})
    tx.session.execute(text("INSERT INTO customer_handover_item (handover_id, customer_id) VALUES (:h, :c)"),
                       [{"h": hid, "c": c} for c in chosen])
    tx.audit("customer.handover", entity="customer_handover", entity_id=hid,
             details={"from": from_staff, "to": to_staff, "count": len(chosen), "customer_ids": chosen,
                      "all": all_, "note": clean_note})
    return hid


def mark_informed(svc: Services, actor: Actor, customer_id: int, *, note: str = "", method: str = "") -> None:
    """The customer was told of their new contact person after a handover: who (the actor), when
    (now) and how (``method``: phone, visit, letter ...). Needs customer.edit."""
    svc.require(actor, "customer.edit")
    clean_note = clean_text(note, "note", max_len=500, multiline=True)
    clean_method = clean_text(method, "method", max_len=40) or None
    with svc.write(actor) as tx:
        cur = _load_row(tx, customer_id)
        if not cur["needs_informing"]:
            raise Conflict("This customer has nothing to be told.")
        tx.execute("UPDATE customer SET needs_informing = 0, updated_at = :now, updated_by_id = :by,"
                   " version = version + 1 WHERE id = :c", {"now": tx.now, "by": actor.staff_id, "c": customer_id})
        tx.execute("UPDATE customer_handover_item SET informed_at = :now, informed_by_id = :by, informed_method = :m"
                   " WHERE customer_id = :c AND informed_at IS NULL",
                   {"now": tx.now, "c": customer_id, "by": actor.staff_id, "m": clean_method})
        tx.audit("customer.informed", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": cur["number"], "changes": {"needs_informing": [True, False]}},
                 personal=[PersonalChange("inform_note", None, clean_note)] if clean_note else ())


# ------------------------------------------------------------------------------------------------
# Customer rights (R-CUST-13) and the list export (R-CUST-12)
# ------------------------------------------------------------------------------------------------


def _full_record(s: Session, customer_id: int, actor: Actor) -> tuple[dict[str, Any], list[str]]:
    """(the customer's data as ``actor`` may see it, the sensitive fields it holds whole)."""
    row = _load_row(s, customer_id)
    vis = _visibility(actor, row["owner_id"], _staff_of(s, customer_id))
    names = _staff_names(s, [row["owner_id"], *_staff_of(s, customer_id)])
    archive = {f_: _plain(row.get(f_)) for f_ in fields_of(row["kind"])
               if f_ not in ("owner", "staff_contacts", "tags")}
    archive.update(number=row["number"], kind=row["kind"], grade=row["grade"], owner=names.get(row["owner_id"]),
                   staff_contacts=[names.get(i) for i in _staff_of(s, customer_id)], tags=_tags_of(s, customer_id),
                   false_info=row["false_info"], false_info_note=row["false_info_note"],
                   business_stopped=row["business_stopped"], created_at=_plain(_dt(row["created_at"])),
                   updated_at=_plain(_dt(row["updated_at"])))
    for f_ in (masking.ID_NUMBER, masking.BANK_ACCOUNT):
        if archive.get(f_) and vis.masked(f_):
            archive[f_] = masking.mask(f_, archive[f_])
    phones = [{"number": mask_phone(p["national"]) if vis.masked(masking.PHONES) else _display_phone(p["national"]),
               "kind": p["kind"], "label": p["label"], "primary": bool(p["is_primary"]),
               "shared_reason": p["shared_reason"]} for p in _phones_of(s, customer_id)]
    consents = [dict(zip(("purpose", "scope", "method", "given_at", "withdrawn_at"), (r[0], r[1], r[2], str(r[3]),
                                                                                    r[4] and str(r[4]))))
                for r in s.execute(text("SELECT purpose, scope, method, given_at, withdrawn_at FROM customer_consent"
                                        " WHERE customer_id = :c ORDER BY id"), {"c": customer_id})]
    contacts = [dict(zip(("at", "method", "participants", "summary", "feedback", "next_action"),
                         (str(r[0]), *r[1:])))
                for r in s.execute(text("SELECT at, method, participants, summary, feedback, next_action"
                                        " FROM customer_contact WHERE customer_id = :c ORDER BY at, id"),
                                   {"c": customer_id})]
    history: list[TimelineEntry] = []
    for source in _TIMELINE.values():
        history.extend(source(s, customer_id, None, 100_000))
    history.sort(key=lambda e: e.key)
    known = _known_sensitive(s, customer_id, row)
    history, _shown = _apply_policy(history, vis, known)
    if vis.any_masked:
        scrub = masking.Scrubber({f_: v for f_, v in known.items() if vis.masked(f_)})
        contacts = [scrub.value(c) for c in contacts]
    shown = [f_ for f_ in vis.whole if known.get(f_)]
    return {"archive": archive, "phones": phones, "consents": consents, "contacts": contacts,
            "history": [{"at": _plain(e.at), "kind": e.kind, "title": e.title, "body": e.body, "staff": e.staff}
                        for e in history]}, shown


def export_customer(svc: Services, actor: Actor, customer_id: int, path: str | Path, fmt: str = "json") -> Path:
    """Write one customer's complete data (archive, phones, consents, contacts, history) to
    ``path`` as JSON or XLSX (0600), for the customer's right to see their data. Needs
    customer.export_one; audited (with the sensitive fields written whole). The masking policy
    holds here too: values the exporter may not see by default are masked, in the history too."""
    svc.require(actor, "customer.export_one", customer=customer_id)
    if fmt not in ("json", "xlsx"):
        raise ValidationError("fmt", "Choose one of: {options}", options="json, xlsx")
    target = Path(path)
    with svc.store.read() as s:
        record, shown = _full_record(s, customer_id, actor)
    if fmt == "json":
        with private_file(target, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False, indent=2, default=str))
    else:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = _("Archive")[:31]
        for k, v in record["archive"].items():
            ws.append([_label(k) if k in FIELD_LABELS else k, _value_text(k, v)])
        for title, key in ((_("Phones"), "phones"), (_("Consents"), "consents"), (_("Contacts"), "contacts"),
                           (_("History"), "history")):
            sheet = wb.create_sheet(title[:31])
            items = record[key]
            if items:
                cols = list(items[0])
                sheet.append(cols)
                for it in items:
                    sheet.append([_value_text(c, it[c]) if not isinstance(it[c], str) else it[c] for c in cols])
        with private_file(target) as fh:
            wb.save(fh)
    with svc.write(actor) as tx:
        tx.audit("customer.export_one", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": record["archive"]["number"], "format": fmt, "unmasked": sorted(shown)})
    return target


#: Other areas' personal texts about a customer (complaints, feedback, ...), destroyed with the archive:
#: (tx, customer_id) -> names of what was cleared. Areas register with :func:`register_erase_hook`.
EraseHook = Callable[[Tx, int], list[str]]
_ERASE_HOOKS: dict[str, EraseHook] = {}


def _load_areas() -> None:
    from crm_tui.services.home import load_areas

    load_areas()


def register_erase_hook(name: str) -> Callable[[EraseHook], EraseHook]:
    def deco(fn: EraseHook) -> EraseHook:
        _ERASE_HOOKS[name] = fn
        return fn

    return deco


def erase_customer(svc: Services, actor: Actor, customer_id: int, reason: str, *,
                   approval_id: int | None = None) -> None:
    """Destroy the customer's personal data (R-CUST-13): personal fields emptied, phones deleted,
    consent purposes and contact-log texts removed, the personal values in the audit trail and the
    search terms purged; the number, classification and counts stay for statistics, and the audit
    chain still verifies. Needs customer.erase and, when the setting asks for it, an approved
    request (``approval_id``, R-SEC-2). Do not write the customer's name in ``reason``.
    Every connection has ``secure_delete`` on, and the WAL is checkpointed (TRUNCATE) afterwards;
    the customer number goes into the erasure ledger, re-applied after any restore."""
    from crm_tui.services import approvals, erasure

    svc.require(actor, "customer.erase", customer=customer_id)
    clean_reason = clean_text(reason, "reason", max_len=500, required=True)
    _load_areas()
    with svc.write(actor) as tx:
        number = str(_load_row(tx, customer_id)["number"])
        approvals.use(tx, svc, "customer.erase", approval_id, number)
        erase_in(tx, customer_id, clean_reason)
        erasure.record(tx, number)
    erasure.after_erase(svc, {number: tx.now})


def erase_in(tx: Tx, customer_id: int, clean_reason: str, *, action: str = "customer.erase") -> str:
    """The erasure itself, inside the caller's transaction (also used to re-apply the erasure
    ledger after a restore, services.erasure). Returns the customer number."""
    _load_areas()
    cur = _load_row(tx, customer_id)
    phones = [p["national"] for p in _phones_of(tx, customer_id)]
    search_index.remove_terms(tx.session, customer_id, _terms(cur, phones))
    cleared = sorted(f_ for f_ in PERSONAL_FIELDS if f_ != "phones" and cur.get(f_)) + (["phones"] if phones else [])
    nulls = ", ".join(f"{f_} = NULL" for f_ in sorted(PERSONAL_FIELDS) if f_ not in ("phones", "name"))
    tx.execute(f"UPDATE customer SET name = '', {nulls}, uscc = NULL, search_name = NULL, search_pinyin = NULL,"
               " missing_fields = NULL, incomplete_due = NULL, phone_changed_at = NULL, phone_changed_prev_at = NULL,"
               " needs_informing = 0, erased_at = :now, updated_at = :now, updated_by_id = :by,"
               " version = version + 1 WHERE id = :c", {"now": tx.now, "by": tx.actor.staff_id, "c": customer_id})
    tx.execute("DELETE FROM customer_phone WHERE customer_id = :c", {"c": customer_id})
    _unshare_lonely(tx, phones)
    tx.execute("UPDATE customer SET phone_inspection_since = NULL, business_stop_note = NULL WHERE id = :c",
               {"c": customer_id})
    tx.execute("UPDATE customer_phone_inspection SET result = NULL WHERE customer_id = :c", {"c": customer_id})
    tx.execute("UPDATE customer_contact_task SET done_at = :now WHERE customer_id = :c AND done_at IS NULL",
               {"now": tx.now, "c": customer_id})
    tx.execute("DELETE FROM customer_tag WHERE customer_id = :c", {"c": customer_id})
    tx.execute("UPDATE customer_consent SET purpose = NULL, note = NULL WHERE customer_id = :c", {"c": customer_id})
    tx.execute("UPDATE customer_contact SET participants = NULL, summary = NULL, feedback = NULL,"
               " next_action = NULL WHERE customer_id = :c", {"c": customer_id})
    tx.execute("DELETE FROM audit_value WHERE customer_id = :c", {"c": customer_id})
    for hook in _ERASE_HOOKS.values():
        cleared += hook(tx, customer_id)
    tx.audit(action, entity="customer", entity_id=customer_id, customer_id=customer_id,
             details={"number": cur["number"], "reason": clean_reason, "fields": cleared})
    return str(cur["number"])


def vacuum(svc: Services, actor: Actor) -> None:
    """Rewrite the database file so erased data leaves no trace in free pages or the WAL.
    Takes a while on a large file and blocks other writers meanwhile. Needs customer.erase."""
    svc.require(actor, "customer.erase")
    raw = svc.store.engine.raw_connection()
    try:
        conn = raw.driver_connection
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    with svc.write(actor) as tx:
        tx.audit("database.vacuum")


def past_retention(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> WatchPage:
    """Archives with no activity for the policy's retention period, to be erased (R-CUST-13).
    Needs customer.erase."""
    svc.require(actor, "customer.erase")
    years = load_policy().retention_years
    now = svc.now()
    try:
        cutoff = now.replace(year=now.year - years)
    except ValueError:  # 29 February
        cutoff = now.replace(year=now.year - years, day=28)
    with svc.store.read() as s:
        rows, nxt = _keyset(s, "SELECT c.last_activity_at, c.id FROM customer c WHERE c.erased_at IS NULL"
                            " AND c.last_activity_at < :cut", {"cut": cutoff.isoformat(sep=" ", timespec="microseconds")},
                            cursor, "wr", limit, "c.last_activity_at", "c.id")
        crow = {r.id: r for r in _rows(s, [r[1] for r in rows])}
    return WatchPage([WatchRow(crow[r[1]], _("Last activity {date}", date=str(r[0])[:10]), _dt(r[0]))
                      for r in rows if r[1] in crow], nxt)


_LIST_COLUMNS = (("number", N_("Customer number")), ("name", N_("Name")), ("kind", N_("Type")),
                 ("category", N_("Category")), ("grade", N_("Grade")), ("owner", N_("Responsible staff")),
                 ("phone", N_("Phone")), ("tags", N_("Tags")), ("important", N_("Important customer")))


_LIST_WIDTHS = {"number": 16, "name": 24, "phone": 15, "owner": 10, "tags": 24, "category": 10}


def export_list(svc: Services, actor: Actor, query: str, filters: SearchFilters, path: str | Path,
                fmt: str = "xlsx", *, approval_id: int | None = None) -> int:
    """The customer list (客户一览表, R-CUST-12) for the query and filters, as XLSX or CSV (UTF-8
    with BOM for Excel). Phones are masked. Needs customer.export and, when the setting asks for
    it, an approved request (``approval_id``, used up before the file is written; R-SEC-2);
    audited with the row count. Returns the number of rows written."""
    from crm_tui.services import approvals

    svc.require(actor, "customer.export")
    if fmt not in ("xlsx", "csv"):
        raise ValidationError("fmt", "Choose one of: {options}", options="xlsx, csv")
    if approvals.required(svc, "customer.export"):
        with svc.write(actor) as tx:
            approvals.use(tx, svc, "customer.export", approval_id)
    q = search_terms.parse_query(query)
    f = _filters(filters)
    target = Path(path)
    pol = load_policy()
    header = [_(label) for _k, label in _LIST_COLUMNS]

    def cells(r: CustomerRow) -> list[Any]:
        cat = pol.categories[r.category].label if r.category in pol.categories else (r.category or "")
        return [r.number, r.name, _(KINDS.get(r.kind, r.kind)), cat, r.grade or "", r.owner, r.phone,
                " ".join(r.tags), _("yes") if r.important else ""]

    seen: set[int] = set()

    def all_rows() -> Iterable[list[Any]]:
        cursor = None
        with svc.store.read() as s:
            while True:
                page = search_index.page(s, q, f, cursor, 500)
                fresh = [i for i in page.ids if i not in seen]
                seen.update(fresh)
                for r in _rows(s, fresh):
                    yield cells(r)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor

    count = 0
    if fmt == "csv":
        with private_file(target, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for line in all_rows():
                w.writerow(line)
                count += 1
    else:
        from openpyxl import Workbook

        from openpyxl.utils import get_column_letter
        from rich.cells import cell_len

        wb = Workbook(write_only=True)
        ws = wb.create_sheet(_("Customer list")[:31])
        ws.freeze_panes = "A2"  # the header row stays when scrolling
        for i, (key, title) in enumerate(zip((k for k, _l in _LIST_COLUMNS), header), start=1):
            # set before the rows (a write-only sheet streams them): the header or the column's usual content
            ws.column_dimensions[get_column_letter(i)].width = max(cell_len(title) + 2, _LIST_WIDTHS.get(key, 8))
        ws.append(header)
        for line in all_rows():
            ws.append(line)
            count += 1
        with private_file(target) as fh:
            wb.save(fh)
    with svc.write(actor) as tx:
        tx.audit("customer.export", details={"format": fmt, "rows": count, "query_kinds": q.kinds(),
                                             "filters": {k: v for k, v in asdict(filters).items() if v is not None}})
    return count

