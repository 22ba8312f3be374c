"""Field validators for customer archives (R-CUST-2, R-CUST-3, R-CUST-7)."""

from __future__ import annotations

import ast
import re
import string
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from crm_tui.domain import validation as v
from crm_tui.domain.errors import ValidationError
from crm_tui.domain.validation import (
    Phone,
    clean_text,
    id_number_birth_date,
    id_number_gender,
    mask_id_number,
    mask_phone,
    normalise_phone,
    optional,
    validate_choice,
    validate_date,
    validate_email,
    validate_id_number,
    validate_money,
    validate_org_name,
    validate_person_name,
    validate_postcode,
    validate_uscc,
)
from crm_tui.i18n import catalog, translate_in

TODAY = date(2024, 6, 1)
CATALOG = Path(v.__file__).parents[2] / "i18n" / "zh_CN" / "validation.toml"  # v is a package: domain/validation/
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Expected msgids used many times below.
CONTROL = "Contains a control character ({code}) at position {position}"
INVISIBLE = "Contains an invisible character ({code}) at position {position}; delete it and retype"
UNSUPPORTED = "Contains an unsupported character ({code}) at position {position}"
NAME_SHAPE = "A name must start with a letter, and · - ' . may only stand between letters"
ID_CHARS = "ID numbers contain only digits, with X allowed as the last character"
ID_CHECK = "The ID number's check digit is wrong; please check every digit"
ID_BIRTH = "The birth date in the ID number ({digits}) is not a real date"
USCC_LENGTH = "Unified social credit codes have 18 characters (you entered {length})"
USCC_CHAR = "The character “{char}” cannot appear in a unified social credit code (I, O, S, V and Z are never used)"
USCC_SHAPE = "This does not look like a unified social credit code; please check it against the business licence"
USCC_CHECK = "The unified social credit code's check character is wrong; please check every character"
EXTENSION = "Enter the number without an extension; note the extension separately"
BAD_EMAIL = "Not a valid e-mail address (e.g. name@example.com)"
BAD_DATE = "Enter the date as year-month-day, e.g. 2024-03-05"
BAD_AMOUNT = "Enter an amount such as 500, 1,000,000.50 or 500万"


def make_id(region: str = "110105", birth: str = "19491231", seq: str = "002") -> str:
    """An ID number with a correct check digit (stdnum computes it from the first 17)."""
    body = region + birth + seq
    return body + ric.calc_check_digit(body + "?")


def make_uscc(body17: str) -> str:
    return body17 + uscc.calc_check_digit(body17)


def id_ending_in_x() -> str:
    return next(n for s in range(1000) if (n := make_id(seq=f"{s:03d}")).endswith("X"))


def wrong_check(number: str) -> str:
    alphabet = "0123456789X"
    return number[:-1] + alphabet[(alphabet.index(number[-1]) + 1) % 11]


