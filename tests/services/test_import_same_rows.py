"""The import's caches (issue 22: field checks remembered per value, deadlines per set of empty
required fields, pinyin and terms per name) write exactly the rows the per-row code writes: a
varied file (bad rows, duplicates of the file and of the archive, organisations, rare and compound
surnames, ID numbers with consent) imported into two copies of one database, once as the import
runs and once with every cache replaced by the per-row computation (validate_customer,
services.customers._completeness, search_terms.name_index every row), gives the same errors,
duplicates, customers, phones, tags, staff, consents, search terms and audit entries."""

from __future__ import annotations

import csv
import io
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from crm_tui.domain import search_terms
from crm_tui.domain.customers import validate_customer
from crm_tui.services import customers as cust
from crm_tui.services import importing, system
from crm_tui.services.importing import batch, dryrun
from crm_tui.store.keys import MemoryKeyStore

from .conftest import START, Clock, Crm

H = ["客户名称", "类型", "手机", "座机", "地址", "性别", "出生日期", "身份证号码", "敏感信息同意", "标签", "备注",
     "统一社会信用代码", "法定代表人", "重要客户", "负责人", "其他联系人员", "邮箱"]
RARE = ["单田芳", "区志明", "曾国藩", "解缙", "仇英", "朴正", "查良镛", "盖聂", "乐毅", "覃雪", "单", "区"]
COMPOUND = ["欧阳修", "司马光", "诸葛亮", "上官婉儿", "东方明", "欧阳娜娜", "司徒雷"]
TABLES = ("customer", "customer_phone", "customer_tag", "customer_staff", "customer_consent", "search_term",
          "audit_log", "customer_number_seq", "import_batch")


def _rows(n: int) -> list[dict[str, str]]:
    rnd = random.Random(22)
    common = ["张伟", "王芳", "李娜", "张伟", "刘洋", *RARE, *COMPOUND]
    out = []
    for i in range(n):
        r = dict.fromkeys(H, "")
        mob = f"13{rnd.randrange(10)}{rnd.randrange(10**8):08d}"
        if rnd.random() < 0.2:  # organisations, some with person-only fields (refused)
            r["客户名称"] = rnd.choice(["北京华信科技有限公司", "重庆银行股份有限公司", "上海", "单氏商行"]) + str(i % 7)
            r["类型"] = "单位"
            r["座机"] = rnd.choice(["010-6234", "021-5888", "(028)8765"]) + f"{rnd.randrange(10000):04d}"
            if rnd.random() < 0.5:
                code = f"91110{rnd.randrange(1000):03d}{rnd.randrange(10**9):09d}"
                r["统一社会信用代码"] = code + uscc.calc_check_digit(code)
            r["法定代表人"] = rnd.choice(["王建国", "欧阳修", ""])
            r["性别"] = rnd.choice(["", "", "", "男"])
        else:
            r["客户名称"] = rnd.choice(common) if rnd.random() < 0.6 else rnd.choice("王李张单区曾欧阳") + rnd.choice(
                ["伟", "芳", "建国", "长", "乐", "重"])
            r["性别"] = rnd.choice(["男", "女", "", "未知"])
            if rnd.random() < 0.25:
                body = f"110101{rnd.randrange(1950, 2005)}{rnd.randrange(1, 13):02d}{rnd.randrange(1, 28):02d}" \
                       f"{rnd.randrange(1000):03d}"
                r["身份证号码"] = body + ric.calc_check_digit(body + "0")
                r["敏感信息同意"] = rnd.choice(["是", "是", ""])
                r["性别"] = ""
            r["出生日期"] = rnd.choice(["", "", "", "1990-03-07", "不详"]) if not r["身份证号码"] else ""
        r["手机"] = rnd.choice([mob, mob, f"+86 {mob}", f"{mob[:3]}-{mob[3:7]}-{mob[7:]}", mob[:10], ""])
        r["地址"] = rnd.choice(["", "北京市朝阳区建国路88号", "上海市浦东新区　世纪大道100号", " 深圳市南山区科技园  "])
        r["标签"] = rnd.choice(["", "老客户", "转介绍,老客户", "VIP"])
        r["备注"] = rnd.choice(["", "第一行\r\n第二行", "备注"])
        r["重要客户"] = rnd.choice(["", "是", "否", "也许"])
        r["负责人"] = rnd.choice(["", "jingli", "王建国", "admin", "nobody"])
        r["其他联系人员"] = rnd.choice(["", "", "kezhang", "jingli,kezhang", "qiantai"])
        r["邮箱"] = rnd.choice(["", f"user{i}@Example.COM", "bad-email"])
        out.append(r)
    for i, phone in ((10, "13912345678"), (40, "13912345678"), (41, "13812345678")):
        # the same customer twice in the file (rows 10 and 40), and one already in the archive (below)
        out[i] = {**dict.fromkeys(H, ""), "客户名称": "张伟", "手机": phone, "标签": "老客户", "负责人": "jingli"}
    for j, name in enumerate([*RARE, *COMPOUND]):  # each rare and compound surname written at least once
        out[60 + j] = {**dict.fromkeys(H, ""), "客户名称": name, "手机": f"1370000{j:04d}", "性别": "女"}
    return out


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(H)
    w.writerows([[r[h] for h in H] for r in rows])
    path.write_bytes(buf.getvalue().encode("gb18030"))
    return path


