"""Issue 21 done-when, "every form refusal names its field, in every area": the dialogs not covered
by test_form_errors.py (archive contact and handover, the card's end, the holiday day, the grade
standard's edit, the incident register's two forms, a caller's new phone) each get bad input: the
refusal names the field, sits next to it, the focus moves to the first, and nothing is written."""

from __future__ import annotations

from textual.widgets import Input, Static

from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services import incidents
from crm_tui.services.customers import PhoneInput
from tests.ui.conftest import dialog_host, make, open_dialog, settle, sign_in, staff_actor, type_text

SIZE = (120, 40)


def _count(svc, table: str, where: str = "") -> int:  # type: ignore[no-untyped-def]
    from crm_tui.store import db

    return int(db.scalar(svc.store, f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")))  # noqa: S608


def _text(screen, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(screen.query_one(selector, Static).render())


def _named(screen, field: str, label: str, reason: str = "", message: str = "#form-message",  # type: ignore[no-untyped-def]
           error_box: str | None = None) -> None:
    """``label: reason`` in the message line (or the reason under the field), the field marked and
    focused."""
    widget = screen.query_one("#" + field)
    if message:
        line = _text(screen, message)
        assert f"{label}: " in line and reason in line, line
    if error_box:
        assert reason in _text(screen, error_box) and _text(screen, error_box), _text(screen, error_box)
    assert widget.has_class("-invalid")
    assert screen.focused is widget, screen.focused


async def test_contact_form_names_the_summary(en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.customer_form import ContactForm

    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, ContactForm())
        form = app.screen
        form.query_one("#participants", Input).focus()
        await type_text(pilot, "张三")
        await pilot.press("ctrl+s")
        await pilot.pause()
        _named(form, "summary", "Summary", "Write a short summary of the contact.")
        assert app.results == []


async def test_handover_form_names_each_missing_field(en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.customer_form import HandoverForm

    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, HandoverForm())
        form = app.screen
        form.query_one("#to", Input).focus()
        await type_text(pilot, "jingli2")
        await pilot.press("ctrl+s")
        await pilot.pause()
        _named(form, "from", "From (user name of the colleague leaving)", "This field is required")
        assert "Handover note: " in _text(form, "#form-message")
        assert app.results == []


async def test_card_end_names_the_missing_reason_and_writes_nothing(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.followups import CloseCardDialog

    svc = ui_services
    jingli = staff_actor(svc, "jingli")
    cid = cs.create_customer(svc, jingli, "person", {"name": "欧阳青"}).id
    card = fu.create_card(svc, jingli, cid, {"first_reception_date": "2026-11-23", "first_reception_summary": "来店",
                                             "intent_level": "A", "source": "walk_in"})
    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, CloseCardDialog(lambda status, reason: fu.close_card(svc, jingli, card.id, status,
                                                                                      reason)))
        form = app.screen
        await pilot.press("enter", "down", "enter")  # won -> lost; the choice moves on to the reason
        await pilot.press("ctrl+s")
        await pilot.pause()
        _named(form, "c-reason", "Reason (required for lost and void)", "This field is required",
               error_box="#c-reason-error")
        assert app.results == []
    assert fu.get_card(svc, jingli, card.id).status == "open"


async def test_holiday_day_names_the_bad_date(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.calendar import DayForm

    svc = ui_services
    admin = staff_actor(svc, "admin")
    before = _count(svc, "holiday_day") if _has_table(svc, "holiday_day") else None
    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, DayForm(svc, admin))
        form = app.screen
        assert form.focused is form.query_one("#day", Input)
        await type_text(pilot, "2026-13-45")
        await pilot.press("ctrl+s")
        await pilot.pause()
        _named(form, "day", "", message="", error_box="#day-error")
        assert app.results == []
    if before is not None:
        assert _count(svc, "holiday_day") == before


def _has_table(svc, name: str) -> bool:  # type: ignore[no-untyped-def]
    return _count(svc, "sqlite_master", f"type = 'table' AND name = '{name}'") == 1


async def test_grade_standard_edit_names_the_field_that_is_not_a_number(en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.grades import GradeEditDialog

    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, GradeEditDialog("A", {"name": "重点客户", "name_en": "Key", "rank": 1,
                                                       "contact_days": 30, "description": ""}))
        form = app.screen
        form.query_one("#e-contact_days", Input).value = "三十"
        await pilot.press("ctrl+s")
        await pilot.pause()
        _named(form, "e-contact_days", "Contact every (days)", "Write a whole number.")
        assert app.results == []


async def test_incident_forms_name_their_fields_and_write_nothing(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.security import IncidentForm, NoticeForm

    svc = ui_services
    chief = staff_actor(svc, "kezhang")
    before = _count(svc, "incident")
    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, IncidentForm("2026-11-23 10:00", lambda v: incidents.new_incident(
            svc, chief, v["title"], v["description"], v["found"], v["measures"])))
        form = app.screen
        await type_text(pilot, "U盘遗失")
        form.query_one("#found", Input).value = "明天"
        await pilot.press("ctrl+s")
        await pilot.pause()
        # the description comes first in Tab order of the refused fields
        _named(form, "description", "What happened", "This field is required")
        assert "Found at (YYYY-MM-DD HH:MM): " in _text(form, "#form-message")
        assert form.query_one("#title", Input).value == "U盘遗失"  # what was typed stays
        assert app.results == []
        assert _count(svc, "incident") == before
        iid = incidents.new_incident(svc, chief, "U盘遗失", "客户资料U盘遗失", "2026-11-23 09:00")
        await open_dialog(pilot, NoticeForm("", "陈志强", "2026-11-23 10:00", lambda v: incidents.record_notice(
            svc, chief, iid, v["number"], told_by=v["by"], told_at=v["at"], method=v["method"], note=v["note"])))
        form = app.screen
        form.query_one("#by", Input).value = ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        _named(form, "by", "Told by", "This field is required")
        assert "How (phone, visit, letter ...): " in _text(form, "#form-message")
    assert _count(svc, "incident_customer", "notified_at IS NOT NULL") == 0


async def test_new_phone_form_names_the_number(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.frontdesk import NewPhoneForm

    svc = ui_services
    ref = cs.create_customer(svc, staff_actor(svc, "jingli"), "person", {"name": "欧阳来电"},
                             phones=[PhoneInput("13912348765")])
    desk = staff_actor(svc, "qiantai")
    view = cs.get_customer(svc, desk, ref.id)
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await settle(pilot)
        results: list = []
        app.push_screen(NewPhoneForm(svc, desk, view), results.append)
        await settle(pilot)
        form = app.screen
        await type_text(pilot, "12345")
        form.query_one("#note", Input).focus()
        await pilot.press("ctrl+s")
        await settle(pilot)
        _named(form, "phone", "New phone", error_box="#phone-error")
        assert results == []
    assert _count(svc, "phone_change_request") == 0
