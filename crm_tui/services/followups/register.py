"""The front-desk register (来店/来电登记表, R-FU-4): lines, departures, links, cards from a line."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from crm_tui.domain import followups as fd
from crm_tui.domain import masking
from crm_tui.domain.customers import load_policy as customer_policy
from crm_tui.domain.errors import Conflict, NotFound, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import _
from crm_tui.services import customers as cs
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.followups.cards import create_card
from crm_tui.services.followups.common import (
    CardRef, RegisterLineView, RegisterPage, RegisterRow, _customer, _decode, _dt, _encode, _entry, _resolve_staff,
    _sess, _tie_register_values,
)
from crm_tui.store.audit import PersonalChange
from crm_tui.store.queries.followups import cards as qc
from crm_tui.store.queries.followups import register as qr

# ------------------------------------------------------------------------------------------------
# Front-desk register (R-FU-4)
# ------------------------------------------------------------------------------------------------


def add_register(svc: Services, actor: Actor, raw: Mapping[str, str], *, consultant: str = "",
                 customer_id: int | None = None) -> int:
    """Write one register line: name, phone, companions, arrival (HH:MM, default now), departure,
    product, information source (required), summary, consultant (user name or id), ``kind``
    walk_in/call, trial yes/no; ``customer_id`` when the name matched an archive. Needs register.use."""
    svc.require(actor, "register.use")
    now = svc.now()
    entry, errors = fd.validate_register(raw, now, customer_policy().sources)
    with svc.write(actor) as tx:
        consultant_id: int | None = None
        if consultant.strip():
            try:
                consultant_id = _resolve_staff(tx, consultant, "consultant")
            except ValidationError as e:
                errors.append(e)
        if customer_id is not None:
            try:
                _customer(tx, customer_id)
            except NotFound as e:
                errors.append(ValidationError("name", e.msgid, **e.params))
        if errors:
            raise ValidationErrors(errors)
        assert entry is not None
        entry_id = qr.insert_entry(
            tx.session, name=entry.name, phone=entry.phone, companions=entry.companions, arrived_at=entry.arrived_at,
            departed_at=entry.departed_at, product=entry.product, source=entry.source, summary=entry.summary,
            consultant_id=consultant_id, kind=entry.kind, trial=entry.trial, customer_id=customer_id, now=now,
            by=actor.staff_id)
        personal = [PersonalChange(k, None, v) for k, v in (("name", entry.name), ("phone", entry.phone),
                                                            ("companions", entry.companions),
                                                            ("summary", entry.summary)) if v]
        tx.audit("register.add", entity="register_entry", entity_id=entry_id, customer_id=customer_id,
                 details={"kind": entry.kind, "source": entry.source, "trial": entry.trial,
                          "consultant": consultant_id, "linked": customer_id is not None}, personal=personal)
    return entry_id


def mark_departed(svc: Services, actor: Actor, entry_id: int) -> datetime:
    """One key at the front desk: the visitor left now."""
    svc.require(actor, "register.use")
    with svc.write(actor) as tx:
        e = _entry(tx, entry_id)
        if e.departed_at is not None:
            raise Conflict("The departure is already recorded ({time}).", time=str(e.departed_at)[11:16])
        if e.kind == "call":
            raise Conflict("A phone call has no departure.")
        qr.set_departed(tx.session, entry_id, tx.now)
        tx.audit("register.departed", entity="register_entry", entity_id=entry_id, customer_id=e.customer_id)
        return tx.now


def link_register(svc: Services, actor: Actor, entry_id: int, customer_id: int) -> None:
    """Attach a register line to an existing archive."""
    svc.require(actor, "register.use")
    with svc.write(actor) as tx:
        e = _entry(tx, entry_id)
        cust = _customer(tx, customer_id)
        if e.customer_id == customer_id:
            return
        qr.set_customer(tx.session, entry_id, customer_id)
        _tie_register_values(tx, entry_id, customer_id)
        tx.audit("register.link", entity="register_entry", entity_id=entry_id, customer_id=customer_id,
                 details={"customer": cust.number, "changes": {"customer_id": [e.customer_id, customer_id]}})


def card_from_register(svc: Services, actor: Actor, entry_id: int, *, level: str = "N") -> CardRef:
    """From a register line, one key: the archive (created from the line when it has none, owned
    by the line's consultant) and an open card prefilled from the line. A customer who already has
    an open card gets that card back instead of a second one. Needs register.use and
    followup.edit (and customer.create for a new archive); the line needs a source and a consultant."""
    svc.require(actor, "register.use")
    svc.require(actor, "followup.edit")
    from crm_tui.domain.customers import PhoneInput
    from crm_tui.services import customers as cs

    with svc.store.read() as s:
        e = _entry(s, entry_id)
        consultant = None
        if e.consultant_id is not None:
            consultant = qc.staff_username(s, e.consultant_id)
    missing = []
    if not e.source:
        missing.append(ValidationError("source", "Fill in the information source first"))
    if consultant is None:
        missing.append(ValidationError("consultant", "Choose the consultant who follows this customer up"))
    if missing:
        raise ValidationErrors(missing)
    customer_id = e.customer_id
    if customer_id is None:
        raw = {"name": e.name, "source": e.source}
        if consultant:
            raw["owner"] = consultant
        phones = [PhoneInput(e.phone, primary=True)] if e.phone else []
        ref = cs.create_customer(svc, actor, "person", raw, phones=phones)
        customer_id = ref.id
        link_register(svc, actor, entry_id, customer_id)
    else:
        with svc.store.read() as s:
            existing = qc.open_card_of(s, customer_id)
        if existing:
            return CardRef(int(existing[0]), str(existing[1]))
    arrived = _dt(e.arrived_at)
    assert arrived is not None
    raw_card = {"first_reception_date": arrived.date().isoformat(), "intent_level": level, "source": e.source,
                "product": e.product or "", "first_reception_summary": e.summary or _("From the front-desk register line of {date}",
                                                             date=arrived.date().isoformat())}
    return create_card(svc, actor, customer_id, raw_card, owner=consultant or "", register_id=entry_id)


def register_page(svc: Services, actor: Actor, *, day: date | None = None, problems: bool = False,
                  cursor: str | None = None, limit: int = 100) -> RegisterPage:
    """Register lines, newest first, keyset-paged: one day's (default today), or with
    ``problems=True`` (register.supervise) every line without an information source or archive.
    A list: phones masked for every role, free text scrubbed (domain.masking); one line's own view,
    under the policy and audited, is :func:`register_line`."""
    if problems:
        svc.require(actor, "register.supervise")
    else:
        _require_register(svc, actor)
    limit = max(1, min(limit, 500))
    d = None if problems else (day or svc.now().date())
    after = _decode(cursor)
    with svc.store.read() as s:
        rows = qr.lines(s, day=None if d is None else (d.isoformat(), (d + timedelta(days=1)).isoformat()),
                        before_id=None if after is None else after[1], limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    out = [_register_row(r, masking.LISTING) for r in rows]  # a list: every phone masked, for every role
    return RegisterPage(out, _encode("", rows[-1][0]) if more and rows else None)


def _register_row(r: qr.RegisterLine, vis: masking.Visibility) -> RegisterRow:
    """A register line under the masking policy: the phone whole only if ``vis`` says so, and the
    free text (companions, product, summary) scrubbed of the line's phone and anything shaped like
    an ID number, phone or account for a viewer who may not see them."""
    phone = r[4] or ""
    texts = masking.scrub(vis, [r[5] or "", r[6] or "", r[8] or ""], {masking.PHONES: [phone] if phone else []})
    return RegisterRow(id=r[0], arrived_at=_dt(r[1]), departed_at=_dt(r[2]), name=r[3],  # type: ignore[arg-type]
                       phone=masking.mask(masking.PHONES, phone) if vis.masked(masking.PHONES) else phone,
                       companions=texts[0], product=texts[1], source=r[7], summary=texts[2], consultant_id=r[9],
                       consultant=r[10] or "", kind=r[11], trial=bool(r[12]), customer_id=r[13],
                       customer_number=r[14] or "", card_id=r[15])


def _line_visibility(s: Session | Tx, actor: Actor, r: qr.RegisterLine) -> masking.Visibility:
    """What ``actor`` sees whole of one register line (its archive's relation once linked)."""
    owner_id, contacts = None, []
    if r[13] is not None:
        owner_id = qr.customer_owner(_sess(s), r[13])
        contacts = qr.customer_contacts(_sess(s), r[13])
    rel = masking.line_relation((actor.staff_id, actor.on_behalf_of), consultant_id=r[9], linked=r[13] is not None,
                                owner_id=owner_id, contact_ids=contacts)
    return masking.visibility(actor.permissions, rel)


def _require_register(svc: Services, actor: Actor) -> None:
    if not (actor.can("register.use") or actor.can("register.supervise")):
        svc.require(actor, "register.use")


def register_line(svc: Services, actor: Actor, entry_id: int) -> RegisterLineView:
    """One register line for its own view (R-FU-4) under the masking policy: the phone (and the
    linked archive's phone) whole only for a role with customer.view_sensitive that owns or is in
    contact with the linked archive, or is the line's consultant while it has none; such a view
    writes one audit row (``customer.view_unmasked`` or, for a line without an archive,
    ``register.view_unmasked``). Needs register.use or register.supervise."""
    _require_register(svc, actor)
    with svc.store.read() as s:
        r = qr.line(s, entry_id)
        if r is None:
            raise NotFound("No register line #{id}.", id=entry_id)
        vis = _line_visibility(s, actor, r)
        archive_phone = ""
        if r[13] is not None:
            p = qr.primary_phone(s, r[13])
            archive_phone = "" if not p else (masking.mask(masking.PHONES, p) if vis.masked(masking.PHONES) else p)
    row = _register_row(r, vis)
    whole = not vis.masked(masking.PHONES) and bool(r[4] or archive_phone)
    if whole:
        from crm_tui.services import customers as cs

        if r[13] is not None:
            cs.audit_unmasked(svc, actor, [masking.PHONES], "register line", customer_id=r[13], number=r[14])
        else:
            cs.audit_unmasked(svc, actor, [masking.PHONES], "register line", customer_id=None,
                              entity="register_entry", entity_id=entry_id, action="register.view_unmasked")
    return RegisterLineView(row, whole, archive_phone,
                            bool(r[4]) and vis.masked(masking.PHONES)
                            and masking.may_reveal(actor.permissions, masking.PHONES, vis.relation))


def reveal_register_phone(svc: Services, actor: Actor, entry_id: int, reason: str) -> str:
    """The whole phone of one register line, for that view only, with a reason; audited (who, the
    line and its archive, the reason; R-SEC-3). Needs customer.view_sensitive."""
    svc.require(actor, "customer.view_sensitive", field="phone")
    _require_register(svc, actor)
    clean_reason = clean_text(reason, "reason", max_len=200, required=True)
    with svc.write(actor) as tx:
        r = qr.line(tx.session, entry_id)
        if r is None:
            raise NotFound("No register line #{id}.", id=entry_id)
        vis = _line_visibility(tx, actor, r)
        if not r[4] or not masking.may_reveal(actor.permissions, masking.PHONES, vis.relation):
            raise ValidationError("field", "Only the ID number, bank account and phones are masked")
        tx.audit("register.reveal", entity="register_entry", entity_id=entry_id, customer_id=r[13],
                 details={"number": r[14], "field": "phone", "reason": masking.GENERIC.text(clean_reason)})
        return str(r[4])

