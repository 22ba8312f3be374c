"""Issue 7 'done when', keyboard only: file a complaint for a customer picked by search, take it
through 已登记 -> 处理中 -> 待反馈 -> 待回访 -> 已关闭 with one key per step, see closing refused
without the cause analysis, and find every step on the customer's timeline (R-CMP-1..6)."""

from __future__ import annotations

from textual.widgets import DataTable, Input, OptionList, Static, TextArea

from crm_tui.services import complaints as cp
from crm_tui.services import customers as cs
from crm_tui.ui.screens.complaints import (
    ComplaintListScreen,
    CustomerPicker,
    FeedbackScreen,
    StepForm,
    TicketDetailScreen,
    TicketFormScreen,
)
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text

SIZE = (120, 40)


async def _fill_step(pilot, values: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Type into the step form's fields in order (Tab between them), then Ctrl+S."""
    for i, value in enumerate(values):
        if i:
            await pilot.press("tab")
        await type_text(pilot, value)
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_ticket_from_registered_to_closed_by_keyboard(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, ComplaintListScreen)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, CustomerPicker)
        picker = app.screen
        await pilot.press("down", "enter")  # first customer of the (newest first) list
        await settle(pilot)
        form = app.screen
        assert isinstance(form, TicketFormScreen) and form.customer is not None
        customer_id = form.customer[0]
        # channel (default phone) -> category: open, second entry -> severity (default) -> received -> description
        await pilot.press("tab")
        await pilot.press("enter", "down", "down", "enter")  # the choice moves on to the severity
        await pilot.press("tab", "tab")
        assert isinstance(app.focused, TextArea) and app.focused.id == "fld-description"
        await type_text(pilot, "排队一小时无人接待")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen), app.screen
        detail = app.screen
        ticket_id = detail.ticket_id
        assert detail.view is not None and detail.view.state == "registered"
        assert picker is not app.screen

        await pilot.press("a")
        await settle(pilot)
        await pilot.press("down", "enter")  # second handler of the list
        await settle(pilot)
        assert detail.view.state == "in_progress"

        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, StepForm)
        await _fill_step(pilot, ["调取监控核实"])
        assert detail.view.state == "awaiting_feedback"

        await pilot.press("f")
        await settle(pilot)
        await _fill_step(pilot, ["已道歉", "临时离岗", "电话"])
        assert detail.view.state == "awaiting_visit"

        await pilot.press("c")  # closing before the return visit: refused, stays on the form
        await settle(pilot)
        await _fill_step(pilot, ["原因", "措施"])
        assert isinstance(app.screen, StepForm)
        assert "satisfaction" in str(app.screen.query_one("#step-message", Static).render()).lower()
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("v")
        await settle(pilot)
        await _fill_step(pilot, ["电话", "客户满意", "5"])
        assert detail.view.values["satisfaction"] == 5

        await pilot.press("c")
        await settle(pilot)
        await _fill_step(pilot, ["", "每周抽查"])  # no cause analysis: refused
        assert isinstance(app.screen, StepForm)
        assert str(app.screen.query_one("#step-cause_analysis-error", Static).render()) != ""
        app.screen.query_one("#step-cause_analysis", TextArea).focus()
        await type_text(pilot, "替岗制度未执行")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is detail and detail.view.state == "closed"
        events = detail.query_one("#ticket-events", DataTable)
        assert events.row_count == 7  # filed, told (R-CMP-1), assigned ... closed

    view = cp.get_ticket(ui_services, staff_actor(ui_services, "kezhang"), ticket_id)
    assert view.state == "closed" and view.values["cause_analysis"] == "替岗制度未执行"
    tl = [e for e in cs.timeline(ui_services, staff_actor(ui_services, "kezhang"), customer_id) if e.kind == "complaint"]
    assert len(tl) == 7


