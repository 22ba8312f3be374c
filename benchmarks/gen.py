"""Synthetic customer archives at branch scale and beyond, deterministic from a seed.

    python benchmarks/gen.py --customers 100000 --dir /tmp/bench-100k [--seed 20261201]

Creates a real SQLCipher database the normal way (``system.create_empty`` + ``open_services``:
migrations, WAL, the key held in memory), adds the demo staff accounts (password ``demo1234``) and
then writes customers FAST with plain-SQL ``executemany`` on the store's own DB-API connection,
filling exactly what ``services.customers.create_customer`` fills for each customer:

* ``customer`` (every writable column, the derived search columns, completeness and deadline),
* ``customer_phone``, ``customer_tag``, ``customer_staff``, ``customer_consent``,
* ``search_term`` (``domain.search_terms.customer_terms``, the same function the service uses),
* ``customer_number_seq``,
* ``audit_log`` + ``audit_value``: one ``customer.create`` entry per customer with the same
  details and personal-value commitments the service writes, hash-chained,
* and a contact log (calls, visits: ``customer_contact`` + its ``customer.contact`` audit entry,
  as ``services.customers.add_contact`` writes it) for about a third of the customers.

Then, unless ``--no-areas``, follow-up cards with their visits, complaints and grade changes
(``gen_areas.py``: a second pass over the customers, written in bulk the same way, each row one
the services could have written, with its audit entries). ``--areas-only`` runs that pass alone
on an existing file whose customers have none yet (e.g. a 1M file made before the areas existed).

The data: persons (85 %) with a realistic surname distribution (the ~100 commonest surnames by
their census shares, a tail of rarer ones incl. special readings like 单 and 区, and compound
surnames such as 欧阳 and 司马), given names of 1, 2 or (rarely) 3 characters; mobiles from real
prefixes and landlines with real area codes; ID numbers with a valid check digit; addresses;
organisations with a unified social credit code.

The database key is written to ``<dir>/bench.key`` (hex, mode 0600) so ``run.py`` can open the
file: synthetic data only - never do this with a real database.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, time as dtime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stdnum.cn import ric  # noqa: E402

from crm_tui.domain import audit as chain  # noqa: E402
from crm_tui.domain import search_terms  # noqa: E402
from crm_tui.domain.calendar import WorkCalendar  # noqa: E402
from crm_tui.domain.customers import PERSONAL_FIELDS, format_number, load_policy, maintenance_due, missing_fields  # noqa: E402
from crm_tui.store.audit import HASH_HEX, compact_details  # noqa: E402

NOW = datetime(2026, 11, 30, 17, 0, 0)  # the generated world's "now" (fixed: deterministic output)
DEFAULT_SEED = 20261201
PASSWORD = "demo1234"
DEFAULT_CACHE_MIB = 4096  # page cache of the generating connection (see Writer)
OWNERS = ("jingli", "jingli2", "qiantai", "kezhang")

# ------------------------------------------------------------------------------------------------
# Names
# ------------------------------------------------------------------------------------------------

#: The commonest surnames with their approximate share (per mille) of the population.
_SURNAMES = (
    ("王", 71), ("李", 70), ("张", 67), ("刘", 54), ("陈", 45), ("杨", 31), ("黄", 21), ("赵", 20),
    ("吴", 20), ("周", 19), ("徐", 13), ("孙", 12), ("马", 12), ("朱", 11), ("胡", 10), ("郭", 9.7),
    ("何", 9.4), ("林", 9.3), ("高", 8.7), ("罗", 8.6), ("郑", 8.0), ("梁", 7.0), ("谢", 6.0),
    ("宋", 5.3), ("唐", 5.0), ("许", 5.0), ("韩", 4.8), ("冯", 4.7), ("邓", 4.6), ("曹", 4.5),
    ("彭", 4.3), ("曾", 4.1), ("肖", 4.1), ("田", 4.0), ("董", 3.9), ("袁", 3.8), ("潘", 3.7),
    ("于", 3.6), ("蒋", 3.5), ("蔡", 3.5), ("余", 3.4), ("杜", 3.3), ("叶", 3.3), ("程", 3.2),
    ("苏", 3.1), ("魏", 3.0), ("吕", 3.0), ("丁", 2.9), ("任", 2.8), ("沈", 2.7), ("姚", 2.6),
    ("卢", 2.6), ("姜", 2.5), ("崔", 2.4), ("钟", 2.4), ("谭", 2.3), ("陆", 2.2), ("汪", 2.2),
    ("范", 2.1), ("金", 2.1), ("石", 2.0), ("廖", 2.0), ("贾", 1.9), ("夏", 1.9), ("韦", 1.8),
    ("付", 1.7), ("方", 1.7), ("白", 1.7), ("邹", 1.6), ("孟", 1.6), ("熊", 1.6), ("秦", 1.5),
    ("邱", 1.5), ("江", 1.5), ("尹", 1.4), ("薛", 1.4), ("闫", 1.3), ("段", 1.3), ("雷", 1.3),
    ("侯", 1.2), ("龙", 1.2), ("史", 1.2), ("陶", 1.1), ("黎", 1.1), ("贺", 1.1), ("顾", 1.0),
    ("毛", 1.0), ("郝", 1.0), ("龚", 1.0), ("邵", 1.0), ("万", 1.0), ("钱", 0.9), ("严", 0.9),
    ("覃", 0.9), ("武", 0.9), ("戴", 0.9), ("莫", 0.8), ("孔", 0.8), ("向", 0.8), ("汤", 0.8),
    # a tail of rarer surnames, some with a special surname reading (search_terms.SURNAME_READINGS)
    ("常", 0.6), ("温", 0.6), ("康", 0.6), ("施", 0.5), ("文", 0.5), ("牛", 0.5), ("樊", 0.5),
    ("葛", 0.5), ("邢", 0.5), ("安", 0.4), ("齐", 0.4), ("易", 0.4), ("乔", 0.4), ("伍", 0.4),
    ("庞", 0.4), ("颜", 0.4), ("倪", 0.4), ("庄", 0.3), ("聂", 0.3), ("章", 0.3), ("鲁", 0.3),
    ("岳", 0.3), ("翟", 0.3), ("殷", 0.3), ("詹", 0.3), ("申", 0.3), ("欧", 0.3), ("耿", 0.3),
    ("关", 0.3), ("兰", 0.3), ("焦", 0.3), ("俞", 0.3), ("左", 0.3), ("柳", 0.3), ("甘", 0.3),
    ("祝", 0.3), ("包", 0.2), ("宁", 0.2), ("尚", 0.2), ("符", 0.2), ("舒", 0.2), ("阮", 0.2),
    ("柯", 0.2), ("纪", 0.2), ("梅", 0.2), ("童", 0.2), ("凌", 0.2), ("毕", 0.2), ("单", 0.2),
    ("季", 0.2), ("裴", 0.2), ("霍", 0.2), ("涂", 0.2), ("成", 0.2), ("苗", 0.2), ("谷", 0.2),
    ("盛", 0.2), ("曲", 0.2), ("翁", 0.2), ("冉", 0.2), ("骆", 0.2), ("蓝", 0.2), ("路", 0.2),
    ("游", 0.2), ("辛", 0.2), ("靳", 0.2), ("解", 0.1), ("仇", 0.1), ("区", 0.1), ("朴", 0.1),
    ("查", 0.1), ("盖", 0.1), ("乐", 0.1), ("缪", 0.1), ("种", 0.05), ("召", 0.05), ("尉", 0.05),
    # compound surnames (复姓)
    ("欧阳", 0.6), ("上官", 0.15), ("司马", 0.15), ("诸葛", 0.1), ("东方", 0.1), ("皇甫", 0.08),
    ("尉迟", 0.05), ("公孙", 0.05), ("慕容", 0.05), ("令狐", 0.05), ("司徒", 0.1), ("夏侯", 0.05),
    ("长孙", 0.03), ("宇文", 0.03), ("端木", 0.03), ("西门", 0.02),
)
_MALE = ("伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "鑫",
         "波", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "阳", "建", "国", "志",
         "文", "海", "峰", "亮", "东", "兵", "晨", "博", "家", "子", "轩", "浩然", "宇航", "一鸣", "俊杰",
         "德", "成", "新", "永", "春", "荣", "庆", "生", "振", "天", "晓", "思", "泽", "睿", "嘉", "毅", "坤")
_FEMALE = ("芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "燕", "玲", "桂", "丹", "萍", "红", "玉",
           "兰", "婷", "雪", "琳", "颖", "倩", "洁", "梅", "莉", "慧", "晶", "佳", "欣", "怡", "悦", "雨",
           "涵", "诗", "梓", "萱", "紫", "琪", "彤", "晓", "思", "淑", "美", "春", "月", "凤", "英", "琴",
           "婉", "璐", "瑶", "薇", "蕾", "莹", "妍", "宁", "文", "君", "雅", "心")
_PLACES = (  # province, city, districts, area code of the city, ID area codes
    ("北京市", "", ("东城区", "西城区", "朝阳区", "海淀区", "丰台区", "昌平区"), "010", ("110101", "110102", "110105", "110108")),
    ("上海市", "", ("黄浦区", "徐汇区", "浦东新区", "静安区", "闵行区"), "021", ("310101", "310104", "310115", "310112")),
    ("广东省", "广州市", ("天河区", "越秀区", "海珠区", "白云区"), "020", ("440106", "440104", "440105", "440111")),
    ("广东省", "深圳市", ("南山区", "福田区", "罗湖区", "宝安区", "龙岗区"), "0755", ("440305", "440304", "440303", "440306")),
    ("浙江省", "杭州市", ("西湖区", "上城区", "拱墅区", "滨江区"), "0571", ("330106", "330102", "330105", "330108")),
    ("江苏省", "南京市", ("玄武区", "秦淮区", "鼓楼区", "建邺区"), "025", ("320102", "320104", "320106", "320105")),
    ("四川省", "成都市", ("锦江区", "青羊区", "武侯区", "成华区"), "028", ("510104", "510105", "510107", "510108")),
    ("湖北省", "武汉市", ("江岸区", "武昌区", "洪山区", "汉阳区"), "027", ("420102", "420106", "420111", "420105")),
    ("陕西省", "西安市", ("雁塔区", "碑林区", "未央区", "长安区"), "029", ("610113", "610103", "610112", "610116")),
    ("山东省", "青岛市", ("市南区", "市北区", "崂山区", "黄岛区"), "0532", ("370202", "370203", "370212", "370211")),
    ("福建省", "厦门市", ("思明区", "湖里区", "集美区"), "0592", ("350203", "350206", "350211")),
    ("重庆市", "", ("渝中区", "江北区", "沙坪坝区", "九龙坡区"), "023", ("500103", "500105", "500106", "500107")),
    ("天津市", "", ("和平区", "河西区", "南开区"), "022", ("120101", "120103", "120104")),
    ("辽宁省", "沈阳市", ("和平区", "沈河区", "皇姑区"), "024", ("210102", "210103", "210105")),
    ("湖南省", "长沙市", ("芙蓉区", "天心区", "岳麓区"), "0731", ("430102", "430103", "430104")),
)
_ROADS = ("人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "长江路", "黄河路", "文化路", "胜利路",
          "朝阳路", "光明路", "科技园路", "学府路", "滨江大道", "世纪大道", "东风路", "青年路", "花园路", "体育路")
_ESTATES = ("阳光花园", "锦绣家园", "翠苑小区", "金色家园", "幸福里", "碧水湾", "东方名苑", "书香门第", "绿城花园")
_ORG_WORDS = ("华信", "宏达", "鑫源", "恒通", "金盛", "天合", "博远", "中科", "瑞丰", "永兴", "昌盛", "泰和",
              "联创", "嘉禾", "新锐", "长城", "东方", "四海", "汇通", "腾飞", "德润", "安达", "凯旋", "正元")
_ORG_TRADES = (("科技", "技术开发、技术咨询、技术服务", "it"), ("物流", "货物运输；仓储服务", "logistics"),
               ("建筑工程", "建筑工程施工；建筑材料销售", "construction"), ("餐饮管理", "餐饮服务；食品销售", "hospitality"),
               ("汽车服务", "汽车销售；汽车零配件销售；汽车维修", "trade"), ("贸易", "货物进出口；日用百货销售", "trade"),
               ("物业管理", "物业管理；房屋租赁", "other"), ("医疗器械", "医疗器械销售", "health"),
               ("教育咨询", "教育咨询服务", "education"), ("食品", "食品生产；食品销售", "manufacturing"))
_ORG_FORMS = ("有限公司", "有限公司", "有限责任公司", "股份有限公司")
_JOBS = ("教师", "医生", "工程师", "公务员", "会计", "销售经理", "个体工商户", "护士", "律师", "司机", "程序员",
         "设计师", "退休", "自由职业", "企业职员", "厨师", "电工", "出租车司机", "公司经理", "研究员")
_EMPLOYERS = ("中国移动通信集团", "国家电网公司", "市第一人民医院", "实验中学", "中国银行分行", "市政府办公厅",
              "华为技术有限公司", "本地物流公司", "区教育局", "建设银行支行", "万科物业", "美团")
_NEEDS = ("计划年内购置一台家用车，预算二十万左右", "公司车辆更新，需要批量采购方案", "关注售后保养套餐",
          "咨询分期付款方案", "需要商务接待用车", "想了解新能源车型和充电桩安装", "续保和保险理赔咨询")
_CREDIT = ("按时付款，无不良记录", "偶有逾期，已结清", "首次合作，信用待观察", "银行流水稳定", "有担保人")
_TAGS = ("VIP", "老客户", "转介绍", "大客户", "价格敏感", "需回访", "企业采购", "车队")
_MOBILE_PREFIXES = tuple(str(p) for p in (*range(130, 140), 145, 147, 150, 151, 152, 153, 155, 156, 157, 158,
                                           159, 166, 173, 175, 176, 177, 178, *range(180, 190), 191, 198, 199))
_SUMMARIES = ("电话回访，了解用车需求", "客户到店看车，试驾了两款车型", "寄送了新款车型资料", "邮件发送报价单",
              "微信沟通保养预约", "拜访客户公司，介绍团购政策", "客户咨询贷款利率", "通知客户参加周末试驾活动")
_FEEDBACK = ("对价格比较满意", "还在比较其他品牌", "希望再优惠一些", "对服务很满意", "需要和家人商量", "")
_NEXT = ("三天后电话跟进", "下周安排试驾", "发送最新报价", "等待客户回复", "")


class Weighted:
    """Fast weighted choice from a fixed table (bisect over the cumulative weights)."""

    def __init__(self, items: tuple[tuple[Any, float], ...]) -> None:
        self.values = [v for v, _w in items]
        self.cum = list(accumulate(w for _v, w in items))

    def __call__(self, rnd: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cum, rnd.random() * self.cum[-1])]


SURNAME = Weighted(_SURNAMES)


def _given_pool(chars: tuple[str, ...], seed: int) -> Weighted:
    """Given names as people have them: a few very common, a long tail (Zipf weights); 1, 2 and
    (rarely) 3 characters."""
    r = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < 2500:
        k = r.random()
        n = 1 if k < 0.16 else 2 if k < 0.985 else 3
        names["".join(r.choice(chars)[0] for _ in range(n))] = None
    return Weighted(tuple((g, 1.0 / (i + 10)) for i, g in enumerate(names)))


_GIVEN = {True: _given_pool(_MALE, 1), False: _given_pool(_FEMALE, 2)}


def person_name(rnd: random.Random, male: bool) -> str:
    return SURNAME(rnd) + _GIVEN[male](rnd)


def id_number(rnd: random.Random, area: str, birth: date, male: bool) -> str:
    seq = rnd.randrange(0, 100) * 10 + rnd.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    body = area + birth.strftime("%Y%m%d") + f"{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_W = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_W = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc(rnd: random.Random, area: str) -> str:
    org = [rnd.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8)]
    check = 11 - sum(_USCC_CHARS.index(c) * w for c, w in zip(org, _ORG_W)) % 11
    org.append("X" if check == 10 else "0" if check == 11 else str(check))
    body = "91" + area + "".join(org)
    c = 31 - sum(_USCC_CHARS.index(ch) * w for ch, w in zip(body, _USCC_W)) % 31
    return body + _USCC_CHARS[0 if c == 31 else c]


# ------------------------------------------------------------------------------------------------
# Customers
# ------------------------------------------------------------------------------------------------


@dataclass
class Gen:
    """One customer as create_customer would have been called with (cleaned values)."""

    kind: str
    created_at: datetime
    owner: int
    values: dict[str, Any]
    phones: list[tuple[str, str, str, str | None]]  # national, e164, kind, label
    tags: list[str]
    contacts_staff: list[int]
    consents: list[tuple[str, str, str, date]]  # purpose, scope, method, given_at
    log: list[tuple[datetime, str, str, str | None, str | None, int]]  # at, method, summary, feedback, next, staff


class World:
    def __init__(self, seed: int, owners: list[int]) -> None:
        self.rnd = random.Random(seed)
        self.owners = owners
        self.used_phones: set[str] = set()
        self.used_ids: set[str] = set()
        pol = load_policy()
        self.cats = list(pol.categories)
        self.sources = list(pol.sources)
        self.credit = list(pol.credit_ratings)
        self.risk = list(pol.risk_ratings)
        self.industries = set(pol.industries)
        self.sizes = list(pol.sizes)
        self.methods = list(pol.contact_methods)

    def mobile(self) -> tuple[str, str, str, str | None]:
        rnd = self.rnd
        while True:
            n = rnd.choice(_MOBILE_PREFIXES) + f"{rnd.randrange(10**8):08d}"
            if n not in self.used_phones:
                self.used_phones.add(n)
                return n, "+86" + n, "mobile", rnd.choice((None, None, None, "手机"))

    def landline(self, area_code: str) -> tuple[str, str, str, str | None]:
        rnd = self.rnd
        while True:
            n = area_code + str(rnd.randrange(2, 9)) + f"{rnd.randrange(10**7):07d}"
            if n not in self.used_phones:
                self.used_phones.add(n)
                return n, "+86" + n[1:], "landline", rnd.choice((None, "座机", "办公室", "家里"))

    def address(self, place: tuple) -> str:
        rnd = self.rnd
        prov, city, districts, _code, _areas = place
        a = f"{prov}{city}{rnd.choice(districts)}{rnd.choice(_ROADS)}{rnd.randrange(1, 999)}号"
        if rnd.random() < 0.6:
            a += f"{rnd.choice(_ESTATES)}{rnd.randrange(1, 30)}栋{rnd.randrange(1, 33)}{rnd.randrange(1, 6):02d}室"
        return a

    def customer(self, created: datetime) -> Gen:
        rnd = self.rnd
        person = rnd.random() < 0.85
        place = rnd.choice(_PLACES)
        owner = rnd.choice(self.owners)
        v: dict[str, Any] = {}
        v["category"] = rnd.choices(self.cats, weights=(35, 30, 25, 10))[0]
        v["source"] = rnd.choice(self.sources)
        v["credit_rating"] = rnd.choices(self.credit, weights=(5, 20, 45, 20, 10))[0]
        v["risk_rating"] = rnd.choices(self.risk, weights=(60, 30, 10))[0]
        v["address"] = self.address(place)
        v["postcode"] = place[4][0][:2] + f"{rnd.randrange(10**4):04d}"
        if rnd.random() < 0.92:
            v["business_needs"] = rnd.choice(_NEEDS)
        if rnd.random() < 0.9:
            v["credit_status"] = rnd.choice(_CREDIT)
        if v["category"] == "signed":
            v["coop_since"] = rnd.randrange(2010, created.year + 1)
        phones = []
        if person:
            male = rnd.random() < 0.52
            v["name"] = person_name(rnd, male)
            v["gender"] = "M" if male else "F"
            birth = date(rnd.randrange(1950, 2005), rnd.randrange(1, 13), rnd.randrange(1, 29))
            v["birth_date"] = birth
            v["occupation"] = rnd.choice(_JOBS)
            if rnd.random() < 0.5:
                v["employer"] = rnd.choice(_EMPLOYERS)
            if rnd.random() < 0.25:
                v["email"] = f"u{rnd.randrange(10**9)}@{rnd.choice(('qq.com', '163.com', '126.com', 'sina.com'))}"
            if rnd.random() < 0.55:
                while True:
                    num = id_number(rnd, rnd.choice(place[4]), birth, male)
                    if num not in self.used_ids:
                        self.used_ids.add(num)
                        break
                v["id_number"] = num
            phones.append(self.mobile())
            if rnd.random() < 0.2:
                phones.append(self.mobile() if rnd.random() < 0.5 else self.landline(place[3]))
        else:
            trade, scope, industry = rnd.choice(_ORG_TRADES)
            city = (place[1] or place[0])[:-1]
            v["name"] = f"{city}{rnd.choice(_ORG_WORDS)}{rnd.choice(_ORG_WORDS)}{trade}{rnd.choice(_ORG_FORMS)}"
            v["contact_person"] = person_name(rnd, rnd.random() < 0.5)
            v["legal_rep"] = person_name(rnd, rnd.random() < 0.7)
            v["uscc"] = uscc(rnd, place[4][0])
            v["industry"] = industry if industry in self.industries else None
            v["size"] = rnd.choice(self.sizes)
            v["business_scope"] = scope
            v["registered_capital"] = f"{rnd.choice((50, 100, 200, 500, 1000, 5000)) * 10000}.00"
            v["key_decision_makers"] = f"{person_name(rnd, True)}（总经理）、{person_name(rnd, False)}（采购经理）"
            phones.append(self.landline(place[3]))
            phones.append(self.mobile())
        v = {k: val for k, val in v.items() if val is not None}
        tags = sorted(rnd.sample(_TAGS, rnd.randrange(1, 3))) if rnd.random() < 0.3 else []
        staff = []
        important = rnd.random() < 0.06
        if important or rnd.random() < 0.2:
            others = [o for o in self.owners if o != owner]
            staff = [rnd.choice(others)] if others else []
        if important:
            v["important"] = True
        consents = [("建立客户档案、提供购车与售后服务", "basic", "signed_form", created.date())]
        if v.get("id_number"):
            consents.append(("身份核验、办理购车手续", "sensitive", "signed_form", created.date()))
        if rnd.random() < 0.4:
            consents.append(("接收新车型与优惠活动信息", "marketing", rnd.choice(("signed_form", "electronic")),
                             created.date()))
        log = []
        if rnd.random() < 0.35:
            for _k in range(rnd.randrange(1, 4)):
                at = created + timedelta(days=rnd.randrange(0, max(1, (NOW - created).days)),
                                         minutes=rnd.randrange(0, 240))
                if at < NOW:
                    log.append((at, rnd.choice(self.methods), rnd.choice(_SUMMARIES), rnd.choice(_FEEDBACK) or None,
                                rnd.choice(_NEXT) or None, rnd.choice([owner, *staff])))
        return Gen("person" if person else "org", created, owner, v, phones, tags, staff, consents, sorted(log))


# ------------------------------------------------------------------------------------------------
# Writing: what create_customer + add_contact write, in bulk
# ------------------------------------------------------------------------------------------------


_canon = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode


def _commitment(salt: str, field: str, new: str | None) -> str:  # domain.audit.commitment(salt, field, None, new)
    return hashlib.sha256(_canon([salt, field, None, new]).encode()).hexdigest()


def _row_hash(prev_hash: str, row: dict[str, Any]) -> str:  # domain.audit.row_hash
    payload = {**row, "at": row["at"].isoformat(timespec="microseconds")}
    h = hashlib.sha256()
    h.update(prev_hash.encode())
    h.update(_canon(payload).encode())
    return h.hexdigest()


def _plain(v: Any) -> Any:  # services.customers._plain
    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (list, tuple, set, frozenset)):
        return sorted(str(x) for x in v)
    return v


def _personal_text(v: Any) -> str | None:
    p = _plain(v)
    if p is None:
        return None
    return ", ".join(p) if isinstance(p, list) else str(p)


class Writer:
    def __init__(self, svc: Any, seed: int, cache_mib: int = DEFAULT_CACHE_MIB) -> None:
        from sqlalchemy import text

        from crm_tui.services.customers import _WRITABLE

        self.svc = svc
        self.salt_rnd = random.Random(seed ^ 0x5A17)
        self.writable = _WRITABLE
        self.cal = WorkCalendar()
        self.due_cache: dict[tuple[date, str], datetime | None] = {}
        self.term_cache: dict[tuple[str, str], tuple[frozenset[str], str | None, str | None]] = {}
        with svc.store.read() as s:
            rows = s.execute(text("SELECT id, username, display_name FROM staff")).all()
        self.username = {r[0]: r[1] for r in rows}
        self.display = {r[0]: r[2] for r in rows}
        self.columns = (*self.writable, "number", "kind", "owner_id", "search_name", "search_pinyin",
                        "missing_fields", "incomplete_due", "false_info", "business_stopped", "needs_informing",
                        "last_activity_at", "version", "created_at", "created_by_id", "updated_at", "updated_by_id")
        self.raw = svc.store.engine.raw_connection()
        self.conn = self.raw.driver_connection
        # The page cache must hold the randomly written B-trees (search_term, the customer's name,
        # pinyin and phone indexes): at 1 GiB a file past ~400k customers re-read and re-decrypted
        # its index pages on every batch and generation fell to ~200 customers/s.
        self.conn.execute(f"PRAGMA cache_size = -{cache_mib * 1024}")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        head = self.conn.execute(f"SELECT id, {HASH_HEX} FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        self.audit_id, self.prev = (head[0], head[1]) if head else (0, chain.GENESIS)
        self.next_id = (self.conn.execute("SELECT coalesce(max(id), 0) FROM customer").fetchone()[0]) + 1
        self.first_id = 0  # the generator's customers are ids 1..n (create_db makes none)
        self.seqs = dict(self.conn.execute("SELECT year, last FROM customer_number_seq").fetchall())

    def close(self) -> None:
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.raw.close()

    def _salt(self) -> str:
        return f"{self.salt_rnd.getrandbits(128):032x}"

    def skip(self, g: Gen) -> None:
        """Advance the salt stream past a customer already in the file (resuming): one salt per
        personal value of its create entry, as ``write`` draws them."""
        for f_ in self.writable:
            v = g.values.get(f_)
            if f_ == "important":
                v = bool(v)
            if v in (None, False) or f_ not in PERSONAL_FIELDS:
                continue
            self.salt_rnd.getrandbits(128)
        self.salt_rnd.getrandbits(128)  # phones

    def _audit(self, rows: list[tuple], values: list[tuple], at: datetime, actor: int, action: str, entity: str,
               entity_id: int, customer_id: int, details: dict[str, Any], personal: list[tuple[str, str]]) -> None:
        """store.audit.append, in memory: the same row, hash and personal-value commitments."""
        self.audit_id += 1
        own: list[tuple] = []  # (field, old, new, salt): the stored form drops what they give back
        if personal:
            commitments = {}
            for field, new in personal:
                salt = self._salt()
                commitments[field] = _commitment(salt, field, new)
                values.append((self.audit_id, None, field, None, new, bytes.fromhex(salt)))  # whose: audit_log's
                own.append((field, None, new, salt))
            details["personal"] = commitments
        row = {"id": self.audit_id, "at": at, "actor_id": actor, "actor_name": self.username[actor],
               "on_behalf_of_id": None, "action": action, "entity": entity, "entity_id": str(entity_id),
               "customer_id": customer_id, "details": _canon(details)}
        h = _row_hash(self.prev, row)
        rows.append((self.audit_id, at.isoformat(sep=" ", timespec="microseconds"), actor, row["actor_name"], None,
                     action, entity, row["entity_id"], customer_id, compact_details(row["details"], own), bytes.fromhex(h)))
        self.prev = h

    def _terms(self, name: str, kind: str) -> tuple[frozenset[str], str | None, str | None]:
        hit = self.term_cache.get((name, kind))
        if hit is None:
            forms = search_terms.pinyin_forms(name, person=kind == "person")
            terms = frozenset(search_terms.name_terms(name) | search_terms.pinyin_terms(forms))
            sname, spinyin = search_terms.search_columns(name, kind)
            hit = (terms, sname, spinyin)
            if len(self.term_cache) < 400_000:
                self.term_cache[(name, kind)] = hit
        return hit

    def _due(self, created: datetime, missing: dict[str, list[str]]) -> datetime | None:
        if not missing:
            return None
        key = (created.date(), ",".join(sorted(missing)))
        if key not in self.due_cache:
            self.due_cache[key] = maintenance_due(created, missing, self.cal)
        return self.due_cache[key]

    def write(self, batch: list[Gen]) -> None:
        cust, phones, tags, staff_rows, consents, contacts, terms, audits, avals = ([] for _ in range(9))
        events: list[tuple[datetime, int, Any]] = []
        for g in batch:
            cid = self.next_id
            self.next_id += 1
            year = g.created_at.year
            self.seqs[year] = self.seqs.get(year, 0) + 1
            number = format_number(year, self.seqs[year])
            values = {k: g.values.get(k) for k in self.writable}
            values["important"] = bool(g.values.get("important"))
            missing = missing_fields({**values, "phones": len(g.phones)}, g.kind)
            due = self._due(g.created_at, missing)
            name_terms, sname, spinyin = self._terms(values["name"], g.kind)
            last_activity = g.log[-1][0] if g.log else g.created_at
            cust.append((*values.values(), number, g.kind, g.owner, sname, spinyin,
                         json.dumps(missing, separators=(",", ":")) if missing else None, due, False, False, False,
                         last_activity, 1, g.created_at, g.owner, g.created_at, g.owner, cid))
            for k, (national, e164, pkind, label) in enumerate(g.phones):
                phones.append((cid, national, e164, pkind, label, k == 0, None, None, g.created_at))
            tags += [(cid, t) for t in g.tags]
            staff_rows += [(cid, s) for s in g.contacts_staff if s != g.owner]
            consents += [(cid, p, s, m, given, None, g.owner, g.created_at) for p, s, m, given in g.consents]
            terms += [(t, cid) for t in name_terms]
            terms.append(("k:" + number.upper(), cid))
            for p in g.phones:
                terms += [(t, cid) for t in search_terms.phone_terms(p[0])]
            for x in (values.get("id_number"), values.get("uscc")):
                if x:
                    terms.append(("x:" + x.upper(), cid))
            # the create entry, as create_customer builds it
            changes: dict[str, Any] = {}
            personal: list[tuple[str, str]] = []
            for f_, v in values.items():
                if v in (None, False):
                    continue
                if f_ in PERSONAL_FIELDS:
                    personal.append((f_, _personal_text(v)))
                else:
                    changes[f_] = [None, _plain(v)]
            changes["owner"] = [None, self.display.get(g.owner)]
            if g.contacts_staff:
                changes["staff_contacts"] = [None, sorted(self.display[s] for s in g.contacts_staff if s != g.owner)]
            if g.tags:
                changes["tags"] = [None, sorted(g.tags)]
            personal.append(("phones", ", ".join(p[0] + (f" ({p[3]})" if p[3] else "") for p in g.phones)))
            details = {"number": number, "kind": g.kind, "changes": changes,
                       "consents": [{"scope": s, "method": m} for _p, s, m, _g in g.consents]}
            events.append((g.created_at, 0, ("customer.create", g.owner, "customer", cid, cid, details, personal)))
            for at, method, summary, feedback, nxt, st in g.log:
                contacts.append((cid, at, method, None, summary, feedback, nxt, st, at))
                events.append((at, 1, ("customer.contact", st, "customer_contact", len(contacts), cid,
                                       {"number": number, "method": method}, [])))
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            cols = self.columns + ("id",)
            c.executemany(f"INSERT INTO customer ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", cust)
            c.executemany("INSERT INTO customer_phone (customer_id, national, e164, kind, label, is_primary,"
                          " shared_reason, shared_review_due, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", phones)
            c.executemany("INSERT INTO customer_tag (customer_id, tag) VALUES (?, ?)", tags)
            c.executemany("INSERT INTO customer_staff (customer_id, staff_id) VALUES (?, ?)", staff_rows)
            c.executemany("INSERT INTO customer_consent (customer_id, purpose, scope, method, given_at, note,"
                          " recorded_by_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", consents)
            first_contact = c.execute("SELECT coalesce(max(id), 0) FROM customer_contact").fetchone()[0]
            c.executemany("INSERT INTO customer_contact (customer_id, at, method, participants, summary, feedback,"
                          " next_action, staff_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", contacts)
            terms.sort()
            c.executemany("INSERT OR IGNORE INTO search_term (term, customer_id) VALUES (?, ?)", terms)
            for year, last in self.seqs.items():
                c.execute("INSERT INTO customer_number_seq (year, last) VALUES (?, ?)"
                          " ON CONFLICT(year) DO UPDATE SET last = excluded.last", (year, last))
            events.sort(key=lambda e: (e[0], e[1]))
            for at, kind, (action, actor, entity, eid, cid, details, personal) in events:
                if kind == 1:
                    eid += first_contact
                self._audit(audits, avals, at, actor, action, entity, eid, cid, details, personal)
            c.executemany("INSERT INTO audit_log (id, at, actor_id, actor_name, on_behalf_of_id, action, entity,"
                          " entity_id, customer_id, details, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)", audits)
            c.executemany("INSERT INTO audit_value (audit_id, customer_id, field, old_value, new_value, salt)"
                          " VALUES (?, ?, ?, ?, ?, ?)", avals)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# ------------------------------------------------------------------------------------------------
# Database
# ------------------------------------------------------------------------------------------------


def create_db(folder: Path) -> tuple[Any, bytes]:
    """A new encrypted database with the demo staff accounts, made as the app makes one."""
    from crm_tui import demo
    from crm_tui.services import staff, system
    from crm_tui.services.context import Actor

    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    place = system.Place(folder / "data", system.memory_key_store())
    system.create_empty(place)
    key = place.key_store.get(place.db_file)
    assert key is not None
    key_file = folder / "bench.key"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex())
    svc = system.open_services(place, clock=lambda: NOW)
    first = staff.create_first_admin(svc, "admin", PASSWORD, "系统管理员")
    admin = Actor(first, "admin", "系统管理员", frozenset({"admin"}))
    for username, display, roles in demo.DEMO_ACCOUNTS[1:]:
        staff.add_user_with_password(svc, admin, username, roles, PASSWORD, display)
    return svc, key


def open_db(folder: Path, clock: Any = None) -> Any:
    """Open a generated database (key from ``<folder>/bench.key``)."""
    from crm_tui.services import system
    from crm_tui.store.keys import MemoryKeyStore

    key = bytes.fromhex((folder / "bench.key").read_text().strip())
    ks = MemoryKeyStore()
    place = system.Place(folder / "data", ks)
    ks.put(place.db_file, key)
    return system.open_services(place, clock=clock or (lambda: NOW))


def owner_ids(svc: Any) -> list[int]:
    from sqlalchemy import text

    with svc.store.read() as s:
        ids = dict(s.execute(text("SELECT username, id FROM staff")).all())
    return [ids[u] for u in OWNERS if u in ids]


def generate(svc: Any, n: int, seed: int = DEFAULT_SEED, *, batch: int = 20_000, progress: bool = False,
             upto: int | None = None, resume: bool = False, cache_mib: int = DEFAULT_CACHE_MIB) -> float:
    """Add ``n`` customers created over the five years before NOW, oldest first. Returns seconds.

    ``upto`` stops after that many (a file that can later be resumed); ``resume`` continues a file
    made with the same ``n``, ``seed`` and ``batch``: the customers already in it are drawn again
    (not written) so the random streams continue exactly where they stopped - the result equals a
    file generated in one go."""
    t0 = time.perf_counter()
    world = World(seed, owner_ids(svc))
    writer = Writer(svc, seed, cache_mib)
    span = (NOW - timedelta(days=5 * 365) - NOW).total_seconds()
    start = NOW - timedelta(days=5 * 365)
    have = writer.next_id - 1 - writer.first_id if resume else 0
    if have % batch and have < n:
        raise SystemExit(f"the file holds {have:,} generated customers, not a multiple of --batch {batch:,}")
    stop = min(n, upto if upto is not None else n)
    try:
        done = 0
        while done < stop:
            size = min(batch, n - done)
            created = sorted(start + timedelta(seconds=-span * (done + i + world.rnd.random()) / n)
                             for i in range(size))
            gens = [world.customer(t.replace(microsecond=0)) for t in created]
            if done < have:
                for g in gens:
                    writer.skip(g)
                if done + size == have:  # the file must be what these arguments generate
                    last = writer.conn.execute("SELECT name, created_at FROM customer WHERE id = ?",
                                               (writer.first_id + have,)).fetchone()
                    if tuple(last) != (gens[-1].values["name"], str(gens[-1].created_at)):
                        raise SystemExit(f"customer {have:,} in the file is {tuple(last)}, these arguments "
                                         f"draw {gens[-1].values['name']!r}: not the same --customers/--seed/--batch")
            else:
                writer.write(gens)
            done += size
            if progress:
                el = time.perf_counter() - t0
                what = "skipped (already in the file)" if done <= have else f"({(done - have) / el:,.0f}/s)"
                print(f"  {done:>9,} customers  {el:7.1f} s  {what}", file=sys.stderr, flush=True)
    finally:
        writer.close()
    return time.perf_counter() - t0


def generate_areas(svc: Any, seed: int = DEFAULT_SEED, *, batch: int = 20_000, progress: bool = False,
                   cache_mib: int = DEFAULT_CACHE_MIB, resume: bool = False,
                   upto: int | None = None) -> dict[str, float]:
    """Follow-up cards, visits, complaints and grade changes for the customers in the file
    (benchmarks/gen_areas.py). Returns row counts and seconds."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import gen_areas

    return gen_areas.generate_areas(svc, seed, NOW, batch=batch, progress=progress, cache_mib=cache_mib,
                                    resume=resume, upto=upto)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=None, help="how many customers (not with --areas-only)")
    ap.add_argument("--dir", type=Path, required=True, help="a new folder for the database")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--batch", type=int, default=20_000)
    ap.add_argument("--upto", type=int, default=None,
                    help="stop after this many customers (with --areas-only: after the area rows of this many)")
    ap.add_argument("--resume", action="store_true",
                    help="continue a file made with the same --customers, --seed and --batch (with --areas-only: "
                         "continue an areas pass made with the same --seed and --batch)")
    ap.add_argument("--areas-only", action="store_true",
                    help="add follow-up cards, visits, complaints and grade changes to the customers of an "
                         "existing generated file (which has none yet)")
    ap.add_argument("--no-areas", action="store_true", help="customers only")
    ap.add_argument("--cache-mib", type=int, default=DEFAULT_CACHE_MIB)
    args = ap.parse_args()
    exists = (args.dir / "data" / "crm.db").exists()
    if args.areas_only:
        if not exists:
            sys.exit(f"{args.dir}/data/crm.db does not exist: --areas-only fills an existing file")
        svc = open_db(args.dir)
        try:
            k = generate_areas(svc, args.seed, batch=args.batch, progress=True, cache_mib=args.cache_mib,
                               resume=args.resume, upto=args.upto)
        finally:
            svc.close()
        _report_areas(k)
        return
    if args.customers is None:
        sys.exit("--customers is required (or --areas-only)")
    if exists and not args.resume:
        sys.exit(f"{args.dir}/data/crm.db exists; choose a new folder (or --resume)")
    if args.resume and not exists:
        sys.exit(f"{args.dir}/data/crm.db does not exist: nothing to resume")
    svc = open_db(args.dir) if args.resume else create_db(args.dir)[0]
    k = None
    try:
        secs = generate(svc, args.customers, args.seed, batch=args.batch, progress=True, upto=args.upto,
                        resume=args.resume, cache_mib=args.cache_mib)
        if not args.no_areas and (args.upto is None or args.upto >= args.customers):
            k = generate_areas(svc, args.seed, batch=args.batch, progress=True, cache_mib=args.cache_mib,
                               resume=args.resume)
    finally:
        svc.close()
    size = (args.dir / "data" / "crm.db").stat().st_size
    print(f"{args.customers:,} customers in {secs:.1f} s; {size / 2**20:.1f} MiB "
          f"({size / max(1, args.customers) / 1024:.2f} KiB per customer)")
    if k:
        _report_areas(k)


def _report_areas(k: dict[str, float]) -> None:
    s = max(k["seconds"], 1e-9)
    print(f"areas for {k['customers']:,} customers in {s:.1f} s ({k['customers'] / s:,.0f} customers/s): "
          f"{k['cards']:,} follow-up cards, {k['visits']:,} visits, {k['complaints']:,} complaints "
          f"({k['complaint_events']:,} events), {k['grade_applications']:,} grade change applications, "
          f"{k['audit']:,} audit entries")
    print("  seconds: " + ", ".join(f"{n[2:]} {v:.1f}" for n, v in k.items() if n.startswith("s_")))


if __name__ == "__main__":
    main()
