"""Identifiers and coded values: resident ID numbers (R-CUST-3), unified social credit codes,
e-mail addresses, postcodes and coded choices."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Literal

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from crm_tui.domain.errors import ValidationError
from crm_tui.i18n import LANGUAGES, translate_in
from crm_tui.domain.validation.text import EMAIL_MAX, _prepare_code


# --------------------------------------------------------------------------------------------
# Resident identity card number (居民身份证号码), R-CUST-3
# --------------------------------------------------------------------------------------------

#: Province-level codes (GB/T 2260) that can start an ID number, plus 81/82/83 used by the
#: residence permits of Hong Kong, Macao and Taiwan residents, which share the format.
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83".split()
)
_ID_BIRTH_EARLIEST = date(1900, 1, 1)


def _id_structure(value: object, field: str) -> tuple[str, date]:
    """Check everything that does not depend on today; return the number and the birth date."""
    number = re.sub("[ -]", "", _prepare_code(value, field)).upper()
    if len(number) == 15 and number.isascii() and number.isdigit():
        raise ValidationError(
            field,
            "This is an old 15-digit ID number; ask for the 18-digit number on the current card",
        )
    if len(number) != 18:
        raise ValidationError(
            field, "ID numbers have 18 characters (you entered {length})", length=len(number)
        )
    if not re.fullmatch("[0-9]{17}[0-9X]", number):
        raise ValidationError(
            field, "ID numbers contain only digits, with X allowed as the last character"
        )
    if number[-1] != ric.calc_check_digit(number):
        raise ValidationError(
            field, "The ID number's check digit is wrong; please check every digit"
        )
    try:
        birth = ric.get_birth_date(number)
    except StdnumError:  # InvalidComponent: no such day
        birth = None
    if birth is None or birth < _ID_BIRTH_EARLIEST:
        raise ValidationError(
            field,
            "The birth date in the ID number ({digits}) is not a real date",
            digits=number[6:14],
        )
    if number[:2] not in _PROVINCES:
        raise ValidationError(
            field, "The ID number starts with an unknown region code ({code})", code=number[:6]
        )
    return number, birth


def validate_id_number(value: str | None, field: str = "id_number", *, today: date) -> str:
    """An 18-character resident identity card number; a final x becomes X.

    Checks, each with its own message: length (and old 15-digit numbers), characters, the
    ISO 7064 check digit (``stdnum.cn.ric``), a real birth date not before 1900, not after
    ``today``, and a known province code. The county part is not checked against stdnum's
    table on purpose: that table dates counties by the birth year, while the code on a card is
    the household registration at issue time, so genuine cards (e.g. 110112 for people born in
    Tongxian before it became 通州区 in 1997) would be refused.
    """
    number, birth = _id_structure(value, field)
    if birth > today:
        raise ValidationError(
            field,
            "The birth date in the ID number ({date}) is in the future",
            date=birth.isoformat(),
        )
    return number


def id_number_birth_date(value: str) -> date:
    """The birth date encoded in a (valid) ID number; raises ValidationError otherwise."""
    return _id_structure(value, "id_number")[1]


def id_number_gender(value: str) -> Literal["M", "F"]:
    """"M" or "F" from the 17th digit (odd for men); raises ValidationError for invalid numbers."""
    number, _birth = _id_structure(value, "id_number")
    return "M" if int(number[16]) % 2 else "F"


def mask_id_number(value: str) -> str:
    """Keep the first 6 and last 4 characters: ``110101********1234``.

    Short or odd values are masked except their last 2 characters, never shown whole.
    """
    text = re.sub(r"\s", "", value or "")
    if len(text) >= 12:
        return text[:6] + "*" * (len(text) - 10) + text[-4:]
    keep = min(2, len(text) // 3)
    return "*" * (len(text) - keep) + text[len(text) - keep :]


# --------------------------------------------------------------------------------------------
# Unified social credit code (统一社会信用代码)
# --------------------------------------------------------------------------------------------

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Registration authorities (GB 32100-2015 and later additions): 1-9, A (military), N (agriculture,
#: rural collective economic organisations), Y (others). stdnum only admits digits here.
_USCC_AUTHORITIES = "123456789ANY"


def validate_uscc(value: str | None, field: str = "uscc") -> str:
    """An 18-character unified social credit code, upper-cased, spaces and dashes removed.

    Length and characters first, then the GB 32100 check character (``stdnum.cn.uscc``).
    Codes issued by agricultural authorities (N...) and the military (A...) are accepted.
    """
    code = re.sub("[ -]", "", _prepare_code(value, field)).upper()
    if len(code) != 18:
        raise ValidationError(
            field,
            "Unified social credit codes have 18 characters (you entered {length})",
            length=len(code),
        )
    for char in code:
        if char not in _USCC_ALPHABET:
            raise ValidationError(
                field,
                "The character “{char}” cannot appear in a unified social credit code "
                "(I, O, S, V and Z are never used)",
                char=char,
            )
    if code[0] not in _USCC_AUTHORITIES or not code[2:8].isdigit():
        raise ValidationError(
            field,
            "This does not look like a unified social credit code; please check it against "
            "the business licence",
        )
    if code[-1] != uscc.calc_check_digit(code[:-1]):
        raise ValidationError(
            field,
            "The unified social credit code's check character is wrong; please check every "
            "character",
        )
    return code


# --------------------------------------------------------------------------------------------
# E-mail, postcode
# --------------------------------------------------------------------------------------------

_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_EMAIL_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_EMAIL_TLD = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")


def validate_email(value: str | None, field: str = "email") -> str:
    """A pragmatic e-mail check: ``local@domain.tld``, ASCII local part (kept as typed), domain
    lower-cased (internationalised domains such as 例子.中国 allowed), at most 254 characters.
    A "。" typed with a Chinese input method counts as a dot.
    """
    text = _prepare_code(value, field).replace("。", ".").replace("．", ".")
    if len(text) > EMAIL_MAX:
        raise ValidationError(
            field, "E-mail addresses are at most {max_len} characters", max_len=EMAIL_MAX
        )
    if text.count("@") != 1:
        raise ValidationError(field, "An e-mail address contains exactly one @")
    local, domain = text.split("@")
    domain = domain.lower()
    invalid = ValidationError(field, "Not a valid e-mail address (e.g. name@example.com)")
    if len(local) > 64 or not _EMAIL_LOCAL.fullmatch(local):
        raise invalid
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
        unicode_domain = ascii_domain.encode("ascii").decode("idna")
    except (UnicodeError, ValueError):
        raise invalid from None
    labels = ascii_domain.split(".")
    if (
        len(labels) < 2
        or not all(_EMAIL_LABEL.fullmatch(label) for label in labels)
        or not _EMAIL_TLD.fullmatch(labels[-1])
    ):
        raise invalid
    result = f"{local}@{unicode_domain.lower()}"
    if len(result) > EMAIL_MAX or len(f"{local}@{ascii_domain}") > EMAIL_MAX:
        raise ValidationError(
            field, "E-mail addresses are at most {max_len} characters", max_len=EMAIL_MAX
        )
    return result


def validate_postcode(value: str | None, field: str = "postcode") -> str:
    """A mainland China postcode (邮政编码): 6 digits, spaces ignored."""
    code = re.sub(" ", "", _prepare_code(value, field))
    if not re.fullmatch("[0-9]{6}", code):
        raise ValidationError(field, "Postcodes have 6 digits")
    return code


# --------------------------------------------------------------------------------------------
# Coded choices
# --------------------------------------------------------------------------------------------


def validate_choice(value: str | None, field: str, choices: Mapping[str, str]) -> str:
    """A coded choice (gender, category, ...): ``choices`` maps code -> label msgid.

    Accepts the code (case-insensitive when unambiguous), or the label in English or in any UI
    language (so an imported sheet saying 男 gives "M"). Returns the code.
    """
    text = _prepare_code(value, field)
    if text in choices:
        return text
    code = _choice_code(text, tuple(choices.items()))
    if code is not None:
        return code
    raise ValidationError(field, "Choose one of: {options}", options=", ".join(choices))


@lru_cache(maxsize=1024)
def _choice_code(text: str, choices: tuple[tuple[str, str], ...]) -> str | None:
    """The code ``text`` names (by code or by label in any UI language), None if not exactly one;
    remembered: an import asks "男" of every row."""
    folded = text.casefold()
    matches = [code for code, _label in choices if code.casefold() == folded]
    if len(matches) != 1:
        matches = [
            code
            for code, label in choices
            if folded
            in {label.casefold(), *(translate_in(lang, label).casefold() for lang in LANGUAGES)}
        ]
    return matches[0] if len(matches) == 1 else None
