"""Keys typed faster than screens are built are not lost: F2, Ctrl+N, a name, Enter, a contact
person and a phone, all sent in one burst, land in the right fields of the new archive form."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from crm_tui.ui.screens.customer_form import CustomerFormScreen
from tests.ui.conftest import make, settle, sign_in


async def test_burst_of_keys_after_opening_screens_lands_in_the_right_fields(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "jingli")
        keys = [("f2", None), ("ctrl+n", None)]  # the form opens on the name
        keys += [(c, c) for c in "张三"] + [("enter", "\r"), ("李", "李"), ("enter", "\r")]
        keys += [(c, c) for c in "13912345678"]
        for key, char in keys:  # posted at once: no pause for any screen to be built
            app.post_message(events.Key(key, char))
        for _ in range(50):
            await settle(pilot)
            if isinstance(app.screen, CustomerFormScreen) and app.screen.type_ahead is None:
                break
        form = app.screen
        assert isinstance(form, CustomerFormScreen)
        assert form.query_one("#fld-name", Input).value == "张三"
        assert form.query_one("#fld-contact_person", Input).value == "李"
        assert form.query_one("#fld-phone1", Input).value == "13912345678"
