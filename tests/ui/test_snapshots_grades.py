"""Snapshots of the grade change screens (queues, application form, application with its approval
actions, standard, review), Chinese and English, fixed clock and the demo data."""

from __future__ import annotations

import pytest

from crm_tui.i18n import set_language
from tests.ui.conftest import make, settle, sign_in, type_text

SIZE = (100, 30)


@pytest.fixture(params=["zh_CN", "en"])
def lang(request):  # type: ignore[no-untyped-def]
    set_language(request.param)
    yield request.param
    set_language("zh_CN")


def _snap(ui_services, snap_compare, user: str, *keys: str, text: str = "", size=SIZE) -> bool:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, user)
        for k in keys:
            await pilot.press(k)
            await settle(pilot)
        if text:
            await type_text(pilot, text)
            await settle(pilot)

    return snap_compare(make(ui_services), terminal_size=size, run_before=run_before)


def test_queue_chief(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _snap(ui_services, snap_compare, "kezhang", "f5")


def test_queue_to_apply_with_a_late_one(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _snap(ui_services, snap_compare, "kezhang", "f5", "2")


def test_queue_internal_control(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _snap(ui_services, snap_compare, "neiguan", "f5")


def test_application_waiting_for_the_chief(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _snap(ui_services, snap_compare, "kezhang", "f5", "enter")


def test_application_form(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _snap(ui_services, snap_compare, "jingli", "f5", "ctrl+n", text="KH")


def test_home_deputy_manager(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _snap(ui_services, snap_compare, "fujingli")


def test_standard(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _snap(ui_services, snap_compare, "admin", "f5", "ctrl+g")


def test_review(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _snap(ui_services, snap_compare, "kezhang", "f5", "ctrl+r")
