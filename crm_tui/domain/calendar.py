"""Working-time calendar: working days, business hours and time limits (时限).

Used by field maintenance deadlines (R-CUST-9), follow-up cadence (R-FU-3), complaint time limits
(R-CMP-3) and grade changes (R-GRD-2, R-GRD-3). Everything here is pure; all datetimes are naive
and in local (branch) time.

Working days
    Statutory holidays and make-up working days (调休) come from ``chinese_calendar``. For a year
    it does not cover (see :meth:`WorkCalendar.covers`) Monday to Friday are working days, so
    nothing crashes; the UI shows :meth:`WorkCalendar.coverage_warning`. The branch's own
    ``holidays`` / ``extra_workdays`` override both, and a year the branch has entered a schedule
    for (``branch_years``, see :meth:`WorkCalendar.from_schedule`) counts as covered.

Business hours
    Working periods are half-open ``[start, end)``: 09:00 is working time, 12:00 and 17:30 are not.
    The *close* of a working day is the end of its last period.

Day limits (``TimeLimit(n, "days")``, :meth:`WorkCalendar.workday_deadline`)
    The day of ``start`` is never counted (as in 民法典 art. 201: the period starts the next day),
    whatever the hour; the limit is due at the close of the n-th working day after that day.
    Received Friday 16:00, Saturday 10:00 or Monday 08:00 with 1 working day -> due at the close
    of the next working day (Monday 17:30, Monday 17:30, Tuesday 17:30).
    ``n == 0`` means "the same working day": the close of the day of ``start`` if it is a working
    day and ``start`` is before its close, else the close of the next working day.

Hour limits (``TimeLimit(n, "hours")``)
    n x 60 working minutes; the clock starts at ``start`` if that is working time, else at the
    next opening. Due at the earliest instant when the budget is used up (11:00 + 1 h -> 12:00).

Pauses (clock stopped while waiting for the customer)
    ``(pause_start, pause_end)`` pairs; ``pause_end=None`` is a pause still open. Paused working
    time does not count as elapsed and pushes the deadline out by the same working time: the
    deadline is the earliest instant when the unpaused working time since ``start`` equals the
    limit's budget (for day limits: the working time from ``start`` to its unpaused deadline).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Literal

import chinese_calendar

from crm_tui.domain.errors import ValidationError
from crm_tui.i18n import N_, _

__all__ = [
    "DEFAULT_PERIODS",
    "KIND_LABELS",
    "ScheduleEntry",
    "ScheduleKind",
    "STATE_LABELS",
    "BusinessHours",
    "LimitState",
    "LimitStatus",
    "Pause",
    "TimeLimit",
    "TimeUnit",
    "WorkCalendar",
]

TimeUnit = Literal["hours", "days"]
ScheduleKind = Literal["off", "work"]  # 休 (放假) / 班 (调休上班)
ScheduleSource = Literal["package", "branch"]
LimitState = Literal["ok", "at_risk", "overdue"]
Pause = tuple[datetime, datetime | None]

DEFAULT_PERIODS: tuple[tuple[time, time], ...] = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 30)))

#: Display labels for :attr:`LimitStatus.state`, translated at display time with ``_()``.
STATE_LABELS: dict[str, str] = {
    "ok": N_("On time"),
    "at_risk": N_("At risk"),
    "overdue": N_("Overdue"),
}

#: Display labels of schedule kinds (休 / 班), translated at display time.
KIND_LABELS: dict[str, str] = {"off": N_("Day off"), "work": N_("Make-up working day")}
#: The holiday names chinese_calendar uses, for the catalog (shown translated).
PACKAGE_HOLIDAY_NAMES = (
    N_("New Year's Day"), N_("Spring Festival"), N_("Tomb-sweeping Day"), N_("Labour Day"),
    N_("Dragon Boat Festival"), N_("National Day"), N_("Mid-autumn Festival"), N_("Anti-Fascist 70th Day"),
)

_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)
_MEMO_MAX = 4096
_ZERO = timedelta(0)

# Years with an official schedule in the installed chinese_calendar (2004-2026 for 1.11.0).
_CC_FIRST_YEAR = min(chinese_calendar.holidays).year
_CC_LAST_YEAR = max(chinese_calendar.holidays).year


def package_covers(year: int) -> bool:
    """Whether the installed chinese_calendar has the official schedule of ``year``."""
    return _CC_FIRST_YEAR <= year <= _CC_LAST_YEAR


@dataclass(frozen=True)
class ScheduleEntry:
    """One day of a year's official schedule: a day off (休) or a make-up working day (班)."""

    day: date
    kind: ScheduleKind
    name: str
    source: ScheduleSource = "branch"

    @property
    def kind_label(self) -> str:
        return _(KIND_LABELS[self.kind])

    @property
    def name_label(self) -> str:
        return _(self.name) if self.source == "package" else self.name


