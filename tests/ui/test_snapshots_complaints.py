"""Snapshots of the complaint screens at 80x24, Chinese and English, fixed clock and demo data:
the queues (overdue and at-risk marked), a ticket with its clock and history, the new-ticket form
and a customer's feedback list."""

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


def test_complaint_queues(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "kezhang")
        await pilot.press("f4")
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=SIZE, run_before=run_before)


def test_complaint_overdue_queue(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "kezhang")
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=SIZE, run_before=run_before)


def test_ticket_detail(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "kezhang")
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("6")  # waiting for return visit: a ticket with a longer history
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=SIZE, run_before=run_before)


def test_ticket_form(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "qiantai")
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=SIZE, run_before=run_before)


def test_feedback_list(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        from crm_tui.services import complaints as cp
        from crm_tui.ui.screens.complaints import FeedbackScreen

        await sign_in(pilot, "qiantai")
        app = pilot.app
        rows = cp.queue(app.svc, app.actor, "unassigned").rows
        row = next(r for r in rows if cp.get_ticket(app.svc, app.actor, r.id).values["feedback_id"])  # from a grumble
        await app.push_screen(FeedbackScreen(app.svc, app.actor, row.customer_id,
                                             f"{row.customer_number} {row.customer_name}"))
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=SIZE, run_before=run_before)


def test_complaint_report(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "kezhang")
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=SIZE, run_before=run_before)
