"""What people type is shown as typed in the complaint, grade-change and audit screens.

A plain string in a DataTable (or a Static) is read as markup: '[bold]' vanished and a stray '[/]'
raised MarkupError while the screen was drawn, so one odd note made a ticket, an application or the
audit trail impossible to open. Cells are now plain text (ui/widgets/columns.py cell/cells) and the
facts beside them escape what was typed."""

from __future__ import annotations

from sqlalchemy import text
from textual.widgets import DataTable, Input, Static

from crm_tui.domain import complaints as dc
from crm_tui.services import complaints as cp
from crm_tui.services import customers as cs
from crm_tui.services import grades as gs
from crm_tui.ui.widgets.dialogs import InfoDialog
from tests.ui.conftest import make, settle, sign_in, staff_actor

SIZE = (160, 48)
NOTE = "客户说[/]价格[bold]再议"


def _drawn(widget) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


async def test_complaint_notes_and_feedback_with_brackets_show_as_typed(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    svc = ui_services
    chief = staff_actor(svc, "kezhang")
    customer = cs.search(svc, chief, "", cs.SearchFilters(), limit=1).rows[0]
    pol = dc.load_policy()
    ref = cp.file_complaint(svc, chief, customer.id, {
        "channel": "phone", "ack_method": "phone", "category": next(iter(pol.categories)), "severity": "normal",
        "description": "等了[/]一小时", "demand": "[red]道歉"})
    cp.assign(svc, chief, ref.id, cp.handlers(svc)[0][0], NOTE)
    cp.add_feedback(svc, chief, customer.id, "suggestion", "建议[/]增加[bold]车位")
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        from crm_tui.ui.screens.complaints import FeedbackScreen, TicketDetailScreen

        await app.push_screen(TicketDetailScreen(svc, app.actor, ref.id))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketDetailScreen)
        table = screen.query_one("#ticket-events", DataTable)
        assert table.row_count >= 2
        assert NOTE in [str(table.get_row_at(i)[-1]) for i in range(table.row_count)]
        await pilot.pause()
        assert "2026-11-23" in _drawn(table)  # drawn, without a MarkupError
        facts = str(screen.query_one("#ticket-text", Static).render())
        assert "等了[/]一小时" in facts and "[red]道歉" in facts

        await app.push_screen(FeedbackScreen(svc, app.actor, customer.id, customer.name))
        await settle(pilot)
        await pilot.pause()
        assert "建议[/]增加[bold]车位" in _drawn(app.screen.query_one("#feedback-table", DataTable))


async def test_grade_reason_and_rejection_with_brackets_show_as_typed(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    svc = ui_services
    with svc.store.read() as s:
        cid = int(s.execute(text("SELECT id FROM customer WHERE grade IS NULL AND erased_at IS NULL AND id NOT IN"
                                 " (SELECT customer_id FROM grade_application) ORDER BY id LIMIT 1")).scalar_one())
    to = gs.grade_choices(svc)[0][0]
    app_id = gs.file_application(svc, staff_actor(svc, "jingli"), cid, to, "客户[/]升级[bold]理由", "证据[red]在此")
    gs.reject_chief(svc, staff_actor(svc, "kezhang"), app_id, "驳回[/]原因[i]")
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        from crm_tui.ui.screens.grades import ApplicationScreen

        await app.push_screen(ApplicationScreen(svc, app.actor, app_id))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ApplicationScreen) and screen.view is not None
        facts = str(screen.query_one("#grade-facts-text", Static).render())
        assert "客户[/]升级[bold]理由" in facts and "证据[red]在此" in facts and "驳回[/]原因[i]" in facts
        await pilot.pause()
        assert "驳回[/]原因[i]" in _drawn(screen.query_one("#grade-steps", DataTable))


async def test_audit_detail_with_brackets_shows_as_typed(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    svc = ui_services
    admin = staff_actor(svc, "admin")
    with svc.write(admin) as tx:
        tx.audit("customer.note", details={"note": NOTE})
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "admin")
        await pilot.press("f8")
        await settle(pilot)
        screen = app.screen
        screen.set_focus(screen.query_one("#f-action", Input))
        await pilot.press(*"customer.note", "enter")
        await settle(pilot)
        table = screen.query_one("#audit-table", DataTable)
        assert table.row_count == 1
        await pilot.pause()
        assert f"note={NOTE}" in _drawn(table)
        await pilot.press("enter")  # the details
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, InfoDialog)
        assert NOTE in str(dialog.query_one("#body", Static).render())
