"""The turn of the year with the injected clock (issue 16 item 3): numbering and counts across
1 January, deadlines over New Year and a loaded 2027 Spring Festival, the weekly report of the
week holding 1 January, the twelve-week series across the year, and a grade review period ending
on 31 December."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from crm_tui.domain import reports as dr
from crm_tui.services import complaints as cp
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services import grades as gs
from crm_tui.services import holidays as hol
from crm_tui.services import reports
from crm_tui.services.customers import PhoneInput
from tests.services.conftest import Crm

SCHEDULE_2027 = ("日期,类型,名称\n2027-01-01,休,元旦\n2027-02-07,班,春节\n"
                 + "".join(f"2027-02-{d:02d},休,春节\n" for d in range(8, 13)))
CARD = {"intent_level": "H", "source": "walk_in", "product": "SUV", "first_reception_summary": "看车"}
TICKET = {"channel": "phone", "ack_method": "phone", "category": "service/waiting", "severity": "normal", "description": "排队太久"}
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞", "徐亮", "孙丽", "马超", "朱红"]
NEW_YEARS_EVE = datetime(2026, 12, 31, 23, 50)
NEW_YEAR = datetime(2027, 1, 1, 0, 10)


def load_2027(crm: Crm, tmp_path: Path) -> None:
    p = tmp_path / "2027.csv"
    p.write_text(SCHEDULE_2027, encoding="utf-8")
    hol.import_file(crm.svc, crm.actor("admin"), p)


def one_of_each(crm: Crm, n: int, at: datetime) -> tuple[cs.CustomerRef, fu.CardRef, cp.TicketRef, int]:
    """A customer, a follow-up card, a complaint and a grade application, all at ``at``."""
    crm.clock.now = at
    ref = cs.create_customer(crm.svc, crm.manager, "person", {"name": NAMES[n % len(NAMES)] + NAMES[n // 7 % 7]},
                             phones=[PhoneInput(f"1380013{n:04d}")])
    card = fu.create_card(crm.svc, crm.manager, ref.id, {**CARD, "first_reception_date": at.date().isoformat()})
    ticket = cp.file_complaint(crm.svc, crm.manager, ref.id, TICKET)
    app = gs.file_application(crm.svc, crm.manager, ref.id, "B", "年度合作金额增长")
    return ref, card, ticket, app


def test_numbers_restart_and_counts_split_at_1_january(crm: Crm, tmp_path: Path) -> None:
    load_2027(crm, tmp_path)
    before = [one_of_each(crm, i, NEW_YEARS_EVE + timedelta(minutes=i)) for i in range(2)]
    after = [one_of_each(crm, 10 + i, NEW_YEAR + timedelta(minutes=i)) for i in range(3)]
    assert [b[0].number for b in before] == ["KH2026-000001", "KH2026-000002"]
    assert [a[0].number for a in after] == ["KH2027-000001", "KH2027-000002", "KH2027-000003"]
    assert [a[1].number for a in after] == ["A2027-00001", "A2027-00002", "A2027-00003"]
    assert before[1][2].number.startswith("2026") or "2026" in before[1][2].number
    assert "2027" in after[0][2].number and after[0][2].number.endswith("1")
    assert crm.count("customer", "created_at < '2027-01-01'") == 2
    assert crm.count("customer", "created_at >= '2027-01-01'") == 3
    assert crm.count("followup_card", "card_date < '2027-01-01'") == 2
    assert crm.count("complaint", "received_at >= '2027-01-01'") == 3
    assert crm.count("grade_application") == 5
    chief = crm.actor("section_chief")
    crm.clock.now = datetime(2027, 1, 4, 9, 0)
    dec = reports.pack(crm.svc, chief, "month", date(2026, 12, 15))
    jan = reports.pack(crm.svc, chief, "month", date(2027, 1, 4))
    assert (dec.summary.new_customers, dec.summary.complaints, dec.summary.cards_opened) == (2, 2, 2)
    assert (jan.summary.new_customers, jan.summary.complaints, jan.summary.cards_opened) == (3, 3, 3)
    assert jan.previous.new_customers == 2  # the previous month is December of the year before


def test_weekly_report_of_the_week_holding_1_january(crm: Crm, tmp_path: Path) -> None:
    load_2027(crm, tmp_path)
    one_of_each(crm, 1, datetime(2026, 12, 28, 10, 0))  # Monday of that week
    one_of_each(crm, 2, NEW_YEARS_EVE)
    one_of_each(crm, 3, NEW_YEAR)
    one_of_each(crm, 4, datetime(2027, 1, 3, 20, 0))  # Sunday, its last day
    one_of_each(crm, 5, datetime(2027, 1, 4, 9, 0))  # the next week
    crm.clock.now = datetime(2027, 1, 4, 10, 0)
    pack = reports.pack(crm.svc, crm.actor("section_chief"), "week", date(2027, 1, 1))
    assert (pack.period.start, pack.period.end) == (date(2026, 12, 28), date(2027, 1, 3))
    assert (pack.summary.new_customers, pack.summary.complaints, pack.summary.cards_opened) == (4, 4, 4)
    assert pack.previous.period.start == date(2026, 12, 21)
    assert [w.week for w in pack.weeks] == dr.weeks_ending(date(2027, 1, 1), 12)  # up to the week itself
    assert [w.new_customers for w in pack.weeks][-2:] == [0, 4]
    text = reports.pack_text(pack)
    assert "2026-12-28 – 2027-01-03" in text


def test_twelve_week_series_across_the_year(crm: Crm, tmp_path: Path) -> None:
    load_2027(crm, tmp_path)
    one_of_each(crm, 1, datetime(2026, 11, 2, 10, 0))  # eleven weeks before the week of 2027-01-11
    one_of_each(crm, 2, NEW_YEARS_EVE)
    one_of_each(crm, 3, NEW_YEAR)
    one_of_each(crm, 4, datetime(2027, 1, 11, 9, 0))
    crm.clock.now = datetime(2027, 1, 13, 10, 0)
    dash = reports.dashboard(crm.svc, crm.actor("section_chief"), items=False)
    weeks = [w.week for w in dash.weeks]
    assert weeks == dr.weeks_ending(date(2027, 1, 13), 12)
    assert weeks[0] == date(2026, 10, 26) and weeks[-1] == date(2027, 1, 11)
    assert all(b - a == timedelta(weeks=1) for a, b in zip(weeks, weeks[1:]))
    by_week = {w.week: w.new_customers for w in dash.weeks}
    assert by_week[date(2026, 11, 2)] == 1
    assert by_week[date(2026, 12, 28)] == 2  # 31 December and 1 January: one week
    assert by_week[date(2027, 1, 11)] == 1
    assert sum(by_week.values()) == 4
    assert sum(w.complaints for w in dash.weeks) == 4


def test_deadlines_over_new_year_and_the_loaded_spring_festival(crm: Crm, tmp_path: Path) -> None:
    load_2027(crm, tmp_path)
    # Thursday 31 December: H is 2 working days; 1 January is a day off, 2-3 January a weekend
    _ref, card, ticket, _app = one_of_each(crm, 1, datetime(2026, 12, 31, 10, 0))
    assert fu.get_card(crm.svc, crm.manager, card.id).next_due == date(2027, 1, 5)
    t = cp.get_ticket(crm.svc, crm.manager, ticket.id)
    assert t.clock.due_at is not None and t.clock.due_at.year == 2027 and t.clock.due_at.date() != date(2027, 1, 1)
    assert hol.mark(t.clock.due_at) == ""
    # Friday 5 February 2027 at H: the make-up Sunday counts, the Spring Festival week does not
    _ref, card, _t, _app = one_of_each(crm, 2, datetime(2027, 2, 5, 15, 0))
    assert fu.get_card(crm.svc, crm.manager, card.id).next_due == date(2027, 2, 15)
    # and the customer's field maintenance deadline counts working days the same way
    view = cs.get_customer(crm.svc, crm.manager, _ref.id)
    if view.incomplete_due is not None:
        assert hol.work_calendar(crm.svc).is_workday(view.incomplete_due.date())


def test_grade_review_period_ending_on_31_december(crm: Crm, tmp_path: Path) -> None:
    admin = crm.actor("admin")
    load_2027(crm, tmp_path)
    crm.clock.now = datetime(2026, 10, 8, 9, 0)
    pid = gs.open_period(crm.svc, admin, "2026年第四季度评定", "2026-10-01", "2026-12-31")
    crm.clock.now = datetime(2026, 12, 31, 16, 0)  # the period's last day
    due = gs.close_period(crm.svc, admin, pid)
    # 3 working days after Thursday 31 December: 1 January off, 2-3 weekend -> 4, 5, 6 January
    assert due == datetime(2027, 1, 6, 17, 30)
    [period] = [p for p in gs.periods(crm.svc, admin) if p.id == pid]
    assert period.review_due == due
    # a schedule change that moves 4 January recomputes the open review deadline, audited
    hol.set_day(crm.svc, admin, "2027-01-04", "休", "元旦调休")
    [period] = [p for p in gs.periods(crm.svc, admin) if p.id == pid]
    assert period.review_due == datetime(2027, 1, 7, 17, 30)


def test_pending_grade_apply_deadline_is_recomputed(crm: Crm, tmp_path: Path) -> None:
    crm.clock.now = datetime(2027, 2, 5, 10, 0)
    cid = cs.create_customer(crm.svc, crm.manager, "person", {"name": "王五"}, phones=[PhoneInput("13900139000")]).id
    app = gs.file_application(crm.svc, crm.manager, cid, "B", "年度合作金额增长")
    gs.approve_chief(crm.svc, crm.actor("section_chief"), app)
    gs.approve_deputy(crm.svc, crm.actor("deputy_manager"), app)
    assert gs.get_application(crm.svc, crm.manager, app).apply_due == datetime(2027, 2, 8, 17, 30)
    change = hol.import_file(crm.svc, crm.actor("admin"), _write(tmp_path))
    # 1 working day after Friday 10:00: Sunday 7 February is a make-up working day
    assert gs.get_application(crm.svc, crm.manager, app).apply_due == datetime(2027, 2, 7, 17, 30)
    assert "grade_application" in {m.what for m in change.moved}


def _write(tmp_path: Path) -> Path:
    p = tmp_path / "s.csv"
    p.write_text(SCHEDULE_2027, encoding="utf-8")
    return p
