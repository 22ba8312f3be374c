"""Dates, days, money amounts and budgets as people type them."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation, localcontext

from crm_tui.domain.errors import ValidationError
from crm_tui.domain.validation.text import EARLIEST_DATE, MAX_MONEY, _prepare_code


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
