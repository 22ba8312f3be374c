"""The figures: the dashboard, the staff metrics (R-KPI-1), the ratings (R-KPI-2), the follow-up
review (R-FU-5) and the pack, read with store/queries/reports (definitions in the package's
docstring). Python only arranges the few grouped rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crm_tui.domain import reports as dr
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.customers import load_policy as customer_policy
from crm_tui.domain.errors import ValidationError, ValidationErrors
from crm_tui.i18n import _
from crm_tui.services import accuracy, holidays, home
from crm_tui.services.context import Actor, Services
from crm_tui.services.reports.model import (
    WEEKS,
    CardReview,
    Dashboard,
    Distribution,
    Pack,
    RatingRow,
    Ratings,
    ReviewRow,
    SourceRow,
    StaffRow,
    Summary,
    WeekRow,
)
from crm_tui.store.queries import reports as q

_AVERAGES = frozenset({"respond_hours", "resolve_hours", "satisfaction"})
_ts = q.ts


def _weeks(s: Session, mondays: list[date], now: datetime, owner: int | None) -> list[WeekRow]:
    f = q.week_figures(s, _ts(mondays[0]), _ts(mondays[-1] + timedelta(days=7)), _ts(now), owner)
    out = []
    for m in mondays:
        k = m.isoformat()
        n, ok, d = f.complaints.get(k, (0, 0, 0))
        sv, sn = f.satisfaction.get(k, (None, 0))
        qv, qn = f.survey.get(k, (None, 0))
        out.append(WeekRow(m, int(f.new_customers.get(k, 0)), n, ok, sv, sn, qv, qn, d))
    return out


def _distribution(s: Session, svc: Services, owner: int | None) -> Distribution:
    from crm_tui.services import grades as gs

    pol = customer_policy()
    rows = q.category_grade_counts(s, owner)
    none = _("(none)")
    cat_label = {c: o.label for c, o in pol.categories.items()}
    grade_label = dict(gs.grade_choices(svc))
    cats = [o.label for o in pol.categories.values()]
    grs = list(grade_label.values())
    counts: dict[tuple[str, str], int] = {}
    for c, g, n in rows:
        cl = cat_label.get(c, c) if c else none
        gl = grade_label.get(g, g) if g else none
        if cl not in cats:
            cats.append(cl)
        if gl not in grs:
            grs.append(gl)
        counts[(cl, gl)] = counts.get((cl, gl), 0) + int(n)
    return Distribution(cats, grs, counts)


def _sources(s: Session, start: date, end: date, owner: int | None) -> list[SourceRow]:
    rows = q.source_counts(s, _ts(start), _ts(end), owner)
    labels = {c: o.label for c, o in customer_policy().sources.items()}
    return [SourceRow(labels.get(c, c or "—"), n, w, lo) for c, n, w, lo in rows]


def card_review(s: Session, period: dr.Period) -> CardReview:
    """The follow-up review of ``period`` (R-FU-5), read in the caller's session (reports.pack and
    the follow-up area's weekly review share it)."""
    from crm_tui.domain import followups as df

    a, b = (_ts(x) for x in period.bounds)
    # Cards worked in the period: opened by its end, not closed before its start.

    def rows(by: str) -> dict[Any, tuple[int, ...]]:
        return q.card_review_counts(s, a, b, _ts(period.start), _ts(period.end), by)

    levels = df.load_policy().levels
    by_level = rows("level")
    level_rows = [ReviewRow(lv.label, *by_level.pop(code, (0, 0, 0, 0, 0))) for code, lv in levels.items()]
    level_rows += [ReviewRow(str(code), *v) for code, v in sorted(by_level.items(), key=lambda kv: str(kv[0]))]
    names = q.staff_names(s)
    staff_rows = sorted((ReviewRow(str(names.get(k, k)), *v) for k, v in rows("owner").items()),
                        key=lambda r: (-r.total, r.label))
    t = [sum(r[i] for r in (_counts(x) for x in level_rows)) for i in range(5)]
    return CardReview(ReviewRow(_("All cards"), *t), level_rows, staff_rows)


