"""The shell, as a clerk uses it with the keyboard: sign-in, lockout, forced password change,
idle lock with a half-filled form, user switch, help, palette (R-SEC-1, R-SEC-3)."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Input

from crm_tui.services import audit, staff
from crm_tui.services.context import Actor
from crm_tui.ui.screens.home import HomeScreen
from crm_tui.ui.screens.login import ChangePasswordScreen, LockScreen, LoginScreen
from tests.ui.conftest import FakeMonotonic, make, settle, sign_in, type_text

SIZE = (80, 24)


def _admin(svc) -> Actor:  # type: ignore[no-untyped-def]
    row = staff.get_staff(svc, "admin")
    return Actor(row.id, row.username, row.display_name, frozenset(row.roles))


async def test_sign_in_reaches_home_and_is_audited(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, LoginScreen)
        await sign_in(pilot, "qiantai")
        assert isinstance(app.screen, HomeScreen)
        assert "李晓梅 (qiantai)" in str(app.screen.query_one("#home-who").render())
    entries = audit.list_entries(ui_services, _admin(ui_services), audit.AuditFilter(action="auth.login"))
    assert any(e.actor == "qiantai" for e in entries)


async def test_wrong_password_message_then_lockout_after_five(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli", "wrong-1")
        msg = app.screen.query_one("#login-message")
        assert "Wrong user name or password." in str(msg.render())
        for attempt in range(2, 6):
            await pilot.press("shift+tab")
            app.screen.query_one("#username", Input).value = ""
            await sign_in(pilot, "jingli", f"wrong-{attempt}")
        assert "locked for 15 minute(s)" in str(app.screen.query_one("#login-message").render())
        # even the right password is refused while locked
        await pilot.press("shift+tab")
        app.screen.query_one("#username", Input).value = ""
        await sign_in(pilot, "jingli")
        assert isinstance(app.screen, LoginScreen)
        assert "locked" in str(app.screen.query_one("#login-message").render())
    # 15 minutes later it opens again
    ui_services.clock.now += timedelta(minutes=16)
    assert staff.sign_in(ui_services, "jingli", "demo1234").actor.username == "jingli"
    actions = [e.action for e in audit.list_entries(ui_services, _admin(ui_services), audit.AuditFilter(username="jingli"))]
    assert "auth.locked_out" in actions


async def test_first_sign_in_forces_a_password_change(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    _id, otp = staff.add_user(ui_services, _admin(ui_services), "xinren", ["front_desk"], "新人", approval_note="王科长")
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "xinren", otp)
        assert isinstance(app.screen, ChangePasswordScreen)
        await pilot.press("escape")  # cannot be skipped
        assert isinstance(app.screen, ChangePasswordScreen)
        await type_text(pilot, otp)
        await pilot.press("enter")
        await type_text(pilot, "short1")
        await pilot.press("enter")
        await type_text(pilot, "short1")
        await pilot.press("enter")
        assert "at least 8 characters" in str(app.screen.query_one("#pw-message").render())
        screen = app.screen
        screen.query_one("#new", Input).value = ""
        screen.query_one("#again", Input).value = ""
        screen.query_one("#new", Input).focus()
        await type_text(pilot, "Qiantai2026")
        await pilot.press("enter")
        await type_text(pilot, "Qiantai2026")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    assert not staff.sign_in(ui_services, "xinren", "Qiantai2026").must_change_password


async def test_idle_lock_keeps_a_half_filled_form_for_the_same_user(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    clock = FakeMonotonic()
    app = make(ui_services, idle_seconds=600, monotonic=clock)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "admin")
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        await type_text(pilot, "wanglei")
        form = app.screen
        clock.t += 601
        app.idle_lock_tick()
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        await type_text(pilot, "demo1234")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#username", Input).value == "wanglei"
    actions = [e.action for e in audit.list_entries(ui_services, _admin(ui_services), audit.AuditFilter(username="admin"))]
    assert "auth.lock" in actions and "auth.unlock" in actions


async def test_lock_key_and_wrong_password_keep_it_locked(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        await type_text(pilot, "nope")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        assert "Wrong password." in str(app.screen.query_one("#lock-message").render())


async def test_another_user_signs_in_at_the_lock_screen(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "admin")
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("ctrl+l")
        await pilot.pause()
        await pilot.press("f2")
        await pilot.pause()
        assert "discards" in str(app.screen.query_one("#lock-message").render())
        await type_text(pilot, "kezhang")
        await pilot.press("enter")
        await type_text(pilot, "demo1234")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.actor is not None and app.actor.username == "kezhang"
        assert len(app.screen_stack) == 2  # the admin's screens are gone


async def test_refused_area_is_hidden_and_refused_in_service(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("f7")  # staff accounts: not for the front desk
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_help_lists_the_keys_of_the_screen(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "admin")
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        text = str(app.screen.query_one("#help-keys").render())
        assert "New account" in text and "A/B post" in text
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "StaffScreen"


async def test_palette_lists_only_permitted_areas(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "neiguan")
        names = [c[0] for c in app.palette_commands()]
        assert "Audit trail" in names and "Staff accounts" not in names


async def test_switch_language_relabels_the_footer(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "admin")
        app.action_switch_language()
        await pilot.pause()
        descriptions = {b.binding.description for b in app.screen.active_bindings.values()}
        assert "帮助" in descriptions
        app.action_switch_language()
