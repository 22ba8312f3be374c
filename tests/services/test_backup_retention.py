"""Retention never surprises (issue 17, item 6), pre-import copies not repeated (item 7): manual backups
go only by an explicit delete, safety copies of a restore or rotation stay 30 days, the newest
verified backup always stays, every deletion is audited, and each kept file names its rule (R-SEC-5)."""

from __future__ import annotations

import json
import os
from datetime import datetime

import pytest

from sqlalchemy import text

from crm_tui.clock import system_seconds
from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied
from crm_tui.services import backup, settings
from crm_tui.store import backup as backup_store


def _deletions(crm) -> list[dict]:  # type: ignore[no-untyped-def]
    with crm.svc.store.read() as s:
        rows = s.execute(text("SELECT entity_id, details FROM audit_log WHERE action = 'backup.delete' ORDER BY id")).all()
    return [{"name": r[0], **json.loads(r[1])} for r in rows]


def test_a_manual_backup_survives_three_automatic_backups_on_the_same_day(crm):
    admin = crm.actor("admin")
    manual, _ = backup.backup_now(crm.svc, admin)
    crm.clock.advance(minutes=5)
    backup.auto_backup(crm.svc, "daily")
    for _i in range(2):
        crm.clock.advance(minutes=5)
        backup.auto_backup(crm.svc, "restored")
    rows = {r.name: r for r in backup.list_backups(crm.svc, admin)}
    assert manual.name in rows and manual.path.exists()
    assert rows[manual.name].kept_by == ("manual",)
    assert backup.kept_by_text(rows[manual.name]) == "manual backup"
    # the automatic ones replaced each other under one-a-day, and each deletion was audited
    dels = _deletions(crm)
    assert len(dels) == 2 and {d["why"] for d in dels} == {"retention"}
    assert all(d["name"] not in rows for d in dels)


def test_manual_backups_outlive_the_daily_window(crm):
    admin = crm.actor("admin")
    settings.set_setting(crm.svc, admin, "backup.keep_daily", "2")
    settings.set_setting(crm.svc, admin, "backup.keep_monthly", "0")
    manual, _ = backup.backup_now(crm.svc, admin)
    for _day in range(5):
        crm.clock.advance(days=1)
        backup.daily_backup_if_due(crm.svc)
    names = [r.name for r in backup.list_backups(crm.svc, admin)]
    assert manual.name in names and len(names) == 3  # two days + the manual one


def test_safety_copies_of_a_restore_or_rotation_are_kept_30_days(tmp_path):
    def info(at: str, reason: str) -> backup_store.BackupInfo:
        return backup_store.BackupInfo(tmp_path / f"crm-{at[:10]}-{reason}.db", {"taken_at": at, "reason": reason})

    old_restore = info("2026-01-01T10:00:00", "pre-restore")
    old_rotate = info("2026-01-05T10:00:00", "pre-rotate")
    old_import = info("2026-01-05T11:00:00", "pre-import")
    dailies = [info(f"2026-01-{d:02d}T08:00:00", "daily") for d in range(20, 31)]
    every = [old_restore, old_rotate, old_import, *dailies]
    reasons = backup_store.keep_reasons(every, keep_daily=3, keep_monthly=0, now=datetime(2026, 1, 30, 12))
    assert reasons[old_restore.path] == ["safety"] and reasons[old_rotate.path] == ["safety"]
    assert reasons[old_import.path] == []  # a pre-import copy lives as long as its day is kept
    later = backup_store.keep_reasons(every, keep_daily=3, keep_monthly=0, now=datetime(2026, 2, 1, 12))
    assert later[old_restore.path] == [] and later[old_rotate.path] == ["safety"]