def _counts(r: ReviewRow) -> tuple[int, int, int, int, int]:
    return (r.new, r.existing, r.visits, r.won, r.lost)


def _summary(s: Session, period: dr.Period, now: datetime, owner: int | None) -> Summary:
    a, b = (_ts(x) for x in period.bounds)
    f = q.summary_figures(s, a, b, _ts(period.start), _ts(period.end), _ts(now), owner)
    return Summary(period, f.new_customers, f.complaints, f.complaints_within, f.complaints_decided,
                   f.complaints_closed, f.satisfaction, f.visits, f.cards_opened, f.cards_won, f.cards_lost,
                   f.grade_changes)


def _ticket_hours(s: Session, p: Mapping[str, Any], rows: Mapping[int, StaffRow], cal: WorkCalendar) -> None:
    """Average WORKING hours (R-KPI-1) per handler of the tickets received in the period: to respond
    (receipt -> assignment) and to feed back. Feedback hours add up every round: receipt -> first
    feedback, then each reopen -> the next feedback; a round still open adds nothing, so a reopen
    never wipes the hours already spent. Paused time is left out."""
    tickets = {i: (t.assignee_id, _dt(t.received_at), _dt(t.responded_at), _dt(t.resolve_from), _dt(t.feedback_at))
               for i, t in q.tickets_received(s, p["a"], p["b"]).items()}
    if not tickets:
        return
    now = _dt(p["now"])
    pauses: dict[int, list[tuple[datetime, datetime]]] = {}
    for cid, a, b in q.complaint_pauses(s, tickets):
        pauses.setdefault(cid, []).append((_dt(a), _dt(b) or now))  # type: ignore[arg-type]
    events: dict[int, list[tuple[str, datetime]]] = {}
    for cid, action, at in q.complaint_rounds(s, tickets):
        events.setdefault(cid, []).append((action, _dt(at)))  # type: ignore[arg-type]
    respond: dict[int, list[float]] = {}
    feedback: dict[int, list[float]] = {}
    for tid, (who, received, responded, resolve_from, fed) in tickets.items():
        ps = pauses.get(tid, [])
        if responded is not None and received is not None:
            respond.setdefault(int(who), []).append(cal.working_minutes_between(received, responded, ps) / 60)
        start, total, rounds = received, 0, 0
        for action, at in events.get(tid, []):
            if action == "reopen":
                start = at
            elif start is not None:
                total += cal.working_minutes_between(start, at, ps)
                rounds += 1
                start = None
        if not rounds and fed is not None and (resolve_from or received) is not None:
            total, rounds = cal.working_minutes_between(resolve_from or received, fed, ps), 1  # no history kept
        if rounds:
            feedback.setdefault(int(who), []).append(total / 60)
    for who, hs in respond.items():
        if who in rows:
            rows[who].respond_hours = sum(hs) / len(hs)
    for who, hs in feedback.items():
        if who in rows:
            rows[who].resolve_hours = sum(hs) / len(hs)


def _dt(v: Any) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))


def _staff(s: Session, period: dr.Period, now: datetime, cal: WorkCalendar) -> list[StaffRow]:
    a, b = (_ts(x) for x in period.bounds)
    p: dict[str, Any] = {"a": a, "b": b, "now": _ts(now), "today": _ts(now.date())}
    rows: dict[int, StaffRow] = {i: StaffRow(i, n) for i, n in q.staff_names(s).items()}
    acc = accuracy.rules()
    for names, found in q.staff_figures(s, a, b, p["now"], p["today"], correction_days=acc.correction_days,
                                        refused=accuracy.REFUSED, ignore_fields=acc.ignore_fields):
        for r in found:
            row = rows.get(int(r[0])) if r[0] is not None else None
            if row is None:
                continue
            for name, v in zip(names, r[1:]):
                setattr(row, name, (None if v is None else float(v)) if name in _AVERAGES else int(v or 0))
    _ticket_hours(s, p, rows, cal)
    return [r for r in rows.values() if not r.empty()]


