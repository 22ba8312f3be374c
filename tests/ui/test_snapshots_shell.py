"""Snapshots of the shell's screens at 80x24, Chinese and English, fixed clock and data."""

from __future__ import annotations

import pytest

from crm_tui.i18n import set_language
from tests.ui.conftest import make, settle, sign_in

SIZE = (80, 24)


@pytest.fixture(params=["zh_CN", "en"])
def lang(request):  # type: ignore[no-untyped-def]
    set_language(request.param)
    yield request.param
    set_language("zh_CN")


def test_login(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make(ui_services), terminal_size=SIZE)


def test_home(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "kezhang")
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=SIZE, run_before=run_before)


def test_help(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "admin")
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(make(ui_services), terminal_size=SIZE, run_before=run_before)


def test_staff(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "admin")
        await pilot.press("f7")
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=SIZE, run_before=run_before)


def test_lock(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "qiantai")
        await pilot.press("ctrl+l")
        await pilot.pause()

    assert snap_compare(make(ui_services), terminal_size=SIZE, run_before=run_before)


def test_audit(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "neiguan")
        await pilot.press("f8")
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=(100, 30), run_before=run_before)
