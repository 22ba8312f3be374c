"""The branch's holiday schedule (issue 16): the one working-day calendar every deadline uses.

Deadlines (follow-up cadence, complaint time limits, field maintenance deadlines, grade deadlines)
take their calendar from :func:`work_calendar`: the shipped chinese_calendar package with the
branch's own entries on top (a branch entry wins for its date). The calendar is built once per
open database and rebuilt when the schedule changes: at once in this process, and within
``RECHECK_S`` seconds when another process (the CLI) changed it.

An administrator (calendar.manage) imports a file or sets/unsets one day; every change is audited,
and the open deadlines that the change moves are recomputed, each with an audit row.
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from crm_tui.domain import holidays as dh
from crm_tui.domain.calendar import BusinessHours, ScheduleEntry, WorkCalendar, package_covers, package_schedule
from crm_tui.domain.errors import NotFound, ValidationError, ValidationErrors
from crm_tui.i18n import N_, _
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store.queries import holidays as q

PERMISSION = "calendar.manage"
NOTICE_DAYS = 7  # home tells owners for this long that their due dates moved
RECHECK_S = 5.0  # how often a cached calendar asks whether another process changed the schedule
_REVISION_KEY = q.REVISION_KEY
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
FIX_HINT = N_("crm-tui --user NAME calendar import FILE, or Ctrl+P → Holiday schedule")


@dataclass
class _Cached:
    calendar: WorkCalendar
    revision: str
    checked: float
    by_hours: dict[BusinessHours, WorkCalendar] = field(default_factory=dict)


_cache: weakref.WeakKeyDictionary[Any, _Cached] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


# -- the calendar ---------------------------------------------------------------------------------

def _revision(s: Session) -> str:
    return q.revision(s)


def _branch_entries(s: Session, years: Iterable[int] | None = None) -> list[ScheduleEntry]:
    rows = q.entries(s, years)
    return [ScheduleEntry(d if isinstance(d, date) else date.fromisoformat(str(d)), k, n, "branch")
            for d, k, n in rows]


def work_calendar(svc: Services, hours: BusinessHours | None = None) -> WorkCalendar:
    """The branch's working-day calendar (cached; rebuilt when the schedule changes)."""
    store = svc.store
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(store)
    if cached is None or now - cached.checked > RECHECK_S:
        with store.read() as s:
            rev = _revision(s)
            if cached is None or rev != cached.revision:
                cached = _Cached(WorkCalendar.from_schedule(_branch_entries(s)), rev, now)
            else:
                cached.checked = now
        with _cache_lock:
            _cache[store] = cached
    _last[:] = [cached.calendar]
    if hours is None or hours == cached.calendar.hours:
        return cached.calendar
    cal = cached.by_hours.get(hours)
    if cal is None:
        cal = cached.by_hours[hours] = cached.calendar.with_hours(hours)
    return cal


def forget(svc: Services) -> None:
    """Drop the cached calendar (the next deadline reads the schedule again)."""
    with _cache_lock:
        _cache.pop(svc.store, None)


# -- reading the schedule -------------------------------------------------------------------------

@dataclass(frozen=True)
class YearSchedule:
    year: int
    entries: list[ScheduleEntry]  # package and branch merged, branch winning, by date
    package_covers: bool
    branch_covers: bool

    @property
    def covered(self) -> bool:
        return self.package_covers or self.branch_covers

    @property
    def days_off(self) -> list[ScheduleEntry]:
        return [e for e in self.entries if e.kind == "off"]

    @property
    def workdays(self) -> list[ScheduleEntry]:
        return [e for e in self.entries if e.kind == "work"]


def year_schedule(svc: Services, year: int) -> YearSchedule:
    """A year's days off and make-up working days and where each comes from (anyone may look)."""
    if not dh.FIRST_YEAR <= year <= dh.LAST_YEAR:
        raise ValidationError("year", "The year must be between {first} and {last}.", first=dh.FIRST_YEAR,
                              last=dh.LAST_YEAR)
    with svc.store.read() as s:
        branch = _branch_entries(s, [year])
    merged = {e.day: e for e in package_schedule(year)}
    merged.update({e.day: e for e in branch})
    return YearSchedule(year, [merged[d] for d in sorted(merged)], package_covers(year), bool(branch))


def covered(svc: Services, year: int) -> bool:
    return work_calendar(svc).covers(year)


def needed_years(today: date) -> list[int]:
    """The years whose schedule must be known on ``today``: the current year, and from 1 November
    the next year as well (issue 16)."""
    return [today.year] + ([today.year + 1] if today.month >= 11 else [])


