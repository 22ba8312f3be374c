"""The front desk's use cases beyond the register (issue 21): a caller's new phone number, and a
register line's linked archive.

A caller's new phone (R-CUST-5, R-CUST-8). The front desk sees phones masked and cannot edit them
in the archive form; it records the new number here, replacing one of the archive's phones (chosen
by its masked form) or as another phone. ``data/roles.toml`` (``phone_change``) decides per role:

- ``direct``: the change is saved at once;
- ``owner_confirms``: a request waits until the customer's responsible staff member (or the
  colleague covering for them, A/B post) confirms or rejects it.

Either way the change itself goes through ``customers.update_customer``, the path of every phone
change: the archive's history and audit row (old -> new), the twice-in-a-month flag (R-CUST-8),
the shared-phone check (R-CUST-7) and the search terms. The request and the decision are audited
too. The responsible staff member (or anyone who would anyway) edits the phones in the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crm_tui.domain import masking, roles
from crm_tui.domain.customers import PhoneInput
from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text, mask_phone, normalise_phone
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store.audit import PersonalChange
from crm_tui.store.queries import frontdesk as qf
from crm_tui.store.queries.followups import cards as qc
from crm_tui.store.queries.followups import register as qr

DIRECT = "direct"
OWNER_CONFIRMS = "owner_confirms"
STATE_LABELS = {"requested": N_("awaiting confirmation"), "confirmed": N_("confirmed"), "rejected": N_("rejected")}


@dataclass(frozen=True)
class PhoneChangeOutcome:
    state: str  # "saved" (applied at once) | "requested" (awaits the owner)
    version: int  # the archive's version after the call
    request_id: int | None = None


@dataclass(frozen=True)
class PhoneRequestView:
    id: int
    customer_id: int
    number: str  # the new number, masked unless the viewer sees the customer's phones whole
    replaces: str  # the phone it replaces (same masking), "" for an additional phone
    note: str
    requested_by: str
    requested_at: datetime
    state: str


def phone_change_mode(actor: Actor) -> str | None:
    """How this actor records a caller's new phone (data/roles.toml), None when only the form may."""
    if not actor.can("customer.edit"):
        return None
    return roles.phone_change_mode(actor.roles)


def _sess(s: Session | Tx) -> Any:
    return s.session if isinstance(s, Tx) else s


def _customer(s: Session | Tx, customer_id: int) -> qc.CustomerHead:
    r = qc.customer_head(_sess(s), customer_id)
    if r is None or r.erased_at is not None:
        raise NotFound("No customer archive #{id}.", id=customer_id)
    return r


def _phones(s: Session | Tx, customer_id: int) -> list[qf.Phone]:
    return qf.phones(_sess(s), customer_id)


def _contacts(s: Session | Tx, customer_id: int) -> list[int]:
    return qr.customer_contacts(_sess(s), customer_id)


def _relation(s: Session | Tx, actor: Actor, row: qc.CustomerHead) -> str:
    return masking.relation((actor.staff_id, actor.on_behalf_of), row.owner_id, _contacts(s, int(row.id)))


def _check_new(phones: list[qf.Phone], number: str, replaces: int | None) -> str:
    """The new number's national digits; refusals name the field (``phone`` / ``replaces``)."""
    errors: list[ValidationError] = []
    national = ""
    try:
        national = normalise_phone(number, "phone").national
    except ValidationError as e:
        errors.append(e)
    if replaces is not None and replaces not in {p.id for p in phones}:
        errors.append(ValidationError("replaces", "That phone is no longer on the archive; choose again"))
    if national and national in {p.national for p in phones}:
        errors.append(ValidationError("phone", "This number is already on the archive"))
    if errors:
        raise ValidationErrors(errors)
    return national


def _new_list(phones: list[qf.Phone], national: str, replaces: int | None) -> list[PhoneInput]:
    """The archive's phones with the new number in the replaced one's place (label and primary
    mark kept), or added after them."""
    out = []
    for p in phones:
        if p.id == replaces:
            out.append(PhoneInput(national, p.label or "", bool(p.is_primary)))
        else:
            out.append(PhoneInput(p.national, p.label or "", bool(p.is_primary)))
    if replaces is None:
        out.append(PhoneInput(national, "", not phones))
    return out


