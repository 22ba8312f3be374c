"""Customer archives: the policy, field validation, numbers, completeness (R-CUST-1..10, R-KPI-2).

Pure: no database, no clock (callers pass ``today`` / ``created_at``), no Textual.

* :func:`load_policy` reads ``data/customer_policy.toml`` into :class:`CustomerPolicy`.
* :func:`validate_customer` checks a whole form (``raw`` maps field -> typed string) and returns
  ``(clean, errors)``: every field error at once, each a :class:`ValidationError` whose ``field`` is
  the form field the message belongs next to. ``clean`` holds typed values (``None`` = blank).
* :func:`validate_phones` / :func:`validate_consents` do the same for the phone and consent lists.
* :func:`missing_fields` and :func:`maintenance_due` compute R-CUST-9 completeness.
* :func:`format_number` makes the readable customer number ``KH2026-000123``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, Literal

from crm_tui.domain import config
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.errors import ValidationError
from crm_tui.domain.validation import (
    clean_text,
    id_number_birth_date,
    id_number_gender,
    is_blank,
    mask_id_number,
    mask_phone,
    normalise_phone,
    validate_choice,
    validate_date,
    validate_email,
    validate_id_number,
    validate_money,
    validate_org_name,
    validate_person_name,
    validate_postcode,
    validate_uscc,
)
from crm_tui.i18n import N_, get_language

__all__ = [
    "CONSENT_SCOPES",
    "FIELD_LABELS",
    "GENDERS",
    "KINDS",
    "PERSONAL_FIELDS",
    "CleanConsent",
    "CleanPhone",
    "ConsentInput",
    "CustomerPolicy",
    "Option",
    "PhoneInput",
    "Rating",
    "fields_of",
    "format_number",
    "load_policy",
    "maintenance_due",
    "mask_bank_account",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "missing_fields",
    "parse_number",
    "validate_consents",
    "validate_customer",
    "validate_phones",
]

Kind = Literal["person", "org"]
KINDS: dict[str, str] = {"person": N_("Person"), "org": N_("Organisation")}
GENDERS: dict[str, str] = {"M": N_("Male"), "F": N_("Female")}
CONSENT_SCOPES: dict[str, str] = {
    "basic": N_("Basic information"),
    "sensitive": N_("Sensitive information (ID number, bank account)"),
    "marketing": N_("Marketing"),
}

#: Display labels of every archive field (msgids; translate with ``_()`` when shown).
FIELD_LABELS: dict[str, str] = {
    "name": N_("Name"),
    "contact_person": N_("Contact person"),
    "phones": N_("Phones"),
    "address": N_("Address"),
    "postcode": N_("Postcode"),
    "email": N_("E-mail"),
    "gender": N_("Gender"),
    "birth_date": N_("Birth date"),
    "occupation": N_("Occupation"),
    "employer": N_("Employer"),
    "family_notes": N_("Family background"),
    "id_number": N_("ID number"),
    "legal_rep": N_("Legal representative"),
    "fax": N_("Fax"),
    "business_scope": N_("Business scope"),
    "registered_capital": N_("Registered capital"),
    "uscc": N_("Unified social credit code"),
    "key_decision_makers": N_("Key decision makers"),
    "business_needs": N_("Business needs"),
    "cooperation_history": N_("Cooperation history"),
    "credit_status": N_("Credit status"),
    "category": N_("Category"),
    "industry": N_("Industry"),
    "size": N_("Size"),
    "coop_since": N_("Cooperating since (year)"),
    "source": N_("Information source"),
    "credit_rating": N_("Credit rating"),
    "risk_rating": N_("Risk rating"),
    "owner": N_("Responsible staff"),
    "staff_contacts": N_("Other staff in contact"),
    "important": N_("Important customer"),
    "tags": N_("Tags"),
    "notes": N_("Notes"),
    "bank_name": N_("Bank"),
    "bank_account": N_("Bank account"),
    "grade": N_("Grade"),
    "false_info": N_("False information"),
    "false_info_note": N_("False information note"),
    "business_stopped": N_("Business stopped"),
}

#: Fields whose values are personal data: audited as salted commitments with the values kept in
#: ``audit_value`` (erasable), never in the hash-chained details; destroyed by erasure.
PERSONAL_FIELDS = frozenset({
    "name", "contact_person", "phones", "address", "postcode", "email", "gender", "birth_date",
    "occupation", "employer", "family_notes", "id_number", "legal_rep", "fax", "key_decision_makers",
    "business_needs", "cooperation_history", "credit_status", "notes", "bank_name", "bank_account",
    "false_info_note", "business_scope",
})

_COMMON = ("name", "contact_person", "address", "postcode", "email", "category", "industry", "coop_since",
           "source", "credit_rating", "risk_rating", "owner", "staff_contacts", "important", "tags",
           "key_decision_makers", "business_needs", "cooperation_history", "credit_status", "notes",
           "bank_name", "bank_account")
_PERSON_ONLY = ("gender", "birth_date", "occupation", "employer", "family_notes", "id_number")
_ORG_ONLY = ("legal_rep", "fax", "business_scope", "registered_capital", "uscc", "size")
#: Keys a form may never set: the grade changes only through grade changes (R-GRD-4).
READ_ONLY = ("grade", "number", "kind", "version", "id")

TAG_MAX = 20
TAGS_MAX = 20
PHONES_MAX = 5


def fields_of(kind: str) -> tuple[str, ...]:
    """The editable fields of a person or an organisation, in paper-form order."""
    return _COMMON + (_PERSON_ONLY if kind == "person" else _ORG_ONLY)


# ------------------------------------------------------------------------------------------------
# Policy
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """A coded choice from the policy file: the code is stored, the name shown."""

    code: str
    name_zh: str
    name_en: str

    @property
    def label(self) -> str:
        return self.name_zh if get_language() == "zh_CN" else self.name_en


@dataclass(frozen=True)
class Rating(Option):
    """A credit or risk rating with the measures it implies (R-KPI-2)."""

    credit_limit: int = 0
    term_days: int = 0
    prepayment_pct: int = 0
    response_zh: str = ""  # risk ratings: the risk response (风险应对措施) the rating implies
    response_en: str = ""

    @property
    def response(self) -> str:
        return self.response_zh if get_language() == "zh_CN" else self.response_en


@dataclass(frozen=True)
class DeadlineGroup(Option):
    days: int = 0


@dataclass(frozen=True)
class CustomerPolicy:
    retention_years: int
    phone_change_window_days: int
    shared_phone_review_days: int
    inform_on_change: frozenset[str]
    deadline_groups: dict[str, DeadlineGroup]
    required: dict[str, dict[str, tuple[str, ...]]]  # kind -> group -> fields
    categories: dict[str, Option]
    contact_methods: dict[str, Option]
    consent_methods: dict[str, Option]
    credit_ratings: dict[str, Rating]
    risk_ratings: dict[str, Rating]
    sources: dict[str, Option]
    industries: dict[str, Option]
    sizes: dict[str, Option]

    def required_fields(self, kind: str) -> dict[str, tuple[str, ...]]:
        return self.required.get(kind, {})


def _options(raw: Mapping[str, Any]) -> dict[str, Option]:
    return {code: Option(code, v["name"], v["name_en"]) for code, v in raw.items()}


def _ratings(raw: Mapping[str, Any]) -> dict[str, Rating]:
    return {code: Rating(code, v["name"], v["name_en"], int(v["credit_limit"]), int(v["term_days"]),
                         int(v["prepayment_pct"]), v.get("response", ""), v.get("response_en", ""))
            for code, v in raw.items()}


@cache
def load_policy() -> CustomerPolicy:
    raw = config.load("customer_policy.toml")
    groups = {code: DeadlineGroup(code, v["name"], v["name_en"], int(v["days"]))
              for code, v in raw["deadline_groups"].items()}
    required = {kind: {g: tuple(fs) for g, fs in by_group.items()} for kind, by_group in raw["required"].items()}
    for kind, by_group in required.items():
        for g, fs in by_group.items():
            assert g in groups, f"customer_policy.toml: unknown deadline group {g}"
            assert set(fs) <= set(fields_of(kind)) | {"phones"}, f"customer_policy.toml: unknown field in {kind}.{g}"
    return CustomerPolicy(
        retention_years=int(raw["retention_years"]),
        phone_change_window_days=int(raw["phone_change_window_days"]),
        shared_phone_review_days=int(raw["shared_phone_review_days"]),
        inform_on_change=frozenset(raw.get("inform_on_change", ())),
        deadline_groups=groups,
        required=required,
        categories=_options(raw["categories"]),
        contact_methods=_options(raw["contact_methods"]),
        consent_methods=_options(raw["consent_methods"]),
        credit_ratings=_ratings(raw["credit_ratings"]),
        risk_ratings=_ratings(raw["risk_ratings"]),
        sources=_options(raw["sources"]),
        industries=_options(raw["industries"]),
        sizes=_options(raw["sizes"]),
    )


def choose(value: str | None, field: str, options: Mapping[str, Option]) -> str:
    """A policy choice typed as its code (any case), its Chinese or its English name."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(field, "This field is required")
    if text in options:
        return text
    folded = text.casefold()
    for code, opt in options.items():
        if folded in (code.casefold(), opt.name_zh.casefold(), opt.name_en.casefold()):
            return code
    raise ValidationError(field, "Choose one of: {options}", options=", ".join(o.label for o in options.values()))