def missing_years_in(today: date, branch_years: Iterable[int]) -> list[int]:
    cal = WorkCalendar(branch_years=frozenset(branch_years))
    return [y for y in needed_years(today) if not cal.covers(y)]


def missing_years(svc: Services, today: date | None = None) -> list[int]:
    """Years whose schedule is needed (see needed_years) and neither the package nor the branch has."""
    today = today or svc.now().date()
    cal = work_calendar(svc)
    return [y for y in needed_years(today) if not cal.covers(y)]


def coverage_warning(svc: Services, today: date | None = None) -> str | None:
    years = missing_years(svc, today)
    if not years:
        return None
    return _("No holiday schedule for {years}: deadlines there count only weekends as days off. Fix: {hint}",
             years=", ".join(str(y) for y in years), hint=_(FIX_HINT))


_last: list[WorkCalendar] = []  # the calendar most recently built in this process (for mark())


def mark(due: date | datetime | None) -> str:
    """'≈' when ``due`` lies in a year without a holiday schedule (per the calendar this process
    last loaded; screens call work_calendar(svc) when they load), else ''. See MARK_LEGEND."""
    if due is None:
        return ""
    cal = _last[0] if _last else WorkCalendar()
    return "" if cal.covers(due.year) else "≈"


MARK_LEGEND = N_("≈ counted without a holiday schedule for that year")


def due_mark(cal: WorkCalendar, start: date | datetime | None, due: date | datetime | None) -> str:
    """'≈' when a deadline was counted over a year without a holiday schedule, else ''."""
    if due is None:
        return ""
    return "" if cal.covers_span(start or due, due) else "≈"


def due_text(svc: Services, due: date | datetime | None, fmt: str, start: date | datetime | None = None) -> str:
    """A due date formatted with ``fmt`` and marked '≈' when its year has no holiday schedule."""
    if due is None:
        return ""
    return due.strftime(fmt) + due_mark(work_calendar(svc), start, due)


# -- changing the schedule ------------------------------------------------------------------------

@dataclass(frozen=True)
class Moved:
    what: str  # followup_card | complaint | grade_application | grade_review_period | customer
    entity_id: int
    label: str
    owner_id: int | None
    old: str
    new: str


@dataclass(frozen=True)
class Change:
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    years: tuple[int, ...] = ()
    moved: tuple[Moved, ...] = ()


def read_file(path: Path | str) -> list[ScheduleEntry]:
    """The entries of a schedule file (CSV in UTF-8 or GBK, or XLSX; columns 日期, 类型, 名称).
    Raises ValidationErrors naming each bad row; nothing is read partially."""
    from crm_tui.services import importing

    table = importing.read_file(path)
    return dh.parse_rows(table.headers, table.rows)


def import_file(svc: Services, actor: Actor, path: Path | str) -> Change:
    """Load the schedule of the years a file covers: the file's rows become the branch's entries of
    those years (other entries of those years are removed). All or nothing. Needs calendar.manage."""
    svc.require(actor, PERMISSION, file=str(path))
    entries = read_file(path)
    return _apply(svc, actor, entries, replace_years=sorted({e.day.year for e in entries}), source=Path(path).name)


def import_entries(svc: Services, actor: Actor, entries: Sequence[ScheduleEntry], *, source: str = "") -> Change:
    svc.require(actor, PERMISSION)
    return _apply(svc, actor, entries, replace_years=sorted({e.day.year for e in entries}), source=source)


def set_day(svc: Services, actor: Actor, day: date | str, kind: str, name: str) -> Change:
    """Make ``day`` a day off (休) or a make-up working day (班) named ``name``. Needs calendar.manage."""
    svc.require(actor, PERMISSION, day=str(day))
    errors: list[ValidationError] = []
    values: dict[str, Any] = {}
    for key, parse, raw in (("day", dh.parse_day, day), ("kind", dh.parse_kind, kind), ("name", dh.parse_name, name)):
        try:
            values[key] = parse(raw)
        except ValidationError as e:
            errors.append(e)
    if errors:
        raise ValidationErrors(errors)
    return _apply(svc, actor, [ScheduleEntry(values["day"], values["kind"], values["name"])], replace_years=[])


