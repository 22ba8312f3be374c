"""Dashboard, staff metrics and the periodic review pack (R-KPI-1, R-KPI-2, R-FU-5, R-CMP-6).

Every figure is a SQL aggregate (GROUP BY over indexed ranges); Python only arranges the few
grouped rows. Definitions, so a number can be checked by hand:

- New customers: archives created in the week (erased ones still count: anonymous statistics).
- Complaints within limits: of the tickets received in the week, those whose respond and resolve
  limits were not missed and are not running past their deadline now.
- Satisfaction: average 1-5 score of complaint return visits made in the week (R-CMP-6), and of
  satisfaction surveys recorded in the week (R-CUST-15).
- Follow-up conversion by source: cards opened (card date) in the period (the pack) or the twelve
  weeks (the dashboard's chart), not void; won / cards.
- Archive completeness: the staff member's active customers with no required field missing;
  past deadline: incomplete archives whose maintenance deadline has passed (R-CUST-9).
- Visits on time: visits in the period that had a due date (set by the previous visit) and were
  made on or before it (R-FU-3). A card's first visit has no earlier due date and is not counted.
- Response / feedback hours (R-KPI-1): WORKING hours (branch calendar, business hours of
  data/complaints.toml, pauses left out) from receipt to assignment, and to the result fed back
  summed over every round (receipt -> feedback, each reopen -> the next feedback), so a reopen
  keeps the hours already spent; averaged over the handler's tickets received in the period. The
  within-limit shares use the working-hour limits the complaint service keeps (respond_met /
  resolve_met), of the tickets whose limits are settled: a ticket still inside its limits is
  neither within nor outside, and with none settled the share is a dash with its count, "— (0)".
- Registered / handled: tickets by who registered them (received_by) and by who handles them.
- Results per consultant: cards won / lost in the period (closed_at), by the card's owner; the
  summary's 成交/战败 count the same way, 新建 the cards opened in the period (R-FU-5).
- Accuracy: corrections and refused saves per clerk, as services/accuracy.py defines them.
- Follow-up review (R-FU-5): cards open at some time in the period, new (opened in it) against
  existing, by intent level and by consultant, with the period's visits and results.

Branch figures need ``report.view``; without it the dashboard shows the actor's own customers,
cards and tickets only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.store import pending
from crm_tui.domain import reports as dr
from crm_tui.domain.customers import load_policy as customer_policy
from crm_tui.domain.errors import ValidationError, ValidationErrors
from crm_tui.i18n import N_, _
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.services import accuracy, holidays, home
from crm_tui.services.context import PERMISSION_LABELS, Actor, Services
from crm_tui.services.files import private_file

PERMISSION_LABELS.setdefault("report.view", N_("view reports"))
WEEKS = 12  # weeks of history in the dashboard charts
_AVERAGES = frozenset({"respond_hours", "resolve_hours", "satisfaction"})
_WEEK = "date({col}, 'weekday 0', '-6 days')"
# A ticket's time limits are settled when the response was late, the feedback's outcome is known, or
# it is running past its deadline now; within the limits: settled and nothing missed.
_OVERDUE = "(due_at IS NOT NULL AND due_at < :now AND feedback_at IS NULL)"
_DECIDED = f"sum(respond_met = 0 OR resolve_met IS NOT NULL OR {_OVERDUE})"
_WITHIN = (f"sum((respond_met = 0 OR resolve_met IS NOT NULL OR {_OVERDUE}) AND coalesce(respond_met, 1) = 1"
           f" AND coalesce(resolve_met, 1) = 1 AND NOT {_OVERDUE})")  # the Monday of the row's week, as 'YYYY-MM-DD'


def _ts(d: datetime | date) -> str:
    if isinstance(d, datetime):
        return d.isoformat(sep=" ")
    return d.isoformat()


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekRow:
    week: date  # Monday
    new_customers: int
    complaints: int
    complaints_within: int
    satisfaction: float | None  # complaint return visits
    satisfaction_n: int
    survey: float | None  # satisfaction surveys (R-CUST-15)
    survey_n: int
    complaints_decided: int = 0  # tickets whose time limits are settled (met, missed or overdue now)

    @property
    def within_share(self) -> float | None:
        return dr.share(self.complaints_within, self.complaints_decided)


@dataclass(frozen=True)
class SourceRow:
    source: str  # label
    cards: int
    won: int
    lost: int

    @property
    def conversion(self) -> float | None:
        return dr.share(self.won, self.cards)


@dataclass(frozen=True)
class Distribution:
    """Active customers by category (rows) and grade (columns), labels in the UI language."""

    categories: list[str]
    grades: list[str]
    counts: dict[tuple[str, str], int]

    def by_category(self) -> list[tuple[str, int]]:
        return [(c, sum(self.counts.get((c, g), 0) for g in self.grades)) for c in self.categories]

    def by_grade(self) -> list[tuple[str, int]]:
        return [(g, sum(self.counts.get((c, g), 0) for c in self.categories)) for g in self.grades]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Summary:
    """Headline figures of one period."""

    period: dr.Period
    new_customers: int
    complaints: int
    complaints_within: int
    complaints_decided: int
    complaints_closed: int
    satisfaction: float | None
    visits: int
    cards_opened: int
    cards_won: int
    cards_lost: int
    grade_changes: int

    @property
    def within_share(self) -> float | None:
        """Of the tickets whose limits are settled; none settled yet: no share (a dash), not 100 %."""
        return dr.share(self.complaints_within, self.complaints_decided)


@dataclass
class StaffRow:
    staff_id: int
    name: str
    archives: int = 0
    complete: int = 0
    past_deadline: int = 0
    new_archives: int = 0
    register_lines: int = 0
    register_with_source: int = 0
    visits: int = 0
    visits_due: int = 0
    visits_on_time: int = 0
    cards_overdue: int = 0
    registered: int = 0  # tickets this person registered (received_by)
    tickets: int = 0  # tickets this person handles (assignee)
    respond_decided: int = 0
    respond_met: int = 0
    resolve_decided: int = 0
    resolve_met: int = 0
    respond_hours: float | None = None
    resolve_hours: float | None = None
    satisfaction: float | None = None
    satisfaction_n: int = 0
    grade_filed: int = 0
    grade_approved: int = 0
    grade_applied: int = 0
    cards_won: int = 0  # follow-up results recorded in the period, by the card's consultant
    cards_lost: int = 0
    corrections: int = 0  # fields of this clerk's archives corrected soon after entry (services.accuracy)
    refusals: int = 0  # saves of this clerk refused for invalid fields

    @property
    def completeness(self) -> float | None:
        return dr.share(self.complete, self.archives)

    @property
    def source_share(self) -> float | None:
        return dr.share(self.register_with_source, self.register_lines)

    @property
    def on_time_share(self) -> float | None:
        return dr.share(self.visits_on_time, self.visits_due)

    @property
    def respond_share(self) -> float | None:
        return dr.share(self.respond_met, self.respond_decided)

    @property
    def resolve_share(self) -> float | None:
        return dr.share(self.resolve_met, self.resolve_decided)

    @property
    def grade_handled(self) -> int:
        return self.grade_filed + self.grade_approved + self.grade_applied

    def empty(self) -> bool:
        return not any((self.archives, self.new_archives, self.register_lines, self.visits, self.cards_overdue,
                        self.registered, self.tickets, self.satisfaction_n, self.grade_handled, self.cards_won,
                        self.cards_lost, self.corrections, self.refusals))


@dataclass(frozen=True)
class RatingRow:
    code: str | None  # None: not rated yet
    label: str
    customers: int
    credit_limit: int | None
    term_days: int | None
    prepayment_pct: int | None
    response: str = ""  # risk ratings: the risk response the rating implies (R-KPI-2)


@dataclass(frozen=True)
class Ratings:
    """R-KPI-2: active customers by credit rating and by risk rating, with the measures each implies."""

    credit: list[RatingRow]
    risk: list[RatingRow]


@dataclass(frozen=True)
class ReviewRow:
    """One line of the follow-up review (R-FU-5): cards worked in the period."""

    label: str
    new: int = 0  # opened in the period
    existing: int = 0  # opened before, still open at the period's start
    visits: int = 0
    won: int = 0  # results recorded in the period
    lost: int = 0

    @property
    def total(self) -> int:
        return self.new + self.existing


@dataclass(frozen=True)
class CardReview:
    """The weekly review of follow-up cards (定期盘点, R-FU-5): new against existing cards, cards by
    intent level and per consultant, for the cards open at some time in the period (void cards
    left out). The level is the card's level now."""

    total: ReviewRow
    levels: list[ReviewRow]
    staff: list[ReviewRow]


