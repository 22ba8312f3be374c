"""Consents on an existing archive and telling customers of changes (issue 20: R-CUST-5, R-CUST-6).

* Consents are added to and withdrawn from an archive at any time (``add_consent``,
  ``withdraw_consent``), with the purpose told to the customer and how the consent was given, both
  asked for. Withdrawing the last sensitive-scope consent deletes the ID number and bank account
  from the archive (``customers.withdraw_consent``).
* A change of a field the customer is told about (policy ``inform_on_change``) saved without "the
  customer was told" is owed a notice within ``inform_within_working_days`` (data/customer_care.toml):
  ``note_change`` writes it, ``inform_due`` lists what is still owed (soonest first) and
  ``record_told`` records who told the customer, when and how.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from crm_tui.domain import config
from crm_tui.domain.customers import CONSENT_SCOPES, ConsentInput, choose, load_policy, validate_consents
from crm_tui.domain.errors import Conflict, NotFound, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text, parse_day
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store.queries import consent as qc
from crm_tui.store.queries import customers as q

__all__ = ["ConsentLine", "add_consent", "consent_lines", "inform_due", "inform_within",
           "method_choices", "note_change", "record_told", "scope_choices", "withdraw_consent"]


def inform_within() -> int:
    """Working days within which a change is told to the customer (R-CUST-5)."""
    return int(config.load("customer_care.toml")["inform_within_working_days"])


def method_choices() -> list[tuple[str, str]]:
    """(code, label) of the ways a consent is given (policy ``consent_methods``)."""
    return [(code, opt.label) for code, opt in load_policy().consent_methods.items()]


def scope_choices() -> list[tuple[str, str]]:
    return [(code, _(label)) for code, label in CONSENT_SCOPES.items()]


# -- consents ------------------------------------------------------------------------------------

def add_consent(svc: Services, actor: Actor, customer_id: int, *, scope: str, purpose: str, method: str,
                given: str = "", note: str = "") -> int:
    """Record a consent on an existing archive (R-CUST-6): the purpose told to the customer and
    how it was given are required; ``given`` is the day (typed, default today, not in the future).
    Field errors are named ``scope``, ``purpose``, ``method``, ``given``, ``note``; nothing is
    written then. Needs customer.edit. Returns the consent's id."""
    svc.require(actor, "customer.edit")
    today = svc.now().date()
    given_at: date | None = None
    errors: list[ValidationError] = []
    if (given or "").strip():
        try:
            given_at = parse_day(given, "given", today=today)
        except ValidationError as e:
            errors.append(e)
    consent = ConsentInput(purpose=purpose, scope=scope, method=method, given_at=given_at or today, note=note)
    for name, value in (("scope", scope), ("purpose", purpose), ("method", method), ("note", note)):
        one = ConsentInput(**{**_VALID, name: value})  # each field on its own: every refusal is named
        _clean, cerrs = validate_consents([one], today, prefix="consent")
        errors += [ValidationError(name, x.msgid, **x.params) for x in cerrs]
    if errors:
        raise ValidationErrors(errors)
    return cs.record_consent(svc, actor, customer_id, consent)


_VALID = {"purpose": "-", "scope": "basic", "method": "verbal", "note": ""}


def withdraw_consent(svc: Services, actor: Actor, consent_id: int, *, note: str = "") -> list[str]:
    """The customer withdraws a consent; what the rule says happens to the data happens
    (R-CUST-6, in ``customers.withdraw_consent``): sensitive scope, the ID number and bank account
    are deleted from the archive when no other sensitive consent stands. Returns what was done, as
    messages for the person."""
    with svc.store.read() as s:
        r = qc.consent_and_sensitive(s, consent_id)
    cs.withdraw_consent(svc, actor, consent_id, note=note)
    done = [_("Consent withdrawn.")]
    if r is not None and str(r[1]) == "sensitive" and r[2]:
        with svc.store.read() as s:
            gone = qc.sensitive_gone(s, int(r[0]))
        if gone:
            done.append(_("The ID number and bank account were deleted from the archive."))
    return done


