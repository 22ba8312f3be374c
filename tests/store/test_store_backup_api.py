"""Backups without VACUUM INTO (issue 22, item 5; R-SEC-5): the file's bytes under a snapshot that pins
them, or SQLite's online backup API in steps when the log cannot be emptied. One snapshot while a desk
writes, the same key and cipher settings, damage said as damage, no half file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from crm_tui.services import backup as backup_svc
from crm_tui.services import system
from crm_tui.store import audit as audit_store
from crm_tui.store import backup as backup_store
from crm_tui.store import connection, db
from crm_tui.store.connection import copy_encrypted, make_engine
from tests.helpers.places import key_of

T0 = datetime(2026, 11, 23, 9, 0)


def _head(db_file: Path, key: bytes) -> int:
    conn = db.raw_connect(db_file, key)
    try:
        return int(conn.execute("SELECT max(id) FROM audit_log").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize("method", ["file", "pages"])
def test_a_write_during_a_backup_commits_at_once_and_the_copy_restores_to_the_state_before_it_R_SEC_5(
        place, monkeypatch, method):
    """The desk's write lands between two steps of the copy, on a connection that will not wait for
    any lock (busy timeout 0): it commits. The backup neither restarts (the pages left only go down)
    nor includes the write: it is the snapshot of when it began, verified, and a restore of it gives
    that state with an intact audit chain; the write is the one entry only in the safety copy."""
    monkeypatch.setattr(connection, "PAGES_PER_STEP", 16)  # a new database is ~160 pages
    monkeypatch.setattr(connection, "CHUNK", 4096 * 16)  # progress after each chunk
    if method == "pages":  # as when a long reader keeps the log from being emptied
        monkeypatch.setattr(connection, "_pinned_copy", lambda *a: None)
    key = key_of(place)
    before = _head(place.db_file, key)
    desk = make_engine(place.db_file, key, pool="null", busy_ms=0)
    seen: list[tuple[int, int]] = []

    checkpoints: list[tuple[int, int, int]] = []

    def write_at_the_first_step(remaining: int, total: int, step: int) -> None:
        seen.append((remaining, total))
        if step == 1:
            with Session(desk) as s, s.begin():
                audit_store.append(s, at=T0, actor_id=None, actor_name="desk", action="customer.update",
                                   entity="customer", entity_id="1", details={"during": "backup"})
            with desk.connect() as c:  # a checkpoint may not write the new pages into the file being copied
                checkpoints.append(tuple(c.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()))

    try:
        info = backup_store.make_backup(place.db_file, key, reason="test", now=T0, progress=write_at_the_first_step)
    finally:
        desk.dispose()
    assert len(seen) > 2, "the copy ran in steps"
    assert all(a[0] > b[0] for a, b in zip(seen, seen[1:])), "no restart: the pages left only go down"
    assert seen[-1][0] == 0 and len({t for _, t in seen}) == 1
    assert _head(place.db_file, key) == before + 1  # the write committed
    if method == "file":
        assert checkpoints[0][1] > 0 and checkpoints[0][2] == 0, checkpoints  # in the log, none in the file
    assert info.manifest["audit_head"]["id"] == before  # the copy is the state before it
    assert backup_store.verify_backup(info, key) == []
    assert not [p.name for p in info.path.parent.iterdir() if p.suffix not in (".db", ".json")]  # no -wal/-shm/.part

    report = backup_svc.restore(place.data_dir, place.key_store, info.path, now=T0)
    assert (report.continuity, report.lost_entries) == ("continuous", 1)
    conn = db.raw_connect(place.db_file, key)
    try:
        assert conn.execute("SELECT count(*) FROM audit_log WHERE actor_name = 'desk'").fetchone()[0] == 0
        assert conn.execute("SELECT action FROM audit_log WHERE id = ?", (before + 1,)).fetchone()[0] == "backup.restore"
    finally:
        conn.close()
    st = db.open_store(place.data_dir, place.key_store)
    try:
        with Session(st.engine) as s:
            assert audit_store.verify(s).first_broken is None
    finally:
        st.close()


def test_the_copy_has_the_same_key_and_cipher_settings_and_opens_read_only_without_side_files(place, tmp_path):
    key = key_of(place)
    src = db.raw_connect(place.db_file, key)
    try:
        settings = src.execute("PRAGMA cipher_settings").fetchall()
        copy_encrypted(src, tmp_path / "out" / "copy.db", key, pages=8)
    finally:
        src.close()
    info = backup_store.BackupInfo(tmp_path / "out" / "copy.db", {})
    conn = backup_store._read_only(info.path, key)
    try:
        assert conn.execute("PRAGMA cipher_settings").fetchall() == settings
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("PRAGMA cipher_integrity_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["copy.db"]
    assert (tmp_path / "out" / "copy.db").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("method", ["file", "pages"])
def test_a_backup_that_fails_midway_leaves_no_half_file(place, monkeypatch, method):
    monkeypatch.setattr(connection, "PAGES_PER_STEP", 16)
    monkeypatch.setattr(connection, "CHUNK", 4096 * 16)
    if method == "pages":
        monkeypatch.setattr(connection, "_pinned_copy", lambda *a: None)
    key = key_of(place)
    folder = place.data_dir / "backups"
    names = {p.name for p in folder.iterdir()}

    def fail_at_the_second_step(remaining: int, total: int, step: int) -> None:
        if step == 2:
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        backup_store.make_backup(place.db_file, key, reason="test", now=T0, progress=fail_at_the_second_step)
    assert {p.name for p in folder.iterdir()} == names  # no .part, no -journal/-wal/-shm, no crm-*.db
    assert not backup_store.leftovers(place.data_dir, min_age_s=0)
    assert _head(place.db_file, key) >= 1  # the source is untouched and opens


def test_a_long_reader_that_keeps_the_log_turns_the_copy_to_the_backup_api_and_it_is_consistent(place, tmp_path):
    key = key_of(place)
    reader = db.raw_connect(place.db_file, key)
    writer = make_engine(place.db_file, key, pool="null", busy_ms=0)
    src = db.raw_connect(place.db_file, key)
    try:
        with Session(writer) as s, s.begin():  # a frame in the log ...
            audit_store.append(s, at=T0, actor_id=None, actor_name="desk", action="x.y")
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM audit_log").fetchone()  # ... a reader whose snapshot needs it
        with Session(writer) as s, s.begin():
            audit_store.append(s, at=T0, actor_id=None, actor_name="desk", action="x.y")
        copied = connection.copy_database(src, tmp_path / "c.db", key)
        reader.execute("COMMIT")
        unpinned = connection.copy_database(src, tmp_path / "d.db", key)
    finally:
        reader.close()
        src.close()
        writer.dispose()
    assert (copied.method, copied.checked, unpinned.method, unpinned.checked) == ("pages", True, "file", False)
    for f in ("c.db", "d.db"):
        conn = backup_store._read_only(tmp_path / f, key)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("SELECT count(*) FROM audit_log WHERE actor_name = 'desk'").fetchone()[0] == 2
        finally:
            conn.close()
    assert unpinned.sha256 == connection.file_digest(tmp_path / "d.db")


def _flip(db_file: Path, where: str) -> int:
    data = bytearray(db_file.read_bytes())
    pages = len(data) // 4096
    page = {"second": 2, "middle": pages // 2 + 1, "last": pages}[where]
    data[(page - 1) * 4096 + 1000] ^= 0x01
    db_file.write_bytes(bytes(data))
    return page


@pytest.mark.parametrize("method", ["file", "pages"])
@pytest.mark.parametrize("where", ["second", "middle", "last"])
def test_a_damaged_page_anywhere_is_refused_as_damage_with_its_page_not_as_a_wrong_key(place, where, method,
                                                                                        monkeypatch):
    """The administrator's and the daily backup check every page (of the byte copy, which holds the
    source's pages; or before the backup API's copy, since SQLCipher hands that a damaged page as zeros
    and the step succeeds)."""
    if method == "pages":
        monkeypatch.setattr(connection, "_pinned_copy", lambda *a: None)
    key = key_of(place)
    page = _flip(place.db_file, where)
    folder = place.data_dir / "backups"
    names = {p.name for p in folder.iterdir()}
    with pytest.raises(db.DatabaseDamaged) as e:
        backup_store.make_backup(place.db_file, key, reason="daily", now=T0, check_source=True)
    assert e.value.pages == (page,)
    assert {p.name for p in folder.iterdir()} == names


@pytest.mark.parametrize("where", ["second", "middle", "last"])
def test_any_other_backup_of_a_damaged_file_is_refused_by_its_verification(place, where):
    from crm_tui.services import damage

    key = key_of(place)
    svc = system.open_services(place)
    try:
        page = _flip(place.db_file, where)
        folder = place.data_dir / "backups"
        names = {p.name for p in folder.iterdir()}
        with pytest.raises(damage.DamagedDatabase) as e:
            backup_svc.auto_backup(svc, "pre-import")
        assert {p.name for p in folder.iterdir()} == names
    finally:
        svc.close()
    assert page in e.value.diagnosis.pages
    assert key


def test_the_byte_copy_goes_through_the_process_where_the_kernel_cannot_copy(place, monkeypatch):
    """``backup --to`` another file system: copy_file_range says EXDEV (or is missing)."""
    def refuse(*a, **k):  # type: ignore[no-untyped-def]
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(connection.os, "copy_file_range", refuse, raising=False)
    key = key_of(place)
    info = backup_store.make_backup(place.db_file, key, reason="test", now=T0)
    assert info.manifest["copy"] == "file"
    assert backup_store.verify_backup(info, key) == []
