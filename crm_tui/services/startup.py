"""The app's start: open the database without loading the services, load them while the user types.

``crm-tui`` checks the file, key, lock and schema with plain sqlcipher3 connections (store.db,
store.migrate) and shows the login screen; the services - and SQLAlchemy, ~0.3 s of CPU, most of
a cold start - load in a worker when the user starts typing (ui/app.py). This module must stay
light to import: no services.context, no SQLAlchemy at module level.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crm_tui.clock import system_now
from crm_tui.store import db, keys, paths
from crm_tui.store.queries import startup as sq

if TYPE_CHECKING:
    from crm_tui.services.context import Services


class LazyServices:
    """The app's services, made on first use; every attribute is the real ``Services``' one."""

    def __init__(self, store: db.Store, *, demo: bool = False) -> None:
        object.__setattr__(self, "_lazy_store", store)
        object.__setattr__(self, "_lazy_demo", demo)
        object.__setattr__(self, "_lazy_real", None)
        object.__setattr__(self, "_lazy_lock", threading.Lock())

    @property
    def lazy_pending(self) -> bool:
        return self._lazy_real is None

    def lazy_resolve(self) -> Services:
        if self._lazy_real is None:
            with self._lazy_lock:
                if self._lazy_real is None:
                    from crm_tui.services import staff  # noqa: F401 - sign-in's module, warm
                    from crm_tui.services.context import Services

                    svc = Services(store=self._lazy_store, demo=self._lazy_demo)
                    svc.reload_settings()  # the first query: the engine and a pooled connection ready
                    object.__setattr__(self, "_lazy_real", svc)
        return self._lazy_real  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._lazy_real is not None:
            self._lazy_real.close()
        else:
            self._lazy_store.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.lazy_resolve(), name)

    def __setattr__(self, name: str, value: object) -> None:
        setattr(self.lazy_resolve(), name, value)


def open_lazily(data_dir: Path | str | None, key_store: keys.KeyStore | None = None, *,
                demo: bool = False) -> LazyServices:
    """``system.open_services(system.resolve(data_dir, key_store), demo=demo)`` with the services
    made on first use: the same checks (file, key, interrupted rotation, lock, schema upgrade)."""
    folder = paths.resolve_data_dir(data_dir)
    key_store = key_store or keys.OsKeyStore()
    try:
        store = db.open_store(folder, key_store)
    except (db.DatabaseDamaged, db.WrongKey) as e:
        from crm_tui.services import damage

        damage.say_open_error(folder, key_store, e)
    store.busy_ms = db._env_busy_ms() or db.APP_BUSY_TIMEOUT_MS  # a desk waits 5 s at most, then is told why (DatabaseBusy)
    return LazyServices(store, demo=demo)


def stored_setting(svc: LazyServices, section: str, name: str) -> Any:
    """``Services.setting`` (the stored value over the default) with one plain query."""
    from crm_tui.domain import config

    if not svc.lazy_pending:
        return svc.setting(section, name)
    store = svc._lazy_store
    value = config.load("settings.toml")[section][name]
    conn = db.raw_connect(store.db_file, store.key)
    try:
        stored = sq.stored_setting(conn, f"{section}.{name}")
    finally:
        conn.close()
    return json.loads(stored) if stored is not None else value


def backup_taken_today(svc: LazyServices) -> bool:
    """``services.backup.daily_backup_if_due``'s test (a backup taken today?) without the services."""
    from crm_tui.store import backup as backup_store

    today = system_now().date().isoformat()
    return any(b.manifest.get("taken_at", "").startswith(today)
               for b in backup_store.list_backups(svc._lazy_store.db_file.parent))


def tidy_backup_folder(svc: LazyServices, now: datetime | None = None):  # type: ignore[no-untyped-def]
    """At start (issue 17): unfinished backup copies (``.part``) removed, orphan backups that open and
    check adopted, others kept and reported (store.backup.tidy). Returns what was done."""
    from crm_tui.store import backup as backup_store

    store = svc._lazy_store if svc.lazy_pending else svc.store
    assert store.key is not None
    return backup_store.tidy(store.db_file.parent, store.key, now or system_now())


def unpublished_imports(svc: LazyServices) -> int:
    """Import batches not published (running elsewhere, or left by a killed import), with one
    plain query: the app's start removes abandoned ones (services.system.discard_abandoned_imports)
    only when there are any, so a normal start loads nothing more."""
    store = svc._lazy_store
    conn = db.raw_connect(store.db_file, store.key)
    try:
        return sq.unpublished_import_count(conn)
    except Exception:  # noqa: BLE001 - no table before migration 1201
        return 0
    finally:
        conn.close()
