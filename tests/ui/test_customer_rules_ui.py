"""Issue 20, keyboard only: the archive's measures (Ctrl+U) stop business with a reason and a
supervisor resumes it (R-CUST-3); internal control records a phone-change inspection from the
watch list (R-CUST-8); the section chief signs a shared phone (R-CUST-7)."""

from __future__ import annotations

from sqlalchemy import text

from crm_tui.services import customers as cs
from crm_tui.ui.screens.customers import ChoiceDialog, CustomerDetailScreen, WatchListScreen
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text

SIZE = (120, 36)


def _one(svc, sql: str, **p: object) -> object:  # type: ignore[no-untyped-def]
    with svc.store.read() as s:
        return s.execute(text(sql), p).scalar()


async def _choose(pilot, key: str) -> None:  # type: ignore[no-untyped-def]
    """In the measures dialog, move down to the option ``key`` and press Enter."""
    screen = pilot.app.screen
    assert isinstance(screen, ChoiceDialog), screen
    keys = [k for k, _label in screen.options]
    for _i in range(keys.index(key)):
        await pilot.press("down")
    await pilot.press("enter")
    await settle(pilot)


async def test_r_cust_3_stop_business_and_resume_from_the_archive(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    manager = staff_actor(ui_services, "jingli")
    cid = cs.search(ui_services, manager, "", limit=1).rows[0].id
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        app.push_screen(CustomerDetailScreen(ui_services, manager, cid))
        await settle(pilot)
        await pilot.press("ctrl+u")
        await settle(pilot)
        await _choose(pilot, "stop")
        await type_text(pilot, "涉嫌冒用他人身份")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerDetailScreen)
        assert "business stopped: 涉嫌冒用他人身份" in str(app.screen.query_one("#profile-text").render())
        # the manager may not resume: the option is not offered
        await pilot.press("ctrl+u")
        await settle(pilot)
        assert "resume" not in [k for k, _l in app.screen.options]  # type: ignore[attr-defined]
        await pilot.press("escape")
        await settle(pilot)
    assert _one(ui_services, "SELECT business_stopped FROM customer WHERE id = :i", i=cid) == 1
    chief = staff_actor(ui_services, "kezhang")
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        app.push_screen(CustomerDetailScreen(ui_services, chief, cid))
        await settle(pilot)
        await pilot.press("ctrl+u")
        await settle(pilot)
        await _choose(pilot, "resume")
        await type_text(pilot, "核实为本人")
        await pilot.press("enter")
        await settle(pilot)
        assert "business stopped" not in str(app.screen.query_one("#profile-text").render())
    assert _one(ui_services, "SELECT business_stopped FROM customer WHERE id = :i", i=cid) == 0


async def test_r_cust_8_internal_control_records_the_inspection_from_the_watch_list(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    flagged = _one(ui_services, "SELECT count(*) FROM customer WHERE phone_inspection_since IS NOT NULL")
    assert flagged  # the demo has customers whose phone changed twice this month
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "neiguan")
        app.push_screen(WatchListScreen(ui_services, staff_actor(ui_services, "neiguan")))
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        assert app.screen.items  # type: ignore[attr-defined]
        await pilot.press("ctrl+r")
        await settle(pilot)
        await type_text(pilot, "换号属实经营正常")
        await pilot.press("enter")
        await settle(pilot)
        assert len(app.screen.items) == flagged - 1  # type: ignore[attr-defined]
    assert _one(ui_services, "SELECT result FROM customer_phone_inspection") == '换号属实经营正常'


async def test_r_cust_7_the_section_chief_signs_a_shared_phone(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        app.push_screen(WatchListScreen(ui_services, staff_actor(ui_services, "kezhang")))
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        row = app.screen.items[0]  # type: ignore[attr-defined]
        await pilot.press("ctrl+a")
        await settle(pilot)
    assert _one(ui_services, "SELECT shared_chief_id IS NOT NULL FROM customer_phone WHERE id = :i",
                i=row.phone_id) == 1
