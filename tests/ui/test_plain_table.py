"""PlainTable draws plain cells itself (for speed); it must draw exactly what DataTable draws."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from crm_tui.ui.widgets.columns import cell, cells, fixed_columns
from crm_tui.ui.widgets.plain_table import PlainTable, fit

WIDTHS = (3, 4, 8, 13)


class One(App[None]):
    def compose(self) -> ComposeResult:
        yield PlainTable(cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        fixed_columns(self.query_one(PlainTable), *((f"c{i}", w) for i, w in enumerate(WIDTHS)))


async def focus_states(table: PlainTable, pilot) -> AsyncIterator[bool]:  # type: ignore[no-untyped-def]
    """The table focused, then not (the cursor and stripes are drawn in other colours)."""
    for focused in (True, False):
        if focused:
            table.focus()
        else:
            pilot.app.set_focus(None)
        await pilot.pause()
        yield focused


def chars(lines: list[list[Segment]]) -> list[list[tuple[str, object]]]:
    """Each line as (character, style) pairs: the same picture whatever the segment boundaries."""
    return [[(ch, seg.style) for seg in line for ch in seg.text] for line in lines]


def pictures(rows: list[list[object]]) -> tuple[list, list, int]:  # type: ignore[type-arg]
    """Every cell drawn by DataTable's own code and by PlainTable's, on the same table: focused and
    not, on the cursor row and off it, on both zebra stripes."""

    async def go() -> tuple[list, list, int]:  # type: ignore[type-arg]
        app = One()
        async with app.run_test(size=(120, 30)) as pilot:
            t = app.query_one(PlainTable)
            for r in rows:
                t.add_row(*r)
            await pilot.pause()
            slow, fast = [], []
            used = sum(t._fast_cell(r, c) is not None for r in range(len(rows)) for c in range(len(WIDTHS)))
            async for _focused in focus_states(t, pilot):
                for row in range(len(rows)):
                    style = t._get_row_style(row, t.rich_style)
                    for col, w in enumerate(WIDTHS):
                        for cursor in (False, True):
                            t._cell_render_cache.clear()
                            fast += chars(t._render_cell(row, col, style, w + 2, cursor=cursor))
                            t._cell_render_cache.clear()
                            slow += chars(DataTable._render_cell(t, row, col, style, w + 2, cursor=cursor))
            return slow, fast, used

    return asyncio.run(go())


SAMPLES = ["", "a", "王", "王小明", "王小明明明明明", "KH2026-000123", "139****8602", "[/]", "[bold]x[/bold]",
           "abc  ", "  lead", "A重点客户", "ab王cd", "ｆｕｌｌ", "a\u3000b", "x\ty", "1\n2", "∑∂", "😀😀😀"]


def test_plain_cells_draw_as_datatable_draws_them() -> None:
    slow, fast, used = pictures([cells(s, s, s, s) for s in SAMPLES])
    assert fast == slow
    assert used >= 4 * (len(SAMPLES) - 6)  # the short way was taken (not for tabs, newlines, trailing spaces…)


def test_styled_and_other_cells_are_left_to_datatable() -> None:
    styled = Text("逾期", style="bold red")
    slow, fast, used = pictures([[styled, "plain [b]markup[/b]", Text.assemble(("a", "red"), "b"), cell("x")]])
    assert fast == slow
    assert used == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=20), min_size=4, max_size=4))
def test_any_text_draws_the_same(texts: list[str]) -> None:
    slow, fast, _used = pictures([cells(*texts)])
    assert fast == slow


def test_fit_cuts_like_rich() -> None:
    assert fit("王小明明", 5, "ellipsis") == "王小…"
    assert fit("王小明明", 4, "ellipsis") == "王 …"  # a wide character never half-drawn
    assert fit("abc", 5, "ellipsis") == "abc  "
    assert fit("abcdef", 4, "crop") == "abcd"
    assert fit("x", 0, "ellipsis") == ""


def visible(strip) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """A line as (character, style) pairs without the mouse metadata (PlainTable marks a whole row
    as column 0: its tables move a row cursor, so a click needs only the row)."""
    return [(ch, str(seg.style)) for seg in strip for ch in seg.text]


def lines(rows: list[list[object]], cursor_row: int = 0, x1: int = 0, width: int | None = None) -> tuple[list, list, int]:  # type: ignore[type-arg]
    """Every line of the table drawn by DataTable's own code and by PlainTable's, focused and not."""

    async def go() -> tuple[list, list, int]:  # type: ignore[type-arg]
        app = One()
        async with app.run_test(size=(120, 30)) as pilot:
            t = app.query_one(PlainTable)
            t.add_plain_rows((str(i), r) for i, r in enumerate(rows))
            t.move_cursor(row=cursor_row)
            await pilot.pause()
            slow, fast, fast_rows = [], [], 0
            w = width or t.size.width
            async for _focused in focus_states(t, pilot):
                base = t.rich_style
                for y in range(len(rows) + 2):
                    t._clear_caches()
                    got = t._render_line(y, x1, x1 + w, base)
                    fast_rows += sum(1 for seg in got if seg.style and (seg.style.meta or {}).get("column") == 0
                                     and not (seg.style.meta or {}).get("out_of_bounds")) == 1 and y > 0
                    fast.append(visible(got))
                    t._clear_caches()
                    slow.append(visible(DataTable._render_line(t, y, x1, x1 + w, base)))
            return slow, fast, fast_rows

    return asyncio.run(go())


def test_plain_rows_draw_as_datatable_draws_them() -> None:
    rows = [cells(s, s + "x", "王小明", s) for s in SAMPLES]
    for cursor_row, x1, width in ((0, 0, None), (3, 0, None), (5, 4, 20), (1, 7, 9)):
        slow, fast, fast_rows = lines(rows, cursor_row, x1, width)
        assert fast == slow, (cursor_row, x1, width)
        assert fast_rows >= len(SAMPLES) - 6  # the short way was taken for the plain rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.text(max_size=16), min_size=4, max_size=4), min_size=1, max_size=4),
       st.integers(0, 3), st.integers(0, 12))
def test_any_rows_draw_the_same(texts: list[list[str]], cursor_row: int, x1: int) -> None:
    slow, fast, _n = lines([cells(*t) for t in texts], cursor_row, x1)
    assert fast == slow
