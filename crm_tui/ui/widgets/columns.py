"""DataTable columns of fixed width.

A DataTable with auto widths measures its cells on idle, after the rows have arrived; a refresh that
races the first page can leave the columns at the width of their headers ('2026 建立 负责', 'custome…').
Fixed widths make the layout independent of which rows arrived when. Widths are in terminal cells
(a Chinese character takes two); a column is never narrower than its header in the UI language.
Values given as ``cell(...)`` end in '…' when cut. Put the widest free text last, so the others stay
on screen.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

# A screen with a profile beside a table stacks them below this width (``HORIZONTAL_BREAKPOINTS``
# and the "-narrow" rules in app.tcss): side by side at 80 columns the table showed only its first
# two columns.
SIDE_BY_SIDE = [(0, "-narrow"), (140, "-wide")]

# Common widths, in cells.
DATE_TIME = 16  # 2026-11-23 10:30
DATE = 10  # 2026-11-23
PERSON = 8  # a staff member's or a person's name: up to four Chinese characters
CUSTOMER_NUMBER = 13  # KH2026-000123
PHONE = 12  # 139****8602; a landline with its area code, 075512345678


def widest(values: Iterable[str], cap: int | None = None) -> int:
    """The width of the widest of ``values`` (labels of a code list, say), at most ``cap``."""
    width = max((cell_len(v) for v in values), default=0)
    return min(width, cap) if cap is not None else width


def fixed_columns(table: DataTable, *columns: tuple[str, int]) -> None:  # type: ignore[type-arg]
    """Add ``(label, width)`` columns; each at least as wide as its label."""
    for label, width in columns:
        table.add_column(label, width=max(width, cell_len(label)))


def cell(value: object) -> Text:
    """A cell shown exactly as typed, cut with '…' when longer than its column.

    A plain string in a DataTable is read as Rich markup: a note with '[red]' in it loses those
    characters, and one with a stray '[/]' raises MarkupError while the table is drawn.
    """
    return Text(str(value), no_wrap=True, overflow="ellipsis", end="")


def cells(*values: object) -> list[Text]:
    return [cell(v) for v in values]