def error_of(fn, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        fn(*args, **kwargs)
    return info.value


# ---------------------------------------------------------------------------------------------
# clean_text


@pytest.mark.parametrize(
    ("raw", "kwargs", "expected"),
    [
        ("  张三  ", {}, "张三"),
        (None, {}, None),
        ("", {}, None),
        ("\u3000 \t", {}, None),
        ("北京\u3000\u3000朝阳  区", {}, "北京 朝阳 区"),
        ("a\u00a0b", {}, "a b"),
        ("Cafe\u0301", {}, "Café"),
        ("x" * 10, {"max_len": 10}, "x" * 10),
        ("line 1  \r\nline 2\r\n\r\n\r\n\r\nline\t3\n", {"multiline": True}, "line 1\nline 2\n\nline\t3"),
        ("\u3000\u3000首行缩进\u2028次行", {"multiline": True}, "首行缩进\n次行"),
        ("  a\n    indented", {"multiline": True}, "a\n    indented"),
    ],
)
def test_clean_text_normalises(raw, kwargs, expected):
    kwargs = {"max_len": 100, **kwargs}
    assert clean_text(raw, "notes", **kwargs) == expected


@pytest.mark.parametrize(
    ("raw", "kwargs", "msgid", "params"),
    [
        ("  ", {"required": True}, "This field is required", {}),
        ("x" * 11, {"max_len": 10}, "Too long: at most {max_len} characters (currently {length})",
         {"max_len": 10, "length": 11}),
        ("a\nb", {}, "Line breaks are not allowed here", {}),
        ("a\tb", {}, CONTROL,
         {"code": "U+0009", "position": 2}),
        ("ab\x00", {"multiline": True}, CONTROL,
         {"code": "U+0000", "position": 3}),
        ("a\x1bb", {}, CONTROL,
         {"code": "U+001B", "position": 2}),
        ("张\u200b三", {}, INVISIBLE, {"code": "U+200B", "position": 2}),
        ("\ufeff张三", {}, INVISIBLE, {"code": "U+FEFF", "position": 1}),
        ("abc\u202edcba", {}, INVISIBLE, {"code": "U+202E", "position": 4}),
        ("a\ue000", {}, UNSUPPORTED,
         {"code": "U+E000", "position": 2}),
        ("a\ud800", {}, UNSUPPORTED,
         {"code": "U+D800", "position": 2}),
        ("a\U000f0000", {}, UNSUPPORTED,
         {"code": "U+F0000", "position": 2}),
    ],
)
def test_clean_text_refuses(raw, kwargs, msgid, params):
    err = error_of(clean_text, raw, "notes", **{"max_len": 100, **kwargs})
    assert (err.field, err.msgid, err.params) == ("notes", msgid, params)


def test_clean_text_length_counts_characters_after_nfc():
    assert clean_text("e\u0301" * 5, "f", max_len=5) == "é" * 5


# ---------------------------------------------------------------------------------------------
# Names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三", "张三"),
        (" 欧阳 娜娜 ", "欧阳娜娜"),
        ("阿卜杜 · 热合曼", "阿卜杜·热合曼"),
        ("阿卜杜.热合曼", "阿卜杜·热合曼"),
        ("阿卜杜•热合曼", "阿卜杜·热合曼"),
        ("阿卜杜・热合曼", "阿卜杜·热合曼"),
        ("Anna-Lena O’Brien", "Anna-Lena O'Brien"),
        ("John F. Kennedy", "John F. Kennedy"),
        ("ＪＯＨＮ　ＳＭＩＴＨ", "JOHN SMITH"),
        ("José Núñez", "José Núñez"),
        ("李〇", "李〇"),
        ("x" * 50, "x" * 50),
    ],
)
def test_person_name_valid(raw, expected):
    assert validate_person_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "msgid", "params"),
    [
        ("", "This field is required", {}),
        ("张三2", "Names cannot contain digits", {}),
        ("张三②", "Names cannot contain digits", {}),
        ("张三@", "The character “{char}” is not allowed in a name", {"char": "@"}),
        ("张三（小）", "The character “{char}” is not allowed in a name", {"char": "（"}),
        ("·张三", NAME_SHAPE, {}),
        ("Anna--Lena", NAME_SHAPE, {}),
        ("张三-", NAME_SHAPE, {}),
        ("x" * 51, "Too long: at most {max_len} characters (currently {length})",
         {"max_len": 50, "length": 51}),
    ],
)
def test_person_name_invalid(raw, msgid, params):
    err = error_of(validate_person_name, raw, "contact_name")
    assert (err.field, err.msgid, err.params) == ("contact_name", msgid, params)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("华为技术有限公司", "华为技术有限公司"),
        ("  北京(朝阳)商贸  有限公司 ", "北京（朝阳）商贸 有限公司"),
        ("Acme （China） Ltd.", "Acme (China) Ltd."),
        ("3M中国有限公司", "3M中国有限公司"),
    ],
)
def test_org_name_valid(raw, expected):
    assert validate_org_name(raw, "org_name") == expected


@pytest.mark.parametrize(
    ("raw", "msgid"),
    [
        ("", "This field is required"),
        ("12345", "An organisation name must contain letters or Chinese characters"),
        ("公" * 101, "Too long: at most {max_len} characters (currently {length})"),
        ("某某公司\n分部", "Line breaks are not allowed here"),
    ],
)
def test_org_name_invalid(raw, msgid):
    err = error_of(validate_org_name, raw, "employer")
    assert (err.field, err.msgid) == ("employer", msgid)


# ---------------------------------------------------------------------------------------------
# ID numbers (R-CUST-3)


def test_sample_ids_agree_with_stdnum():
    for number in (make_id(), make_id("440304", "19900307", "123"), id_ending_in_x()):
        assert ric.is_valid(number), number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (make_id(), make_id()),
        (make_id("440304", "19900307", "123"), make_id("440304", "19900307", "123")),
        (f" {make_id()[:6]} {make_id()[6:14]} {make_id()[14:]} ", make_id()),
        (make_id().translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)}), make_id()),
        (id_ending_in_x().lower(), id_ending_in_x()),
        (make_id(birth="20240601"), make_id(birth="20240601")),  # born today
        (make_id("810000", "19800101", "001"), make_id("810000", "19800101", "001")),  # HK permit
        # 通州区 (110112) dates from 1997; cards re-issued there carry it for older people.
        # stdnum refuses this (county checked against birth year); we accept it on purpose.
        (make_id("110112", "19800101", "001"), make_id("110112", "19800101", "001")),
    ],
)
def test_id_number_valid(raw, expected):
    assert validate_id_number(raw, today=TODAY) == expected


