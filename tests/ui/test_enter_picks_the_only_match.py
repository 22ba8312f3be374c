"""Issue 21: Enter in a search box picks the only match (customer pickers of follow-up cards,
complaints and grade changes, the register's archive link); with several matches it goes to the
list, and a part of a visitor's name is not taken for the one archive that shares it."""

from __future__ import annotations

from textual.widgets import DataTable, Input, OptionList, Select

from crm_tui.services import customers as cs
from crm_tui.services.customers import PhoneInput
from tests.ui.conftest import burst, make, settle, sign_in, staff_actor, type_text

SIZE = (120, 36)


async def _settled(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await settle(pilot)


async def test_followup_picker_one_and_several_matches(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.followups import CustomerPickerScreen

    svc = ui_services
    one = cs.create_customer(svc, staff_actor(svc, "jingli"), "person", {"name": "独孤求败"}, phones=[])
    picked: list[int | None] = []
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        app.push_screen(CustomerPickerScreen(svc, app.actor), picked.append)
        await settle(pilot)
        await type_text(pilot, "独孤求败")
        await pilot.press("enter")
        await _settled(pilot)
        assert picked == [one.id]
        app.push_screen(CustomerPickerScreen(svc, app.actor), picked.append)
        await settle(pilot)
        picker = app.screen
        await type_text(pilot, "KH")  # many archives: Enter goes to the list, nothing picked yet
        await pilot.press("enter")
        await _settled(pilot)
        assert app.screen is picker and picker.focused is picker.query_one(DataTable)
        assert picked == [one.id]


async def test_complaint_picker_picks_the_only_match(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.complaints import CustomerPicker

    svc = ui_services
    one = cs.create_customer(svc, staff_actor(svc, "jingli"), "person", {"name": "独孤求败"}, phones=[])
    picked: list = []
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        app.push_screen(CustomerPicker(svc, app.actor), picked.append)
        await settle(pilot)
        burst(app, [*"独孤求败", "enter"])
        await _settled(pilot)
        assert picked == [(one.id, f"{one.number} 独孤求败")]


async def test_grade_form_picks_the_only_match_and_has_no_empty_tab_stop(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.grades import ApplicationFormScreen

    svc = ui_services
    one = cs.create_customer(svc, staff_actor(svc, "jingli"), "person", {"name": "独孤求败"}, phones=[])
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ApplicationFormScreen)
        assert form.focused is form.query_one("#g-query", Input)
        # every Tab stop shows something: the empty results table is no stop
        seen = []
        for _i in range(5):
            await pilot.press("tab")
            seen.append(form.focused.id if form.focused else None)
        assert "g-customers" not in seen and None not in seen
        form.set_focus(form.query_one("#g-query", Input))
        await settle(pilot)
        await type_text(pilot, "独孤求败")
        await pilot.press("enter")
        await _settled(pilot)
        assert form.customer_id == one.id
        assert form.focused is form.query_one("#g-to", Select)


async def test_register_links_the_only_archive_of_that_name(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.register import RegisterScreen

    svc = ui_services
    one = cs.create_customer(svc, staff_actor(svc, "jingli"), "person", {"name": "独孤求败"},
                             phones=[PhoneInput("13912348765")])
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RegisterScreen)
        burst(app, [*"独孤求败", "enter", *"139"])
        await _settled(pilot)
        assert screen.customer is not None and screen.customer.id == one.id
        assert screen.query_one("#reg-phone", Input).value == "139"
        assert not screen.query_one("#reg-matches", OptionList).display
        # a part of the name with one match: not taken for that customer, on to the phone
        await pilot.press("ctrl+n")
        await settle(pilot)
        burst(app, [*"独孤", "enter"])
        await _settled(pilot)
        assert screen.customer is None
        assert screen.focused is screen.query_one("#reg-phone", Input)
