"""Pilot tests, keyboard only, for issue 19's screens: the leaver's handover dialog in the staff
screen (R-CUST-11), the approval queue and the request path where an operation is refused
(R-SEC-2), and the incident register (R-SEC-6). They assert on what the user sees and on the
database afterwards."""

from __future__ import annotations

from sqlalchemy import text

from crm_tui.services import approvals, incidents, staff
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text

SIZE = (120, 36)


def _scalar(svc, sql: str, **p: object) -> object:  # type: ignore[no-untyped-def]
    with svc.store.read() as s:
        return s.execute(text(sql), p).scalar()


async def test_r_cust_11_disabling_an_owner_asks_for_the_receiver_and_hands_everything_over(ui_services) -> None:  # type: ignore[no-untyped-def]
    owned = _scalar(ui_services, "SELECT count(*) FROM customer c JOIN staff s ON s.id = c.owner_id"
                    " WHERE s.username = 'jingli' AND c.erased_at IS NULL")
    assert owned
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "admin")
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("down", "down")  # admin, fujingli, jingli
        await pilot.press("d")
        await settle(pilot)
        assert type(app.screen).__name__ == "HandoverDialog"
        held = str(app.screen.query_one("#held").render())
        assert f"customers they are responsible for: {owned}" in held
        await pilot.press("down", "down")  # admin, fujingli, jingli2
        await pilot.press("enter")  # chosen: on to the note
        await type_text(pilot, "diaoli")
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "StaffScreen"
    assert not staff.get_staff(ui_services, "jingli").active
    assert _scalar(ui_services, "SELECT count(*) FROM customer c JOIN staff s ON s.id = c.owner_id"
                   " WHERE s.username = 'jingli2' AND c.needs_informing = 1") == owned
    assert staff.holdings(ui_services, staff_actor(ui_services, "admin"), "jingli") == {}


async def test_r_cust_11_escape_in_the_handover_dialog_changes_nothing(ui_services) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "admin")
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("down", "down", "d")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "StaffScreen"
    assert staff.get_staff(ui_services, "jingli").active


async def test_r_sec_2_a_refused_export_files_a_request_that_an_approver_approves_in_f12(ui_services, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "list.csv"
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("ctrl+x")
        await settle(pilot)
        app.screen.query_one("#answer").value = str(out)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "PromptDialog"  # refused: why do you need it?
        await type_text(pilot, "yuedu")
        await pilot.press("enter")
        await settle(pilot)
    assert not out.exists()
    assert _scalar(ui_services, "SELECT count(*) FROM approval_request WHERE operation = 'customer.export'"
                   " AND state = 'requested' AND reason = 'yuedu'") == 1

    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "fujingli")
        await pilot.press("f12")
        await settle(pilot)
        assert type(app.screen).__name__ == "ApprovalsScreen"
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
    assert _scalar(ui_services, "SELECT state FROM approval_request WHERE reason = 'yuedu'") == "approved"

    app = make(ui_services)  # the same action now finds the approval by itself, and uses it once
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("ctrl+x")
        await settle(pilot)
        app.screen.query_one("#answer").value = str(out)
        await pilot.press("enter")
        await settle(pilot)
    assert out.exists()
    assert _scalar(ui_services, "SELECT state FROM approval_request WHERE reason = 'yuedu'") == "used"


async def test_r_sec_2_the_queue_is_only_for_approvers(ui_services) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await pilot.press("f12")
        await settle(pilot)
        assert type(app.screen).__name__ != "ApprovalsScreen"
        await pilot.app.run_action("open('incidents')")  # from the palette (Ctrl+P)
        await settle(pilot)
        assert type(app.screen).__name__ != "IncidentsScreen"


async def test_r_sec_6_incident_recorded_and_closed_from_the_keyboard(ui_services) -> None:  # type: ignore[no-untyped-def]
    number = _scalar(ui_services, "SELECT number FROM customer WHERE erased_at IS NULL ORDER BY id LIMIT 1")
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.app.run_action("open('incidents')")  # from the palette (Ctrl+P)
        await settle(pilot)
        assert type(app.screen).__name__ == "IncidentsScreen"
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "wufa")
        await pilot.press("enter")  # to the description
        await type_text(pilot, "email")
        await pilot.press("tab")  # the found time is filled in with now
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "IncidentsScreen"
        await pilot.press("c")
        await settle(pilot)
        await type_text(pilot, f"{number},")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await type_text(pilot, str(number))
        for _ in range(3):
            await pilot.press("enter")  # who (filled in: you), when (now)
        await type_text(pilot, "phone")
        await pilot.press("enter", "enter")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        await type_text(pilot, "done")
        await pilot.press("enter")
        await settle(pilot)
        detail = str(app.screen.query_one("#incident-detail").render())
        assert "wufa" in detail and "done" in detail
    iid = _scalar(ui_services, "SELECT id FROM incident WHERE title = 'wufa'")
    v = incidents.get_incident(ui_services, staff_actor(ui_services, "kezhang"), int(iid))  # type: ignore[arg-type]
    assert v.state == "closed" and v.description == "email" and v.notified == 1
    assert v.affected[0].notice_method == "phone" and v.affected[0].notified_by == "陈志强"
