"""Numbers, money and dates as people type them on a form, and shown back the same way (issue 21)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_tui.domain.errors import ValidationError
from crm_tui.domain.validation import (
    MAX_MONEY,
    format_day,
    format_money,
    parse_day,
    validate_budget,
    validate_money,
)

TODAY = date(2026, 12, 6)
cents = st.decimals(min_value=0, max_value=MAX_MONEY, places=2, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize(("typed", "shown"), [
    ("500万元", "500万元"), ("500万", "500万元"), ("5000000", "500万元"), ("1.5亿", "1.5亿元"),
    ("1280", "1280元"), ("1,280.5元", "1280.50元"), ("12345.67万元", "12345.67万元"), ("0", "0元"),
])
def test_money_is_shown_back_with_its_unit(typed: str, shown: str) -> None:
    assert format_money(validate_money(typed, "registered_capital")) == shown


@given(cents)
def test_money_shown_reads_back_to_the_same_amount(amount: Decimal) -> None:
    assert validate_money(format_money(amount), "registered_capital") == amount


@given(st.integers(min_value=1, max_value=99_999), st.sampled_from(["万", "万元", "元", ""]))
def test_money_with_units_reads_back(n: int, unit: str) -> None:
    value = validate_money(f"{n}{unit}", "x")
    assert value == n * (10_000 if unit.startswith("万") else 1)
    assert validate_money(format_money(value), "x") == value


@pytest.mark.parametrize("typed", ["15万左右", "20-25万", "20万到25万", "30万以内", "约20万", "12万", "150000",
                                   "12.5万元", "20 - 25万"])
def test_budget_as_customers_state_it_is_kept_as_typed(typed: str) -> None:
    assert validate_budget(typed).replace(" ", "") == typed.replace(" ", "")


@pytest.mark.parametrize("typed", ["abc", "很多", "25-20万", "万", "-5万", "20万-", "0"])
def test_budget_that_is_not_an_amount_is_refused_with_its_field(typed: str) -> None:
    with pytest.raises(ValidationError) as e:
        validate_budget(typed, "budget")
    assert e.value.field == "budget"


def test_blank_budget_is_blank() -> None:
    assert validate_budget("  ") == ""


@pytest.mark.parametrize(("typed", "day"), [
    ("2026-12-6", date(2026, 12, 6)), ("2026/12/06", date(2026, 12, 6)), ("12/6", date(2026, 12, 6)),
    ("12-6", date(2026, 12, 6)), ("1月5日", date(2026, 1, 5)), ("2026年12月6日", date(2026, 12, 6)),
    ("２０２６－１２－６", date(2026, 12, 6)),
])
def test_dates_as_typed(typed: str, day: date) -> None:
    assert parse_day(typed, "start", today=TODAY, allow_future=True) == day


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_a_day_shown_reads_back(day: date) -> None:
    assert parse_day(format_day(day), "d", today=TODAY, allow_future=True) == day


@given(st.integers(1, 12), st.integers(1, 31))
def test_month_and_day_mean_this_year_or_a_clear_refusal(month: int, day: int) -> None:
    try:
        got = parse_day(f"{month}/{day}", "start", today=TODAY, allow_future=True)
    except ValidationError as e:
        assert e.field == "start"
        with pytest.raises(ValueError):
            date(TODAY.year, month, day)
    else:
        assert got == date(TODAY.year, month, day)


@pytest.mark.parametrize("typed", ["13/45", "yesterday", "2026-02-30", "6"])
def test_bad_dates_are_refused_with_their_field(typed: str) -> None:
    with pytest.raises(ValidationError) as e:
        parse_day(typed, "start", today=TODAY, allow_future=True)
    assert e.value.field == "start"


def test_an_unknown_role_lists_the_roles_by_name_in_the_ui_language() -> None:
    from crm_tui.domain.roles import parse_role
    from crm_tui.i18n import get_language, set_language

    old = get_language()
    try:
        set_language("zh_CN")
        with pytest.raises(ValidationError) as e:
            parse_role("boss")
        assert "前台" in e.value.message and "front_desk" not in e.value.message
        set_language("en")
        with pytest.raises(ValidationError) as e:
            parse_role("boss")
        assert "Front desk" in e.value.message
        assert parse_role("前台") == parse_role("Front desk") == "front_desk"
    finally:
        set_language(old)
