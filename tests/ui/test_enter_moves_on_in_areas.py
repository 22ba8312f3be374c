"""Enter in the one-line fields of the area screens acts when the key arrives (ui/base.py ENTER_BINDING):
every test posts all its keys at once, before any is handled, as a fast clerk, a barcode scanner or a
paste does, and checks that each value landed in its own field and the action happened. Through
Input.Submitted the focus moved only when that message was handled, and the keys typed meanwhile
went to the field just left. A search box's Enter waits for the results of what it holds, so the
Enter after it picks from those (the search runs in a worker)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from textual.widgets import DataTable, Input, Select

from crm_tui.domain import complaints as dc
from crm_tui.services import complaints as cp
from crm_tui.services import customers as cs
from tests.ui.conftest import burst, dialog_host, make, open_dialog, settle, sign_in, staff_actor

SIZE = (120, 40)


async def _settled(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await settle(pilot)


def _customer(svc, username: str = "kezhang") -> cs.CustomerRow:  # type: ignore[no-untyped-def]
    """A demo customer found by its number (one result, whatever the order of the list)."""
    rows = cs.search(svc, staff_actor(svc, username), "", cs.SearchFilters(), limit=30).rows
    return rows[7]


# -- audit ----------------------------------------------------------------------------------------


async def test_audit_filters_typed_as_oneburst(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+F, a user name, Tab, an action prefix, Enter: both filters hold what was typed for them,
    the list is filtered, and the entries have the focus."""
    from crm_tui.ui.screens.audit import AuditScreen

    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "admin")
        await pilot.press("f8")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        burst(app, ["ctrl+f", *"admin", "tab", *"auth.", "enter"])
        await _settled(pilot)
        assert screen.query_one("#f-user", Input).value == "admin"
        assert screen.query_one("#f-action", Input).value == "auth."
        assert screen.focused is screen.query_one(DataTable)
        assert screen.entries and all(e.action.startswith("auth.") for e in screen.entries)


# -- complaints -----------------------------------------------------------------------------------


async def test_new_complaint_typed_as_oneburst(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """R-CMP-1 at the desk: Ctrl+N, the customer's number, Enter, Enter picks the customer; then Tab to
    the time received, the time, Enter, the description and Ctrl+S: the ticket holds both."""
    from crm_tui.ui.screens.complaints import ComplaintListScreen, CustomerPicker, TicketDetailScreen, TicketFormScreen

    svc = ui_services
    customer = _customer(svc)
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, ComplaintListScreen)
        burst(app, ["ctrl+n", *customer.number, "enter"])
        await _settled(pilot)
        form = app.screen
        assert isinstance(form, TicketFormScreen), form
        assert form.customer is not None and form.customer[0] == customer.id
        assert not any(isinstance(s, CustomerPicker) for s in app.screen_stack)
        form.query_one("#fld-category", Select).value = next(iter(dc.load_policy().categories))
        await pilot.pause()
        burst(app, ["tab", "tab", "tab", *"2026-11-23 09:15", "enter", *"排队一小时无人接待", "ctrl+s"])
        await _settled(pilot)
        detail = app.screen
        assert isinstance(detail, TicketDetailScreen), (detail, str(form.query_one("#form-message").render()))
        view = cp.get_ticket(svc, staff_actor(svc, "kezhang"), detail.ticket_id)
        assert view.values["received_at"] == datetime(2026, 11, 23, 9, 15)
        assert view.values["description"] == "排队一小时无人接待"


async def test_step_form_fields_typed_as_oneburst(en) -> None:  # type: ignore[no-untyped-def]
    """The return-visit step: how, Enter, what the customer said (a text box: Tab leaves it), the
    score, Ctrl+S: each value reaches the service in its own field."""
    from crm_tui.ui.screens.complaints import STEP_FORMS, StepForm

    got: list[dict[str, str]] = []
    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, StepForm("Return visit", STEP_FORMS["visit"].fields, got.append))
        burst(app, [*"电话", "enter", *"很满意", "tab", *"5", "ctrl+s"])
        await pilot.pause()
        await pilot.pause()
        assert got == [{"visit_method": "电话", "visit_notes": "很满意", "satisfaction": "5"}]
        assert app.results == [True]


# -- grades ---------------------------------------------------------------------------------------


