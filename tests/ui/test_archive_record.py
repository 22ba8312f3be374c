"""Issue 18: the customer archive (客户档案) is built on the shared record screen (ui/parts/record)
and keeps its names, its widget ids and what its steps say."""

from __future__ import annotations

from sqlalchemy import text

from crm_tui.ui.parts.record import RecordScreen
from crm_tui.ui.widgets.dialogs import PromptDialog
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text


def test_the_archive_is_a_record_screen_under_its_old_names() -> None:
    from crm_tui.ui.screens.customers import CustomerDetailScreen
    from crm_tui.ui.screens.customers.detail import CustomerDetailScreen as from_detail

    assert from_detail is CustomerDetailScreen and issubclass(CustomerDetailScreen, RecordScreen)
    # the ids app.tcss and the tests name stay
    assert (CustomerDetailScreen.BODY_ID, CustomerDetailScreen.FACTS_ID, CustomerDetailScreen.TEXT_ID,
            CustomerDetailScreen.HISTORY_ID, CustomerDetailScreen.TABLE_ID) == (
        "detail-body", "profile", "profile-text", "timeline-pane", "timeline")
    # the other record screens add nothing above their facts
    assert list(RecordScreen.facts_above(object.__new__(RecordScreen))) == []  # type: ignore[arg-type]


async def test_customer_informed_keeps_its_short_answer_and_says_the_refusal(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+G asks how the customer was told (at most 40 characters, may stay empty); with nothing
    to tell, the service's refusal is said and the archive stays as it was."""
    from crm_tui.ui.screens.customers import CustomerDetailScreen

    manager = staff_actor(ui_services, "jingli")
    with ui_services.store.read() as s:
        cid = s.execute(text("SELECT id FROM customer WHERE needs_informing = 0 AND erased_at IS NULL "
                             "AND owner_id = :me ORDER BY id LIMIT 1"), {"me": manager.staff_id}).scalar()
    app = make(ui_services)
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot, "jingli")
        app.push_screen(CustomerDetailScreen(ui_services, manager, cid))
        await settle(pilot)
        before = app.screen.query_one("#timeline").row_count
        await pilot.press("ctrl+g")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PromptDialog) and dialog.max_length == 40 and not dialog.required
        await type_text(pilot, "phone")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerDetailScreen)
        assert any(n.severity == "error" and "nothing to be told" in str(n.message) for n in app._notifications)
        assert app.screen.query_one("#timeline").row_count == before