@dataclass(frozen=True)
class Dashboard:
    today: date
    scope_own: bool  # True: the actor's own customers/cards/tickets only
    items: list[home.WorkItem]
    week: Summary
    weeks: list[WeekRow]
    distribution: Distribution
    sources: list[SourceRow]


@dataclass(frozen=True)
class Pack:
    """The weekly or monthly review pack (定期盘点): the tables and charts above for one period."""

    period: dr.Period
    made_at: datetime
    summary: Summary
    previous: Summary
    weeks: list[WeekRow]
    distribution: Distribution
    sources: list[SourceRow]
    staff: list[StaffRow]
    ratings: Ratings
    complaint_categories: list[tuple[str, int]] = field(default_factory=list)
    review: CardReview | None = None


# ------------------------------------------------------------------------------------------------
# Queries
# ------------------------------------------------------------------------------------------------


def _weeks(s: Session, mondays: list[date], now: datetime, owner: int | None) -> list[WeekRow]:
    a = _ts(mondays[0])
    b = _ts(mondays[-1] + timedelta(days=7))
    p: dict[str, Any] = {"a": a, "b": b, "now": _ts(now), "me": owner}
    own_c = " AND owner_id = :me" if owner is not None else ""
    own_t = " AND assignee_id = :me" if owner is not None else ""
    own_v_t = " AND handler_id = :me" if owner is not None else ""  # complaint_visit: the handler then
    # Own scope joins the customer from the (few) feedback rows, never lists the owner's customers.
    own_f = " AND EXISTS (SELECT 1 FROM customer c WHERE c.id = customer_id AND c.owner_id = :me)" if owner is not None else ""
    new = dict(s.execute(text(
        f"SELECT {_WEEK.format(col='created_at')} w, count(*) FROM customer"
        f" WHERE created_at >= :a AND created_at < :b{own_c}{pending.hide(s, 'id')} GROUP BY w"), p).all())
    cmp = {w: (int(n), int(ok or 0), int(d or 0)) for w, n, ok, d in s.execute(text(
        f"SELECT {_WEEK.format(col='received_at')} w, count(*), {_WITHIN}, {_DECIDED}"
        f" FROM complaint WHERE received_at >= :a AND received_at < :b{own_t} GROUP BY w"), p)}
    sat = {w: (float(v), int(n)) for w, v, n in s.execute(text(
        f"SELECT {_WEEK.format(col='at')} w, avg(satisfaction), count(satisfaction) FROM complaint_visit"
        f" WHERE at >= :a AND at < :b{own_v_t} GROUP BY w"), p)}
    srv = {w: (float(v), int(n)) for w, v, n in s.execute(text(
        f"SELECT {_WEEK.format(col='at')} w, avg(score), count(score) FROM customer_feedback"
        f" WHERE kind = 'survey' AND at >= :a AND at < :b AND score IS NOT NULL{own_f} GROUP BY w"), p)}
    out = []
    for m in mondays:
        k = m.isoformat()
        n, ok, d = cmp.get(k, (0, 0, 0))
        sv, sn = sat.get(k, (None, 0))
        qv, qn = srv.get(k, (None, 0))
        out.append(WeekRow(m, int(new.get(k, 0)), n, ok, sv, sn, qv, qn, d))
    return out


