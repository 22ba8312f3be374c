"""Working-time calendar (R-CUST-9, R-FU-3, R-CMP-3, R-GRD-2, R-GRD-3).

Holiday facts below were checked against chinese_calendar 1.11.0 (see test_matches_chinese_calendar):
  2025 Spring Festival: off 01-28..02-04, make-up workdays Sun 01-26 and Sat 02-08
  2025 National Day + Mid-autumn: off 10-01..10-08, make-up workdays Sun 09-28 and Sat 10-11
  2026 Spring Festival: off 02-15..02-23, make-up workdays Sat 02-14 and Sat 02-28
  2026 National Day: off 10-01..10-07, make-up workdays Sun 09-20 and Sat 10-10
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_tui.domain.calendar import (
    STATE_LABELS,
    BusinessHours,
    LimitStatus,
    TimeLimit,
    WorkCalendar,
)
from crm_tui.domain.errors import ValidationError
from crm_tui.i18n import catalog, translate_in

_CC_LAST = max(chinese_calendar.holidays).year

CAL = WorkCalendar()
D = date
T = datetime
H4 = TimeLimit(4, "hours")


def zh(err: ValidationError) -> str:
    return translate_in("zh_CN", err.msgid, **err.params)


# --- working days --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        (D(2025, 6, 6), True),  # ordinary Friday
        (D(2025, 6, 7), False),  # ordinary Saturday
        (D(2025, 6, 8), False),  # ordinary Sunday
        (D(2025, 6, 9), True),  # ordinary Monday
        # 2025 Spring Festival
        (D(2025, 1, 26), True),  # Sunday make-up workday (调休)
        (D(2025, 1, 27), True),
        (D(2025, 1, 28), False),
        (D(2025, 2, 3), False),  # Monday, still off
        (D(2025, 2, 4), False),
        (D(2025, 2, 5), True),
        (D(2025, 2, 8), True),  # Saturday make-up workday
        (D(2025, 2, 9), False),
        # 2025 National Day + Mid-autumn
        (D(2025, 9, 28), True),  # Sunday make-up workday
        (D(2025, 9, 30), True),
        (D(2025, 10, 1), False),
        (D(2025, 10, 6), False),  # Mid-autumn inside the break
        (D(2025, 10, 8), False),  # Wednesday, still off
        (D(2025, 10, 9), True),
        (D(2025, 10, 11), True),  # Saturday make-up workday
        (D(2025, 10, 12), False),
        # 2026 Spring Festival
        (D(2026, 2, 13), True),
        (D(2026, 2, 14), True),  # Saturday make-up workday
        (D(2026, 2, 15), False),
        (D(2026, 2, 23), False),  # Monday, still off
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),  # Saturday make-up workday
        # 2026 National Day
        (D(2026, 9, 20), True),  # Sunday make-up workday
        (D(2026, 10, 1), False),
        (D(2026, 10, 7), False),
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),  # Saturday make-up workday
        (D(2026, 10, 11), False),
    ],
)
def test_is_workday(day: date, workday: bool) -> None:
    assert CAL.is_workday(day) is workday
    assert CAL.is_workday(datetime.combine(day, time(23, 59))) is workday


def test_matches_chinese_calendar_for_2025_and_2026() -> None:
    day = D(2025, 1, 1)
    while day.year < 2027:
        assert CAL.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
    assert chinese_calendar.get_holiday_detail(D(2025, 10, 11)) == (False, "National Day")
    assert chinese_calendar.get_holiday_detail(D(2026, 2, 14)) == (False, "Spring Festival")


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (D(2025, 6, 6), 0, D(2025, 6, 6)),  # workday, n=0: itself
        (D(2025, 6, 7), 0, D(2025, 6, 9)),  # Saturday, n=0: next workday
        (D(2025, 6, 6), 1, D(2025, 6, 9)),  # Friday + 1 -> Monday
        (D(2025, 6, 7), 1, D(2025, 6, 9)),  # Saturday + 1 -> Monday
        (D(2025, 6, 9), 5, D(2025, 6, 16)),
        (D(2025, 9, 30), 1, D(2025, 10, 9)),  # over National Day
        (D(2025, 9, 30), 3, D(2025, 10, 11)),  # lands on the make-up Saturday
        (D(2025, 10, 3), 0, D(2025, 10, 9)),  # inside the holiday
        (D(2025, 9, 26), 1, D(2025, 9, 28)),  # Friday + 1 -> make-up Sunday
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # Friday + 1 -> make-up Saturday
        (D(2026, 2, 13), 2, D(2026, 2, 24)),  # then over the Spring Festival
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 12, 31), 1, D(2027, 1, 1)),  # into an uncovered year: plain Friday
    ],
)
def test_add_workdays(day: date, n: int, expected: date) -> None:
    assert CAL.add_workdays(day, n) == expected
    if n >= 1:
        assert CAL.workdays_between(day, expected) == n


def test_add_workdays_rejects_negative() -> None:
    with pytest.raises(ValueError):
        CAL.add_workdays(D(2025, 6, 6), -1)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2025, 6, 6), D(2025, 6, 9)),
        (D(2025, 6, 9), D(2025, 6, 10)),
        (D(2025, 9, 30), D(2025, 10, 9)),
        (D(2025, 1, 24), D(2025, 1, 26)),  # Friday -> make-up Sunday
        (D(2026, 2, 14), D(2026, 2, 24)),
    ],
)
def test_next_workday(day: date, expected: date) -> None:
    assert CAL.next_workday(day) == expected


@pytest.mark.parametrize(
    ("a", "b", "count"),
    [
        (D(2025, 6, 6), D(2025, 6, 6), 0),  # empty interval
        (D(2025, 6, 9), D(2025, 6, 6), 0),  # reversed
        (D(2025, 6, 6), D(2025, 6, 9), 1),  # (Fri, Mon]
        (D(2025, 6, 5), D(2025, 6, 9), 2),  # (Thu, Mon]: Fri, Mon
        (D(2025, 9, 26), D(2025, 9, 28), 1),  # make-up Sunday counts
        (D(2025, 9, 30), D(2025, 10, 8), 0),  # whole holiday
        (D(2025, 9, 30), D(2025, 10, 12), 3),  # 9, 10, 11 (Sat)
        (D(2026, 2, 13), D(2026, 2, 28), 6),  # 14 (Sat), 24, 25, 26, 27, 28 (Sat)
    ],
)
def test_workdays_between(a: date, b: date, count: int) -> None:
    assert CAL.workdays_between(a, b) == count


# --- day deadlines -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # the day of start never counts; due at the close (17:30) of the n-th working day after it
        (T(2025, 6, 6, 16, 0), 1, T(2025, 6, 9, 17, 30)),  # Friday 16:00 -> Monday close
        (T(2025, 6, 7, 10, 0), 1, T(2025, 6, 9, 17, 30)),  # Saturday -> Monday close
        (T(2025, 6, 9, 8, 0), 1, T(2025, 6, 10, 17, 30)),  # before opening: still next day
        (T(2025, 6, 9, 20, 0), 1, T(2025, 6, 10, 17, 30)),  # after closing
        (T(2025, 6, 9, 10, 0), 2, T(2025, 6, 11, 17, 30)),
        # n = 0: same working day, or the next one if received at/after close or on a day off
        (T(2025, 6, 9, 10, 0), 0, T(2025, 6, 9, 17, 30)),
        (T(2025, 6, 9, 17, 30), 0, T(2025, 6, 10, 17, 30)),
        (T(2025, 6, 7, 10, 0), 0, T(2025, 6, 9, 17, 30)),
        # holidays
        (T(2025, 9, 30, 15, 0), 1, T(2025, 10, 9, 17, 30)),
        (T(2025, 9, 30, 15, 0), 2, T(2025, 10, 10, 17, 30)),
        (T(2025, 9, 30, 15, 0), 3, T(2025, 10, 11, 17, 30)),  # make-up Saturday
        (T(2025, 10, 2, 11, 0), 1, T(2025, 10, 9, 17, 30)),  # received during the holiday
        (T(2026, 2, 13, 16, 0), 1, T(2026, 2, 14, 17, 30)),  # make-up Saturday
        (T(2026, 2, 13, 16, 0), 2, T(2026, 2, 24, 17, 30)),
        # R-GRD-2: review within 3 working days of the end of the period (Friday 2025-12-26)
        (T(2025, 12, 26, 17, 30), 3, T(2025, 12, 31, 17, 30)),
    ],
)
def test_workday_deadline(start: datetime, n: int, due: datetime) -> None:
    assert CAL.workday_deadline(start, n) == due
    assert CAL.deadline(start, TimeLimit(n, "days")) == due


# --- working minutes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "minutes"),
    [
        (T(2025, 6, 9, 10, 0), T(2025, 6, 9, 11, 0), 60),
        (T(2025, 6, 9, 11, 0), T(2025, 6, 9, 14, 0), 90),  # lunch 12:00-13:30 excluded
        (T(2025, 6, 9, 12, 15), T(2025, 6, 9, 13, 0), 0),  # inside lunch
        (T(2025, 6, 9, 7, 0), T(2025, 6, 9, 10, 0), 60),  # before opening
        (T(2025, 6, 9, 0, 0), T(2025, 6, 10, 0, 0), 420),  # one full working day
        (T(2025, 6, 9, 17, 0), T(2025, 6, 10, 10, 0), 90),  # over a night
        (T(2025, 6, 9, 18, 0), T(2025, 6, 9, 23, 0), 0),  # after closing
        (T(2025, 6, 6, 17, 0), T(2025, 6, 9, 9, 30), 60),  # over a weekend
        (T(2025, 9, 30, 17, 0), T(2025, 10, 9, 9, 30), 60),  # over National Day
        (T(2025, 10, 3, 9, 0), T(2025, 10, 3, 17, 0), 0),  # on a holiday
        (T(2025, 10, 10, 17, 0), T(2025, 10, 11, 10, 0), 90),  # into the make-up Saturday
        (T(2025, 6, 9, 11, 0), T(2025, 6, 9, 10, 0), 0),  # reversed
        (T(2025, 6, 9, 10, 0, 0), T(2025, 6, 9, 10, 1, 59), 1),  # whole minutes, floored
    ],
)
def test_working_minutes_between(a: datetime, b: datetime, minutes: int) -> None:
    assert CAL.working_minutes_between(a, b) == minutes


@pytest.mark.parametrize(
    ("a", "b", "pauses", "minutes"),
    [
        # pause over a night: Mon 15:00 -> Tue 12:00 is 330, the pause takes 30 + 60
        (T(2025, 6, 9, 15), T(2025, 6, 10, 12), [(T(2025, 6, 9, 17), T(2025, 6, 10, 10))], 240),
        # pause over National Day: only its working time (16:00-17:30, 09:00-10:00) is removed
        (T(2025, 9, 30, 15), T(2025, 10, 9, 12), [(T(2025, 9, 30, 16), T(2025, 10, 9, 10))], 180),
        # overlapping pauses are not removed twice
        (
            T(2025, 6, 9, 9),
            T(2025, 6, 9, 12),
            [(T(2025, 6, 9, 9, 30), T(2025, 6, 9, 10, 30)), (T(2025, 6, 9, 10), T(2025, 6, 9, 11))],
            90,
        ),
        # open pause: until b
        (T(2025, 6, 9, 9), T(2025, 6, 9, 12), [(T(2025, 6, 9, 11), None)], 120),
        # pause starting before a: only the part after a counts
        (T(2025, 6, 9, 10), T(2025, 6, 9, 12), [(T(2025, 6, 6, 9), T(2025, 6, 9, 11))], 60),
        # pause entirely before a or after b: no effect
        (T(2025, 6, 9, 10), T(2025, 6, 9, 12), [(T(2025, 6, 6, 9), T(2025, 6, 6, 11))], 120),
        (T(2025, 6, 9, 10), T(2025, 6, 9, 12), [(T(2025, 6, 9, 14), None)], 120),
        # pause over a weekend only: nothing to remove
        (T(2025, 6, 6, 17), T(2025, 6, 9, 9, 30), [(T(2025, 6, 6, 18), T(2025, 6, 9, 8))], 60),
    ],
)
def test_working_minutes_between_with_pauses(
    a: datetime, b: datetime, pauses: list, minutes: int
) -> None:
    assert CAL.working_minutes_between(a, b, pauses) == minutes


def test_pause_ending_before_it_starts_is_rejected() -> None:
    with pytest.raises(ValueError):
        CAL.working_minutes_between(
            T(2025, 6, 9, 9), T(2025, 6, 9, 12), [(T(2025, 6, 9, 11), T(2025, 6, 9, 10))]
        )


@pytest.mark.parametrize(
    ("start", "minutes", "end"),
    [
        (T(2025, 6, 9, 10, 0), 30, T(2025, 6, 9, 10, 30)),
        (T(2025, 6, 9, 11, 0), 60, T(2025, 6, 9, 12, 0)),  # earliest instant, not 13:30
        (T(2025, 6, 9, 11, 0), 90, T(2025, 6, 9, 14, 0)),  # over lunch
        (T(2025, 6, 9, 12, 30), 0, T(2025, 6, 9, 13, 30)),  # lunch: clock starts at reopening
        (T(2025, 6, 9, 7, 0), 30, T(2025, 6, 9, 9, 30)),  # before opening
        (T(2025, 6, 9, 18, 0), 30, T(2025, 6, 10, 9, 30)),  # after closing
        (T(2025, 6, 9, 17, 30), 0, T(2025, 6, 10, 9, 0)),  # closing instant is not working time
        (T(2025, 6, 6, 17, 0), 60, T(2025, 6, 9, 9, 30)),  # over a weekend
        (T(2025, 6, 7, 10, 0), 0, T(2025, 6, 9, 9, 0)),  # Saturday
        (T(2025, 10, 1, 10, 0), 240, T(2025, 10, 9, 14, 30)),  # on a holiday
        (T(2025, 6, 9, 9, 0), 420, T(2025, 6, 9, 17, 30)),  # a full day
        (T(2025, 6, 9, 9, 0), 421, T(2025, 6, 10, 9, 1)),
    ],
)
def test_add_working_minutes(start: datetime, minutes: int, end: datetime) -> None:
    assert CAL.add_working_minutes(start, minutes) == end


# --- time limits (R-CMP-3) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "limit", "due"),
    [
        # received the afternoon before National Day 2025
        (T(2025, 9, 30, 15), TimeLimit(4, "hours"), T(2025, 10, 9, 10, 30)),  # 2.5 h + 1.5 h
        (T(2025, 9, 30, 15), TimeLimit(1, "days"), T(2025, 10, 9, 17, 30)),
        (T(2025, 9, 30, 15), TimeLimit(2, "days"), T(2025, 10, 10, 17, 30)),
        (T(2025, 9, 30, 15), TimeLimit(5, "days"), T(2025, 10, 14, 17, 30)),  # via Sat 10-11
        # received the afternoon before Spring Festival 2026: the make-up Saturday works
        (T(2026, 2, 13, 16), TimeLimit(4, "hours"), T(2026, 2, 14, 11, 30)),
        (T(2026, 2, 14, 16), TimeLimit(4, "hours"), T(2026, 2, 24, 11, 30)),
        (T(2026, 2, 14, 16), TimeLimit(2, "days"), T(2026, 2, 25, 17, 30)),
        # before opening / during lunch / on a holiday
        (T(2025, 6, 9, 6, 0), TimeLimit(4, "hours"), T(2025, 6, 9, 14, 30)),
        (T(2025, 6, 9, 12, 10), TimeLimit(4, "hours"), T(2025, 6, 9, 17, 30)),
        (T(2025, 10, 5, 9, 0), TimeLimit(4, "hours"), T(2025, 10, 9, 14, 30)),
        (T(2025, 10, 5, 9, 0), TimeLimit(1, "days"), T(2025, 10, 9, 17, 30)),
    ],
)
def test_deadline(start: datetime, limit: TimeLimit, due: datetime) -> None:
    assert CAL.deadline(start, limit) == due


@pytest.mark.parametrize(
    ("start", "limit", "pauses", "due"),
    [
        # 1 working hour paused pushes a 4 h limit out by 1 h
        (T(2025, 6, 9, 9), H4, [(T(2025, 6, 9, 10), T(2025, 6, 9, 11))], T(2025, 6, 9, 15, 30)),
        # pause over a night and National Day: 60 used, 150 paused, 180 left from 10-09 10:00
        (T(2025, 9, 30, 15), H4, [(T(2025, 9, 30, 16), T(2025, 10, 9, 10))], T(2025, 10, 9, 14, 30)),
        # pause only over non-working time changes nothing
        (T(2025, 9, 30, 15), H4, [(T(2025, 9, 30, 18), T(2025, 10, 8, 20))], T(2025, 10, 9, 10, 30)),
        # day limit: 1 working hour paused -> 1 working hour past the close (make-up Saturday)
        (
            T(2025, 9, 30, 15),
            TimeLimit(2, "days"),
            [(T(2025, 10, 9, 9), T(2025, 10, 9, 10))],
            T(2025, 10, 11, 10, 0),
        ),
        # a pause that starts after the deadline does not revive it
        (T(2025, 6, 9, 9), H4, [(T(2025, 6, 9, 15), T(2025, 6, 10, 15))], T(2025, 6, 9, 14, 30)),
        # a pause before start is ignored
        (T(2025, 6, 9, 9), H4, [(T(2025, 6, 6, 9), T(2025, 6, 6, 17))], T(2025, 6, 9, 14, 30)),
    ],
)
def test_deadline_with_pauses(
    start: datetime, limit: TimeLimit, pauses: list, due: datetime
) -> None:
    assert CAL.deadline(start, limit, pauses) == due


def test_deadline_with_open_pause_needs_now() -> None:
    start = T(2025, 6, 9, 9)
    pauses = [(T(2025, 6, 9, 10), None)]
    with pytest.raises(ValueError):
        CAL.deadline(start, H4, pauses)
    # the clock restarts at now: 60 used, 180 left from Tue 09:00
    assert CAL.deadline(start, H4, pauses, now=T(2025, 6, 10, 9)) == T(2025, 6, 10, 12)


@pytest.mark.parametrize(
    ("now", "pauses", "elapsed", "state", "paused"),
    [
        (T(2025, 6, 9, 8, 0), [], 0, "ok", False),  # before start
        (T(2025, 6, 9, 9, 0), [], 0, "ok", False),
        (T(2025, 6, 9, 11, 59), [], 179, "ok", False),
        (T(2025, 6, 9, 12, 0), [], 180, "at_risk", False),  # exactly 75 %
        (T(2025, 6, 9, 13, 0), [], 180, "at_risk", False),  # lunch: the clock stands still
        (T(2025, 6, 9, 14, 30), [], 240, "at_risk", False),  # due now, not yet late
        (T(2025, 6, 9, 14, 31), [], 241, "overdue", False),
        (T(2025, 6, 9, 20, 0), [], 420, "overdue", False),
        # paused at 10:00 and still waiting for the customer next morning
        (T(2025, 6, 10, 11, 0), [(T(2025, 6, 9, 10), None)], 60, "ok", True),
        # the pause ended: 60 + 120 used
        (
            T(2025, 6, 10, 11, 0),
            [(T(2025, 6, 9, 10), T(2025, 6, 10, 9))],
            180,
            "at_risk",
            False,
        ),
    ],
)
def test_limit_status(now: datetime, pauses: list, elapsed: int, state: str, paused: bool) -> None:
    status = CAL.limit_status(T(2025, 6, 9, 9), H4, now, pauses)
    assert isinstance(status, LimitStatus)
    assert status.elapsed_minutes == elapsed
    assert status.total_minutes == 240
    assert status.share == pytest.approx(elapsed / 240)
    assert status.state == state
    assert status.paused is paused
    assert status.remaining_minutes == max(240 - elapsed, 0)
    assert status.deadline == CAL.deadline(T(2025, 6, 9, 9), H4, pauses, now=now)


def test_limit_status_for_days_before_national_day() -> None:
    start = T(2025, 9, 30, 15)
    resolve = TimeLimit(2, "days")
    # budget: 150 min on 09-30, 420 on 10-09, 420 on 10-10
    status = CAL.limit_status(start, resolve, T(2025, 10, 5, 12))
    assert (status.total_minutes, status.elapsed_minutes, status.state) == (990, 150, "ok")
    assert status.deadline == T(2025, 10, 10, 17, 30)
    status = CAL.limit_status(start, resolve, T(2025, 10, 10, 10), at_risk_share=0.5)
    assert status.state == "at_risk"
    assert CAL.limit_status(start, resolve, T(2025, 10, 11, 9)).state == "overdue"


def test_limit_status_rejects_bad_share() -> None:
    with pytest.raises(ValueError):
        CAL.limit_status(T(2025, 6, 9, 9), H4, T(2025, 6, 9, 10), at_risk_share=0)


def test_state_labels_are_translated() -> None:
    zh_catalog = catalog("zh_CN")
    assert all(label in zh_catalog for label in STATE_LABELS.values())
    assert translate_in("zh_CN", STATE_LABELS["overdue"]) == "已超时"


# --- uncovered years -----------------------------------------------------------------------


def test_covers() -> None:
    assert CAL.covers(2025) and CAL.covers(2026)
    assert not CAL.covers(2035)
    assert not CAL.covers(2003)
    assert CAL.coverage_warning(2025) is None
    warning = CAL.coverage_warning(2035)
    assert warning is not None and "2035" in warning
    assert "2035" in translate_in(
        "zh_CN", "No official holiday schedule for {year}; only weekends are treated as days off.", year=2035
    )


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        (D(2035, 1, 1), True),  # New Year's Day, but unknown schedule: a plain Monday
        (D(2035, 10, 1), True),  # Monday
        (D(2035, 10, 6), False),  # Saturday
        (D(2035, 10, 7), False),  # Sunday
        (D(2003, 10, 1), True),  # before the data, too
    ],
)
def test_uncovered_year_falls_back_to_weekdays(day: date, workday: bool) -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(day)  # what we must never let escape
    assert CAL.is_workday(day) is workday


def test_uncovered_year_deadlines() -> None:
    assert CAL.add_workdays(D(2035, 10, 5), 1) == D(2035, 10, 8)  # Fri -> Mon
    assert CAL.deadline(T(2035, 10, 5, 16), TimeLimit(4, "hours")) == T(2035, 10, 8, 11, 30)
    assert CAL.deadline(T(2035, 10, 5, 16), TimeLimit(1, "days")) == T(2035, 10, 8, 17, 30)
    assert CAL.working_minutes_between(T(2035, 10, 5, 17), T(2035, 10, 8, 9, 30)) == 60


# --- configuration -------------------------------------------------------------------------


def test_overrides_beat_the_statutory_calendar() -> None:
    cal = WorkCalendar(
        holidays={D(2025, 6, 9), datetime(2025, 6, 10, 8, 0)},  # datetimes count as their date
        extra_workdays={D(2025, 6, 7), D(2025, 10, 2), D(2035, 10, 6)},
    )
    assert not cal.is_workday(D(2025, 6, 9))
    assert not cal.is_workday(D(2025, 6, 10))
    assert cal.is_workday(D(2025, 6, 7))  # a Saturday
    assert cal.is_workday(D(2025, 10, 2))  # inside National Day
    assert cal.is_workday(D(2035, 10, 6))  # uncovered-year Saturday
    assert cal.add_workdays(D(2025, 6, 6), 1) == D(2025, 6, 7)
    assert cal.add_workdays(D(2025, 6, 7), 1) == D(2025, 6, 11)
    assert hash(cal) == hash(
        WorkCalendar(
            holidays={D(2025, 6, 9), D(2025, 6, 10)},
            extra_workdays={D(2025, 6, 7), D(2025, 10, 2), D(2035, 10, 6)},
        )
    )


def test_clashing_overrides_are_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        WorkCalendar(holidays={D(2025, 6, 9)}, extra_workdays={D(2025, 6, 9)})
    assert info.value.field == "holidays"
    assert zh(info.value) == "同一日期不能既是节假日又是额外工作日：2025-06-09。"


def test_custom_business_hours() -> None:
    cal = WorkCalendar(BusinessHours([(time(8, 30), time(17, 0))]))  # no lunch break
    assert cal.hours.minutes_per_day == 510
    assert cal.working_minutes_between(T(2025, 6, 9, 11), T(2025, 6, 9, 14)) == 180
    assert cal.add_working_minutes(T(2025, 6, 9, 16, 30), 60) == T(2025, 6, 10, 9, 0)
    assert cal.workday_deadline(T(2025, 6, 6, 16), 1) == T(2025, 6, 9, 17, 0)
    assert BusinessHours().minutes_per_day == 420
    assert (BusinessHours().opening, BusinessHours().closing) == (time(9), time(17, 30))


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        ([], "营业时间至少需要一个工作时段。"),
        ([(time(12), time(9))], "工作时段的开始时间必须早于结束时间（12:00-09:00）。"),
        (
            [(time(9), time(12)), (time(11), time(17))],
            "工作时段必须按时间先后排列且不能重叠（09:00-12:00 与 11:00-17:00）。",
        ),
        (
            [(time(13), time(17)), (time(9), time(12))],
            "工作时段必须按时间先后排列且不能重叠（13:00-17:00 与 09:00-12:00）。",
        ),
    ],
)
def test_bad_business_hours(periods: list, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        BusinessHours(periods)
    assert info.value.field == "business_hours"
    assert zh(info.value) == message


@pytest.mark.parametrize(
    ("amount", "unit", "message"),
    [
        (4, "weeks", "时限的单位只能是工作小时或工作日，不能是 weeks。"),
        (0, "hours", "时限必须是不小于 1 的整数。"),
        (-1, "days", "时限必须是不小于 0 的整数。"),
        (1.5, "days", "时限必须是不小于 0 的整数。"),
        (True, "days", "时限必须是不小于 0 的整数。"),
    ],
)
def test_bad_time_limit(amount: object, unit: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        TimeLimit(amount, unit)  # type: ignore[arg-type]
    assert info.value.field == "time_limit"
    assert zh(info.value) == message


def test_time_limit_labels() -> None:
    assert translate_in("zh_CN", "{n} working hour(s)", n=4) == "4 个工作小时"
    assert translate_in("zh_CN", "{n} working day(s)", n=2) == "2 个工作日"
    assert TimeLimit(4, "hours").label() in ("4 个工作小时", "4 working hour(s)")


def test_aware_datetimes_are_rejected() -> None:
    aware = T(2025, 6, 9, 9, tzinfo=timezone(timedelta(hours=8)))
    with pytest.raises(ValueError):
        CAL.add_working_minutes(aware, 10)
    with pytest.raises(ValueError):
        CAL.working_minutes_between(aware, aware)


# --- properties ----------------------------------------------------------------------------

# 2024-2027: covered years, the boundary into an uncovered one, every holiday of 2025/2026
MOMENTS = st.datetimes(min_value=T(2024, 1, 1), max_value=T(2027, 12, 31))
MINUTE_MOMENTS = st.integers(0, 4 * 366 * 24 * 60).map(lambda m: T(2024, 1, 1) + timedelta(minutes=m))
DAYS = st.dates(min_value=D(2024, 1, 1), max_value=D(2027, 12, 31))
LIMITS = st.one_of(
    st.builds(TimeLimit, st.integers(1, 80), st.just("hours")),
    st.builds(TimeLimit, st.integers(0, 20), st.just("days")),
)


@st.composite
def closed_pauses(draw: st.DrawFn, start: datetime) -> list[tuple[datetime, datetime]]:
    pauses = []
    for _ in range(draw(st.integers(0, 3))):
        offset = draw(st.integers(-600, 20 * 24 * 60))
        length = draw(st.integers(0, 6 * 24 * 60))
        ps = start + timedelta(minutes=offset)
        pauses.append((ps, ps + timedelta(minutes=length)))
    return pauses


@settings(deadline=None)
@given(start=MOMENTS, minutes=st.integers(0, 10_000))
def test_add_then_measure_round_trips(start: datetime, minutes: int) -> None:
    end = CAL.add_working_minutes(start, minutes)
    assert end >= start
    assert CAL.working_minutes_between(start, end) == minutes
    if minutes > 0:  # and it is the earliest such instant
        assert CAL.working_minutes_between(start, end - timedelta(seconds=1)) < minutes


@settings(deadline=None)
@given(data=st.data(), start=MINUTE_MOMENTS, hours=st.integers(1, 40))
def test_paused_deadline_leaves_exactly_the_limit(data: st.DataObject, start: datetime, hours: int) -> None:
    pauses = data.draw(closed_pauses(start))
    due = CAL.deadline(start, TimeLimit(hours, "hours"), pauses)
    assert CAL.working_minutes_between(start, due, pauses) == hours * 60
    assert due >= CAL.deadline(start, TimeLimit(hours, "hours"))


@settings(deadline=None)
@given(data=st.data(), start=MINUTE_MOMENTS, limit=LIMITS, extra=st.integers(0, 30))
def test_deadlines_are_monotonic_in_the_amount(
    data: st.DataObject, start: datetime, limit: TimeLimit, extra: int
) -> None:
    pauses = data.draw(closed_pauses(start))
    bigger = TimeLimit(limit.amount + extra, limit.unit)
    assert CAL.deadline(start, limit) <= CAL.deadline(start, bigger)
    assert CAL.deadline(start, limit, pauses) <= CAL.deadline(start, bigger, pauses)
    assert CAL.deadline(start, limit) <= CAL.deadline(start, limit, pauses)
    assert CAL.deadline(start, limit) > start


@settings(deadline=None)
@given(day=DAYS, n=st.integers(1, 40))
def test_add_workdays_lands_on_a_workday(day: date, n: int) -> None:
    result = CAL.add_workdays(day, n)
    assert CAL.is_workday(result)
    assert result > day
    assert CAL.workdays_between(day, result) == n
    assert CAL.workdays_between(day, result - timedelta(days=1)) == n - 1


@settings(deadline=None)
@given(a=MINUTE_MOMENTS, b=MINUTE_MOMENTS, c=MINUTE_MOMENTS)
def test_working_minutes_are_additive(a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    if c - a > timedelta(days=120):
        c = a + timedelta(days=120)
        b = min(b, c)
    total = CAL.working_minutes_between(a, c)
    assert total == CAL.working_minutes_between(a, b) + CAL.working_minutes_between(b, c)


@settings(deadline=None)
@given(start=MINUTE_MOMENTS, limit=LIMITS, later=st.integers(0, 40 * 24 * 60))
def test_limit_status_agrees_with_the_deadline(start: datetime, limit: TimeLimit, later: int) -> None:
    now = start + timedelta(minutes=later)
    status = CAL.limit_status(start, limit, now)
    assert (status.state == "overdue") == (now > status.deadline)
    if status.state == "ok":
        assert status.share < 0.75
    assert status.elapsed_minutes <= status.total_minutes or status.state == "overdue"


def _stepped(cal: WorkCalendar, d: date, n: int) -> date:
    """add_workdays as it was before it remembered answers: one working day at a time."""
    if n == 0:
        return d if cal.is_workday(d) else cal.next_workday(d)
    for _i in range(n):
        d = cal.next_workday(d)
    return d


@pytest.mark.parametrize("cal", [
    WorkCalendar(),
    WorkCalendar(holidays={date(2026, 9, 29)}, extra_workdays={date(2026, 10, 10), date(2026, 2, 15)}),
])
def test_remembered_add_workdays_equals_stepping_around_holidays_R_CUST_9(cal: WorkCalendar) -> None:
    """add_workdays remembers answers by (date, n) (imports ask the same question per row): every
    answer, asked twice, equals stepping day by day - over Spring Festival, Qingming, May Day,
    National Day with their adjusted Saturdays and Sundays, overrides, and an uncovered year."""
    starts = [date(2026, 1, 1) + timedelta(days=i) for i in range(0, 365, 3)]
    starts += [date(2026, 2, 13), date(2026, 2, 14), date(2026, 9, 27), date(2026, 9, 30), date(2026, 10, 9),
               date(2025, 12, 31), date(_CC_LAST + 1, 12, 30)]
    for d in starts:
        for n in (0, 1, 2, 3, 5, 10, 15, 20):
            want = _stepped(cal, d, n)
            assert cal.add_workdays(d, n) == want, (d, n)
            assert cal.add_workdays(d, n) == want, (d, n)  # remembered
            assert cal.add_workdays(datetime.combine(d, time(18, 0)), n) == want


def test_remembered_answers_do_not_leak_between_calendars_or_into_equality() -> None:
    plain, extra = WorkCalendar(), WorkCalendar(extra_workdays={date(2026, 10, 3)})
    assert plain.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert extra.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 3)
    assert plain == WorkCalendar() and hash(plain) == hash(WorkCalendar())


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)), st.integers(min_value=0, max_value=40))
def test_add_workdays_property_equals_stepping(d: date, n: int) -> None:
    cal = WorkCalendar()
    assert cal.add_workdays(d, n) == _stepped(cal, d, n) == cal.add_workdays(d, n)
