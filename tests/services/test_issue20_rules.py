"""Issue 20 (area/consent): account opening on a department head's approval (R-SEC-1), consents
added and withdrawn from an existing archive and the "customer informed" due list (R-CUST-5/6),
periodic satisfaction surveys (R-CUST-15), A/B cover in every area (R-SEC-7). Real SQLCipher files,
the injected clock."""

from __future__ import annotations

import pytest

from crm_tui.domain.errors import ValidationError
from crm_tui.services import staff
from tests.services.conftest import Crm


# -- R-SEC-1 --------------------------------------------------------------------------------------

@pytest.mark.parametrize("approval", [None, "", "   "])
def test_r_sec_1_account_without_approver_is_refused(crm: Crm, approval: str | None) -> None:
    before = crm.count("staff"), crm.count("audit_log", "action = 'staff.create'")
    with pytest.raises(ValidationError) as e:
        staff.add_user(crm.svc, crm.actor("admin"), "xinren", ["front_desk"], "新人", approval)
    assert e.value.field == "approval"
    assert "department head" in e.value.msgid
    assert (crm.count("staff"), crm.count("audit_log", "action = 'staff.create'")) == before


def test_r_sec_1_the_administrator_cannot_approve_the_account_he_opens(crm: Crm) -> None:
    before = crm.count("staff")
    for me in ("admin", "管理员 2026-11-20"):
        with pytest.raises(ValidationError) as e:
            staff.add_user(crm.svc, crm.actor("admin"), "xinren", ["front_desk"], "新人", me)
        assert e.value.field == "approval"
    assert crm.count("staff") == before


def test_r_sec_1_account_opened_with_its_approver_recorded_and_audited(crm: Crm) -> None:
    sid, _otp = staff.add_user(crm.svc, crm.actor("admin"), "xinren", ["front_desk"], "新人", " 陈科长  2026-11-20 ")
    assert crm.count("staff", "id = :i AND approval_note = '陈科长 2026-11-20'", i=sid) == 1
    assert crm.count("audit_log", "action = 'staff.create' AND details LIKE '%陈科长%'") == 1


# -- R-CUST-5 / R-CUST-6 ---------------------------------------------------------------------------

from datetime import timedelta  # noqa: E402

from crm_tui.domain.errors import ValidationErrors  # noqa: E402
from crm_tui.services import consent, surveys  # noqa: E402
from crm_tui.services import customer_forms as cf  # noqa: E402
from crm_tui.services import customers as cs  # noqa: E402

ID1 = "11010519491231002X"


def _person(crm: Crm, name: str = "张三", **raw: str) -> cs.CustomerRef:
    return cs.create_customer(crm.svc, crm.manager, "person", {"name": name, **raw})


def test_r_cust_6_new_archive_records_the_purpose_and_method_asked_for(crm: Crm) -> None:
    ref = cf.save_new(crm.svc, crm.manager, "person", {"name": "王五"}, ["basic", "marketing"], {},
                      purpose="办理购车贷款、寄送合同", method="signed_form")
    got = {(c.scope, c.purpose, c.method) for c in cs.get_customer(crm.svc, crm.manager, ref.id).consents}
    assert got == {("basic", "办理购车贷款、寄送合同", "signed_form"), ("marketing", "办理购车贷款、寄送合同", "signed_form")}


def test_r_cust_6_new_archive_with_a_consent_but_no_purpose_or_method_is_refused(crm: Crm) -> None:
    before = crm.counts()
    with pytest.raises(ValidationErrors) as e:
        cf.save_new(crm.svc, crm.manager, "person", {"name": "王五"}, ["basic"], {}, purpose=" ", method="")
    assert set(e.value.by_field()) == {"consent_purpose", "consent_method"}
    assert crm.counts() == before


def test_r_cust_6_consent_added_to_an_existing_archive_then_the_id_number(crm: Crm) -> None:
    """The clerk could not add an ID number to an existing archive: now the consent comes first."""
    ref = _person(crm)
    version = cs.get_customer(crm.svc, crm.manager, ref.id).version
    with pytest.raises(ValidationErrors):
        cs.update_customer(crm.svc, crm.manager, ref.id, {"id_number": ID1}, expected_version=version)
    before = crm.counts()
    with pytest.raises(ValidationErrors) as e:
        consent.add_consent(crm.svc, crm.manager, ref.id, scope="sensitive", purpose="", method="书面签字",
                            given="2030-01-01")
    assert set(e.value.by_field()) == {"purpose", "given"}
    assert crm.counts() == before
    cid = consent.add_consent(crm.svc, crm.manager, ref.id, scope="sensitive", purpose="身份核验、办理购车手续",
                              method="书面签字", given="11/20")
    line = next(x for x in consent.consent_lines(crm.svc, crm.manager, ref.id) if x.id == cid)
    assert (line.scope, line.method, line.given_at.isoformat()) == ("sensitive", "signed_form", "2026-11-20")
    cs.update_customer(crm.svc, crm.manager, ref.id, {"id_number": ID1}, expected_version=version, informed=True)
    assert crm.count("customer", "id = :i AND id_number = :n", i=ref.id, n=ID1) == 1