def _distribution(s: Session, svc: Services, owner: int | None) -> Distribution:
    from crm_tui.services import grades as gs

    pol = customer_policy()
    sql = "SELECT category, grade, count(*) FROM customer WHERE erased_at IS NULL"
    sql += " AND owner_id = :me" if owner is not None else ""
    sql += pending.hide(s, "id")
    rows = s.execute(text(sql + " GROUP BY category, grade"), {"me": owner}).all()
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
    sql = ("SELECT source, count(*), sum(status = 'won'), sum(status = 'lost') FROM followup_card"
           " WHERE card_date >= :a AND card_date <= :b AND status != 'void'")
    sql += " AND owner_id = :me" if owner is not None else ""
    rows = s.execute(text(sql + " GROUP BY source ORDER BY count(*) DESC, source"),
                     {"a": _ts(start), "b": _ts(end), "me": owner}).all()
    labels = {c: o.label for c, o in customer_policy().sources.items()}
    return [SourceRow(labels.get(c, c or "—"), int(n), int(w or 0), int(lo or 0)) for c, n, w, lo in rows]


def card_review(s: Session, period: dr.Period) -> CardReview:
    """The follow-up review of ``period`` (R-FU-5), read in the caller's session (reports.pack and
    the follow-up area's weekly review share it)."""
    from crm_tui.domain import followups as df

    a, b = (_ts(x) for x in period.bounds)
    p = {"a": a, "b": b, "da": _ts(period.start), "db": _ts(period.end)}
    # Cards worked in the period: opened by its end, not closed before its start.
    worked = ("FROM followup_card c WHERE c.status != 'void' AND c.card_date <= :db"
              " AND (c.closed_at IS NULL OR c.closed_at >= :a)")
    cols = ("sum(c.card_date >= :da), sum(c.card_date < :da),"
            " sum((SELECT count(*) FROM followup_visit v WHERE v.card_id = c.id AND v.at >= :a AND v.at < :b)),"
            " sum(c.status = 'won' AND c.closed_at < :b), sum(c.status = 'lost' AND c.closed_at < :b)")

    def rows(key: str) -> dict[Any, tuple[int, ...]]:
        return {k: tuple(int(x or 0) for x in rest) for k, *rest in s.execute(text(
            f"SELECT {key}, {cols} {worked} GROUP BY {key}"), p)}

    levels = df.load_policy().levels
    by_level = rows("c.intent_level")
    level_rows = [ReviewRow(lv.label, *by_level.pop(code, (0, 0, 0, 0, 0))) for code, lv in levels.items()]
    level_rows += [ReviewRow(str(code), *v) for code, v in sorted(by_level.items(), key=lambda kv: str(kv[0]))]
    names = dict(s.execute(text("SELECT id, display_name FROM staff")).all())
    staff_rows = sorted((ReviewRow(str(names.get(k, k)), *v) for k, v in rows("c.owner_id").items()),
                        key=lambda r: (-r.total, r.label))
    t = [sum(r[i] for r in (_counts(x) for x in level_rows)) for i in range(5)]
    return CardReview(ReviewRow(_("All cards"), *t), level_rows, staff_rows)


