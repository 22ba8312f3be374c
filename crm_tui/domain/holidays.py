"""The branch's holiday schedule (节假日安排): reading a schedule file's rows into entries.

A schedule file has the columns 日期 (date), 类型 (休 = day off / 班 = make-up working day) and
名称 (the holiday's name). Rows are checked all at once: every bad row is named with its row
number and reason, and a file with any bad row is refused whole (nothing is written).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from crm_tui.domain.calendar import ScheduleEntry, ScheduleKind
from crm_tui.domain.errors import ValidationError, ValidationErrors

__all__ = ["COLUMNS", "MAX_NAME", "parse_day", "parse_kind", "parse_name", "parse_rows"]

#: The columns of a schedule file and the header texts accepted for each.
COLUMNS: dict[str, tuple[str, ...]] = {
    "day": ("日期", "date"),
    "kind": ("类型", "type", "kind"),
    "name": ("名称", "name", "holiday"),
}
KINDS: dict[str, ScheduleKind] = {
    "休": "off", "放假": "off", "休息": "off", "假": "off", "off": "off",
    "班": "work", "上班": "work", "调休上班": "work", "补班": "work", "work": "work",
}
MAX_NAME = 30
FIRST_YEAR, LAST_YEAR = 2000, 2100
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")


def parse_day(value: object, field: str = "day") -> date:
    """A date typed as 2027-02-08, 2027/2/8, 2027.2.8, 20270208 or 2027年2月8日."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        d = value
    else:
        text = str(value or "").strip()
        if not text:
            raise ValidationError(field, "The date is missing.")
        m = _DATE.match(text) or _COMPACT.match(text)
        if m is None:
            raise ValidationError(field, "{value} is not a date; write it as 2027-02-08.", value=text)
        try:
            d = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise ValidationError(field, "{value} is not a date of the calendar.", value=text) from None
    if not FIRST_YEAR <= d.year <= LAST_YEAR:
        raise ValidationError(field, "The year must be between {first} and {last}.", first=FIRST_YEAR,
                              last=LAST_YEAR)
    return d


def parse_kind(value: object, field: str = "kind") -> ScheduleKind:
    text = str(value or "").strip()
    kind = KINDS.get(text.lower())
    if kind is None:
        if not text:
            raise ValidationError(field, "The type is missing; write 休 (day off) or 班 (make-up working day).")
        raise ValidationError(field, "{value} is not a type; write 休 (day off) or 班 (make-up working day).",
                              value=text)
    return kind


def parse_name(value: object, field: str = "name") -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise ValidationError(field, "The holiday name is missing.")
    if len(text) > MAX_NAME:
        raise ValidationError(field, "The holiday name is longer than {max} characters.", max=MAX_NAME)
    return text


def _column_index(headers: Sequence[str]) -> dict[str, int]:
    norm = [h.strip().lower() for h in headers]
    found: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for i, h in enumerate(norm):
            if h in names:
                found[key] = i
                break
    missing = [COLUMNS[k][0] for k in COLUMNS if k not in found]
    if missing:
        raise ValidationErrors([ValidationError(
            "file", "The file needs the columns 日期, 类型 and 名称; missing: {columns}.",
            columns=", ".join(missing))])
    return found


def parse_rows(headers: Sequence[str], rows: Iterable[tuple[int, Sequence[str]]]) -> list[ScheduleEntry]:
    """Entries from a file's rows (row number as in the file). Raises ValidationErrors naming every
    bad row; a file with no rows, or a date given twice, is refused too."""
    idx = _column_index(headers)
    errors: list[ValidationError] = []
    entries: list[ScheduleEntry] = []
    seen: dict[date, int] = {}
    for n, cells in rows:
        def cell(key: str) -> str:
            i = idx[key]
            return cells[i] if i < len(cells) else ""

        if not any(str(c).strip() for c in cells):
            continue
        try:
            d = parse_day(cell("day"))
            kind = parse_kind(cell("kind"))
            name = parse_name(cell("name"))
        except ValidationError as e:
            errors.append(ValidationError(f"row{n}", "Row {row}: {reason}", row=n, reason=e.message))
            continue
        if d in seen:
            errors.append(ValidationError(f"row{n}", "Row {row}: {day} is already given in row {first}.",
                                          row=n, day=d.isoformat(), first=seen[d]))
            continue
        seen[d] = n
        entries.append(ScheduleEntry(d, kind, name, "branch"))
    if errors:
        raise ValidationErrors(errors)
    if not entries:
        raise ValidationErrors([ValidationError("file", "The file has no schedule rows.")])
    return sorted(entries, key=lambda e: e.day)


def by_year(entries: Iterable[ScheduleEntry]) -> Mapping[int, list[ScheduleEntry]]:
    out: dict[int, list[ScheduleEntry]] = {}
    for e in entries:
        out.setdefault(e.day.year, []).append(e)
    return out
