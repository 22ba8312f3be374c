"""R-FU-4 keyboard only: a supervisor opens the daily check of visitors without a register line from
the palette, links an item to a register line of the day (L) and marks another with a reason (M)."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import DataTable, Static

from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services import register_check as rc
from crm_tui.ui.screens.register_check import LinePicker, UnregisteredScreen
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text

SIZE = (120, 36)


async def test_r_fu_4_supervisor_resolves_unregistered_visitors_by_keyboard(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    svc = ui_services
    chief, mgr, desk = (staff_actor(svc, u) for u in ("kezhang", "jingli", "qiantai"))
    a = cs.create_customer(svc, mgr, "person", {"name": "未登记甲"}).id
    b = cs.create_customer(svc, mgr, "person", {"name": "未登记乙"}).id
    today = svc.now().date()
    card = fu.create_card(svc, mgr, a, {"first_reception_date": today.isoformat(), "intent_level": "H",
                                        "source": "walk_in", "first_reception_summary": "到店看车"})
    contact = cs.add_contact(svc, mgr, b, "visit", "来访")
    line = fu.add_register(svc, desk, {"name": "甲先生", "source": "walk_in"})
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert CommandPalette.is_open(app)
        await type_text(pilot, "Visitors without a register line")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UnregisteredScreen)
        table = screen.query_one(DataTable)
        keys = [str(table.coordinate_to_cell_key((r, 0)).row_key.value) for r in range(table.row_count)]
        assert f"card:{card.id}" in keys and f"contact:{contact}" in keys
        for _ in range(keys.index(f"card:{card.id}")):
            await pilot.press("down")
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, LinePicker)
        picker = app.screen
        ids = [picker.lines[i][0] for i in range(len(picker.lines))]
        for _ in range(ids.index(line)):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        table.move_cursor(row=[str(table.coordinate_to_cell_key((r, 0)).row_key.value)
                               for r in range(table.row_count)].index(f"contact:{contact}"))
        await pilot.press("m")
        await settle(pilot)
        await type_text(pilot, "短")  # too short: refused, nothing written
        await pilot.press("enter")
        await settle(pilot)
        assert "at least" in str(screen.query_one("#check-message", Static).render())
        await pilot.press("m")
        await settle(pilot)
        await type_text(pilot, "经理上门拜访非来访")
        await pilot.press("enter")
        await settle(pilot)
    items = {(i.kind, i.ref_id): i for i in rc.unregistered(svc, chief, today)}
    assert items[("card", card.id)].register_id == line
    assert items[("contact", contact)].reason == "经理上门拜访非来访"