def test_id_number_deliberately_more_lenient_than_stdnum_on_county():
    assert not ric.is_valid(make_id("110112", "19800101", "001"))


@pytest.mark.parametrize(
    ("raw", "msgid", "params"),
    [
        ("", "This field is required", {}),
        (make_id()[:17], "ID numbers have 18 characters (you entered {length})", {"length": 17}),
        (make_id() + "1", "ID numbers have 18 characters (you entered {length})", {"length": 19}),
        ("110105491231002", "This is an old 15-digit ID number; ask for the 18-digit number on the "
         "current card", {}),
        ("11010519491231A02X", ID_CHARS, {}),
        ("11010519491231002Y", ID_CHARS, {}),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢٧", ID_CHARS, {}),
        (wrong_check(make_id()), ID_CHECK, {}),
        (wrong_check(id_ending_in_x()), ID_CHECK, {}),
        (make_id()[:10] + make_id()[11] + make_id()[10] + make_id()[12:],
         ID_CHECK, {}),
        (make_id(birth="19490230"), ID_BIRTH,
         {"digits": "19490230"}),
        (make_id(birth="19491301"), ID_BIRTH,
         {"digits": "19491301"}),
        (make_id(birth="18991231"), ID_BIRTH,
         {"digits": "18991231"}),
        (make_id(birth="20240602"), "The birth date in the ID number ({date}) is in the future",
         {"date": "2024-06-02"}),
        (make_id(region="990101"), "The ID number starts with an unknown region code ({code})",
         {"code": "990101"}),
    ],
)
def test_id_number_invalid(raw, msgid, params):
    err = error_of(validate_id_number, raw, "holder_id", today=TODAY)
    assert (err.field, err.msgid, err.params) == ("holder_id", msgid, params)


def test_id_number_default_field_and_chinese_message():
    err = error_of(validate_id_number, wrong_check(make_id()), today=TODAY)
    assert err.field == "id_number"
    assert translate_in("zh_CN", err.msgid, **err.params) == "身份证号码校验位不正确，请逐位核对"


def test_id_number_birth_date_and_gender():
    male, female = make_id(seq="001"), make_id(seq="002")
    assert id_number_birth_date(male) == date(1949, 12, 31)
    assert id_number_gender(male) == "M"
    assert id_number_gender(female) == "F"
    assert id_number_gender(id_ending_in_x().lower()) in ("M", "F")
    assert error_of(id_number_gender, "123").msgid.startswith("ID numbers have 18")


def test_mask_id_number():
    assert mask_id_number("110105194912310021") == "110105********0021"
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("") == ""
    assert "12345" not in mask_id_number("123456")


# ---------------------------------------------------------------------------------------------
# Unified social credit codes


SAMPLE_USCC = [
    "91110000600037341L",  # stdnum's documented example
    make_uscc("91440300MA5F12345"),
    make_uscc("12100000400000624"),
    make_uscc("N2110102MF0000001"),  # rural collective economic organisation
    make_uscc("Y1330105MC1234567"),
]


def test_sample_uscc_checksums_agree_with_stdnum():
    for code in SAMPLE_USCC:
        assert code[-1] == uscc.calc_check_digit(code[:-1])
    assert uscc.is_valid(SAMPLE_USCC[0]) and uscc.is_valid(SAMPLE_USCC[1])


@pytest.mark.parametrize("code", SAMPLE_USCC)
def test_uscc_valid(code):
    assert validate_uscc(code) == code
    assert validate_uscc(f" {code[:2]}-{code[2:8]} {code[8:].lower()} ") == code


@pytest.mark.parametrize(
    ("raw", "msgid", "params"),
    [
        ("", "This field is required", {}),
        ("91110000600037341", USCC_LENGTH,
         {"length": 17}),
        ("110000600037341", USCC_LENGTH,
         {"length": 15}),
        ("91110000600O37341L", USCC_CHAR, {"char": "O"}),
        ("9111000060003734IL", USCC_CHAR, {"char": "I"}),
        ("91110000600037341_", USCC_CHAR, {"char": "_"}),
        (make_uscc("B1110000600037341"), USCC_SHAPE, {}),
        (make_uscc("9111A000600037341"), USCC_SHAPE, {}),
        ("91110000600037341M", USCC_CHECK, {}),
        ("91110000600073341L", USCC_CHECK, {}),
    ],
)
def test_uscc_invalid(raw, msgid, params):
    err = error_of(validate_uscc, raw, "org_uscc")
    assert (err.field, err.msgid, err.params) == ("org_uscc", msgid, params)


