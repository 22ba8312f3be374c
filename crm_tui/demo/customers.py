"""Demo customers: realistic persons and organisations with histories, contact logs, a few shared
phones, phones changed twice this month, incomplete archives past their deadline and important
customers with a single contact, so every watch list has something to show.

Deterministic from ``seed`` (and the services' clock). Written in bulk (Core executemany, search
terms and audit entries in batches) inside one transaction, so 2,000 customers take seconds; the
audit chain verifies afterwards. :func:`build` also makes the large synthetic sets benchmarks use.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from stdnum.cn import ric, uscc

from crm_tui.domain import search_terms
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.customers import PERSONAL_FIELDS, format_number, load_policy, maintenance_due, missing_fields
from crm_tui.services.context import Services
from crm_tui.store import audit as audit_store
from crm_tui.store import search_index
from crm_tui.store.queries import demo as demo_q
from crm_tui.store.audit import PersonalChange

DEFAULT_COUNT = 2000
DEFAULT_SEED = 20260401
OWNER_USERNAMES = ("jingli", "jingli2", "qiantai", "kezhang")

_AREAS = ("110101", "110105", "110108", "310104", "310115", "440305", "440106", "320102", "330106",
          "510104", "420102", "610113", "370202", "350203", "500103", "120101", "210102", "430102")
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_TAGS = ("VIP", "老客户", "转介绍", "大客户", "价格敏感", "需回访", "企业采购", "车队")
_NEEDS = ("计划年内购置一台家用车，预算二十万左右", "公司车辆更新，需要批量采购方案", "关注售后保养套餐",
          "咨询分期付款方案", "需要商务接待用车", "想了解新能源车型和充电桩安装", "续保和保险理赔咨询")
_CREDIT_NOTES = ("按时付款，无不良记录", "偶有逾期，已结清", "首次合作，信用待观察", "银行流水稳定", "有担保人")
_SCOPES = ("汽车销售；汽车零配件销售；汽车维修", "技术开发、技术咨询、技术服务", "货物运输；仓储服务",
           "建筑工程施工；建筑材料销售", "餐饮服务；食品销售", "计算机软硬件开发与销售", "物业管理；房屋租赁")
_SUMMARIES = ("电话回访，了解用车需求", "客户到店看车，试驾了两款车型", "寄送了新款车型资料", "邮件发送报价单",
              "微信沟通保养预约", "拜访客户公司，介绍团购政策", "客户咨询贷款利率", "通知客户参加周末试驾活动")
_FEEDBACK = ("对价格比较满意", "还在比较其他品牌", "希望再优惠一些", "对服务很满意", "需要和家人商量", "")
_NEXT = ("三天后电话跟进", "下周安排试驾", "发送最新报价", "等待客户回复", "")
_MOBILE_PREFIXES = tuple(str(p) for p in (*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159,
                                           *range(180, 190)))
_SHARED_REASONS = ("夫妻共用一个手机号", "父母代为联系", "公司前台总机", "同一家庭成员", "子女代办业务")



def _birth_date(fake: Any, today: date, *, minimum_age: int, maximum_age: int) -> date:
    """Faker's ``date_of_birth`` counted from the services' clock instead of the real date (the demo
    must not change from one day to the next): one draw of Faker's own generator, as it makes."""
    start = today.replace(year=today.year - maximum_age - 1, day=28 if (today.month, today.day) == (2, 29) else today.day)
    end = today.replace(year=today.year - minimum_age, day=28 if (today.month, today.day) == (2, 29) else today.day)
    lo = (start - _EPOCH).days * 86400
    hi = (end - _EPOCH).days * 86400
    born = _EPOCH + timedelta(seconds=fake.random.uniform(lo, hi))
    return born if born != start else born + timedelta(days=1)


_EPOCH = date(1970, 1, 1)


@dataclass
class _Cust:
    id: int
    kind: str
    created_at: datetime
    owner_id: int
    values: dict[str, Any]
    phones: list[tuple[str, str, str]] = field(default_factory=list)  # (national, e164, kind)
    shared_reason: str | None = None
    shared_approved: bool = False
    tags: list[str] = field(default_factory=list)
    contacts: list[int] = field(default_factory=list)
    history: list[tuple[datetime, int, dict[str, list[Any]], list[PersonalChange]]] = field(default_factory=list)
    phone_changes: list[datetime] = field(default_factory=list)
    updated_at: datetime | None = None
    updated_by: int | None = None


def _id_number(rnd: random.Random, birth: date, male: bool) -> str:
    seq = rnd.randrange(0, 100) * 10 + rnd.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    body = rnd.choice(_AREAS) + birth.strftime("%Y%m%d") + f"{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a check digit slot


