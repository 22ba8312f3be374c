"""Migration 2203 (issue 22, size): an audit row's personal commitments are not stored when its own
audit_value rows give them back; they are rebuilt on read, and the chain stays tamper-evident
(R-SEC-3). An erasure pins them back before the values go (R-CUST-13)."""

from __future__ import annotations

import json
from datetime import date

from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from crm_tui.domain import audit as chain
from crm_tui.domain import reports as dr
from crm_tui.services import customers as cs
from crm_tui.services import reports
from crm_tui.services.customers import PhoneInput
from crm_tui.store import audit as audit_store
from crm_tui.store import db, migrate
from tests.services.conftest import Crm
from tests.services.test_audit_size import _rows, _some_history


def _values(n: int = 3) -> list[tuple[str, str | None, str | None, str]]:
    return [(f"f{i}", None if i % 2 else "旧", f"新{i}", chain.new_salt()) for i in range(n)]


def _hashed(values: list, **rest: object) -> str:
    return chain.canonical({**rest, "personal": {f: chain.commitment(s, f, o, n) for f, o, n, s in values}})


def test_stored_form_drops_the_commitments_its_values_give_back() -> None:
    values = _values()
    original = _hashed(values, changes={"owner": [None, "王建国"]}, number="KH2026-000001")
    stored = audit_store.compact_details(original, values)
    assert json.loads(stored) == {"changes": {"owner": [None, "王建国"]}, "number": "KH2026-000001"}
    assert audit_store.expand_details(stored, values) == original
    # stored bytes as salts read back from the file
    as_read = [(f, o, n, bytes.fromhex(s)) for f, o, n, s in values]
    assert audit_store.expand_details(stored, as_read) == original
    # without values (or with values that do not give them back): the 2202 form, base64url
    for other in ((), values[:2], [(f, o, "x", s) for f, o, n, s in values]):
        kept = audit_store.compact_details(original, other)
        assert len(json.loads(kept)["personal"]["f0"]) == 43
        assert audit_store.expand_details(kept, other) == original
    assert audit_store.expand_details('{"number":"1"}') == '{"number":"1"}'


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["name", "address", "phones", "note", "id_number"]),
                          st.none() | st.text(max_size=8), st.none() | st.text(max_size=8)),
                unique_by=lambda t: t[0], max_size=5),
       st.dictionaries(st.sampled_from(["number", "changes", "reason"]), st.text(max_size=6), max_size=2))
def test_any_personal_change_round_trips(changes: list, rest: dict) -> None:
    values = [(f, o, n, chain.new_salt()) for f, o, n in changes]
    original = _hashed(values, **rest) if values else chain.canonical(rest)
    stored = audit_store.compact_details(original, values)
    assert audit_store.expand_details(stored, values) == original
    assert ('"personal":' in stored) == (not values and '"personal":' in original)


def _downgrade_to(crm: Crm, rev: str) -> None:
    crm.svc.close()
    engine = db.make_engine(crm.place.db_file, crm.key, pool="null")
    try:
        with engine.connect() as conn:
            conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
            with conn.begin():
                command.downgrade(migrate.alembic_config(conn), rev)
    finally:
        engine.dispose()


def _stored(crm: Crm) -> list[str]:
    raw = db.raw_connect(crm.place.db_file, crm.key)
    try:
        return [r[0] for r in raw.execute("SELECT details FROM audit_log ORDER BY id")]
    finally:
        raw.close()


def _verify(crm: Crm) -> audit_store.ChainReport:
    store = db.open_with_key(crm.place.db_file, crm.key)
    try:
        with store.read() as s:
            return audit_store.verify(s)
    finally:
        store.close()


def test_a_2202_file_upgrades_with_the_same_logical_rows_and_verifies(crm: Crm) -> None:
    _some_history(crm)
    before = _rows(crm)
    _downgrade_to(crm, "2202")
    assert _rows(crm) == before
    assert sum('"personal":' in d for d in _stored(crm)) >= 3  # the 2202 form: commitments stored
    migrate.upgrade(crm.place.db_file, crm.key)
    assert not any('"personal":' in d for d in _stored(crm))
    assert _verify(crm).first_broken is None
    assert _rows(crm) == before  # the logical rows: details as hashed (rebuilt from the values), hash


