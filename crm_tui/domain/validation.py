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
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation, localcontext
from functools import lru_cache
from typing import Literal, ParamSpec, TypeVar

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from crm_tui.domain.errors import ValidationError
from crm_tui.i18n import LANGUAGES, translate_in

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

P = ParamSpec("P")
T = TypeVar("T")

EARLIEST_DATE = date(1900, 1, 1)
PERSON_NAME_MAX = 50
ORG_NAME_MAX = 100
EMAIL_MAX = 254
#: Largest amount accepted (fits NUMERIC(18, 2)).
MAX_MONEY = Decimal("9999999999999999.99")

# --------------------------------------------------------------------------------------------
# Character helpers
# --------------------------------------------------------------------------------------------

#: Full-width ASCII (U+FF01..U+FF5E) to ASCII, ideographic space to space.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
#: Every Unicode space separator (category Zs) becomes an ASCII space.
_SPACES = {
    cp: 0x20
    for cp in (0x00A0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)
}
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85]")
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACE_RUNS = re.compile(" {2,}")
_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"


def is_blank(value: object) -> bool:
    """True for ``None`` and strings that hold only whitespace (ideographic space included)."""
    return value is None or (isinstance(value, str) and not value.translate(_SPACES).strip())


def optional(
    validator: Callable[P, T], value: str | None, /, *args: P.args, **kwargs: P.kwargs
) -> T | None:
    """Run ``validator(value, *args, **kwargs)`` unless ``value`` is blank, then return ``None``.

    ``optional(validate_email, form["email"], "email")``
    """
    if is_blank(value):
        return None
    return validator(value, *args, **kwargs)  # type: ignore[arg-type]


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    return value


def _prepare_code(value: object, field: str) -> str:
    """Identifier input: fold full-width, drop invisible format characters, strip; blank raises."""
    text = _as_text(value)
    if text.isascii():  # nothing to fold, no format characters (the common case)
        text = text.strip()
    else:
        text = text.translate(_FULLWIDTH).translate(_SPACES)
        if not text.isprintable():  # format characters (Cf) are not printable
            text = "".join(c for c in text if unicodedata.category(c) != "Cf")
        text = text.strip()
    if not text:
        raise ValidationError(field, "This field is required")
    return text


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


# --------------------------------------------------------------------------------------------
# Free text
# --------------------------------------------------------------------------------------------


def clean_text(
    value: str | None,
    field: str,
    *,
    max_len: int,
    required: bool = False,
    multiline: bool = False,
) -> str | None:
    """Strip, check and NFC-normalise free text; blank gives ``None`` (or "required").

    Every kind of space (ideographic/full-width space, no-break space, ...) becomes an ASCII
    space. One line: runs of spaces collapse to one, line breaks are refused. Multiline: line
    breaks become ``\\n``, trailing spaces on each line are removed, more than one empty line in
    a row is reduced to one, indentation inside the text is kept. Control characters (tab and
    newline allowed in multiline), invisible format characters (zero-width space, BOM, bidi
    controls), lone surrogates, private-use and unassigned code points are refused.
    """
    text = _LINE_BREAKS.sub("\n", _as_text(value)).translate(_SPACES)
    if multiline:
        text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    text = text.strip(" \t\n")
    if not text:
        if required:
            raise ValidationError(field, "This field is required")
        return None
    # str.isprintable() is False exactly for the categories C* and Z* (but the ASCII space); spaces
    # and line breaks were folded above, so printable text holds nothing the loop below refuses
    # and the loop (which names the character) runs only when something may be refused.
    plain = text.replace("\n", "").replace("\t", "") if multiline else text
    for position, char in () if plain.isprintable() else enumerate(text, start=1):
        if char in "\n\t" and multiline:
            continue
        if char == "\n":
            raise ValidationError(field, "Line breaks are not allowed here")
        category = unicodedata.category(char)
        if category == "Cc":
            raise ValidationError(
                field,
                "Contains a control character ({code}) at position {position}",
                code=_codepoint(char),
                position=position,
            )
        if category == "Cf":
            raise ValidationError(
                field,
                "Contains an invisible character ({code}) at position {position}; "
                "delete it and retype",
                code=_codepoint(char),
                position=position,
            )
        if category in ("Cs", "Co", "Cn"):
            raise ValidationError(
                field,
                "Contains an unsupported character ({code}) at position {position}",
                code=_codepoint(char),
                position=position,
            )
    text = unicodedata.normalize("NFC", text)
    if multiline:
        if "\n\n\n" in text:
            text = _BLANK_LINES.sub("\n\n", text)
    elif "  " in text:
        text = _SPACE_RUNS.sub(" ", text)
    if len(text) > max_len:
        raise ValidationError(
            field,
            "Too long: at most {max_len} characters (currently {length})",
            max_len=max_len,
            length=len(text),
        )
    return text


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

