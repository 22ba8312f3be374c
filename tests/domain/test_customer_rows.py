"""RowValidator (imports, issue 22) gives validate_customer's answers row after row: the same clean
values in the same order and the same errors in the same order, with its memo warm or cold."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from crm_tui.domain import customer_rows
from crm_tui.domain.customer_rows import RowValidator
from crm_tui.domain.customers import validate_customer

TODAY = date(2026, 11, 23)
_ID = "110101199003074522"
_BODY = "91110108600040399"
VALUES = {
    "name": ["张伟", "单田芳", "区志明", "欧阳修", "司马光", "诸葛亮", "北京华信科技有限公司", "", "  ", "A" * 300, "张\x00伟",
             "重庆银行股份有限公司", "王 芳", "Li Na"],
    "address": ["", "北京市朝阳区建国路88号", " 上海市浦东新区　世纪大道100号 ", "x" * 201, "第一行\n第二行"],
    "gender": ["", "男", "女", "male", "未知"],
    "birth_date": ["", "1990-03-07", "1990-03-08", "2090-01-01", "19900307", "不详"],
    "id_number": ["", _ID, _ID[:-1] + "0", "123"],
    "tags": ["", "老客户", "转介绍,老客户", "VIP；VIP、新", ",".join(f"t{i}" for i in range(30))],
    "notes": ["", "备注", "第一行\r\n第二行", "\x07"],
    "important": ["", "是", "否", "也许", "yes"],
    "owner": ["", "jingli", "王建国", "a,b", "x" * 41],
    "staff_contacts": ["", "kezhang", "jingli,kezhang,jingli"],
    "email": ["", "user@Example.COM", "not-an-email"],
    "uscc": ["", _BODY + uscc.calc_check_digit(_BODY), "91110108600040399X"],
    "legal_rep": ["", "王建国", "1"],
    "registered_capital": ["", "500000", "1,000,000.50", "很多"],
    "fax": ["", "010-62345679", "12"],
    "grade": ["", "A"],
    "no_such_field": ["", "x"],
    "category": ["", "retail", "没有这个类别"],
    "coop_since": ["", "2001", "1800"],
}
assert ric.is_valid(_ID)


def _same(a: tuple, b: tuple) -> None:  # type: ignore[type-arg]
    (ca, ea), (cb, eb) = a, b
    assert list(ca.items()) == list(cb.items())
    assert [(e.field, e.msgid, e.params) for e in ea] == [(e.field, e.msgid, e.params) for e in eb]


rows = st.fixed_dictionaries({}, optional={k: st.sampled_from(v) for k, v in VALUES.items()})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(rows, st.sampled_from(["person", "org", "person", "other"])), min_size=1, max_size=25))
def test_rows_get_validate_customers_answers(batch):  # type: ignore[no-untyped-def]
    """Rows of one validator (its memo filling up as they come), in any order of keys and kinds:
    every answer is validate_customer's, refused keys (grade, unknown, the other kind's fields)
    included."""
    rv = RowValidator(TODAY)
    for raw, kind in [*batch, *batch]:  # the second pass answers from the memo
        _same(rv.validate(raw, kind), validate_customer(raw, kind, TODAY))


def test_each_row_gets_its_own_lists_and_a_full_memo_starts_again(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(customer_rows, "MEMO_MAX", 3)
    rv = RowValidator(TODAY)
    raw = {"name": "张伟", "tags": "老客户,转介绍", "staff_contacts": "jingli"}
    first, _ = rv.validate(raw, "person")
    first["tags"].append("changed")
    first["staff_contacts"].clear()
    for _i in range(3):
        _same(rv.validate(raw, "person"), validate_customer(raw, "person", TODAY))
        _same(rv.validate({**raw, "name": f"李{_i}"}, "person"), validate_customer({**raw, "name": f"李{_i}"}, "person", TODAY))
    assert rv._memo and all(len(m) <= 3 for m in rv._memo.values())