def _apply(svc: Services, actor: Actor, customer_id: int, national: str, replaces: int | None, *,
           informed: bool, expected_version: int | None, shared_phone_reasons: dict[str, str] | None) -> int:
    with svc.store.read() as s:
        row = _customer(s, customer_id)
        phones = _phones(s, customer_id)
    if replaces is not None and replaces not in {p.id for p in phones}:
        raise ValidationErrors([ValidationError("replaces", "That phone is no longer on the archive; choose again")])
    version = int(row.version) if expected_version is None else expected_version
    return cs.update_customer(svc, actor, customer_id, {}, expected_version=version,
                              phones=_new_list(phones, national, replaces), informed=informed,
                              shared_phone_reasons=shared_phone_reasons)


def record_new_phone(svc: Services, actor: Actor, customer_id: int, number: str, *, replaces: int | None,
                     note: str = "", informed: bool = False, expected_version: int | None = None,
                     shared_phone_reasons: dict[str, str] | None = None) -> PhoneChangeOutcome:
    """A caller's new phone number: ``replaces`` is a ``PhoneView.id`` of the archive (None: an
    additional phone). Needs customer.edit and a ``phone_change`` mode for one of the actor's roles.
    Saved at once in ``direct`` mode or when the actor is the responsible staff member; otherwise a
    request for the owner's confirmation. Refusals name their field (``phone``, ``replaces``,
    ``note``); ``customers.SharedPhone`` when another customer has the number (give the reason)."""
    svc.require(actor, "customer.edit")
    mode = phone_change_mode(actor)
    if mode is None:
        raise PermissionDenied("Your role changes phones only in the archive form.")
    clean_note = clean_text(note, "note", max_len=300) or ""
    with svc.store.read() as s:
        row = _customer(s, customer_id)
        phones = _phones(s, customer_id)
        own = _relation(s, actor, row) == masking.OWNER
        national = _check_new(phones, number, replaces)
        dup = qf.request_waiting(_sess(s), customer_id, national)
    if mode == DIRECT or own:
        version = _apply(svc, actor, customer_id, national, replaces, informed=informed,
                         expected_version=expected_version, shared_phone_reasons=shared_phone_reasons)
        return PhoneChangeOutcome("saved", version)
    if dup:
        raise ValidationErrors([ValidationError("phone", "This number already awaits the owner's confirmation")])
    if row.owner_id is None:
        raise Conflict("This archive has no responsible staff member to confirm the new phone; ask the section chief"
                       " to assign one.")
    with svc.write(actor) as tx:
        old = next((p for p in phones if p.id == replaces), None)
        rid = qf.insert_request(tx.session, customer_id=customer_id, national=national, replaces=replaces,
                                note=clean_note or None, informed=bool(informed), by=actor.staff_id, now=tx.now)
        tx.audit("customer.phone_change_requested", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": row.number, "request": rid, "replaces": bool(old)},
                 personal=[PersonalChange("phones", old.national if old else None, national),
                           *([PersonalChange("note", None, clean_note)] if clean_note else [])])
    return PhoneChangeOutcome("requested", int(row.version), int(rid))


def pending_phone_changes(svc: Services, actor: Actor, customer_id: int) -> list[PhoneRequestView]:
    """The new phones of one archive awaiting confirmation, oldest first; numbers masked unless the
    viewer sees this customer's phones whole (domain.masking)."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        row = _customer(s, customer_id)
        whole = masking.sees_whole(actor.permissions, masking.PHONES, _relation(s, actor, row))
        phones = {p.id: p.national for p in _phones(s, customer_id)}
        rows = qf.pending_requests(s, customer_id)

    def shown(national: str | None) -> str:
        if not national:
            return ""
        return normalise_phone(national).display if whole else mask_phone(national)

    return [PhoneRequestView(int(r[0]), customer_id, shown(r[1]), shown(phones.get(r[2])) if r[2] else "",
                             masking.GENERIC.text(r[3] or "") if not whole else (r[3] or ""), r[4] or "",
                             cs._dt(r[5]), r[6])  # type: ignore[arg-type]
            for r in rows]


def _request(s: Session | Tx, request_id: int) -> qf.PhoneRequest:
    r = qf.request(_sess(s), request_id)
    if r is None:
        raise NotFound("No phone change request #{id}.", id=request_id)
    if r.state != "requested":
        raise Conflict("This new phone was already handled ({state}).", state=_(STATE_LABELS.get(r.state, r.state)))
    return r


def _require_owner(svc: Services, actor: Actor, s: Session | Tx, req: qf.PhoneRequest) -> qc.CustomerHead:
    row = _customer(s, int(req.customer_id))
    if _relation(s, actor, row) != masking.OWNER:
        name = cs._staff_names(s, [row.owner_id]).get(row.owner_id, "—")
        raise PermissionDenied("Only the customer's responsible staff member ({name}) confirms a new phone.", name=name)
    return row


def confirm_phone_change(svc: Services, actor: Actor, request_id: int, *,
                         shared_phone_reasons: dict[str, str] | None = None) -> int:
    """The owner (or their A/B cover) confirms: the phones change through ``update_customer`` as the
    owner (audit, R-CUST-8 flag, shared-phone check), then the request is marked confirmed.
    Returns the archive's new version."""
    svc.require(actor, "customer.edit")
    with svc.store.read() as s:
        req = _request(s, request_id)
        _require_owner(svc, actor, s, req)
    version = _apply(svc, actor, int(req.customer_id), req.national, req.replaces_phone_id,
                     informed=bool(req.informed), expected_version=None, shared_phone_reasons=shared_phone_reasons)
    with svc.write(actor) as tx:
        qf.confirm_request(tx.session, request_id, actor.staff_id, tx.now)
        tx.audit("customer.phone_change_confirmed", entity="customer", entity_id=req.customer_id,
                 customer_id=req.customer_id, details={"request": request_id})
    return version


