"""Dashboard, staff metrics and review pack (issue 10): every figure against numbers worked out by
hand from a small fixed dataset written straight into the tables (R-KPI-1, R-KPI-2, R-FU-5, R-CMP-6).

The clock stands at Monday 2026-11-23 10:00. "This week" is 11-23..11-29, "last week" 11-16..11-22.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from openpyxl import load_workbook

from crm_tui.domain import reports as dr
from crm_tui.domain.errors import PermissionDenied, ValidationErrors
from crm_tui.services import reports


THIS_WEEK = dr.Period.of("week", date(2026, 11, 23))
LAST_WEEK = dr.Period.of("week", date(2026, 11, 16))
WEEK_BEFORE = dr.Period.of("week", date(2026, 11, 9))


def _insert(tx: Any, table: str, **cols: Any) -> int:
    names = ", ".join(cols)
    marks = ", ".join(f":{k}" for k in cols)
    tx.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), cols)
    return int(tx.execute(text("SELECT last_insert_rowid()")).scalar_one())


@pytest.fixture
def data(crm):  # type: ignore[no-untyped-def]
    ids = {role: a.staff_id for role, a in crm.actors.items()}
    m, m2, fd = ids["customer_manager"], ids["customer_manager2"], ids["front_desk"]
    chief, deputy = ids["section_chief"], ids["deputy_manager"]
    out: dict[str, int] = {}
    with crm.svc.store.write() as s:
        def customer(n: str, created: str, owner: int, by: int, category: str, grade: str | None,
                     credit: str | None, risk: str | None, missing: str | None = None, due: str | None = None,
                     erased: str | None = None) -> int:
            return _insert(s, "customer", number=f"C{n}", kind="person", name=f"客户{n}", important=False,
                           false_info=False, business_stopped=False, needs_informing=False, last_activity_at=created,
                           version=1, created_at=created, updated_at=created, owner_id=owner, created_by_id=by,
                           category=category, grade=grade, credit_rating=credit, risk_rating=risk,
                           missing_fields=missing, incomplete_due=due, erased_at=erased)

        c1 = customer("1", "2026-11-23 09:00:00", m, fd, "signed", "A", "AAA", "low")
        c2 = customer("2", "2026-11-17 09:00:00", m, m, "potential", None, "A", "medium",
                      '{"contact":["postcode"]}', "2026-11-20 18:00:00")
        c3 = customer("3", "2026-11-10 09:00:00", m2, m2, "signed", "B", None, None)
        c4 = customer("4", "2026-11-23 08:00:00", m2, fd, "potential", None, None, None,
                      '{"contact":["postcode"]}', "2026-11-30 18:00:00")
        customer("5", "2026-11-16 09:00:00", m, m, "potential", None, "C", "high", erased="2026-11-20 09:00:00")
        out.update(c1=c1, c2=c2, c3=c3, c4=c4)

        def ticket(n: str, cust: int, received: str, assignee: int | None, **kw: Any) -> int:
            base = dict(number=f"T{n}", customer_id=cust, channel="phone", category="service", severity="normal",
                        received_at=received, state="received", resolve_from=received, reopen_count=0, version=1,
                        created_at=received, updated_at=received, assignee_id=assignee)
            return _insert(s, "complaint", **{**base, **kw})

        ticket("1", c1, "2026-11-23 08:00:00", m, responded_at="2026-11-23 09:00:00", respond_met=1,
               due_at="2026-11-25 18:00:00", state="investigating")
        ticket("2", c2, "2026-11-23 07:00:00", None, due_at="2026-11-23 09:00:00")  # unanswered past its limit
        t3 = ticket("3", c3, "2026-11-16 10:00:00", m2, category="product", responded_at="2026-11-16 12:00:00",
               respond_met=1, feedback_at="2026-11-17 10:00:00", resolve_met=1, visit_at="2026-11-18 10:00:00",
               satisfaction=4, closed_at="2026-11-18 11:00:00", state="closed")
        t4 = ticket("4", c3, "2026-11-17 10:00:00", m2, responded_at="2026-11-17 14:00:00", respond_met=0,
                    feedback_at="2026-11-20 10:00:00", resolve_met=0, visit_at="2026-11-23 09:00:00", satisfaction=2,
                    state="visited")
        for t, at, score in ((t3, "2026-11-18 10:00:00", 4), (t4, "2026-11-23 09:00:00", 2)):  # R-CMP-6: one row a visit
            _insert(s, "complaint_visit", complaint_id=t, at=at, method="电话", satisfaction=score, handler_id=m2,
                    staff_id=m2)
        for at, score in (("2026-11-17 11:00:00", 5), ("2026-11-18 11:00:00", 3)):
            _insert(s, "customer_feedback", customer_id=c1, kind="survey", at=at, score=score, created_at=at)

        def card(n: str, cust: int, owner: int, day: str, source: str, status: str, due: str | None = None) -> int:
            return _insert(s, "followup_card", number=f"A{n}", customer_id=cust, owner_id=owner, card_date=day,
                           first_reception_date=day, intent_level="B", source=source, status=status,
                           review_due=day, visits=0, version=1, created_at=day, updated_at=day, next_visit_due=due)

        card("1", c1, m, "2026-11-02", "walk_in", "won")
        card("2", c2, m, "2026-11-05", "walk_in", "lost")
        k3 = card("3", c3, m2, "2026-11-10", "phone", "open", "2026-11-25")
        card("4", c4, m2, "2026-11-12", "walk_in", "void")
        card("5", c4, m, "2026-11-20", "phone", "open", "2026-11-21")  # overdue on 11-23

        def visit(at: str, next_due: str, staff: int) -> None:
            _insert(s, "followup_visit", card_id=k3, at=at, method="phone", level_before="B", level_after="B",
                    next_due=next_due, staff_id=staff, created_at=at)

        visit("2026-11-10 10:00:00", "2026-11-14", m2)  # first visit: no earlier due date
        visit("2026-11-14 15:00:00", "2026-11-20", m2)  # due 11-14: on time
        visit("2026-11-21 09:00:00", "2026-11-25", m2)  # due 11-20: late

        for at, source in (("2026-11-23 08:30:00", "walk_in"), ("2026-11-23 09:00:00", None)):
            _insert(s, "register_entry", name="来客", arrived_at=at, kind="walk_in", trial=False, created_at=at,
                    created_by_id=fd, source=source)

        app = _insert(s, "grade_application", customer_id=c3, from_grade="C", to_grade="B", reason="合作扩大",
                      state="applied", applicant_id=m, filed_at="2026-11-17 09:00:00", chief_id=chief,
                      chief_at="2026-11-18 09:00:00", deputy_id=deputy, deputy_at="2026-11-19 09:00:00",
                      applied_by_id=chief, applied_at="2026-11-20 09:00:00", version=1)
        _insert(s, "grade_history", customer_id=c3, application_id=app, from_grade="C", to_grade="B",
                changed_at="2026-11-20 09:00:00", changed_by_id=chief)
    out.update(m=m, m2=m2, fd=fd, chief=chief, deputy=deputy)
    return out


def _week(rows: list[reports.WeekRow], monday: str) -> reports.WeekRow:
    return next(w for w in rows if w.week == date.fromisoformat(monday))


def test_dashboard_weekly_series_match_hand_counts(crm, data) -> None:  # type: ignore[no-untyped-def]
    """R-KPI-1: new customers per week (erased ones still count), complaints per week with the share
    within limits, satisfaction of return visits and surveys (R-CMP-6, R-CUST-15)."""
    d = reports.dashboard(crm.svc, crm.actor("section_chief"), items=False)
    assert not d.scope_own
    assert len(d.weeks) == reports.WEEKS and d.weeks[-1].week == date(2026, 11, 23)
    this, last, before = _week(d.weeks, "2026-11-23"), _week(d.weeks, "2026-11-16"), _week(d.weeks, "2026-11-09")
    assert (this.new_customers, last.new_customers, before.new_customers) == (2, 2, 1)
    # This week: T1 on time so far (not settled yet), T2 unanswered past its limit (settled: missed).
    # Last week: T3 met, T4 missed both. R-KPI-1: the share is of the settled tickets only.
    assert (this.complaints, this.complaints_within, this.complaints_decided, this.within_share) == (2, 0, 1, 0.0)
    assert (last.complaints, last.complaints_within) == (2, 1)
    assert before.complaints == 0 and before.within_share is None
    assert (last.satisfaction, last.satisfaction_n) == (4.0, 1)
    assert (this.satisfaction, this.satisfaction_n) == (2.0, 1)
    assert (last.survey, last.survey_n) == (4.0, 2)
    assert this.survey is None


def test_dashboard_distribution_and_conversion(crm, data) -> None:  # type: ignore[no-untyped-def]
    """R-CUST-4, R-GRD-1: active customers by category and grade; R-FU-5: conversion by source of
    the cards opened in the twelve weeks (void cards left out)."""
    d = reports.dashboard(crm.svc, crm.actor("section_chief"), items=False)
    dist = d.distribution
    by_cat = dict(dist.by_category())
    assert by_cat["Potential"] == 2 and by_cat["Signed"] == 2 and by_cat["Intentional"] == 0 and dist.total == 4
    by_grade = dict(dist.by_grade())
    assert by_grade["(none)"] == 2
    assert sum(by_grade.values()) == 4
    assert dist.counts[("Signed", dict(reversed(kv) for kv in _grades(crm))["A"])] == 1
    src = {r.source: (r.cards, r.won, r.lost, r.conversion) for r in d.sources}
    assert src == {"Walk-in": (2, 1, 1, 0.5), "Phone enquiry": (2, 0, 0, 0.0)}


def _grades(crm) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from crm_tui.services import grades

    return [(label, code) for code, label in grades.grade_choices(crm.svc)]


def test_dashboard_this_week_summary(crm, data) -> None:  # type: ignore[no-untyped-def]
    d = reports.dashboard(crm.svc, crm.actor("section_chief"), items=False)
    w = d.week
    assert (w.new_customers, w.complaints, w.complaints_within, w.complaints_closed) == (2, 2, 0, 0)
    assert w.satisfaction == 2.0 and w.visits == 0 and w.grade_changes == 0
    last = reports.pack(crm.svc, crm.actor("section_chief"), "week", date(2026, 11, 18)).summary
    assert (last.new_customers, last.complaints, last.complaints_closed, last.visits) == (2, 2, 1, 1)
    assert (last.cards_opened, last.grade_changes, last.satisfaction) == (1, 1, 4.0)


def test_dashboard_without_report_permission_shows_own_work_only(crm, data) -> None:  # type: ignore[no-untyped-def]
    """R-SEC-2 least privilege: a customer manager sees the figures of their own customers."""
    d = reports.dashboard(crm.svc, crm.actor("customer_manager"), items=False)
    assert d.scope_own
    assert d.distribution.total == 2  # C1, C2 (C5 erased)
    assert _week(d.weeks, "2026-11-23").new_customers == 1  # C1 (C4 belongs to the other manager)
    assert _week(d.weeks, "2026-11-23").complaints == 1  # T1 assigned to them
    assert {r.source for r in d.sources} == {"Walk-in", "Phone enquiry"}


def test_staff_metrics_last_week(crm, data) -> None:  # type: ignore[no-untyped-def]
    """R-KPI-1 by staff and period: completeness and timeliness of archives, visits on time,
    complaint response and resolution, satisfaction, grade applications handled."""
    rows = {r.staff_id: r for r in reports.staff_metrics(crm.svc, crm.actor("section_chief"), LAST_WEEK)}
    m, m2 = rows[data["m"]], rows[data["m2"]]
    assert (m.archives, m.complete, m.completeness, m.past_deadline) == (2, 1, 0.5, 1)
    assert (m2.archives, m2.complete, m2.past_deadline) == (2, 1, 0)
    assert m.new_archives == 2 and m2.new_archives == 0  # C2 and C5 (erased since, but entered that week)
    assert (m2.visits, m2.visits_due, m2.visits_on_time, m2.on_time_share) == (1, 1, 0, 0.0)
    assert m.cards_overdue == 1 and m2.cards_overdue == 0
    assert (m2.tickets, m2.respond_decided, m2.respond_met, m2.resolve_decided, m2.resolve_met) == (2, 2, 1, 2, 1)
    # R-KPI-1 working hours (09:00-12:00, 13:30-17:30): T3 2 h and T4 2.5 h to respond; T3 7 h and
    # T4 21 h (three working days) to feed back.
    assert m2.respond_hours == pytest.approx(2.25) and m2.resolve_hours == pytest.approx(14.0)
    assert (m2.satisfaction, m2.satisfaction_n) == (4.0, 1)
    assert m.grade_filed == 1
    assert rows[data["chief"]].grade_approved == 1 and rows[data["chief"]].grade_applied == 1
    assert rows[data["chief"]].grade_handled == 2
    assert rows[data["deputy"]].grade_approved == 1


def test_staff_metrics_other_weeks(crm, data) -> None:  # type: ignore[no-untyped-def]
    before = {r.staff_id: r for r in reports.staff_metrics(crm.svc, crm.actor("section_chief"), WEEK_BEFORE)}
    assert (before[data["m2"]].visits, before[data["m2"]].visits_due, before[data["m2"]].visits_on_time) == (2, 1, 1)
    this = {r.staff_id: r for r in reports.staff_metrics(crm.svc, crm.actor("section_chief"), THIS_WEEK)}
    fd, m, m2 = this[data["fd"]], this[data["m"]], this[data["m2"]]
    assert (fd.new_archives, fd.register_lines, fd.register_with_source, fd.source_share) == (2, 2, 1, 0.5)
    # T1: answered within its limit, resolution still running before its deadline -> not decided.
    assert (m.tickets, m.respond_decided, m.respond_met, m.resolve_decided) == (1, 1, 1, 0)
    # T1 received 08:00, answered 09:00: before opening, no working time (R-KPI-1).
    assert m.respond_hours == pytest.approx(0.0) and m.resolve_hours is None and m.resolve_share is None
    assert (m2.satisfaction, m2.satisfaction_n, m2.tickets) == (2.0, 1, 0)
    assert data["deputy"] not in this  # nothing this week: no row


def test_ratings_distribution_with_measures(crm, data) -> None:  # type: ignore[no-untyped-def]
    """R-KPI-2: customers by credit and risk rating with the credit limit, term and prepayment."""
    r = reports.ratings(crm.svc, crm.actor("internal_control"))
    credit = {x.code: x for x in r.credit}
    assert credit["AAA"].customers == 1 and credit["A"].customers == 1 and credit["C"].customers == 0
    assert credit[None].customers == 2
    assert (credit["AAA"].credit_limit, credit["AAA"].term_days, credit["AAA"].prepayment_pct) == (5000000, 90, 0)
    risk = {x.code: x.customers for x in r.risk}
    assert risk == {"low": 1, "medium": 1, "high": 0, None: 2}  # the erased customer's 'high' is not counted


@pytest.mark.parametrize("role", ["front_desk", "customer_manager"])
def test_reports_need_report_view(crm, data, role: str) -> None:  # type: ignore[no-untyped-def]
    """R-SEC-2: staff metrics and the pack are for report.view holders; the refusal is audited."""
    before = crm.count("audit_log", "action = 'permission.denied'")
    with pytest.raises(PermissionDenied):
        reports.staff_metrics(crm.svc, crm.actor(role), THIS_WEEK)
    with pytest.raises(PermissionDenied):
        reports.pack(crm.svc, crm.actor(role), "week")
    assert crm.count("audit_log", "action = 'permission.denied'") == before + 2


def test_periods() -> None:
    assert dr.Period.of("week", date(2026, 11, 25)) == THIS_WEEK
    assert THIS_WEEK.shifted(-1) == LAST_WEEK
    m = dr.Period.of("month", date(2026, 12, 31))
    assert (m.start, m.end) == (date(2026, 12, 1), date(2026, 12, 31))
    assert m.shifted(1).start == date(2027, 1, 1) and m.shifted(-12).start == date(2025, 12, 1)
    feb = dr.Period.of("month", date(2028, 2, 10))
    assert feb.end == date(2028, 2, 29)
    assert [w.isoformat() for w in dr.Period.of("month", date(2026, 11, 5)).weeks][:2] == ["2026-10-26", "2026-11-02"]
    with pytest.raises(ValidationErrors):
        dr.Period.of("year", date(2026, 1, 1))


def test_pack_future_period_refused(crm, data) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationErrors):
        reports.pack(crm.svc, crm.actor("section_chief"), "week", date(2026, 12, 7))


def test_weekly_pack_xlsx_and_text(crm, data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The weekly pack as XLSX (tables and native charts) and as plain text; both audited."""
    chief = crm.actor("section_chief")
    p = reports.pack(crm.svc, chief, "week", date(2026, 11, 18))
    assert p.period == LAST_WEEK and p.previous.period == WEEK_BEFORE
    out = reports.export_xlsx(crm.svc, chief, p, tmp_path / "weekly.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames[0] == "Summary"
    summary = {r[0]: r[1:] for r in wb["Summary"].iter_rows(min_row=4, values_only=True)}
    assert summary["New customers"] == (2, 1)
    assert summary["Complaints within the time limits"] == (0.5, None)  # a number shown as 50%; none the week before
    weeks = wb["By week"]
    assert len(weeks._charts) == 4
    assert [c.value for c in weeks[weeks.max_row]][:4] == [datetime(2026, 11, 16), 2, 2, 50.0]  # a date cell
    staff = list(wb["Staff metrics"].iter_rows(values_only=True))
    row = next(r for r in staff if r[0] == "赵丽华")
    assert row[1:4] == (2, 0.5, 0) and row[staff[0].index("Tickets handled")] == 2
    assert len(wb["Category and grade"]._charts) == 1 and len(wb["Conversion by source"]._charts) == 1
    txt = reports.export_text(crm.svc, chief, p, tmp_path / "weekly.txt")
    body = txt.read_text(encoding="utf-8")
    assert body.startswith("Weekly review 2026-11-16 – 2026-11-22")
    assert "赵丽华" in body and "\x1b" not in body
    lines = body.splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.split()[:2] == ["Staff", "Archives"])
    assert lines[header + 1].startswith("------")
    assert crm.count("audit_log", "action = 'report.export'") == 2


