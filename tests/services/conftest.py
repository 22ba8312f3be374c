"""Fixtures for the customer-archive service tests: a real SQLCipher file with one account per role,
made once per test session and copied for each test (argon2 hashing makes accounts slow), and a
clock the test can move."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from crm_tui.services import settings, staff, system
from crm_tui.services.context import Actor, Services
from crm_tui.store import db
from crm_tui.store.keys import MemoryKeyStore

ROLE_ACCOUNTS = {
    # role: (username, display name)
    "front_desk": ("qiantai", "李晓梅"),
    "customer_manager": ("jingli", "王建国"),
    "section_chief": ("kezhang", "陈志强"),
    "deputy_manager": ("fujingli", "刘伟"),
    "internal_control": ("neiguan", "孙静"),
}
EXTRA_MANAGER = ("jingli2", "赵丽华")
START = datetime(2026, 11, 23, 10, 0)  # a Monday


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@dataclass
class Crm:
    svc: Services
    place: system.Place
    clock: Clock
    actors: dict[str, Actor]
    key: bytes

    def actor(self, role: str) -> Actor:
        return self.actors[role]

    @property
    def manager(self) -> Actor:
        return self.actors["customer_manager"]

    def count(self, table: str, where: str = "", **params: object) -> int:
        sql = f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")
        return int(db.scalar(self.svc.store, sql, **params))  # type: ignore[arg-type]

    def counts(self) -> dict[str, int]:
        """Row counts of every table a customer use case may write (audit excluded)."""
        return {t: self.count(t) for t in ("customer", "customer_phone", "customer_tag", "customer_staff",
                                           "customer_consent", "customer_contact", "customer_handover",
                                           "customer_handover_item", "search_term", "audit_value")}


@pytest.fixture(scope="session")
def _crm_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, dict[str, tuple[int, str, str]]]:
    root = tmp_path_factory.mktemp("crm-template")
    keys = MemoryKeyStore()
    place = system.Place(root, keys)
    system.create_empty(place)
    svc = system.open_services(place, clock=Clock())
    accounts: dict[str, tuple[int, str, str]] = {}
    try:
        admin_id = staff.create_first_admin(svc, "admin", "Boss-pass-2026", "管理员")
        admin = Actor(admin_id, "admin", "管理员", frozenset({"admin"}))
        accounts["admin"] = (admin_id, "admin", "管理员")
        for role, (user, display) in [*ROLE_ACCOUNTS.items(), ("customer_manager2", EXTRA_MANAGER)]:
            sid = staff.add_user_with_password(svc, admin, user, [role.rstrip("2")], "Passw0rd-99", display)
            accounts[role] = (sid, user, display)
        # The approval of sensitive operations (R-SEC-2, on by default) is switched off in this
        # template so the tests of erasure, export and reveal test those; tests/services/
        # test_approvals.py and test_erasure_ledger.py switch it back on (``require_approvals``).
        settings.set_setting(svc, admin, "approval.required", "")
    finally:
        svc.close()
    key = keys.get(place.db_file)
    assert key is not None
    return place.db_file, key, accounts


@pytest.fixture
def crm(_crm_template: tuple[Path, bytes, dict[str, tuple[int, str, str]]], tmp_path: Path) -> Iterator[Crm]:
    template, key, accounts = _crm_template
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    shutil.copy2(template, data / template.name)
    keys = MemoryKeyStore()
    place = system.Place(data, keys)
    keys.put(place.db_file, key)
    clock = Clock()
    svc = system.open_services(place, clock=clock)
    actors = {role: Actor(sid, user, display, frozenset({role.rstrip("2")}))
              for role, (sid, user, display) in accounts.items()}
    try:
        yield Crm(svc, place, clock, actors, key)
    finally:
        svc.close()


def require_approvals(crm: Crm) -> None:
    """Back to the shipped default: every sensitive operation needs an approved request (R-SEC-2)."""
    from crm_tui.services import approvals

    settings.set_setting(crm.svc, crm.actors["admin"], "approval.required", ",".join(approvals.OPERATIONS))
