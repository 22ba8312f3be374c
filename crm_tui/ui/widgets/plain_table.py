"""A DataTable that draws plain-text cells without Rich's layout engine.

Every keystroke in the customer list replaces the rows of its table, and Textual's DataTable then
draws each visible cell through Rich (``Padding`` + ``Styled`` + ``console.render_lines``): about
0.1 ms a cell, most of a keystroke's cost (benchmarks/results/NOTES.md, "Keystroke"). The cells
of our tables are single-line plain ``Text`` (``columns.cell``) in columns of fixed width, so a
cell is its text cut to the column (with '…', as Rich cuts it) and padded: one string, one style.

``PlainTable`` takes that short way for such cells and leaves everything else (headers, styled
text, other renderables, auto-width columns) to DataTable. It also skips measuring every new cell
when no column has an automatic width (the measurement only feeds automatic widths), and adds a
page of rows in one step (``add_plain_rows``: DataTable.add_row re-sorts the columns, re-checks
the cursor and schedules an idle pass for every single row).
tests/ui/test_plain_table.py checks that both ways draw the same characters in the same styles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import zip_longest
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._segment_tools import line_crop
from textual._types import SegmentLines
from textual.coordinate import Coordinate
from textual.geometry import Offset, Size
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import DuplicateKey, RowKey
from textual.widgets._data_table import Row

_PLAIN_OVERFLOW = ("ellipsis", "crop")


def fit(text: str, width: int, overflow: str) -> str:
    """``text`` cut or padded to exactly ``width`` cells, as Rich draws a no-wrap Text."""
    if width <= 0:
        return ""
    size = cell_len(text)
    if size > width:
        if overflow == "ellipsis":
            return set_cell_size(text, width - 1) + "…"
        return set_cell_size(text, width)
    return text + " " * (width - size) if size < width else text


def _plain(cell: object) -> bool:
    """Is ``cell`` a Text that Rich draws as its characters in one style, on one line?"""
    if type(cell) is not Text or cell.spans or cell.style:
        return False
    plain = cell.plain
    if not plain:  # DataTable swaps an empty cell for a Text of its own (wrapping; nothing to wrap)
        return True
    if cell.justify not in (None, "default", "left") or cell.overflow not in _PLAIN_OVERFLOW or not cell.no_wrap:
        return False
    return plain.isprintable() and plain == plain.rstrip()  # Rich strips trailing spaces when it cuts


class _Frame(NamedTuple):
    """PlainTable's per-repaint reading of the table (``PlainTable._frame``)."""

    plain: bool  # row cursor, no fixed rows or columns, no row labels: the one-run way may apply
    header: int  # lines of the header shown
    width: int
    scroll: Offset
    cursor_at: Coordinate
    hover_at: Coordinate
    tail: tuple[object, ...]  # the rest of a line's cache key
    widths: list[int]  # the columns' render widths, in order
    wide_enough: bool  # every column wider than its padding
    rest: int  # cells right of the last column, filled
    cursor_styles: dict[tuple[bool, bool], Style]  # (hover, cursor) -> what they add, as needed