def _counts(r: ReviewRow) -> tuple[int, int, int, int, int]:
    return (r.new, r.existing, r.visits, r.won, r.lost)


def _summary(s: Session, period: dr.Period, now: datetime, owner: int | None) -> Summary:
    a, b = (_ts(x) for x in period.bounds)
    p: dict[str, Any] = {"a": a, "b": b, "now": _ts(now), "me": owner, "da": _ts(period.start), "db": _ts(period.end)}
    own_c = " AND owner_id = :me" if owner is not None else ""
    own_t = " AND assignee_id = :me" if owner is not None else ""
    own_v_t = " AND handler_id = :me" if owner is not None else ""  # complaint_visit: the handler then
    own_v = " AND staff_id = :me" if owner is not None else ""

    def one(sql: str) -> Any:
        return s.execute(text(sql), p).one()

    new = one(f"SELECT count(*) FROM customer WHERE created_at >= :a AND created_at < :b{own_c}"
              + pending.hide(s, "id"))[0]
    n, ok, decided = one(f"SELECT count(*), {_WITHIN}, {_DECIDED} FROM complaint"
                f" WHERE received_at >= :a AND received_at < :b{own_t}")
    closed = one(f"SELECT count(*) FROM complaint WHERE closed_at >= :a AND closed_at < :b{own_t}")[0]
    sat = one(f"SELECT avg(satisfaction) FROM complaint_visit WHERE at >= :a AND at < :b{own_v_t}")[0]
    visits = one(f"SELECT count(*) FROM followup_visit WHERE at >= :a AND at < :b{own_v}")[0]
    # R-FU-5: 新建 = cards opened in the period; 成交/战败 = results recorded in the period, whenever
    # the card was opened (a card opened last month and won this week is this week's win).
    cards = one("SELECT count(*) FROM followup_card"
                f" WHERE card_date >= :da AND card_date <= :db AND status != 'void'{own_c}")[0]
    won, lost = one("SELECT sum(status = 'won'), sum(status = 'lost') FROM followup_card"
                    f" WHERE closed_at >= :a AND closed_at < :b AND status IN ('won', 'lost'){own_c}")
    grade = one("SELECT count(*) FROM grade_history g WHERE g.changed_at >= :a AND g.changed_at < :b"
                + (" AND EXISTS (SELECT 1 FROM customer c WHERE c.id = g.customer_id AND c.owner_id = :me)"
                   if owner is not None else ""))[0]
    return Summary(period, int(new), int(n), int(ok or 0), int(decided or 0), int(closed), None if sat is None else float(sat),
                   int(visits), int(cards), int(won or 0), int(lost or 0), int(grade))


