"""The branch's holiday schedule (issue 16): import, set/unset, show, audit, the one calendar every
deadline uses, recomputed open deadlines, and the coverage warning."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import text

from crm_tui.domain.errors import NotFound, PermissionDenied, ValidationErrors
from crm_tui.services import complaints as cp
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services import holidays as hol
from crm_tui.services import home
from crm_tui.services.customers import PhoneInput
from tests.services.conftest import Crm

SPRING_2027 = "日期,类型,名称\n2027-02-07,班,春节\n" + "".join(
    f"2027-02-{d:02d},休,春节\n" for d in range(8, 13))
CARD = {"intent_level": "H", "source": "walk_in", "product": "SUV 2.0T", "first_reception_summary": "看车"}


def write(tmp_path: Path, body: str, name: str = "schedule.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(body.encode(encoding))
    return p


def holiday_rows(crm: Crm) -> list[tuple[str, str, str]]:
    with crm.svc.store.read() as s:
        return [tuple(r) for r in s.execute(text("SELECT day, kind, name FROM holiday_entry ORDER BY day"))]


def audits(crm: Crm, action: str) -> list[dict]:
    with crm.svc.store.read() as s:
        return [dict(r) for r in s.execute(text("SELECT * FROM audit_log WHERE action = :a ORDER BY id"),
                                            {"a": action}).mappings()]


def new_customer(crm: Crm, name: str = "张三", phone: str = "13800138000") -> int:
    return cs.create_customer(crm.svc, crm.manager, "person", {"name": name}, phones=[PhoneInput(phone)]).id


def test_done_when_spring_festival_2027_schedule_moves_an_h_card_to_02_15(crm: Crm, tmp_path: Path) -> None:
    admin = crm.actor("admin")
    change = hol.import_file(crm.svc, admin, write(tmp_path, SPRING_2027))
    assert (change.added, change.years) == (6, (2027,))
    year = hol.year_schedule(crm.svc, 2027)
    assert [e.day for e in year.days_off] == [date(2027, 2, d) for d in range(8, 13)]
    assert [(e.day, e.source, e.name) for e in year.workdays] == [(date(2027, 2, 7), "branch", "春节")]
    assert year.covered and year.branch_covers and not year.package_covers
    crm.clock.now = datetime(2027, 2, 5, 10, 0)  # a Friday
    cid = new_customer(crm)
    ref = fu.create_card(crm.svc, crm.manager, cid, {**CARD, "first_reception_date": "2027-02-05"})
    # H: 2 working days. Sun 02-07 (make-up day) is one; 02-08..12 off, 02-13/14 weekend; Mon 02-15.
    assert fu.get_card(crm.svc, crm.manager, ref.id).next_due == date(2027, 2, 15)
    [row] = audits(crm, "holiday.schedule_change")
    assert row["actor_name"] == "admin"


def test_without_the_schedule_2027_counts_only_weekends(crm: Crm) -> None:
    crm.clock.now = datetime(2027, 2, 5, 10, 0)
    ref = fu.create_card(crm.svc, crm.manager, new_customer(crm), {**CARD, "first_reception_date": "2027-02-05"})
    assert fu.get_card(crm.svc, crm.manager, ref.id).next_due == date(2027, 2, 9)
    assert hol.due_mark(hol.work_calendar(crm.svc), date(2027, 2, 5), date(2027, 2, 9)) == "≈"


def test_branch_entry_wins_over_the_package_and_unset_restores_it(crm: Crm) -> None:
    admin = crm.actor("admin")
    cal = hol.work_calendar(crm.svc)
    assert not cal.is_workday(date(2026, 10, 1))  # National Day, from the package
    hol.set_day(crm.svc, admin, "2026-10-01", "班", "测试")
    assert hol.work_calendar(crm.svc).is_workday(date(2026, 10, 1))
    shown = {e.day: e for e in hol.year_schedule(crm.svc, 2026).entries}
    assert shown[date(2026, 10, 1)].source == "branch" and shown[date(2026, 10, 2)].source == "package"
    hol.unset_day(crm.svc, admin, "2026-10-01")
    assert not hol.work_calendar(crm.svc).is_workday(date(2026, 10, 1))
    assert len(audits(crm, "holiday.schedule_change")) == 2
    with pytest.raises(NotFound):
        hol.unset_day(crm.svc, admin, "2026-10-01")


@pytest.mark.parametrize("role", ["front_desk", "customer_manager", "section_chief", "deputy_manager",
                                  "internal_control"])
def test_only_an_administrator_may_change_the_schedule(crm: Crm, tmp_path: Path, role: str) -> None:
    with pytest.raises(PermissionDenied):
        hol.import_file(crm.svc, crm.actor(role), write(tmp_path, SPRING_2027))
    with pytest.raises(PermissionDenied):
        hol.set_day(crm.svc, crm.actor(role), "2027-02-08", "休", "春节")
    assert holiday_rows(crm) == []
    assert hol.year_schedule(crm.svc, 2027).entries == []  # anyone may look


def test_bad_rows_are_named_and_nothing_is_written(crm: Crm, tmp_path: Path) -> None:
    body = ("日期,类型,名称\n2027-02-08,休,春节\n2027-02-31,休,春节\n2027-02-09,假日,春节\n"
            "2027-02-10,休,\n2027-02-08,班,春节\n")
    with pytest.raises(ValidationErrors) as e:
        hol.import_file(crm.svc, crm.actor("admin"), write(tmp_path, body))
    text_ = e.value.explain()
    assert "Row 3" in text_ and "Row 4" in text_ and "Row 5" in text_ and "Row 6" in text_
    assert "Row 2" not in text_
    assert holiday_rows(crm) == [] and audits(crm, "holiday.schedule_change") == []


def test_missing_columns_and_empty_files_are_refused(crm: Crm, tmp_path: Path) -> None:
    with pytest.raises(ValidationErrors) as e:
        hol.import_file(crm.svc, crm.actor("admin"), write(tmp_path, "日期,名称\n2027-02-08,春节\n"))
    assert "missing: 类型" in e.value.explain()
    with pytest.raises(ValidationErrors):
        hol.import_file(crm.svc, crm.actor("admin"), write(tmp_path, "日期,类型,名称\n"))
    assert holiday_rows(crm) == []


def test_gbk_csv_and_xlsx_are_read(crm: Crm, tmp_path: Path) -> None:
    hol.import_file(crm.svc, crm.actor("admin"), write(tmp_path, SPRING_2027, "gbk.csv", "gbk"))
    assert len(holiday_rows(crm)) == 6
    wb = Workbook()
    ws = wb.active
    ws.append(["日期", "类型", "名称"])
    ws.append([datetime(2028, 1, 1), "休", "元旦"])
    ws.append(["2028/1/2", "休", "元旦"])
    wb.save(tmp_path / "s.xlsx")
    change = hol.import_file(crm.svc, crm.actor("admin"), tmp_path / "s.xlsx")
    assert change.years == (2028,) and change.added == 2
    assert hol.work_calendar(crm.svc).covers(2028)


def test_an_import_replaces_the_years_it_covers(crm: Crm, tmp_path: Path) -> None:
    admin = crm.actor("admin")
    hol.import_file(crm.svc, admin, write(tmp_path, SPRING_2027))
    change = hol.import_file(crm.svc, admin, write(tmp_path, "日期,类型,名称\n2027-01-01,休,元旦\n"))
    assert (change.added, change.removed) == (1, 6)
    assert [r[0] for r in holiday_rows(crm)] == ["2027-01-01"]


def test_open_deadlines_on_changed_days_are_recomputed_and_audited(crm: Crm, tmp_path: Path) -> None:
    crm.clock.now = datetime(2027, 2, 5, 10, 0)
    cid = new_customer(crm)
    card = fu.create_card(crm.svc, crm.manager, cid, {**CARD, "first_reception_date": "2027-02-05"})
    ticket = cp.file_complaint(crm.svc, crm.manager, cid, {
        "channel": "phone", "ack_method": "phone", "category": "service/waiting", "severity": "normal", "description": "排队太久"})
    before = cp.get_ticket(crm.svc, crm.manager, ticket.id)
    assert fu.get_card(crm.svc, crm.manager, card.id).next_due == date(2027, 2, 9)
    change = hol.import_file(crm.svc, crm.actor("admin"), write(tmp_path, SPRING_2027))
    assert fu.get_card(crm.svc, crm.manager, card.id).next_due == date(2027, 2, 15)
    after = cp.get_ticket(crm.svc, crm.manager, ticket.id)
    assert after.clock.due_at is not None and before.clock.due_at is not None
    assert after.clock.due_at != before.clock.due_at
    kinds = {m.what for m in change.moved}
    assert {"followup_card", "complaint"} <= kinds
    moved = audits(crm, "holiday.deadline_moved")
    assert {r["entity"] for r in moved} >= {"followup_card", "complaint"}
    # the owner's queue shows the new date
    page = fu.queue(crm.svc, crm.manager, "open")
    assert [r.next_due for r in page.rows] == [date(2027, 2, 15)]


def test_coverage_warning_from_1_november_and_for_the_current_year(crm: Crm, tmp_path: Path) -> None:
    crm.clock.now = datetime(2026, 10, 31, 10, 0)
    assert hol.missing_years(crm.svc) == []
    crm.clock.now = datetime(2026, 11, 1, 9, 0)
    assert hol.missing_years(crm.svc) == [2027]
    warning = hol.coverage_warning(crm.svc)
    assert warning and "2027" in warning and "calendar import" in warning
    items = {i.key: i for i in home.today(crm.svc, crm.actor("admin"))}
    assert items["calendar.missing"].count == 1
    assert "calendar.missing" in {i.key for i in home.today(crm.svc, crm.actor("section_chief"))}
    assert "calendar.missing" not in {i.key for i in home.today(crm.svc, crm.actor("front_desk"))}
    crm.clock.now = datetime(2027, 3, 1, 9, 0)
    assert hol.missing_years(crm.svc) == [2027]
    hol.import_file(crm.svc, crm.actor("admin"), write(tmp_path, SPRING_2027))
    assert hol.missing_years(crm.svc) == []
    assert "calendar.missing" not in {i.key for i in home.today(crm.svc, crm.actor("admin"))}


def test_owners_see_on_home_that_their_due_dates_moved(crm: Crm, tmp_path: Path) -> None:
    crm.clock.now = datetime(2027, 2, 5, 10, 0)
    fu.create_card(crm.svc, crm.manager, new_customer(crm), {**CARD, "first_reception_date": "2027-02-05"})
    assert "calendar.moved" not in {i.key for i in home.today(crm.svc, crm.manager)}
    change = hol.import_file(crm.svc, crm.actor("admin"), write(tmp_path, SPRING_2027))
    mine = [m for m in change.moved if m.owner_id == crm.manager.staff_id]
    assert {m.what for m in mine} >= {"followup_card"}
    items = {i.key: i for i in home.today(crm.svc, crm.manager)}
    assert items["calendar.moved"].count == len(mine)
    assert "calendar.moved" not in {i.key for i in home.today(crm.svc, crm.actor("customer_manager2"))}
    crm.clock.now = datetime(2027, 2, 13, 10, 0)  # a week later the notice is gone
    assert "calendar.moved" not in {i.key for i in home.today(crm.svc, crm.manager)}


def test_doctor_warns_from_1_november_and_stays_ok(crm: Crm, tmp_path: Path) -> None:
    from crm_tui.services import system

    def line(now: datetime) -> system.Check:
        [c] = [c for c in system.doctor(crm.place, now=now) if c.name == "holiday schedule"]
        return c

    assert not line(datetime(2026, 10, 31, 12)).warn
    c = line(datetime(2026, 11, 1, 9))
    assert c.ok and c.warn and "2027" in c.detail and "calendar import" in c.detail
    c = line(datetime(2027, 3, 1, 9))
    assert c.ok and c.warn and "2027" in c.detail
    hol.import_file(crm.svc, crm.actor("admin"), write(tmp_path, SPRING_2027))
    assert not line(datetime(2027, 3, 1, 9)).warn
    assert line(datetime(2027, 11, 2, 9)).warn  # and 2028 from 1 November 2027
