"""Demo follow-up cards, visits and front-desk register lines (issue 6).

Deterministic from ``seed`` and the services' clock. Written through the follow-up services (so
every row is validated and audited like real work) with the clock moved back to the time of each
step: the consultants 王建国 and 赵丽华 have visits overdue, due today and due this week; some
cards are won or lost; a few cards wait for the supervisor's signature; today's register has
walk-ins and calls, half of them matched to archives.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from crm_tui.domain import followups as fd
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.services import followups as fu
from crm_tui.services.context import Actor, Services
from crm_tui.store.queries import demo as demo_q

DEFAULT_SEED = 20261201
_PRODUCTS = ("途观L 330TSI", "帕萨特 380TSI", "ID.4 CROZZ", "朗逸 1.5L", "探岳 GTE", "威然 380TSI", "速腾 300TSI")
_CONFIGS = ("豪华版，白色", "舒适版，灰色内饰", "四驱旗舰版", "标准续航版", "智联版，加装全景天窗")
_BUDGETS = ("15万左右", "20-25万", "30万以内", "12万", "40万左右")
_USES = ("家庭日常代步", "上下班通勤", "商务接待", "自驾游", "公司公务用车")
_ALTS = ("丰田凯美瑞", "本田CR-V", "比亚迪宋PLUS", "特斯拉Model Y", "别克GL8", "")
_SUMMARIES = ("夫妻二人到店，重点看了SUV，关心油耗和后排空间", "电话咨询新能源车型续航和充电桩安装",
              "老客户介绍来店，想置换家里的旧车", "看到网络广告来电，询问本月优惠", "车展留资，首次到店试驾")
_FAVOURABLE = ("预算充足，购车意向明确", "家人支持，已有驾照", "对品牌认可度高", "")
_UNFAVOURABLE = ("还在对比竞品", "对价格敏感", "提车时间要求紧", "")
_RESOURCES = ("需要申请额外优惠", "安排试驾车", "金融专员介绍贷款方案", "")
_VISIT_CONTENT = ("电话回访，介绍本周末试驾活动", "客户到店二次看车，详细讲解配置差异", "微信发送最新报价和金融方案",
                  "上门拜访，带客户看样车", "电话沟通置换评估结果", "短信提醒客户参加新车品鉴会")
_FEEDBACK = ("对价格基本满意", "还要和家人商量", "希望再送一次保养", "对试驾感受很好", "")
_OBJECTIONS = ("要求降价五千", "担心保值率", "希望送贴膜和脚垫", "对提车时间有顾虑", "")
_NEXT = ("周末邀约试驾", "发送贷款方案", "等待客户家人意见", "申请特价后回复", "")
_LOST = ("已购买竞品", "预算不足，暂缓购车", "家人不同意", "联系不上客户")
_NAMES = ("周先生", "吴女士", "郑先生", "冯女士", "陈先生", "褚女士", "卫先生", "蒋女士", "沈先生", "韩女士")
_COMPANIONS = ("妻子", "丈夫和孩子", "朋友", "父母", "")
_LEVEL_WEIGHTS = (("H", 3), ("A", 4), ("B", 4), ("C", 3), ("N", 2))


def _actor(svc: Services, username: str) -> Actor:
    with svc.store.read() as s:
        r = demo_q.staff_with_roles(s, username)
    assert r is not None, username
    return Actor(r.id, username, r.display_name, r.roles)


def _at(day: date, rnd: random.Random) -> datetime:
    return datetime.combine(day, time(9, 30)) + timedelta(minutes=rnd.randrange(0, 7 * 60, 5))


def seed_followups(svc: Services, seed: int = DEFAULT_SEED, cards: int = 60) -> int:
    """The demo database's follow-up data (called from ``crm_tui.demo.seed``); returns the card count."""
    rnd = random.Random(seed)
    real_clock: Callable[[], datetime] = svc.clock
    now = real_clock()
    today = now.date()
    cal = WorkCalendar()
    levels = [c for c, w in _LEVEL_WEIGHTS for _i in range(w)]
    consultants = {u: _actor(svc, u) for u in ("jingli", "jingli2", "kezhang")}
    desk = _actor(svc, "qiantai")
    chief = _actor(svc, "kezhang")
    deputy = _actor(svc, "fujingli")
    sources = list(fu.customer_policy().sources)
    with svc.store.read() as s:
        pool = {u: demo_q.person_ids_of_owner(s, a.staff_id, 80) for u, a in consultants.items()}
    order = ["jingli", "jingli2", "jingli", "jingli2", "kezhang"]
    # Plan every card's story first, then replay all steps in time order (the audit trail stays
    # chronological, as real work would leave it).
    events: list[tuple[datetime, int, str, int, Actor, dict[str, str]]] = []
    seq = 0

    def plan(t: datetime, kind: str, card: int, actor: Actor, payload: dict[str, str]) -> None:
        nonlocal seq
        seq += 1
        events.append((t, seq, kind, card, actor, payload))

    for i in range(cards):
        username = order[i % len(order)]
        actor = consultants[username]
        if not pool[username]:
            continue
        customer_id = pool[username].pop(rnd.randrange(len(pool[username])))
        start = today
        for _k in range(rnd.randint(1, 25)):  # opened 1-25 working days ago
            start -= timedelta(days=1)
            while not cal.is_workday(start):
                start -= timedelta(days=1)
        level = rnd.choice(levels)
        plan(_at(start, rnd), "card", i, actor, {
            "customer_id": str(customer_id), "first_reception_date": start.isoformat(), "intent_level": level,
            "source": rnd.choice(sources), "product": rnd.choice(_PRODUCTS), "configuration": rnd.choice(_CONFIGS),
            "budget": rnd.choice(_BUDGETS), "purchase_method": rnd.choice(("full", "instalment", "loan", "undecided")),
            "intended_use": rnd.choice(_USES), "alternatives": rnd.choice(_ALTS),
            "first_reception_summary": rnd.choice(_SUMMARIES), "favourable": rnd.choice(_FAVOURABLE),
            "unfavourable": rnd.choice(_UNFAVOURABLE), "resources_needed": rnd.choice(_RESOURCES),
            "next_visit_plan": rnd.choice(_NEXT)})
        due = fd.next_visit_due(cal, start, fd.load_policy().levels[level])
        while due is not None and due < today:  # a visit on each past due day; some are left overdue
            if username != "kezhang" and rnd.random() < 0.18:
                break
            roll = rnd.random()
            new_level = "O" if roll < 0.1 else "F" if roll < 0.17 else rnd.choice(levels)
            payload = {"method": rnd.choice(("call", "call", "store", "wechat", "home", "sms")),
                       "content": rnd.choice(_VISIT_CONTENT), "participants": rnd.choice(("客户本人", "客户及家人", "")),
                       "feedback": rnd.choice(_FEEDBACK), "objections": rnd.choice(_OBJECTIONS),
                       "next_action": rnd.choice(_NEXT), "level": new_level}
            if new_level == "F":
                payload["lost_reason"] = rnd.choice(_LOST)
            plan(_at(due, rnd), "visit", i, actor, payload)
            due = fd.next_visit_due(cal, due, fd.load_policy().levels[new_level])
        if i % 7 != 3 and start < today - timedelta(days=4):  # some cards stay unsigned
            reviewer = chief if actor.staff_id != chief.staff_id else deputy
            t = _at(cal.add_workdays(start, rnd.randint(1, 2)), rnd)
            if t < now:
                plan(t, "review", i, reviewer, {"comment": rnd.choice(("信息完整，按计划跟进", "注意及时回访",
                                                                       "预算与车型匹配，抓紧邀约试驾"))})
    made = 0
    ids: dict[int, int] = {}
    try:
        for t, _seq, kind, card, actor, payload in sorted(events, key=lambda e: (e[0], e[1])):
            svc.clock = lambda t=t: t
            if kind == "card":
                raw = dict(payload)
                ids[card] = fu.create_card(svc, actor, int(raw.pop("customer_id")), raw).id
                made += 1
            elif kind == "visit":
                fu.log_visit(svc, actor, ids[card], payload)
            else:
                fu.sign_review(svc, actor, ids[card], payload["comment"])
        # today's register: walk-ins and calls, mostly linked to archives
        svc.clock = real_clock
        morning = datetime.combine(today, time(9, 0))
        for j in range(8):
            t = morning + timedelta(minutes=25 * j + rnd.randrange(0, 20))
            if t > now:
                break
            svc.clock = lambda t=t: t
            kind = "call" if j % 3 == 2 else "walk_in"
            name, customer_id = rnd.choice(_NAMES), None
            if j % 2 == 0 and pool["jingli"]:
                customer_id = pool["jingli"].pop(0)
                with svc.store.read() as s:
                    name = demo_q.customer_name(s, customer_id)
            fu.add_register(svc, desk, {
                "name": name, "phone": f"13{rnd.randrange(5, 10)}{rnd.randrange(10**8):08d}",
                "companions": rnd.choice(_COMPANIONS) if kind == "walk_in" else "",
                "product": rnd.choice(_PRODUCTS), "source": "walk_in" if kind == "walk_in" else "phone",
                "summary": rnd.choice(_SUMMARIES), "kind": kind, "trial": "yes" if rnd.random() < 0.3 else "no"},
                consultant="jingli" if customer_id else rnd.choice(("jingli", "jingli2")), customer_id=customer_id)
    finally:
        svc.clock = real_clock
    return made
