"""Follow-up cards, visits, complaints and grade changes for a generated customer file (issue 5).

A second pass over the customers already in the file (``gen.py`` runs it after the customers, or
alone with ``--areas-only`` on an existing file), deterministic from the seed and ``--batch``: the
customers are read in id order, ``batch`` at a time, and each one draws its stories from one
random stream, so the same file, seed and batch always give the same rows.

Every row is one the services could have written: each story is played as the services would
play it - ``create_card`` / ``log_visit`` / ``close_card`` / ``sign_review``;
``file_complaint`` / ``assign`` / ``pause`` / ``resume`` / ``solve`` / ``feed_back`` /
``return_visit`` / ``close`` / ``reopen``; ``file_application`` / the two approvals or a rejection /
``apply_change`` / ``acknowledge`` - by the accounts whose roles allow the step, with the same
state machine (``domain.followups``, ``domain.complaints``, ``domain.grades``), the same
deadlines (``WorkCalendar``: visit cadence, review and apply deadlines, the complaint clock
computed by ``domain.complaints.clock`` after every step), the same ``complaint_event`` rows,
and the same audit entries (details and personal-value commitments, hash-chained after the
file's last entry). A step that would fall after the generated world's NOW is not taken, so
recent stories stay open: visits due today, this week and overdue, tickets at risk or overdue,
applications waiting for a decision.

Ratios (per customer, see README.md): a follow-up card for 30 % (1-5 visits each; outcomes
won 40 %, lost 51 %, void 6 %, left open and overdue 3 % (cards of the last 180 days; older ones
lost); stories still running at NOW stay open; signed by a supervisor: 99 % of cards older than
60 days, 85 % of newer ones);
a complaint for 2 %; a grade change application for 1 % (a fifth of them a second one later). A
tenth of the complaints and first applications fall in the last two weeks, so the open queues
(every ticket state, at risk and overdue; every approval stage) have work at every size.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timedelta
from typing import Any

from crm_tui.domain import audit as chain
from crm_tui.domain import complaints as dc
from crm_tui.domain import followups as fd
from crm_tui.domain import grades as dg
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.customers import load_policy as customer_policy
from crm_tui.store.audit import HASH_HEX, compact_details

CARD_SHARE = 0.30
COMPLAINT_SHARE = 0.02
GRADE_SHARE = 0.01
RECENT_SHARE = 0.10  # of complaints and grade applications: received/filed in the last two weeks
SEED_XOR = 0xA2EA5  # the areas' random streams differ from the customers'

_PRODUCTS = ("途观L 330TSI", "帕萨特 380TSI", "ID.4 CROZZ", "朗逸 1.5L", "探岳 GTE", "威然 380TSI", "速腾 300TSI",
             "迈腾 330TSI", "ID.3 纯净版", "凌渡L 280TSI")
_CONFIGS = ("豪华版，白色", "舒适版，灰色内饰", "四驱旗舰版", "标准续航版", "智联版，加装全景天窗", "")
_BUDGETS = ("15万左右", "20-25万", "30万以内", "12万", "40万左右", "")
_USES = ("家庭日常代步", "上下班通勤", "商务接待", "自驾游", "公司公务用车", "")
_ALTS = ("丰田凯美瑞", "本田CR-V", "比亚迪宋PLUS", "特斯拉Model Y", "别克GL8", "")
_SUMMARIES = ("夫妻二人到店，重点看了SUV，关心油耗和后排空间", "电话咨询新能源车型续航和充电桩安装",
              "老客户介绍来店，想置换家里的旧车", "看到网络广告来电，询问本月优惠", "车展留资，首次到店试驾",
              "公司采购负责人来店了解团购政策")
_FAVOURABLE = ("预算充足，购车意向明确", "家人支持，已有驾照", "对品牌认可度高", "")
_UNFAVOURABLE = ("还在对比竞品", "对价格敏感", "提车时间要求紧", "")
_RESOURCES = ("需要申请额外优惠", "安排试驾车", "金融专员介绍贷款方案", "")
_VISIT_CONTENT = ("电话回访，介绍本周末试驾活动", "客户到店二次看车，详细讲解配置差异", "微信发送最新报价和金融方案",
                  "上门拜访，带客户看样车", "电话沟通置换评估结果", "短信提醒客户参加新车品鉴会")
_VISIT_FEEDBACK = ("对价格基本满意", "还要和家人商量", "希望再送一次保养", "对试驾感受很好", "")
_OBJECTIONS = ("要求降价五千", "担心保值率", "希望送贴膜和脚垫", "对提车时间有顾虑", "")
_NEXT = ("周末邀约试驾", "发送贷款方案", "等待客户家人意见", "申请特价后回复", "")
_PARTICIPANTS = ("客户本人", "客户及家人", "客户及朋友", "")
_LOST = ("已购买竞品", "预算不足，暂缓购车", "家人不同意", "联系不上客户")
_VOID = ("重复建卡，已合并到原有A卡", "误建：客户只是来店咨询保养", "客户信息登记错误，重新建卡")
_REVIEW = ("信息完整，按计划跟进", "注意及时回访", "预算与车型匹配，抓紧邀约试驾", "补充竞品信息")
_OPEN_LEVELS = (("H", 3), ("A", 4), ("B", 4), ("C", 3), ("N", 2))
_METHODS = ("call", "call", "store", "wechat", "home", "sms")

_TICKETS = (  # category, description, demand
    ("privacy/misuse", "客户称其购车信息被泄露给保险推销人员，近一周接到多个推销电话。", "查明信息泄露原因并书面道歉"),
    ("service/waiting", "周六上午到店保养，排队等候一个半小时无人安排。", "改进预约和接待安排"),
    ("product/repair", "新车交付两周后空调异响，第一次维修后仍未解决。", "更换空调压缩机"),
    ("billing/invoice", "购车发票抬头开错，要求重开，已等待三天。", "尽快重开发票"),
    ("product/delivery", "合同约定交车日期已过五天，销售顾问未主动说明原因。", "说明延误原因并给予补偿"),
    ("service/attitude", "网上评价反映销售顾问催促签单，态度生硬。", "销售顾问当面道歉"),
    ("billing/price", "来信反映保养套餐价格与宣传单不一致，多收二百元。", "退还差价"),
    ("product/quality", "车辆天窗漏水，雨天座椅被淋湿。", "免费维修并清洗内饰"),
    ("service/promise", "销售承诺赠送的脚垫和行车记录仪一直未兑现。", "补送赠品"),
)
_SOLUTIONS = ("调阅接待录音并核实情况，已对相关人员进行批评教育。", "核对系统记录，确属我方问题，按规定处理。",
              "协调厂家和库房，安排补救措施。", "重新检测并更换原厂配件，出具检测报告。")
_RESULTS = (("已按客户诉求处理完毕", "经核实属我方工作疏漏", "电话"), ("已免费维修并告知处理结果", "配件质量问题，按三包规定处理", "当面"),
            ("已退还差价并致歉", "系统价格未及时更新", "电话"), ("已补送赠品", "交车时库存不足，未登记补送", "微信"))
_VISIT_NOTES = ("客户表示满意", "客户认可处理结果，但对等待时间不满", "客户表示问题已解决", "客户仍有意见")
_CAUSES = (("接待流程不规范", "完善接待流程并组织培训"), ("配件管理疏漏", "维修配件一律使用原厂件，领料双人核对"),
           ("系统信息更新不及时", "价格调整当日同步更新系统和宣传资料"), ("工作交接遗漏", "建立赠品登记台账，交车前逐项核对"))
_PAUSES = ("等客户提供合同原件核对条款", "客户出差，约定下周面谈", "等待厂家技术鉴定结果")
_REOPEN = ("客户对处理结果不满意，要求重新处理", "问题再次出现，客户要求彻底解决")

_G_REASONS = {
    "up": ("年度合作金额明显增长，信用记录良好，申请上调客户等级。", "新增车队采购合同，合作规模扩大。",
           "连续三年按时付款，已成为重要合作伙伴。"),
    "down": ("近半年无新增业务，合作规模下降。", "出现付款逾期，信用状况变差。", "客户业务收缩，采购需求减少。"),
    "new": ("首次定级：按等级标准评定。", "新签约客户，按合作规模与信用定级。"),
}
_G_EVIDENCE = ("合同台账、回款记录", "信用报告及银行流水", "客户经理拜访记录", "")
_G_COMMENTS = ("情况属实，同意。", "同意，按标准执行。", "资料齐全，同意。", "")
_G_REJECTS = ("依据不足，请补充近一年合同金额后再申请。", "合作年限未达到标准要求。", "信用评级不符合目标等级标准。")
_G_ACK = ("已备案。", "已登记备案。", "")


def _(msgid: str, **params: object) -> str:
    """Notes as the services write them with the UI in Chinese (whatever this process's language)."""
    from crm_tui.i18n import translate_in

    return translate_in("zh_CN", msgid, **params)


def _none(s: str) -> str | None:
    return s or None


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _ts(t: datetime | None) -> str | None:
    return None if t is None else str(t)


@dataclass
class Customer:
    id: int
    number: str
    created: datetime
    owner: int | None
    category: str
    credit: str | None
    risk: str | None
    coop_since: int | None
    important: bool
    grade: str | None
    last_activity: datetime
    version: int
    last_activity0: datetime  # as read: the row is updated only when it changed
    updated: tuple[datetime, int | None] | None = None  # (updated_at, by) when a grade was applied


@dataclass
class Event:
    """One service call: its time, actor, audit entry and the row changes it made."""

    at: datetime
    actor: int
    action: str
    entity: str
    ref: Any  # the story object whose id becomes entity_id (ids are given in time order)
    customer: Customer
    details: dict[str, Any]
    personal: list[tuple[str, str]] = field(default_factory=list)
    id_of: str = "id"  # attribute of ref holding the entity id


@dataclass
class Card:
    c: Customer
    at: datetime
    values: dict[str, Any]
    owner: int
    id: int = 0
    number: str = ""


@dataclass
class Visit:
    card: Card
    at: datetime
    row: dict[str, Any]
    id: int = 0


@dataclass
class Ticket:
    c: Customer
    at: datetime
    row: dict[str, Any]
    id: int = 0
    number: str = ""
    events: list[tuple[datetime, int, str, str | None, str, str | None]] = field(default_factory=list)
    pauses: list[list[Any]] = field(default_factory=list)
    visits: list[tuple[datetime, int, int]] = field(default_factory=list)  # (at, score, handler): complaint_visit


@dataclass
class Application:
    c: Customer
    at: datetime
    row: dict[str, Any]
    id: int = 0
    filing: Any = None  # dict with the grade_filing row once applied


@dataclass
class Filing:
    app: Application
    row: dict[str, Any]
    id: int = 0


class Areas:
    """Draws and writes the area rows for customers, one batch at a time."""

    def __init__(self, writer: Any, seed: int) -> None:
        self.w = writer  # gen.AuditWriter: connection, audit chain, staff names
        self.rnd = random.Random(seed ^ SEED_XOR)  # replaced per batch (see _generate)
        self.cal = WorkCalendar()
        self.cpol = dc.load_policy()
        self.ccal = self.cpol.calendar()
        self.fpol = fd.load_policy()
        pol = customer_policy()
        self.sources = list(pol.sources)
        self.credit_order = list(pol.credit_ratings)
        self.risk_order = list(pol.risk_ratings)
        from crm_tui.services import grades as gs

        self.std = gs.standard(writer.svc)
        ids = writer.staff_ids
        self.s = {u: ids[u] for u in ("qiantai", "jingli", "jingli2", "kezhang", "fujingli", "neiguan") if u in ids}
        self.consultants = [self.s[u] for u in ("jingli", "jingli2", "kezhang") if u in self.s]
        self.handlers = self.consultants
        self.applicants = [self.s[u] for u in ("jingli", "jingli2") if u in self.s]
        self.levels = [c for c, w in _OPEN_LEVELS for _i in range(w)]
        c = writer.conn
        self.next = {t: c.execute(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0] + 1
                     for t in ("followup_card", "followup_visit", "complaint", "complaint_event", "complaint_pause",
                               "grade_application", "grade_history", "grade_filing")}
        self.card_seq = dict(c.execute("SELECT year, last FROM followup_card_seq").fetchall())
        self.ticket_seq = dict(c.execute("SELECT year, last FROM complaint_number_seq").fetchall())
        self.counts = {"cards": 0, "visits": 0, "complaints": 0, "complaint_events": 0, "grade_applications": 0,
                       "audit": 0}
        self.now = writer.now
        #: seconds spent drawing each area's stories (deadlines included); "audit" = hashing and
        #: commitments, "write" = the inserts and updates (all areas)
        self.cpu = {"cards": 0.0, "complaints": 0.0, "grades": 0.0, "audit": 0.0, "write": 0.0}

    # --------------------------------------------------------------------------------------------
    # helpers
    # --------------------------------------------------------------------------------------------

    def _at(self, day: date, start: int = 9 * 60, span: int = 8 * 60) -> datetime:
        return datetime.combine(day, dtime(0)) + timedelta(minutes=start + self.rnd.randrange(0, span, 5))

    def _workdays_after(self, day: date, n: int) -> date:
        return self.cal.add_workdays(day, n) if n else (day if self.cal.is_workday(day) else self.cal.next_workday(day))

    def _working(self, t: datetime) -> datetime:
        """``t`` itself in working time, else the next opening (complaints arrive in working hours)."""
        t = t.replace(second=0, microsecond=0)
        return t if self.ccal.is_working_time(t) else self.ccal.next_opening(t)

    def _name(self, sid: int | None) -> str | None:
        return self.w.display.get(sid) if sid is not None else None

    # --------------------------------------------------------------------------------------------
    # follow-up cards (R-FU-1..3, R-FU-5, R-FU-6)
    # --------------------------------------------------------------------------------------------

    def card(self, c: Customer, out: list[Any], events: list[Event]) -> None:
        rnd, now = self.rnd, self.now
        owner = c.owner if c.owner is not None else rnd.choice(self.consultants)
        delay = 0 if rnd.random() < 0.6 else rnd.randint(1, 20)
        if delay == 0:
            t0 = c.created + timedelta(minutes=rnd.randrange(5, 120))
        else:
            t0 = self._at(self._workdays_after(c.created.date(), delay))
        if t0 >= now:
            return
        day = t0.date()
        level = rnd.choice(self.levels)
        v: dict[str, Any] = {
            "first_reception_summary": rnd.choice(_SUMMARIES), "product": rnd.choice(_PRODUCTS),
            "configuration": _none(rnd.choice(_CONFIGS)), "budget": _none(rnd.choice(_BUDGETS)),
            "intended_use": _none(rnd.choice(_USES)), "alternatives": _none(rnd.choice(_ALTS)),
            "favourable": _none(rnd.choice(_FAVOURABLE)), "unfavourable": _none(rnd.choice(_UNFAVOURABLE)),
            "resources_needed": _none(rnd.choice(_RESOURCES)), "next_visit_plan": _none(rnd.choice(_NEXT)),
            "intent_level": level, "source": rnd.choice(self.sources),
            "purchase_method": rnd.choice(("full", "instalment", "loan", "undecided", None)),
            "first_reception_date": c.created.date(),
        }
        due = fd.next_visit_due(self.cal, day, self.fpol.levels[level])
        card = Card(c, t0, v, owner)
        out.append(card)
        row = {**v, "card_date": day, "next_visit_due": due, "next_due_reason": None, "status": "open",
               "status_reason": None, "closed_at": None, "review_due": fd.review_due(self.cal, day, self.fpol),
               "reviewed_at": None, "reviewed_by_id": None, "review_comment": None, "last_visit_at": None,
               "visits": 0, "version": 1, "created_at": t0, "created_by_id": owner, "updated_at": t0,
               "updated_by_id": owner}
        card.values = row
        events.append(Event(t0, owner, "followup.card_create", "followup_card", card, c, {
            "number": card, "customer": c.number, "owner": self._name(owner), "intent_level": level,
            "source": v["source"], "next_visit_due": _iso(due)},
            [(k, str(v[k])) for k in _CARD_TEXT if v.get(k)]))
        c.last_activity = max(c.last_activity, t0)
        roll = rnd.random()
        outcome = "won" if roll < 0.40 else "lost" if roll < 0.91 else "void" if roll < 0.97 else "stale"
        if outcome == "stale" and (now - t0).days > 180:
            outcome = "lost"  # older forgotten cards were cleaned up: the overdue queue is mostly recent work
        k = rnd.randint(0, 1) if outcome == "void" else rnd.randint(1, 5)
        last = t0
        stopped = False
        for j in range(k):
            if due is None:
                break
            vday = due
            if rnd.random() < 0.25:
                vday = self.cal.add_workdays(due, rnd.randint(1, 3))  # visited late
            at = self._at(vday)
            if at >= now:
                stopped = True
                break
            if j == k - 1 and outcome in ("won", "lost"):
                new = "O" if outcome == "won" else "F"
            else:
                new = rnd.choice(self.levels)
            lvl = self.fpol.levels[new]
            vals = {"method": rnd.choice(_METHODS), "participants": _none(rnd.choice(_PARTICIPANTS)),
                    "content": rnd.choice(_VISIT_CONTENT), "feedback": _none(rnd.choice(_VISIT_FEEDBACK)),
                    "objections": _none(rnd.choice(_OBJECTIONS)), "next_action": _none(rnd.choice(_NEXT)),
                    "lost_reason": rnd.choice(_LOST) if lvl.ends == "lost" else None}
            ndue = fd.next_visit_due(self.cal, at, lvl)
            status = lvl.ends or "open"
            visit = Visit(card, at, {"at": at, "method": vals["method"], "participants": vals["participants"],
                                     "content": vals["content"], "feedback": vals["feedback"],
                                     "objections": vals["objections"], "next_action": vals["next_action"],
                                     "level_before": row["intent_level"], "level_after": new, "next_due": ndue,
                                     "next_due_reason": None, "staff_id": owner, "created_at": at})
            out.append(visit)
            changes: dict[str, Any] = {"intent_level": [row["intent_level"], new],
                                       "next_visit_due": [_iso(row["next_visit_due"]), _iso(ndue)]}
            if status != "open":
                changes["status"] = ["open", status]
            events.append(Event(at, owner, "followup.visit", "followup_visit", visit, c,
                                {"number": card, "method": vals["method"], "changes": changes},
                                [(f, vals[f]) for f in ("participants", "content", "feedback", "objections",
                                                        "next_action", "lost_reason") if vals[f]]))
            row.update(intent_level=new, next_visit_due=ndue, next_due_reason=None,
                       next_visit_plan=vals["next_action"] or row["next_visit_plan"],
                       last_visit_at=max(row["last_visit_at"] or at, at), visits=row["visits"] + 1, status=status,
                       status_reason=vals["lost_reason"] if status == "lost" else None,
                       closed_at=at if status != "open" else None, version=row["version"] + 1, updated_at=at,
                       updated_by_id=owner)
            c.last_activity = max(c.last_activity, at)
            last, due = at, ndue
            if status != "open":
                break
        if outcome == "void" and not stopped and row["status"] == "open":
            at = self._at(self._workdays_after(last.date(), rnd.randint(1, 3)))
            if at < now:
                reason = rnd.choice(_VOID)
                row.update(status="void", status_reason=reason, closed_at=at, next_visit_due=None,
                           next_due_reason=None, version=row["version"] + 1, updated_at=at, updated_by_id=owner)
                events.append(Event(at, owner, "followup.card_close", "followup_card", card, c,
                                    {"number": card, "changes": {"status": ["open", "void"]}},
                                    [("status_reason", reason)]))
        # the supervisor's signature (主管审核签字): mostly within the review deadline, never one's own
        if rnd.random() < (0.99 if (now - t0).days > 60 else 0.85):
            reviewer = self.s.get("fujingli") if owner == self.s.get("kezhang") else self.s.get("kezhang")
            at = self._at(self._workdays_after(day, rnd.choice((0, 1, 1, 2, 2, 3, 3, 4, 6))))
            at = max(at, t0 + timedelta(minutes=10))
            if reviewer is not None and at < now:
                comment = rnd.choice(_REVIEW)
                row.update(reviewed_at=at, reviewed_by_id=reviewer, review_comment=comment,
                           version=row["version"] + 1)
                if at >= row["updated_at"]:
                    row.update(updated_at=at, updated_by_id=reviewer)
                events.append(Event(at, reviewer, "followup.review", "followup_card", card, c,
                                    {"number": card, "comment": comment}))

    # --------------------------------------------------------------------------------------------
    # complaints (R-CMP-1..6)
    # --------------------------------------------------------------------------------------------

    def _clock(self, t: Ticket, now: datetime) -> dc.Clock:
        r = t.row
        return dc.clock(self.ccal, self.cpol.severities[r["severity"]], received_at=r["received_at"], now=now,
                        responded_at=r["responded_at"], resolve_from=r["resolve_from"], resolved_at=r["feedback_at"],
                        pauses=[(a, b) for a, b, _r in t.pauses], at_risk_share=self.cpol.at_risk_share)

    def _step(self, t: Ticket, at: datetime, actor: int, action: str, updates: dict[str, Any], note: str | None,
              events: list[Event], extra: dict[str, Any] | None = None) -> None:
        r = t.row
        frm = r["state"]
        to = dc.next_state(frm, action)
        r.update(updates)
        r.update(state=to, version=r["version"] + 1, updated_at=at)
        if action == "pause":
            t.pauses.append([at, None, note])
        elif action in ("resume", "feed_back"):
            for p in t.pauses:
                if p[1] is None:
                    p[1] = at
        t.events.append((at, actor, action, frm, to, note))
        ck = self._clock(t, at)
        r.update(due_at=ck.due_at, risk_at=ck.risk_at, respond_met=ck.respond_met, resolve_met=ck.resolve_met)
        events.append(Event(at, actor, f"complaint.{action}", "complaint", t, t.c, {
            "number": t, "from": frm, "to": to, **({"sla": ck.state} if ck.status else {}), **(extra or {})}))

    def complaint(self, c: Customer, out: list[Any], events: list[Event]) -> None:
        rnd, now, cal = self.rnd, self.now, self.ccal
        span = (now - c.created).total_seconds()
        if span < 3600:
            return
        received = self._working(c.created + timedelta(seconds=rnd.random() * span))
        if rnd.random() < RECENT_SHARE:  # the last two weeks: open tickets at every size
            recent = self._working(self._at(now.date() - timedelta(days=rnd.randint(0, 14)), 8 * 60, 10 * 60))
            if c.created < recent < now:
                received = recent
        if received >= now:
            return
        sev = rnd.choices(("normal", "serious", "major"), weights=(70, 25, 5))[0]
        cat, desc, demand = rnd.choice(_TICKETS)
        channel = rnd.choice(list(self.cpol.channels))
        desk = self.s["qiantai"]
        row: dict[str, Any] = {
            "channel": channel, "category": cat, "severity": sev, "description": desc,
            "demand": demand if rnd.random() < 0.8 else None, "received_at": received, "received_by_id": desk,
            "state": dc.REGISTERED, "assignee_id": None, "responded_at": None, "resolve_from": received,
            "solution": None, "feedback_result": None, "feedback_reasons": None, "feedback_method": None,
            "feedback_at": None, "visit_method": None, "visit_notes": None, "visit_at": None, "satisfaction": None,
            "cause_analysis": None, "preventive_measure": None, "closed_at": None, "closed_by_id": None,
            "reopen_count": 0, "paused_since": None, "due_at": None, "risk_at": None, "respond_met": None,
            "resolve_met": None, "feedback_id": None, "version": 1, "created_at": received, "updated_at": received}
        t = Ticket(c, received, row)
        out.append(t)
        t.events.append((received, desk, "file", None, dc.REGISTERED, desc))
        ck = self._clock(t, received)
        row.update(due_at=ck.due_at, risk_at=ck.risk_at, respond_met=ck.respond_met, resolve_met=ck.resolve_met)
        events.append(Event(received, desk, "complaint.file", "complaint", t, c, {
            "number": t, "customer": c.number, "channel": channel, "category": cat, "severity": sev,
            "received_at": received.isoformat(sep=" "),
            "respond_by": ck.respond_deadline.isoformat(sep=" ") if ck.respond_deadline else None,
            "resolve_by": ck.resolve_deadline.isoformat(sep=" ") if ck.resolve_deadline else None}))
        c.last_activity = max(c.last_activity, received)
        late = rnd.random() < 0.15  # this ticket misses a limit
        scale = {"normal": 1.0, "serious": 0.4, "major": 0.15}[sev]
        chief = self.s["kezhang"]
        assigner = chief if rnd.random() < 0.85 else self.s.get("fujingli", chief)
        handler = rnd.choice(self.handlers)
        clock_t = received

        def after(minutes: float) -> datetime | None:
            nonlocal clock_t
            at = cal.add_working_minutes(clock_t, max(1, int(minutes)))
            if at >= now:
                return None
            clock_t = at
            return at

        at = after(rnd.uniform(5, 400) * scale * (3 if late and rnd.random() < 0.5 else 1))
        if at is None:
            return
        name = self._name(handler)
        self._step(t, at, assigner, "assign", {"assignee_id": handler, "responded_at": at}, name, events,
                   {"assignee": name, "previous": None})
        for _round in range(2):
            if rnd.random() < 0.08:  # waiting for the customer
                at = after(rnd.uniform(30, 600) * scale)
                if at is None:
                    return
                reason = rnd.choice(_PAUSES)
                self._step(t, at, handler, "pause", {"paused_since": at}, reason, events)
                at = after(rnd.uniform(120, 1500))
                if at is None:
                    return
                self._step(t, at, handler, "resume", {"paused_since": None}, None, events)
            at = after(rnd.uniform(60, 1500) * scale * (4 if late else 1))
            if at is None:
                return
            solution = rnd.choice(_SOLUTIONS)
            self._step(t, at, handler, "solve", {"solution": solution}, solution, events)
            at = after(rnd.uniform(20, 400) * scale)
            if at is None:
                return
            res, reasons, method = rnd.choice(_RESULTS)
            self._step(t, at, handler, "feed_back",
                       {"feedback_result": res, "feedback_reasons": reasons, "feedback_method": method,
                        "feedback_at": at, "paused_since": None},
                       _("{result} (told by {method})", result=res, method=method), events)
            at = after(rnd.uniform(480, 4800))
            if at is None:
                return
            score = rnd.choices((1, 2, 3, 4, 5), weights=(3, 7, 15, 35, 40))[0]
            notes = rnd.choice(_VISIT_NOTES)
            self._step(t, at, handler, "visit",
                       {"visit_method": "电话回访", "visit_notes": notes, "satisfaction": score, "visit_at": at},
                       _("Satisfaction {score}/5 ({method}): {notes}", score=score, method="电话回访", notes=notes),
                       events, {"satisfaction": score})
            t.visits.append((at, score, handler))
            if _round == 0 and score <= 2 and rnd.random() < 0.5:  # not satisfied: reopened
                at = after(rnd.uniform(10, 600))
                if at is None:
                    return
                reason = rnd.choice(_REOPEN)
                self._step(t, at, desk, "reopen", {
                    "resolve_from": at, "feedback_at": None, "solution": None, "feedback_result": None,
                    "feedback_reasons": None, "feedback_method": None, "visit_at": None, "visit_method": None,
                    "visit_notes": None, "satisfaction": None, "cause_analysis": None, "preventive_measure": None,
                    "closed_at": None, "closed_by_id": None, "reopen_count": row["reopen_count"] + 1}, reason, events,
                    {"previous_satisfaction": score})
                continue
            at = after(rnd.uniform(10, 240))
            if at is None:
                return
            cause, measure = rnd.choice(_CAUSES)
            self._step(t, at, handler, "close", {"cause_analysis": cause, "preventive_measure": measure,
                                                 "closed_at": at, "closed_by_id": handler},
                       _("Cause: {cause} / Measure: {measure}", cause=cause, measure=measure), events,
                       {"satisfaction": row["satisfaction"]})
            return

    # --------------------------------------------------------------------------------------------
    # grade changes (R-GRD-1..4)
    # --------------------------------------------------------------------------------------------

    def grade(self, c: Customer, out: list[Any], events: list[Event]) -> None:
        rnd, now, cal = self.rnd, self.now, self.cal
        start = c.created + timedelta(days=30)
        for attempt in range(2):
            if start >= now or (attempt and rnd.random() >= 0.2):
                return
            span = min((now - start).total_seconds(), 400 * 86400.0 if attempt else 1e12)
            t0 = start + timedelta(seconds=rnd.random() * span)
            if not attempt and rnd.random() < RECENT_SHARE:  # the last two weeks: open applications
                recent = now - timedelta(days=rnd.randint(0, 14))
                if recent > start:
                    t0 = recent
            filed = self._at(self._workdays_after(t0.date(), 0))
            if filed >= now or filed < start:
                return
            facts = {"category": c.category, "credit_rating": c.credit, "risk_rating": c.risk,
                     "coop_since": c.coop_since, "important": c.important}
            target = dg.suggest_grade(self.std, facts, filed.date(), credit_order=self.credit_order,
                                      risk_order=self.risk_order) or "D"
            if target == c.grade:
                order = list(self.std.grades)
                i = order.index(target)
                target = order[i + 1] if i + 1 < len(order) else order[i - 1]
            direction = self.std.direction(c.grade, target)
            applicant = c.owner if c.owner in self.applicants else rnd.choice(self.applicants)
            reason = rnd.choice(_G_REASONS[direction])
            evidence = _none(rnd.choice(_G_EVIDENCE))
            row: dict[str, Any] = {
                "from_grade": c.grade, "to_grade": target, "reason": reason, "evidence": evidence,
                "state": dg.SUBMITTED, "applicant_id": applicant, "filed_at": filed, "period_id": None,
                "chief_id": None, "chief_at": None, "chief_comment": None, "deputy_id": None, "deputy_at": None,
                "deputy_comment": None, "rejected_by_id": None, "rejected_at": None, "reject_reason": None,
                "apply_due": None, "applied_by_id": None, "applied_at": None, "version": 1}
            app = Application(c, filed, row)
            out.append(app)
            personal = [("reason", reason)] + ([("evidence", evidence)] if evidence else [])
            events.append(Event(filed, applicant, "grade.file", "grade_application", app, c, {
                "application": app, "number": c.number, "from": c.grade, "to": target}, personal))
            end = self._decisions(app, events)
            if end is None:
                return  # still open at NOW: no second application
            start = end + timedelta(days=30)

    def _decisions(self, app: Application, events: list[Event]) -> datetime | None:
        """The chief's and deputy's decisions, the apply step and the acknowledgement, each a few
        working days after the one before; returns when the application ended (None: still open)."""
        rnd, now, cal, row, c = self.rnd, self.now, self.cal, app.row, app.c
        chief, deputy, ic = self.s["kezhang"], self.s["fujingli"], self.s["neiguan"]

        def base(action: str) -> dict[str, Any]:
            frm, to, _p = dg.ACTIONS[action]
            return {"application": app, "number": c.number, "from": row["from_grade"], "to": row["to_grade"],
                    "state": [frm, to]}

        t = row["filed_at"]
        for who, action_ok, action_no, sid in (("chief", "approve_chief", "reject_chief", chief),
                                              ("deputy", "approve_deputy", "reject_deputy", deputy)):
            at = max(self._at(cal.add_workdays(t.date(), rnd.choice((0, 1, 1, 2, 3)))), t + timedelta(minutes=20))
            if at >= now:
                return None
            t = at
            if rnd.random() < (0.10 if who == "chief" else 0.05):
                comment = rnd.choice(_G_REJECTS)
                row.update(state=dg.REJECTED, rejected_by_id=sid, rejected_at=at, reject_reason=comment,
                           version=row["version"] + 1)
                events.append(Event(at, sid, f"grade.{action_no}", "grade_application", app, c, base(action_no),
                                    [("comment", comment)]))
                return at
            comment = _none(rnd.choice(_G_COMMENTS))
            row.update({"state": dg.ACTIONS[action_ok][1], f"{who}_id": sid, f"{who}_at": at,
                        f"{who}_comment": comment, "version": row["version"] + 1})
            details = base(action_ok)
            if action_ok == "approve_deputy":
                row["apply_due"] = dg.apply_due(at, cal)
                details["apply_due"] = row["apply_due"].isoformat(sep=" ", timespec="minutes")
            events.append(Event(at, sid, f"grade.{action_ok}", "grade_application", app, c, details,
                                [("comment", comment)] if comment else []))
        # apply: within 1 working day, one in ten late
        late_days = rnd.randint(2, 3) if rnd.random() < 0.1 else rnd.choice((0, 1))
        at = max(self._at(cal.add_workdays(t.date(), late_days) if late_days else t.date()), t + timedelta(minutes=15))
        if at >= now:
            return None
        t = at
        old = c.grade
        row.update(state=dg.APPLIED, applied_by_id=chief, applied_at=at, version=row["version"] + 1)
        filing = Filing(app, {"customer_id": c.id, "from_grade": old, "to_grade": row["to_grade"], "filed_at": at,
                              "filed_by_id": chief, "acknowledged_by_id": None, "acknowledged_at": None,
                              "note": None})
        app.filing = filing
        c.grade = row["to_grade"]
        c.version += 1
        c.updated = (at, chief)
        c.last_activity = max(c.last_activity, at)
        events.append(Event(at, chief, "grade.apply", "grade_application", app, c, {
            "application": app, "number": c.number, "filing": filing, "state": ["approved", "applied"],
            "late": at > row["apply_due"], "changes": {"grade": [old, row["to_grade"]]}}))
        at = self._at(cal.add_workdays(t.date(), rnd.randint(1, 5)))
        if at >= now:
            return None
        note = _none(rnd.choice(_G_ACK))
        filing.row.update(acknowledged_by_id=ic, acknowledged_at=at, note=note)
        row.update(state=dg.ACKNOWLEDGED, version=row["version"] + 1)
        events.append(Event(at, ic, "grade.acknowledge", "grade_application", app, c, {
            "application": app, "number": c.number, "state": ["applied", "acknowledged"]},
            [("comment", note)] if note else []))
        return at

    # --------------------------------------------------------------------------------------------
    # one batch of customers
    # --------------------------------------------------------------------------------------------

    def draw(self, customers: list[Customer]) -> tuple[list[Any], list[Event]]:
        out: list[Any] = []
        events: list[Event] = []
        rnd = self.rnd
        clock, cpu = time.perf_counter, self.cpu
        for c in customers:
            a, b, g = rnd.random(), rnd.random(), rnd.random()
            if a < CARD_SHARE:
                t = clock()
                self.card(c, out, events)
                cpu["cards"] += clock() - t
            if b < COMPLAINT_SHARE and "qiantai" in self.s and "kezhang" in self.s:
                t = clock()
                self.complaint(c, out, events)
                cpu["complaints"] += clock() - t
            if g < GRADE_SHARE and self.applicants and all(u in self.s for u in ("kezhang", "fujingli", "neiguan")):
                t = clock()
                self.grade(c, out, events)
                cpu["grades"] += clock() - t
        return out, events

    def write(self, customers: list[Customer]) -> None:
        out, events = self.draw(customers)
        # ids and numbers in time order, as the services would have given them
        by_kind: dict[type, list[Any]] = {}
        for o in out:
            by_kind.setdefault(type(o), []).append(o)
        for kind, table in ((Card, "followup_card"), (Visit, "followup_visit"), (Ticket, "complaint"),
                            (Application, "grade_application")):
            for o in sorted(by_kind.get(kind, []), key=lambda o: o.at):
                o.id = self.next[table]
                self.next[table] += 1
                if kind is Card:
                    y = o.at.year
                    self.card_seq[y] = self.card_seq.get(y, 0) + 1
                    o.number = fd.card_number(y, self.card_seq[y])
                elif kind is Ticket:
                    y = o.at.year
                    self.ticket_seq[y] = self.ticket_seq.get(y, 0) + 1
                    o.number = dc.format_number(y, self.ticket_seq[y])
        filings = sorted((a.filing for a in by_kind.get(Application, []) if a.filing), key=lambda f: f.row["filed_at"])
        for f in filings:
            f.id = self.next["grade_filing"]
            self.next["grade_filing"] += 1
        cards = sorted(by_kind.get(Card, []), key=lambda o: o.id)
        visits = sorted(by_kind.get(Visit, []), key=lambda o: o.id)
        tickets = sorted(by_kind.get(Ticket, []), key=lambda o: o.id)
        apps = sorted(by_kind.get(Application, []), key=lambda o: o.id)

        def resolve(v: Any) -> Any:
            if isinstance(v, Card | Ticket):
                return v.number
            if isinstance(v, Application | Filing):
                return v.id
            if isinstance(v, dict):
                return {k: resolve(x) for k, x in v.items()}
            return v

        t_audit = time.perf_counter()
        audits: list[tuple] = []
        avals: list[tuple] = []
        for e in sorted(events, key=lambda e: e.at):  # stable: a story's steps at the same instant keep their order
            self.w.audit(audits, avals, e.at, e.actor, e.action, e.entity, getattr(e.ref, e.id_of), e.customer.id,
                         resolve(e.details), e.personal)
        t_write = time.perf_counter()
        self.cpu["audit"] += t_write - t_audit
        cw = self.w.conn
        cw.execute("BEGIN IMMEDIATE")
        try:
            card_cols = ("id", "number", "customer_id", "owner_id", "register_id", *_CARD_ROW)
            cw.executemany(f"INSERT INTO followup_card ({', '.join(card_cols)})"
                           f" VALUES ({', '.join('?' * len(card_cols))})",
                           [(o.id, o.number, o.c.id, o.owner, None, *(_sql(o.values[k]) for k in _CARD_ROW))
                            for o in cards])
            vcols = ("at", "method", "participants", "content", "feedback", "objections", "next_action",
                     "level_before", "level_after", "next_due", "next_due_reason", "staff_id", "created_at")
            cw.executemany(f"INSERT INTO followup_visit (id, card_id, {', '.join(vcols)}) VALUES"
                           f" ({', '.join('?' * (len(vcols) + 2))})",
                           [(v.id, v.card.id, *(_sql(v.row[k]) for k in vcols)) for v in visits])
            tcols = tuple(k for k in tickets[0].row) if tickets else ()
            if tickets:  # (no columns to name without a ticket)
                cw.executemany(f"INSERT INTO complaint (id, number, customer_id, {', '.join(tcols)}) VALUES"
                               f" ({', '.join('?' * (len(tcols) + 3))})",
                               [(t.id, t.number, t.c.id, *(_sql(t.row[k]) for k in tcols)) for t in tickets])
            ev_rows, pause_rows, visit_rows = [], [], []
            for t in tickets:
                for at, actor, action, frm, to, note in t.events:
                    ev_rows.append((t.id, t.c.id, _sql(at), actor, action, frm, to, note))
                for a, b, reason in t.pauses:
                    pause_rows.append((t.id, _sql(a), _sql(b), reason))
                for at, score, handler in t.visits:
                    visit_rows.append((t.id, _sql(at), "电话回访", score, handler, handler))
            ev_rows.sort(key=lambda r: r[2])
            first_ev = self.next["complaint_event"]
            cw.executemany("INSERT INTO complaint_event (id, complaint_id, customer_id, at, actor_id, action,"
                           " from_state, to_state, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [(first_ev + i, *r) for i, r in enumerate(ev_rows)])
            self.next["complaint_event"] += len(ev_rows)
            cw.executemany("INSERT INTO complaint_pause (complaint_id, start, \"end\", reason) VALUES (?, ?, ?, ?)",
                           sorted(pause_rows, key=lambda r: r[1]))
            cw.executemany("INSERT INTO complaint_visit (complaint_id, at, method, satisfaction, handler_id, staff_id)"
                           " VALUES (?, ?, ?, ?, ?, ?)", sorted(visit_rows, key=lambda r: r[1]))
            acols = tuple(k for k in apps[0].row) if apps else ()
            if apps:
                cw.executemany(f"INSERT INTO grade_application (id, customer_id, {', '.join(acols)}) VALUES"
                               f" ({', '.join('?' * (len(acols) + 2))})",
                               [(a.id, a.c.id, *(_sql(a.row[k]) for k in acols)) for a in apps])
            hist = []
            for f in filings:
                r = f.row
                hist.append((r["customer_id"], f.app.id, r["from_grade"], r["to_grade"], _sql(r["filed_at"]),
                             r["filed_by_id"]))
            cw.executemany("INSERT INTO grade_history (customer_id, application_id, from_grade, to_grade, changed_at,"
                           " changed_by_id) VALUES (?, ?, ?, ?, ?, ?)", hist)
            cw.executemany("INSERT INTO grade_filing (id, application_id, customer_id, from_grade, to_grade, filed_at,"
                           " filed_by_id, acknowledged_by_id, acknowledged_at, note) VALUES (?,?,?,?,?,?,?,?,?,?)",
                           [(f.id, f.app.id, *(_sql(f.row[k]) for k in ("customer_id", "from_grade", "to_grade",
                                                                         "filed_at", "filed_by_id",
                                                                         "acknowledged_by_id", "acknowledged_at",
                                                                         "note"))) for f in filings])
            touched = [c for c in customers if c.last_activity != c.last_activity0 or c.updated]
            cw.executemany("UPDATE customer SET last_activity_at = ? WHERE id = ?",
                           [(_sql(c.last_activity), c.id) for c in touched if c.updated is None])
            cw.executemany("UPDATE customer SET grade = ?, version = ?, updated_at = ?, updated_by_id = ?,"
                           " last_activity_at = ? WHERE id = ?",
                           [(c.grade, c.version, _sql(c.updated[0]), c.updated[1], _sql(c.last_activity), c.id)
                            for c in touched if c.updated is not None])
            for table, seqs in (("followup_card_seq", self.card_seq), ("complaint_number_seq", self.ticket_seq)):
                for year, last in seqs.items():
                    cw.execute(f"INSERT INTO {table} (year, last) VALUES (?, ?)"
                               " ON CONFLICT(year) DO UPDATE SET last = excluded.last", (year, last))
            self.w.insert_audit(audits, avals)
            cw.execute("COMMIT")
        except BaseException:
            cw.execute("ROLLBACK")
            raise
        self.cpu["write"] += time.perf_counter() - t_write
        self.counts["cards"] += len(cards)
        self.counts["visits"] += len(visits)
        self.counts["complaints"] += len(tickets)
        self.counts["complaint_events"] += len(ev_rows)
        self.counts["grade_applications"] += len(apps)
        self.counts["audit"] += len(audits)


_CARD_TEXT = ("first_reception_summary", "product", "configuration", "budget", "intended_use", "alternatives",
              "favourable", "unfavourable", "resources_needed", "next_visit_plan")  # services.followups._CARD_TEXT
_CARD_ROW = ("card_date", "first_reception_date", "first_reception_summary", "intent_level", "product",
             "configuration", "budget", "purchase_method", "intended_use", "alternatives", "source", "favourable",
             "unfavourable", "resources_needed", "next_visit_plan", "next_visit_due", "next_due_reason", "status",
             "status_reason", "closed_at", "review_due", "reviewed_at", "reviewed_by_id", "review_comment",
             "last_visit_at", "visits", "version", "created_at", "created_by_id", "updated_at", "updated_by_id")


def _sql(v: Any) -> Any:
    """Values as the services' SQLAlchemy text() parameters store them."""
    if isinstance(v, datetime):
        return str(v)
    if isinstance(v, date):
        return v.isoformat()
    return v


class AuditWriter:
    """The file's connection and audit chain for the areas pass: ``store.audit.append`` in
    memory (the same rows, hashes and personal-value commitments), salts from a seeded stream."""

    def __init__(self, svc: Any, seed: int, now: datetime, cache_mib: int = 1024) -> None:
        self.svc = svc
        self.now = now
        self.salt_rnd = random.Random(seed ^ SEED_XOR ^ 0x5A17)  # replaced per batch (see _generate)
        self.raw = svc.store.engine.raw_connection()
        self.conn = self.raw.driver_connection
        self.conn.execute(f"PRAGMA cache_size = -{cache_mib * 1024}")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        rows = self.conn.execute("SELECT id, username, display_name FROM staff").fetchall()
        self.username = {r[0]: r[1] for r in rows}
        self.display = {r[0]: r[2] for r in rows}
        self.staff_ids = {r[1]: r[0] for r in rows}
        head = self.conn.execute(f"SELECT id, {HASH_HEX} FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        self.audit_id, self.prev = (head[0], head[1]) if head else (0, chain.GENESIS)

    def close(self) -> None:
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.raw.close()

    def audit(self, rows: list[tuple], values: list[tuple], at: datetime, actor: int, action: str, entity: str,
              entity_id: int, customer_id: int, details: dict[str, Any], personal: list[tuple[str, str]]) -> None:
        self.audit_id += 1
        own: list[tuple] = []  # (field, old, new, salt): the stored form drops what they give back
        if personal:
            commitments = {}
            for fld, new in personal:
                salt = f"{self.salt_rnd.getrandbits(128):032x}"
                commitments[fld] = chain.commitment(salt, fld, None, new)
                values.append((self.audit_id, None, fld, None, new, bytes.fromhex(salt)))  # whose: audit_log's
                own.append((fld, None, new, salt))
            details["personal"] = commitments
        row = {"id": self.audit_id, "at": at, "actor_id": actor, "actor_name": self.username[actor],
               "on_behalf_of_id": None, "action": action, "entity": entity, "entity_id": str(entity_id),
               "customer_id": customer_id, "details": chain.canonical(details)}
        h = chain.row_hash(self.prev, row)
        rows.append((self.audit_id, at.isoformat(sep=" ", timespec="microseconds"), actor, row["actor_name"], None,
                     action, entity, row["entity_id"], customer_id, compact_details(row["details"], own), bytes.fromhex(h)))
        self.prev = h

    def insert_audit(self, rows: list[tuple], values: list[tuple]) -> None:
        self.conn.executemany("INSERT INTO audit_log (id, at, actor_id, actor_name, on_behalf_of_id, action, entity,"
                              " entity_id, customer_id, details, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                              rows)
        self.conn.executemany("INSERT INTO audit_value (audit_id, customer_id, field, old_value, new_value, salt)"
                              " VALUES (?, ?, ?, ?, ?, ?)", values)


def read_customers(conn: Any, after: int, limit: int) -> list[Customer]:
    rows = conn.execute(
        "SELECT id, number, created_at, owner_id, category, credit_rating, risk_rating, coop_since, important, grade,"
        " last_activity_at, version FROM customer WHERE id > ? AND erased_at IS NULL ORDER BY id LIMIT ?",
        (after, limit)).fetchall()
    out = []
    for r in rows:
        created = datetime.fromisoformat(str(r[2]))
        last = datetime.fromisoformat(str(r[10])) if r[10] else created
        out.append(Customer(int(r[0]), r[1], created, r[3], r[4], r[5], r[6], r[7], bool(r[8]), r[9], last,
                            int(r[11]), last))
    return out


def generate_areas(svc: Any, seed: int, now: datetime, *, batch: int = 20_000, progress: bool = False,
                   cache_mib: int = 1024, resume: bool = False, upto: int | None = None) -> dict[str, float]:
    """Add the area rows for every customer in the file (see the module docstring), one
    transaction per ``batch`` customers. ``upto`` stops after about that many customers (whole
    batches); ``resume`` continues a pass that stopped (interrupted or ``upto``) with the same seed
    and batch - the result equals a pass made in one go. Returns the row counts and seconds."""
    writer = AuditWriter(svc, seed, now, cache_mib)
    try:
        return _generate(writer, seed, batch, progress, resume, upto)
    finally:
        writer.close()


def _chunk_end(conn: Any, after: int, batch: int) -> int | None:
    r = conn.execute("SELECT id FROM customer WHERE id > ? AND erased_at IS NULL ORDER BY id LIMIT 1 OFFSET ?",
                     (after, batch - 1)).fetchone()
    if r is None:
        r = conn.execute("SELECT max(id) FROM customer WHERE id > ? AND erased_at IS NULL", (after,)).fetchone()
    return None if r is None or r[0] is None else int(r[0])


def _generate(writer: AuditWriter, seed: int, batch: int, progress: bool, resume: bool,
              upto: int | None) -> dict[str, float]:
    t0 = time.perf_counter()
    areas = Areas(writer, seed)
    conn = writer.conn
    done_upto = max(conn.execute(f"SELECT coalesce(max(customer_id), 0) FROM {t}").fetchone()[0]
                    for t in ("followup_card", "complaint", "grade_application"))
    if done_upto and not resume:
        raise SystemExit("the file already has follow-up cards, complaints or grade changes: the areas pass adds "
                         "them to a file without any, or continues an interrupted pass with --resume")
    last = 0
    done = 0
    while last < done_upto:  # resuming: skip the batches already written (each was one transaction)
        end = _chunk_end(conn, last, batch)
        if end is None:
            break
        done += conn.execute("SELECT count(*) FROM customer WHERE id > ? AND id <= ? AND erased_at IS NULL",
                             (last, end)).fetchone()[0]
        last = end
    if done and progress:
        print(f"  {done:>9,} customers already have their area rows (resuming after customer #{last})",
              file=sys.stderr, flush=True)
    skipped = done
    while upto is None or done < upto:
        customers = read_customers(conn, last, batch)
        if not customers:
            break
        # each batch draws from its own streams (seed + its first customer): a resumed pass
        # writes what one pass in one go writes
        areas.rnd = random.Random(f"areas:{seed}:{customers[0].id}")
        writer.salt_rnd = random.Random(f"salts:{seed}:{customers[0].id}")
        areas.write(customers)
        last = customers[-1].id
        done += len(customers)
        if progress:
            el = time.perf_counter() - t0
            k = areas.counts
            print(f"  {done:>9,} customers  {el:7.1f} s  cards {k['cards']:,}  visits {k['visits']:,}  complaints "
                  f"{k['complaints']:,}  grade changes {k['grade_applications']:,}  audit {k['audit']:,}"
                  f"  ({(done - skipped) / el:,.0f} customers/s)", file=sys.stderr, flush=True)
    return {**areas.counts, "customers": done - skipped, "seconds": time.perf_counter() - t0,
            **{f"s_{k}": round(v, 2) for k, v in areas.cpu.items()}}