#: Look-alikes of the name separator "·" (U+00B7) typed with various input methods.
_NAME_DOTS = {cp: "·" for cp in (0x2022, 0x2027, 0x2219, 0x22C5, 0x2E31, 0x30FB, 0xFF65)}
_NAME_QUOTES = {0x2018: "'", 0x2019: "'", 0x02BC: "'", 0x2010: "-", 0x2011: "-", 0x2013: "-"}
_NAME_SEPARATORS = "·-'. "
_ALL_HAN = re.compile(f"[{_HAN}]+")
#: Full-width Latin letters and separators typed with a Chinese input method.
_NAME_FOLD = {
    cp: _FULLWIDTH[cp]
    for cp in (*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B), 0xFF07, 0xFF0D, 0xFF0E)
}


def validate_person_name(value: str | None, field: str = "name") -> str:
    """A person's name: Chinese (张三, 阿卜杜·热合曼) or Latin (Anna-Lena O'Brien), 1..50 characters.

    Letters, spaces and the separators ``· - ' .``; digits and other symbols are refused. Dot
    look-alikes become "·"; a "." between two Chinese characters becomes "·"; spaces between
    Chinese characters and around "·" are removed. Latin letter case is kept as typed.
    """
    text = clean_text(
        _as_text(value).translate(_NAME_FOLD), field, max_len=PERSON_NAME_MAX, required=True
    )
    assert text is not None
    if _ALL_HAN.fullmatch(text):  # 张三: nothing to fold, every character a letter
        return text
    text = text.translate(_NAME_DOTS).translate(_NAME_QUOTES)
    text = re.sub(rf"(?<=[{_HAN}]) ?\. ?(?=[{_HAN}])", "·", text)
    text = re.sub(r" ?· ?", "·", text)
    text = re.sub(rf"(?<=[{_HAN}]) (?=[{_HAN}])", "", text)
    previous = ""
    for char in text:
        category = unicodedata.category(char)
        if category[0] == "L" or char == "\u3007" or (category[0] == "M" and previous == "L"):
            previous = "L"
            continue
        if category[0] == "N":
            raise ValidationError(field, "Names cannot contain digits")
        if char not in _NAME_SEPARATORS:
            raise ValidationError(
                field, "The character “{char}” is not allowed in a name", char=char
            )
        previous = char
    if not _name_well_formed(text):
        raise ValidationError(
            field, "A name must start with a letter, and · - ' . may only stand between letters"
        )
    return text


def _name_well_formed(text: str) -> bool:
    def is_letter(c: str) -> bool:
        return c == "\u3007" or unicodedata.category(c)[0] in "LM"

    if not is_letter(text[0]) or not (is_letter(text[-1]) or text[-1] == "."):
        return False
    for a, b in zip(text, text[1:]):
        if not is_letter(a) and not is_letter(b) and (a, b) != (".", " "):
            return False
    return True


