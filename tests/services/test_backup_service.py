"""Backup use cases: permissions for every role, audit entries, the daily backup, retention, the
administrator's home items (R-SEC-5, R-SEC-2)."""

from __future__ import annotations

import json

import pytest

from crm_tui.domain.errors import PermissionDenied
from crm_tui.services import backup, home, settings

ROLES = ["front_desk", "customer_manager", "section_chief", "deputy_manager", "internal_control"]


@pytest.mark.parametrize("role", ROLES)
def test_only_administrators_make_or_list_backups_R_SEC_2(crm, role):
    actor = crm.actor(role)
    denied = crm.count("audit_log", "action = 'permission.denied'")
    for call in (lambda: backup.backup_now(crm.svc, actor), lambda: backup.list_backups(crm.svc, actor)):
        with pytest.raises(PermissionDenied) as e:
            call()
        assert "make backups" in str(e.value)
    assert crm.count("audit_log", "action = 'permission.denied'") == denied + 2
    assert not (crm.place.data_dir / "backups").exists() or not list((crm.place.data_dir / "backups").glob("*.db"))


def test_backup_now_is_verified_audited_and_listed_R_SEC_5(crm):
    admin = crm.actor("admin")
    row, problems = backup.backup_now(crm.svc, admin)
    assert problems == [] and row.problems == ()
    rows = backup.list_backups(crm.svc, admin)
    assert [r.name for r in rows] == [row.name]
    with crm.svc.store.read() as s:
        from sqlalchemy import text

        action, details = s.execute(text("SELECT action, details FROM audit_log ORDER BY id DESC LIMIT 1")).one()
    assert action == "backup.create" and json.loads(details)["reason"] == "manual"
    assert backup.verify_now(crm.svc, admin, row.name) == []


def test_backup_to_a_file_instead_of_a_folder_is_refused(crm, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(backup.BackupFailed) as e:
        backup.backup_now(crm.svc, crm.actor("admin"), dest=f)
    assert "is not a folder" in str(e.value)


def test_daily_backup_once_a_day_and_retention_setting(crm):
    assert backup.daily_backup_if_due(crm.svc) is not None
    assert backup.daily_backup_if_due(crm.svc) is None  # same day
    settings.set_setting(crm.svc, crm.actor("admin"), "backup.keep_daily", "2")
    settings.set_setting(crm.svc, crm.actor("admin"), "backup.keep_monthly", "0")
    for _day in range(4):
        crm.clock.advance(days=1)
        assert backup.daily_backup_if_due(crm.svc) is not None
    names = [r.name for r in backup.list_backups(crm.svc, crm.actor("admin"))]
    assert len(names) == 2 and names[0] > names[1]


def test_retention_setting_bounds(crm):
    from crm_tui.domain.errors import ValidationError

    with pytest.raises(ValidationError):
        settings.set_setting(crm.svc, crm.actor("admin"), "backup.keep_daily", "0")


def test_home_shows_backup_age_and_verification_to_administrators_only(crm):
    admin = crm.actor("admin")
    items = {i.key: i for i in home.today(crm.svc, admin)}
    assert items["backup.none"].urgent
    backup.backup_now(crm.svc, admin)
    crm.clock.advance(hours=50)
    items = {i.key: i for i in home.today(crm.svc, admin)}
    assert "backup.none" not in items
    assert items["backup.age"].count == 50 and items["backup.age"].urgent
    for role in ROLES:
        assert not [i for i in home.today(crm.svc, crm.actor(role)) if i.key.startswith("backup.")]