def _ticket_hours(s: Session, p: Mapping[str, Any], rows: Mapping[int, StaffRow], cal: WorkCalendar) -> None:
    """Average WORKING hours (R-KPI-1) per handler of the tickets received in the period: to respond
    (receipt -> assignment) and to feed back. Feedback hours add up every round: receipt -> first
    feedback, then each reopen -> the next feedback; a round still open adds nothing, so a reopen
    never wipes the hours already spent. Paused time is left out."""
    tickets = {int(i): (who, _dt(rec), _dt(resp), _dt(frm), _dt(fed)) for i, who, rec, resp, frm, fed in s.execute(text(
        "SELECT id, assignee_id, received_at, responded_at, resolve_from, feedback_at FROM complaint"
        " WHERE received_at >= :a AND received_at < :b AND assignee_id IS NOT NULL"), p)}
    if not tickets:
        return
    ids = ",".join(str(i) for i in tickets)
    now = _dt(p["now"])
    pauses: dict[int, list[tuple[datetime, datetime]]] = {}
    for cid, a, b in s.execute(text(f'SELECT complaint_id, start, "end" FROM complaint_pause'
                                    f" WHERE complaint_id IN ({ids})")):
        pauses.setdefault(int(cid), []).append((_dt(a), _dt(b) or now))  # type: ignore[arg-type]
    events: dict[int, list[tuple[str, datetime]]] = {}
    for cid, action, at in s.execute(text(
            "SELECT complaint_id, action, at FROM complaint_event WHERE action IN ('feed_back', 'reopen')"
            f" AND complaint_id IN ({ids}) ORDER BY complaint_id, id")):
        events.setdefault(int(cid), []).append((action, _dt(at)))  # type: ignore[arg-type]
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
    rows: dict[int, StaffRow] = {int(i): StaffRow(int(i), n) for i, n in s.execute(text(
        "SELECT id, display_name FROM staff ORDER BY id"))}

    def fill(sql: str, *names: str) -> None:
        for r in s.execute(text(sql), p):
            row = rows.get(int(r[0])) if r[0] is not None else None
            if row is None:
                continue
            for name, v in zip(names, r[1:]):
                setattr(row, name, (None if v is None else float(v)) if name in _AVERAGES else int(v or 0))

    # An archive is complete exactly when it has no maintenance deadline (services.customers keeps
    # missing_fields and incomplete_due together), so ix_customer_owner_due answers this alone.
    fill("SELECT owner_id, count(*), sum(incomplete_due IS NULL), sum(incomplete_due < :now) FROM customer"
         " WHERE erased_at IS NULL AND owner_id IS NOT NULL" + pending.hide(s, "id") + " GROUP BY owner_id",
         "archives", "complete", "past_deadline")
    fill("SELECT created_by_id, count(*) FROM customer WHERE created_at >= :a AND created_at < :b"
         + pending.hide(s, "id") + " GROUP BY created_by_id", "new_archives")
    fill("SELECT created_by_id, count(*), sum(source IS NOT NULL) FROM register_entry"
         " WHERE arrived_at >= :a AND arrived_at < :b GROUP BY created_by_id", "register_lines", "register_with_source")
    # The due date a visit answered is the one the card's previous visit set (R-FU-3).
    fill("SELECT staff_id, count(*), count(due), sum(date(at) <= due) FROM ("
         " SELECT staff_id, at, lag(next_due) OVER (PARTITION BY card_id ORDER BY at, id) due FROM followup_visit"
         " WHERE card_id IN (SELECT card_id FROM followup_visit WHERE at >= :a AND at < :b))"
         " WHERE at >= :a AND at < :b GROUP BY staff_id", "visits", "visits_due", "visits_on_time")
    fill("SELECT owner_id, count(*) FROM followup_card WHERE status = 'open' AND next_visit_due < :today"
         " GROUP BY owner_id", "cards_overdue")
    fill("SELECT assignee_id, count(*),"
         " count(respond_met) + coalesce(sum(respond_met IS NULL AND responded_at IS NULL AND due_at < :now), 0),"
         " sum(respond_met = 1),"
         " count(resolve_met) + coalesce(sum(resolve_met IS NULL AND responded_at IS NOT NULL"
         "  AND feedback_at IS NULL AND due_at < :now), 0),"
         " sum(resolve_met = 1)"
         " FROM complaint WHERE received_at >= :a AND received_at < :b GROUP BY assignee_id",
         "tickets", "respond_decided", "respond_met", "resolve_decided", "resolve_met")
    fill("SELECT received_by_id, count(*) FROM complaint WHERE received_at >= :a AND received_at < :b"
         " GROUP BY received_by_id", "registered")
    _ticket_hours(s, p, rows, cal)
    # Results by the card's consultant when the result was recorded, whenever the card was opened.
    fill("SELECT owner_id, sum(status = 'won'), sum(status = 'lost') FROM followup_card"
         " WHERE closed_at >= :a AND closed_at < :b AND status IN ('won', 'lost') GROUP BY owner_id",
         "cards_won", "cards_lost")
    acc = accuracy.rules()
    p["days"] = acc.correction_days
    p["refused"] = accuracy.REFUSED
    ignore = ", ".join(f"'{f}'" for f in acc.ignore_fields if f.isidentifier()) or "''"
    fill("SELECT c.created_by_id,"
         f" sum((SELECT count(*) FROM json_each(a.details, '$.changes') j WHERE j.key NOT IN ({ignore}))"
         f"   + (SELECT count(*) FROM json_each(a.details, '$.personal') j WHERE j.key NOT IN ({ignore})))"
         " FROM audit_log a JOIN customer c ON c.id = a.customer_id"
         " WHERE a.action = 'customer.update' AND a.at >= :a AND a.at < :b"
         " AND julianday(a.at) - julianday(c.created_at) <= :days GROUP BY c.created_by_id", "corrections")
    fill("SELECT actor_id, count(*) FROM audit_log WHERE action = :refused AND at >= :a AND at < :b"
         " GROUP BY actor_id", "refusals")
    fill("SELECT handler_id, avg(satisfaction), count(satisfaction) FROM complaint_visit"
         " WHERE at >= :a AND at < :b GROUP BY handler_id",
         "satisfaction", "satisfaction_n")
    fill("SELECT applicant_id, count(*) FROM grade_application WHERE filed_at >= :a AND filed_at < :b"
         " GROUP BY applicant_id", "grade_filed")
    fill("SELECT who, count(*) FROM (SELECT chief_id who FROM grade_application WHERE chief_at >= :a AND chief_at < :b"
         " UNION ALL SELECT deputy_id FROM grade_application WHERE deputy_at >= :a AND deputy_at < :b)"
         " GROUP BY who", "grade_approved")
    fill("SELECT applied_by_id, count(*) FROM grade_application WHERE applied_at >= :a AND applied_at < :b"
         " GROUP BY applied_by_id", "grade_applied")
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
    for c, r, n in s.execute(text("SELECT credit_rating, risk_rating, count(*) FROM customer"
                                  " WHERE erased_at IS NULL" + pending.hide(s, "id")
                                  + " GROUP BY credit_rating, risk_rating")):
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
    return [(cats[c].label if c in cats else c, int(n)) for c, n in s.execute(text(
        "SELECT category, count(*) FROM complaint WHERE received_at >= :a AND received_at < :b"
        " GROUP BY category ORDER BY count(*) DESC, category"), {"a": a, "b": b})]


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


