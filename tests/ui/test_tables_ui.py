"""Tables keep their layout whatever rows arrive first, and show typed text as typed.

The customer timeline had auto column widths measured after the first page; a refresh racing it left
the columns at their header widths ('2026 建立 负责'). Its columns now have fixed widths, the long
details last. A note with '[/]' in it used to be read as Rich markup and broke the table."""

from __future__ import annotations

from textual.widgets import DataTable

from crm_tui.services import customers as cs
from crm_tui.ui.screens.customers import CustomerDetailScreen
from tests.ui.conftest import make, settle, sign_in, staff_actor


async def test_timeline_has_fixed_columns_and_shows_brackets_as_typed(ui_services, zh) -> None:  # type: ignore[no-untyped-def]
    desk = staff_actor(ui_services, "qiantai")
    customer = cs.search(ui_services, desk, "", cs.SearchFilters(), limit=1).rows[0]
    summary = "客户说[/]价格[red]再议"
    cs.add_contact(ui_services, desk, customer.id, "call", summary)
    app = make(ui_services)
    async with app.run_test(size=(160, 48)) as pilot:
        await sign_in(pilot, "qiantai")
        await app.push_screen(CustomerDetailScreen(ui_services, app.actor, customer.id))
        await settle(pilot)
        table = app.screen.query_one("#timeline", DataTable)
        assert table.row_count > 1
        widths = [(str(c.label), c.width, c.auto_width) for c in table.ordered_columns]
        assert [w[0] for w in widths] == ["时间", "事项", "员工", "详情"]
        assert all(not auto for _label, _w, auto in widths), widths
        assert widths[0][1] == len("2026-11-23 10:30")
        bodies = [str(table.get_row_at(i)[-1]) for i in range(table.row_count)]
        assert summary in bodies, bodies
        await pilot.pause()
        drawn = "\n".join(table.render_line(y).text for y in range(table.size.height))
        assert "客户说[/]价格[red]再议" in drawn, drawn  # drawn as typed, without a MarkupError


async def test_timeline_details_are_on_screen_at_80_and_160_columns(ui_services, zh) -> None:  # type: ignore[no-untyped-def]
    """At 80x24 the profile sits above the timeline (side by side only time and event showed); at
    160x48 they are side by side. Either way the details column starts on screen."""
    desk = staff_actor(ui_services, "qiantai")
    customer = cs.search(ui_services, desk, "", cs.SearchFilters(), limit=1).rows[0]
    for size, stacked in (((80, 24), True), ((160, 48), False)):
        app = make(ui_services)
        async with app.run_test(size=size) as pilot:
            await sign_in(pilot, "qiantai")
            await app.push_screen(CustomerDetailScreen(ui_services, app.actor, customer.id))
            await settle(pilot)
            screen = app.screen
            assert screen.has_class("-narrow") == stacked
            table = screen.query_one("#timeline", DataTable)
            profile = screen.query_one("#profile")
            assert (table.region.y >= profile.region.bottom) == stacked, (table.region, profile.region)
            before_details = sum(c.get_render_width(table) for c in table.ordered_columns[:-1])
            assert before_details + 10 <= table.region.width, (size, before_details, table.region)


async def test_ticket_and_application_stack_below_140_columns(ui_services, zh) -> None:  # type: ignore[no-untyped-def]
    """A complaint ticket's facts sit above its history, a grade application's above its steps, at
    80x24 (side by side the history showed only its time and event); at 160x48 they are side by side.
    Either way every column up to the note/comment starts on screen."""
    from crm_tui.services import complaints as cp
    from crm_tui.services import grades as gs
    from crm_tui.ui.screens.complaints import TicketDetailScreen
    from crm_tui.ui.screens.grades import ApplicationScreen

    chief = staff_actor(ui_services, "kezhang")
    ticket = cp.queue(ui_services, chief, "open").rows[0].id
    application = gs.queue(ui_services, chief, "approve").rows[0].id
    for size, stacked in (((80, 24), True), ((160, 48), False)):
        app = make(ui_services)
        async with app.run_test(size=size) as pilot:
            await sign_in(pilot, "kezhang")
            for screen, facts, table_id in ((TicketDetailScreen(ui_services, app.actor, ticket), "#ticket-facts",
                                             "#ticket-events"),
                                            (ApplicationScreen(ui_services, app.actor, application), "#grade-facts",
                                             "#grade-steps")):
                await app.push_screen(screen)
                await settle(pilot)
                assert screen.has_class("-narrow") == stacked
                table = screen.query_one(table_id, DataTable)
                top = screen.query_one(facts)
                assert (table.region.y >= top.region.bottom) == stacked, (size, table.region, top.region)
                before_last = sum(c.get_render_width(table) for c in table.ordered_columns[:-1])
                assert before_last < table.region.width, (size, table_id, before_last, table.region)
                await app.pop_screen()
