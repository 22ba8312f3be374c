"""What the customer screens need beyond the use cases: the form's layout in paper-form order,
its starting values, saving only what changed, choices for filters, and the watch lists by name.

The form is generic: fields, labels, choices and which are required come from
``domain.customers`` and the policy file, so a new field appears on the form without UI code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crm_tui.domain.customers import (
    FIELD_LABELS,
    GENDERS,
    ConsentInput,
    PhoneInput,
    choose,
    fields_of,
)
from crm_tui.domain.errors import ValidationError, ValidationErrors
from crm_tui.domain.validation import format_money
from crm_tui.i18n import N_
from crm_tui.services import customer_rules as cr
from crm_tui.services import customers as cs
from crm_tui.services import frontdesk as fd
from crm_tui.services.context import Actor, Services
from crm_tui.store.queries import customers as q

PHONE_SLOTS = 3
_MULTILINE = {"family_notes", "business_scope", "key_decision_makers", "business_needs",
              "cooperation_history", "credit_status", "notes"}
_SECTIONS: list[tuple[str, tuple[str, ...]]] = [
    (N_("Basic information"), ("name", "contact_person", "phone1", "phone2", "phone3", "address", "postcode",
                               "email", "gender", "birth_date", "id_number", "occupation", "employer",
                               "legal_rep", "uscc", "fax", "registered_capital", "business_scope")),
    (N_("Classification"), ("category", "source", "industry", "size", "coop_since", "credit_rating",
                            "risk_rating", "important", "tags", "grade")),
    (N_("Ownership"), ("owner", "staff_contacts")),
    (N_("Relationship"), ("key_decision_makers", "business_needs", "cooperation_history", "credit_status",
                          "family_notes")),
    (N_("Bank and notes"), ("bank_name", "bank_account", "notes")),
]
PHONE_LABELS = {"phone1": N_("Phone (main)"), "phone2": N_("Phone 2"), "phone3": N_("Phone 3")}


@dataclass(frozen=True)
class FormField:
    name: str
    label: str  # msgid
    required: bool = False
    multiline: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (code, label already in the UI language or a msgid)
    max_length: int = 200
    readonly: bool = False


@dataclass(frozen=True)
class FormData:
    kind: str
    version: int
    values: dict[str, str]
    phones_editable: bool


def _choices(name: str) -> tuple[tuple[str, str], ...]:
    p = cs.policy()
    table = {
        "category": p.categories, "source": p.sources, "industry": p.industries, "size": p.sizes,
        "credit_rating": p.credit_ratings, "risk_rating": p.risk_ratings,
    }
    if name in table:
        return tuple((code, opt.label) for code, opt in table[name].items())
    if name == "gender":
        return tuple(GENDERS.items())
    if name == "important":
        return (("0", N_("No")), ("1", N_("Yes")))
    return ()


def form_layout(kind: str, *, phones_editable: bool = True) -> list[tuple[str, list[FormField]]]:
    allowed = set(fields_of(kind)) | ({"phone1", "phone2", "phone3"})
    required = {f for group in cs.policy().required_fields(kind).values() for f in group} | {"name"}
    out: list[tuple[str, list[FormField]]] = []
    for section, names in _SECTIONS:
        fields = []
        for name in names:
            if name == "grade":  # shown, never edited here: only grade changes change it (R-GRD-4)
                fields.append(FormField(name, FIELD_LABELS[name], readonly=True))
                continue
            if name not in allowed:
                continue
            if name.startswith("phone"):
                fields.append(FormField(name, PHONE_LABELS[name], required=name == "phone1" and "phones" in required,
                                        max_length=30, readonly=not phones_editable))
                continue
            fields.append(FormField(name, FIELD_LABELS[name], required=name in required,
                                    multiline=name in _MULTILINE, choices=_choices(name),
                                    max_length=2000 if name in _MULTILINE else 200))
        if fields:
            out.append((section, fields))
    return out


def form_values(svc: Services, actor: Actor, customer_id: int) -> FormData:
    svc.check_password_current(actor)
    view = cs.get_customer(svc, actor, customer_id, purpose="edit")
    values = view.form_values()
    values["number"] = view.number
    if view.grade:
        from crm_tui.services import grades

        values["grade"] = grades.standard(svc).label(view.grade)
    values["owner"] = str(view.owner_id or "")  # the form shows it by name (owner_choices)
    if values.get("registered_capital"):  # as typed: 500万元, not 5000000.00
        values["registered_capital"] = format_money(values["registered_capital"])
    values["staff_contacts"] = " ".join(str(i) for i, _n in view.staff_contacts)
    for i, phone in enumerate(view.phones[:PHONE_SLOTS], start=1):
        values[f"phone{i}"] = phone.number
    # A masked ID number or bank account starts masked and is replaced only when typed anew (save_edit
    # sends changed fields only); masked phones are shown masked and cannot be edited here.
    return FormData(view.kind, view.version, values, phones_editable="phones" in view.whole)


def _phones(values: Mapping[str, str]) -> list[PhoneInput]:
    return [PhoneInput(values[k].strip()) for k in ("phone1", "phone2", "phone3") if values.get(k, "").strip()]


def _raw(values: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if not k.startswith("phone") and k != "number"}


def save_new(svc: Services, actor: Actor, kind: str, values: Mapping[str, str], consent_scopes: Sequence[str],
             shared_reasons: Mapping[str, str], *, purpose: str = "", method: str = "") -> cs.CustomerRef:
    """A new archive with the consents ticked on the form, each with the purpose told to the customer
    and how the consent was given, as asked on the form (R-CUST-6): refused fields are named
    ``consent_purpose``, ``consent_method``."""
    today = svc.now().date()
    consents = [ConsentInput(purpose=purpose, scope=scope, method=method, given_at=today) for scope in consent_scopes]
    try:
        return cs.create_customer(svc, actor, kind, _raw(values), phones=_phones(values), consents=consents,
                                  shared_phone_reasons=dict(shared_reasons))
    except ValidationErrors as e:
        errors, seen = [], set()
        if consent_scopes:  # the method is named even when the purpose was refused first
            try:
                choose(method, "consent_method", cs.policy().consent_methods)
            except ValidationError as err:
                errors.append(err)
                seen.add(err.field)
        for err in e.errors:
            if err.field.startswith("consents."):
                err.field = "consent_" + err.field.rsplit(".", 1)[-1]
                if err.field in seen:
                    continue
                seen.add(err.field)
            errors.append(err)
        raise ValidationErrors(errors) from None


def save_edit(svc: Services, actor: Actor, customer_id: int, values: Mapping[str, str],
              initial: Mapping[str, str], version: int, *, informed: bool, phones_editable: bool,
              shared_phone_reasons: Mapping[str, str]) -> int:
    """Send only the fields the person changed, so a masked value is never overwritten by a blank."""
    svc.check_password_current(actor)
    changed = {k: v for k, v in _raw(values).items() if v != initial.get(k, "")}
    phones_changed = phones_editable and any(values.get(k, "") != initial.get(k, "") for k in PHONE_LABELS)
    if not changed and not phones_changed:
        return version
    return cs.update_customer(svc, actor, customer_id, changed, expected_version=version,
                              phones=_phones(values) if phones_changed else None, informed=informed,
                              shared_phone_reasons=dict(shared_phone_reasons))


# -- choices for filters and small forms ------------------------------------------------------

def category_choices() -> list[tuple[str, str]]:
    return [(code, opt.label) for code, opt in cs.policy().categories.items()]


def consent_methods() -> list[tuple[str, str]]:
    """How a consent was given (R-CUST-6): signed form, verbal (recorded), electronic ..."""
    return [(code, opt.label) for code, opt in cs.policy().consent_methods.items()]


def contact_methods() -> list[tuple[str, str]]:
    return [(code, opt.label) for code, opt in cs.policy().contact_methods.items()]


def grade_choices(svc: Services) -> list[tuple[str, str]]:
    """The grades of the standard in force (R-GRD-1), highest first, as "A 重点客户"."""
    from crm_tui.services import grades

    return [(code, f"{code} {label}") for code, label in grades.grade_choices(svc)]


def owner_choices(svc: Services) -> list[tuple[int, str]]:
    with svc.store.read() as s:
        return q.active_staff(s)


# -- watch lists ---------------------------------------------------------------------------------

# The order is the watch-list screen's: keys 1-9 and 0, then [ ] round all of them.
WATCH_LISTS = {
    "phone_changes": N_("Phones changed twice within a month (R-CUST-8)"),
    "past_deadline": N_("Archives incomplete past their maintenance deadline (R-CUST-9)"),
    "shared_phones": N_("Shared phones awaiting review (R-CUST-7)"),
    "few_contacts": N_("Important customers with fewer than two staff in contact (R-CUST-10)"),
    "retention": N_("Archives past their retention period (R-CUST-13)"),
    "contact_tasks": N_("Important customers: second staff contact due (R-CUST-10)"),
    "owner_disabled": N_("Customers whose responsible staff member is disabled (R-CUST-10)"),
    "shared_filing": N_("Shared phones signed twice, to file with internal control (R-CUST-7)"),
    "phone_requests": N_("New phones awaiting your confirmation (R-CUST-8)"),
    "inform_due": N_("Changes still to be told to the customer (R-CUST-5); Ctrl+G when told"),
    "survey_due": N_("Customers due a satisfaction survey (R-CUST-15); Ctrl+B to record it"),
}
_WATCH = {
    "phone_changes": cs.watch_phone_changes,
    "past_deadline": cs.watch_past_deadline,
    "shared_phones": cs.watch_shared_phones,
    "few_contacts": cs.watch_understaffed,
    "retention": cs.past_retention,
    "phone_requests": fd.watch_phone_requests,
    "inform_due": lambda svc, actor, **kw: _consent().inform_due(svc, actor, **kw),
    "survey_due": lambda svc, actor, **kw: _surveys().due_list(svc, actor, **kw),
    "contact_tasks": cr.watch_contact_tasks,
    "owner_disabled": cr.watch_owner_disabled,
    "shared_filing": cr.watch_shared_filing,
}


def _consent():  # type: ignore[no-untyped-def]
    from crm_tui.services import consent

    return consent


def _surveys():  # type: ignore[no-untyped-def]
    from crm_tui.services import surveys

    return surveys


def watch_list(svc: Services, actor: Actor, kind: str, cursor: str | None = None, limit: int = 200) -> cs.WatchPage:
    svc.check_password_current(actor)
    return _WATCH[kind](svc, actor, cursor=cursor, limit=limit)


