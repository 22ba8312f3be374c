"""Migration 1201 on a database that already holds two live archives with one ID number
(issue 17, R-CUST-1): the upgrade does not fail, the index stays plain, doctor names the problem,
and once one of the pair is corrected doctor makes the index unique."""

from __future__ import annotations

from sqlalchemy import text

from crm_tui.services import system
from crm_tui.store import db, pending
from crm_tui.store.keys import MemoryKeyStore

IDN = "110101199003074522"


def _insert(s, number: str, idn: str | None) -> None:  # type: ignore[no-untyped-def]
    s.execute(text("INSERT INTO customer (number, kind, name, id_number, important, false_info, business_stopped,"
                   " needs_informing, last_activity_at, version, created_at, updated_at)"
                   " VALUES (:n, 'person', '李娜', :i, 0, 0, 0, 0, '2026-03-02', 1, '2026-03-02', '2026-03-02')"),
              {"n": number, "i": idn})


def _unique_checks(place) -> dict[str, tuple[bool, str]]:  # type: ignore[no-untyped-def]
    return {c.name: (c.ok, c.detail) for c in system.doctor(place) if c.name.startswith("unique")}


def _before_1201() -> str:
    from alembic.script import ScriptDirectory

    from crm_tui.store import migrate

    return str(ScriptDirectory.from_config(migrate.alembic_config()).get_revision("1201").down_revision)


def _upgrade_to(db_file, key: bytes, revision: str) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from crm_tui.store import migrate

    engine = db.make_engine(db_file, key, pool="null")
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), revision)
    finally:
        engine.dispose()


def test_an_upgrade_over_duplicates_keeps_going_and_doctor_reports_then_fixes(tmp_data_dir):
    place = system.Place(tmp_data_dir, MemoryKeyStore())
    db_file = system.create_empty(place)
    key = place.key_store.get(db_file)
    assert key is not None
    _upgrade_to(db_file, key, _before_1201())  # the database as the revision before 1201 left it
    store = db.open_with_key(db_file, key, migrate=False)
    with store.write() as s:
        _insert(s, "C1", IDN)
        _insert(s, "C2", IDN)
    store.close()

    store = db.open_store(tmp_data_dir, place.key_store)  # runs 1201: must not fail
    store.close()
    conn = db.raw_connect(db_file, key)
    try:
        run = lambda sql: conn.execute(sql).fetchall()  # noqa: E731
        assert not pending.is_unique(run, "id_number") and pending.is_unique(run, "uscc")
        assert conn.execute("SELECT count(*) FROM import_batch").fetchone()[0] == 0
    finally:
        conn.close()
    checks = _unique_checks(place)
    ok, detail = checks["unique ID numbers"]
    assert not ok and "1 value(s) held by more than one archive" in detail and IDN not in detail
    assert checks["unique credit codes"][0]

    store = db.open_with_key(db_file, key, migrate=False)
    with store.write() as s:
        s.execute(text("UPDATE customer SET id_number = NULL WHERE number = 'C2'"))
    store.close()
    assert _unique_checks(place)["unique ID numbers"][0]
    conn = db.raw_connect(db_file, key)
    try:
        assert pending.is_unique(lambda sql: conn.execute(sql).fetchall(), "id_number")
    finally:
        conn.close()
