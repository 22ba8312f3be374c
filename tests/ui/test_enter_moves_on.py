"""Enter in a one-line field acts when the key arrives, not when a Submitted message is handled later:
a fast typist (or a barcode scanner, or a paste) sending 'qiantai⏎demo1234⏎' signs in as qiantai,
and the keys typed after Enter in a dialog reach the screen below, not the field just left."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from crm_tui import demo
from crm_tui.ui.screens.login import LoginScreen
from crm_tui.ui.widgets.dialogs import ConfirmDialog, PromptDialog
from tests.ui.conftest import burst, dialog_host, make, open_dialog, settle


async def _signed_in(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(50):
        await settle(pilot)
        if pilot.app.actor is not None:
            return


async def test_sign_in_typed_as_one_burst_with_pilot(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"qiantai", "enter", *demo.DEMO_PASSWORD, "enter")
        await _signed_in(pilot)
        assert app.actor is not None, app.screen.query_one("#login-message").render()
        assert app.actor.username == "qiantai"
        assert not isinstance(app.screen, LoginScreen)


async def test_sign_in_posted_all_at_once(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, [*"jingli", "enter", *demo.DEMO_PASSWORD, "enter"])
        await _signed_in(pilot)
        assert app.actor is not None, app.screen.query_one("#login-message").render()
        assert app.actor.username == "jingli"


async def test_empty_user_name_then_enter_stays_on_the_login_screen(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # to the password
        await pilot.press("enter")  # submit with no user name
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        assert app.actor is None
        assert screen.focused is screen.query_one("#username", Input)
        assert "user name" in str(screen.query_one("#login-message").render())


async def test_prompt_dialog_enter_then_typing_goes_below(en) -> None:  # type: ignore[no-untyped-def]
    app = dialog_host()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dialog(pilot, PromptDialog("Why?"))
        assert isinstance(app.screen, PromptDialog)
        burst(app, [*"ab", "enter", *"cd"])
        await pilot.pause()
        await pilot.pause()
        assert app.results == ["ab"]
        assert not isinstance(app.screen, PromptDialog)
        assert app.query_one("#below", Input).value == "cd"


async def test_prompt_dialog_with_pilot_press(en) -> None:  # type: ignore[no-untyped-def]
    app = dialog_host()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dialog(pilot, PromptDialog("Why?"))
        await pilot.press(*"ab", "enter", *"cd")
        await pilot.pause()
        assert app.results == ["ab"]
        assert app.query_one("#below", Input).value == "cd"


async def test_prompt_dialog_required_answer_keeps_the_dialog_and_the_keys(en) -> None:  # type: ignore[no-untyped-def]
    app = dialog_host()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dialog(pilot, PromptDialog("Why?"))
        burst(app, ["enter", *"cd"])
        await pilot.pause()
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PromptDialog)
        assert app.results == []
        assert "empty" in str(dialog.query_one("#error").render())
        assert dialog.query_one("#answer", Input).value == "cd"


@pytest.mark.parametrize(("focus", "expected"), [("yes", True), ("no", False)])
async def test_confirm_dialog_enter_answers_at_once(en, focus: str, expected: bool) -> None:  # type: ignore[no-untyped-def]
    app = dialog_host()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dialog(pilot, ConfirmDialog("Sure?"))
        if focus == "no":
            await pilot.press("tab")
        burst(app, ["enter", *"cd"])
        await pilot.pause()
        await pilot.pause()
        assert app.results == [expected]
        assert app.query_one("#below", Input).value == "cd"


async def test_register_line_typed_as_oneburst(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """The front desk types a visitor's name, Enter, the phone, Enter without waiting: each lands in
    its own field and the focus is on the source (the arrival time keeps 'now')."""
    from textual.widgets import Select

    from crm_tui.ui.screens.register import RegisterScreen

    app = make(ui_services)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press(*"qiantai", "enter", *demo.DEMO_PASSWORD, "enter")
        await _signed_in(pilot)
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RegisterScreen)
        burst(app, [*"钱多多", "enter", *"13987654321", "enter", "enter", *"途观"])
        await settle(pilot)
        assert screen.query_one("#reg-name", Input).value == "钱多多"
        assert screen.query_one("#reg-phone", Input).value == "13987654321"
        assert screen.query_one("#reg-arrived_at", Input).value == ""
        assert screen.focused is screen.query_one("#reg-source", Select)
