"""What the customer-archive use cases share: permission labels, columns, the archive's row
and its parts, visibility, completeness and search terms."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crm_tui.domain import masking, search_terms
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.customers import (
    CustomerPolicy,
    Rating,
    fields_of,
    load_policy,
    maintenance_due,
    missing_fields,
)
from crm_tui.domain.errors import NotFound, ValidationError
from crm_tui.domain.validation import normalise_phone
from crm_tui.i18n import N_
from crm_tui.services import holidays
from crm_tui.services.context import PERMISSION_LABELS, Actor, Services, Tx
from crm_tui.store.audit import PersonalChange
from crm_tui.store.queries import customers as q
from crm_tui.store.queries import customers_history as qh

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
_CUSTOMER_COLS = q.CUSTOMER_COLS
#: Plain columns a form writes directly (owner, staff contacts, tags and phones are handled apart).
_WRITABLE = tuple(f for f in (*fields_of("person"), *fields_of("org"))
                  if f not in ("owner", "staff_contacts", "tags", "important")) + ("important",)
_WRITABLE = tuple(dict.fromkeys(_WRITABLE))
_SENSITIVE = ("id_number", "bank_account")


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
    r = q.customer_row(_sess(s), customer_id)
    if r is None or (r["erased_at"] is not None and not allow_erased):
        raise NotFound("No customer archive #{id}.", id=customer_id)
    row = r
    for b in _BOOL_COLS:
        row[b] = bool(row[b])
    return row


def _phones_of(s: Session | Tx, customer_id: int) -> list[q.PhoneRecord]:
    return q.phones(_sess(s), customer_id)


def _tags_of(s: Session | Tx, customer_id: int) -> list[str]:
    return q.tags(_sess(s), customer_id)


def _staff_of(s: Session | Tx, customer_id: int) -> list[int]:
    return q.staff_contacts(_sess(s), customer_id)


def _staff_names(s: Session | Tx, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return q.staff_names(_sess(s), wanted)


def _has_sensitive_consent(tx: Tx, customer_id: int) -> bool:
    return q.sensitive_consent(tx.session, customer_id)


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
    rows = q.other_holders(tx.session, national, customer_id)
    joined = q.customer_number(tx.session, customer_id)
    for pid, cid, old_reason, number in rows:
        q.share_with_holder(tx.session, pid, reason, tx.now.date())
        tx.audit("customer.shared_phone_joined", entity="customer_phone", entity_id=pid, customer_id=int(cid),
                 details={"number": number, "shared_with": joined},
                 personal=[] if old_reason else [PersonalChange("shared_reason", None, reason)])


def _unshare_lonely(tx: Tx, nationals: Iterable[str]) -> None:
    """A number left on one customer is no longer shared: its reason and review go."""
    for n in nationals:
        rows = q.shared_phone_ids(tx.session, n)
        if len(rows) == 1:
            q.unshare_phone(tx.session, rows[0])


def _rating(table: Mapping[str, Rating], code: str | None) -> Rating | None:
    return table.get(code) if code else None


def _visibility(actor: Actor, owner_id: int | None, contact_ids: Iterable[int]) -> masking.Visibility:
    rel = masking.relation((actor.staff_id, actor.on_behalf_of), owner_id, contact_ids)
    return masking.visibility(actor.permissions, rel)


def _display_phone(national: str) -> str:
    try:
        return normalise_phone(national).display
    except ValidationError:
        return national


def _load_areas() -> None:
    from crm_tui.services.home import load_areas

    load_areas()


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
        last = qh.last_audit(tx.session, actor.staff_id)
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
