"""80x24 as a first-class size (issue 21, item 3): on every screen and dialog the footer shows F1 and
the role's area keys, and no visible table column is cut to fewer than 6 characters where its value
is longer. The walk goes through every area of every role, keyboard only, from home."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable

from crm_tui.ui.widgets.columns import FREE_TEXT_FLOOR, fit_table, floor_width
from crm_tui.ui.widgets.footer import ClerkFooter, plan
from tests.ui.conftest import settle, sign_in

SIZE = (80, 24)

# (role's user, [key sequences from home]); "open:NAME" opens an area that has no key of its own
# (the palette's way), "type:TEXT" types text.
WALK: dict[str, list[list[str]]] = {
    "qiantai": [[], ["f2"], ["f2", "ctrl+n"], ["f3"], ["f4"], ["f4", "ctrl+n"], ["f1"]],
    "jingli": [[], ["f2"], ["f2", "down", "enter"], ["f2", "ctrl+w"], ["f2", "ctrl+w", "3"], ["f3"], ["f3", "3", "enter"],
               ["f3", "ctrl+n"], ["f3", "ctrl+r"], ["f4"], ["f4", "enter"], ["f5"], ["f5", "ctrl+n"]],
    "kezhang": [[], ["f4", "ctrl+b"], ["f4", "ctrl+r"], ["f5"], ["f5", "enter"], ["f5", "2"], ["f5", "ctrl+g"],
                ["f5", "ctrl+r"], ["f6"], ["f6", "2"], ["f6", "3"], ["f6", "4"], ["f12"], ["open:incidents"]],
    "fujingli": [[], ["f5"], ["f12"]],
    "neiguan": [[], ["f8"], ["f5", "3"], ["open:incidents"]],
    "admin": [[], ["f7"], ["f7", "a"], ["f7", "b"], ["f8"], ["f9"], ["f11"], ["open:calendar"],
              ["open:calendar", "a"]],
}


def test_footer_plan_keeps_f1_and_the_areas_and_fills_the_rest() -> None:
    first = [("f1", "帮助", "帮助")]
    areas = [(f"f{i}", "客户档案", "客户") for i in range(2, 9)]
    fixed, shown = plan(80, first, areas, [("^n", "新建"), ("esc", "返回"), ("^q", "退出登录")])
    assert [k for k, _d in fixed] == ["f1"] + [f"f{i}" for i in range(2, 9)]
    assert all(d == "客户" for _k, d in fixed[1:])  # the full names would crowd out the screen's keys
    assert shown and shown[0] == 0
    # far too narrow: the keys alone, F1 still named
    fixed, shown = plan(30, first, areas, [("^n", "新建")])
    assert fixed[0] == ("f1", "帮助") and all(d == "" for _k, d in fixed[1:]) and shown == []
    # wide: full names and every key
    fixed, shown = plan(200, first, areas, [("^n", "新建"), ("esc", "返回")])
    assert all(d == "客户档案" for _k, d in fixed[1:]) and shown == [0, 1]


def test_only_free_text_columns_give_way_and_not_below_their_floor() -> None:
    assert floor_width("客户", 13) == 13  # an identifying column keeps its width
    assert floor_width("备注", 40) == FREE_TEXT_FLOOR
    assert floor_width("一个很长很长的列标题", 30) == 20


def _footer_keys(app) -> list[str]:  # type: ignore[no-untyped-def]
    footer = app.screen.query_one(ClerkFooter)
    keys = [k for k in footer.children if k.region.width]
    assert all(k.region.right <= app.size.width for k in keys), "a footer key runs off the screen"
    return [k.key for k in keys]


def _area_keys(app) -> set[str]:  # type: ignore[no-untyped-def]
    keys = {a.key for a in app.areas if a.key and (a.permission is None or app.actor.can(a.permission))}
    return keys | {"f10"}


def _cut_columns(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Visible columns narrower than 6 cells whose value is longer (e.g. '13766…')."""
    bad = []
    for table in app.screen.query(DataTable):
        if not table.display or not table.region.width:
            continue
        room = table.scrollable_content_region.width
        x = 0
        for column in table.ordered_columns:
            if x >= room:
                break
            x += column.get_render_width(table)
            if column.width >= 6:
                continue
            for row in range(table.row_count):
                value = table.get_row_at(row)[table.ordered_columns.index(column)]
                text = str(getattr(value, "plain", value))
                if cell_len(text) > column.width:
                    bad.append(f"{table.id}:{column.label.plain}={text!r}")
                    break
    return bad


async def _go(pilot, steps: list[str]) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("f10")
    await settle(pilot)
    for step in steps:
        if step.startswith("open:"):
            pilot.app.action_open(step[5:])
        else:
            await pilot.press(step)
        await settle(pilot)
    await settle(pilot)