def _calendar(svc: Services) -> WorkCalendar:
    """Working days of the branch with the business hours of data/complaints.toml (R-KPI-1)."""
    from crm_tui.domain import complaints as dc

    return holidays.work_calendar(svc, dc.load_policy().hours)


def _ratings(s: Session) -> Ratings:
    pol = customer_policy()
    # One pass over ix_customer_ratings; the two distributions are summed from its few groups.
    credit: dict[str | None, int] = {}
    risk: dict[str | None, int] = {}
    for c, r, n in q.rating_counts(s):
        credit[c] = credit.get(c, 0) + int(n)
        risk[r] = risk.get(r, 0) + int(n)

    def rows(got: dict[str | None, int], policy: Mapping[str, Any]) -> list[RatingRow]:
        got = dict(got)
        out = [RatingRow(c, r.label, got.pop(c, 0), r.credit_limit, r.term_days, r.prepayment_pct, r.response)
               for c, r in policy.items()]
        unrated = got.pop(None, 0)
        out += [RatingRow(c, c, n, None, None, None) for c, n in sorted(got.items())]  # type: ignore[arg-type]
        out.append(RatingRow(None, _("Not rated"), unrated, None, None, None))
        return out

    return Ratings(rows(credit, pol.credit_ratings), rows(risk, pol.risk_ratings))


def _complaint_categories(s: Session, period: dr.Period) -> list[tuple[str, int]]:
    from crm_tui.domain import complaints as dc

    a, b = (_ts(x) for x in period.bounds)
    cats = dc.load_policy().categories
    return [(cats[c].label if c in cats else c, n) for c, n in q.complaint_category_counts(s, a, b)]


# ------------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------------


def dashboard(svc: Services, actor: Actor, *, items: bool = True) -> Dashboard:
    """What the home screen shows: today's queues for this actor, this week's headline figures and
    the chart series of the last twelve weeks. Branch-wide with report.view, else the actor's own."""
    svc.check_password_current(actor)
    now = svc.now()
    today = now.date()
    owner = None if actor.can("report.view") else (actor.staff_id if actor.staff_id is not None else -1)
    work = home.today(svc, actor) if items else []
    mondays = dr.weeks_ending(today, WEEKS)
    with svc.store.read() as s:
        week = _summary(s, dr.Period.of("week", today), now, owner)
        weeks = _weeks(s, mondays, now, owner)
        dist = _distribution(s, svc, owner)
        sources = _sources(s, mondays[0], today, owner)
    return Dashboard(today, owner is not None, work, week, weeks, dist, sources)


def staff_metrics(svc: Services, actor: Actor, period: dr.Period) -> list[StaffRow]:
    """R-KPI-1 per staff member for one period (only staff with something to show). report.view."""
    svc.require(actor, "report.view")
    cal = _calendar(svc)
    with svc.store.read() as s:
        return _staff(s, period, svc.now(), cal)


def ratings(svc: Services, actor: Actor) -> Ratings:
    svc.require(actor, "report.view")
    with svc.store.read() as s:
        return _ratings(s)


def pack(svc: Services, actor: Actor, kind: str, day: date | None = None) -> Pack:
    """The weekly or monthly review pack for the period containing ``day`` (default today)."""
    svc.require(actor, "report.view")
    now = svc.now()
    period = dr.Period.of(kind, day or now.date())
    if period.start > now.date():
        raise ValidationErrors([ValidationError("period", "The period has not started yet")])
    today = now.date()
    mondays = ([m for m in period.weeks if m <= today] if kind == "month"
               else dr.weeks_ending(min(period.end, today), WEEKS))
    cal = _calendar(svc)
    with svc.store.read() as s:
        return Pack(
            period=period, made_at=now,
            summary=_summary(s, period, now, None),
            previous=_summary(s, period.shifted(-1), now, None),
            weeks=_weeks(s, mondays, now, None),
            distribution=_distribution(s, svc, None),
            sources=_sources(s, period.start, period.end, None),  # the period's cards, under its heading
            review=card_review(s, period),
            staff=_staff(s, period, now, cal),
            ratings=_ratings(s),
            complaint_categories=_complaint_categories(s, period),
        )
