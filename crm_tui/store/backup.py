"""Encrypted backup copies with a manifest (R-SEC-5): make, list, verify, prune, restore.

A backup is one consistent snapshot of the open database taken while others write
(store.connection.copy_database: the file's encrypted bytes under a snapshot that pins them, or
SQLite's online backup API page by page), encrypted with the database key and its cipher settings
(the same key, so the recovery code of ``crm-tui key export`` opens it on any machine). Beside it, ``<name>.json`` is the manifest (time, schema version,
row counts, audit chain head, key id, SHA-256, size) and ``<name>.verified.json`` the latest result
of verifying it. Every file is 0600 in a 0700 folder. Manifest format 2 (issue 22) is format 1 whose
``row_counts`` leave out the tables of UNCOUNTED; code that reads format 1 reads it as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from crm_tui.clock import system_now, system_seconds
from crm_tui.i18n import N_
from crm_tui.store import paths
from crm_tui.store.audit_sql import HASH_HEX
from crm_tui.store.connection import DIGEST_PREFIX, copy_database, file_digest
from crm_tui.store.db import DAMAGED_COPY, DatabaseDamaged, WrongKey, is_damage, raw_connect
from crm_tui.store.rotation import key_id


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    manifest: dict

    @property
    def taken_at(self) -> datetime:
        return datetime.fromisoformat(self.manifest["taken_at"])


def _sha256(path: Path) -> str:
    """The file's plain SHA-256: the checksum of manifests written before issue 22's piecewise one."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _checksum_matches(path: Path, expected: object) -> bool:
    """The manifest's ``sha256`` against the file: the piecewise checksum (connection.file_digest,
    with its prefix) or, in older manifests, the plain SHA-256."""
    if not isinstance(expected, str):
        return False
    if expected.startswith(DIGEST_PREFIX):
        return file_digest(path) == expected
    return _sha256(path) == expected


def make_backup(db_file: Path, key: bytes, *, reason: str, dest: Path | None = None,
                now: datetime | None = None, check_source: bool = False,
                progress: Callable[[int, int, int], object] | None = None) -> BackupInfo:
    """An encrypted copy (store.connection.copy_database: one snapshot, the same key, no rebuild)
    and its manifest, which describes the copy itself.

    ``check_source`` (the administrator's and the day's first backup): every page's HMAC is checked
    (``cipher_integrity_check``, about 0.4 s of CPU per 100 MB): of the copy when it holds the file's
    bytes as they are (the source's pages, checked without a second read of the database), during
    the copy otherwise. A damaged database is refused (DatabaseDamaged, with the failing pages, never
    a wrong key) and no copy is kept; so is one whose damage surfaces while the manifest is read.
    Without it, a damaged page is found by the verification that follows every backup of the services
    (services.backup._take). ``progress``: see copy_database."""
    now = now or system_now()
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
        copied = copy_database(conn, target, key, progress=progress)
    except DatabaseDamaged:
        conn.close()
        _refuse_damaged(db_file, key)  # which pages fail: raises with them
        raise
    finally:
        conn.close()
    try:
        copy = _read_only(target, key)
        try:
            if check_source and not copied.checked:
                _refuse_damaged(db_file, key, copy)  # the copy's pages are the source's, byte for byte
            counts, version, head = _facts(copy)
        finally:
            copy.close()
    except BaseException as e:
        target.unlink(missing_ok=True)
        if isinstance(e, DatabaseDamaged):
            raise
        if is_damage(e) or isinstance(e, WrongKey):  # a damaged page 1 of the copy: the source's
            _refuse_damaged(db_file, key)
            raise DatabaseDamaged(DAMAGED_COPY) from None
        raise
    manifest = {
        "format": 2,
        "taken_at": now.isoformat(timespec="seconds"),
        "reason": reason,
        "source": str(db_file),
        "schema_version": version[0] if version else None,
        "row_counts": counts,
        "audit_head": {"id": head[0], "hash": head[1]} if head else None,
        "key_id": key_id(key),
        "sha256": copied.sha256 or file_digest(target),
        "size": target.stat().st_size,
        "copy": copied.method,  # "file": the file's bytes under a pinned snapshot; "pages": the backup API
    }
    mpath = target.with_suffix(".json")
    old_umask = os.umask(0o077)
    try:
        mpath.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    finally:
        os.umask(old_umask)
    return BackupInfo(target, manifest)


# Tables a manifest does not count (issue 22, item 5): at 1M customers their ``count(*)`` decrypts
# ~50M rows of pages (the search index's 34M terms; audit_value's 16M values, the whole table once its
# customer index goes), as much CPU as the rest of the backup's reading. A count adds no check there:
# verification compares counts only once the file's SHA-256 matches its manifest (the same bytes, so
# the same rows); its integrity checks read every page of these tables and its audit chain check every
# audit value. search_term is derived (store.search_index rebuilds it from the customers).
UNCOUNTED = ("audit_value", "search_term")