def unset_day(svc: Services, actor: Actor, day: date | str) -> Change:
    """Remove the branch's entry of ``day`` (the package's schedule, if any, applies again)."""
    svc.require(actor, PERMISSION, day=str(day))
    try:
        d = dh.parse_day(day)
    except ValidationError as e:
        raise ValidationErrors([e]) from None
    with svc.store.read() as s:
        found = q.has_entry(s, d)
    if not found:
        raise NotFound("The branch has no holiday schedule entry on {day}.", day=d.isoformat())
    return _apply(svc, actor, [], replace_years=[], remove=[d])


def _apply(svc: Services, actor: Actor, entries: Sequence[ScheduleEntry], *, replace_years: Sequence[int],
           remove: Sequence[date] = (), source: str = "") -> Change:
    with svc.write(actor) as tx:
        before = _branch_entries(tx.session)
        old = {e.day: e for e in before}
        new = dict(old)
        for y in replace_years:
            for d in [d for d in new if d.year == y]:
                del new[d]
        for d in remove:
            new.pop(d, None)
        for e in entries:
            new[e.day] = ScheduleEntry(e.day, e.kind, e.name, "branch")
        added = [d for d in new if d not in old]
        removed = [d for d in old if d not in new]
        changed = [d for d in new if d in old and (new[d].kind, new[d].name) != (old[d].kind, old[d].name)]
        unchanged = len(entries) - len([d for d in added + changed if any(e.day == d for e in entries)])
        for d in removed:
            q.delete_entry(tx.session, d)
        for d in added + changed:
            e = new[d]
            q.put_entry(tx.session, d, e.kind, e.name, tx.now, actor.staff_id)
        touched = sorted(set(added) | set(removed) | set(changed))
        years = tuple(sorted({d.year for d in touched} | set(replace_years)))
        moved: list[Moved] = []
        if touched:
            q.new_revision(tx.session, uuid.uuid4().hex)

            def show(e: ScheduleEntry | None) -> list[str] | None:
                return [e.kind, e.name] if e else None

            tx.audit("holiday.schedule_change", entity="holiday_entry", entity_id=",".join(str(y) for y in years),
                     details={"source": source or None, "years": list(years),
                              "changes": {d.isoformat(): [show(old.get(d)), show(new.get(d))] for d in touched}})
            base = work_calendar(svc)
            old_cal = WorkCalendar.from_schedule(old.values(), base.hours)
            new_cal = WorkCalendar.from_schedule(new.values(), base.hours)
            moved = _recompute(tx, old_cal, new_cal, touched[0], touched[-1])
    forget(svc)
    return Change(len(added), len(changed), len(removed), max(unchanged, 0), years, tuple(moved))


# -- recomputing open deadlines -------------------------------------------------------------------

def _d(v: Any) -> date | None:
    if v is None or isinstance(v, date) and not isinstance(v, datetime):
        return v
    if isinstance(v, datetime):
        return v.date()
    return date.fromisoformat(str(v)[:10])


def _dt(v: Any) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))


def _recompute(tx: Tx, old: WorkCalendar, new: WorkCalendar, first: date, last: date) -> list[Moved]:
    """Open deadlines whose counting crosses a changed day, computed again with the new calendar.

    A stored deadline is recomputed only when the old calendar reproduces it from its start (so
    dates typed by hand, or counted from something not stored, are left alone)."""
    moved: list[Moved] = []
    moved += _followups(tx, old, new, first, last)
    moved += _complaints(tx, new, first, last)
    moved += _grades(tx, old, new, first, last)
    moved += _customers(tx, old, new, first, last)
    for m in moved:
        tx.audit("holiday.deadline_moved", entity=m.what, entity_id=m.entity_id,
                 details={"number": m.label, "owner_id": m.owner_id, "due": [m.old, m.new]})
    return moved


def _followups(tx: Tx, old: WorkCalendar, new: WorkCalendar, first: date, last: date) -> list[Moved]:
    from crm_tui.domain import followups as fd

    levels = fd.load_policy().levels
    out: list[Moved] = []
    rows = q.open_card_dues(tx.session, first.isoformat(), last.isoformat())
    for cid, number, owner, level, card_date, last_visit, due in rows:
        lvl = levels.get(level)
        base = _d(last_visit) or _d(card_date)
        stored = _d(due)
        if lvl is None or base is None or base > last or fd.next_visit_due(old, base, lvl) != stored:
            continue
        fresh = fd.next_visit_due(new, base, lvl)
        if fresh is None or fresh == stored:
            continue
        q.set_card_due(tx.session, cid, fresh.isoformat())
        out.append(Moved("followup_card", int(cid), str(number), owner, str(stored), fresh.isoformat()))
    return out


