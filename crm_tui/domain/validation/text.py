"""Text fields: the character helpers every validator shares (full-width input, invisible
characters, blank values), free text and the names of persons and organisations (R-CUST-2)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import ParamSpec, TypeVar

from crm_tui.domain.errors import ValidationError


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
