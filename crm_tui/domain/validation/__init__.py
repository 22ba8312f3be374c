"""Field validators for customer archives (R-CUST-2, R-CUST-3, R-CUST-7).

Every validator takes the raw string a user typed (or a spreadsheet cell held) and the form field
name, and returns the normalised value, or raises :class:`ValidationError` whose English msgid is
translated in ``crm_tui/i18n/zh_CN/validation.toml``. Pure functions: no I/O, no clock (callers pass
``today``), no Textual, no database.

Conventions shared by all validators:

* Blank input (``None``, empty, only spaces) raises "This field is required", except
  :func:`clean_text` which returns ``None`` unless ``required``. Wrap an optional field in
  :func:`optional` to get ``None`` for blank input instead.
* Identifiers (ID numbers, codes, phones, postcodes, dates, amounts) accept full-width characters
  typed with a Chinese input method (``１３８``, ``－``, ``＠``, ideographic space) and ignore
  invisible format characters pasted with them; the value is then checked strictly, ASCII only.
* Normalising a normalised value again gives the same value.

The validators live in modules by kind of field: ``text`` (free text, names), ``codes`` (ID
numbers, USCC, e-mail, postcode, coded choices), ``amounts`` (dates, money, budgets); phones are
here. Every name is importable from ``crm_tui.domain.validation`` as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from crm_tui.domain.errors import ValidationError

# Everything below is re-exported (the old module's names, private ones included, stay importable here).
from crm_tui.domain.validation.amounts import (
    _BUDGET, _CENT, _DATE_PATTERNS, _MONEY, _MONTH_DAY, _UNITS, _WAN, _YI, format_day, format_money, parse_day,
    validate_budget, validate_date, validate_money,
)
from crm_tui.domain.validation.codes import (
    _EMAIL_LABEL, _EMAIL_LOCAL, _EMAIL_TLD, _ID_BIRTH_EARLIEST, _PROVINCES, _USCC_ALPHABET, _USCC_AUTHORITIES,
    _choice_code, _id_structure, id_number_birth_date, id_number_gender, mask_id_number, validate_choice,
    validate_email, validate_id_number, validate_postcode, validate_uscc,
)
from crm_tui.domain.validation.text import (
    _ALL_HAN, _BLANK_LINES, _FULLWIDTH, _HAN, _LINE_BREAKS, _NAME_DOTS, _NAME_FOLD, _NAME_QUOTES, _NAME_SEPARATORS,
    _SPACE_RUNS, _SPACES, EARLIEST_DATE, EMAIL_MAX, MAX_MONEY, ORG_NAME_MAX, PERSON_NAME_MAX, P, T, _as_text,
    _codepoint, _name_well_formed, _prepare_code, clean_text, is_blank, optional, validate_org_name,
    validate_person_name,
)

__all__ = [
    "EARLIEST_DATE",
    "MAX_MONEY",
    "Phone",
    "clean_text",
    "format_day",
    "format_money",
    "id_number_birth_date",
    "id_number_gender",
    "is_blank",
    "mask_id_number",
    "mask_phone",
    "normalise_phone",
    "optional",
    "parse_day",
    "validate_budget",
    "validate_choice",
    "validate_date",
    "validate_email",
    "validate_id_number",
    "validate_money",
    "validate_org_name",
    "validate_person_name",
    "validate_postcode",
    "validate_uscc",
]


# --------------------------------------------------------------------------------------------
# Phones (R-CUST-7)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phone:
    """A mainland China phone number.

    ``e164``: ``+8613800138000``; ``national``: digits only, the 11 mobile digits or the area code
    with its leading 0 plus the subscriber number (``01012345678``) - the key for duplicate
    checks; ``display``: ``138 0013 8000`` or ``010-1234 5678``.
    """

    e164: str
    national: str
    kind: Literal["mobile", "landline"]
    display: str


_PHONE_EXTENSION = re.compile(r"转|分机|ext|[x#]", re.IGNORECASE)
_PHONE_SEVERAL = re.compile(r"[/,;、|]|或")
_PHONE_CHARS = re.compile(r"\+?[0-9 ().\-]+")
_SERVICE_TYPES = {
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.UAN,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
    PhoneNumberType.VOICEMAIL,
}


#: The common case, an 11-digit mainland mobile (1[3-9]x xxxx xxxx), without phonenumbers (its
#: parse + type + two formats cost ~0.45 ms, most of an import's dry run): phonenumbers' CN
#: metadata decides validity and type of an 11-digit number starting with 1 by at most its first
#: five digits (mobile ``1(?:610\d|740[0-5])\d{6}|1(?:[38]\d|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])\d{8}``;
#: no other type has an 11-digit pattern starting 1[1-9]). A five-digit prefix is remembered once
#: phonenumbers has accepted a number of it as a mobile whose E.164 and national forms are
#: ``+86`` + the digits and ``3 4 4`` groups; later numbers of that prefix are built directly, with
#: the same result (tests/domain/test_validation.py checks that against phonenumbers itself).
_MOBILE_KEY = 5
_MOBILE_PREFIXES: set[str] = set()


def _mobile(local: str) -> Phone:
    return Phone(
        e164="+86" + local,
        national=local,
        kind="mobile",
        display=f"{local[:3]} {local[3:7]} {local[7:]}",
    )


def normalise_phone(value: str | None, field: str = "phone") -> Phone:
    """A mainland China mobile or landline number, typed in any common way.

    Accepted: ``13800138000``, ``138 0013 8000``, ``138-0013-8000``, ``+86 138…``,
    ``0086 138…``, ``86138…``, ``010-12345678``, ``(010)12345678``, ``0755 8888 9999``,
    ``+86 10 1234 5678``. Refused with their own messages: extensions (``转 8001``, ``ext``,
    ``#``, ``010-12345678-8001`` - one archive phone is one dialable number and the duplicate
    check keys on it; put the extension in the notes), several numbers in one field, landlines
    without area code, mobiles with the wrong digit count, service numbers (400/800/95xxx),
    numbers outside mainland China.
    """
    if (
        type(value) is str
        and len(value) == 11
        and value.isdigit()
        and value.isascii()
        and value[:_MOBILE_KEY] in _MOBILE_PREFIXES
    ):  # 13800138000 as most sheets hold it: every check below passes it unchanged
        return _mobile(value)
    text = _prepare_code(value, field)
    if len(text) > 40:
        raise ValidationError(field, "Not a valid mainland China phone number")
    if _PHONE_EXTENSION.search(text):
        raise ValidationError(
            field, "Enter the number without an extension; note the extension separately"
        )
    if _PHONE_SEVERAL.search(text):
        raise ValidationError(field, "Enter one phone number per field")
    if not _PHONE_CHARS.fullmatch(text):
        raise ValidationError(
            field,
            "A phone number may only contain digits, spaces, dashes, brackets and a leading +",
        )
    local = _local_digits(text, field)
    if len(local) == 11 and local[:_MOBILE_KEY] in _MOBILE_PREFIXES:
        return _mobile(local)
    number = _parse_cn(local)
    if number is None or not phonenumbers.is_valid_number(number):
        raise _phone_problem(field, text, local)
    kind_type = phonenumbers.number_type(number)
    if kind_type in _SERVICE_TYPES:
        raise ValidationError(
            field, "Service numbers (400/800/95xxx) cannot be used as a customer's phone"
        )
    national_number = str(number.national_number)
    if kind_type == PhoneNumberType.MOBILE or (
        kind_type == PhoneNumberType.FIXED_LINE_OR_MOBILE and national_number.startswith("1")
    ):
        phone = Phone(
            e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
            national=national_number,
            kind="mobile",
            display=phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
        )
        if len(local) == 11 and local.startswith("1") and phone == _mobile(local):
            _MOBILE_PREFIXES.add(local[:_MOBILE_KEY])
        return phone
    if kind_type not in (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise _phone_problem(field, text, local)
    display = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    area, _space, rest = display.partition(" ")
    return Phone(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        national="0" + national_number,
        kind="landline",
        display=f"{area}-{rest}" if rest else area,
    )


def _local_digits(text: str, field: str) -> str:
    """The digits after the country code and the trunk 0: what follows "+86"."""
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        if not digits.startswith("86"):
            raise ValidationError(field, "Only mainland China (+86) numbers are accepted")
        local = digits[2:]
    elif digits.startswith("0086"):
        local = digits[4:]
    elif digits.startswith("00"):
        raise ValidationError(field, "Only mainland China (+86) numbers are accepted")
    elif digits.startswith("86") and len(digits) >= 12:
        local = digits[2:]
    else:
        local = digits
    # The trunk 0 of landlines (010…), also typed before mobiles dialled from a landline (0138…).
    return local[1:] if local.startswith("0") else local


def _parse_cn(local: str) -> phonenumbers.PhoneNumber | None:
    if not local or len(local) > 17:
        return None
    try:
        return phonenumbers.parse("+86" + local)
    except phonenumbers.NumberParseException:
        return None


def _phone_problem(field: str, text: str, local: str) -> ValidationError:
    """The most helpful message for a number that did not validate."""
    if local.startswith("1") and len(local) != 11 and not local.startswith(("10", "12")):
        return ValidationError(
            field, "Mobile numbers have 11 digits (you entered {length})", length=len(local)
        )
    if re.fullmatch("(95|96|12|10)[0-9]{3,4}", local):
        return ValidationError(
            field, "Service numbers (400/800/95xxx) cannot be used as a customer's phone"
        )
    if re.fullmatch("[2-9][0-9]{6,7}", local) and not text.lstrip("(").startswith(("0", "+")):
        return ValidationError(
            field, "Landline numbers need the area code, e.g. 010-12345678"
        )
    # "010-12345678-8001": a valid landline followed by a short group is an extension.
    head, _sep, last = text.rpartition("-")
    if not head:
        head, _sep, last = text.rpartition(" ")
    if head and last.isdigit() and len(last) <= 5:
        candidate = _parse_cn(_local_digits(head, field))
        if (
            candidate is not None
            and phonenumbers.is_valid_number(candidate)
            and phonenumbers.number_type(candidate) == PhoneNumberType.FIXED_LINE
        ):
            return ValidationError(
                field, "Enter the number without an extension; note the extension separately"
            )
    return ValidationError(field, "Not a valid mainland China phone number")


def mask_phone(national: str) -> str:
    """``13800138000`` -> ``138****8000``: the first 3 and last 4 digits stay, the rest is starred.

    Numbers shorter than 11 digits keep only their last digits (at most 4, at most half).
    """
    digits = re.sub(r"\D", "", national or "")
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    keep = min(4, len(digits) // 2)
    return "*" * (len(digits) - keep) + digits[len(digits) - keep :]
