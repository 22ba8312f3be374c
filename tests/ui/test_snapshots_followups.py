"""Snapshots of the follow-up screens (R-FU-1..6): the due list, a card with its visits, the visit
form, the front-desk register with a name being matched, the weekly review; Chinese and English,
fixed clock and demo data; the queue and the register also at 80x24."""

from __future__ import annotations

import pytest

from crm_tui.i18n import set_language
from tests.ui.conftest import make, settle, sign_in, type_text

SMALL = (80, 24)


async def _steady(pilot) -> None:  # type: ignore[no-untyped-def]
    """Finish pending work and stop the text cursors blinking, so the picture is deterministic."""
    from textual.widgets import Input

    await settle(pilot)
    await settle(pilot)
    for screen in pilot.app.screen_stack:
        for w in screen.query(Input):
            w.cursor_blink = False
            w._cursor_visible = w.has_focus
            w.refresh()
    await pilot.pause()
LARGE = (160, 48)


@pytest.fixture(params=["zh_CN", "en"])
def lang(request):  # type: ignore[no-untyped-def]
    set_language(request.param)
    yield request.param
    set_language("zh_CN")


async def _queue(pilot) -> None:  # type: ignore[no-untyped-def]
    await sign_in(pilot, "jingli")  # overdue visits in the demo: the app opens on the due list
    await settle(pilot)
    await pilot.press("3")
    await _steady(pilot)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
def test_followup_queue(ui_services, lang, size, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make(ui_services), terminal_size=size, run_before=_queue)


def test_followup_card(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _queue(pilot)
        await pilot.press("enter")
        await _steady(pilot)

    assert snap_compare(make(ui_services), terminal_size=LARGE, run_before=run_before)


def test_followup_visit_form(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _queue(pilot)
        await pilot.press("ctrl+k")
        await _steady(pilot)

    assert snap_compare(make(ui_services), terminal_size=(100, 30), run_before=run_before)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
def test_front_desk_register(ui_services, lang, size, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "qiantai")
        await pilot.press("f3")
        await settle(pilot)
        await type_text(pilot, "张")
        await _steady(pilot)

    assert snap_compare(make(ui_services), terminal_size=size, run_before=run_before)


def test_weekly_review(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "kezhang")
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+w")
        await _steady(pilot)

    assert snap_compare(make(ui_services), terminal_size=(120, 30), run_before=run_before)
