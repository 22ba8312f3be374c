"""The report figures' aggregates (services/reports): GROUP BY over indexed ranges, one function per
figure. Times are bound as text (``ts``), as the rows store them; rows of unpublished import
batches are left out (store/pending.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.store import pending
from crm_tui.store.queries import summary as sm

_WEEK = "date({col}, 'weekday 0', '-6 days')"  # the Monday of the row's week, as 'YYYY-MM-DD'
# A ticket's time limits are settled when the response was late, the feedback's outcome is known, or
# it is running past its deadline now; within the limits: settled and nothing missed.
_OVERDUE = "(due_at IS NOT NULL AND due_at < :now AND feedback_at IS NULL)"
_DECIDED = f"sum(respond_met = 0 OR resolve_met IS NOT NULL OR {_OVERDUE})"
_WITHIN = (f"sum((respond_met = 0 OR resolve_met IS NOT NULL OR {_OVERDUE}) AND coalesce(respond_met, 1) = 1"
           f" AND coalesce(resolve_met, 1) = 1 AND NOT {_OVERDUE})")


def ts(d: datetime | date) -> str:
    """A time or day as the report queries bind it."""
    if isinstance(d, datetime):
        return d.isoformat(sep=" ")
    return d.isoformat()


# -- weeks (the dashboard's and the pack's charts) ---------------------------------------------------


@dataclass(frozen=True)
class WeekFigures:
    """Per week (key: its Monday as 'YYYY-MM-DD')."""

    new_customers: dict[str, int]
    complaints: dict[str, tuple[int, int, int]]  # received, within limits, limits settled
    satisfaction: dict[str, tuple[float, int]]  # complaint return visits: average, count
    survey: dict[str, tuple[float, int]]  # satisfaction surveys (R-CUST-15): average, count


def week_figures(s: Session, a: str, b: str, now: str, owner: int | None) -> WeekFigures:
    """The weeks from ``a`` to before ``b``; ``owner`` set: that staff member's own only."""
    p: dict[str, Any] = {"a": a, "b": b, "now": now, "me": owner}
    own_c = " AND owner_id = :me" if owner is not None else ""
    own_t = " AND assignee_id = :me" if owner is not None else ""
    own_v_t = " AND handler_id = :me" if owner is not None else ""  # complaint_visit: the handler then
    # Own scope joins the customer from the (few) feedback rows, never lists the owner's customers.
    own_f = " AND EXISTS (SELECT 1 FROM customer c WHERE c.id = customer_id AND c.owner_id = :me)" if owner is not None else ""
    new = sm.new_customers_by_week(s, a, b, owner) if sm.usable(s) else {str(w): int(n) for w, n in s.execute(text(
        f"SELECT {_WEEK.format(col='created_at')} w, count(*) FROM customer"
        f" WHERE created_at >= :a AND created_at < :b{own_c}{pending.hide(s, 'id')} GROUP BY w"), p).all()}
    cmp = {w: (int(n), int(ok or 0), int(d or 0)) for w, n, ok, d in s.execute(text(
        f"SELECT {_WEEK.format(col='received_at')} w, count(*), {_WITHIN}, {_DECIDED}"
        f" FROM complaint WHERE received_at >= :a AND received_at < :b{own_t} GROUP BY w"), p)}
    sat = {w: (float(v), int(n)) for w, v, n in s.execute(text(
        f"SELECT {_WEEK.format(col='at')} w, avg(satisfaction), count(satisfaction) FROM complaint_visit"
        f" WHERE at >= :a AND at < :b{own_v_t} GROUP BY w"), p)}
    srv = {w: (float(v), int(n)) for w, v, n in s.execute(text(
        f"SELECT {_WEEK.format(col='at')} w, avg(score), count(score) FROM customer_feedback"
        f" WHERE kind = 'survey' AND at >= :a AND at < :b AND score IS NOT NULL{own_f} GROUP BY w"), p)}
    return WeekFigures(new, cmp, sat, srv)


# -- distributions ----------------------------------------------------------------------------------


def category_grade_counts(s: Session, owner: int | None) -> list[tuple[str | None, str | None, int]]:
    """Active customers by (category, grade) code."""
    if sm.usable(s):
        return sm.category_grade_counts(s, owner)
    sql = "SELECT category, grade, count(*) FROM customer WHERE erased_at IS NULL"
    sql += " AND owner_id = :me" if owner is not None else ""
    sql += pending.hide(s, "id")
    return [(c, g, int(n)) for c, g, n in s.execute(text(sql + " GROUP BY category, grade"), {"me": owner}).all()]