# ------------------------------------------------------------------------------------------------
# The pack as tables (shared by the XLSX and the text versions)
# ------------------------------------------------------------------------------------------------


def summary_table(p: Pack) -> tuple[list[str], list[list[Any]]]:
    cur, prev = p.summary, p.previous
    rows = [
        [_("New customers"), cur.new_customers, prev.new_customers],
        [_("Complaints received"), cur.complaints, prev.complaints],
        [_("Complaints within the time limits"), dr.ratio(cur.complaints_within, cur.complaints_decided),
         dr.ratio(prev.complaints_within, prev.complaints_decided)],
        [_("Complaints closed"), cur.complaints_closed, prev.complaints_closed],
        [_("Average handling satisfaction (1-5)"), dr.num(cur.satisfaction, 2), dr.num(prev.satisfaction, 2)],
        [_("Follow-up visits"), cur.visits, prev.visits],
        [_("Follow-up cards opened"), cur.cards_opened, prev.cards_opened],
        [_("Cards won"), cur.cards_won, prev.cards_won],
        [_("Cards lost"), cur.cards_lost, prev.cards_lost],
        [_("Grade changes applied"), cur.grade_changes, prev.grade_changes],
    ]
    return [_("Figure"), _("This period"), _("Previous period")], rows


def weeks_table(p: Pack | Dashboard) -> tuple[list[str], list[list[Any]]]:
    return ([_("Week of"), _("New customers"), _("Complaints"), _("Within limits"), _("Satisfaction"),
             _("Survey score")],
            [[f"{w.week:%m-%d}", w.new_customers, w.complaints, dr.pct(w.within_share), dr.num(w.satisfaction, 2),
              dr.num(w.survey, 2)] for w in p.weeks])


def distribution_table(d: Distribution) -> tuple[list[str], list[list[Any]]]:
    return ([_("Category"), *d.grades, _("Total")],
            [[c, *(d.counts.get((c, g), 0) for g in d.grades), n] for c, n in d.by_category()]
            + [[_("Total"), *(n for _g, n in d.by_grade()), d.total]])


def sources_table(rows: Iterable[SourceRow]) -> tuple[list[str], list[list[Any]]]:
    return ([_("Information source"), _("Cards"), _("Won"), _("Lost"), _("Conversion")],
            [[r.source, r.cards, r.won, r.lost, dr.pct(r.conversion)] for r in rows])


def staff_table(rows: Iterable[StaffRow]) -> tuple[list[str], list[list[Any]]]:
    """R-KPI-1 per staff member. Shares carry their counts (``— (0)`` when there is nothing to
    divide); hours are working hours."""
    return ([_("Staff"), _("Archives"), _("Complete"), _("Past deadline"), _("New archives"), _("Corrections"),
             _("Refused saves"), _("Register lines"), _("Source filled"), _("Visits"), _("Visits on time"),
             _("Overdue cards"), _("Cards won"), _("Cards lost"), _("Tickets registered"), _("Tickets handled"),
             _("Responded in limit"), _("Fed back in limit"), _("Working hours to respond"),
             _("Working hours to feed back"), _("Satisfaction"), _("Grade applications handled")],
            [[r.name, r.archives, dr.ratio(r.complete, r.archives), r.past_deadline, r.new_archives, r.corrections,
              r.refusals, r.register_lines, dr.ratio(r.register_with_source, r.register_lines), r.visits,
              dr.ratio(r.visits_on_time, r.visits_due), r.cards_overdue, r.cards_won, r.cards_lost, r.registered,
              r.tickets, dr.ratio(r.respond_met, r.respond_decided), dr.ratio(r.resolve_met, r.resolve_decided),
              dr.num(r.respond_hours), dr.num(r.resolve_hours), dr.num(r.satisfaction, 2), r.grade_handled]
             for r in rows])


def review_table(rows: Iterable[ReviewRow], title: str) -> tuple[list[str], list[list[Any]]]:
    """One table of the follow-up review (R-FU-5)."""
    return ([title, _("Opened in the period"), _("Existing cards"), _("Total"), _("Visits"), _("Won"), _("Lost")],
            [[r.label, r.new, r.existing, r.total, r.visits, r.won, r.lost] for r in rows])


def ratings_table(rows: Iterable[RatingRow], title: str) -> tuple[list[str], list[list[Any]]]:
    rows = list(rows)
    response = any(r.response for r in rows)  # the risk table: and the risk response (R-KPI-2)
    return ([title, _("Customers"), _("Credit limit (yuan)"), _("Payment term (days)"), _("Prepayment")]
            + ([_("Risk response")] if response else []),
            [[r.label, r.customers, dr.amount(r.credit_limit),
              "—" if r.term_days is None else r.term_days,
              "—" if r.prepayment_pct is None else dr.Figure(f"{r.prepayment_pct}%", r.prepayment_pct / 100, "0%")]
             + ([r.response or "—"] if response else [])
             for r in rows])


