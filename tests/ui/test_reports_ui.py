"""The dashboard on the home screen and the reports screen (F6), keyboard only (issue 10)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from crm_tui.ui.screens.home import HomeScreen
from crm_tui.ui.screens.reports import ReportsScreen
from crm_tui.ui.widgets.charts import Chart
from crm_tui.ui.widgets.dialogs import PromptDialog
from tests.ui.conftest import make, settle, sign_in


async def test_section_chief_sees_queues_week_and_charts_without_typing(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """Done-when of issue 10: what needs attention today and how the week went, with charts."""
    app = make(ui_services)
    async with app.run_test(size=(160, 48)) as pilot:
        await sign_in(pilot, "kezhang")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HomeScreen) and screen.dash is not None
        assert not screen.dash.scope_own and screen.items
        figures = str(screen.query_one("#home-week-figures").render())
        assert "New customers" in figures and "Within the time limits" in figures
        charts = list(screen.query(Chart))
        assert len(charts) == 6 and all(c.spec is not None for c in charts)
        new = screen.query_one("#chart-new", Chart).spec
        assert new is not None and len(new.labels) == 12 and sum(v or 0 for v in new.series[0][1]) > 0
        assert "New customers per week" in str(screen.query_one("#chart-new", Chart).border_title)


async def test_customer_manager_dashboard_is_their_own(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "jingli")  # overdue visits open the due list first; F10 goes home
        await pilot.press("f10")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HomeScreen) and screen.dash is not None and screen.dash.scope_own
        assert "This week (mine)" in str(screen.query_one("#home-week-title").render())


async def test_front_desk_cannot_open_reports(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """R-SEC-2: reports need report.view; F6 for the front desk leaves them where they are."""
    app = make(ui_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_reports_period_navigation(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportsScreen) and screen.pack is not None
        assert screen.pack.period.label() == "2026-11-23 – 2026-11-29"
        await pilot.press("right_square_bracket")  # the next week has not started: nothing changes
        await settle(pilot)
        assert screen.pack.period.label() == "2026-11-23 – 2026-11-29"
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.pack.period.label() == "2026-11-16 – 2026-11-22"
        assert screen.pack.summary.new_customers > 0
        await pilot.press("m")
        await settle(pilot)
        assert screen.pack.period.label() == "2026-11-01 – 2026-11-30"
        await pilot.press("left_square_bracket", "t")
        await settle(pilot)
        assert screen.pack.period.label() == "2026-11-01 – 2026-11-30"
        await pilot.press("w")
        await settle(pilot)
        assert screen.pack.period.kind == "week"
        await pilot.press("2")
        await settle(pilot)
        staff = screen.query_one("#report-staff")
        assert staff.row_count >= 4  # type: ignore[attr-defined]


async def _export(pilot, app, key: str, path: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    await settle(pilot)
    assert isinstance(app.screen, PromptDialog)
    app.screen.query_one("#answer").value = path
    await pilot.press("enter")
    await settle(pilot)


async def test_export_weekly_pack_to_xlsx_and_text(ui_services, en, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The section chief hands the weekly pack to the manager as an XLSX file (and prints the text)."""
    app = make(ui_services)
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f6")
        await settle(pilot)
        await _export(pilot, app, "ctrl+x", str(tmp_path / "weekly.xlsx"))
        assert isinstance(app.screen, ReportsScreen)
        wb = load_workbook(tmp_path / "weekly.xlsx")
        assert {"Summary", "By week", "Staff metrics", "Credit rating", "Risk rating"} <= set(wb.sheetnames)
        await _export(pilot, app, "ctrl+t", str(tmp_path / "weekly.txt"))
        assert (tmp_path / "weekly.txt").read_text(encoding="utf-8").startswith("Weekly review 2026-11-23")


async def test_export_to_missing_folder_says_so_and_writes_nothing(ui_services, en, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f6")
        await settle(pilot)
        await _export(pilot, app, "ctrl+x", str(tmp_path / "missing" / "weekly.xlsx"))
        assert isinstance(app.screen, ReportsScreen)
        assert any("does not exist" in str(n.message) for n in app._notifications)
        assert not (tmp_path / "missing").exists()


async def test_charts_draw_empty_and_zero_data(en) -> None:  # type: ignore[no-untyped-def]
    """No grades, no weeks, only zeros: the charts draw an empty frame, never fail."""
    from textual.app import App, ComposeResult

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield Chart("a", id="a")
            yield Chart("b", id="b")
            yield Chart("c", id="c")
            yield Chart("d", id="d")

    app = One()
    async with app.run_test(size=(60, 50)) as pilot:
        app.query_one("#a", Chart).stacked(["x", "y"], [])
        app.query_one("#b", Chart).bars([], [])
        app.query_one("#c", Chart).lines(["w1", "w2"], [("s", [None, None])], ymin=1, ymax=5)
        app.query_one("#d", Chart).stacked(["潜在", "签约"], [("A", [0, 0]), ("B", [0, 3])])
        await pilot.pause()
        for c in app.query(Chart):
            assert c.render() is not None
        d = str(app.query_one("#d", Chart).render())
        assert "潜在" in d and "签约" in d
        assert "No data for this period yet" in str(app.query_one("#c", Chart).render())


def test_label_row_centres_labels_under_ticks_and_keeps_the_latest() -> None:
    from rich.cells import cell_len

    from crm_tui.ui.widgets.charts import label_row

    axis = "└───┬─────┬─────┬───┘"
    row = label_row(axis, ["潜在", "签约", "历史"])
    assert cell_len(row) <= len(axis)
    assert row.index("潜在") == 3 and "签约" in row and row.endswith("历史")
    crowded = label_row("└┬┬┬┘", ["11-02", "11-09", "11-16"])
    assert crowded.strip() == "11-16"  # no room for the others: the latest stays
