"""Importing customers from real spreadsheet files (issue 9): UTF-8, UTF-8 with BOM, GBK and XLSX
with Chinese headers, bad rows reported by row/column/reason, duplicates, all-or-nothing, cancel,
permissions and the single audit entry (R-CUST-1, R-CUST-6, R-CUST-7, R-SEC-2, R-SEC-3)."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_tui.domain.errors import PermissionDenied, ValidationError
from crm_tui.services import customers, importing

HEADERS = ["客户名称", "手机", "联系电话", "地址", "性别", "负责人", "身份证号码", "敏感信息同意", "标签", "备注"]
GOOD = [
    ["张伟", "13812345678", "", "北京市朝阳区建国路88号", "男", "jingli", "", "", "老客户", ""],
    ["北京华信科技有限公司", "010-62345678", "13911112222", "北京市海淀区中关村大街27号", "", "王建国", "", "", "", "单位客户"],
    ["李娜", "139 0000 1111", "", "", "女", "", "110101199003074522", "是", "", ""],
]
BAD = [
    ["王芳", "1380013800", "", "", "", "jingli", "", "", "", "电话少一位"],
    ["赵强", "13700001111", "", "", "男", "nobody", "", "", "", ""],
    ["孙丽", "13600001111", "", "", "", "", "110101199003074522", "", "", "无同意"],
]


def _csv(path: Path, rows: list[list[str]], encoding: str, headers: list[str] = HEADERS) -> Path:
    buf = io.StringIO()
    csv.writer(buf).writerows([headers, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _xlsx(path: Path, rows: list[list[object]], headers: list[str] = HEADERS) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _imported(crm) -> list[tuple]:  # type: ignore[no-untyped-def]
    with crm.svc.store.read() as s:
        from sqlalchemy import text

        return [tuple(r) for r in s.execute(text("SELECT name, kind, owner_id FROM customer ORDER BY id"))]


@pytest.mark.parametrize("fmt", ["utf-8", "utf-8-sig", "gbk", "gb18030", "xlsx"])
def test_import_each_encoding_and_xlsx_with_chinese_headers(fmt, crm, tmp_path):
    if fmt == "xlsx":
        rows: list[list[object]] = [list(r) for r in GOOD]
        rows[0][1] = 13812345678  # Excel keeps phone numbers as numbers
        path = _xlsx(tmp_path / "客户.xlsx", rows)
    else:
        path = _csv(tmp_path / "客户.csv", GOOD, fmt)
    admin = crm.actor("admin")
    table = importing.read_file(path)
    assert table.encoding == {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gb18030", "gb18030": "gb18030",
                              "xlsx": "xlsx"}[fmt]
    plan = importing.plan(crm.svc, admin, table)
    assert plan.errors == [] and plan.duplicates == [] and len(plan.ready) == 3
    audit_before = crm.count("audit_log", "action = 'customer.import'")
    result = importing.run(crm.svc, admin, plan)
    assert result.imported == 3 and result.backup and result.backup.endswith("pre-import.db")
    got = _imported(crm)
    manager = crm.actor("customer_manager").staff_id
    assert got == [("张伟", "person", manager), ("北京华信科技有限公司", "org", manager), ("李娜", "person", admin.staff_id)]
    assert crm.count("customer_phone") == 4 and crm.count("customer_tag") == 1
    assert crm.count("customer_consent", "scope = 'sensitive'") == 1
    assert crm.count("audit_log", "action = 'customer.import'") == audit_before + 1
    # search index: found by name, pinyin and phone digits, like customers made in the app
    for q in ("张伟", "zhangwei", "5678", "华信"):
        assert customers.search(crm.svc, crm.manager, q).rows, q
    # numbering continues after the import
    ref = customers.create_customer(crm.svc, crm.manager, "person", {"name": "周杰"})
    assert ref.number.endswith("000004")


def test_english_headers_map_automatically(crm, tmp_path):
    path = _csv(tmp_path / "c.csv", [["Zhang Wei", "13812345678", "Beijing"]], "utf-8", ["Name", "Mobile", "Address"])
    table = importing.read_file(path)
    assert importing.auto_mapping(table.headers) == {"Name": "name", "Mobile": "phone", "Address": "address"}


def test_bad_rows_reported_by_row_column_reason_and_nothing_written(crm, tmp_path):
    path = _csv(tmp_path / "c.csv", GOOD + BAD, "gbk")
    admin = crm.actor("admin")
    before = crm.counts()
    plan = importing.plan(crm.svc, admin, importing.read_file(path))
    errors = {(e.row, e.column): e.reason for e in plan.errors}
    assert errors == {
        (5, "手机"): "Mobile numbers have 11 digits (you entered 10)",
        (6, "负责人"): "Unknown staff member 'nobody'",
        (7, "身份证号码"): "An ID number or bank account is kept only with the customer's consent to sensitive "
                      "data; record that consent first",
    }
    with pytest.raises(importing.ImportRefused) as e:
        importing.run(crm.svc, admin, plan)
    assert "3 row(s) have errors; nothing was imported" in str(e.value)
    assert crm.counts() == before
    result = importing.run(crm.svc, admin, plan, all_or_nothing=False)
    assert result.imported == 3 and result.skipped_errors == 3


def test_duplicates_of_the_archive_and_within_the_file_are_listed_not_written(crm, tmp_path):
    admin = crm.actor("admin")
    importing.run(crm.svc, admin, importing.plan(crm.svc, admin, importing.read_file(_csv(tmp_path / "a.csv", GOOD, "utf-8"))))
    before = crm.counts()
    again = _csv(tmp_path / "b.csv", GOOD + [GOOD[0]], "utf-8")
    plan = importing.plan(crm.svc, admin, importing.read_file(again))
    assert [(d.row, d.matched) for d in plan.duplicates] == [(2, "phone"), (3, "phone"), (4, "id_number")]
    assert [(e.row, e.reason) for e in plan.errors] == [(5, "Same customer as row 2 of this file")]
    assert plan.ready == []
    other = _csv(tmp_path / "c.csv", [["刘洋", "13812345678", "", "", "", "", "", "", "", ""]], "utf-8")
    p2 = importing.plan(crm.svc, admin, importing.read_file(other))
    assert "belongs to customer" in p2.errors[0].reason  # a shared phone needs a reason (R-CUST-7)
    assert crm.counts() == before


def test_cancel_leaves_nothing_behind(crm, tmp_path, monkeypatch):
    monkeypatch.setattr(importing.batch, "CHUNK", 2)
    rows = [["张王李赵刘陈杨黄周吴"[i] + "小明", f"1380000{i:04d}", "", "", "", "", "", "", "", ""] for i in range(10)]
    admin = crm.actor("admin")
    plan = importing.plan(crm.svc, admin, importing.read_file(_csv(tmp_path / "c.csv", rows, "utf-8")))
    assert len(plan.ready) == 10
    before = crm.counts()
    audit = crm.count("audit_log", "action = 'customer.import'")
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 4:
            cancel.set()

    with pytest.raises(importing.ImportCancelled):
        importing.run(crm.svc, admin, plan, progress=progress, cancel=cancel)
    assert crm.counts() == before
    assert crm.count("audit_log", "action = 'customer.import'") == audit


@pytest.mark.parametrize("role", ["front_desk", "customer_manager", "section_chief", "deputy_manager",
                                  "internal_control"])
def test_only_administrators_import_R_SEC_2(role, crm, tmp_path):
    table = importing.read_file(_csv(tmp_path / "c.csv", GOOD, "utf-8"))
    with pytest.raises(PermissionDenied):
        importing.plan(crm.svc, crm.actor(role), table)
    assert crm.count("customer") == 0


def test_mapping_saved_edited_and_reused(crm, tmp_path):
    admin = crm.actor("admin")
    path = _csv(tmp_path / "c.csv", [["张伟", "13812345678", "某备注"]], "utf-8", ["名字", "号码", "其他"])
    table = importing.read_file(path)
    assert importing.auto_mapping(table.headers) == {}
    with pytest.raises(ValidationError) as e:
        importing.plan(crm.svc, admin, table)
    assert "name (required)" in str(e.value)
    mapping = {"名字": "name", "号码": "phone", "其他": "notes"}
    importing.save_mapping(crm.svc, admin, "老系统导出", mapping)
    assert importing.list_mappings(crm.svc, admin) == ["老系统导出"]
    assert importing.load_mapping(crm.svc, admin, "老系统导出") == mapping
    with pytest.raises(ValidationError):
        importing.save_mapping(crm.svc, admin, "x", {"名字": "name", "号码": "grade"})
    assert len(importing.plan(crm.svc, admin, table, mapping).ready) == 1


def test_unreadable_files_have_clear_messages(crm, tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    (tmp_path / "b.xlsx").write_bytes(b"not a zip")
    (tmp_path / "c.csv").write_bytes(b"")
    (tmp_path / "d.csv").write_bytes(b"\xff\xfe\x00\xd8\x00")
    messages = []
    for name in ("a.pdf", "b.xlsx", "c.csv", "d.csv", "missing.csv"):
        with pytest.raises(importing.ImportFileError) as e:
            importing.read_file(tmp_path / name)
        messages.append(str(e.value))
    assert messages == ["a.pdf: only CSV and XLSX files can be imported.", "The file is not a readable XLSX workbook.",
                        "c.csv is empty.", "d.csv is neither UTF-8 nor GBK/GB18030 text; save it as CSV (UTF-8) or XLSX.",
                        f"No file at {tmp_path / 'missing.csv'}."]


_cell = st.one_of(st.text(max_size=30), st.sampled_from(["", "13812345678", "010-1234567", "男", "X", "是",
                                                          "110101199003074522", "jingli", "nobody", "0" * 40]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_cell, min_size=len(HEADERS), max_size=len(HEADERS)), min_size=1, max_size=8))
def test_any_rows_give_a_report_or_an_import_never_a_crash(crm, tmp_path, rows):
    """Whatever the cells hold, the dry run sorts every row into ready / error / duplicate, errors
    point at a real row and column, and an all-or-nothing import writes exactly the ready rows or
    nothing."""
    rows = [[c.replace("\x00", "") for c in r] for r in rows]
    path = _csv(tmp_path / "h.csv", rows, "utf-8")
    admin = crm.actor("admin")
    table = importing.read_file(path)
    plan = importing.plan(crm.svc, admin, table)
    rownums = {n for n, _c in table.rows}
    assert {e.row for e in plan.errors} <= rownums
    assert all(e.column in HEADERS and e.reason for e in plan.errors)
    sorted_rows = {r.row for r in plan.ready} | {e.row for e in plan.errors} | {d.row for d in plan.duplicates}
    assert sorted_rows == rownums
    before = crm.count("customer")
    if plan.errors:
        with pytest.raises(importing.ImportRefused):
            importing.run(crm.svc, admin, plan, backup=False)
        assert crm.count("customer") == before
    else:
        importing.run(crm.svc, admin, plan, backup=False)
        assert crm.count("customer") == before + len(plan.ready)


def test_export_customers_to_xlsx_and_csv_is_audited(crm, tmp_path):
    admin = crm.actor("admin")
    importing.run(crm.svc, admin, importing.plan(crm.svc, admin, importing.read_file(_csv(tmp_path / "a.csv", GOOD, "utf-8"))))
    chief = crm.actor("section_chief")
    assert customers.export_list(crm.svc, chief, "", customers.SearchFilters(), tmp_path / "o.xlsx") == 3
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "o.xlsx", read_only=True).worksheets[0]
    values = [[c for c in r] for r in ws.iter_rows(values_only=True)]
    assert len(values) == 4 and "张伟" in [v[1] for v in values]
    # the exported file imports back as duplicates: nothing new
    again = importing.plan(crm.svc, admin, importing.read_file(tmp_path / "o.xlsx"))
    assert again.ready == [] or all(r.clean["name"] not in {g[0] for g in GOOD} for r in again.ready)
    with pytest.raises(PermissionDenied):
        customers.export_list(crm.svc, crm.actor("front_desk"), "", customers.SearchFilters(), tmp_path / "x.csv", "csv")
    details = json.loads(crm.svc.store.engine.connect().exec_driver_sql(
        "SELECT details FROM audit_log WHERE action = 'customer.export' ORDER BY id DESC LIMIT 1").scalar_one())
    assert details["rows"] == 3


def test_imported_customers_show_the_import_on_their_timeline_R_CUST_14(crm, tmp_path):
    admin = crm.actor("admin")
    importing.run(crm.svc, admin, importing.plan(crm.svc, admin, importing.read_file(_csv(tmp_path / "客户.csv", GOOD, "gbk"))))
    ref = customers.search(crm.svc, crm.manager, "张伟").rows[0]
    entries = customers.timeline(crm.svc, crm.manager, ref.id)
    imported = [e for e in entries if e.kind == "import"]
    assert len(imported) == 1 and imported[0].title == "Imported from 客户.csv" and imported[0].staff == "admin"
    assert "One of 3 customers" in imported[0].body


def test_duplicates_can_fill_blank_fields_never_overwrite(crm, tmp_path):
    admin = crm.actor("admin")
    importing.run(crm.svc, admin, importing.plan(crm.svc, admin, importing.read_file(_csv(tmp_path / "a.csv", GOOD, "utf-8"))))
    richer = [list(r) for r in GOOD]
    richer[0][3] = "上海市另一个地址"  # the archive already has an address: kept
    richer[0][9] = "补充的备注"        # notes were blank: filled
    plan = importing.plan(crm.svc, admin, importing.read_file(_csv(tmp_path / "b.csv", richer, "utf-8")))
    assert len(plan.duplicates) == 3 and not plan.ready
    updates = crm.count("audit_log", "action = 'customer.update'")
    result = importing.run(crm.svc, admin, plan, duplicates="fill")
    assert result.filled == 1 and result.imported == 0
    ref = customers.search(crm.svc, crm.manager, "张伟").rows[0]
    view = customers.get_customer(crm.svc, crm.manager, ref.id)
    assert view.values["notes"] == "补充的备注" and view.values["address"] == "北京市朝阳区建国路88号"
    assert crm.count("audit_log", "action = 'customer.update'") == updates + 1


def test_imported_rows_index_and_deadlines_equal_the_forms_R_CUST_9(crm, tmp_path):
    """The import caches pinyin per distinct name, deadlines per set of missing fields and writes
    through DB-API executemany: every customer's search columns, search terms, missing fields and
    deadline are still what the archive computes for one customer (services.customers)."""
    from sqlalchemy import text

    from crm_tui.domain import search_terms

    rows = [*GOOD,
            ["张伟", "13812345679", "", "", "男", "", "", "", "", ""],  # same name again: the cache
            ["张伟", "+86 139 1234 5670", "010-62345679", "上海市", "", "jingli", "", "", "老客户,转介绍", ""],
            ["单田芳", "13712345678", "", "", "", "", "", "", "", ""],
            ["重庆银行股份有限公司", "023-63792345", "", "", "", "", "", "", "", ""]]
    admin = crm.actor("admin")
    plan = importing.plan(crm.svc, admin, importing.read_file(_csv(tmp_path / "c.csv", rows, "gbk")))
    assert plan.errors == [] and len(plan.ready) == len(rows)
    importing.run(crm.svc, admin, plan, backup=False)
    cal = customers._calendar(crm.svc)
    with crm.svc.store.read() as s:
        for r in s.execute(text("SELECT * FROM customer ORDER BY id")).mappings():
            phones = [p for (p,) in s.execute(text(
                "SELECT national FROM customer_phone WHERE customer_id = :c ORDER BY id"), {"c": r["id"]})]
            terms = {t for (t,) in s.execute(text("SELECT term FROM search_term WHERE customer_id = :c"),
                                             {"c": r["id"]})}
            assert terms == customers._terms(r, phones), r["name"]
            assert (r["search_name"], r["search_pinyin"]) == search_terms.search_columns(r["name"], r["kind"])
            values = {k: r[k] for k in customers._WRITABLE}
            missing, due = customers._completeness(values, r["kind"], crm.clock(), len(phones), cal)
            assert r["missing_fields"] == missing and customers._dt(r["incomplete_due"]) == due, r["name"]


def test_garbage_collection_resumes_after_an_import_even_a_failed_one(crm, tmp_path):
    """plan and run pause Python's automatic garbage collection (bulk loops) and always resume it:
    after success, after a refusal, after a cancel; never switched on if it was off."""
    import gc

    admin = crm.actor("admin")
    assert gc.isenabled()
    bad = importing.plan(crm.svc, admin, importing.read_file(_csv(tmp_path / "bad.csv", BAD, "utf-8")))
    assert gc.isenabled()
    with pytest.raises(importing.ImportRefused):
        importing.run(crm.svc, admin, bad, backup=False)
    assert gc.isenabled()
    cancel = threading.Event()
    cancel.set()
    good = importing.plan(crm.svc, admin, importing.read_file(_csv(tmp_path / "good.csv", GOOD, "utf-8")))
    with pytest.raises(importing.ImportCancelled):
        importing.run(crm.svc, admin, good, backup=False, cancel=cancel)
    assert gc.isenabled()
    with importing._gc_paused():
        with importing._gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        importing.run(crm.svc, admin, good, backup=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sets(st.text("abn:王张0123", min_size=1, max_size=4), max_size=6), max_size=8))
def test_terms_customer_by_customer_sort_like_term_then_id(terms_per_customer):
    """bulk_insert(by_customer=True) sorts on the term alone (stable): for pairs given customer by
    customer in ascending id order, that is the (term, id) order of the general path."""
    from operator import itemgetter

    pairs = [(t, cid) for cid, terms in enumerate(terms_per_customer, start=1) for t in terms]
    assert sorted(pairs, key=itemgetter(0)) == sorted(pairs)