def _title(p: Pack) -> str:
    kind = _("Weekly review") if p.period.kind == "week" else _("Monthly review")
    return f"{kind} {p.period.label()}"


def pack_text(p: Pack) -> str:
    """The pack as plain text that prints well: aligned tables (Chinese takes two columns) and
    '#' bar charts, sections separated by blank lines; no colours, no box-drawing characters."""
    out = [_title(p), _("Made {at}", at=f"{p.made_at:%Y-%m-%d %H:%M}"), ""]

    def section(title: str, lines: list[str]) -> None:
        out.extend([title, "=" * max(8, len(title) * 2), *lines, ""])

    section(_("Summary"), dr.text_table(*summary_table(p)))
    section(_("By week"), dr.text_table(*weeks_table(p)))
    section(_("New customers per week"), dr.text_bars([(f"{w.week:%m-%d}", w.new_customers) for w in p.weeks]))
    section(_("Complaints within the time limits per week"),
            dr.text_bars([(f"{w.week:%m-%d}", None if w.within_share is None else round(w.within_share * 100))
                          for w in p.weeks], fmt="{}%"))
    section(_("Complaints by category"), dr.text_table([_("Complaint category"), _("Complaints")],
                                                      [list(r) for r in p.complaint_categories]))
    section(_("Customers by category and grade"), dr.text_table(*distribution_table(p.distribution)))
    if p.review is not None:
        section(_("Follow-up cards: new and existing"), dr.text_table(*review_table([p.review.total], _("Cards"))))
        section(_("Follow-up cards by intent level"), dr.text_table(*review_table(p.review.levels, _("Intent level"))))
        section(_("Follow-up cards by consultant"), dr.text_table(*review_table(p.review.staff, _("Consultant"))))
    section(_("Follow-up conversion by source"), dr.text_table(*sources_table(p.sources)))
    section(_("Staff metrics"), dr.text_table(*staff_table(p.staff)))
    section(_("Credit rating"), dr.text_table(*ratings_table(p.ratings.credit, _("Credit rating"))))
    section(_("Risk rating"), dr.text_table(*ratings_table(p.ratings.risk, _("Risk rating"))))
    return "\n".join(out).rstrip() + "\n"


def _target(path: str | Path, suffix: str) -> Path:
    target = Path(path).expanduser()
    if target.suffix.lower() != suffix:
        raise ValidationErrors([ValidationError("path", "The file name must end in {suffix}", suffix=suffix)])
    if not target.parent.is_dir():
        raise ValidationErrors([ValidationError("path", "The folder {folder} does not exist",
                                                folder=str(target.parent))])
    return target


def _write_error(target: Path, e: OSError) -> ValidationErrors:
    return ValidationErrors([ValidationError("path", "Could not write {path}: {reason}", path=str(target),
                                             reason=e.strerror or type(e).__name__)])


def export_text(svc: Services, actor: Actor, p: Pack, path: str | Path) -> Path:
    svc.require(actor, "report.view")
    target = _target(path, ".txt")
    body = pack_text(p)
    try:
        with private_file(target, "w", encoding="utf-8") as fh:
            fh.write(body)
    except OSError as e:
        raise _write_error(target, e) from None
    with svc.write(actor) as tx:
        tx.audit("report.export", details={"kind": p.period.kind, "period": p.period.label(), "format": "txt",
                                           "file": target.name})
    return target


