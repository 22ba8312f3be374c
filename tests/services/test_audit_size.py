"""Migration 2202 (issue 22, size): the audit trail stored smaller, nothing lost, still tamper-evident
(R-SEC-3). A file written before it (revision 2001: prev_hash, hex commitments, hex salts, the
audit_value rowid) is upgraded in place and verifies; the rows read back equal the old ones."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import text

from crm_tui.domain import audit as chain
from crm_tui.services import customers as cs
from crm_tui.services.customers import PhoneInput
from crm_tui.store import audit as audit_store
from crm_tui.store import db, migrate
from tests.services.conftest import Crm


def _some_history(crm: Crm) -> int:
    ref = cs.create_customer(crm.svc, crm.manager, "person", {"name": "张三", "address": "成都市武侯区新华路1号"},
                             phones=[PhoneInput("13800138000")])
    crm.clock.advance(hours=1)
    cs.update_customer(crm.svc, crm.manager, ref.id, {"name": "张三丰", "address": ""}, expected_version=1)
    cs.create_customer(crm.svc, crm.manager, "person", {"name": "李四"}, phones=[PhoneInput("13900139000")])
    return ref.id


def _rows(crm: Crm) -> tuple[list[tuple], list[tuple]]:
    """The logical content: audit rows with details as hashed and hashes in hex, values with salts as hex."""
    raw = db.raw_connect(crm.place.db_file, crm.key)
    try:
        vals: dict[int, list] = {}
        for a, f, o, n, salt in raw.execute("SELECT audit_id, field, old_value, new_value, salt FROM audit_value"):
            vals.setdefault(a, []).append((f, o, n, salt))
        logs = [(*r[:-2], audit_store.expand_details(r[-2], vals.get(r[0], ())), r[-1]) for r in raw.execute(
            "SELECT id, at, actor_id, actor_name, on_behalf_of_id, action, entity, entity_id, customer_id, details,"
            f" {audit_store.HASH_HEX} FROM audit_log ORDER BY id")]  # the hash as hex (32 bytes since 2203)
        values = sorted((a, f, c, o, n, audit_store._salt_text(s)) for a, f, c, o, n, s in raw.execute(
            # whose: the tie, else the audit row's customer (audit_value.customer_id since 2203)
            "SELECT v.audit_id, v.field, coalesce(v.customer_id, a.customer_id), v.old_value, v.new_value, v.salt"
            " FROM audit_value v LEFT JOIN audit_log a ON a.id = v.audit_id"))
    finally:
        raw.close()
    return logs, values


def _downgrade_to_2001(crm: Crm) -> None:
    crm.svc.close()
    engine = db.make_engine(crm.place.db_file, crm.key, pool="null")
    try:
        with engine.connect() as conn:
            conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
            with conn.begin():
                command.downgrade(migrate.alembic_config(conn), "2001")
    finally:
        engine.dispose()


def test_compact_details_round_trips_and_keeps_the_keys() -> None:
    hexes = {f: chain.commitment(chain.new_salt(), f, None, "x") for f in ("name", "phones", "address")}
    original = chain.canonical({"changes": {"owner": [None, "王建国"]}, "number": "KH2026-000001", "personal": hexes})
    stored = audit_store.compact_details(original)
    assert len(stored) < len(original) - 3 * 20
    assert json.loads(stored)["personal"].keys() == hexes.keys()  # json_each over the keys still counts them
    assert audit_store.expand_details(stored) == original
    for plain in ('{"number":"KH2026-000001"}', '{"personal":{"name":"not a hash"}}', "{}", "not json"):
        assert audit_store.compact_details(plain) == plain
        assert audit_store.expand_details(plain) == plain


def test_new_entries_are_stored_compact_and_verify(crm: Crm) -> None:
    _some_history(crm)
    raw = db.raw_connect(crm.place.db_file, crm.key)
    try:
        cols = [r[1] for r in raw.execute("PRAGMA table_info(audit_log)")]
        details = raw.execute("SELECT details FROM audit_log WHERE action = 'customer.create'").fetchone()[0]
        salt = raw.execute("SELECT salt FROM audit_value LIMIT 1").fetchone()[0]
        schema = raw.execute("SELECT sql FROM sqlite_master WHERE name = 'audit_value'").fetchone()[0]
    finally:
        raw.close()
    assert "prev_hash" not in cols and "WITHOUT ROWID" in schema
    assert "personal" not in json.loads(details)  # 2203: rebuilt from the row's values on read
    assert isinstance(salt, bytes) and len(salt) == 16
    with crm.svc.store.read() as s:
        assert audit_store.verify(s).first_broken is None


def test_a_file_from_before_2202_upgrades_in_place_and_its_chain_verifies(crm: Crm) -> None:
    _some_history(crm)
    before = _rows(crm)
    _downgrade_to_2001(crm)
    raw = db.raw_connect(crm.place.db_file, crm.key)
    try:  # the old shape, as 2001 wrote it: each prev_hash is the previous row's hash
        old = raw.execute("SELECT id, details, prev_hash, hash FROM audit_log ORDER BY id").fetchall()
        salts = [r[0] for r in raw.execute("SELECT salt FROM audit_value")]
    finally:
        raw.close()
    assert [r[2] for r in old] == [chain.GENESIS] + [r[3] for r in old[:-1]]
    assert any('"personal":' in r[1] for r in old) and all(audit_store.expand_details(r[1]) == r[1] for r in old)
    assert salts and all(isinstance(s_, str) and len(s_) == 32 for s_ in salts)

    assert migrate.upgrade(crm.place.db_file, crm.key) is not None  # an encrypted copy first, as always
    assert _rows(crm) == before
    store = db.open_with_key(crm.place.db_file, crm.key)
    try:
        with store.read() as s:
            assert audit_store.verify(s).first_broken is None
    finally:
        store.close()


def test_after_the_upgrade_an_edit_or_a_changed_value_is_still_found(crm: Crm) -> None:
    cid = _some_history(crm)
    _downgrade_to_2001(crm)
    migrate.upgrade(crm.place.db_file, crm.key)
    raw = db.raw_connect(crm.place.db_file, crm.key)
    try:
        aid = raw.execute("SELECT v.audit_id FROM audit_value v JOIN audit_log a ON a.id = v.audit_id"
                          " WHERE a.customer_id = ? AND v.field = 'name' ORDER BY v.audit_id LIMIT 1", (cid,)).fetchone()[0]
        raw.execute("UPDATE audit_value SET new_value = '王五' WHERE audit_id = ? AND field = 'name'", (aid,))
    finally:
        raw.close()
    store = db.open_with_key(crm.place.db_file, crm.key)
    try:
        with store.read() as s:
            report = audit_store.verify(s)
        # 2203: the row's commitments are rebuilt from its values, so a changed value changes its hash
        assert (report.first_broken, report.reason) == (aid, "content_or_value")
        with store.write() as s:  # an edited row re-hashed: the next row's hash no longer follows
            s.execute(text("UPDATE audit_value SET new_value = '张三' WHERE audit_id = :a AND field = 'name'"),
                      {"a": aid})
            row = dict(s.execute(text("SELECT * FROM audit_log WHERE id = :a"), {"a": aid}).mappings().one())
            prev = s.execute(text(f"SELECT {audit_store.HASH_HEX} FROM audit_log WHERE id = :a"),
                             {"a": aid - 1}).scalar_one()
            own = audit_store.values_of(s, [aid])[aid]
            row["details"] = chain.canonical({**json.loads(audit_store.expand_details(row["details"], own)), "note": "x"})
            row["at"] = audit_store._parse_at(row["at"])
            s.execute(text("UPDATE audit_log SET details = :d, hash = :h WHERE id = :a"),
                      {"d": audit_store.compact_details(row["details"], own),
                       "h": audit_store.hash_stored(chain.row_hash(prev, row)), "a": aid})
        with store.read() as s:
            report = audit_store.verify(s)
        # the next row (a customer row with values of its own: its reason names both causes)
        assert report.first_broken == aid + 1 and report.reason in ("content", "content_or_value")
    finally:
        store.close()


def test_the_upgrade_gives_the_freed_pages_back(crm: Crm, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The rebuilt tables' old pages are not left on the free list: the upgrade ends with a VACUUM."""
    _some_history(crm)
    before = _rows(crm)
    _downgrade_to_2001(crm)
    monkeypatch.setattr(migrate, "RECLAIM_MIN_PAGES", 0)
    monkeypatch.setattr(migrate, "RECLAIM_SHARE", 0.0)
    migrate.upgrade(crm.place.db_file, crm.key)
    raw = db.raw_connect(crm.place.db_file, crm.key)
    try:
        assert raw.execute("PRAGMA freelist_count").fetchone()[0] == 0
    finally:
        raw.close()
    assert _rows(crm) == before
    monkeypatch.setattr(migrate, "RECLAIM_MIN_PAGES", 1)
    assert not migrate.reclaim_free_pages(crm.place.db_file, crm.key)  # nothing free: no second VACUUM