def test_r_cust_6_withdrawing_the_sensitive_consent_deletes_the_id_number_from_the_archive(crm: Crm) -> None:
    ref = _person(crm)
    cid = consent.add_consent(crm.svc, crm.manager, ref.id, scope="sensitive", purpose="身份核验", method="verbal")
    version = cs.get_customer(crm.svc, crm.manager, ref.id).version
    cs.update_customer(crm.svc, crm.manager, ref.id, {"id_number": ID1}, expected_version=version, informed=True)
    done = consent.withdraw_consent(crm.svc, crm.manager, cid, note="客户来电撤回")
    assert any("ID number" in m for m in done)
    assert crm.count("customer", "id = :i AND id_number IS NULL", i=ref.id) == 1
    assert crm.count("audit_log", "action = 'customer.consent_withdrawn'") == 1


def test_r_cust_5_a_change_not_told_is_owed_a_notice_until_recorded(crm: Crm) -> None:
    ref = _person(crm, address="北京市海淀区1号")
    view = cs.get_customer(crm.svc, crm.manager, ref.id)
    v = cs.update_customer(crm.svc, crm.manager, ref.id, {"address": "北京市朝阳区2号"}, expected_version=view.version)
    cs.update_customer(crm.svc, crm.manager, ref.id, {"occupation": "教师"}, expected_version=v)  # not a told field
    page = consent.inform_due(crm.svc, crm.manager)
    assert [r.customer.id for r in page.rows] == [ref.id]
    row = page.rows[0]
    assert "Address" in row.detail
    assert row.due == consent_due(crm)  # three working days after Monday 2026-11-23
    with pytest.raises(ValidationErrors):
        consent.record_told(crm.svc, crm.manager, row.item_id, "smoke signals")
    assert consent.inform_due(crm.svc, crm.manager).rows  # still owed
    crm.clock.advance(days=5)
    assert "overdue" in consent.inform_due(crm.svc, crm.manager).rows[0].detail
    consent.record_told(crm.svc, crm.manager, row.item_id, "电话", "已电话告知新地址")
    assert consent.inform_due(crm.svc, crm.manager).rows == []
    assert crm.count("customer_inform_due", "informed_by_id = :s AND informed_method = 'call'",
                     s=crm.manager.staff_id) == 1
    assert crm.count("audit_log", "action = 'customer.told'") == 1


def consent_due(crm: Crm):  # type: ignore[no-untyped-def]
    from datetime import date

    return date(2026, 11, 26)


def test_r_cust_5_a_change_told_at_once_owes_nothing(crm: Crm) -> None:
    ref = _person(crm, address="北京市海淀区1号")
    view = cs.get_customer(crm.svc, crm.manager, ref.id)
    cs.update_customer(crm.svc, crm.manager, ref.id, {"address": "北京市朝阳区2号"}, expected_version=view.version,
                       informed=True)
    assert consent.inform_due(crm.svc, crm.manager).rows == []


# -- R-CUST-15 ------------------------------------------------------------------------------------

def test_r_cust_15_survey_due_by_grade_cadence_and_cleared_by_recording_one(crm: Crm) -> None:
    from crm_tui.services import complaints

    signed = _person(crm, "签约客户", category="signed")
    _person(crm, "潜在客户", category="potential")  # not surveyed
    assert surveys.due_list(crm.svc, crm.manager).rows == []
    crm.clock.advance(days=364)
    assert surveys.due_list(crm.svc, crm.manager).rows == []
    crm.clock.advance(days=1)  # a year after the archive was opened (no grade: default 365 days)
    rows = surveys.due_list(crm.svc, crm.manager).rows
    assert [r.customer.id for r in rows] == [signed.id]
    assert "No survey yet" in rows[0].detail
    assert surveys.due_count(crm.svc, crm.manager) == 1
    complaints.add_feedback(crm.svc, crm.manager, signed.id, "survey", "", 4)
    assert surveys.due_list(crm.svc, crm.manager).rows == []
    crm.clock.advance(days=365)
    assert "Last survey" in surveys.due_list(crm.svc, crm.manager).rows[0].detail


def test_r_cust_15_a_grade_a_customer_is_due_sooner(crm: Crm) -> None:
    ref = _person(crm, "重点客户", category="signed")
    with crm.svc.write(crm.actor("admin")) as tx:  # the grade is set by grade changes; here directly
        tx.execute("UPDATE customer SET grade = 'A' WHERE id = :i", {"i": ref.id})
    crm.clock.advance(days=surveys.cadence().days("A"))
    assert [r.customer.id for r in surveys.due_list(crm.svc, crm.manager).rows] == [ref.id]
    assert surveys.cadence().days("A") < surveys.cadence().days(None)