def export_xlsx(svc: Services, actor: Actor, p: Pack, path: str | Path) -> Path:
    """The pack as an XLSX workbook: a summary sheet, one sheet per table, native Excel charts for
    the weekly series, the category/grade distribution and the conversion by source. Audited."""
    svc.require(actor, "report.view")
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Font

    target = _target(path, ".xlsx")
    wb = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, table: tuple[list[str], list[list[Any]]], first: bool = False) -> Any:
        ws = wb.active if first else wb.create_sheet()
        ws.title = title[:31]
        header, rows = table
        ws.append(header)
        for c in ws[1]:
            c.font = bold
        for r in rows:
            ws.append([_cell(v) for v in r])
            for c, v in zip(ws[ws.max_row], r):
                if isinstance(v, dr.Figure):  # a number with its format: Excel sums and sorts it
                    c.number_format = v.number_format
        _widths(ws, [header, *rows])
        ws.freeze_panes = "A2"
        return ws

    ws = sheet(_("Summary"), summary_table(p), first=True)
    ws.insert_rows(1, 2)
    ws.freeze_panes = "A4"  # the header row moved down under the title
    ws["A1"] = _title(p)
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = _("Made {at}", at=f"{p.made_at:%Y-%m-%d %H:%M}")

    # Weekly series with numbers (not percentage strings) so the charts can plot them.
    wk = wb.create_sheet(_("By week")[:31])
    wk.append([_("Week of"), _("New customers"), _("Complaints"), _("Within limits (%)"), _("Satisfaction"),
               _("Survey score")])
    for c in wk[1]:
        c.font = bold
    for w in p.weeks:
        wk.append([w.week, w.new_customers, w.complaints,
                   None if w.within_share is None else round(w.within_share * 100, 1),
                   None if w.satisfaction is None else round(w.satisfaction, 2),
                   None if w.survey is None else round(w.survey, 2)])
        row = wk[wk.max_row]
        row[0].number_format = "yyyy-mm-dd"  # a date, not text
        row[3].number_format = "0.0"
        row[4].number_format = row[5].number_format = "0.00"
    _widths(wk, [[_c.value for _c in r] for r in wk.iter_rows()])
    wk.freeze_panes = "A2"
    n = len(p.weeks) + 1
    cats = Reference(wk, min_col=1, min_row=2, max_row=n)
    for col, title, anchor, kind in ((2, _("New customers per week"), "H2", "bar"),
                                     (3, _("Complaints per week"), "H18", "bar"),
                                     (4, _("Complaints within the time limits per week"), "H34", "line"),
                                     (5, _("Satisfaction trend"), "H50", "line")):
        chart = BarChart() if kind == "bar" else LineChart()
        chart.title = title
        chart.add_data(Reference(wk, min_col=col, min_row=1, max_row=n), titles_from_data=True)
        chart.set_categories(cats)
        chart.height, chart.width = 7.5, 16
        wk.add_chart(chart, anchor)

    cw = wb.create_sheet(_("Complaints by category")[:31])
    cw.append([_("Complaint category"), _("Complaints")])
    for r in p.complaint_categories:
        cw.append(list(r))
    _widths(cw, [[_c.value for _c in r] for r in cw.iter_rows()])
    cw.freeze_panes = "A2"

    dist = sheet(_("Category and grade"), distribution_table(p.distribution))
    if p.distribution.categories and p.distribution.grades:
        chart = BarChart()
        chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
        chart.title = _("Customers by category and grade")
        rows_n = len(p.distribution.categories) + 1
        chart.add_data(Reference(dist, min_col=2, max_col=1 + len(p.distribution.grades), min_row=1, max_row=rows_n),
                       titles_from_data=True)
        chart.set_categories(Reference(dist, min_col=1, min_row=2, max_row=rows_n))
        dist.add_chart(chart, f"A{rows_n + 4}")

    src = wb.create_sheet(_("Conversion by source")[:31])
    src.append([_("Information source"), _("Cards"), _("Won"), _("Lost"), _("Conversion (%)")])
    for r in p.sources:
        src.append([r.source, r.cards, r.won, r.lost, None if r.conversion is None else round(r.conversion * 100, 1)])
        src.cell(src.max_row, 5).number_format = "0.0"
    _widths(src, [[_c.value for _c in r] for r in src.iter_rows()])
    src.freeze_panes = "A2"
    if p.sources:
        chart = BarChart()
        chart.title = _("Follow-up conversion by source")
        chart.add_data(Reference(src, min_col=5, min_row=1, max_row=len(p.sources) + 1), titles_from_data=True)
        chart.set_categories(Reference(src, min_col=1, min_row=2, max_row=len(p.sources) + 1))
        src.add_chart(chart, "G2")

    if p.review is not None:
        fu = sheet(_("Follow-up review"), review_table([p.review.total], _("Cards")))
        for table in (review_table(p.review.levels, _("Intent level")), review_table(p.review.staff, _("Consultant"))):
            fu.append([])
            fu.append(table[0])
            for c in fu[fu.max_row]:
                c.font = bold
            for r in table[1]:
                fu.append(r)
    sheet(_("Staff metrics"), staff_table(p.staff))
    sheet(_("Credit rating"), ratings_table(p.ratings.credit, _("Credit rating")))
    sheet(_("Risk rating"), ratings_table(p.ratings.risk, _("Risk rating")))
    try:
        with private_file(target) as fh:
            wb.save(fh)
    except OSError as e:
        raise _write_error(target, e) from None
    with svc.write(actor) as tx:
        tx.audit("report.export", details={"kind": p.period.kind, "period": p.period.label(), "format": "xlsx",
                                           "file": target.name})
    return target


def _cell(v: Any) -> Any:
    """Figures (percentages, averages, amounts) become numbers (their format is set on the cell);
    a dash (nothing to show) an empty cell."""
    if isinstance(v, dr.Figure):
        return v.value
    return None if isinstance(v, str) and v.startswith("—") else v


def _widths(ws: Any, rows: list[list[Any]]) -> None:
    """Each column as wide as its widest value (Chinese characters count twice), 8 to 40."""
    from rich.cells import cell_len

    def shown(v: Any) -> str:
        return "" if v is None else f"{v:%Y-%m-%d}" if isinstance(v, date) else str(v)

    for i in range(max((len(r) for r in rows), default=0)):
        width = max((cell_len(shown(r[i])) for r in rows if i < len(r)), default=0) + 2
        ws.column_dimensions[ws.cell(1, i + 1).column_letter].width = min(40, max(8, width))
