"""The incident register (R-SEC-6): record a leak or loss, choose the affected customers by a search
or numbers (kept as a list), record measures and each customer's notice (who, when, how), close
with a report; bad input writes nothing; only the roles allowed keep it; every step is audited."""

from __future__ import annotations

from datetime import datetime

import pytest

from crm_tui.domain.errors import Conflict, PermissionDenied, ValidationError, ValidationErrors
from crm_tui.services import incidents as inc
from crm_tui.services import customers as cs
from tests.services.conftest import Crm


def _people(crm: Crm) -> list[cs.CustomerRef]:
    return [cs.create_customer(crm.svc, crm.manager, "person", {"name": n}) for n in ("张三", "张四", "李五")]


def test_r_sec_6_incident_from_record_to_closing_report(crm: Crm) -> None:
    a, b, c = _people(crm)
    chief = crm.actor("section_chief")
    iid = inc.new_incident(crm.svc, chief, "客户一览表误发外部邮箱", "营业部一名员工把客户一览表发到了外部邮箱",
                           "2026-11-23 09:30", "已联系收件人删除邮件")
    assert inc.set_affected(crm.svc, chief, iid, query="张") == 2
    assert inc.set_affected(crm.svc, chief, iid, numbers=[c.number, a.number]) == 1  # a already listed
    inc.add_measures(crm.svc, chief, iid, "已修改邮件外发规则")
    inc.record_notice(crm.svc, chief, iid, a.number, told_by="王建国", told_at="2026-11-23 09:50", method="电话")
    v = inc.get_incident(crm.svc, chief, iid)
    assert [x.number for x in v.affected] == sorted([a.number, b.number, c.number])
    told = {x.number: x for x in v.affected}[a.number]
    assert (told.notified_by, told.notice_method, told.notified_at) == ("王建国", "电话", datetime(2026, 11, 23, 9, 50))
    assert v.notified == 1 and "query: 张" in (v.query or "") and "已修改邮件外发规则" in (v.measures or "")
    inc.close(crm.svc, chief, iid, "原因：员工误操作。措施：外发审批。已告知全部受影响客户。")
    report = inc.report_text(crm.svc, chief, iid)
    for part in ("客户一览表误发外部邮箱", "Affected customers: 3, told: 1", "王建国", "not told yet", "外发审批"):
        assert part in report
    with pytest.raises(Conflict):
        inc.add_measures(crm.svc, chief, iid, "x")
    actions = [r for r in ("incident.new", "incident.affected", "incident.measures", "incident.notice",
                           "incident.close") if crm.count("audit_log", "action = :a", a=r)]
    assert len(actions) == 5


def test_r_sec_6_bad_input_says_what_and_writes_nothing(crm: Crm) -> None:
    (a, *_rest) = _people(crm)
    chief = crm.actor("section_chief")
    with pytest.raises(ValidationErrors) as err:
        inc.new_incident(crm.svc, chief, "", "x", "2030-01-01 00:00")
    assert set(err.value.by_field()) == {"title", "found_at"}
    with pytest.raises(ValidationErrors) as err:
        inc.new_incident(crm.svc, chief, "t", "d", "yesterday")
    assert err.value.by_field()["found_at"] == "Give a date and time as YYYY-MM-DD HH:MM"
    assert crm.count("incident") == 0
    iid = inc.new_incident(crm.svc, chief, "t", "d", "2026-11-23 08:00")
    with pytest.raises(ValidationError) as one:
        inc.set_affected(crm.svc, chief, iid, numbers=["C000"])
    assert "C000" in one.value.message
    with pytest.raises(ValidationError):
        inc.record_notice(crm.svc, chief, iid, a.number, told_by="x", told_at="2026-11-23 09:00", method="电话")
    with pytest.raises(ValidationError):
        inc.close(crm.svc, chief, iid, "  ")
    assert crm.count("incident_customer") == 0 and crm.count("incident", "state = 'open'") == 1


@pytest.mark.parametrize("role", ["front_desk", "customer_manager"])
def test_r_sec_6_only_the_roles_allowed_keep_the_register(crm: Crm, role: str) -> None:
    with pytest.raises(PermissionDenied):
        inc.new_incident(crm.svc, crm.actor(role), "t", "d", "2026-11-23 08:00")
    with pytest.raises(PermissionDenied):
        inc.list_incidents(crm.svc, crm.actor(role))
    assert crm.count("incident") == 0


def test_r_sec_6_erasure_keeps_that_the_customer_was_told_but_not_the_note(crm: Crm) -> None:
    (a, *_rest) = _people(crm)
    chief = crm.actor("section_chief")
    iid = inc.new_incident(crm.svc, chief, "t", "d", "2026-11-23 08:00")
    inc.set_affected(crm.svc, chief, iid, numbers=[a.number])
    inc.record_notice(crm.svc, chief, iid, a.number, told_by="王建国", told_at="2026-11-23 09:00", method="电话",
                      note="客户张三表示理解")
    cs.erase_customer(crm.svc, crm.actor("deputy_manager"), a.id, "客户要求删除")
    x = inc.get_incident(crm.svc, chief, iid).affected[0]
    assert x.notice_note is None and x.notified_at is not None and x.name != "张三"