def source_counts(s: Session, start: str, end: str, owner: int | None) -> list[tuple[str | None, int, int, int]]:
    """Follow-up cards opened from ``start`` to ``end`` (days), not void, by source: cards, won, lost."""
    if sm.usable(s):
        return sm.source_counts(s, start, end, owner)
    sql = ("SELECT source, count(*), sum(status = 'won'), sum(status = 'lost') FROM followup_card"
           " WHERE card_date >= :a AND card_date <= :b AND status != 'void'")
    sql += " AND owner_id = :me" if owner is not None else ""
    rows = s.execute(text(sql + " GROUP BY source ORDER BY count(*) DESC, source"),
                     {"a": start, "b": end, "me": owner}).all()
    return [(c, int(n), int(w or 0), int(lo or 0)) for c, n, w, lo in rows]


def rating_counts(s: Session) -> list[tuple[str | None, str | None, int]]:
    """Active customers by (credit rating, risk rating): one pass over ix_customer_ratings."""
    return [(c, r, int(n)) for c, r, n in s.execute(text(
        "SELECT credit_rating, risk_rating, count(*) FROM customer"
        " WHERE erased_at IS NULL" + pending.hide(s, "id") + " GROUP BY credit_rating, risk_rating"))]


def complaint_category_counts(s: Session, a: str, b: str) -> list[tuple[str, int]]:
    """Complaints received in [a, b) by category code, most first."""
    return [(c, int(n)) for c, n in s.execute(text(
        "SELECT category, count(*) FROM complaint WHERE received_at >= :a AND received_at < :b"
        " GROUP BY category ORDER BY count(*) DESC, category"), {"a": a, "b": b})]


# -- the follow-up review (R-FU-5) --------------------------------------------------------------------


def card_review_counts(s: Session, a: str, b: str, da: str, db: str, by: str) -> dict[Any, tuple[int, ...]]:
    """Cards worked in the period (opened by its end, not closed before its start, not void) grouped
    ``by`` "level" (intent level) or "owner": (new, existing, visits, won, lost)."""
    key = {"level": "c.intent_level", "owner": "c.owner_id"}[by]
    p = {"a": a, "b": b, "da": da, "db": db}
    worked = ("FROM followup_card c WHERE c.status != 'void' AND c.card_date <= :db"
              " AND (c.closed_at IS NULL OR c.closed_at >= :a)")
    cols = ("sum(c.card_date >= :da), sum(c.card_date < :da),"
            " sum((SELECT count(*) FROM followup_visit v WHERE v.card_id = c.id AND v.at >= :a AND v.at < :b)),"
            " sum(c.status = 'won' AND c.closed_at < :b), sum(c.status = 'lost' AND c.closed_at < :b)")
    return {k: tuple(int(x or 0) for x in rest) for k, *rest in s.execute(text(
        f"SELECT {key}, {cols} {worked} GROUP BY {key}"), p)}


def staff_names(s: Session) -> dict[int, str]:
    """Every staff account's display name by id, in id order (disabled ones too)."""
    return {int(i): str(n) for i, n in s.execute(text("SELECT id, display_name FROM staff ORDER BY id"))}


# -- a period's headline figures ----------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryFigures:
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


def summary_figures(s: Session, a: str, b: str, da: str, db: str, now: str, owner: int | None) -> SummaryFigures:
    """Times [a, b), days [da, db]; ``owner`` set: that staff member's own only."""
    p: dict[str, Any] = {"a": a, "b": b, "now": now, "me": owner, "da": da, "db": db}
    own_c = " AND owner_id = :me" if owner is not None else ""
    own_t = " AND assignee_id = :me" if owner is not None else ""
    own_v_t = " AND handler_id = :me" if owner is not None else ""  # complaint_visit: the handler then
    own_v = " AND staff_id = :me" if owner is not None else ""

    def one(sql: str) -> Any:
        return s.execute(text(sql), p).one()

    fast = sm.usable(s)  # the summary tables (store/summary.py) for the counts they keep
    new = sm.new_customers(s, a, b, owner) if fast else one(
        f"SELECT count(*) FROM customer WHERE created_at >= :a AND created_at < :b{own_c}" + pending.hide(s, "id"))[0]
    n, ok, decided = one(f"SELECT count(*), {_WITHIN}, {_DECIDED} FROM complaint"
                         f" WHERE received_at >= :a AND received_at < :b{own_t}")
    closed = one(f"SELECT count(*) FROM complaint WHERE closed_at >= :a AND closed_at < :b{own_t}")[0]
    sat = one(f"SELECT avg(satisfaction) FROM complaint_visit WHERE at >= :a AND at < :b{own_v_t}")[0]
    visits = one(f"SELECT count(*) FROM followup_visit WHERE at >= :a AND at < :b{own_v}")[0]
    # R-FU-5: 新建 = cards opened in the period; 成交/战败 = results recorded in the period, whenever
    # the card was opened (a card opened last month and won this week is this week's win).
    cards = sm.cards_opened(s, da, db, owner) if fast else one(
        f"SELECT count(*) FROM followup_card WHERE card_date >= :da AND card_date <= :db AND status != 'void'{own_c}")[0]
    won, lost = sm.cards_won_lost(s, a, b, owner) if fast else one(
        "SELECT sum(status = 'won'), sum(status = 'lost') FROM followup_card"
        f" WHERE closed_at >= :a AND closed_at < :b AND status IN ('won', 'lost'){own_c}")
    grade = one("SELECT count(*) FROM grade_history g WHERE g.changed_at >= :a AND g.changed_at < :b"
                + (" AND EXISTS (SELECT 1 FROM customer c WHERE c.id = g.customer_id AND c.owner_id = :me)"
                   if owner is not None else ""))[0]
    return SummaryFigures(int(new), int(n), int(ok or 0), int(decided or 0), int(closed),
                          None if sat is None else float(sat), int(visits), int(cards), int(won or 0), int(lost or 0),
                          int(grade))


