"""Archive create and update, the false-information mark (R-CUST-1..10)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from crm_tui.domain import search_terms
from crm_tui.domain.customers import (
    KINDS,
    PERSONAL_FIELDS,
    CleanPhone,
    ConsentInput,
    PhoneInput,
    format_number,
    load_policy,
    mask_name,
    needs_sensitive_consent,
    validate_consents,
    validate_customer,
    validate_phones,
)
from crm_tui.domain.errors import Conflict, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text, normalise_phone
from crm_tui.services.accuracy import refusals_recorded
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.customers.common import (
    _SENSITIVE,
    _WRITABLE,
    _calendar,
    _completeness,
    _dt,
    _has_sensitive_consent,
    _load_row,
    _personal_text,
    _phones_of,
    _plain,
    _share_with_holders,
    _staff_names,
    _staff_of,
    _tags_of,
    _terms,
    _unshare_lonely,
)
from crm_tui.services.customers.model import (
    CustomerRef,
    DuplicateIdNumber,
    SharedPhone,
    SharedPhoneConflict,
    SharedWith,
)
from crm_tui.store import search_index
from crm_tui.store.audit import PersonalChange
from crm_tui.store.queries import customers as q


def _resolve_staff(tx: Tx, token: str, field_name: str) -> tuple[int, str]:
    if token.isdigit():
        r = q.staff_by_id(tx.session, int(token))
    else:
        r = q.staff_by_username(tx.session, token)
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
        r = q.ident_holder(tx.session, col, v, exclude or 0)
        if r:
            raise DuplicateIdNumber(field_name=col, existing_id=int(r[0]), existing_number=str(r[1]))


def _shared_conflicts(tx: Tx, phones: Sequence[CleanPhone], reasons: Mapping[str, str], name: str | None,
                      exclude: int | None) -> tuple[list[SharedPhoneConflict], set[str]]:
    """(conflicts without reason, nationals shared with a reason)."""
    conflicts: list[SharedPhoneConflict] = []
    shared: set[str] = set()
    for p in phones:
        rows = q.phone_holders(tx.session, p.national, exclude or 0)
        if not rows:
            continue
        if p.national in reasons:
            shared.add(p.national)
            continue
        conflicts.append(SharedPhoneConflict(p.national, p.display, tuple(
            SharedWith(int(r[0]), str(r[1]), mask_name(r[2], r[3]), _similar(name, r[2])) for r in rows)))
    return conflicts, shared


def _insert_phones(tx: Tx, customer_id: int, phones: Sequence[CleanPhone], reasons: Mapping[str, str],
                   shared: set[str]) -> None:
    for p in phones:
        is_shared = p.national in shared
        if is_shared:
            _share_with_holders(tx, customer_id, p.national, reasons[p.national])
        q.insert_phone(tx.session, customer_id, national=p.national, e164=p.e164, kind=p.kind, label=p.label,
                       primary=p.primary, shared_reason=reasons[p.national] if is_shared else None,
                       review_due=tx.now.date() if is_shared else None, now=tx.now)


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
        seq = q.next_number(tx.session, now.year)
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
        cid = q.insert_customer(tx.session, cols)
        _insert_phones(tx, cid, cphones, reasons, shared)
        for tag in clean.get("tags") or []:
            q.add_tag(tx.session, cid, tag)
        for sid in contacts or []:
            if sid != owner:
                q.add_staff_contact(tx.session, cid, sid)
        for c in cconsents:
            q.insert_consent(tx.session, cid, purpose=c.purpose, scope=c.scope, method=c.method, given_at=c.given_at,
                             note=c.note, by=actor.staff_id, now=now)
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
                q.delete_staff_contacts(tx.session, customer_id)
                for sid in sorted(new_contacts):
                    q.add_staff_contact(tx.session, customer_id, sid)
                changes["staff_contacts"] = [sorted(names.get(s, str(s)) for s in old_contacts),
                                             sorted(names.get(s, str(s)) for s in new_contacts)]
        elif "owner_id" in sets:
            q.delete_staff_contacts(tx.session, customer_id, new_owner)
        if "tags" in clean:
            old_tags = set(_tags_of(tx, customer_id))
            new_tags = set(clean["tags"])
            if old_tags != new_tags:
                for t in old_tags - new_tags:
                    q.delete_tag(tx.session, customer_id, t)
                for t in new_tags - old_tags:
                    q.add_tag(tx.session, customer_id, t)
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
                        q.delete_phone(tx.session, p["id"])
                for p in cphones:
                    if p.national in old_nationals:
                        q.update_phone(tx.session, customer_id, p.national, p.label, p.primary)
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
        if q.update_customer(tx.session, customer_id, expected_version, sets) != 1:  # pragma: no cover - BEGIN IMMEDIATE makes this unreachable
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
        q.mark_false_info(tx.session, customer_id, clean_note, bool(stop_business or cur["business_stopped"]),
                          actor.staff_id, tx.now)
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
        q.clear_false_info(tx.session, customer_id, actor.staff_id, tx.now)
        tx.audit("customer.false_info_cleared", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": cur["number"], "changes": {"false_info": [cur["false_info"], False],
                                                               "business_stopped": [cur["business_stopped"], False]}},
                 personal=[PersonalChange("false_info_note", cur["false_info_note"], clean_note)])
        return int(cur["version"]) + 1