# ---------------------------------------------------------------------------------------------
# Phones (R-CUST-7)

MOBILE = Phone("+8613800138000", "13800138000", "mobile", "138 0013 8000")
BEIJING = Phone("+861012345678", "01012345678", "landline", "010-1234 5678")
SHENZHEN = Phone("+8675588889999", "075588889999", "landline", "0755-8888 9999")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", MOBILE),
        ("138 0013 8000", MOBILE),
        ("138-0013-8000", MOBILE),
        ("+86 138 0013 8000", MOBILE),
        ("+86-13800138000", MOBILE),
        ("0086 13800138000", MOBILE),
        ("8613800138000", MOBILE),
        ("013800138000", MOBILE),
        ("１３８００１３８０００", MOBILE),
        ("010-12345678", BEIJING),
        ("(010) 1234 5678", BEIJING),
        ("010 1234 5678", BEIJING),
        ("01012345678", BEIJING),
        ("+86 10 1234 5678", BEIJING),
        ("+86 (0)10 1234 5678", BEIJING),
        ("0755 8888 9999", SHENZHEN),
        ("0755-88889999", SHENZHEN),
        ("０７５５－８８８８９９９９", SHENZHEN),
    ],
)
def test_phone_valid(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "msgid", "params"),
    [
        ("", "This field is required", {}),
        ("010-12345678 转 8001", EXTENSION, {}),
        ("010-12345678 分机8001", EXTENSION, {}),
        ("010 1234 5678 ext. 8001", EXTENSION, {}),
        ("010-12345678#8001", EXTENSION, {}),
        ("010-12345678-8001", EXTENSION, {}),
        ("13800138000/13900139000", "Enter one phone number per field", {}),
        ("13800138000，13900139000", "Enter one phone number per field", {}),
        ("138OO138OOO", "A phone number may only contain digits, spaces, dashes, brackets and a leading +", {}),
        ("+852 9123 4567", "Only mainland China (+86) numbers are accepted", {}),
        ("00852 9123 4567", "Only mainland China (+86) numbers are accepted", {}),
        ("400-800-1234", "Service numbers (400/800/95xxx) cannot be used as a customer's phone", {}),
        ("95588", "Service numbers (400/800/95xxx) cannot be used as a customer's phone", {}),
        ("1380013800", "Mobile numbers have 11 digits (you entered {length})", {"length": 10}),
        ("138001380001", "Mobile numbers have 11 digits (you entered {length})", {"length": 12}),
        ("8765 4321", "Landline numbers need the area code, e.g. 010-12345678", {}),
        ("12345678901", "Not a valid mainland China phone number", {}),
        ("020-888888", "Not a valid mainland China phone number", {}),
        ("1" * 50, "Not a valid mainland China phone number", {}),
    ],
)
def test_phone_invalid(raw, msgid, params):
    err = error_of(normalise_phone, raw, "mobile")
    assert (err.field, err.msgid, err.params) == ("mobile", msgid, params)


def test_mask_phone():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("075588889999") == "075*****9999"
    assert mask_phone("") == ""
    assert mask_phone("1234") == "**34"


# ---------------------------------------------------------------------------------------------
# E-mail, postcode


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Zhang.San@Example.COM", "Zhang.San@example.com"),
        (" li_si+crm@mail.bank-x.com.cn ", "li_si+crm@mail.bank-x.com.cn"),
        ("wang＠qq。com", "wang@qq.com"),
        ("user@例子.中国", "user@例子.中国"),
        ("user@xn--fsqu00a.xn--fiqs8s", "user@例子.中国"),
    ],
)
def test_email_valid(raw, expected):
    assert validate_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "msgid"),
    [
        ("", "This field is required"),
        ("zhang.example.com", "An e-mail address contains exactly one @"),
        ("a@b@example.com", "An e-mail address contains exactly one @"),
        ("zhang@localhost", BAD_EMAIL),
        ("zhang..san@example.com", BAD_EMAIL),
        (".zhang@example.com", BAD_EMAIL),
        ("zhang san@example.com", BAD_EMAIL),
        ("张三@example.com", BAD_EMAIL),
        ("zhang@-example.com", BAD_EMAIL),
        ("zhang@example.c", BAD_EMAIL),
        ("zhang@example..com", BAD_EMAIL),
        ("a" * 65 + "@example.com", BAD_EMAIL),
        ("a@" + "b" * 250 + ".com", "E-mail addresses are at most {max_len} characters"),
    ],
)
def test_email_invalid(raw, msgid):
    err = error_of(validate_email, raw, "email")
    assert (err.field, err.msgid) == ("email", msgid)