def test_export_bad_path_changes_nothing(crm, data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chief = crm.actor("section_chief")
    p = reports.pack(crm.svc, chief, "month")
    with pytest.raises(ValidationErrors) as e:
        reports.export_xlsx(crm.svc, chief, p, tmp_path / "nope" / "pack.xlsx")
    assert "does not exist" in str(e.value.errors[0].message)
    with pytest.raises(ValidationErrors):
        reports.export_text(crm.svc, chief, p, tmp_path / "pack.xlsx")
    assert list(tmp_path.iterdir()) == [tmp_path / "data"]
    assert crm.count("audit_log", "action = 'report.export'") == 0


def test_text_table_aligns_chinese_by_display_width() -> None:
    lines = dr.text_table(["姓名", "Visits"], [["王建国", 3], ["Li", 12]])
    from rich.cells import cell_len

    assert len({cell_len(ln) for ln in lines[:2]}) == 1  # header and rule equally wide
    assert lines[2].endswith(" 3") and lines[3].endswith("12")
    assert cell_len(lines[2]) == cell_len(lines[3])


def test_xlsx_percentages_are_numbers_that_sum(crm, data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Issue 21: percentages and averages are numeric cells with a number format (Excel sums and
    sorts them), every sheet has a frozen header row and column widths."""
    chief = crm.actor("section_chief")
    p = reports.pack(crm.svc, chief, "week", date(2026, 11, 18))
    wb = load_workbook(reports.export_xlsx(crm.svc, chief, p, tmp_path / "weekly.xlsx"))
    ws = wb["Staff metrics"]
    header = [c.value for c in ws[1]]
    col = header.index("Complete") + 1
    cells = [ws.cell(r, col) for r in range(2, ws.max_row + 1) if ws.cell(r, col).value is not None]
    assert cells, "no completeness figures"
    for c in cells:
        assert c.data_type == "n" and "%" in c.number_format, (c.value, c.data_type, c.number_format)
    assert sum(c.value for c in cells) == pytest.approx(sum(r.completeness for r in p.staff if r.completeness is not None))
    sat = ws.cell(2, header.index("Satisfaction") + 1)
    assert sat.value is None or (sat.data_type == "n" and sat.number_format == "0.00")
    summary = wb["Summary"]
    share = next(r for r in summary.iter_rows(min_row=4) if r[0].value == "Complaints within the time limits")[1]
    assert share.data_type == "n" and share.number_format == "0%"
    assert wb["By week"]["A2"].is_date
    for name in wb.sheetnames:
        sheet = wb[name]
        assert sheet.freeze_panes in ("A2", "A4"), name
        assert sheet.column_dimensions["A"].width >= 8, name