class PlainTable(DataTable):  # type: ignore[type-arg]
    """DataTable with a fast path for plain single-line Text cells (see the module docstring)."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self._row_styles: dict[tuple[int, Style, object], Style] = {}
        self._pass_style: Style | None = None
        self._pass_frame: _Frame | None = None
        super().__init__(*args, **kwargs)

    def _fast_cell(self, row_index: int, column_index: int) -> Text | None:
        if row_index < 0 or column_index < 0 or self.fixed_columns or self.fixed_rows:
            return None
        row_key = self._row_locations.get_key(row_index)
        row = self.rows.get(row_key) if row_key is not None else None
        if row is None or row.height != 1:
            return None
        cell = self._get_row_renderables(row_index).cells[column_index]
        return cell if _plain(cell) else None

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> SegmentLines:
        cell = self._fast_cell(row_index, column_index) if width > 2 * self.cell_padding else None
        if cell is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (self._row_locations.get_key(row_index), self._column_locations.get_key(column_index), base_style,
               cursor, hover, self._show_hover_cursor, self._update_count, self._pseudo_class_state)
        lines = self._cell_render_cache.get(key)
        if lines is None:
            style = base_style + Style.from_meta({"row": row_index, "column": column_index})
            lines = [[Segment(self._padded(cell, width), style + self._cursor_style(hover, cursor))]]
            self._cell_render_cache[key] = lines
        return lines

    def _cursor_style(self, hover: bool, cursor: bool) -> Style:
        """What the cursor and the hover add to a data cell (DataTable's component and post styles)."""
        component, post = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        return component + post

    def _padded(self, cell: Text, width: int) -> str:
        """A plain cell's text as drawn in a column ``width`` cells wide, padding included."""
        gap = " " * self.cell_padding
        return gap + fit(cell.plain, width - 2 * self.cell_padding, cell.overflow or "ellipsis") + gap

    def render_lines(self, crop):  # type: ignore[no-untyped-def]
        self._pass_style = self.rich_style  # DataTable asks for it at every line: it walks the ancestors
        try:
            return super().render_lines(crop)
        finally:
            self._pass_style = None
            self._pass_frame = None

    def _frame(self) -> _Frame:
        """What every line of a repaint reads, read once for the repaint (DataTable reads each of these
        reactives, the column order and widths at every line: ~40 attribute lookups a line)."""
        frame = self._pass_frame
        if frame is None:
            columns = self.ordered_columns
            widths = [c.get_render_width(self) for c in columns]
            pad = self.cell_padding
            frame = _Frame(
                plain=self.cursor_type == "row" and not self.fixed_columns and not self.fixed_rows
                and not (self._labelled_row_exists and self.show_row_labels),
                header=self.header_height if self.show_header else 0,
                width=self.size.width, scroll=self.scroll_offset,
                cursor_at=self.cursor_coordinate, hover_at=self.hover_coordinate,
                tail=(self.cursor_type, self._show_hover_cursor, self._update_count, self._pseudo_class_state),
                widths=widths, wide_enough=min(widths, default=2 * pad + 1) > 2 * pad,
                rest=self.size.width - sum(widths) - self._row_label_column_width, cursor_styles={})
            if self._pass_style is not None:  # inside a repaint: kept until it ends
                self._pass_frame = frame
        return frame

    def render_line(self, y: int) -> Strip:
        if self.fixed_rows or self._pass_style is None:
            return super().render_line(y)
        frame = self._frame()
        scroll_x, scroll_y = frame.scroll
        if y >= frame.header:
            y += scroll_y
        return self._render_line(y, scroll_x, scroll_x + frame.width, self._pass_style)

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """A data row of plain cells under a row cursor as one run of text in one style (what
        DataTable draws, cell by cell, for such a row); anything else as DataTable draws it."""
        frame = self._frame()
        if not frame.plain:
            return super()._render_line(y, x1, x2, base_style)
        try:
            row_key, line_no = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        if row_key is self._header_row_key or line_no or self.rows[row_key].height != 1:
            return super()._render_line(y, x1, x2, base_style)
        width = frame.width
        cursor_at, hover_at = frame.cursor_at, frame.hover_at
        cache_key = (y, x1, x2, width, cursor_at, hover_at, base_style, *frame.tail)
        strip = self._line_cache.get(cache_key)
        if strip is not None:
            return strip
        row_index = self._row_locations.get(row_key)
        cells = self._get_row_renderables(row_index).cells
        widths = frame.widths
        if not frame.wide_enough or not all(_plain(c) for c in cells):
            return super()._render_line(y, x1, x2, base_style)
        marks = (row_index == hover_at.row, row_index == cursor_at.row)
        cursor_style = frame.cursor_styles.get(marks)
        if cursor_style is None:
            cursor_style = frame.cursor_styles[marks] = self._cursor_style(*marks)
        style = self._row_style(row_index, base_style) + cursor_style
        gap = " " * self.cell_padding
        text = "".join(gap + fit(cell.plain, w - 2 * len(gap), cell.overflow or "ellipsis") + gap  # type: ignore[union-attr]
                       for cell, w in zip(cells, widths))
        segments = [Segment(text, style + Style.from_meta({"row": row_index, "column": 0}))]
        if frame.rest > 0:  # DataTable's fill to the right edge
            segments.append(Segment(" " * frame.rest, style + Style.from_meta(
                {"row": row_index, "column": 0, "out_of_bounds": True})))
        strip = Strip(line_crop(segments, x1, x2, width)).adjust_cell_length(width, base_style).simplify()
        self._line_cache[cache_key] = strip
        return strip

    def _row_style(self, row_index: int, base_style: Style) -> Style:
        """DataTable's ``_get_row_style``, kept: it resolves the stripe's CSS at every line."""
        key = (row_index % 2 if self.zebra_stripes else -1, base_style, self._pseudo_class_state)
        style = self._row_styles.get(key)
        if style is None:
            style = self._row_styles[key] = self._get_row_style(row_index, base_style)
        return style

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._row_styles.clear()

    def notify_style_update(self) -> None:
        self._row_styles.clear()
        super().notify_style_update()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        if any(c.auto_width for c in self.columns.values()) or any(
                self.rows[k].auto_height or self.rows[k].label is not None for k in new_rows if k in self.rows):
            super()._update_dimensions(new_rows)
            return
        width = sum(c.get_render_width(self) for c in self.columns.values()) + self._row_label_column_width
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(width, self._total_row_height + header)

    def add_plain_rows(self, rows: Iterable[tuple[str, Sequence[object]]]) -> None:
        """Append rows of height 1, each ``(key, cells)``: what ``add_row(*cells, key=key)`` does
        for each, with the per-table work done once."""
        columns = self.ordered_columns
        start = self.row_count
        index = start
        for key, cells in rows:
            row_key = RowKey(key)
            if row_key in self._row_locations:
                raise DuplicateKey(f"The row key {row_key!r} already exists.")
            if len(cells) > len(columns):
                raise ValueError("More values provided than there are columns.")
            self._row_locations[row_key] = index
            self._data[row_key] = {column.key: value for column, value in zip_longest(columns, cells)}
            self.rows[row_key] = Row(row_key, 1, None, False)
            self._new_rows.add(row_key)
            index += 1
        if index == start:
            return
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if start == 0 and columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()  # a cursor position has opened: DataTable tells it as add_row does
        self._update_count += 1
        self.check_idle()
        self.refresh()