async def test_illegal_step_is_refused_with_a_message(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("2")  # unassigned
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        await pilot.press("c")  # refused at the key press: no form to fill in vain
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        messages = [n.message for n in app._notifications]
        assert any("'Registered' cannot close the ticket" in m for m in messages), messages
        assert app.screen.view is not None and app.screen.view.state == "registered"


async def test_front_desk_is_refused_assigning_at_the_key_press(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert any("not allowed" in n.message for n in app._notifications)


async def test_queues_show_overdue_and_at_risk(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ComplaintListScreen)
        assert {"overdue", "at_risk", "paused"} <= {r.sla for r in screen.rows}
        await pilot.press("5")
        await settle(pilot)
        assert screen.rows and all(r.sla == "overdue" for r in screen.rows)
        bar = str(screen.query_one("#complaint-queues", Static).render())
        assert "Overdue" in bar


async def test_grumble_becomes_a_ticket_with_one_key(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert isinstance(app.screen, CustomerPicker)
        await pilot.press("down", "enter")
        await settle(pilot)
        fb = app.screen
        assert isinstance(fb, FeedbackScreen)
        await pilot.press("g")
        await settle(pilot)
        await _fill_step(pilot, ["洗车排队太久"])
        assert fb.rows and fb.rows[0].kind == "grumble"
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert app.screen.view is not None and app.screen.view.values["description"] == "洗车排队太久"
        await pilot.press("escape")
        await settle(pilot)
        assert fb.rows[0].complaint_number


async def test_new_ticket_form_refuses_bad_input(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("f4")
        await settle(pilot)
        before = len(cp.queue(ui_services, staff_actor(ui_services, "qiantai"), "open", limit=500).rows)
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, TicketFormScreen)
        box = form.query_one("#fld-received_at", Input)
        box.value = "2026-99-01 10:00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert str(form.query_one("#fld-category-error", Static).render())
        assert "YYYY-MM-DD" in str(form.query_one("#fld-received_at-error", Static).render())
        assert str(form.query_one("#fld-description-error", Static).render())
        after = len(cp.queue(ui_services, staff_actor(ui_services, "qiantai"), "open", limit=500).rows)
        assert after == before
        assert isinstance(form.query_one("#fld-channel").parent, object)
        assert not isinstance(app.focused, OptionList)


async def test_archive_opens_the_customers_feedback_and_shows_complaints_on_its_timeline(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.customers import CustomerDetailScreen

    kezhang = staff_actor(ui_services, "kezhang")
    row = cp.queue(ui_services, kezhang, "closed").rows[0]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await app.push_screen(CustomerDetailScreen(ui_services, app.actor, row.customer_id))
        await settle(pilot)
        table = app.screen.query_one("#timeline", DataTable)
        whats = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert any(row.number in w and "Complaint closed" in w for w in whats)
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert isinstance(app.screen, FeedbackScreen) and app.screen.customer_id == row.customer_id


async def test_report_screen_and_export(ui_services, en, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import Input as In

    from crm_tui.ui.screens.complaints import ComplaintReportScreen

    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ComplaintReportScreen) and screen.rep is not None
        assert screen.rep.total >= 14
        text = str(screen.query_one("#report-text", Static).render())
        assert "Satisfaction by handler" in text and "Repeated complaints" in text
        await pilot.press("ctrl+x")
        await settle(pilot)
        app.screen.query_one(In).value = str(tmp_path / "r.xlsx")
        await pilot.press("enter")
        await settle(pilot)
    assert (tmp_path / "r.xlsx").exists()


async def test_front_desk_has_no_report(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("f4")
        await settle(pilot)
        assert "report" not in {b.binding.action for b in app.screen.active_bindings.values()}  # not offered
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, ComplaintListScreen)  # and the key does nothing


async def test_r_cmp_1_letter_ticket_told_by_keyboard_then_assigned(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """R-CMP-1 keyboard only: a letter's ticket says the customer was not yet told and refuses the
    assignment with the reason; K records how and when, the facts and the history show it."""
    svc = ui_services
    chief = staff_actor(svc, "kezhang")
    customer = cs.search(svc, chief, "", cs.SearchFilters(), limit=1).rows[0]
    ref = cp.file_complaint(svc, chief, customer.id, {"channel": "letter", "category": "service/waiting",
                                                      "severity": "normal", "description": "来信投诉排队"})
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await app.push_screen(TicketDetailScreen(svc, app.actor, ref.id))
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, TicketDetailScreen)
        facts = str(detail.query_one("#ticket-text", Static).render())
        assert "Customer not yet told it will be handled" in facts
        await pilot.press("a")  # refused at the key press, with the reason
        await settle(pilot)
        assert app.screen is detail
        assert any("told it will be handled" in str(n.message) for n in app._notifications)
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, StepForm)
        await _fill_step(pilot, ["传真", ""])  # not a channel: refused next to the field
        assert isinstance(app.screen, StepForm)
        assert str(app.screen.query_one("#step-ack_method-error", Static).render()) != ""
        app.screen.query_one("#step-ack_method", Input).value = ""
        app.screen.query_one("#step-ack_method", Input).focus()
        await type_text(pilot, "电话")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is detail
        facts = str(detail.query_one("#ticket-text", Static).render())
        assert "Customer told it will be handled: Phone" in facts and "陈志强" in facts
        events = detail.query_one("#ticket-events", DataTable)
        assert "Customer told it will be handled" in [str(events.get_row_at(i)[1]) for i in range(events.row_count)]
    view = cp.get_ticket(svc, chief, ref.id)
    assert view.values["ack_method"] == "phone" and view.values["ack_by"] == "陈志强"
