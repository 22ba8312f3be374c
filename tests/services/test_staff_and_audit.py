"""Staff accounts, permissions for every role x protected action (R-SEC-1, R-SEC-2), A/B posts
(R-SEC-7), and the hash-chained audit trail that detects an edit made behind the app's back (R-SEC-3)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from crm_tui.domain.errors import Conflict, PermissionDenied, ValidationError
from crm_tui.domain.roles import all_roles
from crm_tui.i18n import set_language
from crm_tui.services import audit, staff, system
from crm_tui.services.context import Actor, Services
from crm_tui.store import audit as audit_store
from crm_tui.store import db

PASSWORD = "Admin2026x"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    set_language("en")
    place = system.Place(tmp_path / "data", system.memory_key_store())
    system.create_empty(place)
    svc = system.open_services(place, clock=Clock())
    admin_id = staff.create_first_admin(svc, "boss", PASSWORD, "Boss")
    admin = Actor(admin_id, "boss", "Boss", frozenset({"admin"}))
    yield svc, admin, place
    svc.close()
    set_language("zh_CN")


def actor_with(svc: Services, admin: Actor, role: str) -> Actor:
    username = f"u_{role}"
    sid = staff.add_user_with_password(svc, admin, username, [role], "Passw0rd99")
    return Actor(sid, username, username, frozenset({role}))


def audit_count(svc: Services) -> int:
    return int(db.scalar(svc.store, "SELECT count(*) FROM audit_log"))


def denied_rows(svc: Services, username: str) -> int:
    return int(db.scalar(svc.store, "SELECT count(*) FROM audit_log WHERE action = 'permission.denied'"
                                    " AND actor_name = :u", u=username))


# Each protected action: (permission it needs, callable(svc, actor, admin))
def _add(svc, a, _admin):  # type: ignore[no-untyped-def]
    staff.add_user(svc, a, "newcomer", ["front_desk"], approval_note="王科长")


def _disable(svc, a, _admin):  # type: ignore[no-untyped-def]
    staff.disable_user(svc, a, "victim")


def _roles(svc, a, _admin):  # type: ignore[no-untyped-def]
    staff.set_roles(svc, a, "victim", ["customer_manager"])


def _reset(svc, a, _admin):  # type: ignore[no-untyped-def]
    staff.reset_password(svc, a, "victim")


def _audit_list(svc, a, _admin):  # type: ignore[no-untyped-def]
    audit.list_entries(svc, a, audit.AuditFilter())


def _audit_verify(svc, a, _admin):  # type: ignore[no-untyped-def]
    audit.verify_chain(svc, a)


def _cover_for_other(svc, a, _admin):  # type: ignore[no-untyped-def]
    staff.set_cover(svc, a, "victim", "boss", date(2026, 11, 24), date(2026, 11, 25))


def _key_export(svc, a, _admin):  # type: ignore[no-untyped-def]
    system.export_recovery_code(svc, a, "Passw0rd99", _KS[0])


_KS: list = []
ACTIONS = {
    "staff.add": ("staff.manage", _add),
    "staff.disable": ("staff.manage", _disable),
    "staff.roles": ("staff.manage", _roles),
    "staff.reset": ("staff.manage", _reset),
    "audit.list": ("audit.view", _audit_list),
    "audit.verify": ("audit.view", _audit_verify),
    "cover.other": ("staff.ab_post", _cover_for_other),
    "key.export": ("key.export", _key_export),
}


@pytest.mark.parametrize("role", sorted(all_roles()))
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_role_and_protected_action(env, role: str, action: str) -> None:  # type: ignore[no-untyped-def]
    svc, admin, place = env
    _KS[:] = [place.key_store]
    staff.add_user_with_password(svc, admin, "victim", ["front_desk"], "Passw0rd99")
    actor = actor_with(svc, admin, role)
    permission, call = ACTIONS[action]
    allowed = permission in all_roles()[role].permissions
    before = audit_count(svc)
    if allowed:
        call(svc, actor, admin)
        assert denied_rows(svc, actor.username) == 0
    else:
        with pytest.raises(PermissionDenied) as exc:
            call(svc, actor, admin)
        assert permission in exc.value.message
        assert audit_count(svc) == before + 1  # the refusal, and nothing else
        assert denied_rows(svc, actor.username) == 1
        assert staff.get_staff(svc, "victim").roles == ("front_desk",)
        assert staff.get_staff(svc, "victim").active


def test_admin_approves_nothing_without_an_approving_role() -> None:
    perms = all_roles()["admin"].permissions
    assert not {p for p in perms if "approve" in p or p == "grade.apply_change"}


def test_accounts_are_disabled_never_deleted_and_keep_history(env) -> None:  # type: ignore[no-untyped-def]
    svc, admin, _ = env
    staff.add_user_with_password(svc, admin, "leaver", ["front_desk"], "Passw0rd99")
    staff.disable_user(svc, admin, "leaver")
    with pytest.raises(Exception, match="disabled"):
        staff.sign_in(svc, "leaver", "Passw0rd99")
    assert [r.username for r in staff.list_staff(svc) if not r.active] == ["leaver"]
    with pytest.raises(Conflict):
        staff.add_user(svc, admin, "LEAVER", ["front_desk"], approval_note="王科长")  # names stay taken, case-insensitively


def test_last_administrator_cannot_be_disabled(env) -> None:  # type: ignore[no-untyped-def]
    svc, admin, _ = env
    with pytest.raises(Conflict):
        staff.disable_user(svc, admin, "boss")


def test_password_policy_messages(env) -> None:  # type: ignore[no-untyped-def]
    svc, admin, _ = env
    for bad, fragment in [("short1", "at least 8"), ("onlyletters", "letters and digits"),
                          ("boss2026boss", "user name"), ("12345678", "letters and digits")]:
        with pytest.raises(ValidationError, match=fragment):
            staff.change_password(svc, admin, PASSWORD, bad)
    with pytest.raises(ValidationError, match="current password"):
        staff.change_password(svc, admin, "not-it-1", "Another2026")


def test_password_expires_after_90_days(env) -> None:  # type: ignore[no-untyped-def]
    svc, _admin, _ = env
    svc.clock.now += timedelta(days=91)
    signin = staff.sign_in(svc, "boss", PASSWORD)
    assert signin.must_change_password and signin.reason == "expired"


def test_rehash_on_login_when_parameters_change(env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    svc, _admin, _ = env
    monkeypatch.setattr(staff, "_hasher", PasswordHasher())  # the real cost (the suite hashes cheaply)
    weak = PasswordHasher(time_cost=1, memory_cost=8192)
    with svc.store.write() as s:
        from sqlalchemy import text

        s.execute(text("UPDATE staff SET password_hash = :h WHERE username = 'boss'"), {"h": weak.hash(PASSWORD)})
    staff.sign_in(svc, "boss", PASSWORD)
    stored = db.scalar(svc.store, "SELECT password_hash FROM staff WHERE username = 'boss'")
    assert "t=1" not in str(stored) and str(stored).startswith("$argon2id$")


def test_cover_lets_the_backup_act_on_behalf(env) -> None:  # type: ignore[no-untyped-def]
    svc, admin, _ = env
    chief = actor_with(svc, admin, "section_chief")
    staff.add_user_with_password(svc, admin, "away", ["customer_manager"], "Passw0rd99")
    backup = actor_with(svc, admin, "customer_manager")
    today = svc.now().date()
    staff.set_cover(svc, chief, "away", backup.username, today, today + timedelta(days=3), "年假")
    with pytest.raises(Conflict):
        staff.set_cover(svc, chief, "away", "boss", today + timedelta(days=1), today + timedelta(days=5))
    cover = staff.act_on_behalf(svc, backup, staff.get_staff(svc, "away").id)
    assert cover.on_behalf_of_name == "away"
    staff.record_event(svc, cover, "test.cover_action")
    row = audit.list_entries(svc, admin, audit.AuditFilter(action="test.cover_action"))[0]
    assert row.actor == backup.username and row.on_behalf_of_id == staff.get_staff(svc, "away").id
    svc.clock.now += timedelta(days=5)
    with pytest.raises(Conflict):
        staff.act_on_behalf(svc, backup, staff.get_staff(svc, "away").id)


def test_audit_chain_intact_then_broken_by_an_edit_behind_the_apps_back(env) -> None:  # type: ignore[no-untyped-def]
    svc, admin, place = env
    staff.add_user(svc, admin, "clerk1", ["front_desk"], "张三", approval_note="王科长")
    report = audit.verify_chain(svc, admin)
    assert report.first_broken is None and report.rows == 2
    key = place.key_store.get(place.db_file)
    raw = db.raw_connect(place.db_file, key)
    try:
        raw.execute("UPDATE audit_log SET details = replace(details, '张三', '李四') WHERE action = 'staff.create'"
                    " AND details LIKE '%张三%'")
        target = raw.execute("SELECT id FROM audit_log WHERE details LIKE '%李四%'").fetchone()[0]
    finally:
        raw.close()
    with svc.store.read() as s:
        broken = audit_store.verify(s)
    assert broken.first_broken == target and broken.reason == "content"


def test_audit_verify_cli_names_the_broken_row(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The same check from the command line, the way internal control runs it."""
    svc, admin, place = env
    key = place.key_store.get(place.db_file)
    svc.close()
    # give the CLI a keyring holding this key (the keyrings.alt file backend in a private folder)
    env_vars = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
                "XDG_DATA_HOME": str(tmp_path / "xdg"), "CRM_TUI_LANG": "en", "PATH": "/usr/bin:/bin",
                "HOME": str(tmp_path)}
    code = subprocess.run(
        [sys.executable, "-c",
         "import keyring,sys; keyring.set_password('crm-tui', sys.argv[1], sys.argv[2])",
         str(place.db_file.resolve()), key.hex()], env=env_vars, check=True)
    assert code.returncode == 0
    run = lambda: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "crm_tui", "--data-dir", str(place.data_dir), "--user", "boss", "--password-stdin",
         "audit", "verify"], input=PASSWORD + "\n", capture_output=True, text=True, env=env_vars)
    ok = run()
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout
    raw = db.raw_connect(place.db_file, key)
    try:
        raw.execute("UPDATE audit_log SET actor_name = 'someone' WHERE id = 2")
    finally:
        raw.close()
    bad = run()
    assert bad.returncode != 0
    assert "BROKEN at row 2" in bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr
    svc.store = db.open_with_key(place.db_file, key)  # let the fixture close something
