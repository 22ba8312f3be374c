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
from textual.widgets import DataTable, Static

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


# -- fitting a table to its width (issue 21: 80x24 as a first-class size) ---------------------------
# Every DataTable of a BaseScreen/BaseModal is fitted when its rows arrive and when the terminal is
# resized (ui/base.py): the screens declare each column's width as before; here the columns of free
# text (declared FREE_TEXT cells wide or more) give way first, from the last one, never below
# ``FREE_TEXT_FLOOR`` cells (nor their heading); identifying columns (numbers, names, dates, phones)
# keep their width. What a row holds beyond what the screen shows (a cut note, the columns right of
# the edge) is written out in full, wrapped, in the line under the table (``RowDetail``), so the
# register's archive and product, a watch-list reason or a history detail is read without scrolling.
# A table still wider than its room keeps its first column in view while it scrolls.

FREE_TEXT = 17
FREE_TEXT_FLOOR = 12
_PREFS = "_crm_column_prefs"


def _prefs(table: DataTable) -> dict[object, int] | None:  # type: ignore[type-arg]
    """The widths the screen declared, by column key (None when a column has an automatic width)."""
    prefs: dict[object, int] = table.__dict__.setdefault(_PREFS, {})
    for key, column in table.columns.items():
        if column.auto_width:
            return None
        if key not in prefs:
            prefs[key] = column.width
    return prefs


def floor_width(label: str, declared: int) -> int:
    """How narrow a column may become: free text down to FREE_TEXT_FLOOR (or its heading), any
    other column not at all."""
    if declared < FREE_TEXT:
        return declared
    return min(declared, max(FREE_TEXT_FLOOR, cell_len(label)))


def _longest(table: DataTable, keys: list[object]) -> dict[object, int]:  # type: ignore[type-arg]
    """The widest value of each of these columns, in cells."""
    out: dict[object, int] = {k: 0 for k in keys}
    if not keys:
        return out
    for row in getattr(table, "_data", {}).values():
        for key in keys:
            value = row.get(key)
            text = getattr(value, "plain", None)
            size = cell_len(str(value if text is None else text)) if value is not None else 0
            if size > out[key]:
                out[key] = size
    return out


def fit_table(table: DataTable, room: int) -> bool:  # type: ignore[type-arg]
    """Give the table's columns widths for ``room`` cells. Returns True when it changed them."""
    prefs = _prefs(table)
    if prefs is None or not table.columns or room <= 0:
        return False
    signature = (room, table.row_count, getattr(table, "_update_count", None), tuple(prefs))
    if table.__dict__.get("_crm_fitted") == signature:  # the cursor moved: nothing to refit
        return False
    table.__dict__["_crm_fitted"] = signature
    pad = 2 * table.cell_padding
    columns = table.ordered_columns
    excess = sum(prefs[c.key] + pad for c in columns) - room
    widths = {c.key: prefs[c.key] for c in columns}
    floors = {c.key: floor_width(c.label.plain, prefs[c.key]) for c in columns}
    if excess > 0:
        # first down to the longest value (nothing is cut), then down to the floor
        longest = _longest(table, [c.key for c in columns if floors[c.key] < prefs[c.key]])
        for target in (lambda c: max(floors[c.key], longest.get(c.key, 0)), lambda c: floors[c.key]):
            for column in reversed(columns):
                if excess <= 0:
                    break
                give = max(0, min(widths[column.key] - target(column), excess))
                widths[column.key] -= give
                excess -= give
    # the customer list (PlainTable) keeps its fast drawing, which has no fixed columns; its first
    # column is its number, on screen until the clerk scrolls right
    from crm_tui.ui.widgets.plain_table import PlainTable

    fixed = 1 if excess > 0 and len(columns) > 2 and not isinstance(table, PlainTable) else 0
    changed = any(table.columns[k].width != w for k, w in widths.items()) or table.fixed_columns != fixed
    if changed:
        for key, width in widths.items():
            table.columns[key].width = width
        table.fixed_columns = fixed
        table._require_update_dimensions = True
        table._clear_caches()
        table.refresh()
    return changed


def hidden_cells(table: DataTable, room: int) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    """(heading, value) of the cursor row's cells that are cut, or lie beyond ``room`` cells."""
    if not table.row_count or not table.columns or table.cursor_row < 0:
        return []
    try:
        values = table.get_row_at(table.cursor_row)
    except Exception:  # noqa: BLE001 - the rows are being replaced
        return []
    out = []
    x = 0
    for column, value in zip(table.ordered_columns, values):
        text = getattr(value, "plain", None)
        text = str(value if text is None else text).strip()
        x += column.get_render_width(table)
        if text and (cell_len(text) > column.width or x > room) and column.label.plain:
            out.append((column.label.plain, text))
    return out


class RowDetail(Static):
    """The line under a table that shows the current row's cut or hidden cells in full, wrapped."""

    DEFAULT_CSS = """
    RowDetail {
        height: auto;
        max-height: 4;
        padding: 0 1;
        color: $text-muted;
        background: $boost;
    }
    """

    #: the text it shows now; show_row_detail leaves it alone while that stays the same
    shown: str | None = None


def room_of(table: DataTable) -> int:  # type: ignore[type-arg]
    """The cells a table has for its columns (the terminal's width before it is laid out)."""
    region = table.scrollable_content_region
    if not region.width:
        return max(table.app.size.width - 2, 0)
    # rows that just arrived bring a vertical scrollbar at the next layout: count it now, or the
    # table is fitted two cells too wide and nothing refits it
    if (not table.show_vertical_scrollbar and region.height
            and table.row_count + int(table.show_header) > region.height):
        return max(region.width - table.styles.scrollbar_size_vertical, 0)
    return region.width


def fit_and_detail(table: DataTable) -> None:  # type: ignore[type-arg]
    """Fit the table to its room, then write its row detail: what ui/base.py runs when a table's
    cursor row changes (its rows arrived) and when the screen is resized."""
    if table.is_attached and table.display:
        fit_table(table, room_of(table))
        show_row_detail(table)


def show_row_detail(table: DataTable) -> None:  # type: ignore[type-arg]
    """Write the cursor row's hidden cells under ``table`` (adding the line when first needed)."""
    if not table.is_attached or table.parent is None:
        return
    room = room_of(table)
    cells = hidden_cells(table, room)
    detail = table.__dict__.get("_crm_row_detail")
    if not cells and detail is None:
        return
    from crm_tui.i18n import _

    plain = "  ·  ".join(_("{field}: {reason}", field=label, reason=value) for label, value in cells)
    if detail is not None and detail.shown == plain and detail.display == bool(cells):
        return  # as it is: no update, no layout pass (the refits after every page land here)
    text = Text(plain, end="")
    if detail is None:
        detail = RowDetail(text)
        table.__dict__["_crm_row_detail"] = detail
        table.parent.mount(detail, after=table)
    elif cells or detail.display:
        detail.update(text)
    else:  # hidden, and stays hidden: its text is written when it shows again
        detail.shown = plain
        return
    detail.shown = plain
    detail.display = bool(cells)