# ------------------------------------------------------------------------------------------------
# Customer numbers
# ------------------------------------------------------------------------------------------------

NUMBER_RE = re.compile(r"KH(\d{4})-(\d{6,})")


def format_number(year: int, seq: int) -> str:
    """``KH2026-000123``: readable, sequential per year (R-CUST-1)."""
    return f"KH{year}-{seq:06d}"


def parse_number(number: str) -> tuple[int, int] | None:
    m = NUMBER_RE.fullmatch(number.strip().upper())
    return (int(m[1]), int(m[2])) if m else None


# ------------------------------------------------------------------------------------------------
# Masking
# ------------------------------------------------------------------------------------------------


def mask_name(name: str | None, kind: str = "person") -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***; organisations' names are not personal and stay whole."""
    if not name:
        return ""
    if kind == "org":
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def mask_bank_account(account: str | None) -> str:
    digits = re.sub(r"\s", "", account or "")
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


# ------------------------------------------------------------------------------------------------
# Validation
# ------------------------------------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "y", "是", "t", "on"}
_FALSE = {"", "0", "false", "no", "n", "否", "f", "off"}
_SPLIT = re.compile(r"[,，;；、\s]+")
_BANK = re.compile(r"[0-9]{8,30}")


def _bool(value: str | None, field: str) -> bool:
    text = (value or "").strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError(field, "Answer yes or no")