def _tamper(crm: Crm, sql: str, **params: object) -> audit_store.ChainReport:
    crm.svc.close()
    raw = db.raw_connect(crm.place.db_file, crm.key)
    try:
        raw.execute(sql, params)
    finally:
        raw.close()
    return _verify(crm)


def _name_row(crm: Crm, cid: int) -> int:
    with crm.svc.store.read() as s:
        return int(s.execute(text("SELECT v.audit_id FROM audit_value v JOIN audit_log a ON a.id = v.audit_id"
                                  " WHERE a.customer_id = :c AND v.field = 'name' ORDER BY v.audit_id LIMIT 1"),
                             {"c": cid}).scalar_one())


def test_a_changed_value_is_found(crm: Crm) -> None:
    aid = _name_row(crm, _some_history(crm))
    report = _tamper(crm, "UPDATE audit_value SET new_value = '王五' WHERE audit_id = :a AND field = 'name'", a=aid)
    assert (report.first_broken, report.reason) == (aid, "content_or_value")
    assert "personal value" in report.reason_text


def test_a_deleted_value_row_is_found(crm: Crm) -> None:
    aid = _name_row(crm, _some_history(crm))
    report = _tamper(crm, "DELETE FROM audit_value WHERE audit_id = :a AND field = 'name'", a=aid)
    assert report.first_broken == aid


def test_all_value_rows_of_an_entry_deleted_is_found(crm: Crm) -> None:
    aid = _name_row(crm, _some_history(crm))
    report = _tamper(crm, "DELETE FROM audit_value WHERE audit_id = :a", a=aid)
    assert (report.first_broken, report.reason) == (aid, "content")


def test_edited_details_are_found(crm: Crm) -> None:
    aid = _name_row(crm, _some_history(crm))
    report = _tamper(crm, "UPDATE audit_log SET details = json_set(details, '$.number', 'KH0') WHERE id = :a", a=aid)
    assert (report.first_broken, report.reason) == (aid, "content_or_value")


def test_an_edited_hash_is_found(crm: Crm) -> None:
    aid = _name_row(crm, _some_history(crm))
    report = _tamper(crm, "UPDATE audit_log SET hash = :h WHERE id = :a", a=aid, h="0" * 64)
    assert report.first_broken == aid


def test_an_erasure_pins_the_commitments_and_the_chain_still_verifies(crm: Crm) -> None:
    cid = _some_history(crm)
    before = {r[0]: r[-2] for r in _rows(crm)[0]}
    cs.erase_customer(crm.svc, crm.actor("deputy_manager"), cid, "客户要求删除")
    after = _rows(crm)
    assert {r[0]: r[-2] for r in after[0] if r[0] in before} == before  # the hashed texts, unchanged
    assert not [v for v in after[1] if v[2] == cid]
    pinned = [d for d in _stored(crm) if '"personal":' in d]
    assert len(pinned) == 2  # the erased customer's create and update rows, in the 2202 form
    assert _verify(crm).first_broken is None
    entries = cs.timeline(crm.svc, crm.manager, cid)
    erased = [e.body for e in entries if e.kind == "change" and "(value erased)" in e.body]
    assert len(erased) == 2  # history still lists the fields, without their values


def test_history_lists_the_rebuilt_rows_fields(crm: Crm) -> None:
    cid = _some_history(crm)
    bodies = " ".join(e.body for e in cs.timeline(crm.svc, crm.manager, cid) if e.kind == "change")
    assert "张三丰" in bodies and "(value erased)" not in bodies


def test_the_correction_count_reads_fields_from_values_or_commitments(crm: Crm) -> None:
    """R-KPI-1 corrections: the personal fields of a rebuilt row count as when they were stored."""
    fd = crm.actor("front_desk")
    ref = cs.create_customer(crm.svc, fd, "person", {"name": "张三"}, phones=[PhoneInput("13800138000")])
    crm.clock.advance(days=1)
    cs.update_customer(crm.svc, crm.manager, ref.id, {"name": "张三丰", "address": "成都市"}, expected_version=1)
    month = dr.Period.of("month", date(2026, 11, 23))

    def corrections() -> int:
        rows = {r.staff_id: r for r in reports.staff_metrics(crm.svc, crm.actor("section_chief"), month)}
        return rows[fd.staff_id].corrections

    rebuilt = corrections()
    assert rebuilt == 2
    with crm.svc.store.write() as s:  # the same rows with their commitments stored (the 2202 form)
        assert audit_store.pin_commitments(s, "SELECT id FROM audit_log", {}) >= 2
        assert '"personal":' in s.execute(text("SELECT details FROM audit_log WHERE action = 'customer.update'"
                                               " ORDER BY id DESC LIMIT 1")).scalar_one()
    assert corrections() == rebuilt
    with crm.svc.store.read() as s:
        assert audit_store.verify(s).first_broken is None