def _complaints(tx: Tx, new: WorkCalendar, first: date, last: date) -> list[Moved]:
    from crm_tui.domain import complaints as dc
    from crm_tui.services import complaints as sc

    cal = new.with_hours(dc.load_policy().hours)
    out: list[Moved] = []
    rows = q.complaint_dues(tx.session, first.isoformat(), date.fromordinal(last.toordinal() + 1).isoformat())
    for tid, number, owner, due in rows:
        ck = sc._refresh_clock(tx, int(tid), cal)
        if ck.due_at is not None and ck.due_at != _dt(due):
            out.append(Moved("complaint", int(tid), str(number), owner, str(_dt(due))[:16],
                             ck.due_at.isoformat(sep=" ", timespec="minutes")))
    return out


def _grades(tx: Tx, old: WorkCalendar, new: WorkCalendar, first: date, last: date) -> list[Moved]:
    from crm_tui.domain import grades as dg

    out: list[Moved] = []
    b = date.fromordinal(last.toordinal() + 1).isoformat()
    rows = q.application_dues(tx.session, first.isoformat(), b)
    for aid, number, owner, start, due in rows:
        s, stored = _dt(start), _dt(due)
        if s is None or dg.apply_due(s, old) != stored:
            continue
        fresh = dg.apply_due(s, new)
        if fresh != stored:
            q.set_application_due(tx.session, aid, fresh)
            out.append(Moved("grade_application", int(aid), str(number), owner, str(stored)[:16],
                             fresh.isoformat(sep=" ", timespec="minutes")))
    rows = q.review_period_dues(tx.session, first.isoformat(), b)
    for pid, name, owner, end, due in rows:  # (a period not closed has its due date computed, not stored)
        e, stored = _d(end), _dt(due)
        if e is None or dg.period_review_due(e, old) != stored:
            continue
        fresh = dg.period_review_due(e, new)
        if fresh != stored:
            q.set_review_due(tx.session, pid, fresh)
            out.append(Moved("grade_review_period", int(pid), str(name), owner, str(stored)[:16],
                             fresh.isoformat(sep=" ", timespec="minutes")))
    return out


def _customers(tx: Tx, old: WorkCalendar, new: WorkCalendar, first: date, last: date) -> list[Moved]:
    from crm_tui.domain import customers as dcu

    days = sorted({g.days for g in dcu.load_policy().deadline_groups.values()})
    out: list[Moved] = []
    rows = q.incomplete_dues(tx.session, first.isoformat(), date.fromordinal(last.toordinal() + 1).isoformat())
    for cid, number, owner, created, due in rows:
        s, stored = _dt(created), _dt(due)
        if s is None:
            continue
        n = next((n for n in days if old.workday_deadline(s, n) == stored), None)
        if n is None:
            continue
        fresh = new.workday_deadline(s, n)
        if fresh != stored:
            q.set_incomplete_due(tx.session, cid, fresh)
            out.append(Moved("customer", int(cid), str(number), owner, str(stored)[:16],
                             fresh.isoformat(sep=" ", timespec="minutes")))
    return out


# -- home -----------------------------------------------------------------------------------------

def may_see_warning(actor: Actor) -> bool:
    return actor.can(PERMISSION) or actor.can("followup.supervise") or actor.can("complaint.supervise")


@register_item
def _schedule_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    items: list[WorkItem] = []
    if may_see_warning(actor):
        years = missing_years(svc)
        if years and actor.can(PERMISSION):
            items.append(WorkItem("calendar.missing", N_("Years without a holiday schedule: Enter opens the Holiday schedule"),
                                  len(years), "open('calendar')", True))
        elif years:
            items.append(WorkItem("calendar.missing", N_("Years without a holiday schedule (deadlines marked ≈): "
                                                         "ask an administrator to load one"), len(years), None, True))
    if actor.staff_id is not None:
        since = svc.now() - timedelta(days=NOTICE_DAYS)
        moved = q.moved_notices(s, actor.staff_id, since)
        if moved:
            items.append(WorkItem("calendar.moved", N_("Your due dates moved by a holiday schedule change (7 days)"),
                                  moved, None))
    return items


def entries_of(schedule: YearSchedule, kind: str | None = None) -> list[ScheduleEntry]:
    return [e for e in schedule.entries if kind is None or e.kind == kind]


__all__ = [
    "Change", "Moved", "PERMISSION", "YearSchedule", "coverage_warning", "covered", "due_mark", "due_text",
    "forget", "import_entries", "import_file", "missing_years", "read_file", "set_day", "unset_day",
    "work_calendar", "year_schedule",
]