# -- per staff member (R-KPI-1) -------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketTimes:
    """A ticket received in the period, for its working hours (R-KPI-1)."""

    assignee_id: int
    received_at: Any
    responded_at: Any
    resolve_from: Any
    feedback_at: Any


def tickets_received(s: Session, a: str, b: str) -> dict[int, TicketTimes]:
    """Tickets received in [a, b) with a handler, by id."""
    return {int(i): TicketTimes(int(who), rec, resp, frm, fed) for i, who, rec, resp, frm, fed in s.execute(text(
        "SELECT id, assignee_id, received_at, responded_at, resolve_from, feedback_at FROM complaint"
        " WHERE received_at >= :a AND received_at < :b AND assignee_id IS NOT NULL"), {"a": a, "b": b})}


def complaint_pauses(s: Session, ids: Iterable[int]) -> list[tuple[int, Any, Any]]:
    """(complaint id, start, end or None) of the tickets' pauses."""
    ids_ = ",".join(str(int(i)) for i in ids)
    return [(int(cid), a, b) for cid, a, b in s.execute(text(
        f'SELECT complaint_id, start, "end" FROM complaint_pause WHERE complaint_id IN ({ids_})'))]


def complaint_rounds(s: Session, ids: Iterable[int]) -> list[tuple[int, str, Any]]:
    """(complaint id, 'feed_back' | 'reopen', at) of the tickets, in order of each ticket's history."""
    ids_ = ",".join(str(int(i)) for i in ids)
    return [(int(cid), str(action), at) for cid, action, at in s.execute(text(
        "SELECT complaint_id, action, at FROM complaint_event WHERE action IN ('feed_back', 'reopen')"
        f" AND complaint_id IN ({ids_}) ORDER BY complaint_id, id"))]


#: One staff figure: the names of its values (StaffRow fields) and its rows (staff id, values ...).
StaffFigure = tuple[tuple[str, ...], list[tuple[Any, ...]]]


def staff_figures(s: Session, a: str, b: str, now: str, today: str, *, correction_days: int, refused: str,
                  ignore_fields: Sequence[str]) -> list[StaffFigure]:
    """The per-staff aggregates of the period [a, b): each a (names, rows) pair whose rows start with
    the staff id (None where nobody) followed by one value per name."""
    p: dict[str, Any] = {"a": a, "b": b, "now": now, "today": today, "days": correction_days, "refused": refused}
    out: list[StaffFigure] = []

    def fill(sql: str, *names: str) -> None:
        out.append((names, [tuple(r) for r in s.execute(text(sql), p)]))

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
    # Results by the card's consultant when the result was recorded, whenever the card was opened.
    fill("SELECT owner_id, sum(status = 'won'), sum(status = 'lost') FROM followup_card"
         " WHERE closed_at >= :a AND closed_at < :b AND status IN ('won', 'lost') GROUP BY owner_id",
         "cards_won", "cards_lost")
    ignore = ", ".join(f"'{f}'" for f in ignore_fields if f.isidentifier()) or "''"
    fill("SELECT c.created_by_id,"
         f" sum((SELECT count(*) FROM json_each(a.details, '$.changes') j WHERE j.key NOT IN ({ignore}))"
         # The personal fields: the commitments' keys, or (stored without them, 2203) the row's values.
         "   + CASE WHEN json_type(a.details, '$.personal') IS NOT NULL"
         f"     THEN (SELECT count(*) FROM json_each(a.details, '$.personal') j WHERE j.key NOT IN ({ignore}))"
         f"     ELSE (SELECT count(*) FROM audit_value v WHERE v.audit_id = a.id AND v.field NOT IN ({ignore})) END)"
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
    return out