@pytest.mark.parametrize(("raw", "expected"), [("100010", "100010"), (" 518 000 ", "518000"), ("５１８０００", "518000")])
def test_postcode_valid(raw, expected):
    assert validate_postcode(raw) == expected


@pytest.mark.parametrize("raw", ["10001", "1000100", "10001a", "１０００１"])
def test_postcode_invalid(raw):
    err = error_of(validate_postcode, raw)
    assert (err.field, err.msgid) == ("postcode", "Postcodes have 6 digits")


# ---------------------------------------------------------------------------------------------
# Dates


@pytest.mark.parametrize(
    "raw",
    ["2024-03-05", "2024/3/5", "2024.03.05", "20240305", "2024年3月5日", "2024 年 3 月 5 日",
     "2024年03月05号", "２０２４－０３－０５", date(2024, 3, 5)],
)
def test_date_valid(raw):
    assert validate_date(raw, "birth_date", today=TODAY) == date(2024, 3, 5)


@pytest.mark.parametrize(
    ("raw", "kwargs", "msgid", "params"),
    [
        ("", {}, "This field is required", {}),
        ("24-3-5", {}, BAD_DATE, {}),
        ("2024-3/5", {}, BAD_DATE, {}),
        ("5/3/2024", {}, BAD_DATE, {}),
        ("2024年3月", {}, BAD_DATE, {}),
        ("yesterday", {}, BAD_DATE, {}),
        ("2023-02-29", {}, "{date} is not a real date", {"date": "2023-02-29"}),
        ("2024年13月1日", {}, "{date} is not a real date", {"date": "2024-13-01"}),
        ("2024-06-02", {}, "The date cannot be later than today ({today})", {"today": "2024-06-01"}),
        ("1899-12-31", {}, "The date cannot be earlier than {earliest}", {"earliest": "1900-01-01"}),
        ("2020-01-01", {"earliest": date(2021, 1, 1), "allow_future": True},
         "The date cannot be earlier than {earliest}", {"earliest": "2021-01-01"}),
    ],
)
def test_date_invalid(raw, kwargs, msgid, params):
    err = error_of(validate_date, raw, "visit_date", today=TODAY, **kwargs)
    assert (err.field, err.msgid, err.params) == ("visit_date", msgid, params)


def test_date_future_allowed_when_asked():
    assert validate_date("2030-01-01", "next_visit", today=TODAY, allow_future=True) == date(2030, 1, 1)


# ---------------------------------------------------------------------------------------------
# Money


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("500", "500.00"),
        ("500.00", "500.00"),
        ("500.5", "500.50"),
        ("1,000,000", "1000000.00"),
        ("１，０００，０００．５", "1000000.50"),
        ("500万", "5000000.00"),
        ("500 万元", "5000000.00"),
        ("1.2345万", "12345.00"),
        ("1.5亿", "150000000.00"),
        ("¥1,234.56元", "1234.56"),
        ("0", "0.00"),
        ("-0", "0.00"),
    ],
)
def test_money_valid(raw, expected):
    result = validate_money(raw, "registered_capital")
    assert result == Decimal(expected) and str(result) == expected


@pytest.mark.parametrize(
    ("raw", "msgid"),
    [
        ("", "This field is required"),
        ("abc", BAD_AMOUNT),
        ("1,00", BAD_AMOUNT),
        ("1e6", BAD_AMOUNT),
        ("500万美元", BAD_AMOUNT),
        ("NaN", BAD_AMOUNT),
        ("1_000", BAD_AMOUNT),
        ("-500", "The amount cannot be negative"),
        ("500.001", "At most 2 decimal places"),
        ("1.2345678万", "At most 2 decimal places"),
        ("1" + "0" * 16, "The amount is too large"),
        ("1" * 40 + "亿", "The amount is too large"),
    ],
)
def test_money_invalid(raw, msgid):
    err = error_of(validate_money, raw, "registered_capital")
    assert (err.field, err.msgid) == ("registered_capital", msgid)


# ---------------------------------------------------------------------------------------------
# Choices, optional


GENDERS = {"M": "Male", "F": "Female"}


@pytest.mark.parametrize(("raw", "expected"), [("M", "M"), (" f ", "F"), ("Female", "F"), ("male", "M")])
def test_choice_valid(raw, expected):
    assert validate_choice(raw, "gender", GENDERS) == expected


def test_choice_matches_translated_label(monkeypatch):
    monkeypatch.setitem(catalog("zh_CN"), "Male", "男")
    assert validate_choice("男", "gender", GENDERS) == "M"


@pytest.mark.parametrize("raw", ["X", "unknown"])
def test_choice_invalid(raw):
    err = error_of(validate_choice, raw, "gender", GENDERS)
    assert (err.field, err.msgid, err.params) == ("gender", "Choose one of: {options}", {"options": "M, F"})