def test_values_name_their_customer_only_when_tied_later(crm: Crm) -> None:
    """audit_value.customer_id (2203): NULL when the audit row's customer_id says whose they are; a
    register line typed before its archive has its values tied to the customer later, and the
    customer's values (read for history and erased with it) include them."""
    from crm_tui.services import followups as fu

    cid = _some_history(crm)
    desk = crm.actor("front_desk")
    rid = fu.add_register(crm.svc, desk, {"name": "孙小美", "phone": "13512345678", "source": "walk_in"},
                          consultant="jingli")
    with crm.svc.store.read() as s:
        assert s.execute(text("SELECT count(*) FROM audit_value WHERE customer_id IS NOT NULL")).scalar_one() == 0
    ref = fu.card_from_register(crm.svc, desk, rid)
    new_cid = fu.get_card(crm.svc, crm.manager, ref.id).customer_id
    with crm.svc.store.read() as s:
        tied = s.execute(text("SELECT DISTINCT v.customer_id, a.customer_id FROM audit_value v"
                              " JOIN audit_log a ON a.id = v.audit_id WHERE v.customer_id IS NOT NULL")).all()
        values = audit_store.customer_values(s, new_cid)
        own = audit_store.customer_values(s, cid)
        index = s.execute(text("SELECT sql FROM sqlite_master WHERE name = 'ix_audit_value_customer_id'")).scalar_one()
    assert tied == [(new_cid, None)]  # only the register line's values, tied to the customer
    assert any(v[3] and "孙小美" in v[3] for v in values)
    assert {v[1] for v in own} >= {"name", "address", "phones"} and values != own
    assert "WHERE customer_id IS NOT NULL" in index
    assert _verify(crm).first_broken is None


def test_the_upgrade_leaves_customer_id_only_on_ties_and_stores_hashes_as_bytes(crm: Crm) -> None:
    _some_history(crm)
    before = _rows(crm)
    _downgrade_to(crm, "2202")
    raw = db.raw_connect(crm.place.db_file, crm.key)
    try:  # 2202: every value names its customer, as its audit row does; hashes in hex
        assert raw.execute("SELECT count(*) FROM audit_value WHERE customer_id IS NULL").fetchone()[0] == 0
        assert {r[0] for r in raw.execute("SELECT DISTINCT typeof(hash) || length(hash) FROM audit_log")} == {"text64"}
    finally:
        raw.close()
    migrate.upgrade(crm.place.db_file, crm.key)
    raw = db.raw_connect(crm.place.db_file, crm.key)
    try:
        assert raw.execute("SELECT count(*) FROM audit_value WHERE customer_id IS NOT NULL").fetchone()[0] == 0
        assert {r[0] for r in raw.execute("SELECT DISTINCT typeof(hash) || length(hash) FROM audit_log")} == {"blob32"}
    finally:
        raw.close()
    assert _rows(crm) == before


def test_the_upgrade_keeps_the_commitments_a_changed_value_no_longer_gives(crm: Crm) -> None:
    """A 2202 row whose value was changed behind the app's back keeps its stored commitments (the
    values do not give them back), so the upgrade does not hide the change: it is still found."""
    cid = _some_history(crm)
    aid = _name_row(crm, cid)
    _downgrade_to(crm, "2202")
    raw = db.raw_connect(crm.place.db_file, crm.key)
    try:
        raw.execute("UPDATE audit_value SET new_value = '王五' WHERE audit_id = ? AND field = 'name'", (aid,))
    finally:
        raw.close()
    migrate.upgrade(crm.place.db_file, crm.key)
    kept = [i + 1 for i, d in enumerate(_stored(crm)) if '"personal":' in d]
    assert kept == [aid]
    report = _verify(crm)
    assert (report.first_broken, report.reason) == (aid, "value")