def test_the_newest_verified_backup_is_always_kept(tmp_path):
    def info(at: str, problems: list[str]) -> backup_store.BackupInfo:
        b = backup_store.BackupInfo(tmp_path / f"crm-{at[:10]}-daily.db", {"taken_at": at, "reason": "daily"})
        backup_store.record_verification(b, problems, datetime.fromisoformat(at))
        return b

    good = info("2026-03-01T08:00:00", [])
    bad = info("2026-03-02T08:00:00", ["checksum"])  # the newest failed its verification
    every = [good, bad]
    reasons = backup_store.keep_reasons(every, keep_daily=1, keep_monthly=0)
    assert reasons[good.path] == ["newest"] and reasons[bad.path] == ["daily"]
    assert backup_store.to_prune(every, keep_daily=1, keep_monthly=0) == []


def test_backup_delete_is_explicit_audited_and_spares_the_newest_verified(crm):
    admin = crm.actor("admin")
    first, _ = backup.backup_now(crm.svc, admin)
    crm.clock.advance(minutes=1)
    second, _ = backup.backup_now(crm.svc, admin)
    with pytest.raises(Conflict):
        backup.delete_backup(crm.svc, admin, second.path)
    with pytest.raises(NotFound):
        backup.delete_backup(crm.svc, admin, crm.place.data_dir / "crm.db")
    with pytest.raises(PermissionDenied):
        backup.delete_backup(crm.svc, crm.actor("front_desk"), first.name)
    assert backup.delete_backup(crm.svc, admin, first.name) == first.name
    assert not first.path.exists() and not first.path.with_suffix(".json").exists()
    assert _deletions(crm)[-1] == {"name": first.name, "why": "explicit", "reason": "manual",
                                   "taken_at": first.taken_at.isoformat(timespec="seconds")}


def test_a_pre_import_copy_is_skipped_when_a_verified_one_holds_the_same_chain(crm):
    admin = crm.actor("admin")
    one = backup.auto_backup(crm.svc, "pre-import")
    assert backup.auto_backup(crm.svc, "pre-import").path == one.path  # only backup entries since
    crm.clock.advance(minutes=1)
    settings.set_setting(crm.svc, admin, "backup.keep_daily", "9")  # a change of data: audited
    two = backup.auto_backup(crm.svc, "pre-import")
    assert two.path != one.path
    backup_store.record_verification(two, ["checksum"], crm.svc.now())  # not verified: no stand-in
    assert backup.auto_backup(crm.svc, "pre-import").path not in (one.path, two.path)


def test_tidy_removes_parts_adopts_sound_orphans_and_keeps_the_rest(crm, tmp_path):
    info = backup.auto_backup(crm.svc, "daily")
    folder = info.path.parent
    part = folder / "crm-x.db.part"
    part.write_bytes(b"\0" * 10)
    orphan = folder / "crm-20260101-000000-manual.db"
    orphan.write_bytes(info.path.read_bytes())
    foreign = folder / "crm-20260102-000000-daily.db"
    foreign.write_bytes(b"not a database" * 500)
    found = backup_store.leftovers(crm.place.data_dir, min_age_s=0)
    assert set(found.orphans) == {orphan, foreign} and found.parts == (part,)
    done = backup_store.tidy(crm.place.data_dir, crm.key, crm.svc.now(), min_age_s=0)
    assert not part.exists() and done.removed == (part.name,)
    assert done.adopted == (orphan.name,) and done.kept == (foreign.name,)
    assert foreign.exists()
    manifest = json.loads(orphan.with_suffix(".json").read_text())
    assert manifest["reason"] == "adopted" and backup_store.verify_backup(
        backup_store.read_backup(orphan), crm.key) == []
    young = folder / "crm-y.db.part"  # just written: another process may still be writing it
    young.write_bytes(b"\0")
    now_s = system_seconds()  # the file's time on the process's clock (under libfaketime the kernel's differs)
    os.utime(young, (now_s, now_s))
    assert backup_store.tidy(crm.place.data_dir, crm.key, crm.svc.now()).removed == ()
    assert young.exists()  # younger than PART_MIN_AGE_S: left for its writer
