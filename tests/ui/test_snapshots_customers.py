"""Snapshots of the customer-archive screens (R-CUST-1..5): list with a search typed, detail with the
timeline, and the form, Chinese and English, fixed clock and demo data; the list also at 160x48."""

from __future__ import annotations

import pytest

from crm_tui.i18n import set_language
from tests.ui.conftest import make, settle, sign_in, type_text

SMALL = (80, 24)
LARGE = (160, 48)


@pytest.fixture(params=["zh_CN", "en"])
def lang(request):  # type: ignore[no-untyped-def]
    set_language(request.param)
    yield request.param
    set_language("zh_CN")


async def _list(pilot, query: str = "") -> None:  # type: ignore[no-untyped-def]
    await sign_in(pilot, "jingli")
    await pilot.press("f2")
    await settle(pilot)
    if query:
        await type_text(pilot, query)
        await settle(pilot)
        await pilot.pause(0.3)  # the newest search's rows and count, not a cancelled one's
        await settle(pilot)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
def test_customer_list_searching(ui_services, lang, size, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _list(pilot, "zh")

    assert snap_compare(make(ui_services), terminal_size=size, run_before=run_before)


def test_customer_detail(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _list(pilot, "zh")
        await pilot.press("down", "enter")
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=LARGE, run_before=run_before)


def test_customer_form_new(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _list(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=SMALL, run_before=run_before)


def test_customer_form_with_errors(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    """A bad ID number and a missing phone: the messages sit under their fields; nothing saved."""
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _list(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        await type_text(pilot, "王小明")  # the form opens on the name
        pilot.app.screen.query_one("#fld-id_number").focus()
        await type_text(pilot, "110101199003071234")
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=LARGE, run_before=run_before)
