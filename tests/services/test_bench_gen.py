"""The benchmark generator (benchmarks/gen.py) writes what create_customer writes (issue 5): a
generated customer owns exactly the index terms the service's own function gives for its data,
is found by services.customers.search like a twin created through the service, and the audit
chain (create entries with personal-value commitments) verifies. No timings here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from crm_tui.domain import search_terms
from crm_tui.services import customers as cs
from crm_tui.services.customers import PhoneInput
from crm_tui.store import audit as audit_store
from tests.services.conftest import Crm

ROOT = Path(__file__).resolve().parents[2]


def _gen():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_gen", ROOT / "benchmarks" / "gen.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_gen"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def generated(crm: Crm) -> Crm:
    _gen().generate(crm.svc, 400, seed=7, batch=150)
    return crm


def _terms_of(crm: Crm, cid: int) -> set[str]:
    with crm.svc.store.read() as s:
        return {r[0] for r in s.execute(text("SELECT term FROM search_term WHERE customer_id = :c"), {"c": cid})}


def _ids(crm: Crm, query: str) -> set[int]:
    ids: set[int] = set()
    cursor = None
    while True:
        page = cs.search(crm.svc, crm.manager, query, cursor=cursor, limit=500)
        ids |= {r.id for r in page.rows}
        cursor = page.next_cursor
        if not cursor:
            return ids


def test_R_CUST_1_generated_terms_are_the_services_terms(generated: Crm) -> None:
    crm = generated
    with crm.svc.store.read() as s:
        rows = s.execute(text("SELECT id, name, kind, number, id_number, uscc, search_name, search_pinyin"
                              " FROM customer")).all()
        phones: dict[int, list[str]] = {}
        for cid, national in s.execute(text("SELECT customer_id, national FROM customer_phone ORDER BY id")):
            phones.setdefault(cid, []).append(national)
    assert len(rows) == 400
    kinds = {r[2] for r in rows}
    assert kinds == {"person", "org"}
    for cid, name, kind, number, idn, uscc, sname, spinyin in rows:
        expected = search_terms.customer_terms(name=name, kind=kind, number=number, phones=phones[cid],
                                               idents=(idn, uscc))
        assert _terms_of(crm, cid) == expected
        assert (sname, spinyin) == search_terms.search_columns(name, kind)
    assert any(len(r[1]) == 2 for r in rows if r[2] == "person")
    assert any(len(r[1]) >= 4 for r in rows if r[2] == "person")
    assert crm.count("customer_phone", "kind = 'landline'") > 0
    assert crm.count("audit_value") > 0


def test_R_CUST_1_generated_customer_is_found_like_a_service_twin(generated: Crm) -> None:
    crm = generated
    with crm.svc.store.read() as s:
        cid, name, number, idn = s.execute(text(
            "SELECT id, name, number, id_number FROM customer WHERE kind = 'person' AND id_number IS NOT NULL"
            " ORDER BY id LIMIT 1")).one()
        phone = s.execute(text("SELECT national FROM customer_phone WHERE customer_id = :c"), {"c": cid}).scalar()
    twin = cs.create_customer(crm.svc, crm.manager, "person", {"name": name}, phones=[PhoneInput("13600009999")])
    assert _terms_of(crm, twin.id) - {t for t in _terms_of(crm, twin.id) if t[:2] in ("k:", "t:")} == \
        {t for t in _terms_of(crm, cid) if t[:2] in ("n:", "p:")}
    forms = search_terms.pinyin_forms(name)
    for q in (name, name[:1], name[:2], forms[0], forms[len(forms) // 2]):
        found = _ids(crm, q)
        assert cid in found and twin.id in found, q
    assert cid in _ids(crm, phone[-4:])
    assert cid in _ids(crm, number)
    assert _ids(crm, idn) == {cid}


def test_R_SEC_3_generated_audit_chain_verifies_like_the_services(generated: Crm) -> None:
    crm = generated
    with crm.svc.store.read() as s:
        report = audit_store.verify(s)
        creates = s.execute(text("SELECT count(*) FROM audit_log WHERE action = 'customer.create'")).scalar()
        contacts = s.execute(text("SELECT count(*) FROM audit_log WHERE action = 'customer.contact'")).scalar()
    assert report.first_broken is None
    assert creates == 400
    assert contacts == crm.count("customer_contact")
    # the service's own entry has the same shape as a generated one
    cs.create_customer(crm.svc, crm.manager, "person", {"name": "欧阳明", "address": "北京市海淀区学府路1号"},
                       phones=[PhoneInput("13600008888")],
                       consents=[cs.ConsentInput("建立客户档案", "basic", "signed_form")])
    with crm.svc.store.read() as s:
        details = [r[0] for r in s.execute(text(
            "SELECT details FROM audit_log WHERE action = 'customer.create' ORDER BY id DESC LIMIT 2"))]
        report = audit_store.verify(s)
    import json

    a, b = (json.loads(d) for d in details)
    assert set(a) == set(b) == {"number", "kind", "changes", "consents", "personal"}
    assert report.first_broken is None


@pytest.mark.slow
def test_benchmark_runner_smoke_at_1k(tmp_path: Path) -> None:
    """benchmarks/run.py keeps working: a 1k run of the search suite and paging writes its JSON list
    of {name, value, unit, baseline, ratio, target, met}. Timings are not asserted."""
    import subprocess

    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--customers", "1000", "--json",
                           str(out), "--dir", str(tmp_path / "db"), "--skip", "ui,startup,backup,encryption",
                           "--passes", "1", "--reps", "1", "--queries", "3", "--no-md"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    figures = json.loads(out.read_text())
    assert all(set(f) >= {"name", "value", "unit", "baseline", "ratio", "target", "met"} for f in figures)
    names = [f["name"] for f in figures]
    assert any(n.startswith("search customer number: p95") for n in names)
    assert json.loads(out.with_suffix(".meta.json").read_text())["complete"] is True
