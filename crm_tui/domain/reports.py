"""Reporting periods and the plain-text layout of the review pack (pure: no database, no UI).

A week runs Monday to Sunday (the follow-up review's week, R-FU-5); a month is a calendar month.
Periods are inclusive of both end dates; ``bounds`` gives the half-open datetime range used in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from rich.cells import cell_len

from crm_tui.domain.errors import ValidationError, ValidationErrors

KINDS = ("week", "month")


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks_ending(day: date, n: int) -> list[date]:
    """The Mondays of the ``n`` weeks ending with the week of ``day``, oldest first."""
    last = week_start(day)
    return [last - timedelta(weeks=n - 1 - i) for i in range(n)]


@dataclass(frozen=True)
class Period:
    kind: str  # week | month
    start: date
    end: date  # inclusive

    @classmethod
    def of(cls, kind: str, day: date) -> Period:
        if kind == "week":
            s = week_start(day)
            return cls(kind, s, s + timedelta(days=6))
        if kind == "month":
            s = day.replace(day=1)
            nxt = (s + timedelta(days=32)).replace(day=1)
            return cls(kind, s, nxt - timedelta(days=1))
        raise ValidationErrors([ValidationError("period", "A report period is a week or a month")])

    def shifted(self, steps: int) -> Period:
        """The period ``steps`` periods later (earlier when negative)."""
        if self.kind == "week":
            return Period.of("week", self.start + timedelta(weeks=steps))
        month = self.start.year * 12 + self.start.month - 1 + steps
        return Period.of("month", date(month // 12, month % 12 + 1, 1))

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return datetime.combine(self.start, time()), datetime.combine(self.end + timedelta(days=1), time())

    @property
    def weeks(self) -> list[date]:
        """Mondays of the weeks that overlap the period, oldest first (the pack's weekly series)."""
        out, d = [], week_start(self.start)
        while d <= self.end:
            out.append(d)
            d += timedelta(weeks=1)
        return out

    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}"


def share(part: int | None, whole: int | None) -> float | None:
    """part / whole, or None when there is nothing to divide (shown as a dash, never as 0 %)."""
    if not whole:
        return None
    return (part or 0) / whole


class Figure(str):
    """A number as the screen and the text report show it (``82%``, ``4.50``, ``1,000,000``) that
    keeps its value and a spreadsheet number format, so an XLSX cell holds the number (Excel sums
    and sorts it) and shows it the same way."""

    value: float
    number_format: str

    def __new__(cls, text: str, value: float, number_format: str) -> Figure:
        obj = super().__new__(cls, text)
        obj.value = value
        obj.number_format = number_format
        return obj


def pct(x: float | None) -> str:
    return "—" if x is None else Figure(f"{x * 100:.0f}%", x, "0%")


def ratio(part: int | None, whole: int | None) -> str:
    """A share with its counts, ``82% (9/11)``; with nothing to divide a dash and the count,
    ``— (0)``: no percentage without a denominator (R-KPI-1). In an XLSX cell the share is a number
    (an empty cell when there is no denominator)."""
    if not whole:
        return f"— ({whole or 0})"
    x = (part or 0) / whole
    return Figure(f"{x * 100:.0f}% ({part or 0}/{whole})", x, "0%")


def num(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else Figure(f"{x:.{digits}f}", round(x, digits), "0." + "0" * digits if digits else "0")


def amount(x: float | int | None) -> str:
    """A whole amount with thousands separators (credit limits in yuan)."""
    return "—" if x is None else Figure(f"{x:,}", x, "#,##0")


def _pad(s: str, width: int, right: bool) -> str:
    gap = max(0, width - cell_len(s))
    return " " * gap + s if right else s + " " * gap


def text_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A plain-text table aligned by display width (Chinese characters take two columns): text
    columns left, numbers right; two spaces between columns; a rule under the header."""
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(cell_len(r[i]) for r in cells) for i in range(len(header))]
    numeric = [all(is_figure(r[i]) for r in cells[1:]) and len(cells) > 1 for i in range(len(header))]
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(_pad(c, widths[i], numeric[i]) for i, c in enumerate(r)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def is_figure(s: str) -> bool:
    """A number, percentage, week label or dash: right-aligned in tables (text and screen)."""
    if s.endswith(")") and " (" in s:  # a share with its counts: 82% (9/11), — (0)
        s, counts = s[:-1].split(" (", 1)
        if not counts.replace("/", "", 1).isdigit():
            return False
    t = s.rstrip("%").replace(",", "").replace(".", "", 1).replace("-", "", 1)
    return t.isdigit() or s in ("—", "")


def text_bars(items: Sequence[tuple[str, float | int | None]], width: int = 30, fmt: str = "{:g}") -> list[str]:
    """A horizontal bar chart in plain text (prints on any printer): label, bar, value."""
    vals = [v for _l, v in items if v is not None]
    top = max(vals) if vals else 0
    lw = max((cell_len(lbl) for lbl, _v in items), default=0)
    out = []
    for lbl, v in items:
        bar = "" if not top or v is None else "#" * max(1 if v else 0, round(width * v / top))
        out.append(f"{_pad(lbl, lw, False)}  {bar:<{width}}  {'—' if v is None else fmt.format(v)}".rstrip())
    return out