def _tokens(value: str | None) -> list[str]:
    return [t for t in _SPLIT.split((value or "").strip()) if t]


def _tags(value: str | None, field: str) -> list[str]:
    out: list[str] = []
    for t in _tokens(value):
        tag = clean_text(t, field, max_len=TAG_MAX)
        if tag and tag not in out:
            out.append(tag)
    if len(out) > TAGS_MAX:
        raise ValidationError(field, "At most {max} tags", max=TAGS_MAX)
    return out


def _staff_tokens(value: str | None, field: str) -> list[str]:
    tokens = _tokens(value)
    for t in tokens:
        if len(t) > 40 or any(ord(c) < 32 for c in t):
            raise ValidationError(field, "Unknown staff member '{name}'", name=t[:40])
    return list(dict.fromkeys(tokens))


def _year(value: str | None, field: str, today: date) -> int:
    text = (value or "").strip()
    if not re.fullmatch(r"[0-9]{4}", text) or not 1900 <= int(text) <= today.year:
        raise ValidationError(field, "Enter a year between 1900 and {year}", year=today.year)
    return int(text)


def _bank_account(value: str | None, field: str) -> str:
    text = re.sub(r"[\s-]", "", (value or "").translate({cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF1A)}))
    if not _BANK.fullmatch(text):
        raise ValidationError(field, "A bank account number has 8 to 30 digits")
    return text


