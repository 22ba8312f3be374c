"""The holiday schedule screen (issue 16): reached from the palette and from home's warning,
keyboard only: move between years, add, edit and remove a day, import a file; checked against the
database. Snapshots in Chinese and English."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from crm_tui.i18n import set_language
from crm_tui.services import holidays
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text

SPRING_2027 = "日期,类型,名称\n2027-02-07,班,春节\n" + "".join(f"2027-02-{d:02d},休,春节\n" for d in range(8, 13))


def _rows(svc) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with svc.store.read() as s:
        return [tuple(r) for r in s.execute(text("SELECT day, kind, name FROM holiday_entry ORDER BY day"))]


async def _open(pilot) -> None:  # type: ignore[no-untyped-def]
    """What the palette's "Holiday schedule" entry runs."""
    [action] = [a for name, _h, a in pilot.app.palette_commands() if name == "Holiday schedule"]
    await pilot.app.run_action(action)
    await settle(pilot)


async def test_admin_adds_edits_removes_and_imports_with_the_keyboard(ui_services, tmp_path):
    path = tmp_path / "schedule.csv"
    path.write_bytes(SPRING_2027.encode("gbk"))
    app = make(ui_services)
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot, "admin")
        await _open(pilot)
        assert type(app.screen).__name__ == "CalendarScreen"
        screen = app.screen
        assert screen.year == 2026 and screen.query_one("#calendar-table").row_count == 39  # the package's 2026
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.year == 2027 and screen.query_one("#calendar-table").row_count == 0
        assert "only weekends" in str(screen.query_one("#calendar-status").render())
        # add a day: date, Enter, type, Enter, name, Enter saves
        await pilot.press("a")
        await pilot.pause()
        assert type(app.screen).__name__ == "DayForm"
        await pilot.press("end", *["backspace"] * 10)
        await type_text(pilot, "2027-02-31")
        await pilot.press("enter", "enter")
        await type_text(pilot, "春节")
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "DayForm"  # refused, the reason next to the field
        assert "not a date of the calendar" in str(app.screen.query_one("#day-error").render())
        assert _rows(ui_services) == []
        assert app.screen.focused is app.screen.query_one("#day")  # focus on the refused field (issue 21)
        await pilot.press("end", *["backspace"] * 2)
        await type_text(pilot, "08")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "CalendarScreen"
        assert _rows(ui_services) == [("2027-02-08", "off", "春节")]
        # edit it (Enter on the row): make it a working day named 调休
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "DayForm"
        await pilot.press("shift+tab")
        await pilot.press("end", "backspace")
        await type_text(pilot, "班")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _rows(ui_services) == [("2027-02-08", "work", "春节")]
        # remove it
        await pilot.press("delete")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("y")
        await settle(pilot)
        assert _rows(ui_services) == []
        # import a file
        await pilot.press("i")
        await pilot.pause()
        await type_text(pilot, str(path))
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert "6 added" in str(screen.query_one("#calendar-message").render())
        assert screen.query_one("#calendar-table").row_count == 6
    assert len(_rows(ui_services)) == 6
    with ui_services.store.read() as s:
        assert s.execute(text("SELECT count(*) FROM audit_log WHERE action = 'holiday.schedule_change'")
                         ).scalar_one() == 4


async def test_a_bad_file_is_named_row_by_row_and_nothing_is_written(ui_services, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("日期,类型,名称\n2027-02-08,休,春节\n2027-02-09,放风,春节\n", encoding="utf-8")
    app = make(ui_services)
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot, "admin")
        await _open(pilot)
        await pilot.press("i")
        await pilot.pause()
        await type_text(pilot, str(path))
        await pilot.press("enter")
        await settle(pilot)
        assert "Row 3:" in str(app.screen.query_one("#calendar-message").render())
    assert _rows(ui_services) == []


@pytest.mark.parametrize("user", ["qiantai", "kezhang", "neiguan"])
async def test_other_roles_cannot_open_it(ui_services, user):
    app = make(ui_services)
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot, user)
        assert not app.check_action("open", ("calendar",))
        assert all("calendar" not in action for _n, _h, action in app.palette_commands())


async def test_home_warning_opens_the_screen_for_an_administrator(ui_services):
    app = make(ui_services)
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot, "admin")
        items = [i.key for i in app.screen.items]
        assert "calendar.missing" in items  # 23 November 2026: no schedule for 2027 yet
        start = app.screen.query_one("#today-list").highlighted
        await pilot.press(*["down"] * (items.index("calendar.missing") - (-1 if start is None else start)))
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "CalendarScreen"


@pytest.fixture(params=["zh_CN", "en"])
def lang(request):  # type: ignore[no-untyped-def]
    set_language(request.param)
    yield request.param
    set_language("zh_CN")


def test_calendar_screen_snapshot(ui_services, lang, snap_compare, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "schedule.csv"
    path.write_text(SPRING_2027, encoding="utf-8")
    holidays.import_file(ui_services, staff_actor(ui_services, "admin"), path)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "admin")
        pilot.app.action_open("calendar")
        await settle(pilot)
        await pilot.press("right_square_bracket")
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=(120, 30), run_before=run_before)