def package_schedule(year: int) -> list[ScheduleEntry]:
    """The days off and make-up working days chinese_calendar ships for ``year`` (empty if none)."""
    out = [ScheduleEntry(d, "off", str(getattr(h, "value", h)), "package")
           for d, h in chinese_calendar.holidays.items() if d.year == year]
    out += [ScheduleEntry(d, "work", str(getattr(h, "value", h)), "package")
            for d, h in chinese_calendar.workdays.items() if d.year == year]
    return sorted(out, key=lambda e: e.day)


@cache
def _statutory_workday(d: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:  # pragma: no cover - guarded by covers(); kept so we never crash
        return d.weekday() < 5


def _as_date(d: date) -> date:
    return d.date() if isinstance(d, datetime) else d


def _naive(dt: datetime, name: str) -> datetime:
    if not isinstance(dt, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(dt).__name__}")
    if dt.tzinfo is not None:
        raise ValueError(f"{name} must be a naive local datetime")
    return dt


def _hhmm(t: time) -> str:
    return t.strftime("%H:%M")


@dataclass(frozen=True)
class BusinessHours:
    """The working periods of a working day, in order, e.g. 09:00-12:00 and 13:30-17:30."""

    periods: tuple[tuple[time, time], ...] = DEFAULT_PERIODS

    def __post_init__(self) -> None:
        periods = tuple((start, end) for start, end in self.periods)
        if not periods:
            raise ValidationError("business_hours", "Business hours need at least one working period.")
        for start, end in periods:
            if not start < end:
                raise ValidationError(
                    "business_hours",
                    "A working period must start before it ends ({start}-{end}).",
                    start=_hhmm(start),
                    end=_hhmm(end),
                )
        for (s1, e1), (s2, e2) in zip(periods, periods[1:]):
            if s2 < e1:
                raise ValidationError(
                    "business_hours",
                    "Working periods must be in order and must not overlap ({first} and {second}).",
                    first=f"{_hhmm(s1)}-{_hhmm(e1)}",
                    second=f"{_hhmm(s2)}-{_hhmm(e2)}",
                )
        object.__setattr__(self, "periods", periods)

    @property
    def opening(self) -> time:
        return self.periods[0][0]

    @property
    def closing(self) -> time:
        return self.periods[-1][1]

    @property
    def minutes_per_day(self) -> int:
        base = date(2000, 1, 1)
        total = sum(
            (datetime.combine(base, e) - datetime.combine(base, s) for s, e in self.periods), _ZERO
        )
        return total // _ONE_MINUTE


@dataclass(frozen=True)
class TimeLimit:
    """A time limit (时限): ``amount`` working hours or working days."""

    amount: int
    unit: TimeUnit

    def __post_init__(self) -> None:
        if self.unit not in ("hours", "days"):
            raise ValidationError(
                "time_limit", "The unit of a time limit must be hours or days, not {unit}.", unit=self.unit
            )
        minimum = 1 if self.unit == "hours" else 0
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < minimum:
            raise ValidationError(
                "time_limit",
                "A time limit must be a whole number of at least {minimum}.",
                minimum=minimum,
            )

    def label(self) -> str:
        if self.unit == "hours":
            return _("{n} working hour(s)", n=self.amount)
        return _("{n} working day(s)", n=self.amount)


@dataclass(frozen=True)
class LimitStatus:
    """Where a running time limit stands at ``now``."""

    limit: TimeLimit
    deadline: datetime
    elapsed_minutes: int  # working minutes used since start, pauses excluded
    total_minutes: int  # working minutes the limit allows
    share: float  # elapsed / total (may exceed 1.0 once overdue)
    state: LimitState
    paused: bool  # a pause is open at ``now``

    @property
    def remaining_minutes(self) -> int:
        return max(self.total_minutes - self.elapsed_minutes, 0)

    @property
    def state_label(self) -> str:
        return _(STATE_LABELS[self.state])


def _frozen_dates(values: Iterable[date]) -> frozenset[date]:
    return frozenset(_as_date(d) for d in values)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and business hours of the branch. Immutable and hashable."""

    hours: BusinessHours = field(default_factory=BusinessHours)
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    #: Years the branch has entered an official schedule for: covered even beyond the package.
    branch_years: frozenset[int] = frozenset()
    #: add_workdays answers by (date, n): an import or a batch asks the same few questions for
    #: thousands of rows (each answer stepped day by day costs ~100 us). Not part of equality.
    _workdays_memo: dict[tuple[date, int], date] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", _frozen_dates(self.holidays))
        object.__setattr__(self, "extra_workdays", _frozen_dates(self.extra_workdays))
        object.__setattr__(self, "branch_years", frozenset(int(y) for y in self.branch_years))
        clash = self.holidays & self.extra_workdays
        if clash:
            raise ValidationError(
                "holidays",
                "A date cannot be both a holiday and an extra working day: {dates}.",
                dates=", ".join(d.isoformat() for d in sorted(clash)),
            )

    # -- coverage ---------------------------------------------------------------------------

    @classmethod
    def from_schedule(cls, entries: Iterable[ScheduleEntry], hours: BusinessHours | None = None) -> WorkCalendar:
        """The calendar with the branch's schedule entries on top of the package (branch wins)."""
        entries = list(entries)
        return cls(
            hours=hours or BusinessHours(),
            holidays=frozenset(e.day for e in entries if e.kind == "off"),
            extra_workdays=frozenset(e.day for e in entries if e.kind == "work"),
            branch_years=frozenset(e.day.year for e in entries),
        )

    def with_hours(self, hours: BusinessHours) -> WorkCalendar:
        """The same days with other business hours (complaints keep their own)."""
        if hours == self.hours:
            return self
        return WorkCalendar(hours, self.holidays, self.extra_workdays, self.branch_years)

    def covers(self, year: int) -> bool:
        """Whether the official holiday schedule (法定节假日/调休) of ``year`` is known, from the
        package or from the branch's own entries."""
        return year in self.branch_years or package_covers(year)

    def covers_span(self, a: date, b: date) -> bool:
        """Whether every year from ``a`` to ``b`` is covered (a deadline counted over them is exact)."""
        return all(self.covers(y) for y in range(_as_date(a).year, _as_date(b).year + 1))

    def coverage_warning(self, year: int) -> str | None:
        """A translated warning for the UI when ``year`` falls back to Monday-Friday, else None."""
        if self.covers(year):
            return None
        return _(
            "No official holiday schedule for {year}; only weekends are treated as days off.",
            year=year,
        )

    # -- working days -----------------------------------------------------------------------

    def is_workday(self, d: date) -> bool:
        d = _as_date(d)
        if d in self.extra_workdays:
            return True
        if d in self.holidays:
            return False
        if package_covers(d.year):
            return _statutory_workday(d)
        return d.weekday() < 5

    def next_workday(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        d = _as_date(d) + _ONE_DAY
        while not self.is_workday(d):
            d += _ONE_DAY
        return d

    def add_workdays(self, d: date, n: int) -> date:
        """The n-th working day after ``d`` (``d`` itself not counted); n=0: ``d`` or the next one."""
        if n < 0:
            raise ValueError("n must be >= 0")
        d = _as_date(d)
        memo = self._workdays_memo
        found = memo.get((d, n))
        if found is not None:
            return found
        if n == 0:
            day = d if self.is_workday(d) else self.next_workday(d)
        else:
            day = d
            for _i in range(n):
                day = self.next_workday(day)
        if len(memo) >= _MEMO_MAX:
            memo.clear()
        memo[(d, n)] = day
        return day

    def workdays_between(self, a: date, b: date) -> int:
        """How many working days lie in ``(a, b]``; 0 when ``b <= a``."""
        a, b = _as_date(a), _as_date(b)
        count = 0
        d = a + _ONE_DAY
        while d <= b:
            count += self.is_workday(d)
            d += _ONE_DAY
        return count

    # -- business hours ---------------------------------------------------------------------

    def opening_of(self, d: date) -> datetime:
        return datetime.combine(_as_date(d), self.hours.opening)

    def closing_of(self, d: date) -> datetime:
        return datetime.combine(_as_date(d), self.hours.closing)

    def is_working_time(self, dt: datetime) -> bool:
        _naive(dt, "dt")
        if not self.is_workday(dt.date()):
            return False
        t = dt.time()
        return any(s <= t < e for s, e in self.hours.periods)

    def next_opening(self, dt: datetime) -> datetime:
        """``dt`` if it is working time, else the start of the next working period."""
        _naive(dt, "dt")
        for s, e in self._segments_from(dt):
            return max(s, dt)
        raise AssertionError("unreachable")  # pragma: no cover

    def workday_deadline(self, start: datetime, n_days: int) -> datetime:
        """The close of the n-th working day after the day of ``start`` (see the module docs)."""
        _naive(start, "start")
        if n_days < 0:
            raise ValueError("n_days must be >= 0")
        day = self.add_workdays(start.date(), n_days)
        due = self.closing_of(day)
        if due <= start:  # only n_days == 0 at or after the close: the next working day
            due = self.closing_of(self.next_workday(day))
        return due

    def working_minutes_between(
        self, a: datetime, b: datetime, pauses: Sequence[Pause] = ()
    ) -> int:
        """Whole working minutes in ``[a, b)`` outside ``pauses`` (open pause = until b); 0 if b <= a."""
        _naive(a, "a")
        _naive(b, "b")
        if b <= a:
            return 0
        return self._net_working_time(a, b, pauses) // _ONE_MINUTE

    def add_working_minutes(self, start: datetime, minutes: int) -> datetime:
        """The earliest instant at which ``minutes`` working minutes have passed since ``start``.

        Outside business hours the clock starts at the next opening (so 0 minutes gives it).
        """
        _naive(start, "start")
        if minutes < 0:
            raise ValueError("minutes must be >= 0")
        return self._advance(start, timedelta(minutes=minutes), [])

    # -- time limits ------------------------------------------------------------------------

    def deadline(
        self,
        start: datetime,
        limit: TimeLimit,
        pauses: Sequence[Pause] = (),
        *,
        now: datetime | None = None,
    ) -> datetime:
        """When ``limit`` runs out for something received at ``start``, pauses pushing it out.

        An open pause needs ``now``: the deadline is then the one that holds if the clock
        restarts at ``now``.
        """
        _naive(start, "start")
        if now is not None:
            _naive(now, "now")
        if not pauses:
            if limit.unit == "days":
                return self.workday_deadline(start, limit.amount)
            return self._advance(start, timedelta(hours=limit.amount), [])
        if now is None and any(end is None for _s, end in pauses):
            raise ValueError("an open pause needs `now` to compute a deadline")
        merged = self._merge_pauses(pauses, start, now)
        return self._advance(start, self._budget(start, limit), merged)

    def limit_status(
        self,
        start: datetime,
        limit: TimeLimit,
        now: datetime,
        pauses: Sequence[Pause] = (),
        at_risk_share: float = 0.75,
    ) -> LimitStatus:
        """Progress of ``limit`` at ``now``: "overdue" after the deadline, "at_risk" once
        ``at_risk_share`` of its working time is used, else "ok"."""
        _naive(start, "start")
        _naive(now, "now")
        if not 0 < at_risk_share <= 1:
            raise ValueError("at_risk_share must be in (0, 1]")
        due = self.deadline(start, limit, pauses, now=now)
        budget = self._budget(start, limit)
        elapsed = self._net_working_time(start, now, pauses) if now > start else _ZERO
        share = elapsed / budget if budget > _ZERO else 1.0
        state: LimitState
        if now > due:
            state = "overdue"
        elif share >= at_risk_share:
            state = "at_risk"
        else:
            state = "ok"
        paused = any(s <= now and (e is None or now < e) for s, e in pauses)
        return LimitStatus(
            limit=limit,
            deadline=due,
            elapsed_minutes=elapsed // _ONE_MINUTE,
            total_minutes=budget // _ONE_MINUTE,
            share=share,
            state=state,
            paused=paused,
        )

    # -- internals --------------------------------------------------------------------------

    def _day_segments(self, d: date) -> list[tuple[datetime, datetime]]:
        if not self.is_workday(d):
            return []
        return [(datetime.combine(d, s), datetime.combine(d, e)) for s, e in self.hours.periods]

    def _segments_from(self, dt: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working periods ending after ``dt``, in order, forever (there is always a next one)."""
        d = dt.date()
        while True:
            for s, e in self._day_segments(d):
                if e > dt:
                    yield s, e
            d += _ONE_DAY

    def _working_time(self, a: datetime, b: datetime) -> timedelta:
        total = _ZERO
        d = a.date()
        last = b.date()
        while d <= last:
            for s, e in self._day_segments(d):
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    total += hi - lo
            d += _ONE_DAY
        return total

    def _net_working_time(self, a: datetime, b: datetime, pauses: Sequence[Pause]) -> timedelta:
        total = self._working_time(a, b)
        for ps, pe in self._merge_pauses(pauses, a, b, upper=b):
            total -= self._working_time(ps, pe)
        return total

    @staticmethod
    def _merge_pauses(
        pauses: Sequence[Pause],
        lower: datetime,
        open_end: datetime | None,
        upper: datetime | None = None,
    ) -> list[tuple[datetime, datetime]]:
        """Pauses clipped to ``[lower, upper]``, open ones closed at ``open_end``, sorted, merged."""
        spans: list[tuple[datetime, datetime]] = []
        for ps, pe in pauses:
            _naive(ps, "pause start")
            if pe is None:
                if open_end is None:
                    raise ValueError("an open pause needs an end of reference")
                pe = open_end
            else:
                _naive(pe, "pause end")
                if pe < ps:
                    raise ValueError(f"pause ends before it starts: {ps} > {pe}")
            ps = max(ps, lower)
            if upper is not None:
                pe = min(pe, upper)
            if pe > ps:
                spans.append((ps, pe))
        spans.sort()
        merged: list[tuple[datetime, datetime]] = []
        for ps, pe in spans:
            if merged and ps <= merged[-1][1]:
                if pe > merged[-1][1]:
                    merged[-1] = (merged[-1][0], pe)
            else:
                merged.append((ps, pe))
        return merged

    def _budget(self, start: datetime, limit: TimeLimit) -> timedelta:
        if limit.unit == "hours":
            return timedelta(hours=limit.amount)
        return self._working_time(start, self.workday_deadline(start, limit.amount))

    def _advance(
        self, start: datetime, budget: timedelta, pauses: list[tuple[datetime, datetime]]
    ) -> datetime:
        """Earliest instant with ``budget`` of unpaused working time since ``start``.

        ``pauses`` are sorted, disjoint and not before ``start`` (see _merge_pauses).
        """
        remaining = budget
        i = 0
        for s, e in self._segments_from(start):
            cursor = max(s, start)
            while cursor < e:
                while i < len(pauses) and pauses[i][1] <= cursor:
                    i += 1
                if i < len(pauses) and pauses[i][0] <= cursor:
                    cursor = min(pauses[i][1], e)
                    continue
                piece_end = min(e, pauses[i][0]) if i < len(pauses) else e
                if remaining <= piece_end - cursor:
                    return cursor + remaining
                remaining -= piece_end - cursor
                cursor = piece_end
        raise AssertionError("unreachable")  # pragma: no cover
