"""Search as you type (issue 4): every query type finds its customers through an index, pages by
key without repeats or losses, filters, and keeps the index in step with writes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from stdnum.cn import ric

from crm_tui.domain.errors import ValidationError
from crm_tui.domain.search_terms import parse_query
from crm_tui.services import customers as cs
from crm_tui.services.customers import ConsentInput, PhoneInput, SearchFilters
from crm_tui.store import search_index
from tests.services.conftest import Crm

ID1 = "11010519800307123" + ric.calc_check_digit("11010519800307123" + "0")


def add(crm: Crm, name: str, *phones: str, kind: str = "person", **raw: str) -> cs.CustomerRef:
    consents = [ConsentInput("身份核验", "sensitive", "signed_form")] if raw.get("id_number") else []
    return cs.create_customer(crm.svc, crm.manager, kind, {"name": name, **raw},
                              phones=[PhoneInput(p) for p in phones], consents=consents)


def found(crm: Crm, query: str, **filters: object) -> list[str]:
    page = cs.search(crm.svc, crm.manager, query, SearchFilters(**filters), limit=100)  # type: ignore[arg-type]
    return [r.name for r in page.rows]


@pytest.fixture
def people(crm: Crm) -> Crm:
    add(crm, "张三", "13800138000", id_number=ID1, category="signed", tags="VIP")
    add(crm, "李四", "13912345678", category="potential")
    add(crm, "张三丰", "010-62345678", category="potential", owner="jingli2")
    add(crm, "单田芳", "13700001111")
    add(crm, "北京建国科技有限公司", "021-55556666", kind="org", tags="VIP 大客户")
    return crm


@pytest.mark.parametrize(("query", "names"), [
    ("zs", ["张三", "张三丰"]),
    ("zhangs", ["张三", "张三丰"]),
    ("zhangsan", ["张三", "张三丰"]),
    ("ZhangSanF", ["张三丰"]),
    ("zsf", ["张三丰"]),
    ("san", ["张三", "张三丰"]),
    ("张三", ["张三", "张三丰"]),
    ("三丰", ["张三丰"]),
    ("丰", ["张三丰"]),
    ("shantianfang", ["单田芳"]),
    ("stf", ["单田芳"]),
    ("dtf", ["单田芳"]),
    ("建国科技", ["北京建国科技有限公司"]),
    ("建国科技有限公司", ["北京建国科技有限公司"]),
    ("jianguo", ["北京建国科技有限公司"]),
    ("5678", ["李四", "张三丰"]),
    ("12345678", ["李四"]),
    ("138001", ["张三"]),
    ("62345678", ["张三丰"]),
    ("01062345678", ["张三丰"]),
    ("5555 6666", ["北京建国科技有限公司"]),
    (ID1, ["张三"]),
    (ID1[:-1], []),
    ("张 8000", ["张三"]),
    ("zs 8000", ["张三"]),
    ("张 李", []),
    ("王", []),
])
def test_each_query_type_finds_its_customers(people: Crm, query: str, names: list[str]) -> None:
    assert sorted(found(people, query)) == sorted(names)


def test_customer_number_prefix_narrows_as_typed(people: Crm) -> None:
    assert len(found(people, "KH2026")) == 5
    assert found(people, "kh2026-000002") == ["李四"]
    assert len(found(people, "KH2026-00000")) == 5
    assert found(people, "KH2025") == []


def test_rows_carry_masked_phone_owner_and_tags(people: Crm) -> None:
    (row,) = cs.search(people.svc, people.actor("front_desk"), "zhangsan 8000").rows
    assert (row.number, row.kind, row.phone, row.category, row.owner, row.tags) == (
        "KH2026-000001", "person", "138****8000", "signed", "王建国", ("VIP",))
    page = cs.search(people.svc, people.manager, "张")
    assert page.count_hint == "2" and page.next_cursor is None


def test_filters(people: Crm) -> None:
    assert found(people, "张", category="signed") == ["张三"]
    assert found(people, "zs", category="potential") == ["张三丰"]
    assert sorted(found(people, "", tag="VIP")) == ["北京建国科技有限公司", "张三"]
    assert found(people, "z", tag="VIP") == ["张三"]
    jingli2 = people.actor("customer_manager2").staff_id
    assert found(people, "", owner_id=jingli2) == ["张三丰"]
    assert found(people, "zs", owner_id=jingli2) == ["张三丰"]
    with people.svc.store.write() as s:  # grades are set only by grade changes; simulate one
        s.execute(text("UPDATE customer SET grade = 'A' WHERE name = '李四'"))
    assert found(people, "", grade="A") == ["李四"]
    assert found(people, "", tag="VIP", category="signed") == ["张三"]
    assert found(people, "") == ["北京建国科技有限公司", "单田芳", "张三丰", "李四", "张三"]  # newest first


def test_the_index_follows_updates_and_erasure(people: Crm) -> None:
    ref = cs.search(people.svc, people.manager, "李四").rows[0]
    cs.update_customer(people.svc, people.manager, ref.id, {"name": "王小二"}, expected_version=1,
                       phones=[PhoneInput("13566667777")])
    assert found(people, "李四") == [] and found(people, "lisi") == [] and found(people, "912345") == []
    assert found(people, "wxe") == ["王小二"] and found(people, "6666") == ["王小二", "北京建国科技有限公司"]
    cs.erase_customer(people.svc, people.actor("deputy_manager"), ref.id, "客户要求")
    assert found(people, "wxe") == [] and found(people, "7777") == []
    assert people.count("search_term", "customer_id = :c", c=ref.id) == 0
    assert "王小二" not in found(people, "")


def test_paging_exact_queries_never_repeats_or_loses_rows(crm: Crm) -> None:
    names = [f"王{chr(0x4E00 + i)}{chr(0x4E10 + i)}" for i in range(23)]
    for i, name in enumerate(names):
        add(crm, name, f"1381234{i:04d}")
    for query, expected in (("王", set(names)), ("1234", set(names)), ("", set(names))):
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            page = cs.search(crm.svc, crm.manager, query, cursor=cursor, limit=5)
            seen += [r.name for r in page.rows]
            pages += 1
            assert page.count_hint == "23"
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert len(seen) == len(set(seen)) == 23 and set(seen) == expected, query
        assert pages == 5


def test_prefix_paging_covers_every_match_without_repeats_on_a_page(crm: Crm) -> None:
    for i in range(12):
        add(crm, f"王{chr(0x5000 + i)}", f"1391234{i:04d}")
    seen: set[int] = set()
    cursor = None
    while True:
        page = cs.search(crm.svc, crm.manager, "w", cursor=cursor, limit=4)
        ids = [r.id for r in page.rows]
        assert len(ids) == len(set(ids))
        seen |= set(ids)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == 12


def test_count_is_capped(crm: Crm) -> None:
    for i in range(7):
        add(crm, f"赵{chr(0x5100 + i)}")
    with crm.svc.store.read() as s:
        n = search_index.count(s, parse_query("赵"), search_index.Filters(), cap=5)
    assert search_index.count_hint(n, cap=5) == "5+"
    assert search_index.count_hint(3) == "3" and search_index.count_hint(1001) == "1000+"


def test_a_stale_or_foreign_cursor_is_refused(people: Crm) -> None:
    cursor = cs.search(people.svc, people.manager, "z", limit=1).next_cursor
    assert cursor
    with pytest.raises(ValidationError):
        cs.search(people.svc, people.manager, "张", cursor=cursor)
    with pytest.raises(ValidationError):
        cs.search(people.svc, people.manager, "张", cursor="garbage!")


PLAN_CASES = [
    ("张", {}), ("张三丰先生", {}), ("zs", {}), ("zhangsanfengxiansheng", {}), ("8000", {}), ("0013800", {}),
    ("KH2026-0000", {}), (ID1, {}), ("张 8000", {}), ("z 8000", {}), ("zs 张", {}), ("KH2026 张", {}),
    ("张", {"category": "signed"}), ("zs", {"owner_id": 2}), ("8000", {"tag": "VIP"}), ("z", {"grade": "A"}),
    ("", {}), ("", {"category": "signed"}), ("", {"grade": "A"}), ("", {"owner_id": 2}), ("", {"tag": "VIP"}),
    ("", {"tag": "VIP", "category": "signed"}),
]
BAD_SCAN = re.compile(r"^SCAN (?!\(subquery)")


@pytest.mark.parametrize(("query", "filters"), PLAN_CASES)
def test_every_query_type_is_an_index_lookup(people: Crm, query: str, filters: dict) -> None:
    with people.svc.store.write() as s:
        s.execute(text("ANALYZE"))
    f = search_index.Filters(**filters)
    q = parse_query(query)
    with people.svc.store.read() as s:
        cursor = None
        page = search_index.page(s, q, f, None, 1)
        cursor = page.next_cursor
        plans = [search_index.explain(s, q, f), search_index.explain(s, q, f, for_count=True)]
        if cursor:
            plans.append(search_index.explain(s, q, f, cursor))
    for plan in plans:
        assert not [line for line in plan if BAD_SCAN.match(line)], plan
        assert not [line for line in plan if "TEMP B-TREE FOR ORDER BY" in line], plan
        assert any(line.startswith("SEARCH") and ("PRIMARY KEY" in line or "INDEX" in line) for line in plan), plan
        assert not any("LIKE" in line for line in plan)
