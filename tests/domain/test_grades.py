"""Grade change rules (R-GRD-1..4): the state machine with every legal and illegal step, separation
of duties under every combination, the working-day deadlines across holidays, the standard and
the suggested grade of a review."""

from __future__ import annotations

import itertools
from datetime import date, datetime

import pytest

from crm_tui.domain import grades as g
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.customers import load_policy
from crm_tui.domain.errors import Conflict, PermissionDenied, ValidationErrors

CAL = WorkCalendar()


def test_r_grd_3_every_legal_step() -> None:
    assert g.next_state("submitted", "approve_chief") == "chief_approved"
    assert g.next_state("submitted", "reject_chief") == "rejected"
    assert g.next_state("chief_approved", "approve_deputy") == "approved"
    assert g.next_state("chief_approved", "reject_deputy") == "rejected"
    assert g.next_state("approved", "apply") == "applied"
    assert g.next_state("applied", "acknowledge") == "acknowledged"


@pytest.mark.parametrize(("state", "action"), [
    (s, a) for s in g.STATES for a in g.ACTIONS if g.ACTIONS[a][0] != s
])
def test_r_grd_3_every_illegal_step_is_refused(state: str, action: str) -> None:
    with pytest.raises(Conflict) as err:
        g.next_state(state, action)
    assert "cannot be" in str(err.value)


def test_final_states_allow_nothing() -> None:
    for final in ("rejected", "acknowledged"):
        for action in g.ACTIONS:
            with pytest.raises(Conflict):
                g.next_state(final, action)


def test_the_deputy_cannot_skip_the_chief_and_nobody_applies_before_both() -> None:
    with pytest.raises(Conflict):
        g.next_state("submitted", "approve_deputy")
    with pytest.raises(Conflict):
        g.next_state("submitted", "apply")
    with pytest.raises(Conflict):
        g.next_state("chief_approved", "apply")


# -- separation of duties ---------------------------------------------------------------------

DECISIONS = ("approve_chief", "reject_chief", "approve_deputy", "reject_deputy")


@pytest.mark.parametrize("action", DECISIONS)
def test_r_grd_3_the_applicant_never_decides_on_their_own_application(action: str) -> None:
    with pytest.raises(PermissionDenied) as err:
        g.check_duties(action, [7], g.Parties(applicant=7, chief=8))
    assert str(err.value) == "You filed this application; someone else must decide on it."


@pytest.mark.parametrize("action", ("approve_deputy", "reject_deputy"))
def test_r_grd_3_one_person_never_gives_both_approvals(action: str) -> None:
    with pytest.raises(PermissionDenied) as err:
        g.check_duties(action, [8], g.Parties(applicant=7, chief=8))
    assert "another person" in str(err.value)


def test_every_combination_of_people_is_checked() -> None:
    """Three people, every assignment of applicant and chief approver to them, every decision:
    allowed exactly when the decider is neither the applicant nor (for the deputy step) the chief."""
    people = (1, 2, 3)
    for applicant, chief, me, action in itertools.product(people, people, people, DECISIONS):
        parties = g.Parties(applicant=applicant, chief=chief if action.endswith("deputy") else None)
        forbidden = me == applicant or (action.endswith("deputy") and me == chief)
        if forbidden:
            with pytest.raises(PermissionDenied):
                g.check_duties(action, [me], parties)
        else:
            g.check_duties(action, [me], parties)


def test_ab_cover_counts_as_the_colleague_covered_for() -> None:
    """R-SEC-7: the cover for the applicant (or for the chief approver) is the same 'person' here."""
    with pytest.raises(PermissionDenied):
        g.check_duties("approve_chief", [9, 7], g.Parties(applicant=7))
    with pytest.raises(PermissionDenied):
        g.check_duties("approve_deputy", [9, 8], g.Parties(applicant=7, chief=8))
    g.check_duties("approve_deputy", [9, None], g.Parties(applicant=7, chief=8))


