"""Reading an archive: the masking policy, audited unmasked views and reveals (R-SEC-3)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from crm_tui.domain import masking
from crm_tui.domain.customers import (
    fields_of,
    load_policy,
    mask_phone,
)
from crm_tui.domain.errors import NotFound, ValidationError
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import _
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.customers.common import (
    _SENSITIVE,
    _audit_unmasked,
    _d,
    _display_phone,
    _dt,
    _load_row,
    _phones_of,
    _rating,
    _staff_names,
    _staff_of,
    _tags_of,
    _visibility,
)
from crm_tui.services.customers.history import _timeline
from crm_tui.services.customers.model import ConsentView, CustomerView, PhoneView, TimelineEntry
from crm_tui.store.queries import customers as q


def visibility_of(svc: Services, actor: Actor, customer_id: int) -> masking.Visibility:
    """What ``actor`` sees whole of this customer by default (domain.masking)."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        r = q.customer_owner(s, customer_id)
        if r is None:
            raise NotFound("No customer archive #{id}.", id=customer_id)
        return _visibility(actor, r[0], _staff_of(s, customer_id))


def customer_id_by_number(svc: Services, actor: Actor, number: str) -> int:
    """The archive id of a customer number (the CLI's way in). Needs customer.view."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        r = q.customer_id_by_number(s, (number or "").strip())
    if r is None:
        raise NotFound("No customer numbered {number}.", number=number)
    return r


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
        consents = q.consent_rows(s, customer_id)
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
            national = q.phone_national(tx.session, customer_id, int(field[6:]))
            if national is None:
                raise NotFound("No such phone.")
            value = _display_phone(national)
        else:
            raise ValidationError("field", "Only the ID number, bank account and phones are masked")
        tx.audit("customer.reveal", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": row["number"], "field": field, "reason": masking.GENERIC.text(clean_reason)})
    return value