def validate_org_name(value: str | None, field: str = "org_name") -> str:
    """An organisation's name, 1..100 characters on one line, with at least one letter.

    Brackets are made consistent for duplicate search: full-width （） in names with Chinese
    characters (as on business licences), ASCII () otherwise.
    """
    text = clean_text(value, field, max_len=ORG_NAME_MAX, required=True)
    assert text is not None
    if re.search(f"[{_HAN}]", text):
        text = text.replace("(", "（").replace(")", "）")
    else:
        text = text.replace("（", "(").replace("）", ")")
    if not any(unicodedata.category(c)[0] == "L" for c in text):
        raise ValidationError(
            field, "An organisation name must contain letters or Chinese characters"
        )
    return text


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
# Dates
# --------------------------------------------------------------------------------------------

_DATE_PATTERNS = (
    re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})"),
    re.compile(r"([0-9]{4})()([0-9]{2})([0-9]{2})"),
    re.compile(r"([0-9]{4}) ?年 ?()([0-9]{1,2}) ?月 ?([0-9]{1,2}) ?[日号]?"),
)


def validate_date(
    value: str | date | None,
    field: str,
    *,
    today: date,
    allow_future: bool = False,
    earliest: date = EARLIEST_DATE,
) -> date:
    """A calendar date typed as ``2024-03-05``, ``2024/3/5``, ``2024.3.5``, ``20240305`` or
    ``2024年3月5日`` (also ``5号``). Two-digit years are refused as ambiguous. A ``date`` passes
    through the range checks. Dates after ``today`` are refused unless ``allow_future``; dates
    before ``earliest`` always.
    """
    if isinstance(value, date):
        result = value if type(value) is date else date(value.year, value.month, value.day)
    else:
        text = re.sub(" +", " ", _prepare_code(value, field))
        for pattern in _DATE_PATTERNS:
            match = pattern.fullmatch(text)
            if match:
                break
        else:
            raise ValidationError(
                field, "Enter the date as year-month-day, e.g. 2024-03-05"
            )
        year, _sep, month, day = match.groups()
        try:
            result = date(int(year), int(month), int(day))
        except ValueError:
            raise ValidationError(
                field,
                "{date} is not a real date",
                date=f"{year}-{int(month):02d}-{int(day):02d}",
            ) from None
    if result > today and not allow_future:
        raise ValidationError(
            field, "The date cannot be later than today ({today})", today=today.isoformat()
        )
    if result < earliest:
        raise ValidationError(
            field, "The date cannot be earlier than {earliest}", earliest=earliest.isoformat()
        )
    return result


# --------------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------------

_MONEY = re.compile(
    r"(?P<sign>[+-]?)[¥￥]?(?P<number>(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?)"
    r"(?P<unit>万元|万|亿元|亿|元)?"
)
_UNITS = {"": 1, "元": 1, "万": 10_000, "万元": 10_000, "亿": 100_000_000, "亿元": 100_000_000}
_CENT = Decimal("0.01")


def validate_money(value: str | None, field: str) -> Decimal:
    """An amount in yuan (e.g. registered capital): ``500``, ``500.00``, ``1,000,000``, ``¥500``,
    ``500万`` (= 5,000,000), ``1.5亿``, ``500万元``. Not negative, at most 2 decimal places after
    applying the unit, at most :data:`MAX_MONEY`. Returns a Decimal with exactly 2 places.
    """
    text = re.sub(" ", "", _prepare_code(value, field))
    match = _MONEY.fullmatch(text)
    if not match:
        raise ValidationError(field, "Enter an amount such as 500, 1,000,000.50 or 500万")
    number = match["number"].replace(",", "")
    with localcontext() as ctx:
        ctx.prec = len(number) + 20
        amount = Decimal(number) * _UNITS[match["unit"] or ""]
        if match["sign"] == "-" and amount != 0:
            raise ValidationError(field, "The amount cannot be negative")
        if amount > MAX_MONEY:
            raise ValidationError(field, "The amount is too large")
        try:
            cents = amount.quantize(_CENT)
        except InvalidOperation:  # pragma: no cover - prec always suffices
            raise ValidationError(field, "The amount is too large") from None
        if cents != amount:
            raise ValidationError(field, "At most 2 decimal places")
        return abs(cents)


