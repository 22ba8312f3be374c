"""Grade change use cases (issue 8, R-GRD-1..4): the whole flow, permissions for every role, separation
of duties under role combinations, bad input writing nothing, the atomic apply, the 1-working-day
deadline on the home screen, queues, review periods with bulk filing, the standard, the report."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied, ValidationErrors
from crm_tui.services import customer_forms as cf
from crm_tui.services import customers as cs
from crm_tui.services import grades as gs
from crm_tui.services import home
from crm_tui.services.context import Actor
from crm_tui.services.customers import PhoneInput
from crm_tui.store import audit as audit_store
from tests.services.conftest import Crm

ROLES = ("front_desk", "customer_manager", "section_chief", "deputy_manager", "internal_control", "admin")
REASON = "年度合作金额增长，信用评级提升至AA"


def customer(crm: Crm, name: str = "张三", phone: str = "13800138000", **raw: str) -> int:
    return cs.create_customer(crm.svc, crm.manager, "person", {"name": name, **raw},
                              phones=[PhoneInput(phone)] if phone else []).id


def grade_of(crm: Crm, cid: int) -> str | None:
    with crm.svc.store.read() as s:
        return s.execute(text("SELECT grade FROM customer WHERE id = :i"), {"i": cid}).scalar_one()


def state_of(crm: Crm, app_id: int) -> str:
    with crm.svc.store.read() as s:
        return s.execute(text("SELECT state FROM grade_application WHERE id = :i"), {"i": app_id}).scalar_one()


def actions(crm: Crm, since: int = 0) -> list[str]:
    with crm.svc.store.read() as s:
        return [r[0] for r in s.execute(text("SELECT action FROM audit_log WHERE id > :i ORDER BY id"), {"i": since})]


def last_audit(crm: Crm) -> int:
    return crm.count("audit_log")


def grade_counts(crm: Crm) -> dict[str, int]:
    return {t: crm.count(t) for t in ("grade_application", "grade_history", "grade_filing", "grade_review_period",
                                      "grade_standard")}


def chief(crm: Crm) -> Actor:
    return crm.actor("section_chief")


def deputy(crm: Crm) -> Actor:
    return crm.actor("deputy_manager")


def ic(crm: Crm) -> Actor:
    return crm.actor("internal_control")


def to_state(crm: Crm, cid: int, state: str, to: str = "B") -> int:
    """An application for ``cid`` brought to ``state`` by the usual four people."""
    app = gs.file_application(crm.svc, crm.manager, cid, to, REASON)
    if state == "submitted":
        return app
    if state == "rejected":
        gs.reject_chief(crm.svc, chief(crm), app, "资料不全")
        return app
    gs.approve_chief(crm.svc, chief(crm), app, "同意")
    if state == "chief_approved":
        return app
    gs.approve_deputy(crm.svc, deputy(crm), app)
    if state == "approved":
        return app
    gs.apply_change(crm.svc, chief(crm), app)
    if state == "applied":
        return app
    gs.acknowledge(crm.svc, ic(crm), app)
    return app


# -- the whole flow ------------------------------------------------------------------------------


def test_r_grd_3_file_two_approvals_apply_and_acknowledge(crm: Crm) -> None:
    cid = customer(crm)
    start = last_audit(crm)
    app = gs.file_application(crm.svc, crm.manager, cid, "b", REASON, "2026年合同额 320 万元")
    v = gs.get_application(crm.svc, crm.manager, app)
    assert (v.state, v.from_grade, v.to_grade, v.applicant, v.direction) == ("submitted", None, "B", "王建国", "new")
    assert v.actions == ()  # the applicant may do nothing more
    assert gs.get_application(crm.svc, chief(crm), app).actions == ("approve_chief", "reject_chief")

    gs.approve_chief(crm.svc, chief(crm), app, "情况属实")
    assert gs.get_application(crm.svc, deputy(crm), app).actions == ("approve_deputy", "reject_deputy")
    crm.clock.advance(hours=1)
    gs.approve_deputy(crm.svc, deputy(crm), app, "同意")
    v = gs.get_application(crm.svc, chief(crm), app)
    assert v.state == "approved" and v.apply_due == datetime(2026, 11, 24, 17, 30)  # Monday -> Tuesday close
    assert v.actions == ("apply",) and not v.late
    assert grade_of(crm, cid) is None  # approval alone changes nothing (R-GRD-4)

    gs.apply_change(crm.svc, chief(crm), app)
    assert grade_of(crm, cid) == "B"
    assert crm.count("grade_history", "customer_id = :c AND to_grade = 'B' AND from_grade IS NULL", c=cid) == 1
    assert crm.count("grade_filing", "application_id = :a AND acknowledged_at IS NULL", a=app) == 1
    assert gs.get_application(crm.svc, ic(crm), app).actions == ("acknowledge",)

    gs.acknowledge(crm.svc, ic(crm), app, "已备案")
    v = gs.get_application(crm.svc, crm.manager, app)
    assert v.state == "acknowledged" and v.acknowledged_by == "孙静" and v.ack_note == "已备案"
    assert [s.staff for s in v.steps] == ["王建国", "陈志强", "刘伟", "陈志强", "孙静"]
    assert [s.comment for s in v.steps] == [None, "情况属实", "同意", None, "已备案"]
    assert actions(crm, start) == ["grade.file", "grade.approve_chief", "grade.approve_deputy", "grade.apply",
                                   "grade.acknowledge"]
    # the customer's timeline tells the story, newest first
    entries = [e for e in cs.timeline(crm.svc, crm.manager, cid) if e.kind == "grade"]
    assert [e.title for e in entries] == [
        "Filing acknowledged by internal control", "Grade changed and filed with internal control",
        "Approved by the deputy manager", "Approved by the section chief", "Application filed"]
    assert "(no grade) → B major customer" in entries[1].body
    assert f"Reason: {REASON}" in entries[-1].body and "Comment: 情况属实" in entries[-2].body
    assert gs.customer_history(crm.svc, crm.manager, cid)[0][1:] == (None, "B", "陈志强")
    with crm.svc.store.read() as s:
        assert audit_store.verify(s).first_broken is None


def test_a_rejection_closes_the_application_and_a_new_one_can_be_filed(crm: Crm) -> None:
    cid = customer(crm)
    app = to_state(crm, cid, "chief_approved")
    gs.reject_deputy(crm.svc, deputy(crm), app, "合作年限不足")
    v = gs.get_application(crm.svc, crm.manager, app)
    assert (v.state, v.rejected_by, v.reject_reason) == ("rejected", "刘伟", "合作年限不足")
    assert grade_of(crm, cid) is None
    again = gs.file_application(crm.svc, crm.manager, cid, "C", REASON)
    assert state_of(crm, again) == "submitted"


def test_one_open_application_per_customer(crm: Crm) -> None:
    cid = customer(crm)
    for state in ("submitted", "chief_approved", "approved"):
        with crm.svc.store.write() as s:
            s.execute(text("DELETE FROM grade_application"))
        app = to_state(crm, cid, state)
        before = grade_counts(crm)
        with pytest.raises(Conflict) as err:
            gs.file_application(crm.svc, crm.actor("customer_manager2"), cid, "C", REASON)
        assert str(err.value) == f"Customer {cs.get_customer(crm.svc, crm.manager, cid).number} already has an open " \
                                 f"grade change application (#{app})."
        assert grade_counts(crm) == before


def test_the_current_grade_is_fixed_at_filing_and_a_second_change_starts_from_it(crm: Crm) -> None:
    cid = customer(crm)
    to_state(crm, cid, "acknowledged", "C")
    app = to_state(crm, cid, "applied", "A")
    v = gs.get_application(crm.svc, crm.manager, app)
    assert (v.from_grade, v.to_grade, v.direction, v.current_grade) == ("C", "A", "up", "A")
    assert gs.customer_history(crm.svc, crm.manager, cid)[0][1:3] == ("C", "A")


# -- permissions for every role ---------------------------------------------------------------

STEP_PERMISSION = {
    "file": ("submitted", None, {"customer_manager", "section_chief"}),
    "approve_chief": ("submitted", gs.approve_chief, {"section_chief"}),
    "reject_chief": ("submitted", gs.reject_chief, {"section_chief"}),
    "approve_deputy": ("chief_approved", gs.approve_deputy, {"deputy_manager"}),
    "reject_deputy": ("chief_approved", gs.reject_deputy, {"deputy_manager"}),
    "apply": ("approved", gs.apply_change, {"section_chief"}),
    "acknowledge": ("applied", gs.acknowledge, {"internal_control"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("step", list(STEP_PERMISSION))
def test_every_step_for_every_role(crm: Crm, step: str, role: str) -> None:
    """Each step is open to exactly the roles of data/roles.toml; a refusal is audited and changes nothing."""
    cid = customer(crm)
    state, fn, allowed = STEP_PERMISSION[step]
    app = None if step == "file" else to_state(crm, cid, state)
    actor = crm.actor(role)
    before, audits = grade_counts(crm), last_audit(crm)
    grade = grade_of(crm, cid)

    def call() -> None:
        if step == "file":
            gs.file_application(crm.svc, actor, cid, "B", REASON)
        elif step.startswith("reject"):
            fn(crm.svc, actor, app, "不同意")  # type: ignore[misc]
        else:
            fn(crm.svc, actor, app)  # type: ignore[misc]

    if role in allowed:
        call()
        assert last_audit(crm) == audits + 1
        assert actions(crm, audits) == [f"grade.{step}"]
    else:
        with pytest.raises(PermissionDenied) as err:
            call()
        assert "You are not allowed to" in str(err.value)
        assert actions(crm, audits) == ["permission.denied"]
        assert grade_counts(crm) == before and grade_of(crm, cid) == grade
        if app is not None:
            assert state_of(crm, app) == state


@pytest.mark.parametrize("role", ROLES)
def test_reading_needs_grade_view(crm: Crm, role: str) -> None:
    app = to_state(crm, customer(crm), "submitted")
    if role == "front_desk":
        with pytest.raises(PermissionDenied):
            gs.get_application(crm.svc, crm.actor(role), app)
        with pytest.raises(PermissionDenied):
            gs.queue(crm.svc, crm.actor(role), "all")
    else:
        assert gs.get_application(crm.svc, crm.actor(role), app).id == app
        assert [r.id for r in gs.queue(crm.svc, crm.actor(role), "all").rows] == [app]


# -- separation of duties ------------------------------------------------------------------------

ROLE_SETS = [
    {"section_chief"},
    {"section_chief", "deputy_manager"},
    {"customer_manager", "section_chief", "deputy_manager"},
    {"customer_manager", "section_chief", "deputy_manager", "internal_control", "admin"},
]


@pytest.mark.parametrize("roles", ROLE_SETS, ids=lambda r: "+".join(sorted(r)))
def test_r_grd_3_the_applicant_never_approves_whatever_roles_they_hold(crm: Crm, roles: set[str]) -> None:
    me = replace(chief(crm), roles=frozenset(roles))
    cid = customer(crm)
    app = gs.file_application(crm.svc, me, cid, "B", REASON)
    for fn in (gs.approve_chief, gs.reject_chief):
        audits = last_audit(crm)
        with pytest.raises(PermissionDenied) as err:
            fn(crm.svc, me, app, "我同意")
        assert str(err.value) == "You filed this application; someone else must decide on it."
        assert actions(crm, audits) == ["grade.duty_refused"] and state_of(crm, app) == "submitted"
    gs.approve_chief(crm.svc, replace(chief(crm), staff_id=crm.actor("customer_manager2").staff_id), app)
    if "deputy_manager" in roles:
        with pytest.raises(PermissionDenied):
            gs.approve_deputy(crm.svc, me, app)
        assert state_of(crm, app) == "chief_approved"
    assert gs.get_application(crm.svc, me, app).actions == ()
    assert gs.queue(crm.svc, me, "approve").rows == []


@pytest.mark.parametrize("roles", ROLE_SETS[1:], ids=lambda r: "+".join(sorted(r)))
def test_r_grd_3_one_person_never_gives_both_approvals(crm: Crm, roles: set[str]) -> None:
    both = replace(chief(crm), roles=frozenset(roles))
    app = gs.file_application(crm.svc, crm.manager, customer(crm), "B", REASON)
    gs.approve_chief(crm.svc, both, app)
    audits = last_audit(crm)
    for fn in (gs.approve_deputy, gs.reject_deputy):
        with pytest.raises(PermissionDenied) as err:
            fn(crm.svc, both, app, "同意")
        assert "another person" in str(err.value)
    assert actions(crm, audits) == ["grade.duty_refused", "grade.duty_refused"]
    assert state_of(crm, app) == "chief_approved"
    assert gs.queue(crm.svc, both, "approve").rows == []
    gs.approve_deputy(crm.svc, deputy(crm), app)
    assert state_of(crm, app) == "approved"


def test_ab_cover_for_the_applicant_cannot_approve(crm: Crm) -> None:
    """R-SEC-7: a section chief covering for the absent applicant is the applicant for this rule."""
    app = gs.file_application(crm.svc, crm.manager, customer(crm), "B", REASON)
    cover = replace(chief(crm), on_behalf_of=crm.manager.staff_id, on_behalf_of_name="王建国")
    with pytest.raises(PermissionDenied):
        gs.approve_chief(crm.svc, cover, app)


def test_internal_control_never_acknowledges_a_change_they_took_part_in(crm: Crm) -> None:
    everyone = replace(ic(crm), roles=frozenset({"internal_control", "section_chief"}))
    app = gs.file_application(crm.svc, crm.manager, customer(crm), "B", REASON)
    gs.approve_chief(crm.svc, everyone, app)
    gs.approve_deputy(crm.svc, deputy(crm), app)
    gs.apply_change(crm.svc, chief(crm), app)
    with pytest.raises(PermissionDenied) as err:
        gs.acknowledge(crm.svc, everyone, app)
    assert "independent" in str(err.value)
    assert gs.queue(crm.svc, everyone, "acknowledge").rows == []


# -- illegal steps and bad input -----------------------------------------------------------------


@pytest.mark.parametrize(("state", "step"), [
    ("submitted", gs.approve_deputy), ("submitted", gs.apply_change), ("chief_approved", gs.approve_chief),
    ("chief_approved", gs.apply_change), ("approved", gs.approve_deputy), ("applied", gs.apply_change),
    ("rejected", gs.approve_chief), ("acknowledged", gs.acknowledge), ("submitted", gs.acknowledge),
])
def test_illegal_steps_are_refused_and_change_nothing(crm: Crm, state: str, step) -> None:  # type: ignore[no-untyped-def]
    cid = customer(crm)
    app = to_state(crm, cid, state)
    super_actor = replace(crm.actor("customer_manager2"), roles=frozenset(
        {"section_chief", "deputy_manager", "internal_control"}))
    before, grade = grade_counts(crm), grade_of(crm, cid)
    with pytest.raises(Conflict) as err:
        step(crm.svc, super_actor, app)
    assert "cannot be" in str(err.value)
    assert state_of(crm, app) == state and grade_counts(crm) == before and grade_of(crm, cid) == grade


@pytest.mark.parametrize(("to", "reason", "field", "message"), [
    ("", REASON, "to_grade", "Choose the proposed grade"),
    ("X", REASON, "to_grade", "Unknown grade 'X'. Grades: A, B, C, D"),
    ("B", "", "reason", "This field is required"),
    ("B", "  ", "reason", "This field is required"),
])
def test_bad_applications_write_nothing(crm: Crm, to: str, reason: str, field: str, message: str) -> None:
    cid = customer(crm)
    before, audits = grade_counts(crm), last_audit(crm)
    with pytest.raises(ValidationErrors) as err:
        gs.file_application(crm.svc, crm.manager, cid, to, reason)
    assert err.value.by_field()[field] == message
    assert grade_counts(crm) == before and last_audit(crm) == audits


def test_the_same_grade_is_refused(crm: Crm) -> None:
    cid = customer(crm)
    to_state(crm, cid, "applied", "C")
    with pytest.raises(ValidationErrors) as err:
        gs.file_application(crm.svc, crm.manager, cid, "C", REASON)
    assert err.value.by_field() == {"to_grade": "The customer already has grade C; propose another one"}


def test_unknown_or_erased_customers_and_applications(crm: Crm) -> None:
    with pytest.raises(NotFound):
        gs.file_application(crm.svc, crm.manager, 99999, "B", REASON)
    with pytest.raises(NotFound):
        gs.approve_chief(crm.svc, chief(crm), 99999)
    with pytest.raises(NotFound):
        gs.get_application(crm.svc, crm.manager, 99999)
    cid = customer(crm)
    cs.erase_customer(crm.svc, crm.actor("deputy_manager"), cid, "客户要求删除")
    with pytest.raises(NotFound):
        gs.file_application(crm.svc, crm.manager, cid, "B", REASON)


def test_a_rejection_needs_a_reason(crm: Crm) -> None:
    app = to_state(crm, customer(crm), "submitted")
    audits = last_audit(crm)
    with pytest.raises(ValidationErrors) as err:
        gs.reject_chief(crm.svc, chief(crm), app, "  ")
    assert err.value.by_field() == {"comment": "This field is required"}
    assert state_of(crm, app) == "submitted" and last_audit(crm) == audits


# -- apply: atomic, the only writer, the deadline -------------------------------------------------


def test_atomic_apply_a_failure_midway_changes_nothing(crm: Crm, monkeypatch: pytest.MonkeyPatch) -> None:
    cid = customer(crm)
    app = to_state(crm, cid, "approved")
    before, audits = grade_counts(crm), last_audit(crm)

    def broken(*a, **kw):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(gs.applications, "_insert_filing", broken)
    with pytest.raises(RuntimeError):
        gs.apply_change(crm.svc, chief(crm), app)
    assert grade_of(crm, cid) is None and grade_counts(crm) == before and last_audit(crm) == audits
    assert state_of(crm, app) == "approved"
    monkeypatch.undo()
    gs.apply_change(crm.svc, chief(crm), app)
    assert grade_of(crm, cid) == "B"


def test_r_grd_4_the_customer_service_refuses_a_grade_change(crm: Crm) -> None:
    cid = customer(crm)
    to_state(crm, cid, "applied", "C")
    view = cs.get_customer(crm.svc, crm.manager, cid)
    for role in ("customer_manager", "section_chief", "front_desk"):
        with pytest.raises(ValidationErrors) as err:
            cs.update_customer(crm.svc, crm.actor(role), cid, {"grade": "A"}, expected_version=view.version)
        assert err.value.by_field() == {
            "grade": "The grade is changed only through a grade change application (R-GRD-4)"}
    assert grade_of(crm, cid) == "C"


def test_r_grd_4_the_customer_form_shows_the_grade_read_only(crm: Crm) -> None:
    cid = customer(crm)
    to_state(crm, cid, "applied", "C")
    fields = {f.name: f for _section, fs in cf.form_layout("person") for f in fs}
    assert fields["grade"].readonly
    form = cf.form_values(crm.svc, crm.manager, cid)
    assert form.values["grade"] == "C regular customer"
    # a form that did send a changed grade would be refused as a whole by the service
    changed = dict(form.values, grade="A", notes="更新备注")
    with pytest.raises(ValidationErrors) as err:
        cf.save_edit(crm.svc, crm.manager, cid, changed, form.values, form.version, informed=False,
                     phones_editable=True, shared_phone_reasons={})
    assert "grade" in err.value.by_field()
    assert grade_of(crm, cid) == "C" and cs.get_customer(crm.svc, crm.manager, cid).values["notes"] is None


def test_r_grd_3_late_application_is_flagged_on_home(crm: Crm) -> None:
    crm.clock.now = datetime(2026, 11, 27, 16, 0)  # Friday
    cid = customer(crm)
    app = to_state(crm, cid, "approved")
    assert gs.get_application(crm.svc, chief(crm), app).apply_due == datetime(2026, 11, 30, 17, 30)
    items = {i.key: i for i in home.today(crm.svc, chief(crm))}
    assert items["grade.apply"].count == 1 and "grade.apply_late" not in items
    crm.clock.now = datetime(2026, 11, 30, 17, 29)  # Monday, still in time
    assert "grade.apply_late" not in {i.key for i in home.today(crm.svc, chief(crm))}
    crm.clock.now = datetime(2026, 12, 1, 9, 0)
    items = {i.key: i for i in home.today(crm.svc, chief(crm))}
    assert items["grade.apply_late"].count == 1 and items["grade.apply_late"].urgent
    assert gs.queue(crm.svc, chief(crm), "apply").rows[0].late
    audits = last_audit(crm)
    gs.apply_change(crm.svc, chief(crm), app)
    with crm.svc.store.read() as s:
        details = s.execute(text("SELECT details FROM audit_log WHERE id > :i AND action = 'grade.apply'"),
                            {"i": audits}).scalar_one()
    assert '"late":true' in details
    assert gs.get_application(crm.svc, chief(crm), app).late  # applied after the deadline


# -- queues and home ------------------------------------------------------------------------------


def test_queues_and_home_counts_per_role(crm: Crm) -> None:
    a = to_state(crm, customer(crm, "甲", "13800000001"), "submitted")
    b = to_state(crm, customer(crm, "乙", "13800000002"), "chief_approved")
    c = to_state(crm, customer(crm, "丙", "13800000003"), "approved")
    d = to_state(crm, customer(crm, "丁", "13800000004"), "applied")
    e = to_state(crm, customer(crm, "戊", "13800000005"), "rejected")

    def ids(actor: Actor, kind: str) -> list[int]:
        return [r.id for r in gs.queue(crm.svc, actor, kind).rows]

    assert ids(chief(crm), "approve") == [a] and ids(deputy(crm), "approve") == [b]
    assert ids(chief(crm), "apply") == [c] and ids(ic(crm), "acknowledge") == [d]
    assert ids(crm.manager, "mine") == [e, d, c, b, a] and ids(crm.actor("customer_manager2"), "mine") == []
    assert ids(deputy(crm), "apply") == [] and ids(crm.manager, "approve") == []
    assert gs.queue_counts(crm.svc, chief(crm)) == {"approve": 1, "apply": 1, "acknowledge": 0, "mine": 0, "all": 5}
    assert {i.key: i.count for i in home.today(crm.svc, chief(crm)) if i.key.startswith("grade")} == {
        "grade.approve": 1, "grade.apply": 1}
    assert {i.key: i.count for i in home.today(crm.svc, deputy(crm)) if i.key.startswith("grade")} == {
        "grade.approve": 1}
    assert {i.key: i.count for i in home.today(crm.svc, ic(crm)) if i.key.startswith("grade")} == {
        "grade.acknowledge": 1}
    assert not [i for i in home.today(crm.svc, crm.actor("front_desk")) if i.key.startswith("grade")]
    # keyset paging
    first = gs.queue(crm.svc, crm.manager, "all", limit=2)
    second = gs.queue(crm.svc, crm.manager, "all", cursor=first.next_cursor, limit=2)
    third = gs.queue(crm.svc, crm.manager, "all", cursor=second.next_cursor, limit=2)
    assert [r.id for r in first.rows + second.rows + third.rows] == [e, d, c, b, a] and third.next_cursor is None
    with pytest.raises(Exception):
        gs.queue(crm.svc, crm.manager, "nonsense")


# -- review periods (R-GRD-2) ------------------------------------------------------------------------


def test_r_grd_2_review_period_candidates_and_bulk_filing(crm: Crm) -> None:
    admin = crm.actor("admin")
    signed = customer(crm, "刘备", "13800000011", category="signed", credit_rating="AA", risk_rating="low",
                      coop_since="2018")
    customer(crm, "关羽", "13800000012", category="potential")
    with pytest.raises(PermissionDenied):
        gs.open_period(crm.svc, chief(crm), "2026年第四季度", "2026-10-01", "2026-12-31")
    with pytest.raises(ValidationErrors) as err:
        gs.open_period(crm.svc, admin, "", "2026-13-01", "2026-01-01")
    assert set(err.value.by_field()) == {"name", "start_date"}
    pid = gs.open_period(crm.svc, admin, "2026年第四季度", "2026-10-01", "2026-11-20")
    with pytest.raises(Conflict):
        gs.open_period(crm.svc, admin, "又一个", "2026-10-01", "2026-12-31")
    crm.clock.now = datetime(2026, 11, 20, 10, 0)  # its last day: not yet to review
    with pytest.raises(Conflict):
        gs.mark_reviewed(crm.svc, chief(crm), pid)
    assert "grade.review" not in {i.key for i in home.today(crm.svc, chief(crm))}
    # R-GRD-2: due 3 working days after the period's end (Fri 11-20), whether or not it was closed
    crm.clock.now = datetime(2026, 11, 24, 9, 0)
    items = {i.key: i for i in home.today(crm.svc, chief(crm))}
    assert items["grade.review"].count == 1 and not items["grade.review"].urgent
    assert gs.periods(crm.svc, admin)[0].review_due == datetime(2026, 11, 25, 17, 30)
    crm.clock.now = datetime(2026, 11, 27, 16, 0)
    assert {i.key: i for i in home.today(crm.svc, chief(crm))}["grade.review"].urgent
    assert gs.close_period(crm.svc, admin, pid) == datetime(2026, 11, 25, 17, 30)
    assert {i.key: i for i in home.today(crm.svc, chief(crm))}["grade.review"].urgent

    page = gs.review_candidates(crm.svc, chief(crm))
    suggested = {c.name: c.suggested for c in page.rows}
    assert suggested == {"刘备": "B", "关羽": "D"}
    with pytest.raises(PermissionDenied):
        gs.review_candidates(crm.svc, crm.manager)
    result = gs.file_bulk(crm.svc, chief(crm), [(c.customer_id, c.suggested) for c in page.rows] + [(99999, "A")],
                          "2026年第四季度等级评定", period_id=pid)
    assert len(result.filed) == 2 and result.skipped == [("#99999", "No customer archive #99999.")]
    again = gs.file_bulk(crm.svc, chief(crm), [(signed, "B")], "2026年第四季度等级评定", period_id=pid)
    assert again.filed == [] and "already has an open" in again.skipped[0][1]
    assert gs.review_candidates(crm.svc, chief(crm)).rows == []
    assert "grade.review" not in {i.key for i in home.today(crm.svc, chief(crm))}  # filing from it is the review
    assert [p.name for p in gs.periods(crm.svc, admin)] == ["2026年第四季度"]


# -- the standard (R-GRD-1) ----------------------------------------------------------------------


def test_r_grd_1_the_standard_changes_only_after_two_management_approvals(crm: Crm) -> None:
    """R-GRD-1: the grade standard is set by marketing/sales and approved by management: a proposal
    takes effect after the section chief and then the deputy manager approve it; audited."""
    admin = crm.actor("admin")
    raw = gs.standard_as_dict(crm.svc)
    raw["B"]["contact_days"] = 10
    with pytest.raises(PermissionDenied):
        gs.save_standard(crm.svc, chief(crm), raw, "加大联系频率")
    audits = last_audit(crm)
    cid = gs.save_standard(crm.svc, admin, raw, "B级客户流失较多，加大联系频率")
    assert gs.contact_days(crm.svc, "B") == 15  # not yet in force
    with pytest.raises(Conflict):  # one open proposal at a time
        gs.save_standard(crm.svc, admin, {**raw, "C": {**raw["C"], "contact_days": 20}}, "另一个提议")
    with pytest.raises(PermissionDenied):  # the deputy manager cannot go first
        gs.decide_standard_change(crm.svc, deputy(crm), cid, True)
    assert gs.decide_standard_change(crm.svc, chief(crm), cid, True, "同意") == "chief_approved"
    assert gs.contact_days(crm.svc, "B") == 15
    with pytest.raises(PermissionDenied):  # the chief cannot give the second approval
        gs.decide_standard_change(crm.svc, chief(crm), cid, True)
    assert gs.decide_standard_change(crm.svc, deputy(crm), cid, True) == "applied"
    assert gs.contact_days(crm.svc, "B") == 10
    [change] = gs.standard_changes(crm.svc, admin)
    assert change.state == "applied" and change.chief == "陈志强" and change.deputy == "刘伟"
    with crm.svc.store.read() as s:
        actions = [r[0] for r in s.execute(text("SELECT action FROM audit_log WHERE id > :i AND action LIKE"
                                                " 'grade.standard%' ORDER BY id"), {"i": audits})]
        details = s.execute(text("SELECT details FROM audit_log WHERE id > :i AND action = 'grade.standard_edit'"),
                            {"i": audits}).scalar_one()
    assert actions == ["grade.standard_propose", "grade.standard_approve_chief", "grade.standard_approve_deputy",
                       "grade.standard_edit"]
    assert '"contact_days":15' in details and '"contact_days":10' in details
    with pytest.raises(Conflict):
        gs.decide_standard_change(crm.svc, deputy(crm), cid, True)


def test_r_grd_1_standard_proposals_refused_or_rejected_write_nothing(crm: Crm) -> None:
    """R-GRD-1: bad proposals are refused (grade in use, bad rank, no reason, no change); the
    proposer cannot approve; a rejection needs a reason and leaves the standard as it was."""
    admin = crm.actor("admin")
    to_state(crm, customer(crm), "applied", "D")
    raw = gs.standard_as_dict(crm.svc)
    for bad, reason, field in ((lambda r: r.pop("D"), "删除D级", "grades"),
                               (lambda r: r["A"].update(rank=2), "调整顺序", "grades.B.rank"),
                               (lambda r: r["B"].update(contact_days=10), "", "reason"),
                               (lambda r: None, "没有改动", "grades")):
        copy = {k: dict(v) for k, v in raw.items()}
        bad(copy)
        with pytest.raises(ValidationErrors) as err:
            gs.save_standard(crm.svc, admin, copy, reason)
        assert field in err.value.by_field(), field
    assert crm.count("grade_standard_change") == 0
    raw["B"]["contact_days"] = 10
    cid = gs.save_standard(crm.svc, admin, raw, "加大联系频率")
    with pytest.raises(ValidationErrors):
        gs.decide_standard_change(crm.svc, chief(crm), cid, False, "")
    assert gs.decide_standard_change(crm.svc, chief(crm), cid, False, "与营销计划不符") == "rejected"
    assert gs.contact_days(crm.svc, "B") == 15 and list(gs.standard(crm.svc).grades) == ["A", "B", "C", "D"]
    assert gs.standard_changes(crm.svc, admin)[0].reject_reason == "与营销计划不符"


def test_r_grd_1_contact_days_drive_the_contact_plan(crm: Crm) -> None:
    """R-GRD-1: the grade decides how often the customer is contacted: the next contact is due
    contact_days after the last one (contact log, follow-up visit, complaint return visit), and the
    due list shows who is due or overdue; a new standard moves the dates."""
    c_b = customer(crm, "乙", "13800000002")
    to_state(crm, c_b, "applied", "B")  # B: every 15 days
    c_d = customer(crm, "丁", "13800000004")
    to_state(crm, c_d, "applied", "D")  # D: every 60 days
    cs.add_contact(crm.svc, crm.manager, c_b, "call", "季度回访", at=datetime(2026, 11, 20, 9, 0))
    [row] = gs.contact_plan(crm.svc, crm.manager, due_only=False, customer_id=c_b)
    assert row.last_contact == datetime(2026, 11, 20, 9, 0) and row.due == date(2026, 12, 5)
    assert gs.contact_plan(crm.svc, crm.manager) == []  # nobody due on 11-23
    crm.clock.now = datetime(2026, 12, 7, 9, 0)
    due = gs.contact_plan(crm.svc, chief(crm))
    assert [(d.customer_id, d.days_over) for d in due] == [(c_b, 2)]
    cs.add_contact(crm.svc, crm.manager, c_b, "visit", "上门拜访")
    assert gs.contact_plan(crm.svc, chief(crm)) == []
    raw = gs.standard_as_dict(crm.svc)
    raw["D"]["contact_days"] = 7
    cid = gs.save_standard(crm.svc, crm.actor("admin"), raw, "观察客户每周联系")
    gs.decide_standard_change(crm.svc, chief(crm), cid, True)
    gs.decide_standard_change(crm.svc, deputy(crm), cid, True)
    assert [d.customer_id for d in gs.contact_plan(crm.svc, chief(crm))] == [c_d]
    with pytest.raises(PermissionDenied):
        gs.contact_plan(crm.svc, crm.actor("front_desk"))


# -- report ------------------------------------------------------------------------------------------


def test_report_and_export(crm: Crm, tmp_path) -> None:  # type: ignore[no-untyped-def]
    to_state(crm, customer(crm, "甲", "13800000001"), "acknowledged", "C")
    to_state(crm, customer(crm, "乙", "13800000002"), "rejected")
    to_state(crm, customer(crm, "丙", "13800000003"), "submitted")
    rep = gs.report(crm.svc, chief(crm), date(2026, 11, 1), date(2026, 11, 30))
    assert (rep.filed, rep.applied, rep.new, rep.rejected, rep.open) == (3, 1, 1, 1, 1)
    assert rep.avg_approval_hours == 0.0
    path = gs.export_report(crm.svc, chief(crm), date(2026, 11, 1), date(2026, 11, 30), tmp_path / "r.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Summary", "Applications"] and wb["Applications"].max_row == 4
    with pytest.raises(PermissionDenied):
        gs.export_report(crm.svc, crm.manager, date(2026, 11, 1), date(2026, 11, 30), tmp_path / "x.xlsx")


def test_r_cust_13_erasing_the_customer_destroys_application_texts_but_keeps_the_filing(crm: Crm) -> None:
    cid = customer(crm)
    app = to_state(crm, cid, "applied")
    cs.erase_customer(crm.svc, crm.actor("deputy_manager"), cid, "客户要求删除")
    with crm.svc.store.read() as s:
        row = s.execute(text("SELECT reason, evidence, chief_comment, deputy_comment, state, to_grade"
                             " FROM grade_application WHERE id = :a"), {"a": app}).one()
    assert tuple(row[:4]) == ("", None, None, None)
    assert row.state == "applied" and row.to_grade == "B"
