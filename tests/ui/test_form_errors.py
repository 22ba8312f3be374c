"""Issue 21, forms: every refusal names its field and reason next to the field, focus moves to the
first refused field, and nothing is written. One test per form, each submitting a bad value."""

from __future__ import annotations

from textual.widgets import Input, Select, Static, TextArea

from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from tests.ui.conftest import dialog_host, make, open_dialog, settle, sign_in, staff_actor, type_text

SIZE = (120, 36)


def _count(svc, table: str) -> int:  # type: ignore[no-untyped-def]
    from crm_tui.store import db

    return int(db.scalar(svc.store, f"SELECT count(*) FROM {table}"))  # noqa: S608 - a test's own table names


def _text(screen, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(screen.query_one(selector, Static).render())


def _refused(screen, field_widget: str, error_box: str, reason: str, label: str,  # type: ignore[no-untyped-def]
             message: str = "#form-message") -> None:
    """The reason under the field, the field named with its reason in the message line, focus on it."""
    assert reason in _text(screen, error_box), _text(screen, error_box)
    line = _text(screen, message)
    assert "Nothing was saved" in line and f"{label}: " in line and reason in line, line
    assert screen.focused is screen.query_one(field_widget), screen.focused
    assert screen.query_one(field_widget).has_class("-invalid")


async def test_customer_form_names_the_refused_field(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.customer_form import CustomerFormScreen

    before = _count(ui_services, "customer")
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        app.push_screen(CustomerFormScreen(ui_services, staff_actor(ui_services, "jingli"), None))
        await settle(pilot)
        form = app.screen
        assert form.focused is form.query_one("#fld-name", Input)  # opens where the clerk types first
        await type_text(pilot, "王五")
        form.query_one("#fld-postcode", Input).focus()
        await type_text(pilot, "12")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerFormScreen)
        _refused(form, "#fld-postcode", "#fld-postcode-error", "Postcodes have 6 digits", "Postcode")
    assert _count(ui_services, "customer") == before


async def test_switching_to_an_organisation_lands_on_its_name_and_keeps_the_keys(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.customer_form import CustomerFormScreen

    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        app.push_screen(CustomerFormScreen(ui_services, staff_actor(ui_services, "jingli"), None))
        await settle(pilot)
        form = app.screen
        await pilot.press("shift+tab")  # up to the kind
        assert form.focused is form.query_one("#kind", Select)
        await pilot.press("enter", "down", "enter", *"ABC")  # Organisation, then type at once
        await settle(pilot)
        assert form.kind == "org"
        name = form.query("#form-scroll Input").first()
        assert form.focused is name and name.value == "ABC"


async def test_card_form_refuses_a_budget_that_is_not_an_amount_and_an_empty_summary(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.followups import CardFormScreen

    jingli = staff_actor(ui_services, "jingli")
    cid = cs.create_customer(ui_services, jingli, "person", {"name": "欧阳青"}).id
    before = _count(ui_services, "followup_card")
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await settle(pilot)
        app.push_screen(CardFormScreen(ui_services, jingli, customer_id=cid, initial={"source": "walk_in"}))
        await settle(pilot)
        form = app.screen
        form.query_one("#fld-budget", Input).focus()
        await type_text(pilot, "abc")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CardFormScreen)
        _refused(form, "#fld-budget", "#fld-budget-error", "Enter a budget such as", "Budget")
        assert "This field is required" in _text(form, "#fld-first_reception_summary-error")
        assert "First reception summary: This field is required" in _text(form, "#form-message")
        # a budget as customers say it is kept as typed
        form.query_one("#fld-budget", Input).value = "20-25万"
        form.query_one("#fld-first_reception_summary", TextArea).text = "到店看车"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, CardFormScreen)
    assert _count(ui_services, "followup_card") == before + 1
    card = fu.customer_cards(ui_services, jingli, cid)[0]
    assert fu.get_card(ui_services, jingli, card.id).values["budget"] == "20-25万"


async def test_visit_form_names_the_missing_content(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.followups import VisitForm

    jingli = staff_actor(ui_services, "jingli")
    cid = cs.create_customer(ui_services, jingli, "person", {"name": "欧阳青"}).id
    ref = fu.create_card(ui_services, jingli, cid, {"first_reception_date": "2026-11-23", "intent_level": "H",
                                                    "source": "walk_in", "first_reception_summary": "到店"})
    before = _count(ui_services, "followup_visit")
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await settle(pilot)
        app.push_screen(VisitForm(ui_services, jingli, ref.id, "H"))
        await settle(pilot)
        form = app.screen
        form.query_one("#v-next_due", Input).focus()
        await type_text(pilot, "soon")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, VisitForm)
        _refused(form, "#v-content", "#v-content-error", "This field is required", "Content", message="#v-message")
        assert "Write the date as YYYY-MM-DD" in _text(form, "#v-next_due-error")
    assert _count(ui_services, "followup_visit") == before


async def test_register_names_the_missing_name(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.register import RegisterScreen

    before = _count(ui_services, "register_entry")
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        app.push_screen(RegisterScreen(ui_services, staff_actor(ui_services, "qiantai")))
        await settle(pilot)
        screen = app.screen
        screen.query_one("#reg-phone", Input).focus()
        await type_text(pilot, "13987654321")
        await pilot.press("ctrl+s")
        await settle(pilot)
        line = _text(screen, "#reg-message")
        assert "Name: This field is required" in line, line  # the register's fields have no labels: named here
        assert screen.focused is screen.query_one("#reg-name")
        assert screen.query_one("#reg-name").has_class("-invalid")
    assert _count(ui_services, "register_entry") == before


async def test_complaint_form_names_the_missing_description(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.complaints import TicketFormScreen

    before = _count(ui_services, "complaint")
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await settle(pilot)
        app.push_screen(TicketFormScreen(ui_services, staff_actor(ui_services, "kezhang"), customer=(1, "张三")))
        await settle(pilot)
        form = app.screen
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketFormScreen)
        # the category comes first in Tab order, so focus goes there, and the description is named too
        _refused(form, "#fld-category", "#fld-category-error", "", "Complaint category")
        assert "Description: " in _text(form, "#form-message")
        assert _text(form, "#fld-description-error")
    assert _count(ui_services, "complaint") == before


async def test_grade_application_names_the_missing_reason(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.grades import ApplicationFormScreen

    jingli = staff_actor(ui_services, "jingli")
    cid = cs.create_customer(ui_services, jingli, "person", {"name": "欧阳青"}).id
    before = _count(ui_services, "grade_application")
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await settle(pilot)
        app.push_screen(ApplicationFormScreen(ui_services, jingli, cid))
        await settle(pilot)
        form = app.screen
        assert form.focused is form.query_one("#g-to", Select)
        await pilot.press("enter", "down", "enter")  # a grade; the choice moves on to the reason
        assert form.focused is form.query_one("#g-reason", TextArea)
        form.query_one("#g-evidence", TextArea).focus()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ApplicationFormScreen)
        _refused(form, "#g-reason", "#fld-reason-error", "This field is required", "Reason for the change")
    assert _count(ui_services, "grade_application") == before


async def test_staff_account_form_names_user_name_and_roles(en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.staff import AccountForm

    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, AccountForm())
        form = app.screen
        form.query_one("#display", Input).focus()
        await type_text(pilot, "Li")
        await pilot.press("ctrl+s")
        await pilot.pause()
        line = _text(form, "#form-message")
        assert "User name (letters, digits; used to sign in): Type a user name." in line, line
        assert "Roles (Space to tick): Give the account at least one role." in line, line
        assert form.focused is form.query_one("#username")
        assert app.results == []


async def test_cover_form_reads_dates_as_typed_and_names_a_bad_one(en) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from crm_tui.ui.screens.staff import CoverForm

    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, CoverForm("jingli", date(2026, 12, 6)))
        form = app.screen
        form.query_one("#backup", Input).value = "jingli2"
        form.query_one("#start", Input).value = "12/8"
        form.query_one("#end", Input).value = "2026-12-40"
        await pilot.press("ctrl+s")
        await pilot.pause()
        line = _text(form, "#form-message")
        assert line.startswith("Nothing was saved") and "To (YYYY-MM-DD): " in line, line
        assert form.focused is form.query_one("#end")
        assert app.results == []
        form.query_one("#end", Input).value = "2026-12-9"
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results == [("jingli", "jingli2", date(2026, 12, 8), date(2026, 12, 9), "")]


async def test_edit_form_shows_people_by_name_and_money_as_typed(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.customer_form import CustomerFormScreen

    jingli = staff_actor(ui_services, "jingli")
    ref = cs.create_customer(ui_services, jingli, "org", {"name": "星河贸易有限公司", "registered_capital": "500万元"})
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await settle(pilot)
        app.push_screen(CustomerFormScreen(ui_services, jingli, ref.id))
        await settle(pilot)
        form = app.screen
        assert form.query_one("#fld-registered_capital", Input).value == "500万元"
        owner = form.query_one("#fld-owner", Select)
        assert owner.value == str(jingli.staff_id)
        assert owner.query_one("SelectCurrent").label == "王建国"  # the name shows, not the id


async def test_edit_form_lists_the_staff_in_contact_by_name(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """Issue 21: the other staff in contact are ticked names, not ids typed in a box; an untouched
    list is no change, and a tick saves that colleague."""
    from textual.widgets import SelectionList

    from crm_tui.ui.screens.customer_form import CustomerFormScreen

    jingli = staff_actor(ui_services, "jingli")
    other = staff_actor(ui_services, "kezhang")
    ref = cs.create_customer(ui_services, jingli, "person", {"name": "联系人测试", "staff_contacts": "kezhang"})
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await settle(pilot)
        app.push_screen(CustomerFormScreen(ui_services, jingli, ref.id))
        await settle(pilot)
        form = app.screen
        box = form.query_one("#fld-staff_contacts", SelectionList)
        labels = [str(box.get_option_at_index(i).prompt) for i in range(box.option_count)]
        assert "陈志强" in labels and str(other.staff_id) not in labels
        assert box.selected == [str(other.staff_id)]
        assert not form.dirty()
        box.select(str(staff_actor(ui_services, "qiantai").staff_id))
        assert form.dirty()
        await pilot.press("ctrl+s")
        await settle(pilot)
    view = cs.get_customer(ui_services, jingli, ref.id, purpose="ref")
    assert sorted(n for _i, n in view.staff_contacts) == sorted(["陈志强", "李晓梅"])