class ConsentLine:
    """One consent of an archive as the consent dialog lists it."""

    def __init__(self, id: int, scope: str, purpose: str | None, method: str, given_at: date,
                 withdrawn_on: date | None) -> None:
        self.id, self.scope, self.purpose, self.method, self.given_at, self.withdrawn_on = (
            id, scope, purpose, method, given_at, withdrawn_on)

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_on is not None

    @property
    def label(self) -> str:
        methods = load_policy().consent_methods
        how = methods[self.method].label if self.method in methods else self.method
        line = _("{scope} · {state} {date} · {how} · {purpose}", scope=_(CONSENT_SCOPES.get(self.scope, self.scope)),
                 state=_("given"), date=self.given_at.isoformat(), how=how, purpose=self.purpose or "—")
        if self.withdrawn_on is not None:
            line += " · " + _("withdrawn") + " " + self.withdrawn_on.isoformat()
        return line


def consent_lines(svc: Services, actor: Actor, customer_id: int) -> list[ConsentLine]:
    view = cs.get_customer(svc, actor, customer_id)
    return [ConsentLine(c.id, c.scope, c.purpose, c.method, c.given_at,
                        c.withdrawn_at.date() if c.withdrawn_at is not None else None) for c in view.consents]


# -- telling the customer of changes (R-CUST-5) --------------------------------------------------

def note_change(tx: Tx, customer_id: int, changed: Iterable[str], informed: bool, calendar: Any) -> None:
    """Inside ``customers.update_customer``: a change of told fields not yet told is owed a notice."""
    told = sorted(set(changed) & load_policy().inform_on_change)
    if not told or informed:
        return
    due = calendar.add_workdays(tx.now.date(), inform_within())
    qc.insert_inform_due(tx.session, customer_id, json.dumps(told), tx.now, tx.actor.staff_id, due)


def _fields_text(raw: str) -> str:
    from crm_tui.domain.customers import FIELD_LABELS

    return "、".join(_(FIELD_LABELS.get(f, f)) if f != "phones" else _("Phones") for f in json.loads(raw or "[]"))


def inform_due(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> cs.WatchPage:
    """R-CUST-5: changes still to be told to the customer, the soonest deadline first (overdue at the
    top). ``WatchRow.item_id`` goes to :func:`record_told`."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        rows, nxt = qc.inform_due_page(s, cursor, limit)
        crow = {r.id: r for r in cs._rows(s, [r[2] for r in rows])}
    today = svc.now().date()
    out = []
    for due, did, cid, fields in rows:
        if cid not in crow:
            continue
        due_d = cs._d(due)
        late = _(" (overdue)") if due_d is not None and due_d < today else ""
        out.append(cs.WatchRow(crow[cid], _("Tell of: {fields}; by {date}{late}", fields=_fields_text(fields),
                                            date=str(due)[:10], late=late), due_d, item_id=int(did)))
    return cs.WatchPage(out, nxt)


def record_told(svc: Services, actor: Actor, due_id: int, method: str, note: str = "") -> None:
    """The customer was told of the change: who (the actor), when (now), how (a contact method of
    the policy: call, visit, letter ...). Needs customer.edit."""
    svc.require(actor, "customer.edit")
    errors: list[ValidationError] = []
    clean_method = clean_note = None
    try:
        clean_method = choose(method, "method", load_policy().contact_methods)
    except ValidationError as e:
        errors.append(e)
    try:
        clean_note = clean_text(note, "note", max_len=500, multiline=True)
    except ValidationError as e:
        errors.append(e)
    if errors:
        raise ValidationErrors(errors)
    with svc.write(actor) as tx:
        r = qc.inform_due(tx.session, due_id)
        if r is None:
            raise NotFound("Nothing to tell under #{id}.", id=due_id)
        if r[2] is not None:
            raise Conflict("The customer was already told of this change.")
        qc.mark_told(tx.session, due_id, actor.staff_id, tx.now, clean_method, clean_note)
        number = q.customer_number(tx.session, r[0])
        tx.audit("customer.told", entity="customer_inform_due", entity_id=due_id, customer_id=int(r[0]),
                 details={"number": number, "fields": json.loads(r[1]), "method": clean_method})


@cs.register_erase_hook("consent")
def _erase(tx: Tx, customer_id: int) -> list[str]:
    n = qc.clear_notes(tx.session, customer_id)
    return ["inform notes"] if n else []


@register_item
def _inform_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    if not actor.can("customer.edit"):
        return []
    today = svc.now().date()
    n, late = qc.due_counts(s, today)
    if not n:
        return []
    return [WorkItem("customer.inform_due", N_("Changes still to be told to the customer"), n,
                     "open('customers')", bool(late))]