_WAN = Decimal(10_000)
_YI = Decimal(100_000_000)


def format_money(amount: Decimal | int | str) -> str:
    """An amount in yuan written as people write it, so that :func:`validate_money` reads it back
    to the same value: whole 亿 or 万 with their unit (``500万元``, ``1.5亿元``), otherwise yuan
    (``1280元``, ``1280.50元``)."""
    value = Decimal(str(amount)).quantize(_CENT)
    for unit, size in (("亿元", _YI), ("万元", _WAN)):
        if value >= size:
            scaled = value / size
            if scaled == scaled.to_integral_value() or (scaled * 100) == (scaled * 100).to_integral_value():
                text = format(scaled.normalize(), "f")
                return text + unit
    if value == value.to_integral_value():
        return f"{int(value)}元"
    return f"{value}元"


_BUDGET = re.compile(
    r"(?P<pre>约|大约|大概)?(?P<low>[0-9][0-9,.]*(?:万元|万|亿元|亿|元)?)"
    r"(?:(?:-|~|～|—|到|至)(?P<high>[0-9][0-9,.]*(?:万元|万|亿元|亿|元)?))?"
    r"(?P<post>左右|以内|以下|以上|上下)?"
)


def validate_budget(value: str | None, field: str = "budget") -> str:
    """A budget as a customer states it: an amount (``12万``, ``150000``, ``12.5万元``), a range
    (``20-25万``, ``20万到25万``) or an approximation (``15万左右``, ``30万以内``, ``约20万``).
    Each amount must read as money (:func:`validate_money`; the unit of the upper end applies to
    a lower end written without one); the text is kept as typed, so it is shown back the same way.
    Blank gives ``""``."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or ""))
    if not text:
        return ""
    match = _BUDGET.fullmatch(text)
    if not match:
        raise ValidationError(field, "Enter a budget such as 15万, 20-25万 or 30万以内")
    high = match["high"]
    low = match["low"]
    if high:
        unit = re.search(r"(万元|万|亿元|亿|元)$", high)
        if unit and not re.search(r"(万元|万|亿元|亿|元)$", low):
            low += unit[1]
    try:
        amounts = [validate_money(part, field) for part in (low, high) if part]
    except ValidationError:
        raise ValidationError(field, "Enter a budget such as 15万, 20-25万 or 30万以内") from None
    if len(amounts) == 2 and amounts[0] > amounts[1]:
        raise ValidationError(field, "The lower end of the range is above the upper end")
    if all(a == 0 for a in amounts):
        raise ValidationError(field, "Enter a budget such as 15万, 20-25万 or 30万以内")
    return text


_MONTH_DAY = (
    re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})"),
    re.compile(r"([0-9]{1,2}) ?月 ?([0-9]{1,2}) ?[日号]?"),
)


def parse_day(value: str | date | None, field: str, *, today: date, allow_future: bool = False,
              earliest: date = EARLIEST_DATE) -> date:
    """A date as a clerk types it on a form: everything :func:`validate_date` reads
    (``2026-12-6``, ``2026/12/06``, ``2026年12月6日``), and month and day alone (``12/6``, ``12-6``,
    ``12月6日``), which mean that day of ``today``'s year."""
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        for pattern in _MONTH_DAY:
            match = pattern.fullmatch(text)
            if match:
                value = f"{today.year}-{int(match[1])}-{int(match[2])}"
                break
    return validate_date(value, field, today=today, allow_future=allow_future, earliest=earliest)


def format_day(value: date) -> str:
    """A date shown back on a form: ``2026-12-06``, which :func:`parse_day` reads."""
    return value.isoformat()


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
