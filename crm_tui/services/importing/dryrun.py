"""The dry run: every row of the file checked with the archive's own validation, staff names
resolved, duplicates found against the archive and within the file; nothing written."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from itertools import compress, repeat
from operator import is_not, itemgetter
from typing import Any

from crm_tui.domain import importing as rules
from crm_tui.domain.customer_rows import RowValidator
from crm_tui.domain.customers import PhoneInput, needs_sensitive_consent, validate_phones
from crm_tui.domain.errors import ValidationError
from crm_tui.i18n import _
from crm_tui.services import customers as cust
from crm_tui.services.context import Actor, Services
from crm_tui.services.importing.mappings import _check
from crm_tui.services.importing.model import (
    Duplicate,
    ImportCancelled,
    Plan,
    RowError,
    Table,
    _gc_paused,
    _gc_young,
    _Ready,
)
from crm_tui.store.queries import importing as q


def _staff_lookup(s: Any) -> dict[str, tuple[int, bool]]:
    out: dict[str, tuple[int, bool]] = {}
    for sid, user, display, active in q.staff_logins(s):
        out.setdefault(user, (sid, active))
        out.setdefault(display, (sid, active))
        out.setdefault(str(sid), (sid, active))
    return out



def _getter(places: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """cells -> the cells at ``places``, always a tuple."""
    if len(places) == 1:
        return lambda cells: (cells[places[0]],)
    return itemgetter(*places) if places else (lambda cells: ())


def _people(staff: Mapping[str, tuple[int, bool]], by_field: Mapping[str, str], actor: Actor, owner: Any,
            named: Any) -> tuple[int | None, tuple[int, ...], list[tuple[str, str]]]:
    """A row's responsible colleague (the importing account when it names none) and other staff
    contacts as account ids, and its (column, reason) errors (unknown or disabled accounts)."""
    owner_id: int | None = actor.staff_id
    contacts: list[int] = []
    errors: list[tuple[str, str]] = []
    for fname, tokens in (("owner", [owner] if owner else []), ("staff_contacts", named or [])):
        for token in tokens:
            found = staff.get(str(token))
            if found is None:
                errors.append((by_field[fname], _("Unknown staff member '{name}'", name=token)))
            elif not found[1]:
                errors.append((by_field[fname], _("{name}'s account is disabled; choose an active colleague",
                                                  name=token)))
            elif fname == "owner":
                owner_id = found[0]
            elif found[0] not in contacts:
                contacts.append(found[0])
    return owner_id, tuple(contacts), errors


def plan(svc: Services, actor: Actor, table: Table, mapping: Mapping[str, str] | None = None, *,
         progress: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None) -> Plan:
    """The dry run: every row checked, nothing written. Errors name the file row, the column
    header and the reason (in the UI language)."""
    with _gc_paused():
        return _plan(svc, actor, table, mapping, progress=progress, cancel=cancel)


def _plan(svc: Services, actor: Actor, table: Table, mapping: Mapping[str, str] | None = None, *,
          progress: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None) -> Plan:
    svc.require(actor, "import.run")
    mapping = _check(mapping if mapping is not None else rules.auto_mapping(table.headers))
    unknown = [h for h in mapping if h not in table.headers]
    if unknown:
        raise ValidationError("mapping", "These columns are not in the file: {columns}", columns=", ".join(unknown))
    col = {h: table.headers.index(h) for h in mapping}
    by_field = {f: h for h, f in mapping.items() if f != "ignore"}
    cells_of = [(f, col[h]) for h, f in mapping.items() if f != "ignore"]
    not_archive = frozenset(("kind", "sensitive_consent", *rules.PHONE_FIELDS))
    fields = [f for f, _i in cells_of]
    widest = max((i for _f, i in cells_of), default=-1)
    cells_at = _getter([i for _f, i in cells_of])
    archive_fields = [f for f in fields if f not in not_archive]  # the fields validate_customer checks
    phone_fields = [p for p in rules.PHONE_FIELDS if p in by_field]  # the mapped phone columns, in order
    today = svc.now().date()
    validator = RowValidator(today)
    result = Plan(table, dict(mapping))
    with svc.store.read() as s:
        staff = _staff_lookup(s)
        idents: dict[tuple[str, str], tuple[int, str]] = {}
        for cid, number, idn, uscc in q.live_identities(s):
            if idn:
                idents[("id_number", idn)] = (cid, number)
            if uscc:
                idents[("uscc", uscc)] = (cid, number)
        phones_of: dict[str, tuple[int, str, str]] = {}
        for national, cid, number, name in q.live_phones(s):
            phones_of.setdefault(national, (cid, number, name))
    in_file: dict[tuple[str, str], int] = {}
    people: dict[tuple[Any, tuple[str, ...]], tuple[int | None, tuple[int, ...], list[tuple[str, str]]]] = {}

    def header_of(fname: str, phone_cols: list[str]) -> str:
        if fname.startswith("phones."):
            part = fname.split(".")[1]
            return phone_cols[int(part)] if part.isdigit() and int(part) < len(phone_cols) else by_field.get("phone", "")
        return by_field.get(fname, by_field.get("name", ""))

    for done, (rownum, cells) in enumerate(table.rows, start=1):
        if cancel is not None and cancel.is_set():
            raise ImportCancelled("The import was cancelled; nothing was imported.")
        if done % 500 == 0:
            if progress is not None:
                progress(done, len(table.rows))
            if done % 2000 == 0:
                _gc_young()
        if len(cells) > widest:  # every mapped cell is there (a short row's missing cells read as "")
            values = dict(zip(fields, cells_at(cells)))
        else:
            width = len(cells)
            values = {f: (cells[i] if i < width else "") for f, i in cells_of}
        errors: list[RowError] = []
        kind = rules.kind_of(values.get("kind"), values.get("name"), values)
        if kind is None:
            result.errors.append(RowError(rownum, by_field["kind"], _("Write 个人 (person) or 单位 (organisation)")))
            continue
        raw = dict(zip(archive_fields, map(values.__getitem__, archive_fields)))  # in the row's order
        clean, verrs = validator.validate(raw, kind)  # validate_customer's answers, repeats remembered
        given = [p for p in phone_fields if values[p]]
        cphones, perrs = validate_phones([PhoneInput(values[p]) for p in given])
        if verrs or perrs:
            phone_cols = [by_field[p] for p in given]
            for e in [*verrs, *perrs]:
                errors.append(RowError(rownum, header_of(e.field, phone_cols), e.message))
        owner, named = clean.get("owner"), clean.get("staff_contacts")
        who = people.get((owner, tuple(named) if named else ()))
        if who is None:  # the staff a row names, resolved once per combination
            if len(people) >= 10_000:  # bounded (a column of unknown names)
                people.clear()
            who = people[(owner, tuple(named) if named else ())] = _people(staff, by_field, actor, owner, named)
        owner_id, contacts = who[0], list(who[1])
        errors += [RowError(rownum, column, reason) for column, reason in who[2]]
        consent = rules.is_yes(values.get("sensitive_consent"))
        if not verrs and needs_sensitive_consent(clean) and not consent:
            errors.append(RowError(rownum, by_field.get("id_number") if clean.get("id_number") else
                                   by_field.get("bank_account", ""), _(
                "An ID number or bank account is kept only with the customer's consent to sensitive data; "
                "record that consent first")))
        if errors:
            result.errors.extend(errors)
            continue
        dup: Duplicate | None = None
        keys = [(k, clean[k]) for k in ("id_number", "uscc") if clean.get(k)] + [("phone", p.national) for p in cphones]
        for key in keys:
            if key in in_file:
                errors.append(RowError(rownum, by_field.get(key[0], by_field["name"]),
                                       _("Same customer as row {row} of this file", row=in_file[key])))
                break
            if key[0] != "phone" and key in idents:
                dup = Duplicate(rownum, str(clean["name"]), *idents[key], key[0], clean, consent)
                break
            if key[0] == "phone" and key[1] in phones_of:
                cid, number, name = phones_of[key[1]]
                if cust._similar(clean.get("name"), name):
                    dup = Duplicate(rownum, str(clean["name"]), cid, number, "phone", clean, consent)
                    break
                errors.append(RowError(rownum, by_field.get("phone", by_field["name"]),
                                       _("The phone {phone} belongs to customer {number}; a shared phone needs a "
                                         "reason: register this customer in the app", phone=key[1], number=number)))
                break
        if errors:
            result.errors.extend(errors)
            continue
        for key in keys:
            in_file.setdefault(key, rownum)
        if dup is not None:
            result.duplicates.append(dup)
            continue
        assert owner_id is not None
        # only the values given: a row's clean dict names every field of its kind, most blank
        # (~1.2 KiB a row kept until the write; readers use .get)
        given_values = dict(compress(clean.items(), map(is_not, clean.values(), repeat(None))))
        result.ready.append(_Ready(rownum, kind, given_values, cphones, owner_id, contacts, consent))
    if progress is not None:
        progress(len(table.rows), len(table.rows))
    return result

