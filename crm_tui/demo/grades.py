"""Demo grade changes: applications in every state, walked through the real services by the demo
accounts at past working times, so the queues, the home counts, the timelines and the audit trail
all have something to show (issue 8). Deterministic from the services' clock and the customers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from crm_tui.domain import grades as dg
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.customers import load_policy
from crm_tui.services import grades as gs
from crm_tui.services import staff
from crm_tui.services.context import Actor, Services
from crm_tui.store.queries import demo as demo_q

_REASONS = {
    "up": ("年度合作金额明显增长，信用记录良好，申请上调客户等级。", "新增车队采购合同，合作规模扩大。",
           "连续三年按时付款，已成为重要合作伙伴。", "客户追加订单，合作潜力大。"),
    "down": ("近半年无新增业务，合作规模下降。", "出现付款逾期，信用状况变差。", "客户业务收缩，采购需求减少。"),
    "new": ("首次定级：按等级标准评定。", "新签约客户，按合作规模与信用定级。"),
}
_EVIDENCE = ("2026年合同台账、回款记录", "信用报告及银行流水", "客户经理拜访记录", "")
_COMMENTS = ("情况属实，同意。", "同意，按标准执行。", "资料齐全，同意。", "")
_REJECTS = ("依据不足，请补充近一年合同金额后再申请。", "合作年限未达到标准要求。")
_ACK = ("已备案。", "已登记备案。", "")


def _actor(svc: Services, username: str) -> Actor:
    row = staff.get_staff(svc, username)
    return Actor(row.id, row.username, row.display_name, frozenset(row.roles))


def seed_grades(svc: Services) -> int:
    """Walk demo applications through the flow; returns how many were filed."""
    cal = WorkCalendar()
    now = svc.now()
    people = {u: _actor(svc, u) for u in ("jingli", "jingli2", "kezhang", "fujingli", "neiguan", "admin")}
    pol = load_policy()
    std = gs.standard(svc)
    # working days before today, newest first
    days = []
    d = now.date()
    while len(days) < 45:
        d -= timedelta(days=1)
        if cal.is_workday(d):
            days.append(d)
    with svc.store.read() as s:
        rows = demo_q.grade_candidates(s, datetime.combine(days[-1], time(0)), 400)
    picks = []
    for r in rows:
        sug = dg.suggest_grade(std, r, now.date(), credit_order=list(pol.credit_ratings),
                               risk_order=list(pol.risk_ratings), size_order=list(pol.sizes))
        picks.append((r, sug or "D"))
    real_clock: Callable[[], datetime] = svc.clock

    def at(day_index: int, hh: int, mm: int = 0) -> None:
        moment = datetime.combine(days[day_index], time(hh, mm))
        svc.clock = lambda: moment

    # (final state, how many): history first, then the open work
    plan = [("acknowledged", 24), ("rejected_chief", 2), ("rejected_deputy", 1), ("applied", 3),
            ("approved_late", 1), ("approved", 2), ("chief_approved", 2), ("submitted", 3)]
    n = 0
    try:
        for state, count in plan:
            for _i in range(count):
                if n >= len(picks):
                    return n
                row, target = picks[n]
                if state in ("submitted", "chief_approved") and n > 32:
                    # a second change for customers graded above: one grade up or down
                    k = n - 33
                    row = dict(picks[k][0], grade=picks[k][1])
                    order = list(std.grades)
                    i = order.index(row["grade"])
                    target = order[i - 1] if k % 2 == 0 and i > 0 else order[min(i + 1, len(order) - 1)]
                if target == row["grade"]:
                    target = "C" if target != "C" else "B"
                applicant = people["jingli"] if n % 3 else people["jingli2"]
                # older steps further back; open ones recent
                base = {"acknowledged": 40 - n, "rejected_chief": 12, "rejected_deputy": 10, "applied": 3,
                        "approved_late": 6, "approved": 1, "chief_approved": 1, "submitted": 0}[state]
                direction = std.direction(row["grade"], target)
                reason = _REASONS[direction][n % len(_REASONS[direction])]
                at(base + 2 if base + 2 < len(days) else len(days) - 1, 9, 20 + n)
                if state == "submitted":
                    at(0, 16, 10 + n)
                app = gs.file_application(svc, applicant, row["id"], target, reason, _EVIDENCE[n % len(_EVIDENCE)])
                n += 1
                if state == "submitted":
                    continue
                at(base + 1, 10, 15)
                if state == "rejected_chief":
                    gs.reject_chief(svc, people["kezhang"], app, _REJECTS[n % 2])
                    continue
                gs.approve_chief(svc, people["kezhang"], app, _COMMENTS[n % len(_COMMENTS)])
                if state == "chief_approved":
                    continue
                if state == "approved":
                    svc.clock = lambda: now - timedelta(hours=1)
                else:
                    at(base + 1 if base + 1 < len(days) else len(days) - 1, 15, 40)
                if state == "rejected_deputy":
                    gs.reject_deputy(svc, people["fujingli"], app, _REJECTS[(n + 1) % 2])
                    continue
                gs.approve_deputy(svc, people["fujingli"], app, _COMMENTS[(n + 1) % len(_COMMENTS)])
                if state in ("approved", "approved_late"):
                    continue
                at(base, 10, 5)
                gs.apply_change(svc, people["kezhang"], app)
                if state == "applied":
                    continue
                at(max(base - 1, 0), 14, 30)
                gs.acknowledge(svc, people["neiguan"], app, _ACK[n % len(_ACK)])
        # a review period: the last quarter, closed after it ended and reviewed within 3 working days
        q = (now.month - 1) // 3  # this quarter, 0-based
        year, q = (now.year, q - 1) if q else (now.year - 1, 3)
        start = datetime(year, q * 3 + 1, 1)
        end = (datetime(year + (q == 3), 1 if q == 3 else q * 3 + 4, 1) - timedelta(days=1)).date()

        def moment(m: datetime) -> None:
            svc.clock = lambda: m

        moment(start.replace(hour=9))
        pid = gs.open_period(svc, people["admin"], f"{year}年第{'一二三四'[q]}季度等级评定", start.date(), end)
        closing = cal.next_workday(end)
        moment(datetime.combine(closing, time(17, 0)))
        gs.close_period(svc, people["admin"], pid)
        moment(datetime.combine(cal.add_workdays(closing, 2), time(16, 0)))
        gs.mark_reviewed(svc, people["kezhang"], pid)
    finally:
        svc.clock = real_clock
    return n