def test_internal_control_is_independent_of_the_change() -> None:
    parties = g.Parties(applicant=1, chief=2, deputy=3, applier=4)
    for someone in (1, 2, 3, 4):
        with pytest.raises(PermissionDenied):
            g.check_duties("acknowledge", [someone], parties)
    g.check_duties("acknowledge", [5], parties)


def test_applying_is_left_to_permissions() -> None:
    g.check_duties("apply", [2], g.Parties(applicant=1, chief=2, deputy=3))


# -- deadlines --------------------------------------------------------------------------------

@pytest.mark.parametrize(("approved", "due"), [
    (datetime(2026, 11, 23, 10, 0), datetime(2026, 11, 24, 17, 30)),   # Monday -> Tuesday close
    (datetime(2026, 11, 27, 16, 0), datetime(2026, 11, 30, 17, 30)),   # Friday -> Monday
    (datetime(2026, 11, 28, 10, 0), datetime(2026, 11, 30, 17, 30)),   # Saturday -> Monday
    (datetime(2026, 9, 30, 15, 0), datetime(2026, 10, 8, 17, 30)),     # before National Day
    (datetime(2026, 2, 13, 10, 0), datetime(2026, 2, 14, 17, 30)),     # Saturday make-up working day (调休)
    (datetime(2026, 10, 9, 10, 0), datetime(2026, 10, 10, 17, 30)),    # Saturday make-up working day
])
def test_r_grd_3_applied_within_one_working_day(approved: datetime, due: datetime) -> None:
    assert g.apply_due(approved, CAL) == due


def test_r_grd_2_review_within_three_working_days_across_holidays() -> None:
    assert g.review_due(datetime(2026, 11, 27, 16, 0), CAL) == datetime(2026, 12, 2, 17, 30)
    assert g.review_due(datetime(2026, 9, 30, 15, 0), CAL) == datetime(2026, 10, 10, 17, 30)


# -- application input ------------------------------------------------------------------------

STD = g.load_standard()


def test_application_input_is_cleaned() -> None:
    ok = g.validate_application(STD, "C", " b ", "  合作规模扩大，信用提升  ", "")
    assert ok == g.ApplicationInput("B", "合作规模扩大，信用提升", None)


@pytest.mark.parametrize(("current", "to", "reason", "field", "message"), [
    ("C", "", "理由充分的说明", "to_grade", "Choose the proposed grade"),
    ("C", "Z", "理由充分的说明", "to_grade", "Unknown grade 'Z'. Grades: A, B, C, D"),
    ("C", "C", "理由充分的说明", "to_grade", "The customer already has grade C; propose another one"),
    ("C", "B", "", "reason", "This field is required"),
    ("C", "B", "升级", "reason", "Write the reason for the change (at least 4 characters)"),
    ("C", "B", "bad\x00reason", "reason", "Contains a control character (U+0000) at position 4"),
])
def test_bad_application_input(current: str, to: str, reason: str, field: str, message: str) -> None:
    with pytest.raises(ValidationErrors) as err:
        g.validate_application(STD, current, to, reason, None)
    assert err.value.by_field()[field] == message


# -- standard ---------------------------------------------------------------------------------

def _policy_codes() -> dict[str, list[str]]:
    p = load_policy()
    return {"credit_codes": list(p.credit_ratings), "risk_codes": list(p.risk_ratings),
            "categories": list(p.categories), "size_codes": list(p.sizes)}


def test_r_grd_1_the_shipped_standard_uses_the_policy_codes() -> None:
    std = g.load_standard(**_policy_codes())
    assert list(std.grades) == ["A", "B", "C", "D"]
    assert [d.contact_days for d in std.grades.values()] == [7, 15, 30, 60]
    assert std.direction("C", "B") == "up" and std.direction("B", "C") == "down" and std.direction(None, "D") == "new"