def _uscc(rnd: random.Random) -> str:
    org = [rnd.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8)]
    values = [_USCC_CHARS.index(c) for c in org]
    check = 11 - sum(v * w for v, w in zip(values, _ORG_WEIGHTS)) % 11
    org.append("X" if check == 10 else "0" if check == 11 else str(check))
    body = "91" + rnd.choice(_AREAS) + "".join(org)
    return body + uscc.calc_check_digit(body)


def _work_time(rnd: random.Random, d: date) -> datetime:
    return datetime.combine(d, time(9, 0)) + timedelta(minutes=rnd.randrange(0, 8 * 60))


def _staff(svc: Services) -> dict[str, tuple[int, str]]:
    with svc.store.read() as s:
        return {u: (st.id, st.display_name) for u, st in demo_q.staff_by_username(s).items()}


def build(svc: Services, n: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED, *, history: bool = True,
          batch: int = 20_000) -> int:
    """Add ``n`` demo customers (in batches of ``batch`` per transaction). Returns how many."""
    from faker import Faker

    staff = _staff(svc)
    owners = [staff[u] for u in OWNER_USERNAMES if u in staff] or list(staff.values())
    if not owners:
        raise RuntimeError("demo customers need staff accounts first")
    rnd = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    now = svc.now()
    pol = load_policy()
    cal = WorkCalendar()
    done = 0
    used: tuple[set[str], set[str]] = (set(), set())  # phones, ID numbers: unique across batches
    while done < n:
        size = min(batch, n - done)
        custs = _generate(rnd, fake, now, owners, size, history, pol, used)
        _write(svc, custs, now, cal, staff)
        done += size
    return done


