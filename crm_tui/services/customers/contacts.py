"""The contact log and consents (R-CUST-6, R-CUST-14)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from crm_tui.domain.customers import (
    ConsentInput,
    choose,
    load_policy,
    needs_sensitive_consent,
    validate_consents,
)
from crm_tui.domain.errors import Conflict, NotFound, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.services.context import Actor, Services
from crm_tui.services.customers.common import _SENSITIVE, _has_sensitive_consent, _load_row, _phones_of, _terms
from crm_tui.store import search_index
from crm_tui.store.audit import PersonalChange
from crm_tui.store.queries import customers as q

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
        contact_id = q.contact_insert(
            tx.session, customer_id, at=when, method=values["method"], participants=values["participants"],
            summary=values["summary"], feedback=values["feedback"], next_action=values["next_action"],
            staff_id=actor.staff_id, now=now)
        q.touch_activity(tx.session, customer_id, now)
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
        consent_id = q.insert_consent(tx.session, customer_id, purpose=c.purpose, scope=c.scope, method=c.method,
                                      given_at=c.given_at, note=c.note, by=actor.staff_id, now=tx.now)
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
        r = q.consent_state(tx.session, consent_id)
        if r is None:
            raise NotFound("No such consent.")
        if r[2] is not None:
            raise Conflict("This consent was already withdrawn.")
        customer_id, scope = int(r[0]), str(r[1])
        cur = _load_row(tx, customer_id)
        q.withdraw_consent(tx.session, consent_id, tx.now)
        personal = []
        if scope == "sensitive" and not _has_sensitive_consent(tx, customer_id) and needs_sensitive_consent(cur):
            personal = [PersonalChange(f_, cur[f_], None) for f_ in _SENSITIVE if cur[f_]]
            q.drop_sensitive(tx.session, customer_id, actor.staff_id, tx.now)
            phones = [p["national"] for p in _phones_of(tx, customer_id)]
            search_index.replace_terms(tx.session, customer_id, _terms(cur, phones),
                                       _terms({**cur, "id_number": None}, phones))
        tx.audit("customer.consent_withdrawn", entity="customer_consent", entity_id=consent_id,
                 customer_id=customer_id, details={"number": cur["number"], "scope": scope,
                                                   "note_given": bool(clean_note)}, personal=personal)