def _second(template: tuple[Path, bytes, dict], crm: Crm, folder: Path) -> Crm:  # type: ignore[type-arg]
    """Another copy of the services tests' database (as the ``crm`` fixture makes it)."""
    db_file, key, _accounts = template
    folder.mkdir(mode=0o700)
    shutil.copy2(db_file, folder / db_file.name)
    keys = MemoryKeyStore()
    place = system.Place(folder, keys)
    keys.put(place.db_file, key)
    clock = Clock(START)
    return Crm(system.open_services(place, clock=clock), place, clock, crm.actors, key)


class _PerRowValidator:
    def __init__(self, today):  # type: ignore[no-untyped-def]
        self.today = today

    def validate(self, raw, kind):  # type: ignore[no-untyped-def]
        return validate_customer(raw, kind, self.today)


class _PerRowCompleteness:
    def __init__(self, now, cal, memo, fields):  # type: ignore[no-untyped-def]
        self.now, self.cal, self.fields = now, cal, fields

    def __call__(self, values, kind, phones):  # type: ignore[no-untyped-def]
        every = dict.fromkeys(cust._WRITABLE)
        every.update(zip(self.fields, values))
        return cust._completeness(every, kind, self.now, phones, self.cal)


def _name_index_per_row(name, kind):  # type: ignore[no-untyped-def]
    """name_index_parts from the reference functions, pinyin from pypinyin itself (no table)."""
    if not name:
        return None, None, (), ()
    forms = search_terms.pinyin_forms(name, person=kind == "person")
    terms = search_terms.name_terms(name) | search_terms.pinyin_terms(forms)
    return (search_terms.normalise(name), search_terms.pinyin_key(forms),
            tuple(t for t in terms if t.startswith("n:")), tuple(t for t in terms if t.startswith("p:")))


def _import(crm: Crm, csv_file: Path):  # type: ignore[no-untyped-def]
    admin = crm.actor("admin")
    first = crm.svc.store.db_file.parent.parent / "first.csv"
    pre = importing.plan(crm.svc, admin, importing.read_file(_csv(first, [{**dict.fromkeys(H, ""), "客户名称": "张伟",
                                                                             "手机": "13812345678"}])))
    importing.run(crm.svc, admin, pre, backup=False)
    crm.clock.advance(minutes=5)
    p = importing.plan(crm.svc, admin, importing.read_file(csv_file))
    res = importing.run(crm.svc, admin, p, backup=False, all_or_nothing=False)
    raw = crm.svc.store.engine.raw_connection()
    try:
        conn = raw.driver_connection
        dump = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in TABLES}
    finally:
        raw.close()
    return p, res, dump