def _generate(rnd: random.Random, fake: Any, now: datetime, owners: list[tuple[int, str]], n: int,
              history: bool, pol: Any, used: tuple[set[str], set[str]]) -> list[_Cust]:
    used_phones, used_ids = used
    out: list[_Cust] = []
    cats = list(pol.categories)
    sources = list(pol.sources)
    credit = list(pol.credit_ratings)
    risk = list(pol.risk_ratings)
    industries = list(pol.industries)
    sizes = list(pol.sizes)

    def phone() -> tuple[str, str, str]:
        while True:
            national = rnd.choice(_MOBILE_PREFIXES) + f"{rnd.randrange(10**8):08d}"
            if national not in used_phones:
                used_phones.add(national)
                return national, "+86" + national, "mobile"

    for i in range(n):
        person = rnd.random() < 0.85
        created = _work_time(rnd, (now - timedelta(days=rnd.randrange(3, 720))).date())
        owner = rnd.choice(owners)[0]
        v: dict[str, Any] = {}
        v["category"] = rnd.choices(cats, weights=(35, 30, 25, 10))[0]
        v["source"] = rnd.choice(sources)
        v["credit_rating"] = rnd.choices(credit, weights=(5, 20, 45, 20, 10))[0]
        v["risk_rating"] = rnd.choices(risk, weights=(60, 30, 10))[0]
        addr = fake.address()
        v["address"] = addr.rsplit(" ", 1)[0]
        v["postcode"] = fake.postcode()
        v["business_needs"] = rnd.choice(_NEEDS)
        v["credit_status"] = rnd.choice(_CREDIT_NOTES)
        if rnd.random() < 0.3:
            v["email"] = fake.email()
        if v["category"] == "signed":
            v["coop_since"] = rnd.randrange(2010, now.year + 1)
        if person:
            male = rnd.random() < 0.55
            v["name"] = fake.name_male() if male else fake.name_female()
            v["gender"] = "M" if male else "F"
            birth = _birth_date(fake, now.date(), minimum_age=20, maximum_age=75)
            v["birth_date"] = birth
            v["occupation"] = fake.job()[:50]
            if rnd.random() < 0.6:
                v["employer"] = fake.company()[:100]
            if rnd.random() < 0.55:
                while True:
                    num = _id_number(rnd, birth, male)
                    if num not in used_ids:
                        used_ids.add(num)
                        break
                v["id_number"] = num
        else:
            v["name"] = fake.company()[:100]
            v["contact_person"] = fake.name()
            v["legal_rep"] = fake.name()
            v["uscc"] = _uscc(rnd)
            v["industry"] = rnd.choice(industries)
            v["size"] = rnd.choice(sizes)
            v["business_scope"] = rnd.choice(_SCOPES)
            v["registered_capital"] = f"{rnd.choice((50, 100, 200, 500, 1000, 5000)) * 10000}.00"
            v["key_decision_makers"] = f"{fake.name()}（总经理）、{fake.name()}（采购经理）"
        c = _Cust(id=0, kind="person" if person else "org", created_at=created, owner_id=owner, values=v)
        c.phones.append(phone())
        if rnd.random() < 0.15:
            c.phones.append(phone())
        if rnd.random() < 0.35:
            c.tags = rnd.sample(_TAGS, rnd.randrange(1, 3))
        if rnd.random() < 0.25 or v["category"] == "signed" and rnd.random() < 0.5:
            others = [o[0] for o in owners if o[0] != owner]
            if others:
                c.contacts = [rnd.choice(others)]
        v["important"] = rnd.random() < 0.08
        if v["important"] and not c.contacts:
            others = [o[0] for o in owners if o[0] != owner]
            if others:
                c.contacts = [rnd.choice(others)]
        out.append(c)
    # A few archives left incomplete past their deadline (R-CUST-9).
    for c in rnd.sample(out, max(1, n // 60)):
        for f_ in rnd.sample(["postcode", "credit_status", "business_needs", "risk_rating"], 2):
            c.values.pop(f_, None)
    # A few customers sharing a phone, with a written reason (R-CUST-7).
    pairs = rnd.sample(range(len(out)), min(len(out) // 2 * 2, max(2, n // 250) * 2))
    shared_numbers: set[str] = set()
    for k, (a, b) in enumerate(zip(pairs[::2], pairs[1::2])):
        first, second = sorted((out[a], out[b]), key=lambda c: c.created_at)
        second.phones[0] = first.phones[0]
        second.shared_reason = rnd.choice(_SHARED_REASONS)
        second.shared_approved = k % 3 == 2
        shared_numbers.add(first.phones[0][0])
    if history:
        _histories(rnd, fake, now, out, owners, phone, shared_numbers)
    out.sort(key=lambda c: c.created_at)
    return out


def _histories(rnd: random.Random, fake: Any, now: datetime, custs: list[_Cust], owners: list[tuple[int, str]],
               phone: Any, shared_numbers: set[str]) -> None:
    order = ("potential", "intentional", "signed")
    old_enough = [i for i, c in enumerate(custs) if c.created_at < now - timedelta(days=40)
                  and c.phones[0][0] not in shared_numbers]
    twice = set(rnd.sample(old_enough, min(len(old_enough), max(1, len(custs) // 300))))
    for idx, c in enumerate(custs):
        t = c.created_at
        for _k in range(0 if idx in twice else rnd.randrange(0, 4)):
            t = t + timedelta(days=rnd.randrange(1, 60), minutes=rnd.randrange(0, 300))
            if t >= now - timedelta(days=1):
                break
            who = rnd.choice(owners)[0]
            kind = rnd.random()
            changes: dict[str, list[Any]] = {}
            personal: list[PersonalChange] = []
            v = c.values
            if kind < 0.4 and v.get("category") in order[:-1]:
                new = order[order.index(v["category"]) + 1]
                changes["category"] = [v["category"], new]
                v["category"] = new
            elif kind < 0.65:
                old = v.get("address")
                v["address"] = fake.address().rsplit(" ", 1)[0]
                personal.append(PersonalChange("address", old, v["address"]))
            elif kind < 0.85:
                new = rnd.choice(list(load_policy().credit_ratings))
                if new != v.get("credit_rating"):
                    changes["credit_rating"] = [v.get("credit_rating"), new]
                    v["credit_rating"] = new
            elif c.phones[-1][0] not in shared_numbers:
                old_text = ", ".join(p[0] for p in c.phones)
                c.phones[-1] = phone()
                personal.append(PersonalChange("phones", old_text, ", ".join(p[0] for p in c.phones)))
                c.phone_changes.append(t)
            if changes or personal:
                c.history.append((t, who, changes, personal))
                c.updated_at, c.updated_by = t, who
        if idx in twice:
            for days in (rnd.randrange(12, 20), rnd.randrange(2, 10)):
                t = _work_time(rnd, (now - timedelta(days=days)).date())
                old_text = ", ".join(p[0] for p in c.phones)
                c.phones[0] = phone()
                c.history.append((t, c.owner_id, {}, [PersonalChange("phones", old_text,
                                                                     ", ".join(p[0] for p in c.phones))]))
                c.phone_changes.append(t)
                c.updated_at, c.updated_by = t, c.owner_id
    # Important customers with only their owner in contact (R-CUST-10): already some; make sure.
    important = [c for c in custs if c.values.get("important")]
    for c in important[:3]:
        c.contacts = []


def _plain(v: Any) -> Any:
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    return v


def _write(svc: Services, custs: Sequence[_Cust], now: datetime, cal: WorkCalendar,
           staff: dict[str, tuple[int, str]]) -> None:
    rnd = random.Random(len(custs) * 7919 + now.toordinal())
    names = {sid: (user, disp) for user, (sid, disp) in staff.items()}
    columns = ("id", "number", "kind", "name", "contact_person", "address", "postcode", "email", "gender",
               "birth_date", "occupation", "employer", "family_notes", "id_number", "legal_rep", "fax",
               "business_scope", "registered_capital", "uscc", "key_decision_makers", "business_needs",
               "cooperation_history", "credit_status", "bank_name", "bank_account", "notes", "category", "industry",
               "size", "coop_since", "source", "credit_rating", "risk_rating", "grade", "owner_id", "important",
               "false_info", "business_stopped", "needs_informing", "search_name", "search_pinyin",
               "missing_fields", "incomplete_due", "phone_changed_at", "phone_changed_prev_at", "phone_inspection_since",
               "last_activity_at", "version", "created_at", "created_by_id", "updated_at", "updated_by_id")
    with svc.store.write() as s:
        next_id = demo_q.next_customer_id(s)
        seqs = demo_q.customer_number_seqs(s)
        rows, phones, tags, staff_rows, consents, contacts, terms = [], [], [], [], [], [], []
        audits: list[tuple[datetime, dict[str, Any]]] = []
        first_owner_of_phone: dict[str, int] = {}
        for c in custs:
            c.id = next_id
            next_id += 1
            year = c.created_at.year
            seqs[year] = seqs.get(year, 0) + 1
            number = format_number(year, seqs[year])
            v = c.values
            missing = missing_fields({**v, "phones": len(c.phones)}, c.kind)
            due = maintenance_due(c.created_at, missing, cal)
            sname, spinyin = search_terms.search_columns(v["name"], c.kind)
            changes = sorted(c.phone_changes)
            updated_at = c.updated_at or c.created_at
            row = {col: None for col in columns}
            row.update({k: val for k, val in v.items() if k in columns})
            row.update(id=c.id, number=number, kind=c.kind, owner_id=c.owner_id, important=bool(v.get("important")),
                       false_info=False, business_stopped=False, needs_informing=False, search_name=sname,
                       search_pinyin=spinyin, missing_fields=json.dumps(missing, separators=(",", ":")) if missing else None,
                       incomplete_due=due, phone_changed_at=changes[-1] if changes else None,
                       phone_changed_prev_at=changes[-2] if len(changes) > 1 else None,
                       # R-CUST-8: two changes within 30 days, no inspection recorded yet
                       phone_inspection_since=changes[-1] if len(changes) > 1 and changes[-1] >= now - timedelta(days=45)
                       and changes[-1] - changes[-2] <= timedelta(days=30) else None,
                       last_activity_at=updated_at, version=1 + len(c.history), created_at=c.created_at,
                       created_by_id=c.owner_id, updated_at=updated_at, updated_by_id=c.updated_by or c.owner_id)
            rows.append(row)
            for k, (national, e164, pkind) in enumerate(c.phones):
                shared = k == 0 and c.shared_reason is not None and national in first_owner_of_phone
                first_owner_of_phone.setdefault(national, c.id)
                phones.append({"c": c.id, "n": national, "e": e164, "k": pkind, "l": "手机" if pkind == "mobile" else "座机",
                               "p": k == 0, "r": c.shared_reason if shared else None,
                               "by": c.owner_id if shared and c.shared_approved else None,
                               "at": c.created_at if shared and c.shared_approved else None,
                               "due": ((now.date() + timedelta(days=90)) if c.shared_approved else now.date())
                               if shared else None, "now": c.created_at})
            tags += [{"c": c.id, "t": t} for t in c.tags]
            staff_rows += [{"c": c.id, "s": s_} for s_ in c.contacts if s_ != c.owner_id]
            consents.append({"c": c.id, "p": "建立客户档案、提供购车与售后服务", "s": "basic", "m": "signed_form",
                             "g": c.created_at.date(), "by": c.owner_id, "at": c.created_at})
            if v.get("id_number"):
                consents.append({"c": c.id, "p": "身份核验、办理购车手续", "s": "sensitive", "m": "signed_form",
                                 "g": c.created_at.date(), "by": c.owner_id, "at": c.created_at})
            if rnd.random() < 0.4:
                consents.append({"c": c.id, "p": "接收新车型与优惠活动信息", "s": "marketing",
                                 "m": rnd.choice(("signed_form", "electronic")), "g": c.created_at.date(),
                                 "by": c.owner_id, "at": c.created_at})
            for _k in range(rnd.randrange(0, 5)):
                at = c.created_at + timedelta(days=rnd.randrange(0, max(1, (now - c.created_at).days)),
                                              minutes=rnd.randrange(0, 240))
                if at >= now:
                    continue
                contacts.append({"c": c.id, "at": at, "m": rnd.choice(("call", "visit", "letter", "email", "wechat")),
                                 "p": None, "s": rnd.choice(_SUMMARIES), "f": rnd.choice(_FEEDBACK) or None,
                                 "n": rnd.choice(_NEXT) or None, "st": rnd.choice([c.owner_id, *c.contacts]),
                                 "now": at})
            terms += [(t, c.id) for t in search_terms.customer_terms(
                name=v["name"], kind=c.kind, number=number, phones=[p[0] for p in c.phones],
                idents=(v.get("id_number"), v.get("uscc")))]
            audits.extend(_audit_entries(c, number, names))
        demo_q.insert_customers(s, columns, rows)
        # R-CUST-7: the customer who had the number first shares the reason, approval and review; an
        # approved pair carries both signatures (section chief, deputy manager).
        shared_rows = {p["n"]: p for p in phones if p["r"] is not None}
        chief, deputy = staff.get("kezhang", (None, ""))[0], staff.get("fujingli", (None, ""))[0]
        for p in phones:
            twin = shared_rows.get(p["n"])
            if twin is not None and p["r"] is None:
                p.update(r=twin["r"], by=twin["by"], at=twin["at"], due=twin["due"])
        for p in phones:
            ok = p["at"] is not None
            p.update(ci=chief if ok else None, ca=p["at"], di=deputy if ok else None, da=p["at"])
        demo_q.insert_phones(s, phones)
        demo_q.insert_tags(s, tags)
        demo_q.insert_contact_staff(s, staff_rows)
        demo_q.insert_consents(s, consents)
        demo_q.insert_contacts(s, contacts)
        for year, last in seqs.items():
            demo_q.set_customer_number_seq(s, year, last)
        search_index.bulk_insert(s, terms)
        audits.sort(key=lambda a: a[0])
        audit_store.append_many(s, [a[1] for a in audits])


def _audit_entries(c: _Cust, number: str, names: dict[int, tuple[str, str]]) -> list[tuple[datetime, dict[str, Any]]]:
    """The create entry (with the values as first entered) and one entry per historical update."""
    v = dict(c.values)
    # Roll the values back to what they were at creation.
    phones_now = ", ".join(p[0] for p in c.phones)
    first_phones = phones_now
    for _t, _who, changes, personal in reversed(c.history):
        for f_, (old, _new) in changes.items():
            v[f_] = old
        for p in personal:
            if p.field == "phones":
                first_phones = p.old or ""
            else:
                v[p.field] = p.old
    changes0: dict[str, list[Any]] = {}
    personal0: list[PersonalChange] = []
    for f_, val in v.items():
        if val in (None, False, ""):
            continue
        if f_ in PERSONAL_FIELDS:
            personal0.append(PersonalChange(f_, None, str(_plain(val))))
        else:
            changes0[f_] = [None, _plain(val)]
    changes0["owner"] = [None, names.get(c.owner_id, ("", ""))[1]]
    if c.tags:
        changes0["tags"] = [None, sorted(c.tags)]
    personal0.append(PersonalChange("phones", None, first_phones))
    owner_user = names.get(c.owner_id, ("system", ""))[0]
    out = [(c.created_at, {"at": c.created_at, "actor_id": c.owner_id, "actor_name": owner_user,
                           "action": "customer.create", "entity": "customer", "entity_id": c.id, "customer_id": c.id,
                           "details": {"number": number, "kind": c.kind, "changes": changes0},
                           "personal": personal0})]
    for t, who, changes, personal in c.history:
        details: dict[str, Any] = {"number": number, "changes": changes}
        informed = sorted(({*changes} | {p.field for p in personal}) & load_policy().inform_on_change)
        if informed:
            details.update(informed=True, inform_fields=informed)
        out.append((t, {"at": t, "actor_id": who, "actor_name": names.get(who, ("system", ""))[0],
                        "action": "customer.update", "entity": "customer", "entity_id": c.id, "customer_id": c.id,
                        "details": details, "personal": personal}))
    return out


def seed_customers(svc: Services, n: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> int:
    """The demo database's customers (called at the end of ``crm_tui.demo.seed``)."""
    return build(svc, n, seed)
