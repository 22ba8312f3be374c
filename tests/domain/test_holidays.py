"""The branch's holiday schedule in the domain (issue 16): reading a schedule file's rows, a branch
entry winning over the package, coverage, and the done-when arithmetic of an H card at the 2027
Spring Festival."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_tui.domain import followups as fd
from crm_tui.domain import holidays as dh
from crm_tui.domain.calendar import ScheduleEntry, WorkCalendar, package_covers, package_schedule
from crm_tui.domain.errors import ValidationError, ValidationErrors

HEADERS = ["日期", "类型", "名称"]
SPRING_2027 = [ScheduleEntry(date(2027, 2, 7), "work", "春节")] + [
    ScheduleEntry(date(2027, 2, d), "off", "春节") for d in range(8, 13)]


def test_done_when_h_card_on_friday_2027_02_05_is_due_on_02_15() -> None:
    cal = WorkCalendar.from_schedule(SPRING_2027)
    h = fd.load_policy().levels["H"]
    assert h.revisit_workdays == 2
    assert fd.next_visit_due(cal, date(2027, 2, 5), h) == date(2027, 2, 15)
    # without the schedule 2027 is Monday-Friday only
    assert fd.next_visit_due(WorkCalendar(), date(2027, 2, 5), h) == date(2027, 2, 9)


def test_deadline_across_new_year_and_the_loaded_spring_festival() -> None:
    cal = WorkCalendar.from_schedule([ScheduleEntry(date(2027, 1, 1), "off", "元旦"), *SPRING_2027])
    # Thu 2026-12-31 16:00 + 1 working day: Fri 2027-01-01 is a holiday -> Mon 01-04
    assert cal.workday_deadline(datetime(2026, 12, 31, 16), 1) == datetime(2027, 1, 4, 17, 30)
    assert cal.add_workdays(date(2027, 2, 5), 3) == date(2027, 2, 16)
    assert cal.workdays_between(date(2027, 2, 5), date(2027, 2, 14)) == 1  # only the make-up Sunday


def test_branch_entry_wins_over_the_package() -> None:
    cal = WorkCalendar.from_schedule([ScheduleEntry(date(2026, 10, 1), "work", "值班"),
                                      ScheduleEntry(date(2026, 10, 12), "off", "店庆")])
    assert cal.is_workday(date(2026, 10, 1))  # National Day in the package
    assert not cal.is_workday(date(2026, 10, 12))  # a Monday
    assert not WorkCalendar().is_workday(date(2026, 10, 1))


def test_coverage_by_package_or_branch() -> None:
    assert package_covers(2026) and not package_covers(2027)
    assert not WorkCalendar().covers(2027)
    cal = WorkCalendar.from_schedule(SPRING_2027)
    assert cal.covers(2027) and cal.covers(2026) and not cal.covers(2028)
    assert cal.covers_span(date(2026, 12, 30), date(2027, 1, 5))
    assert not cal.covers_span(date(2027, 12, 30), date(2028, 1, 5))
    assert cal.with_hours(cal.hours) is cal


def test_package_schedule_lists_days_off_and_make_up_days() -> None:
    entries = {e.day: e for e in package_schedule(2026)}
    assert entries[date(2026, 10, 1)].kind == "off" and entries[date(2026, 10, 1)].source == "package"
    assert entries[date(2026, 1, 4)].kind == "work"  # a Sunday worked for New Year
    assert package_schedule(2027) == []


def test_parse_rows_accepts_the_usual_spellings() -> None:
    rows = [(2, ["2027/2/8", "休", "春节"]), (3, ["2027年2月7日", "班", " 春节 "]), (4, ["", "", ""]),
            (5, ["20270209", "放假", "春节"]), (6, ["2027.02.10", "调休上班", "春节"])]
    got = dh.parse_rows(HEADERS, rows)
    assert [(e.day, e.kind, e.name) for e in got] == [
        (date(2027, 2, 7), "work", "春节"), (date(2027, 2, 8), "off", "春节"),
        (date(2027, 2, 9), "off", "春节"), (date(2027, 2, 10), "work", "春节")]
    assert [e.day for e in dh.parse_rows(["Date", "Type", "Name"], [(2, ["2027-01-01", "off", "New Year"])])] == [
        date(2027, 1, 1)]


def test_every_bad_row_is_named_with_its_reason() -> None:
    rows = [(2, ["2027-02-08", "休", "春节"]), (3, ["2027-02-30", "休", "春节"]), (4, ["明天", "休", "春节"]),
            (5, ["2027-02-09", "半天", "春节"]), (6, ["2027-02-10", "休", ""]), (7, ["2027-02-08", "班", "春节"]),
            (8, ["1999-01-01", "休", "x"]), (9, ["2027-02-11", "休", "名" * 31])]
    with pytest.raises(ValidationErrors) as e:
        dh.parse_rows(HEADERS, rows)
    msgs = {err.field: err.message for err in e.value.errors}
    assert set(msgs) == {f"row{n}" for n in range(3, 10)}
    assert "not a date of the calendar" in msgs["row3"]
    assert "not a date" in msgs["row4"]
    assert "半天 is not a type" in msgs["row5"]
    assert "name is missing" in msgs["row6"]
    assert "already given in row 2" in msgs["row7"]
    assert "between 2000 and 2100" in msgs["row8"]
    assert "longer than 30" in msgs["row9"]
    assert all(m.startswith(f"Row {f[3:]}:") for f, m in msgs.items())


def test_missing_columns_and_empty_files() -> None:
    with pytest.raises(ValidationErrors, match="1 field"):
        dh.parse_rows(["日期", "名称"], [(2, ["2027-02-08", "春节"])])
    with pytest.raises(ValidationErrors):
        dh.parse_rows(HEADERS, [(2, ["", "", ""])])


@given(st.text(max_size=12))
def test_parse_day_never_crashes(text: str) -> None:
    try:
        d = dh.parse_day(text)
    except ValidationError:
        return
    assert 2000 <= d.year <= 2100


def test_clash_of_a_day_off_and_a_working_day_is_refused() -> None:
    with pytest.raises(ValidationError):
        WorkCalendar(holidays=frozenset({date(2027, 2, 8)}), extra_workdays=frozenset({date(2027, 2, 8)}))
