"""Issue 19 done-when, keyboard only, signed in as the front desk: a register line typed with a
phone and an ID number in its summary shows neither whole in the register (F3), nor in the card
Ctrl+G opens from it, nor in the archive it made (R-SEC-2, R-FU-4). Found as a user in tmux: the
card showed both whole."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from crm_tui.ui.screens.followups import CardDetailScreen
from crm_tui.ui.screens.register import RegisterScreen
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text
from tests.ui.test_followups_ui import _choose
from tests.ui.test_front_desk_masking_ui import leaked, screen_text

SIZE = (120, 36)
PHONE = "13987654321"
IDENT = "110105198003071234"


async def test_r_sec_2_front_desk_register_line_card_and_archive_show_no_whole_value(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    seen: dict[str, str] = {}
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RegisterScreen)
        await type_text(pilot, "钱多多")
        await pilot.press("enter")
        await type_text(pilot, PHONE)
        await pilot.press("enter", "enter")
        await _choose(pilot, "#reg-source", "walk_in")
        await type_text(pilot, "途观L")
        await pilot.press("enter")
        await type_text(pilot, f"妻子 {PHONE}")
        await _choose(pilot, "#reg-consultant", str(staff_actor(ui_services, "jingli").staff_id))
        screen.query_one("#reg-summary", Input).focus()
        await type_text(pilot, f"留电话{PHONE}，身份证{IDENT}")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.rows[0].name == "钱多多"
        seen["register"] = screen_text(app)
        assert "139****4321" in seen["register"]
        screen.query_one("#reg-table", DataTable).focus()
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, CardDetailScreen)
        seen["card"] = screen_text(app)
        assert "139****4321" in seen["card"]  # the summary is there, masked
        await pilot.press("ctrl+a")  # the archive made from the line
        await settle(pilot)
        seen["archive"] = screen_text(app)
        assert "钱多多" in seen["archive"]
    assert {name: leaked(text, [PHONE, IDENT]) for name, text in seen.items() if leaked(text, [PHONE, IDENT])} == {}
