"""Follow-up cards, visits, queues, review, ownership and the front-desk register (issue 6,
R-FU-1..6): permissions for every role, bad input leaves nothing written, everything audited and
on the customer's timeline."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError, ValidationErrors
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services import home
from crm_tui.services.customers import PhoneInput
from crm_tui.store import audit as audit_store
from tests.services.conftest import Crm

CARD = {"first_reception_date": "2026-11-23", "intent_level": "H", "source": "walk_in", "product": "SUV 2.0T",
        "budget": "20万", "first_reception_summary": "看了两款车，关心油耗"}
VISIT = {"method": "call", "content": "电话回访，约周末试驾", "level": "A", "feedback": "价格偏高",
         "objections": "要求送保养"}
ALL_ROLES = ("front_desk", "customer_manager", "section_chief", "deputy_manager", "internal_control", "admin")


def customer(crm: Crm, name: str = "张三", phone: str = "13800138000", actor: str = "customer_manager") -> int:
    return cs.create_customer(crm.svc, crm.actor(actor), "person", {"name": name},
                              phones=[PhoneInput(phone)] if phone else []).id


def card(crm: Crm, cid: int | None = None, actor: str = "customer_manager", **raw: str) -> fu.CardRef:
    return fu.create_card(crm.svc, crm.actor(actor), cid if cid is not None else customer(crm), {**CARD, **raw})


def audits(crm: Crm, prefix: str) -> list[dict]:
    with crm.svc.store.read() as s:
        return [dict(r) for r in s.execute(text("SELECT * FROM audit_log WHERE action LIKE :a ORDER BY id"),
                                            {"a": prefix + "%"}).mappings()]


def counts(crm: Crm) -> dict[str, int]:
    return {t: crm.count(t) for t in ("followup_card", "followup_visit", "register_entry", "ownership_claim",
                                      "customer", "audit_value")}


# -- cards and cadence ----------------------------------------------------------------------------


def test_r_fu_2_create_card_schedules_first_visit_and_is_audited(crm: Crm) -> None:
    ref = card(crm)
    assert ref.number == "A2026-00001"
    view = fu.get_card(crm.svc, crm.manager, ref.id)
    assert view.next_due == date(2026, 11, 25)  # Monday + 2 working days at H
    assert view.review_due == date(2026, 11, 26)
    assert view.values["product"] == "SUV 2.0T" and view.owner == "王建国" and view.status == "open"
    [row] = audits(crm, "followup.card_create")
    assert row["actor_name"] == "jingli" and row["customer_id"] == view.customer_id
    assert card(crm, customer(crm, "李四", "13900139000")).number == "A2026-00002"


def test_r_fu_2_bad_card_input_writes_nothing(crm: Crm) -> None:
    cid = customer(crm)
    before = counts(crm)
    with pytest.raises(ValidationErrors) as e:
        fu.create_card(crm.svc, crm.manager, cid, {"intent_level": "Q", "source": "", "first_reception_date": "x"})
    assert set(e.value.by_field()) == {"intent_level", "source", "first_reception_date", "first_reception_summary"}
    with pytest.raises(ValidationErrors) as e:
        fu.create_card(crm.svc, crm.manager, cid, CARD, owner="nobody")
    assert "owner" in e.value.by_field()
    with pytest.raises(NotFound):
        fu.create_card(crm.svc, crm.manager, 99999, CARD)
    assert counts(crm) == before


def test_r_fu_3_each_visit_reschedules_by_the_new_level(crm: Crm) -> None:
    ref = card(crm)
    crm.clock.now = datetime(2026, 11, 25, 15, 0)  # Wednesday, the due day
    res = fu.log_visit(crm.svc, crm.manager, ref.id, VISIT)
    assert res.next_due == date(2026, 12, 1) and res.status == "open"  # Wed + 4 working days (A)
    crm.clock.now = datetime(2026, 11, 27, 11, 0)  # Friday
    res = fu.log_visit(crm.svc, crm.manager, ref.id, {**VISIT, "level": "C"})
    assert res.next_due == date(2026, 12, 18)  # + 15 working days
    view = fu.get_card(crm.svc, crm.manager, ref.id)
    assert view.values["intent_level"] == "C" and len(view.visits) == 2
    assert view.visits[0].level_before == "A" and view.visits[0].level_after == "C"
    [a1, a2] = audits(crm, "followup.visit")
    assert '"intent_level": ["A", "C"]' in a2["details"] or "intent_level" in a2["details"]


def test_r_fu_3_next_date_overridden_with_a_reason(crm: Crm) -> None:
    ref = card(crm)
    with pytest.raises(ValidationErrors) as e:
        fu.log_visit(crm.svc, crm.manager, ref.id, {**VISIT, "next_due": "2026-12-10"})
    assert "override_reason" in e.value.by_field()
    res = fu.log_visit(crm.svc, crm.manager, ref.id, {**VISIT, "next_due": "2026-12-10",
                                                      "override_reason": "客户出差两周"})
    assert res.next_due == date(2026, 12, 10)
    assert fu.get_card(crm.svc, crm.manager, ref.id).next_due_reason == "客户出差两周"


def test_r_fu_1_visit_at_level_o_wins_and_f_loses(crm: Crm) -> None:
    won = card(crm)
    res = fu.log_visit(crm.svc, crm.manager, won.id, {**VISIT, "level": "O"})
    assert res.status == "won" and res.next_due is None
    with pytest.raises(Conflict):
        fu.log_visit(crm.svc, crm.manager, won.id, VISIT)
    lost = card(crm, customer(crm, "王五", "13700137000"))
    with pytest.raises(ValidationErrors):
        fu.log_visit(crm.svc, crm.manager, lost.id, {**VISIT, "level": "F"})
    res = fu.log_visit(crm.svc, crm.manager, lost.id, {**VISIT, "level": "F", "lost_reason": "买了竞品"})
    view = fu.get_card(crm.svc, crm.manager, lost.id)
    assert view.status == "lost" and view.status_reason == "买了竞品" and view.next_due is None


def test_r_fu_1_close_and_reopen(crm: Crm) -> None:
    ref = card(crm)
    with pytest.raises(ValidationError):
        fu.close_card(crm.svc, crm.manager, ref.id, "lost", "")
    with pytest.raises(ValidationError):
        fu.close_card(crm.svc, crm.manager, ref.id, "maybe", "x")
    fu.close_card(crm.svc, crm.manager, ref.id, "lost", "预算不足")
    with pytest.raises(Conflict):
        fu.close_card(crm.svc, crm.manager, ref.id, "won")
    with pytest.raises(PermissionDenied):
        fu.reopen_card(crm.svc, crm.manager, ref.id, "客户回来了")
    due = fu.reopen_card(crm.svc, crm.actor("section_chief"), ref.id, "客户回来了", "B")
    assert due == crm.svc.now().date() + timedelta(days=9)  # Mon + 7 working days = Wed next week
    assert fu.get_card(crm.svc, crm.manager, ref.id).status == "open"
    fu.close_card(crm.svc, crm.manager, ref.id, "void", "重复建卡")
    with pytest.raises(Conflict):
        fu.reopen_card(crm.svc, crm.actor("section_chief"), ref.id, "x")


def test_only_the_consultant_or_a_supervisor_works_the_card(crm: Crm) -> None:
    ref = card(crm)
    other = crm.actor("customer_manager2")
    before = counts(crm)
    with pytest.raises(PermissionDenied, match="王建国"):
        fu.log_visit(crm.svc, other, ref.id, VISIT)
    with pytest.raises(PermissionDenied):
        fu.close_card(crm.svc, other, ref.id, "won")
    with pytest.raises(PermissionDenied):
        fu.get_card(crm.svc, other, ref.id)
    assert counts(crm)["followup_visit"] == before["followup_visit"]
    assert any("followup.owner" in r["details"] for r in audits(crm, "permission.denied"))
    fu.log_visit(crm.svc, crm.actor("section_chief"), ref.id, VISIT)


def test_update_card_and_stale_version(crm: Crm) -> None:
    ref = card(crm)
    v = fu.get_card(crm.svc, crm.manager, ref.id).version
    v2 = fu.update_card(crm.svc, crm.manager, ref.id, {"budget": "25万", "intent_level": "B"}, expected_version=v)
    view = fu.get_card(crm.svc, crm.manager, ref.id)
    assert view.values["budget"] == "25万" and view.next_due == date(2026, 12, 2) and view.version == v2
    with pytest.raises(Conflict):
        fu.update_card(crm.svc, crm.manager, ref.id, {"budget": "1"}, expected_version=v)
    with pytest.raises(ValidationErrors):
        fu.update_card(crm.svc, crm.manager, ref.id, {"intent_level": "O"}, expected_version=v2)


# -- permissions per role -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_create_card(crm: Crm, role: str) -> None:
    cid = customer(crm)
    allowed = role in ("front_desk", "customer_manager", "section_chief")
    if allowed:
        fu.create_card(crm.svc, crm.actor(role), cid, CARD, owner="jingli")
    else:
        with pytest.raises(PermissionDenied):
            fu.create_card(crm.svc, crm.actor(role), cid, CARD)
        assert crm.count("followup_card") == 0
        assert audits(crm, "permission.denied")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_sign_review(crm: Crm, role: str) -> None:
    ref = card(crm)
    allowed = role in ("section_chief", "deputy_manager")
    if allowed:
        fu.sign_review(crm.svc, crm.actor(role), ref.id, "信息完整，同意")
        assert fu.get_card(crm.svc, crm.manager, ref.id).reviewed_at is not None
    else:
        with pytest.raises(PermissionDenied):
            fu.sign_review(crm.svc, crm.actor(role), ref.id, "ok")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_register(crm: Crm, role: str) -> None:
    allowed = role in ("front_desk", "customer_manager", "section_chief")
    if allowed:
        fu.add_register(crm.svc, crm.actor(role), {"name": "张先生", "source": "walk_in"})
    else:
        with pytest.raises(PermissionDenied):
            fu.add_register(crm.svc, crm.actor(role), {"name": "张先生", "source": "walk_in"})
        assert crm.count("register_entry") == 0


# -- review ----------------------------------------------------------------------------------------


def test_supervisor_review_signing_rules(crm: Crm) -> None:
    chief = crm.actor("section_chief")
    ref = card(crm)
    with pytest.raises(ValidationError):
        fu.sign_review(crm.svc, chief, ref.id, "  ")
    assert [r.id for r in fu.queue(crm.svc, chief, "review").rows] == [ref.id]
    crm.clock.now = datetime(2026, 11, 27, 9, 0)  # past the 3-working-day review deadline
    assert fu.get_card(crm.svc, chief, ref.id).review_late
    items = {i.key: i for i in home.today(crm.svc, chief)}
    assert items["followup.review_late"].count == 1 and items["followup.review_late"].urgent
    fu.sign_review(crm.svc, chief, ref.id, "同意，跟进试驾")
    with pytest.raises(Conflict):
        fu.sign_review(crm.svc, crm.actor("deputy_manager"), ref.id, "again")
    assert fu.queue(crm.svc, chief, "review").rows == []
    own = card(crm, customer(crm, "赵六", "13600136000", "section_chief"), actor="section_chief")
    assert own.id not in [r.id for r in fu.queue(crm.svc, chief, "review").rows]  # another supervisor signs it
    assert own.id in [r.id for r in fu.queue(crm.svc, crm.actor("deputy_manager"), "review").rows]
    with pytest.raises(Conflict, match="own"):
        fu.sign_review(crm.svc, chief, own.id, "ok")


# -- queues -----------------------------------------------------------------------------------------


def test_r_fu_3_queues_today_overdue_week_and_per_consultant(crm: Crm) -> None:
    a = card(crm)  # H: due Wed 25th
    b = card(crm, customer(crm, "李四", "13900139000"), intent_level="N")  # due Tue 24th
    c = fu.create_card(crm.svc, crm.actor("customer_manager2"), customer(crm, "王五", "13700137000", "customer_manager2"),
                       {**CARD, "intent_level": "C"})
    m = crm.manager
    assert [r.id for r in fu.queue(crm.svc, m, "week").rows] == [b.id, a.id]
    crm.clock.now = datetime(2026, 11, 25, 9, 0)
    assert [r.id for r in fu.queue(crm.svc, m, "today").rows] == [a.id]
    assert [r.id for r in fu.queue(crm.svc, m, "overdue").rows] == [b.id]
    assert fu.has_overdue(crm.svc, m)
    chief = crm.actor("section_chief")
    assert {r.id for r in fu.queue(crm.svc, chief, "open").rows} == {a.id, b.id, c.id}
    assert [r.id for r in fu.queue(crm.svc, chief, "open", owner_id=crm.actor("customer_manager2").staff_id).rows] \
        == [c.id]
    # a manager cannot peek at a colleague's queue
    assert {r.id for r in fu.queue(crm.svc, m, "open", owner_id=crm.actor("customer_manager2").staff_id).rows} \
        == {a.id, b.id}
    with pytest.raises(PermissionDenied):
        fu.queue(crm.svc, m, "review")
    items = {i.key: i.count for i in home.today(crm.svc, m)}
    assert items["followup.overdue"] == 1 and items["followup.due_today"] == 1
    fu.log_visit(crm.svc, m, b.id, VISIT)
    assert fu.queue(crm.svc, m, "overdue").rows == []
    assert not fu.has_overdue(crm.svc, m)


def test_queue_keyset_paging(crm: Crm) -> None:
    refs = [card(crm, customer(crm, "客户" + "甲乙丙丁戊己庚"[i], f"1391234{i:04d}")) for i in range(7)]
    seen: list[int] = []
    cursor = None
    while True:
        page = fu.queue(crm.svc, crm.manager, "open", cursor=cursor, limit=3)
        seen += [r.id for r in page.rows]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == [r.id for r in refs]


# -- ownership ----------------------------------------------------------------------------------------


def test_ownership_conflict_shows_the_owner_and_a_supervisor_decides(crm: Crm) -> None:
    cid = customer(crm, actor="customer_manager")  # owned by 王建国
    other = crm.actor("customer_manager2")
    before = counts(crm)
    with pytest.raises(fu.OwnershipConflict) as e:
        fu.create_card(crm.svc, other, cid, CARD, owner="jingli2")
    assert e.value.owner == "王建国" and "王建国" in str(e.value)
    with pytest.raises(fu.OwnershipConflict):  # default owner = the actor? no: the customer's owner
        fu.create_card(crm.svc, crm.actor("front_desk"), cid, CARD, owner="jingli2")
    assert counts(crm) == before
    claim = fu.claim_customer(crm.svc, other, cid, "客户指定由赵丽华接待")
    with pytest.raises(Conflict):
        fu.claim_customer(crm.svc, other, cid, "again")
    with pytest.raises(PermissionDenied):
        fu.decide_claim(crm.svc, other, claim, True)
    existing = card(crm, cid)  # the owner's own card
    chief = crm.actor("section_chief")
    assert [c.id for c in fu.pending_claims(crm.svc, chief)] == [claim]
    fu.decide_claim(crm.svc, chief, claim, True, "客户要求")
    assert cs.get_customer(crm.svc, chief, cid).owner == "赵丽华"
    assert fu.get_card(crm.svc, chief, existing.id).owner == "赵丽华"
    with pytest.raises(Conflict):
        fu.decide_claim(crm.svc, chief, claim, False)
    titles = [e.title for e in cs.timeline(crm.svc, chief, cid)]
    assert any("Follow-up card" in t for t in titles)


def test_supervisor_can_take_over_explicitly(crm: Crm) -> None:
    cid = customer(crm)
    ref = fu.create_card(crm.svc, crm.actor("section_chief"), cid, CARD, owner="jingli2", take_over=True)
    assert fu.get_card(crm.svc, crm.actor("section_chief"), ref.id).owner == "赵丽华"
    assert cs.get_customer(crm.svc, crm.manager, cid).owner == "赵丽华"


# -- register ------------------------------------------------------------------------------------


def test_r_fu_4_register_line_then_archive_and_card_in_one_key(crm: Crm) -> None:
    desk = crm.actor("front_desk")
    crm.clock.now = datetime(2026, 11, 23, 10, 5)
    rid = fu.add_register(crm.svc, desk, {"name": "孙小美", "phone": "13512345678", "companions": "丈夫",
                                           "arrived_at": "09:50", "product": "轿车", "source": "walk_in",
                                           "summary": "首次到店看车", "kind": "walk_in", "trial": "yes"},
                          consultant="jingli")
    [row] = fu.register_page(crm.svc, desk).rows
    assert row.name == "孙小美" and row.trial and row.consultant == "王建国" and row.customer_id is None
    assert row.phone != "13512345678"  # masked for the front desk
    fu.mark_departed(crm.svc, desk, rid)
    with pytest.raises(Conflict):
        fu.mark_departed(crm.svc, desk, rid)
    ref = fu.card_from_register(crm.svc, desk, rid)
    view = fu.get_card(crm.svc, crm.manager, ref.id)
    assert view.owner == "王建国" and view.values["product"] == "轿车" and view.values["intent_level"] == "N"
    assert view.next_due == date(2026, 11, 24)
    assert cs.get_customer(crm.svc, crm.manager, view.customer_id).owner == "王建国"
    # one key again: the same open card, not a second one
    assert fu.card_from_register(crm.svc, desk, rid) == ref
    titles = [e.title for e in cs.timeline(crm.svc, crm.manager, view.customer_id)]
    assert any("front-desk register" in t for t in titles)


def test_r_fu_4_bad_register_input_and_supervisor_problem_list(crm: Crm) -> None:
    desk = crm.actor("front_desk")
    before = counts(crm)
    with pytest.raises(ValidationErrors) as e:
        fu.add_register(crm.svc, desk, {"name": "", "source": "", "phone": "12"}, consultant="ghost")
    assert set(e.value.by_field()) == {"name", "source", "phone", "consultant"}
    assert counts(crm) == before
    fu.add_register(crm.svc, desk, {"name": "王先生", "source": "phone", "kind": "call"})
    with pytest.raises(PermissionDenied):
        fu.register_page(crm.svc, desk, problems=True)
    chief = crm.actor("section_chief")
    assert [r.name for r in fu.register_page(crm.svc, chief, problems=True).rows] == ["王先生"]
    assert {i.key: i.count for i in home.today(crm.svc, chief)}["register.problems"] == 1


# -- review table, audit chain ----------------------------------------------------------------------


def test_r_fu_5_weekly_review_and_export(crm: Crm, tmp_path: Path) -> None:
    a = card(crm)
    card(crm, customer(crm, "李四", "13900139000"), source="online", intent_level="B")
    fu.log_visit(crm.svc, crm.manager, a.id, {**VISIT, "level": "O"})
    chief = crm.actor("section_chief")
    review = fu.weekly_review(crm.svc, chief)
    [row] = review.staff
    assert row.staff == "王建国" and row.by_level == {"B": 1} and row.new_cards == 2 and row.visits == 1
    by_source = {s.source: (s.cards, s.won) for s in review.sources}
    assert by_source == {"Walk-in": (1, 1), "Online": (1, 0)} or by_source == {"自然到店": (1, 1), "网络": (1, 0)}
    with pytest.raises(PermissionDenied):
        fu.weekly_review(crm.svc, crm.manager)
    path = fu.export_review(crm.svc, chief, tmp_path / "review.xlsx")
    wb = load_workbook(path)
    assert len(wb.sheetnames) == 2
    assert audits(crm, "followup.review_export")


def test_audit_chain_verifies_after_followup_work(crm: Crm) -> None:
    ref = card(crm)
    fu.log_visit(crm.svc, crm.manager, ref.id, VISIT)
    fu.close_card(crm.svc, crm.manager, ref.id, "won")
    with crm.svc.store.read() as s:
        assert audit_store.verify(s).first_broken is None


def test_r_cust_13_erasure_destroys_followup_text_but_keeps_the_numbers(crm: Crm) -> None:
    cid = customer(crm)
    ref = card(crm, cid)
    fu.log_visit(crm.svc, crm.manager, ref.id, VISIT)
    fu.add_register(crm.svc, crm.actor("front_desk"), {"name": "张三", "phone": "13800138000", "source": "walk_in",
                                                        "summary": "看车"}, customer_id=cid)
    cs.erase_customer(crm.svc, crm.actor("deputy_manager"), cid, "客户要求删除")
    with crm.svc.store.read() as s:
        row = s.execute(text("SELECT number, intent_level, product, first_reception_summary FROM followup_card"
                             " WHERE id = :i"), {"i": ref.id}).one()
        visit = s.execute(text("SELECT content, objections, method FROM followup_visit")).one()
        reg = s.execute(text("SELECT name, phone, summary, source FROM register_entry")).one()
    assert tuple(row) == (ref.number, "A", None, None)
    assert tuple(visit) == (None, None, "call")
    assert tuple(reg) == ("", None, None, "walk_in")


def test_r_cust_13_register_values_typed_before_the_archive_are_erased_with_it(crm: Crm) -> None:
    desk = crm.actor("front_desk")
    rid = fu.add_register(crm.svc, desk, {"name": "周先生", "phone": "13611112222", "source": "walk_in"})
    with pytest.raises(ValidationErrors) as e:
        fu.card_from_register(crm.svc, desk, rid)  # no consultant on the line
    assert set(e.value.by_field()) == {"consultant"}
    rid = fu.add_register(crm.svc, desk, {"name": "孙小美", "phone": "13512345678", "source": "walk_in"},
                          consultant="jingli")
    ref = fu.card_from_register(crm.svc, desk, rid)
    cid = fu.get_card(crm.svc, crm.manager, ref.id).customer_id
    cs.erase_customer(crm.svc, crm.actor("deputy_manager"), cid, "客户要求删除")
    with crm.svc.store.read() as s:
        left = s.execute(text("SELECT count(*) FROM audit_value WHERE new_value LIKE '%孙小美%'"
                              " OR new_value LIKE '%13512345678%'")).scalar_one()
        assert audit_store.verify(s).first_broken is None
    assert left == 0


def test_a_visit_entered_late_does_not_reset_the_cadence_R_FU_3(crm: Crm) -> None:
    """R-FU-3: the cadence restarts at the newest visit. A back-dated visit entered after a newer one
    is recorded but leaves the level and due date the newest visit set; a visit before the card date
    is refused at its field and writes nothing."""
    ref = card(crm)
    crm.clock.advance(days=3)  # Thursday 2026-11-26
    newest = fu.log_visit(crm.svc, crm.manager, ref.id, {**VISIT, "level": "B"})
    view = fu.get_card(crm.svc, crm.manager, ref.id)
    assert (view.values["intent_level"], view.next_due) == ("B", newest.next_due)
    late = fu.log_visit(crm.svc, crm.manager, ref.id, {**VISIT, "level": "H", "at": "2026-11-24 09:00"})
    view = fu.get_card(crm.svc, crm.manager, ref.id)
    assert (view.values["intent_level"], view.next_due) == ("B", newest.next_due)
    assert late.next_due == newest.next_due and len(view.visits) == 2
    with pytest.raises(ValidationErrors) as e:
        fu.log_visit(crm.svc, crm.manager, ref.id, {**VISIT, "level": "O", "at": "2026-11-25 09:00"})
    assert set(e.value.by_field()) == {"level"}
    before = crm.count("followup_visit")
    with pytest.raises(ValidationErrors) as e:
        fu.log_visit(crm.svc, crm.manager, ref.id, {**VISIT, "at": "2026-11-20 09:00"})
    assert set(e.value.by_field()) == {"at"} and "2026-11-23" in e.value.by_field()["at"]
    assert crm.count("followup_visit") == before