def _fax(value: str | None, field: str) -> str:
    return normalise_phone(value, field).national


def _text(max_len: int, multiline: bool = False):  # type: ignore[no-untyped-def]
    def check(value: str | None, field: str) -> str | None:
        return clean_text(value, field, max_len=max_len, multiline=multiline)

    return check


def _validator(name: str, kind: str, today: date, policy: CustomerPolicy):  # type: ignore[no-untyped-def]
    """The check for one field: (value, field) -> clean value; blank input is handled by the caller."""
    cached = _VALIDATORS.get((kind, today))
    if cached is None or cached[0] is not policy:  # the table is built once per kind and day
        if len(_VALIDATORS) > 32:
            _VALIDATORS.clear()
        cached = _VALIDATORS[(kind, today)] = (policy, _validator_table(kind, today, policy))
    return cached[1][name]


_VALIDATORS: dict[tuple[str, date], tuple[CustomerPolicy, dict[str, Any]]] = {}


def _validator_table(kind: str, today: date, policy: CustomerPolicy) -> dict[str, Any]:
    table: dict[str, Any] = {
        "name": validate_person_name if kind == "person" else validate_org_name,
        "contact_person": validate_person_name,
        "legal_rep": validate_person_name,
        "address": _text(200),
        "postcode": validate_postcode,
        "email": validate_email,
        "category": lambda v, f: choose(v, f, policy.categories),
        "industry": lambda v, f: choose(v, f, policy.industries),
        "size": lambda v, f: choose(v, f, policy.sizes),
        "source": lambda v, f: choose(v, f, policy.sources),
        "credit_rating": lambda v, f: choose(v, f, policy.credit_ratings),
        "risk_rating": lambda v, f: choose(v, f, policy.risk_ratings),
        "coop_since": lambda v, f: _year(v, f, today),
        "gender": lambda v, f: validate_choice(v, f, GENDERS),
        "birth_date": lambda v, f: validate_date(v, f, today=today),
        "occupation": _text(50),
        "employer": _text(100),
        "family_notes": _text(500, True),
        "id_number": lambda v, f: validate_id_number(v, f, today=today),
        "fax": _fax,
        "business_scope": _text(1000, True),
        "registered_capital": lambda v, f: str(validate_money(v, f)),
        "uscc": validate_uscc,
        "key_decision_makers": _text(500, True),
        "business_needs": _text(1000, True),
        "cooperation_history": _text(2000, True),
        "credit_status": _text(500, True),
        "notes": _text(2000, True),
        "bank_name": _text(100),
        "bank_account": _bank_account,
    }
    return table


