"""The backup manifest's row counts (issue 22, item 5; R-SEC-5): every table but the uncounted ones
(format 2), exact, still read by the verification of older manifests that count every table, and a
wrong file under a manifest is found. The byte copy starts writing to disk as it goes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from crm_tui.services import system
from crm_tui.store import audit as audit_store
from crm_tui.store import backup as backup_store
from crm_tui.store import connection, db
from crm_tui.store.connection import make_engine
from tests.helpers.places import key_of

T0 = datetime(2026, 11, 23, 9, 0)


def _all_counts(path: Path, key: bytes) -> dict[str, int]:
    conn = backup_store._read_only(path, key)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


def _write(place: system.Place, key: bytes, n: int) -> None:
    engine = make_engine(place.db_file, key, pool="null")
    try:
        with Session(engine) as s, s.begin():
            for _ in range(n):
                audit_store.append(s, at=T0, actor_id=None, actor_name="desk", action="customer.update",
                                   entity="customer", entity_id="1", details={"n": n})
    finally:
        engine.dispose()


def _save(info: backup_store.BackupInfo, manifest: dict) -> backup_store.BackupInfo:
    info.path.with_suffix(".json").write_text(json.dumps(manifest))
    return backup_store.read_backup(info.path)


def test_the_manifest_counts_every_table_but_the_uncounted_ones_exactly(place):
    key = key_of(place)
    info = backup_store.make_backup(place.db_file, key, reason="test", now=T0)
    every = _all_counts(info.path, key)
    assert set(backup_store.UNCOUNTED) <= set(every)  # the tables exist: they are left out on purpose
    assert info.manifest["format"] == 2
    assert info.manifest["row_counts"] == {t: n for t, n in every.items() if t not in backup_store.UNCOUNTED}
    assert info.manifest["row_counts"]["staff"] == 1 and "customer" in info.manifest["row_counts"]
    assert backup_store.verify_backup(info, key) == []


def test_a_format_1_manifest_that_counts_every_table_still_verifies_and_its_counts_are_checked(place):
    """Backups taken before format 2 count audit_value and search_term too: those counts are checked."""
    key = key_of(place)
    info = backup_store.make_backup(place.db_file, key, reason="test", now=T0)
    old = {**info.manifest, "format": 1, "row_counts": _all_counts(info.path, key)}
    assert backup_store.verify_backup(_save(info, old), key) == []
    wrong = {**old, "row_counts": {**old["row_counts"], "audit_value": old["row_counts"]["audit_value"] + 1}}
    assert backup_store.verify_backup(_save(info, wrong), key) == ["rows:audit_value"]


def test_another_valid_backup_under_a_manifest_is_found_by_checksum_and_by_its_counts(place):
    """A later copy put in place of an earlier one: its checksum differs; with the checksum forged
    to match, its row counts and audit head still differ from the manifest."""
    key = key_of(place)
    first = backup_store.make_backup(place.db_file, key, reason="test", now=T0)
    _write(place, key, 3)
    later = backup_store.make_backup(place.db_file, key, reason="test", now=T0.replace(minute=5))
    first.path.write_bytes(later.path.read_bytes())
    assert backup_store.verify_backup(first, key) == ["checksum"]
    forged = _save(first, {**first.manifest, "sha256": later.manifest["sha256"]})
    problems = backup_store.verify_backup(forged, key)
    assert "rows:audit_log" in problems and "audit_head" in problems


def test_a_truncated_backup_is_found(place):
    key = key_of(place)
    info = backup_store.make_backup(place.db_file, key, reason="test", now=T0)
    data = info.path.read_bytes()
    info.path.write_bytes(data[: len(data) // 2])
    assert "checksum" in backup_store.verify_backup(info, key)


def test_the_byte_copy_starts_writing_every_chunk_to_disk_and_copies_without_that_call(place, monkeypatch):
    """sync_file_range on each chunk as it is copied (the fsync at the end then has little to wait for);
    where the call does not exist, the copy is the same."""
    monkeypatch.setattr(connection, "CHUNK", 4096 * 16)
    key = key_of(place)
    started: list[tuple[int, int]] = []
    monkeypatch.setattr(connection, "_SYNC_FILE_RANGE", lambda fd, off, n, flags: started.append((off, n)) or 0)
    info = backup_store.make_backup(place.db_file, key, reason="test", now=T0)
    assert info.manifest["copy"] == "file" and len(started) > 2
    assert [off for off, _n in started] == [sum(n for _o, n in started[:i]) for i in range(len(started))]
    assert sum(n for _o, n in started) == info.manifest["size"]
    monkeypatch.setattr(connection, "_SYNC_FILE_RANGE", None)
    again = backup_store.make_backup(place.db_file, key, reason="test", now=T0.replace(minute=1))
    assert again.manifest["sha256"] == info.manifest["sha256"]
    assert backup_store.verify_backup(again, key) == []


def test_a_write_during_the_manifest_counts_is_not_in_them(place, monkeypatch):
    """The counts are read from the copy, which is the snapshot: a commit after the copy is not counted."""
    key = key_of(place)
    conn = db.raw_connect(place.db_file, key)
    try:
        before = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    finally:
        conn.close()
    real = backup_store._facts

    def write_first(conn):  # type: ignore[no-untyped-def]
        _write(place, key, 2)
        return real(conn)

    monkeypatch.setattr(backup_store, "_facts", write_first)
    info = backup_store.make_backup(place.db_file, key, reason="test", now=T0)
    assert info.manifest["row_counts"]["audit_log"] == before
    conn = db.raw_connect(place.db_file, key)
    try:
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == before + 2
    finally:
        conn.close()
    assert backup_store.verify_backup(info, key) == []


def test_the_checksum_is_the_sha256_of_the_pieces_sha256s_and_finds_a_flipped_byte_in_any_piece(place, monkeypatch):
    """R-SEC-5: the manifest's checksum (issue 22: pieces hashed on two threads) is the SHA-256 of
    the SHA-256s of the file's pieces, in order; a byte changed in any piece, or a piece missing, is
    a checksum problem."""
    import hashlib

    monkeypatch.setattr(connection, "PIECE", 4096 * 3)
    key = key_of(place)
    info = backup_store.make_backup(place.db_file, key, reason="test", now=T0)
    data = info.path.read_bytes()
    pieces = [data[i:i + 4096 * 3] for i in range(0, len(data), 4096 * 3)]
    assert len(pieces) > 3
    want = "sha256/64MiB:" + hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in pieces)).hexdigest()
    assert info.manifest["sha256"] == want == connection.file_digest(info.path)
    assert backup_store.verify_backup(info, key) == []
    for at in (0, len(data) // 2, len(data) - 1):
        bad = bytearray(data)
        bad[at] ^= 1
        info.path.write_bytes(bytes(bad))
        assert "checksum" in backup_store.verify_backup(info, key), at
    info.path.write_bytes(data[: len(data) - 4096 * 3])
    assert "checksum" in backup_store.verify_backup(info, key)


def test_a_manifest_with_the_files_plain_sha256_still_verifies(place):
    """Backups taken before the piecewise checksum hold the file's plain SHA-256: still verified
    (and still found wrong when the file changed)."""
    key = key_of(place)
    info = backup_store.make_backup(place.db_file, key, reason="test", now=T0)
    old = _save(info, {**info.manifest, "sha256": backup_store._sha256(info.path)})
    assert backup_store.verify_backup(old, key) == []
    data = bytearray(info.path.read_bytes())
    data[len(data) // 2] ^= 1
    info.path.write_bytes(bytes(data))
    assert "checksum" in backup_store.verify_backup(old, key)
    assert "checksum" in backup_store.verify_backup(_save(info, {**info.manifest, "sha256": None}), key)
