"""Issue 21, keyboard only: the front desk records a caller's new phone on the archive (Ctrl+N),
saved at once or confirmed by the responsible staff member (Ctrl+T, reached from the watch lists),
as data/roles.toml decides; a register line shows its details (Enter on the line), the linked
archive's phone masked as the policy says for the role."""

from __future__ import annotations

import dataclasses

from sqlalchemy import text
from textual.widgets import DataTable, Input, Select, Static

from crm_tui.domain import roles
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services.customers import PhoneInput
from crm_tui.ui.screens.frontdesk import NewPhoneForm, RegisterLineScreen
from crm_tui.ui.widgets.dialogs import ConfirmDialog
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text

SIZE = (120, 36)
NAME = "欧阳来电"


def set_mode(monkeypatch, mode: str) -> None:  # type: ignore[no-untyped-def]
    original = roles.all_roles

    def patched() -> dict[str, roles.Role]:
        table = original()
        table["front_desk"] = dataclasses.replace(table["front_desk"], phone_change=mode)
        return table

    monkeypatch.setattr(roles, "all_roles", patched)


def phones(svc, cid: int) -> list[str]:  # type: ignore[no-untyped-def]
    with svc.store.read() as s:
        return [r[0] for r in s.execute(text("SELECT national FROM customer_phone WHERE customer_id = :c"
                                             " ORDER BY is_primary DESC, id"), {"c": cid})]


def requests(svc) -> list[tuple]:  # type: ignore[no-untyped-def]
    with svc.store.read() as s:
        return [tuple(r) for r in s.execute(text("SELECT national, state FROM phone_change_request ORDER BY id"))]


async def open_archive(pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("f2")
    await settle(pilot)
    await type_text(pilot, name)
    await settle(pilot)
    await pilot.press("enter", "enter")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "CustomerDetailScreen"


async def new_phone(pilot, number: str, note: str = "") -> NewPhoneForm:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+n")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, NewPhoneForm)
    assert form.focused is form.query_one("#phone", Input)  # where the clerk types first
    await type_text(pilot, number)
    return form


async def test_owner_confirms_mode_front_desk_requests_and_the_owner_confirms(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    svc = ui_services
    ref = cs.create_customer(svc, staff_actor(svc, "jingli"), "person", {"name": NAME},
                             phones=[PhoneInput("13912348765")])
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await open_archive(pilot, NAME)
        assert app.screen.check_action("new_phone", ()) and not app.screen.check_action("confirm_phone", ())
        form = await new_phone(pilot, "abc")
        await pilot.press("ctrl+s")
        await settle(pilot)
        # the refusal names the field, sits under it, focus on it, nothing written
        assert app.screen is form
        assert str(form.query_one("#phone-error", Static).render()) != ""
        assert "New phone" in str(form.query_one("#form-message", Static).render())
        assert form.focused is form.query_one("#phone", Input)
        assert requests(svc) == [] and phones(svc, ref.id) == ["13912348765"]
        form.query_one("#phone", Input).value = ""
        await type_text(pilot, "136 9876 1234")
        await pilot.press("enter")  # moves on to what it replaces (the main phone, chosen)
        assert form.focused is form.query_one("#replaces", Select)
        await pilot.press("tab")
        await type_text(pilot, "客户来电")
        await pilot.press("enter")  # Enter in the note saves
        await settle(pilot)
        assert type(app.screen).__name__ == "CustomerDetailScreen"
        notice = str(app.screen.query_one("#phone-requests", Static).render())
        assert "1234" in notice and "13698761234" not in notice.replace(" ", "")  # masked for the front desk
    assert requests(svc) == [("13698761234", "requested")]
    assert phones(svc, ref.id) == ["13912348765"]

    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("ctrl+w")
        await settle(pilot)
        await pilot.press("9")
        await settle(pilot)
        assert [r.customer.id for r in app.screen.items] == [ref.id]
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "CustomerDetailScreen"
        assert app.screen.check_action("confirm_phone", ())
        assert "136 9876 1234" in str(app.screen.query_one("#phone-requests", Static).render())  # whole for the owner
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "CustomerDetailScreen"
        assert not app.screen.query_one("#phone-requests", Static).display
    assert phones(svc, ref.id) == ["13698761234"]
    assert requests(svc) == [("13698761234", "confirmed")]
    with svc.store.read() as s:
        acts = [r[0] for r in s.execute(text("SELECT action FROM audit_log WHERE customer_id = :c"
                                             " AND action != 'customer.view_unmasked' ORDER BY id"), {"c": ref.id})]
    assert acts[-3:] == ["customer.phone_change_requested", "customer.update", "customer.phone_change_confirmed"]


async def test_direct_mode_saves_at_once(ui_services, en, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    set_mode(monkeypatch, "direct")
    svc = ui_services
    ref = cs.create_customer(svc, staff_actor(svc, "jingli"), "person", {"name": NAME},
                             phones=[PhoneInput("13912348765")])
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await open_archive(pilot, NAME)
        form = await new_phone(pilot, "13698761234")
        assert "at once" in str(form.query_one("#mode", Static).render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "CustomerDetailScreen"
    assert phones(svc, ref.id) == ["13698761234"]
    assert requests(svc) == []


async def test_a_customer_manager_has_no_new_phone_key(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    svc = ui_services
    cs.create_customer(svc, staff_actor(svc, "jingli"), "person", {"name": NAME}, phones=[PhoneInput("13912348765")])
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await settle(pilot)
        await open_archive(pilot, NAME)
        assert not app.screen.check_action("new_phone", ())  # the owner edits phones in the form
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert type(app.screen).__name__ == "CustomerDetailScreen"


async def test_register_line_details_after_saving(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    svc = ui_services
    manager = staff_actor(svc, "jingli")
    ref = cs.create_customer(svc, manager, "person", {"name": NAME}, phones=[PhoneInput("13912348765")])
    fu.add_register(svc, staff_actor(svc, "qiantai"),
                    {"name": NAME, "phone": "13912348765", "companions": "妻子和女儿", "product": "理财产品",
                     "summary": "咨询定期存款利率", "source": "walk_in", "kind": "walk_in", "trial": "no",
                     "arrived_at": ""}, customer_id=ref.id)
    for user, whole in (("qiantai", False), ("jingli", True)):
        app = make(svc)
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot, user)
            await settle(pilot)
            await pilot.press("f3")
            await settle(pilot)
            if user == "jingli":
                await pilot.press("ctrl+r")
                await settle(pilot)
            screen = app.screen
            assert type(screen).__name__ == "RegisterScreen"
            screen.query_one("#reg-table", DataTable).focus()
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, RegisterLineScreen)
            shown = str(app.screen.query_one("#line-text", Static).render())
            assert "妻子和女儿" in shown and "咨询定期存款利率" in shown and "理财产品" in shown
            assert ref.number in shown
            flat = shown.replace(" ", "")
            assert ("13912348765" in flat) is whole, shown  # the archive's phone, as the policy says
            assert "8765" in flat
            await pilot.press("escape")
            await settle(pilot)
            assert type(app.screen).__name__ == "RegisterScreen"