def validate_customer(
    raw: Mapping[str, str | None],
    kind: str,
    today: date,
    *,
    partial: bool = False,
    current: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[ValidationError]]:
    """Check a customer form; collect every field error.

    ``raw`` maps field names (see :func:`fields_of`) to what was typed. With ``partial`` (an edit)
    only the keys present are checked and returned, and cross-field checks read the other side
    from ``current`` (the stored values). Without it, every field of the kind is returned (blank
    ones as ``None``) and "name" is required.

    Clean values: text fields ``str | None``; ``birth_date`` a ``date``; ``coop_since`` an ``int``;
    ``important`` a ``bool``; ``tags`` and ``staff_contacts`` lists of strings (staff are resolved
    to accounts by the service); ``owner`` the typed staff user name or id; ``registered_capital``
    a decimal string; ``fax`` the national digits. A person's missing birth date and gender are
    filled from a valid ID number.
    """
    if kind not in KINDS:
        return {}, [ValidationError("kind", "Choose one of: {options}", options=", ".join(KINDS))]
    policy = load_policy()
    allowed = fields_of(kind)
    other = _ORG_ONLY if kind == "person" else _PERSON_ONLY
    clean: dict[str, Any] = {}
    errors: list[ValidationError] = []
    for key in raw:
        if key in READ_ONLY:
            if key == "grade":
                errors.append(ValidationError(
                    "grade", "The grade is changed only through a grade change application (R-GRD-4)"))
            else:
                errors.append(ValidationError(key, "This field cannot be changed"))
        elif key in other:
            if not is_blank(raw[key]):
                if kind == "person":
                    errors.append(ValidationError(key, "This field is for organisations only"))
                else:
                    errors.append(ValidationError(key, "This field is for persons only"))
        elif key not in allowed:
            errors.append(ValidationError(key, "Unknown field {field}", field=key))
    names = [k for k in allowed if k in raw] if partial else list(allowed)
    for name in names:
        value = raw.get(name)
        try:
            if name == "important":
                clean[name] = _bool(value, name)
            elif name == "tags":
                clean[name] = _tags(value, name)
            elif name == "staff_contacts":
                clean[name] = _staff_tokens(value, name)
            elif name == "owner":
                tokens = _staff_tokens(value, name)
                if len(tokens) > 1:
                    raise ValidationError(name, "Name one responsible staff member")
                clean[name] = tokens[0] if tokens else None
            elif value is None or is_blank(value):
                if name == "name":
                    raise ValidationError(name, "This field is required")
                clean[name] = None
            else:
                if not isinstance(value, str):
                    raise ValidationError(name, "Not a valid value")
                clean[name] = _validator(name, kind, today, policy)(value, name)
        except ValidationError as e:
            errors.append(e)
    if kind == "person":
        _check_id_against_birth(clean, current or {}, errors, partial)
    return clean, errors


def _check_id_against_birth(clean: dict[str, Any], current: Mapping[str, Any], errors: list[ValidationError],
                            partial: bool) -> None:
    if any(e.field in ("id_number", "birth_date", "gender") for e in errors):
        return

    def pick(name: str) -> Any:
        return clean[name] if name in clean else current.get(name)

    number = pick("id_number")
    if not number:
        return
    birth, gender = id_number_birth_date(number), id_number_gender(number)
    stated_birth = pick("birth_date")
    if isinstance(stated_birth, str):
        stated_birth = date.fromisoformat(stated_birth)
    if stated_birth is None:
        if not partial or "id_number" in clean:
            clean["birth_date"] = birth
    elif stated_birth != birth:
        errors.append(ValidationError(
            "birth_date", "The birth date does not match the ID number ({date})", date=birth.isoformat()))
    stated_gender = pick("gender")
    if stated_gender is None:
        if not partial or "id_number" in clean:
            clean["gender"] = gender
    elif stated_gender != gender:
        errors.append(ValidationError("gender", "The gender does not match the ID number"))


@dataclass(frozen=True)
class PhoneInput:
    """One phone as typed on the form. The first phone is the primary one unless one is marked."""

    number: str
    label: str = ""
    primary: bool = False


@dataclass(frozen=True)
class CleanPhone:
    national: str
    e164: str
    kind: str  # mobile | landline
    display: str
    label: str | None
    primary: bool


def validate_phones(phones: Sequence[PhoneInput]) -> tuple[list[CleanPhone], list[ValidationError]]:
    """Normalise each phone (field ``phones.<i>``); duplicates in the list and too many are errors."""
    out: list[CleanPhone] = []
    errors: list[ValidationError] = []
    if len(phones) > PHONES_MAX:
        errors.append(ValidationError("phones", "At most {max} phones", max=PHONES_MAX))
        return [], errors
    seen: set[str] = set()
    good = []  # (phone, label, primary as given): CleanPhone made once, its primary flag known
    for i, p in enumerate(phones):
        f = f"phones.{i}"
        try:
            phone = normalise_phone(p.number, f)
            label = None if p.label is None or p.label == "" else clean_text(p.label, f"{f}.label", max_len=20)
        except ValidationError as e:
            errors.append(e)
            continue
        if phone.national in seen:
            errors.append(ValidationError(f, "This phone is already in the list"))
            continue
        seen.add(phone.national)
        good.append((phone, label, bool(p.primary)))
    if good and not errors:  # exactly one primary: the first marked, else the first
        first_primary = next((i for i, g in enumerate(good) if g[2]), 0)
        out = [CleanPhone(ph.national, ph.e164, ph.kind, ph.display, label, i == first_primary)
               for i, (ph, label, _primary) in enumerate(good)]
    else:
        out = [CleanPhone(ph.national, ph.e164, ph.kind, ph.display, label, primary) for ph, label, primary in good]
    return out, errors


