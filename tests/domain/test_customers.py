"""Customer archive rules: the policy file, whole-form validation, numbers, completeness (R-CUST-1..10,
R-KPI-2)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from crm_tui.domain.calendar import WorkCalendar
from crm_tui.domain.customers import (
    ConsentInput,
    PhoneInput,
    fields_of,
    format_number,
    load_policy,
    maintenance_due,
    mask_bank_account,
    mask_id_number,
    mask_name,
    mask_phone,
    missing_fields,
    parse_number,
    validate_consents,
    validate_customer,
    validate_phones,
)
from crm_tui.domain.errors import ValidationError

TODAY = date(2026, 11, 23)
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def id_number(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


ID_MALE = id_number("11010519800307123")  # born 1980-03-07, 17th digit odd: male


def by_field(errors: list[ValidationError]) -> dict[str, str]:
    return {e.field: e.msgid for e in errors}


# -- policy ----------------------------------------------------------------------------------------


def test_policy_deadlines_categories_and_measures() -> None:
    p = load_policy()
    assert {g: d.days for g, d in p.deadline_groups.items()} == {"contact": 2, "grade": 10, "other": 15,
                                                                  "relationship": 20}
    assert list(p.categories) == ["potential", "intentional", "signed", "historical"]
    assert [p.categories[c].name_zh for c in p.categories] == ["潜在", "意向", "签约", "历史"]
    assert set(p.contact_methods) == {"call", "visit", "letter", "email", "wechat"}
    for table in (p.credit_ratings, p.risk_ratings):
        for rating in table.values():
            assert rating.credit_limit >= 0 and rating.term_days >= 0 and 0 <= rating.prepayment_pct <= 100
    assert p.risk_ratings["high"].prepayment_pct == 100
    assert p.retention_years > 0
    for kind in ("person", "org"):
        for fields in p.required_fields(kind).values():
            assert set(fields) <= set(fields_of(kind)) | {"phones"}


# -- validate_customer -------------------------------------------------------------------------------


def test_a_valid_person_is_cleaned_and_birth_data_come_from_the_id_number() -> None:
    clean, errors = validate_customer(
        {"name": " 张三 ", "id_number": ID_MALE.lower(), "category": "签约", "credit_rating": "aa",
         "postcode": "１００００１", "tags": "VIP, 老客户 VIP", "important": "是", "coop_since": "2019",
         "email": "Zhang@Example.COM"}, "person", TODAY)
    assert errors == []
    assert clean["name"] == "张三"
    assert clean["id_number"] == ID_MALE
    assert clean["birth_date"] == date(1980, 3, 7) and clean["gender"] == "M"
    assert clean["category"] == "signed" and clean["credit_rating"] == "AA"
    assert clean["postcode"] == "100001"
    assert clean["tags"] == ["VIP", "老客户"]
    assert clean["important"] is True and clean["coop_since"] == 2019
    assert clean["email"] == "Zhang@example.com"
    assert clean["address"] is None  # every field of the kind is returned
    assert set(clean) == set(fields_of("person"))


def test_every_field_error_is_collected_at_once() -> None:
    clean, errors = validate_customer(
        {"name": "", "id_number": "110105198003071230", "postcode": "12345", "email": "a@b",
         "birth_date": "2030-01-01", "category": "vip", "coop_since": "1850", "important": "maybe",
         "bank_account": "12ab"}, "person", TODAY)
    fields = by_field(errors)
    assert set(fields) == {"name", "id_number", "postcode", "email", "birth_date", "category", "coop_since",
                           "important", "bank_account"}
    assert fields["name"] == "This field is required"
    assert fields["id_number"] == "The ID number's check digit is wrong; please check every digit"
    assert fields["category"] == "Choose one of: {options}"


def test_grade_number_and_unknown_fields_are_refused() -> None:
    _clean, errors = validate_customer({"name": "张三", "grade": "A", "number": "KH2026-000001", "colour": "red",
                                        "uscc": "91350100M000100Y43"}, "person", TODAY)
    fields = by_field(errors)
    assert fields["grade"] == "The grade is changed only through a grade change application (R-GRD-4)"
    assert fields["number"] == "This field cannot be changed"
    assert fields["colour"] == "Unknown field {field}"
    assert fields["uscc"] == "This field is for organisations only"


def test_organisation_fields() -> None:
    clean, errors = validate_customer(
        {"name": "北京某某科技有限公司(朝阳)", "uscc": "91350100m000100y43", "registered_capital": "500万",
         "legal_rep": "李四", "fax": "010-12345678", "size": "中型", "industry": "IT"}, "org", TODAY)
    assert errors == []
    assert clean["name"] == "北京某某科技有限公司（朝阳）"
    assert clean["uscc"] == "91350100M000100Y43"
    assert clean["registered_capital"] == "5000000.00"
    assert clean["fax"] == "01012345678"
    assert clean["size"] == "medium" and clean["industry"] == "it"
    _c, errors = validate_customer({"name": "某公司", "gender": "M"}, "org", TODAY)
    assert by_field(errors) == {"gender": "This field is for persons only"}


def test_birth_date_and_gender_must_match_the_id_number() -> None:
    _c, errors = validate_customer({"name": "张三", "id_number": ID_MALE, "birth_date": "1980-03-08",
                                    "gender": "F"}, "person", TODAY)
    assert by_field(errors) == {"birth_date": "The birth date does not match the ID number ({date})",
                                "gender": "The gender does not match the ID number"}


def test_partial_validation_checks_only_the_given_keys_against_the_current_values() -> None:
    clean, errors = validate_customer({"address": "上海市"}, "person", TODAY, partial=True)
    assert errors == [] and clean == {"address": "上海市"}
    _c, errors = validate_customer({"birth_date": "1980-03-09"}, "person", TODAY, partial=True,
                                   current={"id_number": ID_MALE, "birth_date": "1980-03-07", "gender": "M"})
    assert by_field(errors) == {"birth_date": "The birth date does not match the ID number ({date})"}
    clean, errors = validate_customer({"name": "  "}, "person", TODAY, partial=True)
    assert by_field(errors) == {"name": "This field is required"}


@FAST
@given(field=st.sampled_from(fields_of("person")), junk=st.text(max_size=300))
def test_junk_in_any_field_gives_field_errors_never_an_exception(field: str, junk: str) -> None:
    clean, errors = validate_customer({"name": "张三", field: junk}, "person", TODAY)
    for e in errors:
        assert isinstance(e, ValidationError) and e.field
        assert e.message  # formats in the current language
    if not errors:
        assert field in clean


@FAST
@given(junk=st.text(min_size=1, max_size=50).filter(lambda s: any(ord(c) < 32 and c not in "\t\n\r" for c in s)))
def test_control_characters_are_refused_in_text_fields(junk: str) -> None:
    _c, errors = validate_customer({"name": "张三", "address": "北京" + junk + "路"}, "person", TODAY)
    assert "address" in by_field(errors)


def test_absurd_lengths_are_refused() -> None:
    _c, errors = validate_customer({"name": "张" * 51, "address": "路" * 201, "notes": "x" * 2001},
                                   "person", TODAY)
    assert set(by_field(errors)) == {"name", "address", "notes"}


def test_phones_are_normalised_deduplicated_and_one_is_primary() -> None:
    phones, errors = validate_phones([PhoneInput("138 0013 8000", "手机"), PhoneInput("+86 10 1234 5678")])
    assert errors == []
    assert [(p.national, p.kind, p.primary) for p in phones] == [("13800138000", "mobile", True),
                                                                  ("01012345678", "landline", False)]
    phones, errors = validate_phones([PhoneInput("13800138000"), PhoneInput("010-1234 5678", primary=True)])
    assert [p.primary for p in phones] == [False, True]
    _p, errors = validate_phones([PhoneInput("13800138000"), PhoneInput("138-0013-8000"), PhoneInput("1380013800")])
    assert by_field(errors) == {"phones.1": "This phone is already in the list",
                                "phones.2": "Mobile numbers have 11 digits (you entered {length})"}
    _p, errors = validate_phones([PhoneInput(f"1380013800{i}") for i in range(6)])
    assert by_field(errors) == {"phones": "At most {max} phones"}


def test_consents() -> None:
    ok, errors = validate_consents([ConsentInput("办理业务", "sensitive", "书面签字")], TODAY)
    assert errors == [] and ok[0].method == "signed_form" and ok[0].given_at == TODAY
    _ok, errors = validate_consents([ConsentInput("", "everything", "telepathy", date(2030, 1, 1))], TODAY)
    assert set(by_field(errors)) <= {"consents.0.purpose", "consents.0.scope", "consents.0.method",
                                     "consents.0.given_at"}
    assert errors


# -- numbers, masking ------------------------------------------------------------------------------


def test_customer_numbers() -> None:
    assert format_number(2026, 123) == "KH2026-000123"
    assert parse_number("kh2026-000123") == (2026, 123)
    assert parse_number("KH26-1") is None


def test_masking() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("北京某某有限公司", "org") == "北京某某有限公司"
    assert mask_bank_account("6222021234567890123") == "*" * 15 + "0123"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_id_number(ID_MALE) == ID_MALE[:6] + "********" + ID_MALE[-4:]


# -- completeness (R-CUST-9) -------------------------------------------------------------------------


def test_missing_fields_by_group_and_the_earliest_deadline() -> None:
    values = {"name": "张三", "phones": 0, "address": None, "category": "potential"}
    missing = missing_fields(values, "person")
    assert missing["contact"] == ["phones", "address"]
    assert "category" not in missing["grade"]
    created = datetime(2026, 11, 20, 16, 0)  # a Friday
    cal = WorkCalendar()
    due = maintenance_due(created, missing, cal)
    assert due == datetime(2026, 11, 24, 17, 30)  # 2 working days: Mon, Tue; at the close
    only_relationship = {"relationship": ["credit_status"]}
    assert maintenance_due(created, only_relationship, cal) == cal.workday_deadline(created, 20)
    assert maintenance_due(created, {}, cal) is None


def test_national_holidays_push_the_deadline() -> None:
    created = datetime(2026, 9, 30, 10, 0)  # before the National Day week
    due = maintenance_due(created, {"contact": ["address"]}, WorkCalendar())
    assert due is not None and due.date() > date(2026, 10, 8)


@pytest.mark.parametrize("kind", ["person", "org"])
def test_a_complete_archive_has_nothing_missing(kind: str) -> None:
    values = {f: "x" for f in fields_of(kind)} | {"phones": 1}
    assert missing_fields(values, kind) == {}