def test_choice_required():
    assert error_of(validate_choice, " ", "gender", GENDERS).msgid == "This field is required"


def test_optional_skips_blank_values():
    assert optional(validate_email, "  ", "email") is None
    assert optional(validate_email, None, "email") is None
    assert optional(validate_date, "2024-01-02", "d", today=TODAY) == date(2024, 1, 2)
    with pytest.raises(ValidationError):
        optional(validate_postcode, "12", "postcode")


# ---------------------------------------------------------------------------------------------
# Catalog


def _msgids_in_module() -> set[str]:
    found: set[str] = set()
    for node in (n for f in sorted(Path(v.__file__).parent.glob("*.py"))  # every module of the package
                 for n in ast.walk(ast.parse(f.read_text(encoding="utf-8")))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ValidationError":
            msgid = node.args[1]
            assert isinstance(msgid, ast.Constant) and isinstance(msgid.value, str), ast.dump(msgid)
            found.add(msgid.value)
    return found


def test_every_msgid_has_a_translation_and_no_stale_entries():
    with CATALOG.open("rb") as fh:
        catalog = tomllib.load(fh)
    used = _msgids_in_module()
    assert len(used) > 30
    assert used - catalog.keys() == set(), "missing translations"
    assert catalog.keys() - used == set(), "stale translations"
    placeholders = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
    for msgid, text in catalog.items():
        assert placeholders(text) == placeholders(msgid), msgid
        assert re.search("[\u4e00-\u9fff]", text), msgid


# ---------------------------------------------------------------------------------------------
# Properties

ALPHABET = st.sampled_from(
    list("0123456789Xx -+()./,年月日号万亿元¥@.·'abcZ张三\u3000\u200b\n\t\x00０１")
    + ["\ud800", "\ue000", "\u0301", "\U0001f600", "１"]
)
ANY_TEXT = st.one_of(st.text(), st.text(ALPHABET, max_size=30), st.text(st.characters(), max_size=300))

VALIDATORS = [
    lambda s: clean_text(s, "f", max_len=20),
    lambda s: clean_text(s, "f", max_len=20, multiline=True, required=True),
    validate_person_name,
    lambda s: validate_org_name(s, "f"),
    lambda s: validate_id_number(s, today=TODAY),
    id_number_birth_date,
    id_number_gender,
    validate_uscc,
    normalise_phone,
    validate_email,
    validate_postcode,
    lambda s: validate_date(s, "f", today=TODAY),
    lambda s: validate_money(s, "f"),
    lambda s: validate_choice(s, "f", GENDERS),
]


@FAST
@given(ANY_TEXT)
def test_arbitrary_text_only_ever_raises_validation_error(text):
    for validator in VALIDATORS:
        try:
            validator(text)
        except ValidationError:
            pass
    assert mask_id_number(text).count("*") >= len(re.sub(r"\s", "", text)) - 10
    assert sum(c.isdigit() for c in mask_phone(text)) <= 7


@FAST
@given(ANY_TEXT, st.booleans())
def test_clean_text_is_idempotent(text, multiline):
    try:
        once = clean_text(text, "f", max_len=500, multiline=multiline)
    except ValidationError:
        return
    assert clean_text(once, "f", max_len=500, multiline=multiline) == once


@FAST
@given(ANY_TEXT)
def test_names_are_idempotent(text):
    for validator in (validate_person_name, lambda s: validate_org_name(s, "f")):
        try:
            once = validator(text)
        except ValidationError:
            continue
        assert validator(once) == once


valid_ids = st.builds(
    lambda region, birth, seq: make_id(region, birth.strftime("%Y%m%d"), f"{seq:03d}"),
    st.sampled_from(["110101", "310115", "440304", "510107", "650102", "820000"]),
    st.dates(date(1900, 1, 1), TODAY),
    st.integers(0, 999),
)


@FAST
@given(valid_ids, st.booleans())
def test_valid_ids_round_trip_and_mask_hides_the_middle(number, lower):
    once = validate_id_number(number.lower() if lower else number, today=TODAY)
    assert once == number == validate_id_number(once, today=TODAY)
    assert id_number_birth_date(once) == date(int(once[6:10]), int(once[10:12]), int(once[12:14]))
    masked = mask_id_number(once)
    assert masked == once[:6] + "*" * 8 + once[-4:]
    assert not re.search(r"[0-9X]", masked[6:14])


@FAST
@given(valid_ids, st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_typo_in_an_id_is_caught(number, position, delta):
    typo = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    with pytest.raises(ValidationError):
        validate_id_number(typo, today=TODAY)


@FAST
@given(st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=9, max_size=9), st.integers(0, 999999))
def test_valid_uscc_round_trip(org, region):
    code = make_uscc(f"91{region:06d}{org}")
    assert validate_uscc(code.lower()) == code == validate_uscc(code)


@FAST
@given(
    st.one_of(
        st.builds(lambda p, n: f"{p}{n:08d}", st.sampled_from(["130", "138", "150", "177", "186", "199"]),
                  st.integers(0, 99_999_999)),
        st.builds(lambda a, n: f"{a}{n:08d}", st.sampled_from(["010", "021", "020", "0755", "0571"]),
                  st.integers(20_000_000, 99_999_999)),
    ),
    st.sampled_from(["{}", "+86 {}", "0086-{}", "{} "]),
)
def test_valid_phones_round_trip_and_mask_hides_the_middle(digits, style):
    try:
        phone = normalise_phone(style.format(digits))
    except ValidationError:
        assume(False)
    for form in (phone.e164, phone.national, phone.display):
        assert normalise_phone(form) == phone
    assert phone.national == digits and phone.national.isdigit()
    masked = mask_phone(phone.national)
    assert masked[:3] == phone.national[:3] and masked[-4:] == phone.national[-4:]
    assert set(masked[3:-4]) == {"*"} and len(masked) == len(phone.national)


@FAST
@given(st.dates(date(1900, 1, 1), TODAY), st.sampled_from(["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日"]))
def test_dates_round_trip(day, fmt):
    parsed = validate_date(day.strftime(fmt), "f", today=TODAY)
    assert parsed == day == validate_date(parsed.isoformat(), "f", today=TODAY)


@FAST
@given(st.decimals(min_value=0, max_value=Decimal("99999999999"), places=2), st.booleans())
def test_money_round_trips(amount, grouped):
    text = f"{amount:,}" if grouped else str(amount)
    once = validate_money(text, "f")
    assert once == amount and validate_money(str(once), "f") == once


@FAST
@given(st.from_regex(r"[a-z0-9._%+-]{1,20}@[a-zA-Z0-9-]{1,20}\.[a-zA-Z]{2,6}", fullmatch=True))
def test_emails_round_trip(text):
    try:
        once = validate_email(text)
    except ValidationError:
        return
    assert validate_email(once) == once


# --- fast paths (benchmarks/results/NOTES.md, Import): same answers as the general code -----------


class _Forgetful(set):  # type: ignore[type-arg]
    """A prefix memo that never remembers: every number goes through phonenumbers."""

    def add(self, item: object) -> None:
        pass


def _outcome(text: str) -> object:
    try:
        return normalise_phone(text, "phone")
    except ValidationError as e:
        return (e.field, e.msgid, e.params)


def _by_phonenumbers(text: str) -> object:
    saved = v._MOBILE_PREFIXES
    v._MOBILE_PREFIXES = _Forgetful()
    try:
        return _outcome(text)
    finally:
        v._MOBILE_PREFIXES = saved


_PREFIXES = [f"1{a}{b}" for a in "3456789" for b in "0123456789"]
_LAYOUTS = [lambda d: d, lambda d: f"{d[:3]} {d[3:7]} {d[7:]}", lambda d: f"+86 {d}", lambda d: f"0086-{d}",
            lambda d: f"86{d}", lambda d: f"{d[:3]}-{d[3:7]}-{d[7:]}", lambda d: f"0{d}",
            lambda d: d.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_PREFIXES), st.integers(min_value=0, max_value=10**8 - 1), st.sampled_from(_LAYOUTS),
       st.sampled_from(["000000", "999999", "123456", "505050"]))