# -- R-SEC-7 --------------------------------------------------------------------------------------

from datetime import date  # noqa: E402

from crm_tui.domain.errors import NotFound, PermissionDenied  # noqa: E402
from crm_tui.services import complaints as cp  # noqa: E402
from crm_tui.services import followups as fu  # noqa: E402

CARD = {"first_reception_date": "2026-11-23", "intent_level": "H", "source": "walk_in", "product": "SUV",
        "first_reception_summary": "看车"}


def _cover_setup(crm: Crm) -> tuple[int, int]:
    """jingli (A) owns a card and handles a ticket; jingli2 (B) is the colleague."""
    cid = _person(crm, "顶岗客户").id
    card = fu.create_card(crm.svc, crm.manager, cid, CARD)
    ticket = cp.file_complaint(crm.svc, crm.actor("front_desk"), cid,
                               {"category": "service/waiting", "severity": "normal", "channel": "phone", "ack_method": "phone",
                                "description": "等待时间过长", "demand": "道歉"})
    cp.assign(crm.svc, crm.actor("section_chief"), ticket.id, "jingli")
    return card.id, ticket.id


def _open_ids(crm: Crm, actor) -> list[int]:  # type: ignore[no-untyped-def]
    return [r.id for r in fu.queue(crm.svc, actor, "open").rows]


def test_r_sec_7_a_supervisor_sets_a_cover_and_the_backup_works_every_area_while_it_runs(crm: Crm) -> None:
    card_id, ticket_id = _cover_setup(crm)
    b = crm.actor("customer_manager2")
    with pytest.raises(PermissionDenied):
        fu.update_card(crm.svc, b, card_id, {"budget": "30万"}, expected_version=1)
    assert card_id not in _open_ids(crm, b)
    # the section chief (not only an administrator) records the cover, from tomorrow for two days
    tomorrow = crm.clock.now.date() + timedelta(days=1)
    cover_id = staff.set_cover(crm.svc, crm.actor("section_chief"), "jingli", "jingli2", tomorrow,
                               tomorrow + timedelta(days=1), "年假")
    assert crm.count("audit_log", "action = 'staff.cover_set' AND actor_name = 'kezhang'") == 1
    assert card_id not in _open_ids(crm, b)  # not yet: by the injected clock
    crm.clock.advance(days=1)
    assert card_id in _open_ids(crm, b)
    assert fu.get_card(crm.svc, b, card_id).number
    assert fu.update_card(crm.svc, b, card_id, {"budget": "30万"}, expected_version=1) == 2
    assert ticket_id in [r.id for r in cp.queue(crm.svc, b, "mine").rows]
    assert cp.queue_counts(crm.svc, b)["mine"] == 1
    assert cp.solve(crm.svc, b, ticket_id, "B岗代为处理，已致歉") == "awaiting_feedback"
    assert crm.count("audit_log", "action = 'staff.cover_work' AND actor_name = 'jingli2'") == 2
    crm.clock.advance(days=2)  # the cover has ended
    assert card_id not in _open_ids(crm, b)
    with pytest.raises(PermissionDenied):
        fu.update_card(crm.svc, b, card_id, {"budget": "31万"}, expected_version=2)
    assert staff.covers(crm.svc, on=crm.clock.now.date() - timedelta(days=2))[0].id == cover_id


def test_r_sec_7_a_revoked_cover_stops_at_once_and_is_audited(crm: Crm) -> None:
    card_id, _t = _cover_setup(crm)
    b = crm.actor("customer_manager2")
    today = crm.clock.now.date()
    cover_id = staff.set_cover(crm.svc, crm.actor("deputy_manager"), "jingli", "jingli2", today,
                               today + timedelta(days=5))
    assert card_id in _open_ids(crm, b)
    staff.revoke_cover(crm.svc, crm.actor("section_chief"), cover_id)
    assert card_id not in _open_ids(crm, b)
    with pytest.raises(PermissionDenied):
        fu.update_card(crm.svc, b, card_id, {"budget": "30万"}, expected_version=1)
    assert crm.count("audit_log", "action = 'staff.cover_revoked' AND actor_name = 'kezhang'") == 1
    with pytest.raises(NotFound):
        staff.revoke_cover(crm.svc, crm.actor("section_chief"), cover_id)


def test_r_sec_7_a_clerk_cannot_set_a_cover_for_others(crm: Crm) -> None:
    today = crm.clock.now.date()
    with pytest.raises(PermissionDenied):
        staff.set_cover(crm.svc, crm.actor("front_desk"), "jingli", "jingli2", today, today)
    assert crm.count("ab_post") == 0
