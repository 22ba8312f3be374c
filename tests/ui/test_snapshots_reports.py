"""Snapshots of the dashboard (home) and the reports screen, Chinese and English, fixed clock and
demo data (issue 10)."""

from __future__ import annotations

import pytest

from crm_tui.i18n import set_language
from tests.ui.conftest import make, settle, sign_in

SMALL = (80, 24)
LARGE = (160, 48)


@pytest.fixture(params=["zh_CN", "en"])
def lang(request):  # type: ignore[no-untyped-def]
    set_language(request.param)
    yield request.param
    set_language("zh_CN")


def _snap(ui_services, snap_compare, user: str, *keys: str, size=SMALL) -> bool:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, user)
        await settle(pilot)
        for k in keys:
            await pilot.press(k)
            await settle(pilot)

    return snap_compare(make(ui_services), terminal_size=size, run_before=run_before)


def test_dashboard_section_chief_large(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _snap(ui_services, snap_compare, "kezhang", size=LARGE)


def test_dashboard_customer_manager(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _snap(ui_services, snap_compare, "jingli", "f10")  # past the due list that opens first


def test_reports_summary(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _snap(ui_services, snap_compare, "kezhang", "f6", "left_square_bracket")


def test_reports_staff_metrics(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _snap(ui_services, snap_compare, "kezhang", "f6", "left_square_bracket", "2", size=LARGE)


def test_reports_customers_and_ratings(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _snap(ui_services, snap_compare, "kezhang", "f6", "3", size=LARGE)


def test_reports_charts_month(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _snap(ui_services, snap_compare, "kezhang", "f6", "m", "4", size=LARGE)


def test_reports_follow_up_review(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    """R-FU-5: new against existing cards, by intent level and per consultant (key 5)."""
    assert _snap(ui_services, snap_compare, "kezhang", "f6", "5", size=(120, 36))
