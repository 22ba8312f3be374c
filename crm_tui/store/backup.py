"""Encrypted backup copies with a manifest (R-SEC-5): make, list, verify, prune, restore.

A backup is ``VACUUM INTO`` of the open database: one consistent snapshot taken while others write,
encrypted with the database key (the same key, so the recovery code of ``crm-tui key export``
opens it on any machine). Beside it, ``<name>.json`` is the manifest (time, schema version, row
counts, audit chain head, key id, SHA-256, size) and ``<name>.verified.json`` the latest result of
verifying it. Every file is 0600 in a 0700 folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from crm_tui.i18n import N_
from crm_tui.store import paths
from crm_tui.store.db import copy_encrypted, raw_connect
from crm_tui.store.rotation import key_id


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    manifest: dict

    @property
    def taken_at(self) -> datetime:
        return datetime.fromisoformat(self.manifest["taken_at"])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_backup(db_file: Path, key: bytes, *, reason: str, dest: Path | None = None,
                now: datetime | None = None, check_source: bool = False) -> BackupInfo:
    """An encrypted copy and its manifest. ``check_source``: first check every page's HMAC of the
    database (``cipher_integrity_check``, ~0.5 s per 100 MB): a damaged database is refused
    (DatabaseDamaged) instead of copied - a copy rebuilds indexes, so it can succeed on a file whose
    damage sits in an index page, and the damage would go unnoticed."""
    now = now or datetime.now()
    dest = dest or paths.backups_dir(db_file.parent)
    paths.ensure_private_dir(dest)
    name = f"crm-{now:%Y%m%d-%H%M%S}-{reason}.db"
    target = dest / name
    n = 1
    while target.exists():  # two backups in one second (a pre-import copy right after the daily one)
        n += 1
        target = dest / f"crm-{now:%Y%m%d-%H%M%S}-{reason}-{n}.db"
    conn = raw_connect(db_file, key)
    try:
        if check_source:
            _refuse_damaged(db_file, conn)
        copy_encrypted(conn, target)
    finally:
        conn.close()
    copy = raw_connect(target, key)  # the manifest describes the copy itself: one consistent snapshot
    try:
        tables = [r[0] for r in copy.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        counts = {t: copy.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        version = copy.execute("SELECT version_num FROM alembic_version").fetchone() if "alembic_version" in tables else None
        head = copy.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone() if "audit_log" in tables else None
    finally:
        copy.close()
    manifest = {
        "format": 1,
        "taken_at": now.isoformat(timespec="seconds"),
        "reason": reason,
        "source": str(db_file),
        "schema_version": version[0] if version else None,
        "row_counts": counts,
        "audit_head": {"id": head[0], "hash": head[1]} if head else None,
        "key_id": key_id(key),
        "sha256": _sha256(target),
        "size": target.stat().st_size,
    }
    mpath = target.with_suffix(".json")
    old_umask = os.umask(0o077)
    try:
        mpath.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    finally:
        os.umask(old_umask)
    return BackupInfo(target, manifest)


def _refuse_damaged(db_file: Path, conn) -> None:  # type: ignore[no-untyped-def]
    import sqlcipher3.dbapi2 as sqlcipher

    from crm_tui.store.db import DAMAGED_FILE, DatabaseDamaged, Diagnosis, _failing_pages

    try:
        bad = [r[0] for r in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
    except sqlcipher.DatabaseError as e:
        bad = [str(e)]
    if bad:
        err = DatabaseDamaged(DAMAGED_FILE, pages=_failing_pages(bad), path=str(db_file))
        err.diagnosis = Diagnosis("damaged", _failing_pages(bad), tuple(bad))  # type: ignore[attr-defined]
        raise err


def list_backups(data_dir: Path) -> list[BackupInfo]:
    folder = paths.backups_dir(data_dir)
    found = []
    if folder.is_dir():
        for m in folder.glob("crm-*.json"):
            db = m.with_suffix(".db")
            if db.exists():
                try:
                    found.append(BackupInfo(db, json.loads(m.read_text(encoding="utf-8"))))
                except (ValueError, OSError):
                    continue
    return sorted(found, key=lambda b: (b.manifest.get("taken_at", ""), b.path.stat().st_mtime_ns, b.path.name))


PROBLEMS = {
    "checksum": N_("the file's checksum differs from its manifest"),
    "open": N_("it does not open with the key"),
    "cipher_integrity": N_("the encrypted pages fail their check"),
    "integrity": N_("the database structure is damaged"),
    "manifest": N_("it has no readable manifest"),
    "audit_head": N_("its audit chain head differs from the manifest"),
    "audit_chain": N_("its audit chain is broken"),
}


def problem_text(code: str) -> str:
    from crm_tui.i18n import _

    if code.startswith("rows:"):
        return _("row count of {table} differs from the manifest", table=code[5:])
    return _(PROBLEMS[code]) if code in PROBLEMS else code


def verify_backup(info: BackupInfo, key: bytes) -> list[str]:
    """Problems found in one backup (empty when it is sound): checksum against the manifest,
    ``cipher_integrity_check`` (every page's HMAC), ``integrity_check``, row counts and the audit
    chain (intact, and ending at the manifest's head). The copy is opened read-only: verifying
    never changes it."""
    problems = []
    if not info.manifest:
        problems.append("manifest")
    elif _sha256(info.path) != info.manifest.get("sha256"):
        problems.append("checksum")
    try:
        conn = _read_only(info.path, key)
    except Exception:  # noqa: BLE001 - any failure to open is a finding, reported by name
        return problems + ["open"]
    try:
        try:
            if conn.execute("PRAGMA cipher_integrity_check").fetchall():
                problems.append("cipher_integrity")
        except Exception:  # noqa: BLE001 - a page too damaged to read is a failed check
            problems.append("cipher_integrity")
        try:
            if [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()] != ["ok"]:
                problems.append("integrity")
        except Exception:  # noqa: BLE001
            problems.append("integrity")
        if problems:
            return problems
        for table, expected in info.manifest.get("row_counts", {}).items():
            try:
                got = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            except Exception:  # noqa: BLE001 - a table the manifest names is gone
                got = None
            if got != expected:
                problems.append(f"rows:{table}")
        head = info.manifest.get("audit_head")
        if head:
            row = conn.execute("SELECT hash FROM audit_log WHERE id = ?", (head["id"],)).fetchone()
            last = conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
            if row is None or row[0] != head["hash"] or last != head["id"]:
                problems.append("audit_head")
        if _has_table(conn, "audit_log") and not _chain_ok(conn):
            problems.append("audit_chain")
    finally:
        conn.close()
    return problems


def _has_table(conn, name: str) -> bool:  # type: ignore[no-untyped-def]
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


def _read_only(path: Path, key: bytes):  # type: ignore[no-untyped-def]
    import sqlcipher3.dbapi2 as sqlcipher

    from crm_tui.store.db import WrongKey, _key_pragma, silence_sqlcipher_log

    silence_sqlcipher_log()
    conn = sqlcipher.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None,
                             check_same_thread=False)
    try:
        conn.execute(_key_pragma(key))
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError:
        conn.close()
        raise WrongKey("The key does not open {path}: it is the wrong key, or the file is not a crm-tui database. "
                       "The file was not changed.", path=str(path)) from None
    return conn


def _chain_ok(conn) -> bool:  # type: ignore[no-untyped-def]
    """The audit chain of a raw connection, checked with the same code as ``crm-tui audit verify``."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import StaticPool

    from crm_tui.store import audit as audit_store

    engine = create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)
    try:
        with Session(engine) as s:
            return audit_store.verify(s).first_broken is None
    finally:
        engine.dispose(close=False)


def read_backup(path: Path) -> BackupInfo:
    """A backup file and its manifest (an empty manifest when none sits beside it)."""
    path = Path(path)
    mpath = path.with_suffix(".json")
    manifest: dict = {}
    if mpath.is_file():
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            manifest = {}
    return BackupInfo(path, manifest)


def _private_write(path: Path, text: str) -> None:
    old_umask = os.umask(0o077)
    try:
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        os.umask(old_umask)


def record_verification(info: BackupInfo, problems: list[str], at: datetime) -> None:
    _private_write(info.path.with_suffix(".verified.json"),
                   json.dumps({"at": at.isoformat(timespec="seconds"), "problems": problems}))


def last_verification(info: BackupInfo) -> tuple[datetime, list[str]] | None:
    try:
        data = json.loads(info.path.with_suffix(".verified.json").read_text(encoding="utf-8"))
        return datetime.fromisoformat(data["at"]), list(data["problems"])
    except (OSError, ValueError, KeyError):
        return None


def remove_backup(info: BackupInfo) -> None:
    for p in (info.path, info.path.with_suffix(".json"), info.path.with_suffix(".verified.json")):
        p.unlink(missing_ok=True)


def to_prune(backups: list[BackupInfo], keep_daily: int, keep_monthly: int) -> list[BackupInfo]:
    """Backups outside the retention: kept are the newest backup of each of the last ``keep_daily``
    days that have one, the newest of each of the last ``keep_monthly`` months, and always the
    newest backup of all. Safety copies (reason ``pre-...``: before a restore, rotation, import) do
    not stand for their day; they are kept while they fall within the kept days."""
    newest = sorted(backups, key=lambda b: b.manifest.get("taken_at", ""), reverse=True)
    keep: set[Path] = set()
    if newest:
        keep.add(newest[0].path)

    def safety(b: BackupInfo) -> bool:
        return str(b.manifest.get("reason", "")).startswith("pre-")

    days: dict[str, BackupInfo] = {}
    months: dict[str, BackupInfo] = {}
    for b in newest:
        if safety(b):
            continue
        t = b.manifest.get("taken_at", "")
        days.setdefault(t[:10], b)
        months.setdefault(t[:7], b)
    kept_days = list(days)[:max(0, keep_daily)]
    for d in kept_days:
        keep.add(days[d].path)
    for b in list(months.values())[:max(0, keep_monthly)]:
        keep.add(b.path)
    oldest_day = min(kept_days) if kept_days else ""
    for b in newest:  # safety copies live as long as the daily window they fall in
        if safety(b) and b.manifest.get("taken_at", "")[:10] >= oldest_day:
            keep.add(b.path)
    return [b for b in newest if b.path not in keep]


def swap_in(db_file: Path, source: Path, key: bytes, live_key: bytes | None) -> None:
    """Put a verified copy in place of the database, atomically. The caller holds the exclusive lock
    and has taken a safety copy. The live database is first checkpointed (its WAL emptied) so no
    stale ``-wal`` can ever be applied to the new file; then one ``rename`` swaps the files."""
    import shutil

    tmp = db_file.with_name(db_file.name + ".restore-part")
    tmp.unlink(missing_ok=True)
    old_umask = os.umask(0o077)
    try:
        shutil.copyfile(source, tmp)
    finally:
        os.umask(old_umask)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    raw_connect(tmp, key).close()  # the copy in place opens with the key it will be used with
    if db_file.exists() and live_key is not None:
        try:
            conn = raw_connect(db_file, live_key)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            conn.close()
        except Exception:  # noqa: BLE001 - a damaged live file: its side files are set aside below
            pass
    for suffix in ("-wal", "-shm", "-journal"):
        side = Path(str(db_file) + suffix)
        if side.exists():
            side.replace(side.with_name(side.name + ".before-restore"))
    os.replace(tmp, db_file)
    dfd = os.open(db_file.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    os.chmod(db_file, 0o600)

