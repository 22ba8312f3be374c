"""Demo complaints: realistic tickets in every state (one overdue in the section chief's queue, one
at risk, one waiting for the customer, one reopened) and praise, suggestions, grumbles and
satisfaction surveys on the archives. Deterministic for a given clock: each ticket is walked
through the real services with the clock set back in time, so events, deadlines and the audit
trail are exactly what the app would have written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from crm_tui.domain.complaints import load_policy
from crm_tui.services import complaints as cp
from crm_tui.services import staff
from crm_tui.services.context import Actor, Services
from crm_tui.store.queries import demo as demo_q

# (working minutes before now received, severity, category, channel, description, demand, final step, steps ...)
# steps: ("assign", who) ("solve", text) ("feed", result, reasons, method) ("visit", notes, score)
#        ("close", cause, measure) ("reopen", reason) ("pause", reason)
_TICKETS: list[tuple[int, str, str, str, str, str, list[tuple]]] = [
    (180, "major", "privacy/misuse", "phone", "客户称其购车信息被泄露给保险推销人员，近一周接到多个推销电话。",
     "查明信息泄露原因并书面道歉", []),
    (48, "major", "service/waiting", "in_person", "周六上午到店保养，排队等候一个半小时无人安排。",
     "改进预约和接待安排", []),
    (300, "serious", "product/repair", "phone", "新车交付两周后空调异响，第一次维修后仍未解决。",
     "更换空调压缩机", [("assign", "jingli")]),
    (600, "normal", "billing/invoice", "email", "购车发票抬头开错，要求重开，已等待三天。",
     "尽快重开发票", [("assign", "jingli2")]),
    (840, "serious", "product/delivery", "phone", "合同约定交车日期已过五天，销售顾问未主动说明原因。",
     "说明延误原因并给予补偿", [("assign", "jingli"), ("pause", "等客户提供合同原件核对交车条款")]),
    (1200, "normal", "service/attitude", "online", "网上评价反映销售顾问催促签单，态度生硬。",
     "销售顾问当面道歉", [("assign", "jingli"), ("solve", "调阅接待录音，确认顾问有催促行为，已进行批评教育。")]),
    (1560, "normal", "billing/price", "letter", "来信反映保养套餐价格与宣传单不一致，多收二百元。",
     "退还差价", [("assign", "jingli2"), ("solve", "核对宣传单与系统价格，系统未及时更新，应退差价。")]),
    (1800, "serious", "product/quality", "in_person", "车辆天窗漏水，雨天座椅被淋湿。",
     "免费维修并清洗内饰",
     [("assign", "jingli"), ("solve", "更换天窗密封条并清洗座椅。"),
      ("feed", "已免费更换密封条并清洗内饰", "密封条装配不到位，属质量问题，按三包规定免费处理", "当面")]),
    (2280, "normal", "service/promise", "phone", "销售承诺赠送的脚垫和行车记录仪一直未兑现。",
     "补送赠品",
     [("assign", "jingli2"), ("solve", "核实购车协议，赠品确应赠送，已从库房调货。"),
      ("feed", "赠品已备齐，客户约定周末到店领取", "交车时库存不足，未登记补送，属工作疏漏", "电话")]),
    (3600, "normal", "service/waiting", "phone", "电话预约保养多次占线，无法接通。",
     "增加预约渠道",
     [("assign", "jingli"), ("solve", "增加一条预约热线并开通微信预约。"),
      ("feed", "已增开预约热线和微信预约", "高峰期仅一条线路，接听能力不足", "电话"),
      ("visit", "客户表示已通过微信顺利预约", 5), ("close", "预约渠道单一，高峰期接听能力不足", "增开热线和微信预约，每月统计接通率")]),
    (4200, "serious", "product/repair", "in_person", "刹车片更换后仍有异响，客户担心安全。",
     "彻底检修并出具检测报告",
     [("assign", "jingli2"), ("solve", "重新检测制动系统，更换原厂刹车片并出具报告。"),
      ("feed", "已更换原厂刹车片，检测合格", "上次使用的副厂件与车型匹配不佳", "当面"),
      ("visit", "客户表示异响消失，但对第一次维修不满", 3), ("close", "维修使用了匹配不佳的配件", "维修配件一律使用原厂件，领料双人核对")]),
    (5400, "normal", "billing/invoice", "email", "保险续保发票迟迟未寄出。",
     "尽快寄出发票",
     [("assign", "jingli"), ("solve", "补开发票并快递寄出。"),
      ("feed", "发票已快递，附单号", "财务月底结账积压", "电话"),
      ("visit", "客户已收到发票，表示满意", 4), ("close", "月底集中开票造成积压", "续保发票改为出单当日开具")]),
    (6600, "serious", "product/delivery", "phone", "订购车型颜色与合同不符，交车时才发现。",
     "更换为合同约定颜色",
     [("assign", "jingli"), ("solve", "协调厂家调配合同约定颜色车辆。"),
      ("feed", "已调到合同颜色车辆，约定交车日期", "订单录入时颜色代码录错", "当面"),
      ("visit", "客户对等待时间仍不满意", 2), ("reopen", "客户要求对延误交车给予补偿"),
      ("solve", "赠送两次免费保养作为补偿。")]),
]

_FEEDBACK = [
    ("praise", "销售顾问讲解耐心细致，试驾安排很周到。", None),
    ("suggestion", "希望周末延长营业时间到晚上八点。", None),
    ("grumble", "停车场收费标准不清楚，出场时才知道要收费。", None),
    ("survey", "对交车流程满意，等待时间稍长。", 4),
    ("praise", "维修师傅主动告知保养注意事项，很专业。", None),
    ("grumble", "休息区饮水机没有热水。", None),
    ("survey", "", 5),
    ("suggestion", "建议开通线上支付保养费用。", None),
]


def _actor(svc: Services, username: str) -> Actor:
    row = staff.get_staff(svc, username)
    return Actor(row.id, row.username, row.display_name, frozenset(row.roles))


class _SteppedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def seed_complaints(svc: Services) -> int:
    """Walk the demo tickets through the services; returns how many tickets were made."""
    now = svc.now().replace(second=0, microsecond=0)
    cal = load_policy().calendar()
    with svc.store.read() as s:
        customers = demo_q.customer_ids(s, 40)
    if len(customers) < len(_TICKETS) + len(_FEEDBACK):
        return 0
    people = {u: _actor(svc, u) for u in ("qiantai", "jingli", "jingli2", "kezhang")}
    desk, chief = people["qiantai"], people["kezhang"]
    original = svc.clock
    clock = _SteppedClock(now)
    svc.clock = clock
    try:
        for i, (minutes_ago, sev, cat, channel, desc, demand, steps) in enumerate(_TICKETS):
            received = _working_minutes_before(cal, now, minutes_ago)
            clock.now = received
            ref = cp.file_complaint(svc, desk, customers[i], {
                "channel": channel, "category": cat, "severity": sev, "description": desc, "demand": demand,
                "ack_method": channel})
            handler = chief
            for step in steps:
                clock.now = min(cal.add_working_minutes(clock.now, 50), now)
                kind = step[0]
                run: Callable[[], object]
                if kind == "assign":
                    handler = people[step[1]]
                    run = lambda: cp.assign(svc, chief, ref.id, step[1])  # noqa: E731
                elif kind == "solve":
                    clock.now = min(cal.add_working_minutes(clock.now, 240), now)
                    run = lambda: cp.solve(svc, handler, ref.id, step[1])  # noqa: E731
                elif kind == "feed":
                    run = lambda: cp.feed_back(svc, handler, ref.id, step[1], step[2], step[3])  # noqa: E731
                elif kind == "visit":
                    clock.now = min(cal.add_working_minutes(clock.now, 600), now)
                    run = lambda: cp.return_visit(svc, handler, ref.id, "电话回访", step[1], step[2])  # noqa: E731
                elif kind == "close":
                    run = lambda: cp.close(svc, handler, ref.id, step[1], step[2])  # noqa: E731
                elif kind == "reopen":
                    run = lambda: cp.reopen(svc, desk, ref.id, step[1])  # noqa: E731
                else:
                    run = lambda: cp.pause(svc, handler, ref.id, step[1])  # noqa: E731
                run()
        for j, (kind, body, score) in enumerate(_FEEDBACK):
            clock.now = _working_minutes_before(cal, now, (60 - j * 7) * 60)
            fid = cp.add_feedback(svc, desk, customers[len(_TICKETS) + j], kind, body, score)
            if kind == "grumble" and j == 2:
                clock.now = min(cal.add_working_minutes(clock.now, 30), now)
                cp.grumble_to_ticket(svc, desk, fid, category="billing/price")
    finally:
        svc.clock = original
    return len(_TICKETS) + 1


def _working_minutes_before(cal, now: datetime, minutes: int) -> datetime:  # type: ignore[no-untyped-def]
    """The instant ``minutes`` working minutes before ``now``."""
    t = now
    left = minutes
    while left > 0:
        t -= timedelta(minutes=1)
        if cal.is_working_time(t):
            left -= 1
    return t
