"""Snapshots of issue 19's screens at 80x24, Chinese and English, fixed clock and data: the approval
queue (R-SEC-2), the incident register (R-SEC-6) and the leaver's handover dialog (R-CUST-11)."""

from __future__ import annotations

import pytest

from crm_tui.i18n import set_language
from crm_tui.services import approvals, incidents
from tests.ui.conftest import make, settle, sign_in, staff_actor

SIZE = (80, 24)


@pytest.fixture(params=["zh_CN", "en"])
def lang(request):  # type: ignore[no-untyped-def]
    set_language(request.param)
    yield request.param
    set_language("zh_CN")


def test_approvals(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    chief = staff_actor(ui_services, "kezhang")
    rid = approvals.request(ui_services, chief, "customer.export", "月度客户一览表报送")
    approvals.request(ui_services, chief, "customer.export", "季度报送")
    approvals.approve(ui_services, staff_actor(ui_services, "fujingli"), rid, "同意")

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "admin")
        await pilot.press("f12")
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=SIZE, run_before=run_before)


def test_incidents(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    chief = staff_actor(ui_services, "kezhang")
    iid = incidents.new_incident(ui_services, chief, "客户一览表误发外部邮箱", "员工把客户一览表发到了外部邮箱",
                                 "2026-11-20 09:30", "已联系收件人删除邮件")
    incidents.set_affected(ui_services, chief, iid, query="王")

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "kezhang")
        await pilot.app.run_action("open('incidents')")  # from the palette (Ctrl+P)
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=SIZE, run_before=run_before)


def test_handover_dialog(ui_services, lang, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "admin")
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("down", "down", "d")
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=SIZE, run_before=run_before)