def _facts(conn) -> tuple[dict[str, int], tuple | None, tuple | None]:  # type: ignore[no-untyped-def]
    """What a manifest says of a database: the row count of every table but UNCOUNTED (exact:
    ``count(*)``), the schema version row and the audit chain's last (id, hash) row."""
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables if t not in UNCOUNTED}
    version = conn.execute("SELECT version_num FROM alembic_version").fetchone() if "alembic_version" in tables else None
    head = conn.execute(f"SELECT id, {HASH_HEX} FROM audit_log ORDER BY id DESC LIMIT 1").fetchone() if "audit_log" in tables else None
    return counts, version, head


QUIET_ACTIONS = ("backup.%", "auth.%")  # audited, but change no business data


def identical_backup(data_dir: Path, db_file: Path, key: bytes) -> BackupInfo | None:
    """The newest verified backup in the data folder that holds what a new copy would: the database's
    audit chain runs through the backup's chain head (same row, same hash), and every entry after it
    is a backup or sign-in entry (every change of data is audited), with the same schema version."""
    found = [b for b in reversed(list_backups(data_dir)) if b.manifest.get("audit_head") and _verified_ok(b)]
    if not found:
        return None
    conn = raw_connect(db_file, key)
    try:
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        version = version[0] if version else None
        for b in found:
            head = b.manifest["audit_head"]
            if b.manifest.get("schema_version") != version:
                continue
            row = conn.execute(f"SELECT {HASH_HEX} FROM audit_log WHERE id = ?", (int(head["id"]),)).fetchone()
            if row is None or row[0] != head["hash"]:
                continue
            later = conn.execute(
                "SELECT count(*) FROM audit_log WHERE id > ? AND NOT (action LIKE ? OR action LIKE ?)",
                (int(head["id"]), *QUIET_ACTIONS)).fetchone()[0]
            if later == 0:
                return b
            return None  # older backups are older still
    finally:
        conn.close()
    return None


PART_MIN_AGE_S = 600  # a .part younger than this may be a copy another process is still writing


@dataclass(frozen=True)
class Leftovers:
    """What killed or failed backups leave in the backups folder (issue 17)."""

    parts: tuple[Path, ...]  # unfinished copies: ``.part`` and its ``-journal``, ``-wal``, ``-shm``
    orphans: tuple[Path, ...]  # ``crm-*.db`` without a manifest

    def __bool__(self) -> bool:
        return bool(self.parts or self.orphans)


def leftovers(data_dir: Path, *, min_age_s: float = PART_MIN_AGE_S) -> Leftovers:
    folder = paths.backups_dir(data_dir)
    if not folder.is_dir():
        return Leftovers((), ())
    now = system_seconds()  # the age of a file on disk, not business time
    parts = []
    for f in sorted([*folder.glob("*.part"), *folder.glob("*.part-journal"), *folder.glob("*.part-wal"),
                     *folder.glob("*.part-shm"), *data_dir.glob("*.restore-part")]):
        try:
            if now - f.stat().st_mtime >= min_age_s:
                parts.append(f)
        except OSError:
            continue
    orphans = tuple(sorted(f for f in folder.glob("crm-*.db") if not f.with_suffix(".json").exists()))
    return Leftovers(tuple(parts), orphans)


@dataclass(frozen=True)
class Tidied:
    removed: tuple[str, ...]  # unfinished copies removed
    adopted: tuple[str, ...]  # orphans that open and check: a manifest was written
    kept: tuple[str, ...]  # orphans that do not open or check: kept and reported, never deleted


def tidy(data_dir: Path, key: bytes, now: datetime, *, min_age_s: float = PART_MIN_AGE_S) -> Tidied:
    """At start: remove unfinished copies (``.part``: a copy is renamed into place only when complete),
    adopt an orphan backup that opens with the key and passes both integrity checks (its manifest is
    written, reason ``adopted``), and keep any other orphan as it is, for the caller to report."""
    found = leftovers(data_dir, min_age_s=min_age_s)
    removed, adopted, kept = [], [], []
    for f in found.parts:
        f.unlink(missing_ok=True)
        removed.append(f.name)
    for f in found.orphans:
        if _adopt(f, key, now):
            adopted.append(f.name)
        else:
            kept.append(f.name)
    return Tidied(tuple(removed), tuple(adopted), tuple(kept))


def _adopt(path: Path, key: bytes, now: datetime) -> bool:
    try:
        conn = _read_only(path, key)
    except Exception:  # noqa: BLE001 - another key, or not a database: kept and reported
        return False
    try:
        try:
            if conn.execute("PRAGMA cipher_integrity_check").fetchall():
                return False
            if [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()] != ["ok"]:
                return False
        except Exception:  # noqa: BLE001
            return False
        counts, version, head = _facts(conn)
        chain_ok = _chain_ok(conn) if "audit_log" in counts else True
    finally:
        conn.close()
    if not chain_ok:
        return False
    taken = datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0)
    manifest = {
        "format": 2, "taken_at": taken.isoformat(timespec="seconds"), "reason": "adopted", "source": "",
        "schema_version": version[0] if version else None, "row_counts": counts,
        "audit_head": {"id": head[0], "hash": head[1]} if head else None, "key_id": key_id(key),
        "sha256": file_digest(path), "size": path.stat().st_size,
    }
    _private_write(path.with_suffix(".json"), json.dumps(manifest, ensure_ascii=False, indent=2))
    record_verification(BackupInfo(path, manifest), [], now)
    return True


