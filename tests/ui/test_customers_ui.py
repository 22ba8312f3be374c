"""Issue 4 'done when', keyboard only: register a customer, find them by pinyin initials, by two
characters of the name and by the last four digits of the phone, correct a field and see the change
on the timeline; a bad ID number is refused with a message and nothing is saved (R-CUST-1..5)."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from crm_tui.services import customers as cs
from crm_tui.ui.screens.customer_form import CustomerFormScreen
from crm_tui.ui.screens.customers import CustomerDetailScreen, CustomerListScreen
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text

SIZE = (100, 32)


def _count(svc) -> int:  # type: ignore[no-untyped-def]
    from crm_tui.store import db

    return int(db.scalar(svc.store, "SELECT count(*) FROM customer"))


async def _search(pilot, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    screen = pilot.app.screen
    assert isinstance(screen, CustomerListScreen)
    box = screen.query_one("#q", Input)
    box.focus()
    box.value = ""
    await type_text(pilot, text)
    await settle(pilot)
    return [r.name for r in screen.rows]


async def test_register_find_correct_and_see_it_on_the_timeline(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    before = _count(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, CustomerListScreen)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, CustomerFormScreen)
        # the form opens on the name (the kind drop-down above keeps "person")
        await type_text(pilot, "诸葛三丰")
        await pilot.press("enter", "enter")  # past contact person
        await type_text(pilot, "13912345678")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerDetailScreen), app.screen
        number = app.screen.view.number
        assert "诸葛三丰" in str(app.screen.query_one("#profile-text").render())
        await pilot.press("escape")
        await settle(pilot)
        assert "诸葛三丰" in await _search(pilot, "zgsf")
        assert "诸葛三丰" in await _search(pilot, "三丰")
        assert "诸葛三丰" in await _search(pilot, "5678")
        assert "诸葛三丰" in await _search(pilot, number)
        # open it and correct the address
        screen = app.screen
        screen.query_one(DataTable).focus()
        await pilot.press("ctrl+e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CustomerFormScreen)
        form.query_one("#fld-address", Input).focus()
        await type_text(pilot, "北京市朝阳区建国路1号")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerDetailScreen)
        await settle(pilot)
        rows = app.screen.query_one("#timeline", DataTable)
        cells = [" ".join(str(c) for c in rows.get_row_at(i)) for i in range(rows.row_count)]
        assert any("北京市朝阳区建国路1号" in c for c in cells), cells
    assert _count(ui_services) == before + 1


async def test_bad_id_number_is_refused_next_to_the_field_and_nothing_saved(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    before = _count(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        await type_text(pilot, "王五")
        app.screen.query_one("#fld-id_number", Input).focus()
        await type_text(pilot, "110101199003077777")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerFormScreen)
        error = str(app.screen.query_one("#fld-id_number-error").render())
        assert "check digit" in error.lower() or "checksum" in error.lower(), error
        message = str(app.screen.query_one("#form-message").render())
        assert "Nothing was saved" in message and "ID number:" in message, message  # names the field
        assert app.screen.focused is app.screen.query_one("#fld-id_number")  # focus on the refused field
        # Esc asks before discarding the typed form
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, CustomerListScreen)
    assert _count(ui_services) == before


async def test_masked_values_and_audited_reveal(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    chief = staff_actor(ui_services, "kezhang")
    desk = staff_actor(ui_services, "qiantai")
    page = cs.search(ui_services, desk, "", cs.SearchFilters(), limit=50)
    target = next(r for r in page.rows if r.kind == "person")
    assert "****" in target.phone
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("enter", "enter")  # from the search box to the list, then open
        await settle(pilot)
        assert isinstance(app.screen, CustomerDetailScreen)
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("down", "enter")  # phones
        await settle(pilot)
        assert type(app.screen).__name__ == "PromptDialog"  # why? (R-SEC-3)
        await type_text(pilot, "客户来电核对")
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "InfoDialog"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CustomerDetailScreen)  # the value was for that view only
    from crm_tui.services import audit

    admin = staff_actor(ui_services, "admin")
    reveals = audit.list_entries(ui_services, admin, audit.AuditFilter(username="kezhang", action="customer.reveal"))
    assert reveals, "the reveal must be audited"
    assert reveals[0].details["field"] == "phones" and reveals[0].details["reason"] == "客户来电核对"
    assert chief.can("customer.view_sensitive")