async def test_grade_application_customer_search_as_oneburst(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+N, the customer's number, Enter: the only match is chosen (not the first of a list from
    before the search), and the focus is on the proposed grade."""
    from crm_tui.ui.screens.grades import ApplicationFormScreen

    svc = ui_services
    customer = _customer(svc, "jingli")
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await pilot.press("f5")
        await settle(pilot)
        burst(app, ["ctrl+n", *customer.number, "enter"])
        await _settled(pilot)
        form = app.screen
        assert isinstance(form, ApplicationFormScreen), form
        assert form.query_one("#g-query", Input).value == customer.number
        assert form.customer_id == customer.id
        assert form.focused is form.query_one("#g-to", Select)


async def test_grade_edit_dialog_typed_as_oneburst(en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.grades import GradeEditDialog

    values = {"name": "重要客户", "name_en": "Key", "rank": 1, "contact_days": 30, "description": "旧"}
    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, GradeEditDialog("A", values))
        # each field selects its text when it gets the focus, so typing replaces it
        burst(app, [*"重点客户", "enter", *"Major", "enter", *"2", "enter", *"14", "enter", *"每两周联系", "ctrl+s"])
        await pilot.pause()
        await pilot.pause()
        assert app.results == [{"name": "重点客户", "name_en": "Major", "rank": 2, "contact_days": 14,
                                "description": "每两周联系"}]


# -- follow-ups -----------------------------------------------------------------------------------


async def test_card_form_fields_typed_as_oneburst(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.followups import CardFormScreen

    svc = ui_services
    customer = _customer(svc, "jingli")
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await app.push_screen(CardFormScreen(svc, app.actor, customer_id=customer.id))
        await settle(pilot)
        form = app.screen
        form.set_focus(form.query_one("#fld-product", Input))
        await pilot.pause()
        burst(app, [*"途观L", "enter", *"两驱豪华版", "enter", *"25万", "enter"])
        await _settled(pilot)
        assert form.query_one("#fld-product", Input).value == "途观L"
        assert form.query_one("#fld-configuration", Input).value == "两驱豪华版"
        assert form.query_one("#fld-budget", Input).value == "25万"
        assert form.focused is form.query_one("#fld-purchase_method", Select)


async def test_visit_form_fields_typed_as_oneburst(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.followups import VisitForm

    svc = ui_services
    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, VisitForm(svc, staff_actor(svc, "jingli"), 1, "H"))
        form = app.screen
        burst(app, ["tab", "tab", *"试驾后报价", "enter", *"夫妻二人", "enter", *"嫌贵", "enter", *"价格"])
        await pilot.pause()
        await pilot.pause()
        got = {f: form.query_one(f"#v-{f}", Input).value for f in ("content", "participants", "feedback", "objections")}
        assert got == {"content": "试驾后报价", "participants": "夫妻二人", "feedback": "嫌贵", "objections": "价格"}


async def test_close_card_reason_and_enter_as_oneburst(en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.followups import CloseCardDialog

    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, CloseCardDialog())
        burst(app, ["tab", *"已购他牌", "enter", *"x"])
        await pilot.pause()
        await pilot.pause()
        assert app.results == [("won", "已购他牌")]
        assert app.query_one("#below", Input).value == "x"


async def test_card_customer_picker_as_oneburst(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.followups import CustomerPickerScreen

    svc = ui_services
    customer = _customer(svc, "jingli")
    app = make(svc)
    picked: list[int | None] = []
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        app.push_screen(CustomerPickerScreen(svc, app.actor), picked.append)
        burst(app, [*customer.number, "enter"])  # the only match: one Enter picks it
        await _settled(pilot)
        assert picked == [customer.id]


# -- import ---------------------------------------------------------------------------------------


async def test_import_path_and_enter_as_oneburst(ui_services, en, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The whole path typed (or pasted) and Enter: the file opened is the one named, not a prefix."""
    from crm_tui.ui.screens.importing import ImportScreen

    path = tmp_path / "new-customers.csv"
    path.write_text("姓名,手机\n王小明,13912345678\n", encoding="utf-8")
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "admin")
        await pilot.press("f11")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        burst(app, [*str(path), "enter"])
        await _settled(pilot)
        assert screen.table is not None, str(screen.query_one("#import-message").render())
        assert screen.query_one("#import-path", Input).value == str(path)
        assert len(screen.table.rows) == 1
        assert screen.focused is screen.query_one("#import-mapping", DataTable)


# -- the customer archive's small forms -----------------------------------------------------------


async def test_contact_form_typed_as_oneburst(en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.customer_form import ContactForm

    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, ContactForm())
        burst(app, ["tab", *"电话回访", "enter", *"张先生", "enter", *"满意", "enter", *"下周再约", "enter", *"x"])
        await pilot.pause()
        await pilot.pause()
        assert len(app.results) == 1
        result = app.results[0]
        assert isinstance(result, dict)
        assert (result["summary"], result["participants"], result["feedback"], result["next_action"]) == (
            "电话回访", "张先生", "满意", "下周再约")
        assert app.query_one("#below", Input).value == "x"


async def test_handover_form_typed_as_oneburst(en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.customer_form import HandoverForm

    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, HandoverForm())
        burst(app, [*"jingli", "enter", *"jingli2", "enter", *"离职交接", "enter"])
        await pilot.pause()
        await pilot.pause()
        assert app.results == [("jingli", "jingli2", "离职交接")]


async def test_customer_picker_of_complaints_waits_for_the_results_of_the_query(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """Feedback (Ctrl+B) asks for the customer: the number and Enter (the only match) open that
    customer's feedback."""
    from crm_tui.ui.screens.complaints import FeedbackScreen

    svc = ui_services
    customer = _customer(svc)
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f4")
        await settle(pilot)
        burst(app, ["ctrl+b", *customer.number, "enter"])
        await _settled(pilot)
        assert isinstance(app.screen, FeedbackScreen), app.screen
        assert app.screen.customer_id == customer.id
