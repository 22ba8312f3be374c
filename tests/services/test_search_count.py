"""The list's count in its own call (issue 22, item 1): the list screen shows a page first
(``search(count=False)``) and asks ``search_count`` afterwards; both agree with ``search``."""

from __future__ import annotations

from crm_tui.services import customers as cs
from crm_tui.services.customers import PhoneInput, SearchFilters
from tests.services.conftest import Crm


def test_page_without_count_and_count_alone_agree_with_search(crm: Crm) -> None:
    for i in range(7):
        cs.create_customer(crm.svc, crm.manager, "person",
                           {"name": f"钱{chr(0x4E00 + i)}", "category": "signed" if i % 2 else "potential"},
                           phones=[PhoneInput(f"1390000{i:04d}")])
    actor = crm.manager
    for query, filters in (("", SearchFilters()), ("钱", SearchFilters()), ("qian", SearchFilters()),
                           ("钱", SearchFilters(category="signed")), ("nobody", SearchFilters())):
        full = cs.search(crm.svc, actor, query, filters, limit=3)
        bare = cs.search(crm.svc, actor, query, filters, limit=3, count=False)
        assert bare.count_hint == ""  # not counted
        assert [r.id for r in bare.rows] == [r.id for r in full.rows] and bare.next_cursor == full.next_cursor
        assert cs.search_count(crm.svc, actor, query, filters) == full.count_hint
    assert cs.search_count(crm.svc, actor, "钱") == "7"
    assert cs.search_count(crm.svc, actor, "钱", SearchFilters(category="signed")) == "3"
