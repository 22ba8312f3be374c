"""Backups, their verification, restore and key rotation: the use cases of issue 9 (R-SEC-4, R-SEC-5).

Backups are encrypted with the database key itself (not a separate backup key): one secret to keep,
and the recovery code printed by ``crm-tui key export`` opens the database *and* every backup made
with that key, on any machine. After a key rotation, older backups need the older key: it stays in
the keyring as a retired entry, and the manifest names the key (``key_id``) so the right one is found.

Restore and key rotation swap or re-encrypt the file, so they need every other user out: they take
the exclusive lock on ``crm.db.lock`` (store.lock) and refuse while the app or another command has
the database open. Automatic backups are taken at the first start of each day, before a restore
(the safety copy), before a key rotation and before an import; retention (store.backup.keep_reasons)
keeps the newest automatic backup of the last ``backup.keep_daily`` days and ``backup.keep_monthly``
months, every manual backup (only ``backup delete`` removes one), restore and rotation safety copies for
30 days and always the newest verified backup; each deletion is audited (issue 17).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from crm_tui.clock import system_now
from crm_tui.domain.errors import Conflict, CrmError, NotFound, PermissionDenied
from crm_tui.i18n import N_, _
from crm_tui.services.context import Actor, Services
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store import audit as audit_store
from crm_tui.store import backup as store
from crm_tui.store import db, keys, lock, paths, rotation
from crm_tui.store.queries import backup as bq

__all__ = [
    "BackupFailed", "BackupRow", "NewestBackup", "RestoreRefused", "RestoreReport", "auto_backup", "backup_now",
    "check_may", "daily_backup_if_due", "list_backups", "newest", "problem_text", "restore", "rotate_key",
    "verify_file",
]

problem_text = store.problem_text
parse_code = keys.parse_recovery_code
_NO_KEY = N_("The keyring holds no key for this backup. On a new machine give the recovery code "
             "(--recovery-code, read from standard input); nothing was changed.")
STALE_HOURS = 48
# Backups that check every page of the database before their manifest (store.make_backup(check_source=
# True)): the administrator's and the first start of the day's; a damaged database is refused, no copy
# kept. Any other backup finds a damaged page in its verification, which follows at once (_take).
CHECKED_SOURCE = ("manual", "daily")


class BackupFailed(CrmError):
    exit_code = 20


class RestoreRefused(CrmError):
    exit_code = 21


@dataclass(frozen=True)
class BackupRow:
    name: str
    path: Path
    taken_at: datetime
    reason: str
    size: int
    schema: str
    customers: int
    verified_at: datetime | None
    problems: tuple[str, ...] | None  # None: never verified
    kept_by: tuple[str, ...] = ()  # the retention rules that keep it (store.backup.KEEP_RULES)


def _row(info: store.BackupInfo, kept_by: list[str] | None = None) -> BackupRow:
    v = store.last_verification(info)
    m = info.manifest
    return BackupRow(info.path.name, info.path, info.taken_at, str(m.get("reason", "")), int(m.get("size", 0)),
                     str(m.get("schema_version") or "-"), int(m.get("row_counts", {}).get("customer", 0)),
                     v[0] if v else None, tuple(v[1]) if v else None,
                     tuple(r for r in store.KEEP_RULES if r in (kept_by or [])))


def _key(svc: Services) -> bytes:
    assert svc.store.key is not None
    return svc.store.key


def _data_dir(svc: Services) -> Path:
    return svc.store.db_file.parent


def _retain(svc: Services) -> list[str]:
    """Delete the backups outside the retention (store.backup.keep_reasons); each deletion audited."""
    keep_d, keep_m = int(svc.setting("backup", "keep_daily")), int(svc.setting("backup", "keep_monthly"))
    removed = []
    for b in store.to_prune(store.list_backups(_data_dir(svc)), keep_d, keep_m, svc.now()):
        store.remove_backup(b)
        removed.append(b.path.name)
        with svc.write(Actor.system()) as tx:
            tx.audit("backup.delete", entity="backup", entity_id=b.path.name,
                     details={"why": "retention", "reason": b.manifest.get("reason"),
                              "taken_at": b.manifest.get("taken_at"), "keep_daily": keep_d, "keep_monthly": keep_m})
    return removed


def delete_backup(svc: Services, actor: Actor, path: Path | str) -> str:
    """``crm-tui backup delete FILE``: the only way a manual backup goes. Needs backup.run; audited.
    The newest verified backup is refused: it is what a restore would need."""
    svc.require(actor, "backup.run")
    folder = paths.backups_dir(_data_dir(svc)).resolve()
    target = Path(path).expanduser()
    target = (folder / target.name) if not target.is_absolute() and not target.exists() else target.resolve()
    found = {b.path.resolve(): b for b in store.list_backups(_data_dir(svc))}
    info = found.get(target)
    if info is None:
        raise NotFound("{path} is not a backup in {folder}; nothing was deleted.", path=str(target), folder=str(folder))
    reasons = store.keep_reasons(list(found.values()), int(svc.setting("backup", "keep_daily")),
                                 int(svc.setting("backup", "keep_monthly")), svc.now())
    if "newest" in reasons[info.path]:
        raise Conflict("{name} is the newest verified backup, which is always kept; nothing was deleted.",
                       name=info.path.name)
    store.remove_backup(info)
    with svc.write(actor) as tx:
        tx.audit("backup.delete", entity="backup", entity_id=info.path.name,
                 details={"why": "explicit", "reason": info.manifest.get("reason"),
                          "taken_at": info.manifest.get("taken_at")})
    return info.path.name


def _take(svc: Services, actor: Actor, reason: str, dest: Path | None) -> tuple[store.BackupInfo, list[str]]:
    now = svc.now()
    try:
        info = store.make_backup(svc.store.db_file, _key(svc), reason=reason, dest=dest, now=now,
                                 check_source=reason in CHECKED_SOURCE)
    except db.DatabaseDamaged as e:  # refused cleanly, no .part left: what is damaged, how to restore
        from crm_tui.services import damage

        d = getattr(e, "diagnosis", None) or db.diagnose(svc.store.db_file, _key(svc))
        raise damage.DamagedDatabase(_data_dir(svc), d) from None
    except OSError as e:
        raise BackupFailed("The backup could not be written to {path}: {reason}. Nothing was changed.",
                           path=str(dest or paths.backups_dir(_data_dir(svc))), reason=e.strerror or type(e).__name__
                           ) from None
    problems = store.verify_backup(info, _key(svc))
    if {"cipher_integrity", "integrity"} & set(problems):  # a byte copy's pages are the database's
        d = db.diagnose(svc.store.db_file, _key(svc))
        if d.verdict == "damaged":
            from crm_tui.services import damage

            store.remove_backup(info)
            raise damage.DamagedDatabase(_data_dir(svc), d)
    store.record_verification(info, problems, svc.now())
    removed = _retain(svc) if dest is None else []
    with svc.write(actor) as tx:
        tx.audit("backup.create", entity="backup", entity_id=info.path.name,
                 details={"reason": reason, "size": info.manifest["size"], "problems": problems,
                          "folder": str(info.path.parent), "pruned": removed})
    return info, problems


def backup_now(svc: Services, actor: Actor, *, dest: Path | str | None = None) -> tuple[BackupRow, list[str]]:
    """``crm-tui backup [--to DIR]`` and the backup screen: a copy, verified at once, audited.
    Needs backup.run. Returns the backup and the problems verification found (none, normally)."""
    svc.require(actor, "backup.run")
    target = Path(dest).expanduser().resolve() if dest else None
    if target is not None and target.exists() and not target.is_dir():
        raise BackupFailed("{path} is not a folder; give a folder for the backup.", path=str(target))
    info, problems = _take(svc, actor, "manual", target)
    return _row(info), problems


def auto_backup(svc: Services, reason: str) -> store.BackupInfo:
    """A backup the system takes by itself (daily, before an import ...); audited as the system.

    Before an import, a verified backup with the same audit chain head (nothing changed since; every
    change is audited) stands for the copy: a retried import does not fill the folder (issue 17)."""
    if reason == "pre-import":
        same = store.identical_backup(_data_dir(svc), svc.store.db_file, _key(svc))
        if same is not None:
            return same
    return _take(svc, Actor.system(), reason, None)[0]


def daily_backup_if_due(svc: Services) -> store.BackupInfo | None:
    """At the first start of each day: a backup unless one was already taken today."""
    today = svc.now().date().isoformat()
    if any(b.manifest.get("taken_at", "").startswith(today) for b in store.list_backups(_data_dir(svc))):
        return None
    return auto_backup(svc, "daily")


def list_backups(svc: Services, actor: Actor) -> list[BackupRow]:
    """Newest first. Needs backup.run."""
    svc.require(actor, "backup.run")
    found = store.list_backups(_data_dir(svc))
    reasons = store.keep_reasons(found, int(svc.setting("backup", "keep_daily")),
                                 int(svc.setting("backup", "keep_monthly")), svc.now())
    return [_row(b, reasons[b.path]) for b in reversed(found)]


KEEP_RULE_LABELS = {"newest": N_("newest verified"), "manual": N_("manual backup"), "safety": N_("safety copy"),
                    "daily": N_("one a day"), "monthly": N_("one a month")}


def kept_by_text(row: BackupRow) -> str:
    """Which rule keeps a backup, for ``backup list`` and the backup screen."""
    if not row.kept_by:
        return _("due for deletion")
    return ", ".join(_(KEEP_RULE_LABELS[r]) for r in row.kept_by)


def verify_now(svc: Services, actor: Actor, name: str) -> list[str]:
    """Verify one backup of the default folder again (backup screen). Needs backup.run; audited."""
    svc.require(actor, "backup.run")
    path = paths.backups_dir(_data_dir(svc)) / Path(name).name
    info = store.read_backup(path)
    problems = store.verify_backup(info, _candidate_key(svc.store.db_file, info, _keyring_less(svc)) or _key(svc))
    store.record_verification(info, problems, svc.now())
    with svc.write(actor) as tx:
        tx.audit("backup.verify", entity="backup", entity_id=path.name, details={"problems": problems})
    return problems


def _keyring_less(svc: Services) -> keys.KeyStore:
    ks = keys.MemoryKeyStore()
    ks.put(svc.store.db_file, _key(svc))
    return ks


def _candidate_key(db_file: Path, info: store.BackupInfo, ks: keys.KeyStore) -> bytes | None:
    """The key a backup was made with: its manifest's key id picks the current, pending or a retired
    keyring entry; without a match the current key is tried (a verify then says 'does not open')."""
    kid = info.manifest.get("key_id")
    try:
        current = ks.get(db_file)
    except CrmError:
        current = None
    for name in (db_file, rotation.pending_name(db_file), *( [rotation.retired_name(db_file, kid)] if kid else [])):
        try:
            k = ks.get(name)
        except CrmError:
            k = None
        if k is not None and (kid is None or rotation.key_id(k) == kid):
            return k
    return current


@dataclass(frozen=True)
class Verified:
    info: store.BackupInfo
    problems: list[str]


def verify_file(data_dir: Path, key_store: keys.KeyStore, path: Path | str, *, key: bytes | None = None,
                now: datetime | None = None) -> Verified:
    """``crm-tui backup verify FILE``: open the copy read-only with its key (from the keyring by the
    manifest's key id, or ``key`` from a recovery code), run both integrity checks, compare with the
    manifest. Changes nothing but the ``.verified.json`` note beside a backup in the data folder."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise RestoreRefused("No backup file at {path}.", path=str(path))
    info = store.read_backup(path)
    db_file = paths.db_path(data_dir)
    if key is None:
        key = _candidate_key(db_file, info, key_store)
    if key is None:
        raise RestoreRefused(_NO_KEY)
    problems = store.verify_backup(info, key)
    if path.parent == paths.backups_dir(data_dir).resolve():
        store.record_verification(info, problems, now or system_now())
    return Verified(info, problems)


# -- newest backup, for doctor and the administrator's home ------------------------------------------

@dataclass(frozen=True)
class NewestBackup:
    name: str
    taken_at: datetime
    age_hours: float
    problems: tuple[str, ...] | None  # None: never verified

    @property
    def ok(self) -> bool:
        return self.problems == () and self.age_hours <= STALE_HOURS


def newest(data_dir: Path, now: datetime) -> NewestBackup | None:
    found = store.list_backups(data_dir)
    if not found:
        return None
    b = found[-1]
    v = store.last_verification(b)
    return NewestBackup(b.path.name, b.taken_at, (now - b.taken_at).total_seconds() / 3600,
                        tuple(v[1]) if v else None)


@register_item
def _backup_items(s, actor: Actor, svc: Services) -> list[WorkItem]:  # type: ignore[no-untyped-def]
    if not actor.can("backup.run"):
        return []
    n = newest(_data_dir(svc), svc.now())
    if n is None:
        return [WorkItem("backup.none", N_("No backup yet: make one now (F9)"), 0, "open('backup')", True)]
    items = [WorkItem("backup.age", N_("Hours since the newest backup"), int(n.age_hours), "open('backup')",
                      n.age_hours > STALE_HOURS)]
    if n.problems:
        items.append(WorkItem("backup.damaged", N_("Newest backup failed verification"), len(n.problems),
                              "open('backup')", True))
    elif n.problems is None:
        items.append(WorkItem("backup.unverified", N_("Newest backup not yet verified"), 1, "open('backup')", True))
    return items


# -- permission checks for commands that must close the database first --------------------------

def check_may(svc: Services, actor: Actor, permission: str, password: str | None = None) -> None:
    """Permission (and, when given, the password again) for restore or key rotation, which run with
    the database closed; the request itself is audited."""
    from crm_tui.services import staff

    svc.require(actor, permission)
    if password is not None and not staff.check_password(svc, actor, password, permission):
        raise PermissionDenied("The password is wrong; nothing was changed.")


# -- restore ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RestoreReport:
    restored: str
    taken_at: str
    safety_copy: str | None
    continuity: str  # new | continuous | diverged | ahead | newest | older | matches | unknown
    lost_entries: int
    key_changed: bool
    kept_aside: str | None = None  # a damaged or unreadable database, kept in the data folder
    compared_with: str | None = None  # the newest verified backup the trail was checked against
    reerased: int = 0  # customers erased again from the erasure ledger (R-CUST-13)


def restore_summary(report: RestoreReport, data_dir: Path) -> list[str]:
    """What a restore did, line by line, in the UI language: the CLI prints it, the damage screen
    (ui/damage.py) shows it."""
    lines = [_("Restored {name} (taken {at}).", name=report.restored, at=report.taken_at)]
    if report.safety_copy:
        lines.append(_("The database it replaced is kept as {name} in the backups folder.", name=report.safety_copy))
    if report.kept_aside:
        lines.append(_("The damaged database is kept as {name} in the data folder {folder}; nothing was deleted.",
                       name=report.kept_aside, folder=str(data_dir)))
    lines.append({
        "new": _("Audit trail: this folder had no database before."),
        "continuous": _("Audit trail continues: {n} newer entries are only in the safety copy.", n=report.lost_entries),
        "ahead": _("Audit trail continues: the backup is newer than the database it replaced."),
        "diverged": _("Audit trail DOES NOT continue the replaced database's (restored with --force).")
        if report.compared_with is None else
        _("Audit trail DOES NOT continue the newest verified backup {name} (restored with --force).",
          name=report.compared_with),
        "newest": _("Audit trail: the restored backup is the newest verified one ({name}); entries written "
                    "after it were only in the replaced database.", name=report.compared_with),
        "matches": _("Audit trail continues the newest verified backup {name}.", name=report.compared_with),
        "older": _("Audit trail continues the newest verified backup {name}, which has {n} newer entries.",
                   name=report.compared_with, n=report.lost_entries),
        "unknown": _("Audit trail: no verified backup to compare it with; continuity not checked."),
    }[report.continuity])
    if report.key_changed:
        lines.append(_("The keyring now holds the backup's key; the previous key is kept as a retired entry."))
    lines.append(_("Erasure ledger re-applied: {n} erased customers erased again.", n=report.reerased))
    return lines

def _head_hash(db_file: Path, key: bytes, at_id: int) -> tuple[int, str | None]:
    """(newest audit id, hash of row ``at_id``) of a database."""
    conn = db.raw_connect(db_file, key)
    try:
        return bq.audit_head(conn), bq.audit_hash(conn, at_id)
    finally:
        conn.close()


def _hash_at(path: Path, key: bytes, at_id: int) -> str | None:
    conn = store._read_only(path, key)
    try:
        return bq.audit_hash(conn, at_id)
    finally:
        conn.close()


def _newest_verified(data_dir: Path) -> store.BackupInfo | None:
    for b in reversed(store.list_backups(data_dir)):
        v = store.last_verification(b)
        if v is not None and not v[1] and b.manifest.get("audit_head"):
            return b
    return None


def _continuity_with_newest(data_dir: Path, key_store: keys.KeyStore, src: Path, info: store.BackupInfo,
                            key: bytes) -> tuple[str, int, str | None]:
    """With no readable database to compare with (damaged, unknown key, missing): does the backup's
    audit chain continue the newest verified backup's (its manifest's chain head)? Returns
    (continuity, entries only in that newer backup, its name)."""
    newest = _newest_verified(data_dir)
    if newest is None:
        return "unknown", 0, None
    if newest.path.resolve() == src:
        return "newest", 0, newest.path.name
    nh = newest.manifest["audit_head"]
    sh = info.manifest.get("audit_head") or {"id": 0, "hash": None}
    if int(sh["id"]) >= int(nh["id"]):
        same = _hash_at(src, key, int(nh["id"])) == nh["hash"]
        return ("matches" if same else "diverged"), 0, newest.path.name
    nkey = _candidate_key(paths.db_path(data_dir), newest, key_store) or key
    try:
        same = _hash_at(newest.path, nkey, int(sh["id"])) == sh["hash"]
    except CrmError:
        return "unknown", 0, newest.path.name
    return ("older" if same else "diverged"), int(nh["id"]) - int(sh["id"]), newest.path.name


def authority_from_backup(data_dir: Path, key_store: keys.KeyStore, path: Path | str, username: str,
                          password: str) -> tuple[str, int]:
    """Restoring over a damaged or missing database: the administrator's password is checked against
    the staff table of the backup being restored (its argon2 hash), never by signing in on the broken
    file. Returns (user name, staff id); PermissionDenied when the name, password or role is wrong."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    from crm_tui.domain.roles import permissions_of

    src = Path(path).expanduser().resolve()
    if not src.is_file():
        raise RestoreRefused("No backup file at {path}; nothing was changed.", path=str(src))
    info = store.read_backup(src)
    key = _candidate_key(paths.db_path(data_dir), info, key_store)
    if key is None:
        raise RestoreRefused(_NO_KEY)
    conn = store._read_only(src, key)
    try:
        row = bq.staff_login(conn, username.strip())
        roles = bq.staff_roles(conn, row[0]) if row else []
    except Exception:  # noqa: BLE001 - a backup too damaged to read: verification says why
        raise RestoreRefused("The backup {name} cannot be read; nothing was changed.", name=src.name) from None
    finally:
        conn.close()
    ok = False
    if row is not None and row[3]:
        try:
            ok = PasswordHasher().verify(row[2], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
    if not ok:
        raise PermissionDenied("Wrong user name or password, as the backup {name} has them; nothing was changed.",
                               name=src.name)
    if "backup.restore" not in permissions_of(roles):
        raise PermissionDenied("{user} may not restore backups (roles as the backup {name} has them); nothing "
                               "was changed.", user=row[1], name=src.name)
    return str(row[1]), int(row[0])


def live_state(data_dir: Path, key_store: keys.KeyStore) -> str:
    """``ok``, ``damaged``, ``wrong_key`` or ``missing``: may a restore sign in on the live file?"""
    db_file = paths.db_path(data_dir)
    if not db_file.exists():
        return "missing"
    if db.wal_damage(db_file):
        return "damaged"
    try:
        key = rotation.resolve_key(db_file, key_store)
    except CrmError:
        return "wrong_key"
    return db.diagnose(db_file, key, full=True).verdict


def restore(data_dir: Path, key_store: keys.KeyStore, path: Path | str, *, actor_name: str = "system",
            actor_id: int | None = None, code_key: bytes | None = None, allow_diverged: bool = False,
            now: datetime | None = None) -> RestoreReport:
    """``crm-tui restore FILE``: verify the copy first, refuse while the database is open elsewhere,
    keep the current database as a safety copy, check the audit chain continues, swap atomically,
    make the keyring hold the key that opens the restored file, and record the restore in its audit.

    A damaged database, or one the keyring's key does not open, is kept aside byte for byte
    (``damaged-<time>.db`` in the data folder, never deleted), and the audit chain is checked against
    the newest verified backup's chain head instead. On a new machine (no database yet)
    ``code_key`` is the key from the recovery code."""
    now = now or system_now()
    paths.ensure_private_dir(data_dir)
    db_file = paths.db_path(data_dir)
    src = Path(path).expanduser().resolve()
    if not src.is_file():
        raise RestoreRefused("No backup file at {path}; nothing was changed.", path=str(src))
    held = lock.exclusive(db_file)
    try:
        info = store.read_backup(src)
        key = code_key if code_key is not None else _candidate_key(db_file, info, key_store)
        if key is None:
            raise RestoreRefused(_NO_KEY)
        problems = store.verify_backup(info, key)
        if problems:
            raise RestoreRefused("The backup {name} failed verification ({problems}); nothing was changed.",
                                 name=src.name, problems="; ".join(store.problem_text(p) for p in problems))
        head = info.manifest.get("audit_head") or {"id": 0, "hash": None}
        live_key: bytes | None = None
        safety: str | None = None
        kept: str | None = None
        compared: str | None = None
        continuity, lost = "new", 0
        live_ledger: dict[str, datetime] = {}
        if db_file.exists():
            try:
                # a damaged -wal: not opened (an open drops its later changes), kept aside with the file
                live_key = None if db.wal_damage(db_file) else rotation.resolve_key(db_file, key_store)
            except CrmError:
                live_key = None
            if live_key is not None and db.diagnose(db_file, live_key, full=True).verdict != "ok":
                live_key = None  # damaged: not read, not copied page by page, kept as it is
            if live_key is not None:
                last, at_hash = _head_hash(db_file, live_key, int(head["id"]))
                if at_hash is not None and at_hash == head["hash"]:
                    continuity, lost = "continuous", last - int(head["id"])
                else:
                    # the backup may be newer than the live file (a restore of a later copy)
                    conn = db.raw_connect(src, key)
                    try:
                        at_last = bq.audit_hash(conn, last)
                    finally:
                        conn.close()
                    live_last_hash = _head_hash(db_file, live_key, last)[1]
                    continuity = "ahead" if at_last is not None and at_last == live_last_hash else "diverged"
            else:
                continuity, lost, compared = _continuity_with_newest(data_dir, key_store, src, info, key)
            if continuity == "diverged" and not allow_diverged:
                raise RestoreRefused(
                    "The backup's audit trail does not continue this database's (another database, or a "
                    "rewritten trail); nothing was changed. Give --force to restore it anyway.")
            if live_key is not None:
                safety = store.make_backup(db_file, live_key, reason="pre-restore", now=now).path.name
                live_ledger = _ledger_of(db_file, live_key)
            else:
                kept = _raw_safety_copy(db_file, now)
        else:
            continuity, lost, compared = _continuity_with_newest(data_dir, key_store, src, info, key)
            if continuity == "unknown":
                continuity = "new"
            if continuity == "diverged" and not allow_diverged:
                raise RestoreRefused(
                    "The backup's audit trail does not continue the newest verified backup's ({name}); "
                    "nothing was changed. Give --force to restore it anyway.", name=compared or "-")
        current = None
        try:
            current = key_store.get(db_file)
        except CrmError:
            if code_key is None:
                raise
        if current != key:
            key_store.check()
            if current is not None:
                key_store.put(rotation.retired_name(db_file, rotation.key_id(current)), current)
            key_store.put(rotation.pending_name(db_file), key)  # opens the file if the swap happened
        store.swap_in(db_file, src, key, live_key)
        if current != key:
            rotation.finish(db_file, key_store, key)
    finally:
        held.release()
    report = RestoreReport(src.name, str(info.manifest.get("taken_at", "-")), safety, continuity, lost,
                           current is not None and current != key, kept, compared)
    restored = db.open_store(data_dir, key_store)  # schema brought up to date (copy taken first)
    try:
        # a separate step after the swap: re-apply the erasure ledger, so an older backup never
        # brings an erased customer back (R-CUST-13, services/erasure.py)
        from crm_tui.services import erasure

        report = replace(report, reerased=erasure.reapply(restored, now=now, actor_name=actor_name,
                                                         extra=live_ledger))
        with restored.write() as s:
            audit_store.append(s, at=now, actor_id=None, actor_name=actor_name, action="backup.restore",
                               entity="backup", entity_id=src.name,
                               details={"taken_at": report.taken_at, "safety_copy": safety, "continuity": continuity,
                                        "entries_only_in_safety_copy": lost, "by_staff_id": actor_id,
                                        "key_changed": report.key_changed, "damaged_kept_as": kept,
                                        "compared_with": compared})
        assert restored.key is not None
        after = store.make_backup(restored.db_file, restored.key, reason="restored", now=now)
        store.record_verification(after, store.verify_backup(after, restored.key), now)
    finally:
        restored.close()
    return report


def _ledger_of(db_file: Path, key: bytes) -> dict[str, datetime]:
    from crm_tui.services import erasure

    conn = db.raw_connect(db_file, key)
    try:
        return erasure.raw_entries(conn)
    finally:
        conn.close()


def use_restore_approval(svc: Services, actor: Actor, path: Path | str, approval_id: int | None) -> int | None:
    """R-SEC-2: a restore by a signed-in person needs an approved request for this backup file
    (when the setting asks for it); the request is marked used in the current database, whose
    pre-restore safety copy keeps that record. The recovery-code restore (no usable database) is
    the break-glass path and cannot check a request."""
    from crm_tui.services import approvals

    with svc.write(actor) as tx:
        return approvals.use(tx, svc, "backup.restore", approval_id, Path(path).name)


def _raw_safety_copy(db_file: Path, now: datetime) -> str:
    """A live file that does not open or check (damaged, unknown key) is kept byte for byte, side
    files too, as ``damaged-<time>.db`` in the data folder: never deleted, never listed as a backup."""
    import shutil

    folder = db_file.parent
    name = f"damaged-{now:%Y%m%d-%H%M%S}.db"
    n = 1
    while (folder / name).exists():
        n += 1
        name = f"damaged-{now:%Y%m%d-%H%M%S}-{n}.db"
    for suffix in ("", *paths.SIDE_FILES):
        f = Path(str(db_file) + suffix)
        if f.exists():
            shutil.copy2(f, folder / (name + suffix))
            (folder / (name + suffix)).chmod(0o600)
    return name


# -- key rotation -------------------------------------------------------------------------------

@dataclass(frozen=True)
class RotateReport:
    old_id: str
    new_id: str
    before: str
    after: str


def rotate_key(data_dir: Path, key_store: keys.KeyStore, *, actor_name: str, actor_id: int | None,
               now: datetime | None = None) -> RotateReport:
    """``crm-tui key rotate``: a backup with the old key, then the crash-safe rotation (store.rotation),
    then a backup with the new key and the audit entry. Refuses while the database is open elsewhere."""
    now = now or system_now()
    db_file = paths.db_path(data_dir)
    db.load_key(db_file, key_store)
    key_store.check()
    held = lock.exclusive(db_file)
    try:
        old = rotation.resolve_key(db_file, key_store)
        before = store.make_backup(db_file, old, reason="pre-rotate", now=now)
        done = rotation.rotate(db_file, key_store)
    finally:
        held.release()
    st = db.open_store(data_dir, key_store, migrate=False)
    try:
        assert st.key is not None
        after = store.make_backup(st.db_file, st.key, reason="rotated", now=now)
        store.record_verification(after, store.verify_backup(after, st.key), now)
        with st.write() as s:
            audit_store.append(s, at=now, actor_id=actor_id, actor_name=actor_name, action="key.rotate",
                               details={"old_key": done.old_id, "new_key": done.new_id,
                                        "backup_before": before.path.name, "backup_after": after.path.name})
    finally:
        st.close()
    return RotateReport(done.old_id, done.new_id, before.path.name, after.path.name)


def rotation_state(data_dir: Path, key_store: keys.KeyStore) -> str:
    return rotation.state(paths.db_path(data_dir), key_store)


def finish_rotation(data_dir: Path, key_store: keys.KeyStore) -> str:
    """``crm-tui key rotate --finish``: complete an interrupted rotation (what opening does too)."""
    db_file = paths.db_path(data_dir)
    before = rotation.state(db_file, key_store)
    with lock.exclusive(db_file):
        rotation.resolve_key(db_file, key_store)
    return before