@dataclass(frozen=True)
class ConsentInput:
    """A consent as recorded (R-CUST-6): purpose told to the customer, scope, how it was given."""

    purpose: str
    scope: str  # basic | sensitive | marketing
    method: str  # code of policy.consent_methods
    given_at: date | None = None
    note: str = ""


@dataclass(frozen=True)
class CleanConsent:
    purpose: str
    scope: str
    method: str
    given_at: date
    note: str | None


def validate_consents(consents: Iterable[ConsentInput], today: date,
                      prefix: str = "consents") -> tuple[list[CleanConsent], list[ValidationError]]:
    policy = load_policy()
    out: list[CleanConsent] = []
    errors: list[ValidationError] = []
    for i, c in enumerate(consents):
        f = f"{prefix}.{i}"
        try:
            purpose = clean_text(c.purpose, f"{f}.purpose", max_len=200, required=True)
            scope = validate_choice(c.scope, f"{f}.scope", CONSENT_SCOPES)
            method = choose(c.method, f"{f}.method", policy.consent_methods)
            given = validate_date(c.given_at or today, f"{f}.given_at", today=today)
            note = clean_text(c.note, f"{f}.note", max_len=500, multiline=True)
        except ValidationError as e:
            errors.append(e)
            continue
        assert purpose is not None
        out.append(CleanConsent(purpose, scope, method, given, note))
    return out, errors


def needs_sensitive_consent(values: Mapping[str, Any]) -> bool:
    """An ID number or a bank account is held only with a sensitive-scope consent (R-CUST-6)."""
    return bool(values.get("id_number") or values.get("bank_account"))


# ------------------------------------------------------------------------------------------------
# Completeness (R-CUST-9)
# ------------------------------------------------------------------------------------------------


def missing_fields(values: Mapping[str, Any], kind: str, policy: CustomerPolicy | None = None
                   ) -> dict[str, list[str]]:
    """Required fields still empty, by deadline group (only groups with something missing).

    ``values`` maps field -> stored value; ``phones`` may be a count or a list.
    """
    policy = policy or load_policy()
    out: dict[str, list[str]] = {}
    for group, names in policy.required_fields(kind).items():
        empty = [n for n in names if values.get(n) in (None, "", 0, [], ())]
        if empty:
            out[group] = empty
    return out


def maintenance_due(created_at: datetime, missing: Mapping[str, Sequence[str]], calendar: WorkCalendar,
                    policy: CustomerPolicy | None = None) -> datetime | None:
    """The earliest deadline among the groups with missing fields, or None when complete.

    Each group's deadline is the close of its n-th working day after the day of creation.
    """
    policy = policy or load_policy()
    dues = [calendar.workday_deadline(created_at, policy.deadline_groups[g].days) for g, fs in missing.items() if fs]
    return min(dues) if dues else None


@dataclass(frozen=True)
class Completeness:
    missing: dict[str, list[str]] = field(default_factory=dict)
    due: datetime | None = None

    @property
    def complete(self) -> bool:
        return not self.missing


def completeness(values: Mapping[str, Any], kind: str, created_at: datetime, calendar: WorkCalendar
                 ) -> Completeness:
    missing = missing_fields(values, kind)
    return Completeness(missing, maintenance_due(created_at, missing, calendar))
