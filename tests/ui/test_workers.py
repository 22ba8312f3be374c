"""The background-work pattern itself (crm_tui/ui/workers.py, issue 17): an unexpected error in a
worker is logged without personal data and shown, never the end of the app; a result for a covered
screen waits for it; a result for a dismissed screen is dropped."""

from __future__ import annotations

from crm_tui.domain.errors import CrmError
from crm_tui.ui.screens.home import HomeScreen
from tests.ui.conftest import make, settle, sign_in

SECRET = "110101199003077777"  # what an exception's message might carry: never in the log


def _boom() -> None:
    raise ValueError(f"bad row {SECRET}")


async def test_an_unexpected_worker_error_is_a_message_not_the_end(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "qiantai")
        home = app.screen
        assert isinstance(home, HomeScreen)
        home.run_loader(_boom, on_result=lambda v: None, group="t")
        await settle(pilot)
        app.run_worker(_boom, thread=True, name="plain")  # a plain worker, exit_on_error left on
        await settle(pilot)
        assert app.is_running and app.screen is home
        assert app.worker_failures == ["HomeScreen/t: ValueError", "app: ValueError"]
        shown = [n.message for n in app._notifications]
        assert any("Something went wrong (ValueError)" in m for m in shown)
    log = (ui_services.store.db_file.parent / "logs" / "errors.log").read_text(encoding="utf-8")
    assert "ValueError" in log and "_boom" in log
    assert SECRET not in log


async def test_a_crm_error_goes_to_on_error(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def refuse() -> None:
        raise CrmError("Nothing to see")

    app = make(ui_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "qiantai")
        app.screen.run_loader(refuse, on_error=lambda e: seen.append(e.message), group="t")
        await settle(pilot)
        assert seen == ["Nothing to see"]
        assert app.worker_failures == []


async def test_a_covered_screen_gets_its_result_when_it_shows_again(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    got: list[int] = []
    app = make(ui_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "qiantai")
        home = app.screen
        await pilot.press("ctrl+q")  # the sign-out question covers home
        await pilot.pause()
        home.run_loader(lambda: 42, on_result=got.append, group="t")
        await settle(pilot)
        assert got == []  # not applied under the dialog
        await pilot.press("escape")  # stay
        await settle(pilot)
        assert app.screen is home and got == [42]


async def test_a_result_for_a_dismissed_screen_is_dropped(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    import threading

    got: list[int] = []
    release = threading.Event()

    def slow() -> int:
        release.wait(timeout=30)
        return 7

    app = make(ui_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        worker = screen.run_loader(slow, on_result=got.append, group="t")
        await pilot.press("escape")  # back home: the screen is gone
        await settle(pilot)
        release.set()
        await settle(pilot)
        assert worker.is_cancelled and got == []
        assert app.is_running and app.worker_failures == []