def reject_phone_change(svc: Services, actor: Actor, request_id: int, reason: str) -> None:
    """The owner rejects the new phone, with a reason; the archive is unchanged."""
    svc.require(actor, "customer.edit")
    clean_reason = clean_text(reason, "reason", max_len=300, required=True)
    with svc.write(actor) as tx:
        req = _request(tx, request_id)
        _require_owner(svc, actor, tx, req)
        qf.reject_request(tx.session, request_id, clean_reason, actor.staff_id, tx.now)
        tx.audit("customer.phone_change_rejected", entity="customer", entity_id=req.customer_id,
                 customer_id=req.customer_id, details={"request": request_id},
                 personal=[PersonalChange("reason", None, clean_reason)])


def watch_phone_requests(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 200) -> cs.WatchPage:
    """The archives with a new phone awaiting this actor's confirmation (as owner or A/B cover)."""
    svc.require(actor, "customer.view")
    ids = [i for i in (actor.staff_id, actor.on_behalf_of) if i is not None]
    if not ids:
        return cs.WatchPage([], None)
    with svc.store.read() as s:
        rows = qf.waiting_by_customer(s, ids, max(1, min(limit, 500)))
        crow = {r.id: r for r in cs._rows(s, [int(r[0]) for r in rows])}
    return cs.WatchPage([cs.WatchRow(crow[r[0]], _("{n} new phone(s) since {time}", n=r[1], time=str(r[2])[:16]))
                         for r in rows if r[0] in crow], None)


@register_item
def _phone_request_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    ids = [i for i in (actor.staff_id, actor.on_behalf_of) if i is not None]
    if not ids or not actor.can("customer.edit"):
        return []
    n = qf.count_waiting(s, ids)
    if not n:
        return []
    return [WorkItem("customer.phone_requests", N_("New phones awaiting your confirmation (watch lists, key 9)"),
                     int(n), "open('customers')", True)]


@cs.register_erase_hook("phone_change_requests")
def _erase_requests(tx: Tx, customer_id: int) -> list[str]:
    """R-CUST-13: an erased customer's requested phones and notes go too."""
    qf.delete_requests(tx.session, customer_id)
    return ["phone_change_request"]


# ------------------------------------------------------------------------------------------------
# A register line's linked archive (R-FU-4)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedArchive:
    id: int
    number: str
    name: str
    owner: str
    card: str = ""  # the newest follow-up card with its intent level, when the viewer may see it


def linked_archive(svc: Services, actor: Actor, customer_id: int, card_id: int | None = None) -> LinkedArchive:
    """The archive a register line is linked to: number, name and owner (``get_customer``'s "ref"
    view: nothing sensitive is read whole, so nothing to audit; the archive's phone comes with the
    line from ``followups.register_line``, under the policy and audited there); ``card_id`` adds
    that card's number and intent level."""
    view = cs.get_customer(svc, actor, customer_id, purpose="ref")
    card = ""
    if card_id is not None and actor.can("followup.view"):
        from crm_tui.domain.followups import level_label
        from crm_tui.services import followups as fu

        try:
            c = fu.get_card(svc, actor, card_id)
            card = f"{c.number} {level_label(c.values.get('intent_level'))}".strip()
        except (PermissionDenied, NotFound):
            card = ""
    return LinkedArchive(view.id, view.number, view.name, view.owner, card)
