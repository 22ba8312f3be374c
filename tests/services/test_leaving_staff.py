"""Leaving staff (R-CUST-11, R-SEC-1): disabling an account that still holds customers, open cards,
assigned tickets, pending grade applications, 'other staff in contact' rows or A/B cover duties is
refused, listing what it holds; with a receiver, everything moves in one transaction, audited, and
the customers are marked to be told of their new contact."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from crm_tui.domain.errors import PermissionDenied, ValidationError
from crm_tui.services import complaints as cp
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services import grades as gs
from crm_tui.services import staff
from tests.services.conftest import Crm

CARD = {"first_reception_date": "2026-11-23", "intent_level": "H", "source": "walk_in", "product": "SUV 2.0T",
        "budget": "20万", "first_reception_summary": "看了两款车"}
TICKET = {"channel": "phone", "ack_method": "phone", "category": "service/waiting", "severity": "normal",
          "description": "排队一小时无人接待", "demand": "希望道歉"}


def _loaded_manager(crm: Crm) -> dict[str, int]:
    """jingli (customer manager) owns two customers, has an open card, a ticket, a pending grade
    application, is 'other staff in contact' for kezhang's customer, and covers for jingli2."""
    mgr, chief = crm.manager, crm.actor("section_chief")
    c1 = cs.create_customer(crm.svc, mgr, "person", {"name": "张三"}).id
    c2 = cs.create_customer(crm.svc, mgr, "person", {"name": "李四"}).id
    c3 = cs.create_customer(crm.svc, chief, "person", {"name": "王五", "staff_contacts": "jingli"}).id
    card = fu.create_card(crm.svc, mgr, c1, CARD).id
    ticket = cp.file_complaint(crm.svc, crm.actor("front_desk"), c2, TICKET).id
    cp.assign(crm.svc, chief, ticket, "jingli")
    app = gs.file_application(crm.svc, mgr, c1, "B", "年度合作金额增长，信用评级提升")
    cover = staff.set_cover(crm.svc, crm.actors["admin"], "jingli2", "jingli", date(2026, 11, 24), date(2026, 12, 5))
    return {"c1": c1, "c2": c2, "c3": c3, "card": card, "ticket": ticket, "app": app, "cover": cover}


def _one(crm: Crm, sql: str, **p: object) -> object:
    with crm.svc.store.read() as s:
        return s.execute(text(sql), p).scalar_one()


def test_r_cust_11_disabling_an_owner_without_handover_is_refused_listing_what_they_hold(crm: Crm) -> None:
    _loaded_manager(crm)
    admin = crm.actors["admin"]
    before = crm.counts()
    with pytest.raises(staff.StillHolds) as err:
        staff.disable_user(crm.svc, admin, "jingli")
    assert err.value.held == {"customers": 2, "cards": 1, "tickets": 1, "applications": 1, "contacts": 1,
                              "covers": 1}
    msg = err.value.message
    for part in ("customers they are responsible for: 2", "open follow-up cards: 1",
                 "complaint tickets assigned to them: 1", "pending grade change applications: 1",
                 "'other staff in contact'", "A/B cover duties: 1", "nothing was changed"):
        assert part in msg
    assert staff.get_staff(crm.svc, "jingli").active
    assert crm.counts() == before
    assert staff.holdings(crm.svc, admin, "jingli") == err.value.held


def test_r_cust_11_handover_moves_everything_in_one_transaction_audited(crm: Crm) -> None:
    ids = _loaded_manager(crm)
    admin = crm.actors["admin"]
    jingli2 = crm.actors["customer_manager2"].staff_id
    held = staff.disable_user(crm.svc, admin, "jingli", handover_to="jingli2", note="调离本行")
    assert held["customers"] == 2
    assert not staff.get_staff(crm.svc, "jingli").active
    assert staff.holdings(crm.svc, admin, "jingli") == {}
    for c in ("c1", "c2"):
        assert _one(crm, "SELECT owner_id FROM customer WHERE id = :i", i=ids[c]) == jingli2
        assert _one(crm, "SELECT needs_informing FROM customer WHERE id = :i", i=ids[c]) == 1  # to be told
    assert _one(crm, "SELECT owner_id FROM followup_card WHERE id = :i", i=ids["card"]) == jingli2
    assert _one(crm, "SELECT assignee_id FROM complaint WHERE id = :i", i=ids["ticket"]) == jingli2
    assert _one(crm, "SELECT applicant_id FROM grade_application WHERE id = :i", i=ids["app"]) == jingli2
    assert _one(crm, "SELECT group_concat(staff_id) FROM customer_staff WHERE customer_id = :i", i=ids["c3"]) \
        == str(jingli2)
    # jingli covered for jingli2, who now receives the duty for themselves: the cover ends
    assert _one(crm, "SELECT revoked_at IS NOT NULL FROM ab_post WHERE id = :i", i=ids["cover"]) == 1
    assert _one(crm, "SELECT count(*) FROM customer_handover WHERE note = '调离本行' AND count = 2") == 1
    with crm.svc.store.read() as s:
        actions = list(s.execute(text("SELECT action FROM audit_log ORDER BY id DESC LIMIT 3")).scalars())
    assert actions == ["staff.disable", "staff.handover", "customer.handover"]
    # the new owner sees whom to tell, and ticks each off with who/when/how
    cs.mark_informed(crm.svc, crm.actors["customer_manager2"], ids["c1"], note="电话告知", method="phone")
    assert _one(crm, "SELECT informed_by_id FROM customer_handover_item WHERE customer_id = :i", i=ids["c1"]) \
        == jingli2
    assert _one(crm, "SELECT informed_method FROM customer_handover_item WHERE customer_id = :i",
                i=ids["c1"]) == "phone"


def test_r_cust_11_a_bad_receiver_writes_nothing(crm: Crm) -> None:
    _loaded_manager(crm)
    admin = crm.actors["admin"]
    staff.add_user_with_password(crm.svc, admin, "gone", ["customer_manager"], "Passw0rd-99")
    staff.disable_user(crm.svc, admin, "gone")  # holds nothing: disabled at once
    before = crm.counts()
    for receiver, text_ in (("nobody", "No staff account named 'nobody'."), ("jingli", "Hand over to someone else"),
                            ("gone", "account is disabled")):
        with pytest.raises(ValidationError) as err:
            staff.disable_user(crm.svc, admin, "jingli", handover_to=receiver)
        assert text_ in err.value.message
    assert crm.counts() == before and staff.get_staff(crm.svc, "jingli").active


def test_r_sec_1_only_staff_managers_disable_with_handover(crm: Crm) -> None:
    _loaded_manager(crm)
    with pytest.raises(PermissionDenied):
        staff.disable_user(crm.svc, crm.actor("section_chief"), "jingli", handover_to="jingli2")
    assert staff.get_staff(crm.svc, "jingli").active


def test_r_cust_11_an_account_holding_nothing_is_disabled_directly(crm: Crm) -> None:
    assert staff.disable_user(crm.svc, crm.actors["admin"], "neiguan") == {}
    assert not staff.get_staff(crm.svc, "neiguan").active