def test_mobile_fast_path_gives_what_phonenumbers_gives_R_CUST_7(prefix, rest, layout, sibling) -> None:  # type: ignore[no-untyped-def]
    """An 11-digit mobile of a five-digit prefix phonenumbers has accepted before is built without
    phonenumbers: the result (or the refusal) is the same as phonenumbers' for every layout, for
    every 1[3-9]x prefix (valid ones like 138, 166, 1740x, and refused ones like 140, 154, 1749x)."""
    digits = f"{prefix}{rest:08d}"
    _outcome(digits[:5] + sibling)  # a neighbour of the same five-digit prefix, remembered if accepted
    assert _outcome(layout(digits)) == _by_phonenumbers(layout(digits))
    assert _outcome(layout(digits)) == _by_phonenumbers(layout(digits))


def test_the_first_five_digits_decide_an_11_digit_number_starting_with_1() -> None:
    """The fast path's premise, over every five-digit prefix 1[3-9]xxx: numbers of one prefix are
    all accepted as mobiles, or all refused alike, by phonenumbers."""
    for p in range(13000, 20000):
        a, b = _by_phonenumbers(f"{p}000000"), _by_phonenumbers(f"{p}987654")
        if isinstance(a, Phone):
            assert isinstance(b, Phone) and a.kind == b.kind == "mobile", p
            assert a == v._mobile(f"{p}000000") and b == v._mobile(f"{p}987654"), p
        else:
            assert a == b, p