@pytest.mark.parametrize("user", list(WALK))
async def test_every_screen_at_80x24_shows_f1_and_the_area_keys_and_cuts_no_column(ui_services, zh, user) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.conftest import make

    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, user)
        problems = []
        for steps in WALK[user]:
            await _go(pilot, steps)
            where = f"{user} {'+'.join(steps) or 'home'} ({type(app.screen).__name__})"
            shown = _footer_keys(app)
            if not shown or shown[0] != "f1":
                problems.append(f"{where}: F1 not first in the footer: {shown}")
            missing = _area_keys(app) - set(shown)
            if missing:
                problems.append(f"{where}: area keys missing from the footer: {sorted(missing)}")
            cut = _cut_columns(app)
            if cut:
                problems.append(f"{where}: columns cut below 6 cells: {cut}")
        assert not problems, "\n".join(problems)


async def test_a_wide_table_keeps_its_first_column_and_shows_the_rest_of_the_row_below(ui_services, zh) -> None:  # type: ignore[no-untyped-def]
    """The front desk's register: archive and product of interest are read under the table, not
    found with ~50 Right presses; the grade list's deadline is in view."""
    from tests.ui.conftest import make
    from crm_tui.ui.widgets.columns import RowDetail

    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await _go(pilot, ["f3"])
        table = app.screen.query_one("#reg-table", DataTable)
        assert table.fixed_columns == 1
        detail = str(app.screen.query_one(RowDetail).render())
        assert "档案" in detail and "意向产品" in detail
        row = [str(getattr(v, "plain", v)) for v in table.get_row_at(table.cursor_row)]
        assert row[-1] and row[-1] in detail
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await _go(pilot, ["f5", "2"])
        table = app.screen.query_one("#grade-table", DataTable)
        x = 0
        for column in table.ordered_columns:
            x += column.get_render_width(table)
            if column.label.plain == "执行期限":
                break
        assert x <= table.scrollable_content_region.width


def test_fit_table_gives_way_from_the_last_free_text_column() -> None:
    class Col:
        def __init__(self, key: str, width: int) -> None:
            from rich.text import Text

            self.key, self.width, self.auto_width, self.label = key, width, False, Text(key)

    class Table:
        cell_padding = 1
        fixed_columns = 0
        row_count = 1
        _update_count = 1
        _data = {"r": {"no": "1", "name": "王娜", "state": "x" * 14, "note": "y" * 25}}

        def __init__(self) -> None:
            self.columns = {c.key: c for c in (Col("no", 4), Col("name", 8), Col("state", 20), Col("note", 30))}
            self.ordered_columns = list(self.columns.values())

        def _clear_caches(self) -> None: ...
        def refresh(self) -> None: ...

    table = Table()
    assert fit_table(table, 50)  # type: ignore[arg-type]
    widths = {k: c.width for k, c in table.columns.items()}
    assert widths["no"] == 4 and widths["name"] == 8  # identifying columns untouched
    # both first down to their longest value (25, 14), then the last one on towards its floor
    assert widths["state"] == 14 and widths["note"] == 16 and widths["note"] >= FREE_TEXT_FLOOR
    assert table.fixed_columns == 0
    assert fit_table(table, 200)  # type: ignore[arg-type]  # room again: back to the declared widths
    assert table.columns["note"].width == 30
    # a little short of room: a column gives up only what its values do not use
    assert fit_table(table, 70 - 5)  # type: ignore[arg-type]
    assert table.columns["note"].width == 25 and table.columns["state"].width == 20


async def test_a_narrow_weekly_chart_draws_the_latest_weeks_as_separate_bars() -> None:
    """At 80 columns twelve weeks' bars merged into one block: a narrow chart shows the latest weeks
    that fit, each bar with a gap after it; a wide one all twelve."""
    from textual.app import App, ComposeResult

    from crm_tui.ui.widgets.charts import BAR_SLOT, Chart

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield Chart("narrow", id="narrow")
            yield Chart("wide", id="wide")

        CSS = "#narrow { width: 37; height: 12; } #wide { width: 120; height: 12; }"

    labels = [f"w{i:02}" for i in range(1, 13)]
    app = Host()
    async with app.run_test(size=(130, 30)) as pilot:
        for cid in ("narrow", "wide"):
            app.query_one(f"#{cid}", Chart).bars(labels, [5] * 12, sparse=True)
        await pilot.pause()
        narrow = app.query_one("#narrow", Chart).render().plain.split("\n")
        wide = app.query_one("#wide", Chart).render().plain.split("\n")
    row = next(line for line in narrow if "█" in line)
    runs = [r for r in row.split(" ") if "█" in r]
    assert 6 <= len(runs) < 12 and max(len(r) for r in runs) <= BAR_SLOT  # fewer bars, each apart
    assert "w12" in "\n".join(narrow)  # the latest week is kept
    assert len([r for r in next(line for line in wide if "█" in line).split(" ") if "█" in r]) == 12
