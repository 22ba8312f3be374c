"""Keys a terminal can send, the command palette on every screen, and the forced password change
held at every key (issue 19 items 2 and 4; R-SEC-1)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from textual.binding import Binding
from textual.command import CommandPalette
from textual.dom import DOMNode

import crm_tui.ui
from crm_tui.services import staff
from crm_tui.ui.screens.home import HomeScreen
from crm_tui.ui.screens.login import ChangePasswordScreen, LoginScreen
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text

SIZE = (100, 30)
#: Keys that reach the app as something else: Ctrl+H is Backspace, Ctrl+I Tab, Ctrl+J and Ctrl+M
#: Enter, Ctrl+[ Escape.
UNSENDABLE = {"ctrl+h", "ctrl+i", "ctrl+j", "ctrl+m", "ctrl+left_square_bracket", "ctrl+["}


def ui_classes() -> list[type[DOMNode]]:
    for mod in pkgutil.walk_packages(crm_tui.ui.__path__, "crm_tui.ui."):
        importlib.import_module(mod.name)
    found = []
    for name, module in list(__import__("sys").modules.items()):
        if not name.startswith("crm_tui.ui"):
            continue
        for _n, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == name:
                found.append(cls)
    return found


def test_no_binding_uses_a_key_terminals_cannot_send() -> None:
    classes = ui_classes()
    assert len(classes) > 30
    bad, seen = [], 0
    for cls in classes:
        for b in cls.__dict__.get("BINDINGS", []):
            binding = b if isinstance(b, Binding) else Binding(*b)
            for key in binding.key.split(","):
                seen += 1
                if key.strip().lower() in UNSENDABLE:
                    bad.append(f"{cls.__qualname__}: {key} -> {binding.action}")
    assert seen > 150
    assert bad == []


async def test_handover_key_is_shown_in_the_watch_list_footer(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=(160, 30)) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("ctrl+w")
        await settle(pilot)
        assert type(app.screen).__name__ == "WatchListScreen"
        shown = {b.binding.key: b.binding.description for b in app.screen.active_bindings.values() if b.binding.show}
        assert shown.get("ctrl+o") == "Handover"
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert type(app.screen).__name__ == "HandoverForm"


async def _palette_runs(pilot, query: str) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert CommandPalette.is_open(app), type(app.screen).__name__
    await type_text(pilot, query)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


@pytest.mark.parametrize("user", ["qiantai", "kezhang"])
async def test_ctrl_p_opens_the_palette_on_home_list_and_detail(ui_services, en, user) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, user)
        await pilot.press("f10")  # home (a consultant with overdue visits starts on the due list)
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        await _palette_runs(pilot, "Customer archives")  # home -> the list, run from the palette
        assert type(app.screen).__name__ == "CustomerListScreen"
        assert app.screen.focused is not None and app.screen.focused.id == "q"  # the search box has the focus
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert CommandPalette.is_open(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("down", "enter")  # into the results, open the first archive
        await settle(pilot)
        assert type(app.screen).__name__ == "CustomerDetailScreen"
        await _palette_runs(pilot, "Complaints")
        assert type(app.screen).__name__ == "ComplaintListScreen"


async def test_the_palette_lists_only_what_the_role_may_do(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        actions = {c[2] for c in app.palette_commands()}
        assert "open('customers')" in actions and "open('staff')" not in actions and "open('audit')" not in actions


async def test_r_sec_1_the_password_change_screen_holds_at_every_key(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    _id, otp = staff.add_user(ui_services, staff_actor(ui_services, "admin"), "xinren", ["section_chief"], "新人", approval_note="王科长")
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "xinren", otp)
        assert isinstance(app.screen, ChangePasswordScreen)
        for key in ("f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "ctrl+l", "escape"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, ChangePasswordScreen), key
        assert [type(s).__name__ for s in app.screen_stack][-2:] == ["LoginScreen", "ChangePasswordScreen"]
        assert app.actor is not None and app.actor.must_change_password
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert CommandPalette.is_open(app)
        assert {c[2] for c in app.palette_commands()} == {"change_password", "sign_out", "help", "switch_language",
                                                          "quit_app"}
        await type_text(pilot, "Customer archives")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        if CommandPalette.is_open(app):
            await pilot.press("escape")
            await pilot.pause()
        assert isinstance(app.screen, ChangePasswordScreen)
        # and the change itself still works from here
        await type_text(pilot, otp)
        await pilot.press("enter")
        await type_text(pilot, "Chenli2026x")
        await pilot.press("enter")
        await type_text(pilot, "Chenli2026x")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert not app.actor.must_change_password
        await pilot.press("f2")
        await settle(pilot)
        assert type(app.screen).__name__ == "CustomerListScreen"


async def test_sign_out_is_allowed_before_the_password_change(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    _id, otp = staff.add_user(ui_services, staff_actor(ui_services, "admin"), "xinren", ["front_desk"], "新人", approval_note="王科长")
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "xinren", otp)
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("enter")  # confirm: sign out
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen) and app.actor is None