def _refuse_damaged(db_file: Path, key: bytes, conn=None) -> None:  # type: ignore[no-untyped-def]
    """Raise DatabaseDamaged (with the failing pages and a diagnosis) when a page of ``conn`` (by
    default a fresh connection to the database; or a byte-for-byte copy of it) fails its HMAC."""
    import sqlcipher3.dbapi2 as sqlcipher

    from crm_tui.store.db import DAMAGED_FILE, Diagnosis, _failing_pages

    own = conn is None
    if own:
        conn = raw_connect(db_file, key)
    try:
        try:
            bad = [r[0] for r in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
        except sqlcipher.DatabaseError as e:
            bad = [str(e)]
    finally:
        if own:
            conn.close()
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
    elif not _checksum_matches(info.path, info.manifest.get("sha256")):
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
            row = conn.execute(f"SELECT {HASH_HEX} FROM audit_log WHERE id = ?", (head["id"],)).fetchone()
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
    # immutable: a copy of the file's bytes says WAL in its header; read-only, it must leave no -wal/-shm
    conn = sqlcipher.connect(Path(path).resolve().as_uri() + "?mode=ro&immutable=1", uri=True, isolation_level=None,
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


SAFETY_DAYS = 30  # pre-restore and pre-rotation safety copies are kept at least this long
LONG_SAFETY = ("pre-restore", "pre-rotate")
KEEP_RULES = ("newest", "manual", "safety", "daily", "monthly")  # the order ``backup list`` names them


def _verified_ok(b: BackupInfo) -> bool:
    v = last_verification(b)
    return v is not None and not v[1]


def keep_reasons(backups: list[BackupInfo], keep_daily: int, keep_monthly: int,
                 now: datetime | None = None) -> dict[Path, list[str]]:
    """Every backup -> the retention rules that keep it (an empty list: outside the retention).

    - ``newest``: the newest verified backup (the newest of all while none is verified) is always kept;
    - ``manual``: an administrator's backup is deleted only by an explicit ``backup delete``;
    - ``safety``: a copy taken before a restore or a key rotation is kept ``SAFETY_DAYS`` days at least,
      other safety copies (``pre-...``: before an import) while they fall within the kept days;
    - ``daily`` / ``monthly``: the newest automatic backup of each of the last ``keep_daily`` days and
      ``keep_monthly`` months. Manual backups and safety copies do not stand for their day, so an
      automatic backup never pushes a manual one out."""
    # newest first; within one second the later of list_backups' order (stable sort of the reversed list)
    newest = sorted(reversed(backups), key=lambda b: b.manifest.get("taken_at", ""), reverse=True)
    reasons: dict[Path, list[str]] = {b.path: [] for b in newest}
    if not newest:
        return reasons
    now = now or datetime.fromisoformat(newest[0].manifest["taken_at"])
    verified = [b for b in newest if _verified_ok(b)]
    reasons[(verified or newest)[0].path].append("newest")

    def reason(b: BackupInfo) -> str:
        return str(b.manifest.get("reason", ""))

    days: dict[str, BackupInfo] = {}
    months: dict[str, BackupInfo] = {}
    for b in newest:
        if reason(b) == "manual":
            reasons[b.path].append("manual")
            continue
        if reason(b).startswith("pre-"):
            continue
        t = b.manifest.get("taken_at", "")
        days.setdefault(t[:10], b)
        months.setdefault(t[:7], b)
    kept_days = list(days)[:max(0, keep_daily)]
    for d in kept_days:
        reasons[days[d].path].append("daily")
    for b in list(months.values())[:max(0, keep_monthly)]:
        reasons[b.path].append("monthly")
    oldest_day = min(kept_days) if kept_days else ""
    for b in newest:
        if not reason(b).startswith("pre-"):
            continue
        age_days = (now - b.taken_at).total_seconds() / 86400 if b.manifest.get("taken_at") else 0
        if reason(b) in LONG_SAFETY and age_days < SAFETY_DAYS:
            reasons[b.path].append("safety")
        elif b.manifest.get("taken_at", "")[:10] >= oldest_day:
            reasons[b.path].append("safety")
    return reasons


def to_prune(backups: list[BackupInfo], keep_daily: int, keep_monthly: int,
             now: datetime | None = None) -> list[BackupInfo]:
    """Backups outside the retention (see keep_reasons), newest first."""
    reasons = keep_reasons(backups, keep_daily, keep_monthly, now)
    newest = sorted(reversed(backups), key=lambda b: b.manifest.get("taken_at", ""), reverse=True)
    return [b for b in newest if not reasons[b.path]]


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

