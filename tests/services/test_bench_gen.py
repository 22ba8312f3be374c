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
    # stored without "personal": rebuilt from the rows' values on read (migration 2203)
    assert set(a) == set(b) == {"number", "kind", "changes", "consents"}
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
    assert any(n.startswith("generate follow-up cards") for n in names)
    # the generated file has rows in every area, and the services read them (dashboard, queues)
    gen = _gen()
    svc = gen.open_db(tmp_path / "db")
    try:
        for table in ("followup_card", "followup_visit", "complaint", "complaint_event", "grade_application"):
            assert _q(svc, f"SELECT count(*) FROM {table}")[0][0] > 0, table
        from crm_tui.services import complaints as cp
        from crm_tui.services import followups as fu
        from crm_tui.services import grades as gs
        from crm_tui.services import reports

        chief = _actor(gen, svc, "kezhang")
        reports.dashboard(svc, _actor(gen, svc, "fujingli"))
        assert fu.queue(svc, chief, "closed").rows and cp.queue(svc, chief, "closed").rows
        assert gs.queue(svc, chief, "all").rows
    finally:
        svc.close()


# ------------------------------------------------------------------------------------------------
# Follow-up cards, visits, complaints and grade changes (benchmarks/gen_areas.py)
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def areas_db(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """1,000 generated customers with their area rows, in a file made as gen.py makes one; the
    services' clock at the generated world's NOW."""
    gen = _gen()
    folder = tmp_path_factory.mktemp("areas")
    svc, _key = gen.create_db(folder)
    try:
        gen.generate(svc, 1000, seed=11, batch=400)
        counts = gen.generate_areas(svc, 11, batch=400)
    finally:
        svc.close()
    svc = gen.open_db(folder)
    try:
        yield gen, svc, counts
    finally:
        svc.close()


def _actor(gen, svc, username: str):  # type: ignore[no-untyped-def]
    from crm_tui.services import staff

    return staff.sign_in(svc, username, gen.PASSWORD).actor


def _q(svc, sql: str, **params: object) -> list:  # type: ignore[no-untyped-def]
    with svc.store.read() as s:
        return list(s.execute(text(sql), params).all())


def test_R_FU_R_CMP_R_GRD_generated_areas_have_rows_in_every_state(areas_db) -> None:  # type: ignore[no-untyped-def]
    """About 30 % of customers have a card (1-5 visits; void cards 0-1), 2 % a complaint, 1 % a grade
    change; the states the flows allow, and the audit chain still verifies."""
    gen, svc, counts = areas_db
    assert 220 <= counts["cards"] <= 380 and counts["visits"] >= 2 * counts["cards"]
    assert 8 <= counts["complaints"] <= 40 and 4 <= counts["grade_applications"] <= 25
    states = dict(_q(svc, "SELECT status, count(*) FROM followup_card GROUP BY status"))
    assert set(states) == {"open", "won", "lost", "void"}
    assert _q(svc, "SELECT min(visits), max(visits) FROM followup_card WHERE status IN ('won', 'lost')")[0] == (1, 5)
    assert _q(svc, "SELECT max(visits) FROM followup_card WHERE status = 'void'")[0][0] <= 1
    assert _q(svc, "SELECT count(*) FROM followup_card f WHERE visits != (SELECT count(*) FROM followup_visit v"
                   " WHERE v.card_id = f.id)")[0][0] == 0
    # won / lost cards end on a visit at level O / F; open cards have a next visit, closed ones none
    assert _q(svc, "SELECT count(*) FROM followup_card f WHERE status IN ('won', 'lost') AND intent_level !="
                   " CASE status WHEN 'won' THEN 'O' ELSE 'F' END")[0][0] == 0
    assert _q(svc, "SELECT count(*) FROM followup_card WHERE (status = 'open') != (next_visit_due IS NOT NULL)"
              )[0][0] == 0
    assert _q(svc, "SELECT count(*) FROM followup_card WHERE status = 'open' AND next_visit_due < '2026-11-30'")[0][0]
    tstates = {r[0] for r in _q(svc, "SELECT DISTINCT state FROM complaint")}
    assert "closed" in tstates and len(tstates) >= 2
    assert _q(svc, "SELECT count(*) FROM complaint WHERE state = 'closed' AND (cause_analysis IS NULL OR"
                   " preventive_measure IS NULL OR satisfaction IS NULL)")[0][0] == 0
    gstates = {r[0] for r in _q(svc, "SELECT DISTINCT state FROM grade_application")}
    assert "acknowledged" in gstates and len(gstates) >= 2
    applied = _q(svc, "SELECT count(*) FROM grade_application WHERE state IN ('applied', 'acknowledged')")[0][0]
    assert _q(svc, "SELECT count(*) FROM grade_history")[0][0] == applied
    assert _q(svc, "SELECT count(*) FROM customer WHERE grade IS NOT NULL")[0][0] > 0
    with svc.store.read() as s:
        assert audit_store.verify(s).first_broken is None
    n = _q(svc, "SELECT count(*) FROM audit_log WHERE action LIKE 'followup.%' OR action LIKE 'complaint.%'"
                " OR action LIKE 'grade.%'")[0][0]
    assert n == counts["audit"]
    # a rerun refuses: the pass only fills a file without area rows
    with pytest.raises(SystemExit):
        gen.generate_areas(svc, 11)


def test_R_FU_3_R_CMP_3_generated_deadlines_are_the_domain_deadlines(areas_db) -> None:  # type: ignore[no-untyped-def]
    """Visit cadence and review deadlines by WorkCalendar; the complaint clock (due/at-risk instants,
    limits met) as the service computes it at the ticket's last change."""
    from datetime import date, datetime

    from crm_tui.domain import followups as fd
    from crm_tui.domain.calendar import WorkCalendar
    from crm_tui.services import complaints as cp

    _gen_mod, svc, _counts = areas_db
    cal, pol = WorkCalendar(), fd.load_policy()
    for at, level, due in _q(svc, "SELECT at, level_after, next_due FROM followup_visit"):
        want = fd.next_visit_due(cal, datetime.fromisoformat(at), pol.levels[level])
        assert (want.isoformat() if want else None) == due
    for card_date, review_due in _q(svc, "SELECT card_date, review_due FROM followup_card"):
        assert fd.review_due(cal, date.fromisoformat(card_date), pol).isoformat() == review_due
    with svc.store.read() as s:
        for (tid,) in s.execute(text("SELECT id FROM complaint")).all():
            row = cp._load(s, tid)
            ck = cp._clock(row, cp._pauses(s, tid), row["updated_at"], cp.dc.load_policy().calendar())
            assert (ck.due_at, ck.risk_at) == (row["due_at"], row["risk_at"]), row["number"]
            assert (ck.respond_met, ck.resolve_met) == (
                None if row["respond_met"] is None else bool(row["respond_met"]),
                None if row["resolve_met"] is None else bool(row["resolve_met"]))


def test_generated_areas_are_read_by_the_services(areas_db) -> None:  # type: ignore[no-untyped-def]
    """Every queue, card, ticket and application view, the customer timeline, the home counts and
    the dashboard read the generated rows without error."""
    from crm_tui.services import complaints as cp
    from crm_tui.services import followups as fu
    from crm_tui.services import grades as gs
    from crm_tui.services import home, reports

    gen, svc, _counts = areas_db
    seen = {"card": 0, "ticket": 0, "application": 0}
    for username in ("jingli", "kezhang", "fujingli", "neiguan", "qiantai"):
        actor = _actor(gen, svc, username)
        if actor.can("followup.view"):
            for q in fu.QUEUES:
                if q == "review" and not actor.can("followup.supervise"):
                    continue
                for row in fu.queue(svc, actor, q, limit=20).rows[:3]:
                    fu.get_card(svc, actor, row.id)
                    seen["card"] += 1
        for q in cp.QUEUES:
            for trow in cp.queue(svc, actor, q, limit=20).rows[:3]:
                cp.get_ticket(svc, actor, trow.id)
                seen["ticket"] += 1
        cp.queue_counts(svc, actor)
        for kind in ("approve", "apply", "acknowledge", "mine", "all"):
            if not actor.can("grade.view") or gs._queue_where(actor, kind) is None:
                continue
            for arow in gs.queue(svc, actor, kind, limit=20).rows[:3]:
                gs.get_application(svc, actor, arow.id)
                seen["application"] += 1
        home.today(svc, actor)
        if actor.can("report.view") or username == "jingli":
            reports.dashboard(svc, actor)
    assert all(seen.values()), seen
    kezhang = _actor(gen, svc, "kezhang")
    for table in ("followup_card", "complaint", "grade_application"):
        cid = _q(svc, f"SELECT customer_id FROM {table} ORDER BY id LIMIT 1")[0][0]
        page = cs.timeline(svc, kezhang, cid)
        assert page


def test_generated_open_work_continues_through_the_services(areas_db) -> None:  # type: ignore[no-untyped-def]
    """The generated open states are ones the services accept to continue from: a visit on an
    open card, the next step of an open ticket and of an open application."""
    from crm_tui.services import complaints as cp
    from crm_tui.services import followups as fu
    from crm_tui.services import grades as gs

    gen, svc, _counts = areas_db
    card_id, owner = _q(svc, "SELECT f.id, st.username FROM followup_card f JOIN staff st ON st.id = f.owner_id"
                             " WHERE f.status = 'open' ORDER BY f.id LIMIT 1")[0]
    res = fu.log_visit(svc, _actor(gen, svc, owner), card_id, {"method": "call", "content": "电话回访", "level": "B"})
    assert res.status == "open" and res.next_due is not None
    kezhang = _actor(gen, svc, "kezhang")
    for tid, state in _q(svc, "SELECT id, state FROM complaint WHERE state != 'closed' ORDER BY id"):
        if state == "awaiting_visit":
            cp.return_visit(svc, kezhang, tid, "电话回访", "客户表示满意", 5)
            cp.close(svc, kezhang, tid, "流程问题", "完善流程")
        elif state == "in_progress":
            cp.solve(svc, kezhang, tid, "已处理")
    for app_id, state in _q(svc, "SELECT id, state FROM grade_application WHERE state IN"
                                 " ('submitted', 'chief_approved', 'approved', 'applied')"):
        step = {"submitted": lambda a: gs.approve_chief(svc, kezhang, a),
                "chief_approved": lambda a: gs.approve_deputy(svc, _actor(gen, svc, "fujingli"), a),
                "approved": lambda a: gs.apply_change(svc, kezhang, a),
                "applied": lambda a: gs.acknowledge(svc, _actor(gen, svc, "neiguan"), a)}[state]
        step(app_id)
    with svc.store.read() as s:
        assert audit_store.verify(s).first_broken is None
