"""Backup copies at the store level: consistent while another process writes, retention (R-SEC-5)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from crm_tui.services import system
from crm_tui.store import backup as backup_store
from crm_tui.store import db, lock
from crm_tui.store.keys import MemoryKeyStore
from tests.helpers import cli

import pytest


def test_backup_while_another_process_writes_is_consistent_R_SEC_5(tmp_data_dir, tmp_path):
    place = system.Place(tmp_data_dir, MemoryKeyStore())
    db_file = system.create_empty(place)
    db.open_store(tmp_data_dir, place.key_store).close()  # schema
    key = place.key_store.get(db_file)
    assert key is not None
    go = tmp_path / "go"
    env = cli.make_env(tmp_path, tmp_data_dir)
    writer = subprocess.Popen([sys.executable, "-m", "tests.helpers.writer", str(db_file), "w", "400", str(go)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env, cwd=cli.REPO_ROOT)
    try:
        assert writer.stdin is not None and writer.stdout is not None
        writer.stdin.write(key.hex() + "\n")
        writer.stdin.close()
        writer.stdin = None
        assert writer.stdout.readline() == "ready\n"
        go.touch()
        infos = []
        t0 = datetime(2026, 11, 23, 9, 0)
        i = 0
        while writer.poll() is None or i < 2:  # copies keep coming while the writer commits
            infos.append(backup_store.make_backup(db_file, key, reason="test", now=t0 + timedelta(seconds=i)))
            i += 1
        out, err = writer.communicate(timeout=120)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == 0, err
    heads = []
    for info in infos:
        assert backup_store.verify_backup(info, key) == []  # both checks, counts, chain intact, head as manifest
        heads.append((info.manifest["audit_head"] or {"id": 0})["id"])
    assert heads == sorted(heads) and len(heads) >= 2


def _info(tmp_path: Path, at: str, reason: str = "daily") -> backup_store.BackupInfo:
    p = tmp_path / f"crm-{at.replace(':', '').replace('-', '').replace('T', '-')}-{reason}.db"
    return backup_store.BackupInfo(p, {"taken_at": at, "reason": reason})


def test_retention_keeps_newest_per_day_and_month_and_safety_copies_of_kept_days(tmp_path):
    backups = [_info(tmp_path, f"2026-{m:02d}-{d:02d}T{h:02d}:00:00")
               for m in (9, 10, 11) for d in (1, 15, 28) for h in (8, 18)]
    backups.append(_info(tmp_path, "2026-11-28T12:00:00", "pre-restore"))
    backups.append(_info(tmp_path, "2026-09-01T12:00:00", "pre-import"))
    pruned = {b.path.name for b in backup_store.to_prune(backups, keep_daily=3, keep_monthly=2)}
    kept = {b.manifest["taken_at"] + b.manifest["reason"] for b in backups if b.path.name not in pruned}
    assert kept == {
        "2026-11-28T18:00:00daily", "2026-11-15T18:00:00daily", "2026-11-01T18:00:00daily",  # 3 days
        "2026-10-28T18:00:00daily",  # 2nd month (Nov's newest is already kept)
        "2026-11-28T12:00:00pre-restore",  # a safety copy of a kept day
    }
    assert backup_store.to_prune(backups[:1], keep_daily=1, keep_monthly=0) == []


def test_a_second_open_cannot_take_the_exclusive_lock(tmp_data_dir):
    place = system.Place(tmp_data_dir, MemoryKeyStore())
    system.create_empty(place)
    store = db.open_store(tmp_data_dir, place.key_store)
    try:
        with pytest.raises(lock.DatabaseInUse):
            lock.exclusive(place.db_file)
    finally:
        store.close()
    with lock.exclusive(place.db_file):
        with pytest.raises(lock.DatabaseInUse) as e:
            db.open_store(tmp_data_dir, place.key_store)
        assert "restore or key rotation is running" in str(e.value)


def test_verify_finds_a_rewritten_audit_row_even_with_a_matching_checksum_R_SEC_3(tmp_data_dir):
    """Someone with the key edits an audit row in a backup and fixes the manifest's checksum: the
    chain check still fails."""
    import json

    from crm_tui.services import staff

    place = system.Place(tmp_data_dir, MemoryKeyStore())
    system.init(place, "admin", cli.PASSWORD)
    key = place.key_store.get(place.db_file)
    assert key is not None
    svc = system.open_services(place)
    try:
        staff.sign_in(svc, "admin", cli.PASSWORD)
    finally:
        svc.close()
    info = backup_store.make_backup(place.db_file, key, reason="test")
    assert backup_store.verify_backup(info, key) == []
    conn = db.raw_connect(info.path, key)
    try:
        conn.execute("UPDATE audit_log SET actor_name = 'someone' WHERE id = 1")
    finally:
        conn.close()
    manifest = dict(info.manifest, sha256=backup_store._sha256(info.path), size=info.path.stat().st_size)
    info.path.with_suffix(".json").write_text(json.dumps(manifest))
    problems = backup_store.verify_backup(backup_store.read_backup(info.path), key)
    assert problems == ["audit_chain"]
    assert backup_store.problem_text("audit_chain") == "its audit chain is broken"
