"""R-FU-4: the supervisor's daily check that no visitor goes unregistered: the day's visits at the
branch, cards and contact-log visits without a line in the front-desk register, each resolved by
linking a line of that day or by a reason; supervisors only, audited, bad input writes nothing."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied, ValidationErrors
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services import register_check as rc
from tests.services.conftest import Crm
from tests.services.test_followups import CARD, customer

DAY = date(2026, 11, 23)


def _day_of_work(crm: Crm) -> dict[str, int]:
    """One customer registered at the desk (card + branch visit): nothing to check; another with a
    card, a branch visit and a contact-log visit but no register line; a phone call visit (not a
    visitor) for the first one."""
    mgr, desk = crm.manager, crm.actor("front_desk")
    ok = customer(crm, "张三", "13800138000")
    fu.add_register(crm.svc, desk, {"name": "张三", "source": "walk_in"}, customer_id=ok)
    ok_card = fu.create_card(crm.svc, mgr, ok, CARD)
    fu.log_visit(crm.svc, mgr, ok_card.id, {"method": "store", "content": "到店看车", "level": "H"})
    fu.log_visit(crm.svc, mgr, ok_card.id, {"method": "call", "content": "电话确认", "level": "H"})
    missing = customer(crm, "李四", "13900139000")
    card = fu.create_card(crm.svc, mgr, missing, CARD)
    crm.clock.advance(minutes=30)
    visit = fu.log_visit(crm.svc, mgr, card.id, {"method": "store", "content": "到店谈价格", "level": "A"})
    contact = cs.add_contact(crm.svc, mgr, missing, "visit", "来访送资料")
    cs.add_contact(crm.svc, mgr, missing, "call", "电话问候")  # an outgoing call: not listed
    return {"ok": ok, "missing": missing, "card": card.id, "visit": visit.visit_id, "contact": contact}


def test_r_fu_4_lists_the_days_visits_cards_and_contacts_without_a_register_line(crm: Crm) -> None:
    """R-FU-4: supervisors check that no visitor goes unregistered."""
    ids = _day_of_work(crm)
    chief = crm.actor("section_chief")
    items = rc.unregistered(crm.svc, chief, DAY)
    assert {(i.kind, i.ref_id) for i in items} == {("card", ids["card"]), ("visit", ids["visit"]),
                                                    ("contact", ids["contact"])}
    assert all(i.customer_id == ids["missing"] and i.customer_name == "李四" and not i.resolved for i in items)
    assert rc.unregistered(crm.svc, chief, date(2026, 11, 24)) == []
    # a register line for 李四 the same day answers all three
    fu.add_register(crm.svc, crm.actor("front_desk"), {"name": "李四", "source": "walk_in"},
                    customer_id=ids["missing"])
    assert rc.unregistered(crm.svc, chief, DAY) == []


def test_r_fu_4_each_item_resolved_by_a_line_of_the_day_or_a_reason_audited(crm: Crm) -> None:
    """R-FU-4: resolving links a register line (tying a line without archive to the customer, and
    the card to its line) or records why there is none; both audited, each once."""
    ids = _day_of_work(crm)
    chief, desk = crm.actor("section_chief"), crm.actor("front_desk")
    line = fu.add_register(crm.svc, desk, {"name": "李女士", "source": "walk_in"})  # typed without archive
    rc.resolve(crm.svc, chief, "card", ids["card"], DAY, register_id=line)
    # the line now belongs to 李四, so the visit and the contact of that day are answered as well
    assert rc.unregistered(crm.svc, chief, DAY, include_resolved=False) == []
    [done] = rc.unregistered(crm.svc, chief, DAY)
    assert done.resolved and done.register_id == line and done.resolved_by == "陈志强"
    assert crm.count("followup_card", "id = :i AND register_id = :l", i=ids["card"], l=line) == 1
    assert crm.count("audit_log", "action = 'register.check_resolve'") == 1
    assert crm.count("audit_log", "action = 'register.link'") == 1
    with pytest.raises(Conflict):
        rc.resolve(crm.svc, chief, "card", ids["card"], DAY, reason="重复处理")


def test_r_fu_4_a_reason_marks_an_item_and_bad_input_writes_nothing(crm: Crm) -> None:
    """R-FU-4: a reason or a line, never both or neither; a line of another day or customer refused."""
    ids = _day_of_work(crm)
    chief, desk = crm.actor("section_chief"), crm.actor("front_desk")
    other = fu.add_register(crm.svc, desk, {"name": "张三", "source": "walk_in"}, customer_id=ids["ok"])
    before = (crm.count("register_check"), crm.count("audit_log"))
    for kw, field in (({}, "reason"), ({"reason": "有", "register_id": other}, "reason"), ({"reason": "短"}, "reason"),
                      ({"register_id": "x"}, "register_id"), ({"register_id": other}, "register_id"),
                      ({"register_id": 99999}, "register_id")):
        with pytest.raises(ValidationErrors) as err:
            rc.resolve(crm.svc, chief, "visit", ids["visit"], DAY, **kw)  # type: ignore[arg-type]
        assert field in err.value.by_field(), kw
    with pytest.raises(NotFound):
        rc.resolve(crm.svc, chief, "visit", 99999, DAY, reason="客户未到店")
    assert (crm.count("register_check"), crm.count("audit_log")) == before
    rc.resolve(crm.svc, chief, "contact", ids["contact"], DAY, reason="经理上门拜访客户，非来访")
    items = {i.kind: i for i in rc.unregistered(crm.svc, chief, DAY)}
    assert items["contact"].resolved and items["contact"].reason == "经理上门拜访客户，非来访"
    assert not items["visit"].resolved


@pytest.mark.parametrize("role", ["front_desk", "customer_manager", "internal_control", "admin"])
def test_r_fu_4_only_supervisors_run_the_check(crm: Crm, role: str) -> None:
    """R-FU-4: the check is the supervisors' (register.supervise); others are refused and audited."""
    ids = _day_of_work(crm)
    with pytest.raises(PermissionDenied):
        rc.unregistered(crm.svc, crm.actor(role), DAY)
    with pytest.raises(PermissionDenied):
        rc.resolve(crm.svc, crm.actor(role), "card", ids["card"], DAY, reason="没有登记的原因")
    assert crm.count("register_check") == 0
    assert rc.unregistered(crm.svc, crm.actor("deputy_manager"), DAY)