def test_mobile_fast_path_does_not_call_phonenumbers(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert normalise_phone("13800138000").kind == "mobile"  # prefix 13800 remembered

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("phonenumbers called")

    monkeypatch.setattr(v.phonenumbers, "parse", fail)
    assert normalise_phone("13800999999") == Phone("+8613800999999", "13800999999", "mobile", "138 0099 9999")
    assert normalise_phone("+86 138-0099-9999") == Phone("+8613800999999", "13800999999", "mobile", "138 0099 9999")


def _clean_text_reference(value: str | None, field: str, *, max_len: int, required: bool = False,
                          multiline: bool = False) -> str | None:
    """clean_text as it was before its fast path (every character's category looked up)."""
    import unicodedata

    text = v._LINE_BREAKS.sub("\n", v._as_text(value)).translate(v._SPACES)
    if multiline:
        text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    text = text.strip(" \t\n")
    if not text:
        if required:
            raise ValidationError(field, "This field is required")
        return None
    for position, char in enumerate(text, start=1):
        if char in "\n\t" and multiline:
            continue
        if char == "\n":
            raise ValidationError(field, "Line breaks are not allowed here")
        category = unicodedata.category(char)
        if category == "Cc":
            raise ValidationError(field, CONTROL, code=f"U+{ord(char):04X}", position=position)
        if category == "Cf":
            raise ValidationError(field, INVISIBLE, code=f"U+{ord(char):04X}", position=position)
        if category in ("Cs", "Co", "Cn"):
            raise ValidationError(field, UNSUPPORTED, code=f"U+{ord(char):04X}", position=position)
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"\n{3,}", "\n\n", text) if multiline else re.sub(" {2,}", " ", text)
    if len(text) > max_len:
        raise ValidationError(field, "Too long: at most {max_len} characters (currently {length})",
                              max_len=max_len, length=len(text))
    return text


def _text_outcome(fn, value: str, multiline: bool) -> object:  # type: ignore[no-untyped-def]
    try:
        return fn(value, "f", max_len=30, multiline=multiline)
    except ValidationError as e:
        return (e.msgid, e.params)


_TRICKY = st.sampled_from(list("\n\t\r \u3000\u00a0\u200b\u200d\ufeff\u202e\u2028\u2029\x85\x00\x07\x7f"
                               "\ue000\U000f0000\u0378\ud800\u0301e\u00e9张·-")) | st.characters()


@settings(max_examples=400, deadline=None)
@given(st.lists(_TRICKY, max_size=40).map("".join), st.booleans())
def test_clean_text_fast_path_equals_the_character_scan(value: str, multiline: bool) -> None:
    """clean_text skips its per-character scan when the text is printable: same value or same
    message (control, invisible, unsupported characters, line breaks, length) as scanning."""
    assert _text_outcome(clean_text, value, multiline) == _text_outcome(_clean_text_reference, value, multiline)


def test_choice_labels_are_remembered_and_refusals_still_raised() -> None:
    genders = {"M": "male", "F": "female"}
    for _i in range(2):
        assert validate_choice("男", "gender", {"M": "Male", "F": "Female"}) == "M"
        assert validate_choice("f", "gender", {"M": "Male", "F": "Female"}) == "F"
        with pytest.raises(ValidationError) as err:
            validate_choice("X", "gender", genders)
        assert err.value.field == "gender" and err.value.msgid == "Choose one of: {options}"


_HAN_OR_NOT = st.characters(min_codepoint=0x3400, max_codepoint=0x9FFF) | st.sampled_from(
    list("\u3007\uf900\ufa6e\ufa70\U00020000\U0002a6e0\U0003134a·.- 'Aa1\u200b\u3000"))


@settings(max_examples=300, deadline=None)
@given(st.lists(_HAN_OR_NOT, min_size=0, max_size=8).map("".join))
def test_person_name_fast_path_for_chinese_names_changes_nothing(name: str) -> None:
    """A name of Chinese characters only skips the separator and letter checks: same value or the
    same refusal as going through them."""
    import re as re_

    def outcome() -> object:
        try:
            return validate_person_name(name)
        except ValidationError as e:
            return (e.msgid, e.params)

    fast = outcome()
    saved = v._ALL_HAN
    v._ALL_HAN = re_.compile("(?!)")  # never matches: the full checks
    try:
        assert outcome() == fast
    finally:
        v._ALL_HAN = saved
