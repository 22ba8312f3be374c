"""Intent cadence in working days (R-FU-3) and the card state machine (R-FU-1), pure."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from crm_tui.domain import followups as fd
from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.customers import load_policy as customer_policy
from crm_tui.domain.errors import Conflict

CAL = WorkCalendar()
P = fd.load_policy()


def test_r_fu_3_default_levels_and_cadence() -> None:
    assert {c: lvl.revisit_workdays for c, lvl in P.levels.items()} == {
        "H": 2, "A": 4, "B": 7, "C": 15, "N": 1, "O": None, "F": None}
    assert P.levels["O"].ends == "won" and P.levels["F"].ends == "lost"


@pytest.mark.parametrize(("day", "level", "due"), [
    (date(2026, 11, 23), "H", date(2026, 11, 25)),   # Monday + 2 working days
    (date(2026, 11, 26), "H", date(2026, 11, 30)),   # Thursday -> over the weekend to Monday
    (date(2026, 11, 28), "N", date(2026, 11, 30)),   # Saturday visit: the next working day
    (date(2026, 11, 27), "A", date(2026, 12, 3)),    # Friday + 4 working days
    (date(2026, 9, 30), "H", date(2026, 10, 9)),     # National Day holiday 1-7 Oct skipped
    (date(2026, 9, 18), "N", date(2026, 9, 20)),     # Friday -> Sunday 20 Sep is a make-up workday (调休)
    (date(2026, 2, 13), "N", date(2026, 2, 14)),     # Saturday 14 Feb 2026 is a make-up workday before 春节
    (date(2026, 2, 14), "N", date(2026, 2, 24)),     # then Spring Festival to 23 Feb
])
def test_r_fu_3_next_visit_in_working_days(day: date, level: str, due: date) -> None:
    assert fd.next_visit_due(CAL, day, P.levels[level]) == due


def test_r_fu_3_won_and_lost_end_the_cadence() -> None:
    assert fd.next_visit_due(CAL, date(2026, 11, 23), P.levels["O"]) is None
    assert fd.next_visit_due(CAL, date(2026, 11, 23), P.levels["F"]) is None


def test_r_fu_3_cadence_counts_from_the_visit_day_not_its_hour() -> None:
    assert fd.next_visit_due(CAL, datetime(2026, 11, 23, 18, 30), P.levels["H"]) == date(2026, 11, 25)


def test_review_due_counts_working_days() -> None:
    assert fd.review_due(CAL, date(2026, 11, 27), P) == date(2026, 12, 2)


def test_policy_refuses_a_level_with_both_cadence_and_end() -> None:
    raw = {"levels": {"X": {"name": "x", "name_en": "x", "revisit_workdays": 2, "ends": "won"}},
           "visit_methods": {}, "purchase_methods": {}}
    with pytest.raises(ValueError):
        fd.parse_policy(raw)


@pytest.mark.parametrize(("old", "new"), [("open", "won"), ("open", "lost"), ("open", "void")])
def test_r_fu_1_allowed_transitions(old: str, new: str) -> None:
    fd.check_transition(old, new, may_supervise=False)


@pytest.mark.parametrize(("old", "new"), [("won", "open"), ("void", "open"), ("won", "lost"), ("lost", "won"),
                                          ("open", "open")])
def test_r_fu_1_refused_transitions(old: str, new: str) -> None:
    with pytest.raises(Conflict):
        fd.check_transition(old, new, may_supervise=True)


def test_r_fu_1_only_supervisors_reopen_lost_cards() -> None:
    with pytest.raises(Conflict, match="supervisor"):
        fd.check_transition("lost", "open", may_supervise=False)
    fd.check_transition("lost", "open", may_supervise=True)


def test_card_number_format() -> None:
    assert fd.card_number(2026, 42) == "A2026-00042"


def test_r_fu_2_card_validation_required_and_levels() -> None:
    today = date(2026, 11, 23)
    clean, errors = fd.validate_card({}, today, customer_policy().sources)
    assert {e.field for e in errors} == {"first_reception_date", "intent_level", "source",
                                         "first_reception_summary"}
    clean, errors = fd.validate_card({"first_reception_date": "2026-11-24", "intent_level": "o", "source": "x",
                                      "first_reception_summary": "到店看车"}, today, customer_policy().sources)
    assert {e.field for e in errors} == {"first_reception_date", "intent_level", "source"}
    clean, errors = fd.validate_card({"first_reception_date": "2026-11-20", "intent_level": "h", "source": "网络",
                                      "budget": "20万", "purchase_method": "loan", "first_reception_summary": "到店看车"},
                                     today, customer_policy().sources)
    assert not errors
    assert clean["intent_level"] == "H" and clean["source"] == "online" and clean["purchase_method"] == "loan"


def test_r_fu_6_visit_validation() -> None:
    now = datetime(2026, 11, 23, 10, 0)
    v, errors = fd.validate_visit({"method": "call", "content": "谈了价格", "level": "A"}, now)
    assert not errors and v is not None and v.at == now
    v, errors = fd.validate_visit({"method": "fax", "content": "", "level": "Z", "at": "2026-11-24 09:00"}, now)
    assert {e.field for e in errors} == {"method", "content", "level", "at"}
    v, errors = fd.validate_visit({"method": "call", "content": "x", "level": "A", "next_due": "2026-11-30"}, now)
    assert [e.field for e in errors] == ["override_reason"]
    v, errors = fd.validate_visit({"method": "call", "content": "x", "level": "A", "next_due": "2026-11-23",
                                   "override_reason": "客户出差"}, now)
    assert [e.field for e in errors] == ["next_due"]
    v, errors = fd.validate_visit({"method": "call", "content": "x", "level": "F"}, now)
    assert [e.field for e in errors] == ["lost_reason"]


def test_r_fu_4_register_validation() -> None:
    now = datetime(2026, 11, 23, 10, 0)
    sources = customer_policy().sources
    r, errors = fd.validate_register({"name": "张先生", "source": "walk_in", "arrived_at": "09:40"}, now, sources)
    assert not errors and r is not None and r.arrived_at == datetime(2026, 11, 23, 9, 40) and r.kind == "walk_in"
    r, errors = fd.validate_register({"name": "", "source": "", "phone": "123", "arrived_at": "11:00",
                                      "trial": "maybe", "kind": "fax"}, now, sources)
    assert {e.field for e in errors} == {"name", "source", "phone", "arrived_at", "trial", "kind"}
    r, errors = fd.validate_register({"name": "a", "source": "walk_in", "arrived_at": "09:40", "departed_at": "09:30"},
                                     now, sources)
    assert [e.field for e in errors] == ["departed_at"]