@pytest.mark.parametrize(("raw", "field"), [
    ({"a": {"name": "x", "name_en": "x", "rank": 1}}, "grades.a"),
    ({"A": {"name": "", "name_en": "x", "rank": 1}}, "grades.A.name"),
    ({"A": {"name": "x", "name_en": "x", "rank": 0}}, "grades.A.rank"),
    ({"A": {"name": "x", "name_en": "x", "rank": 1, "contact_days": 0}}, "grades.A.contact_days"),
    ({"A": {"name": "x", "name_en": "x", "rank": 1, "criteria": {"colour": "red"}}}, "grades.A.criteria"),
    ({"A": {"name": "x", "name_en": "x", "rank": 1, "criteria": {"min_credit": "AAAA"}}}, "grades.A.criteria"),
    ({}, "grades"),
])
def test_a_bad_standard_is_refused(raw: dict, field: str) -> None:
    with pytest.raises(ValidationErrors) as err:
        g.standard_from_dict(raw, **_policy_codes())
    assert field in err.value.by_field()


def test_two_grades_cannot_share_an_order_number() -> None:
    raw = {"A": {"name": "甲", "name_en": "A", "rank": 1}, "B": {"name": "乙", "name_en": "B", "rank": 1}}
    with pytest.raises(ValidationErrors) as err:
        g.standard_from_dict(raw)
    assert "grades.B.rank" in err.value.by_field()


@pytest.mark.parametrize(("facts", "expected"), [
    ({"category": "signed", "credit_rating": "AAA", "risk_rating": "low", "coop_since": 2020, "important": True}, "A"),
    ({"category": "signed", "credit_rating": "AAA", "risk_rating": "low", "coop_since": 2020, "important": False}, "B"),
    ({"category": "signed", "credit_rating": "AA", "risk_rating": "high", "coop_since": 2020}, "C"),
    ({"category": "signed", "credit_rating": "A", "risk_rating": "medium", "coop_since": 2026}, "C"),
    ({"category": "intentional", "credit_rating": "B"}, "C"),
    ({"category": "potential", "credit_rating": "AAA"}, "D"),
    ({"category": "signed", "credit_rating": "C"}, "D"),
    ({}, "D"),
])
def test_r_grd_2_suggested_grade(facts: dict, expected: str) -> None:
    p = load_policy()
    std = g.load_standard(**_policy_codes())
    assert g.suggest_grade(std, facts, date(2026, 11, 23), credit_order=list(p.credit_ratings),
                           risk_order=list(p.risk_ratings)) == expected


@pytest.mark.parametrize(("kind", "size", "expected"), [
    ("org", "large", "A"), ("org", "medium", "A"), ("org", "small", "B"), ("org", None, "B"), ("person", None, "A"),
])
def test_r_grd_1_cooperation_scale_criterion(kind: str, size: str | None, expected: str) -> None:
    """R-GRD-1: customers are graded by cooperation scale (合作规模) too: grade A asks an organisation
    of medium size or larger; a person is judged on the other criteria."""
    p = load_policy()
    std = g.load_standard(**_policy_codes())
    assert std.grades["A"].criteria.min_size == "medium"
    facts = {"category": "signed", "credit_rating": "AAA", "risk_rating": "low", "coop_since": 2020,
             "important": True, "kind": kind, "size": size}
    assert g.suggest_grade(std, facts, date(2026, 11, 23), credit_order=list(p.credit_ratings),
                           risk_order=list(p.risk_ratings), size_order=list(p.sizes)) == expected


def test_r_grd_1_an_unknown_size_in_the_criteria_is_refused() -> None:
    """R-GRD-1: the cooperation-scale criterion names a size of the customer policy."""
    raw = {"A": {"name": "A", "name_en": "A", "rank": 1, "criteria": {"min_size": "huge"}}}
    with pytest.raises(ValidationErrors) as err:
        g.standard_from_dict(raw, **_policy_codes())
    assert "grades.A.criteria" in err.value.by_field()
