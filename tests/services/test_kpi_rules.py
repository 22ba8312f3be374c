"""Issue 20, rules R-KPI-1, R-FU-5 and R-KPI-2: staff metrics in working hours, accuracy, results
per consultant, no share without a denominator; the weekly review as the regulation describes it.

The clock stands at Monday 2026-11-23 10:00 unless a test moves it."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from crm_tui.domain import reports as dr
from crm_tui.domain.errors import ValidationErrors
from crm_tui.services import complaints as cp
from crm_tui.services import customers as cs
from crm_tui.services import reports
from crm_tui.store import db
from tests.services.conftest import Crm

TICKET = {"channel": "phone", "ack_method": "phone", "category": "service/waiting", "severity": "normal",
          "description": "周六上午排队一小时无人接待", "demand": "希望道歉并改进"}


def _insert(tx: Any, table: str, **cols: Any) -> int:
    tx.execute(text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + k for k in cols)})"), cols)
    return int(tx.execute(text("SELECT last_insert_rowid()")).scalar_one())


def _row(crm: Crm, role: str, period: dr.Period) -> reports.StaffRow:
    rows = {r.staff_id: r for r in reports.staff_metrics(crm.svc, crm.actor("section_chief"), period)}
    sid = crm.actor(role).staff_id
    return rows.get(sid) or reports.StaffRow(sid, role)  # nothing to show: no row


def test_r_kpi_1_response_hours_are_working_hours(crm: Crm) -> None:
    """R-KPI-1: a ticket received Friday 17:00 and assigned Monday 09:15 took 0.75 working hours
    (17:00-17:30 Friday, 09:00-09:15 Monday), not the 64.25 clock hours between."""
    crm.clock.now = datetime(2026, 11, 20, 17, 0)  # Friday
    cid = cs.create_customer(crm.svc, crm.manager, "person", {"name": "张三丰"}).id
    ref = cp.file_complaint(crm.svc, crm.actor("front_desk"), cid, TICKET)
    crm.clock.now = datetime(2026, 11, 23, 9, 15)  # Monday
    cp.assign(crm.svc, crm.actor("section_chief"), ref.id, "jingli")
    row = _row(crm, "customer_manager", dr.Period.of("week", date(2026, 11, 20)))
    assert row.respond_hours == pytest.approx(0.75)


def test_r_kpi_1_feedback_hours_stay_after_a_reopen(crm: Crm) -> None:
    """R-KPI-1: feedback hours add up every round; a reopen keeps the hours already spent (it
    used to drop the ticket's feedback hours to nothing), the next feedback adds its own round."""
    cid = cs.create_customer(crm.svc, crm.manager, "person", {"name": "张三丰"}).id
    ref = cp.file_complaint(crm.svc, crm.actor("front_desk"), cid, TICKET)  # Mon 10:00
    mgr, chief = crm.manager, crm.actor("section_chief")
    cp.assign(crm.svc, chief, ref.id, "jingli")
    cp.solve(crm.svc, mgr, ref.id, "调取监控")
    crm.clock.now = datetime(2026, 11, 23, 15, 0)
    cp.feed_back(crm.svc, mgr, ref.id, "已道歉", "临时离岗", "电话")  # 10-12 + 13:30-15 = 3.5 h
    week = dr.Period.of("week", date(2026, 11, 23))
    assert _row(crm, "customer_manager", week).resolve_hours == pytest.approx(3.5)
    crm.clock.now = datetime(2026, 11, 24, 9, 0)
    cp.reopen(crm.svc, crm.actor("front_desk"), ref.id, "不满意")
    assert _row(crm, "customer_manager", week).resolve_hours == pytest.approx(3.5)  # not 0, not gone
    crm.clock.now = datetime(2026, 11, 24, 11, 0)
    cp.solve(crm.svc, mgr, ref.id, "追加补偿方案")
    cp.feed_back(crm.svc, mgr, ref.id, "追加补偿", "按规定", "当面")  # second round: 2 h
    assert _row(crm, "customer_manager", week).resolve_hours == pytest.approx(5.5)


def test_r_kpi_1_registered_and_handled_are_separate_columns(crm: Crm) -> None:
    """R-KPI-1: the person who registered tickets is credited with them even when others handle them."""
    cid = cs.create_customer(crm.svc, crm.manager, "person", {"name": "张三丰"}).id
    for _i in range(3):
        ref = cp.file_complaint(crm.svc, crm.actor("front_desk"), cid, TICKET)
        cp.assign(crm.svc, crm.actor("section_chief"), ref.id, "jingli")
    week = dr.Period.of("week", date(2026, 11, 23))
    fd, mgr = _row(crm, "front_desk", week), _row(crm, "customer_manager", week)
    assert (fd.registered, fd.tickets) == (3, 0)
    assert (mgr.registered, mgr.tickets) == (0, 3)
    header, rows = reports.staff_table([fd, mgr])
    reg, handled = header.index("Tickets registered"), header.index("Tickets handled")
    assert (rows[0][reg], rows[0][handled], rows[1][reg], rows[1][handled]) == (3, 0, 0, 3)


def test_r_kpi_1_accuracy_refusals_and_corrections_per_clerk(crm: Crm) -> None:
    """R-KPI-1 accuracy (data/metrics.toml): a refused save is recorded for the clerk who tried
    (nothing of the record written); a field changed within the correction window counts against
    the clerk who entered the archive, whoever corrects it; later changes are maintenance."""
    fd = crm.actor("front_desk")
    before = crm.count("customer")
    with pytest.raises(ValidationErrors):
        cs.create_customer(crm.svc, fd, "person", {"name": "张三丰", "birth_date": "2999-01-01"})
    assert crm.count("customer") == before
    ref = cs.create_customer(crm.svc, fd, "person", {"name": "张三丰", "postcode": "100000"})
    crm.clock.advance(days=1)
    v = cs.get_customer(crm.svc, crm.manager, ref.id).version
    v = cs.update_customer(crm.svc, crm.manager, ref.id, {"postcode": "100001", "occupation": "教师"},
                           expected_version=v)
    crm.clock.advance(days=10)  # past the 7-day window: not a correction
    cs.update_customer(crm.svc, crm.manager, ref.id, {"occupation": "工程师"}, expected_version=v)
    month = dr.Period.of("month", date(2026, 11, 23))
    row = _row(crm, "front_desk", month)
    assert (row.refusals, row.corrections) == (1, 2)
    assert _row(crm, "customer_manager", month).corrections == 0
    # The refusal names the fields, never the typed value.
    got = str(db.scalar(crm.svc.store, "SELECT details FROM audit_log WHERE action = 'entry.refused'"))
    assert json.loads(got)["fields"] == ["birth_date"] and "2999" not in got


def test_r_kpi_1_won_and_lost_per_consultant_by_result_date(crm: Crm) -> None:
    """R-KPI-1 follow-up effect: results per consultant in the period the result was recorded."""
    m = crm.manager.staff_id
    with crm.svc.store.write() as s:
        cid = _insert(s, "customer", number="C1", kind="person", name="客户1", important=False, false_info=False,
                      business_stopped=False, needs_informing=False, last_activity_at="2026-10-01 09:00:00",
                      version=1, created_at="2026-10-01 09:00:00", updated_at="2026-10-01 09:00:00", owner_id=m)
        for n, status, closed in (("1", "won", "2026-11-24 10:00:00"), ("2", "lost", "2026-11-23 10:00:00"),
                                  ("3", "won", "2026-11-10 10:00:00")):
            _insert(s, "followup_card", number=f"A{n}", customer_id=cid, owner_id=m, card_date="2026-10-05",
                    first_reception_date="2026-10-05", intent_level="B", source="walk_in", status=status,
                    closed_at=closed, review_due="2026-10-08", visits=0, version=1, created_at="2026-10-05",
                    updated_at="2026-10-05")
    row = _row(crm, "customer_manager", dr.Period.of("week", date(2026, 11, 23)))
    assert (row.cards_won, row.cards_lost) == (1, 1)


def test_r_kpi_1_no_percentage_without_a_denominator(crm: Crm) -> None:
    """R-KPI-1: a share with nothing to divide is a dash and the count, never 100 % or 0 %; a
    ticket whose limits are still running is not counted as within them."""
    assert dr.ratio(0, 0) == "— (0)"
    assert dr.ratio(2, 3) == "67% (2/3)" and dr.ratio(2, 3).value == pytest.approx(2 / 3)  # type: ignore[attr-defined]
    assert dr.is_figure("— (0)") and dr.is_figure("67% (2/3)") and not dr.is_figure("A (x)")
    cid = cs.create_customer(crm.svc, crm.manager, "person", {"name": "张三丰"}).id
    ref = cp.file_complaint(crm.svc, crm.actor("front_desk"), cid, TICKET)
    cp.assign(crm.svc, crm.actor("section_chief"), ref.id, "jingli")  # answered, resolution running
    d = reports.dashboard(crm.svc, crm.actor("section_chief"), items=False)
    assert (d.week.complaints, d.week.complaints_decided, d.week.within_share) == (1, 0, None)
    header, rows = reports.summary_table(reports.pack(crm.svc, crm.actor("section_chief"), "week"))
    line = next(r for r in rows if r[0] == "Complaints within the time limits")
    assert line[1] == "— (0)"
    mgr = _row(crm, "customer_manager", dr.Period.of("week", date(2026, 11, 23)))
    h, r = reports.staff_table([mgr])
    assert r[0][h.index("Fed back in limit")] == "— (0)"
    assert r[0][h.index("Responded in limit")] == "100% (1/1)"


# ------------------------------------------------------------------------------------------------
# R-FU-5
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def cards(crm: Crm) -> dict[str, int]:
    """Cards around the turn of the year; the week under review is 2026-12-28 .. 2027-01-03."""
    m, m2 = crm.manager.staff_id, crm.actor("section_chief").staff_id
    with crm.svc.store.write() as s:
        cid = _insert(s, "customer", number="C1", kind="person", name="客户1", important=False, false_info=False,
                      business_stopped=False, needs_informing=False, last_activity_at="2026-10-01 09:00:00",
                      version=1, created_at="2026-10-01 09:00:00", updated_at="2026-10-01 09:00:00", owner_id=m)

        def card(n: str, owner: int, day: str, level: str, source: str, status: str = "open",
                 closed: str | None = None) -> int:
            return _insert(s, "followup_card", number=f"A{n}", customer_id=cid, owner_id=owner, card_date=day,
                           first_reception_date=day, intent_level=level, source=source, status=status,
                           closed_at=closed, review_due=day, visits=0, version=1, created_at=day, updated_at=day)

        card("1", m, "2026-12-29", "H", "walk_in")  # new this week (last year's days)
        card("2", m, "2027-01-02", "A", "phone")  # new this week (this year's days)
        old = card("3", m2, "2026-12-01", "B", "walk_in")  # existing, still open
        card("4", m, "2026-11-20", "O", "walk_in", "won", "2026-12-30 10:00:00")  # existing, won this week
        card("5", m2, "2026-12-10", "F", "phone", "lost", "2026-12-20 10:00:00")  # closed before: not worked
        card("6", m2, "2026-12-31", "C", "phone", "void", "2026-12-31 11:00:00")  # void: left out
        card("7", m, "2026-12-27", "B", "walk_in")  # Sunday of the week before: existing
        _insert(s, "followup_visit", card_id=old, at="2027-01-01 10:00:00", method="phone", level_before="B",
                level_after="B", next_due="2027-01-08", staff_id=m2, created_at="2027-01-01 10:00:00")
    crm.clock.now = datetime(2027, 1, 2, 16, 0)  # Saturday, in the week that spans the new year
    return {"m": m, "m2": m2}


def test_r_fu_5_weekly_review_new_existing_levels_staff_across_new_year(crm: Crm, cards: dict[str, int]) -> None:
    """R-FU-5: the week from the injected clock spans 2026-12-28 .. 2027-01-03; cards new in the week
    against existing ones, by intent level and per consultant; results counted when recorded."""
    p = reports.pack(crm.svc, crm.actor("section_chief"), "week")
    assert (p.period.start, p.period.end) == (date(2026, 12, 28), date(2027, 1, 3))
    rv = p.review
    assert rv is not None
    t = rv.total
    assert (t.new, t.existing, t.total, t.visits, t.won, t.lost) == (2, 3, 5, 1, 1, 0)
    levels = {r.label: (r.new, r.existing) for r in rv.levels}
    assert levels["H (buys within 7 days)"] == (1, 0) and levels["A (buys within 15 days)"] == (1, 0)
    assert levels["B (buys within 30 days)"] == (0, 2) and levels["C (buys within 3 months)"] == (0, 0)
    staff = {r.label: (r.new, r.existing, r.visits, r.won) for r in rv.staff}
    assert staff == {"王建国": (2, 2, 0, 1), "陈志强": (0, 1, 1, 0)}
    text_pack = reports.pack_text(p)
    assert "Follow-up cards by intent level" in text_pack and "Follow-up cards by consultant" in text_pack


def test_r_fu_5_by_source_table_is_the_weeks(crm: Crm, cards: dict[str, int]) -> None:
    """R-FU-5: under the week's heading, conversion by source counts the cards opened in that week,
    not twelve weeks of them."""
    p = reports.pack(crm.svc, crm.actor("section_chief"), "week")
    src = {r.source: (r.cards, r.won) for r in p.sources}
    assert src == {"Walk-in": (1, 0), "Phone enquiry": (1, 0)}


def test_r_fu_5_home_new_won_lost_per_rule(crm: Crm, cards: dict[str, int]) -> None:
    """R-FU-5: home's 新建 counts the cards opened this week; 成交/战败 the results recorded this
    week, whenever the card was opened (card A4, opened in November, was won on 12-30)."""
    w = reports.dashboard(crm.svc, crm.actor("section_chief"), items=False).week
    assert (w.period.start, w.period.end) == (date(2026, 12, 28), date(2027, 1, 3))
    assert (w.cards_opened, w.cards_won, w.cards_lost) == (2, 1, 0)
    crm.clock.now += timedelta(days=2)  # Monday 2027-01-04: a new week, nothing yet
    w = reports.dashboard(crm.svc, crm.actor("section_chief"), items=False).week
    assert (w.period.start, w.cards_opened, w.cards_won, w.cards_lost) == (date(2027, 1, 4), 0, 0, 0)


def test_r_fu_5_follow_up_weekly_review_sources_are_the_weeks(crm: Crm, cards: dict[str, int]) -> None:
    """R-FU-5: the follow-up area's weekly review (Ctrl+W) shows, under the week's heading, the cards
    opened in that week by source (it used to count every card opened before the week's end)."""
    from crm_tui.services import followups as fu

    review = fu.weekly_review(crm.svc, crm.actor("section_chief"))
    assert (review.week_start, review.week_end) == (date(2026, 12, 28), date(2027, 1, 3))
    assert {r.source: r.cards for r in review.sources} == {"Walk-in": 1, "Phone enquiry": 1}
    t = review.cards.total  # the same split as the reports' pack
    assert (t.new, t.existing, t.won, t.lost) == (2, 3, 1, 0)


def test_r_kpi_1_r_fu_5_xlsx_numeric_cells(crm: Crm, cards: dict[str, int], tmp_path) -> None:  # type: ignore[no-untyped-def]
    """R-KPI-1 / R-FU-5 in the XLSX: the staff sheet's new columns and the follow-up review are
    numbers; a share with no denominator is an empty cell, never a text '— (0)'."""
    from openpyxl import load_workbook

    chief = crm.actor("section_chief")
    wb = load_workbook(reports.export_xlsx(crm.svc, chief, reports.pack(crm.svc, chief, "week"),
                                           tmp_path / "w.xlsx"))
    fu = list(wb["Follow-up review"].iter_rows(values_only=True))
    assert fu[0][:3] == ("Cards", "Opened in the period", "Existing cards") and fu[1][1:4] == (2, 3, 5)
    ws = wb["Staff metrics"]
    header = [c.value for c in ws[1]]
    for name in ("Cards won", "Cards lost", "Tickets registered", "Tickets handled", "Corrections", "Refused saves"):
        col = header.index(name) + 1
        assert all(ws.cell(r, col).data_type == "n" for r in range(2, ws.max_row + 1)), name
    col = header.index("Responded in limit") + 1
    assert all(ws.cell(r, col).value is None for r in range(2, ws.max_row + 1))  # no tickets: empty, not text