@pytest.mark.parametrize("chunk", [1000, 7])
def test_the_caches_write_the_rows_the_per_row_code_writes(crm, _crm_template, tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(batch, "CHUNK", chunk)
    monkeypatch.setattr(batch, "MIN_CHUNK", chunk)
    rows = _rows(400)
    csv_file = _csv(tmp_path / "c.csv", rows)
    p_fast, res_fast, fast = _import(crm, csv_file)
    other = _second(_crm_template, crm, tmp_path / "per-row")
    try:
        monkeypatch.setattr(dryrun, "RowValidator", _PerRowValidator)
        monkeypatch.setattr(batch, "_Completeness", _PerRowCompleteness)
        monkeypatch.setattr(batch, "_row_columns", lambda p: (list(batch._WRITABLE), True))  # every column bound
        monkeypatch.setattr(batch, "NAME_CACHE", 0)  # the name cache emptied before every row
        monkeypatch.setattr(search_terms, "name_index_parts", _name_index_per_row)
        monkeypatch.setattr(search_terms, "_table", lambda: None)
        search_terms._syllables.cache_clear()
        p_slow, res_slow, slow = _import(other, csv_file)
    finally:
        other.svc.close()
    assert p_fast.errors == p_slow.errors and p_fast.duplicates == p_slow.duplicates
    assert [(r.row, r.kind, r.clean, r.phones, r.owner, r.contacts, r.consent) for r in p_fast.ready] == \
           [(r.row, r.kind, r.clean, r.phones, r.owner, r.contacts, r.consent) for r in p_slow.ready]
    assert (res_fast.imported, res_fast.skipped_duplicates, res_fast.skipped_errors) == \
           (res_slow.imported, res_slow.skipped_duplicates, res_slow.skipped_errors)
    # the file covers what it should: bad rows of several kinds, both duplicates, rare surnames
    reasons = {e.reason for e in p_fast.errors}
    assert len(reasons) >= 5 and p_fast.duplicates and any("行" in r or "row" in r for r in reasons)
    names = {r.clean["name"] for r in p_fast.ready}
    assert {*RARE, *COMPOUND} <= names and any(r.kind == "org" for r in p_fast.ready)
    assert res_fast.imported > 80
    for t in TABLES:
        if t == "import_batch":  # the batches' random tokens aside
            fast[t], slow[t] = ([r[:1] + r[2:] for r in d[t]] for d in (fast, slow))
        assert fast[t] == slow[t], t


_TERM = st.sampled_from(["k:KH2026-0001", "n:王", "n:王伟", "n:a b", "p:wang", "p:w", "t:1380", "t:0000", "x:1101",
                         "k:", "o:", "n:", "p:", "a", "z", "p:wangwei"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.tuples(_TERM, st.integers(0, 30)), max_size=12), min_size=0, max_size=5))
def test_sorted_terms_is_one_stable_sort_of_every_pair(groups: list[list[tuple[str, int]]]) -> None:
    """The import's term groups joined by range (batch._sorted_terms) come out as the one stable sort
    on the term that wrote them before (issue 22), ranges that touch or overlap included."""
    groups = [sorted(g, key=lambda p: p[1]) for g in groups]  # each group in ascending customer order
    every = sorted((p for g in groups for p in g), key=lambda p: p[1])  # the customers' order
    want = sorted(every, key=lambda p: p[0])
    got = batch._sorted_terms([list(g) for g in groups])
    assert sorted(got) == sorted(want)
    assert [p[0] for p in got] == [p[0] for p in want]
    assert all(a <= b for a, b in zip(got, got[1:]))  # (term, customer) order: customers ascend per term


def test_name_terms_in_two_parts() -> None:
    from crm_tui.domain.search_terms import name_index_parts

    _name, _key, low, high = name_index_parts("单田芳", "person")
    assert low and high and all(t.startswith("n:") for t in low) and all(t.startswith("p:") for t in high)
    assert len(set(low)) == len(low) and len(set(high)) == len(high)


def test_the_columns_an_import_leaves_out_have_no_default(crm) -> None:  # type: ignore[no-untyped-def]
    """The import leaves a customer column out of its INSERT when no row gives it a value, and a
    phone's label when no phone has one (batch._row_columns): that writes NULL only while those
    columns have no default."""
    raw = crm.svc.store.engine.raw_connection()
    try:
        conn = raw.driver_connection
        info = {t: {r[1]: r[4] for r in conn.execute(f"PRAGMA table_info({t})")} for t in ("customer", "customer_phone")}
    finally:
        raw.close()
    assert {f: info["customer"][f] for f in batch._WRITABLE if info["customer"][f] is not None} == {}
    assert info["customer_phone"]["label"] is None
