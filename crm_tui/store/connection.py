"""Connecting to the encrypted file: SQLCipher 4 through sqlcipher3, keyed and verified, and the
SQLAlchemy engine over such connections; the errors of opening and copying one.

The bottom of the storage layer: ``db`` (the open Store), ``migrate``, ``rotation`` and ``damage``
build on it and it imports none of them (no import cycle).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlcipher3.dbapi2 as sqlcipher

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import N_

if TYPE_CHECKING:  # SQLAlchemy is imported when the engine is first needed (see Store.engine)
    from sqlalchemy import Engine


BUSY_TIMEOUT_MS = 30_000
# The app waits less than a command: a desk save that cannot get the write lock in 5 s says so
# (DatabaseBusy, with who holds it) and keeps the form, instead of a frozen screen. Imports write
# in transactions of well under a second (services/importing.py), so the wait is normally short.
APP_BUSY_TIMEOUT_MS = 5_000
# Page cache per pooled connection. Measured at 1M customers (benchmarks/results/NOTES.md): 32 MiB
# keeps every search type's p95 as with 64 MiB (all under 3.5 ms), while two pooled connections
# with 64 MiB each put the app at 234 MiB RSS (over the 200 MB target) and with 32 MiB at 168 MiB.
CACHE_KIB = 32_768
_log_silenced = threading.Lock()
_silenced = False


class DatabaseMissing(CrmError):
    exit_code = 13


class WrongKey(CrmError):
    exit_code = 14


class DatabaseExists(CrmError):
    exit_code = 15


class MigrationFailed(CrmError):
    exit_code = 16


class DatabaseDamaged(CrmError):
    """The key is right but pages of the file fail their check (issue 17): damage, not a wrong key.
    ``pages`` are the pages whose HMAC fails, when known. Nothing was changed."""

    exit_code = 19

    def __init__(self, msgid: str, /, *, pages: tuple[int, ...] = (), **params: object) -> None:
        super().__init__(msgid, **params)
        self.pages = pages


def silence_sqlcipher_log() -> None:
    """SQLCipher logs decrypt failures to stderr, which would draw over the TUI: turn that off.

    The setting is process-wide, so it is set once, before the first key is tried.
    """
    global _silenced
    with _log_silenced:
        if not _silenced:
            conn = sqlcipher.connect(":memory:")
            try:
                conn.execute("PRAGMA cipher_log_level = NONE")
            finally:
                conn.close()
            _silenced = True


def _key_pragma(key: bytes) -> str:
    return "PRAGMA key = \"x'" + key.hex() + "'\""


def raw_connect(db_file: Path, key: bytes, *, timeout_s: float = BUSY_TIMEOUT_MS / 1000) -> sqlcipher.Connection:
    """A bare DB-API connection, keyed and verified. Raises WrongKey and touches nothing on failure."""
    silence_sqlcipher_log()
    uri = Path(db_file).resolve().as_uri() + "?mode=rw"
    conn = sqlcipher.connect(uri, uri=True, timeout=timeout_s, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(_key_pragma(key))
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError:
        conn.close()
        raise WrongKey(
            "The key does not open {path}: it is the wrong key, or the file is not a crm-tui database. "
            "The file was not changed.",
            path=str(db_file),
        ) from None
    return conn


def _configure(conn: sqlcipher.Connection, busy_ms: int = BUSY_TIMEOUT_MS) -> None:
    conn.execute("PRAGMA journal_mode = WAL").fetchone()
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.execute("PRAGMA temp_store = MEMORY")
    # deleted content is overwritten, not left in free pages (R-CUST-13: an erasure must hold)
    conn.execute("PRAGMA secure_delete = ON")


def make_engine(db_file: Path, key: bytes, *, pool: str = "queue", busy_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    """An engine whose every connection is keyed, verified and configured before first use."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool, QueuePool

    db_file = Path(db_file).resolve()

    def creator() -> sqlcipher.Connection:
        conn = raw_connect(db_file, key, timeout_s=busy_ms / 1000)
        _configure(conn, busy_ms)
        return conn

    engine = create_engine(
        "sqlite://",
        module=sqlcipher,
        creator=creator,
        poolclass=QueuePool if pool == "queue" else NullPool,
        # LIFO: the same warm connection serves one reader after another, instead of every pooled
        # connection filling its own page cache with the same pages (benchmarks/results/NOTES.md)
        **({"pool_size": 4, "max_overflow": 4, "pool_use_lifo": True} if pool == "queue" else {}),
    )

    @event.listens_for(engine, "begin")
    def _begin(conn):  # type: ignore[no-untyped-def]
        mode = conn.get_execution_options().get("crm_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


DAMAGED_COPY = N_("The database file is damaged: a page fails its check while it is copied. No backup was made.")
_DAMAGE_WORDS = ("malformed", "not a database", "disk image", "corrupt", "hmac")


def is_damage(exc: BaseException) -> bool:
    """A driver error that means a damaged file (not a busy lock, not a full disk)."""
    return isinstance(exc, sqlcipher.DatabaseError) and any(w in str(exc).lower() for w in _DAMAGE_WORDS)


# Pages a step of an online backup (4 MiB): between steps the copying thread lets go of SQLite, and a
# progress hook (tests, a progress bar) runs. Writers never wait for a step in WAL mode (see below).
PAGES_PER_STEP = 1024
_PART_SUFFIXES = ("", "-journal", "-wal", "-shm")


def _remove_part(tmp: Path) -> None:
    for suffix in _PART_SUFFIXES:
        Path(str(tmp) + suffix).unlink(missing_ok=True)


@dataclass(frozen=True)
class Copied:
    path: Path
    sha256: str | None  # the checksum (file_digest) of the file as written, when the copy computed it on its way
    method: str  # "file" (the pinned file's bytes) or "pages" (the online backup API)
    checked: bool  # every page's HMAC checked during the copy


def copy_encrypted(conn: sqlcipher.Connection, target: Path, key: bytes, *, pages: int | None = None,
                   progress: Callable[[int, int, int], object] | None = None) -> Path:
    """A consistent, encrypted (same key) copy of the open database, taken while others write; see
    copy_database (the pre-upgrade copy of store.migrate). A failed copy leaves no ``.part``."""
    return copy_database(conn, target, key, pages=pages, progress=progress).path


def copy_database(conn: sqlcipher.Connection, target: Path, key: bytes, *, pages: int | None = None,
                  progress: Callable[[int, int, int], object] | None = None) -> Copied:
    """A consistent copy of the open database, taken while others write (issue 22): one snapshot,
    the same key and cipher settings, no rebuild of tables and indexes (as ``VACUUM INTO`` did).

    The source holds one read transaction for the whole copy, so the copy is the state when it
    began. In WAL mode (every crm-tui file) a reader never blocks a writer: a save at a desk during
    a backup commits at once, and the backup neither restarts nor includes it (the next one has it).

    - ``file`` (the usual way; the kernel copies the bytes, as ``cp`` does): under a brief write lock (writers wait for a
      checkpoint of the log, not for the copy) the log is checkpointed into the file and the snapshot
      begins with nothing in the log. Such a reader reads the file alone, and no checkpoint may write
      to the file until it ends (SQLite's wal.c: a checkpoint needs the exclusive ``WAL_READ_LOCK(0)``
      this reader holds shared). So the file's bytes are the snapshot: they are copied as they are
      (encrypted, the same key: nothing decrypted or encrypted again), hashed on the way. Pages are
      not checked here: the caller's ``cipher_integrity_check`` of the copy checks the source's bytes.
    - ``pages`` (when the log cannot be emptied - a long reader still needs it - or the file is not in
      WAL mode): SQLite's online backup API, ``pages`` a step (PAGES_PER_STEP), into a file keyed with
      the same key and settings; see _backup_pages.

    A copy that fails (damage, a full disk, an error of ``progress``) leaves no ``.part`` file or side
    file behind; a finished copy is fsynced and renamed into place."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(target.name + ".part")
    _remove_part(tmp)
    old_umask = os.umask(0o077)
    try:
        try:
            digest = _pinned_copy(conn, key, tmp, progress)
            copied = Copied(target, digest, "file", False) if digest else None
            if copied is None:
                _backup_pages(conn, tmp, key, pages, progress)
                copied = Copied(target, None, "pages", True)
        except BaseException as e:
            _remove_part(tmp)
            if isinstance(e, sqlcipher.DatabaseError) and is_damage(e):
                raise DatabaseDamaged(DAMAGED_COPY) from None
            raise
    finally:
        os.umask(old_umask)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    os.chmod(target, 0o600)
    return copied


CHUNK = 8 << 20  # bytes a step of the file copy


def _pinned_copy(conn: sqlcipher.Connection, key: bytes, tmp: Path,
                 progress: Callable[[int, int, int], object] | None) -> str | None:
    """The file's bytes under a snapshot that pins them (see copy_database); its SHA-256, or None
    when the log cannot be emptied (or the file is not in WAL mode): nothing was written then."""
    if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        return None
    db_file = Path(next(r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"))
    lock = raw_connect(db_file, key, timeout_s=APP_BUSY_TIMEOUT_MS / 1000)
    try:
        try:
            lock.execute("BEGIN IMMEDIATE")  # no commit between the checkpoint and the snapshot
        except sqlcipher.OperationalError:  # a long write: the page-by-page copy needs no write lock
            return None
        try:
            busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if busy or log != done:
                return None
            conn.execute("BEGIN")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot: the file alone
        finally:
            lock.execute("ROLLBACK")
    finally:
        lock.close()
    try:
        size = int(conn.execute("PRAGMA page_count").fetchone()[0]) * int(conn.execute("PRAGMA page_size").fetchone()[0])
        with ThreadPoolExecutor(1) as pool:  # the checksum on the other core while the kernel copies
            digest = pool.submit(file_digest, db_file, size)
            _copy_bytes(db_file, tmp, size, progress)
            return digest.result()
    finally:
        conn.execute("COMMIT")


#: A backup's checksum (issue 22): the SHA-256 of the SHA-256s of its 64 MiB pieces, in order, written
#: with this prefix. The pieces are hashed on two threads (hashlib and file reads release the GIL), so
#: the checksum no longer waits on one core: a plain SHA-256 of a 4.5 GB file takes ~3 s of one core,
#: longer than twice ``cp`` of it. As strong as a SHA-256 of the file (a collision of the list is a
#: collision of SHA-256). Manifests without the prefix hold the file's plain SHA-256 (store.backup).
DIGEST_PREFIX = "sha256/64MiB:"
PIECE = 64 << 20
DIGEST_THREADS = 2


def file_digest(path: Path, size: int | None = None) -> str:
    """The checksum of the first ``size`` bytes of ``path`` (all of it by default); see DIGEST_PREFIX."""
    import hashlib

    size = path.stat().st_size if size is None else size
    pieces = max(1, -(-size // PIECE))

    def piece(i: int) -> bytes:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            f.seek(i * PIECE)
            left = min(PIECE, size - i * PIECE)
            while left > 0:
                chunk = f.read(min(CHUNK, left))
                if not chunk:
                    raise OSError(f"{path} ended {left} bytes early")
                h.update(chunk)
                left -= len(chunk)
        return h.digest()

    with ThreadPoolExecutor(DIGEST_THREADS) as pool:
        digests = list(pool.map(piece, range(pieces)))
    return DIGEST_PREFIX + hashlib.sha256(b"".join(digests)).hexdigest()


def _writeback() -> Callable[[int, int, int, int], int] | None:
    """libc's ``sync_file_range`` (Linux), or None."""
    try:
        import ctypes

        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError, TypeError):  # no such call (macOS), no CDLL(None) (Windows)
        return None
    fn.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    fn.restype = ctypes.c_int
    return fn  # type: ignore[no-any-return]


_SYNC_FILE_RANGE = _writeback()
_SYNC_FILE_RANGE_WRITE = 2


def _start_writeback(fd: int, offset: int, n: int) -> None:
    """Start writing a copied chunk to disk without waiting for it (``sync_file_range``), so the
    fsync at the end has little left to wait for; a no-op where there is no such call."""
    if _SYNC_FILE_RANGE is not None:
        _SYNC_FILE_RANGE(fd, offset, n, _SYNC_FILE_RANGE_WRITE)  # a failure only leaves it to the fsync


def _copy_bytes(src_path: Path, dst_path: Path, size: int, progress: Callable[[int, int, int], object] | None) -> None:
    """The first ``size`` bytes, in the kernel (``copy_file_range``, as ``cp`` does) where it can."""
    with open(src_path, "rb") as src, open(dst_path, "wb") as dst:
        done = step = 0
        in_kernel = hasattr(os, "copy_file_range")
        while done < size:
            n = min(CHUNK, size - done)
            if in_kernel:
                try:
                    n = os.copy_file_range(src.fileno(), dst.fileno(), n, done, done)
                except OSError:  # another file system, an old kernel: through this process
                    in_kernel = False
                    continue
            else:
                src.seek(done)
                dst.seek(done)
                n = dst.write(src.read(n))
            if n <= 0:
                raise OSError(f"{src_path} ended {size - done} bytes early")
            _start_writeback(dst.fileno(), done, n)
            done += n
            step += 1
            if progress is not None:
                progress((size - done) // 4096, size // 4096, step)


def _backup_pages(conn: sqlcipher.Connection, tmp: Path, key: bytes, pages: int | None,
                  progress: Callable[[int, int, int], object] | None) -> None:
    """SQLite's online backup API, in steps, under one held snapshot (a file in rollback-journal mode
    is copied in one step: a held reader blocks its writers for the whole copy either way).

    A page that fails SQLCipher's check (HMAC) does not fail the backup step: SQLCipher hands the copy
    a zeroed page (measured: the step returns DONE). So every page of the file is checked first
    (``cipher_integrity_check``), in the same snapshot, and the source is asked once more after the
    copy: a damaged source is said as DatabaseDamaged with its failing pages, never as a wrong key."""
    dst: sqlcipher.Connection | None = None
    in_snapshot = False
    steps = [0]

    def hook(status: int, remaining: int, total: int) -> None:
        steps[0] += 1
        if progress is not None:
            progress(remaining, total, steps[0])

    try:
        dst = sqlcipher.connect(str(tmp), isolation_level=None, check_same_thread=False)
        dst.execute(_key_pragma(key))
        for (setting,) in conn.execute("PRAGMA cipher_settings").fetchall():  # the source's, so pages fit
            dst.execute(setting)
        dst.execute("PRAGMA journal_mode = OFF")  # a new file: on failure it is removed, not rolled back
        dst.execute("PRAGMA synchronous = OFF")  # one fsync at the end
        wal = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal"
        conn.execute("BEGIN")
        in_snapshot = True
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts here
        bad = [str(r[0]) for r in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
        if bad:  # "... page N ..." as store.damage._failing_pages reads them
            raise DatabaseDamaged(DAMAGED_COPY, pages=tuple(sorted(
                {int(m.group(1)) for t in bad for m in [re.search(r"page (\d+)", t)] if m})))
        conn.backup(dst, pages=(pages or PAGES_PER_STEP) if wal else -1, progress=hook)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a damaged page failed the source
        conn.execute("COMMIT")
        in_snapshot = False
        # the copied header says WAL (as the source); a backup opened read-only must leave no -wal/-shm
        dst.execute("PRAGMA journal_mode = DELETE").fetchone()
    finally:
        if in_snapshot:
            try:
                conn.execute("ROLLBACK")
            except sqlcipher.Error:
                pass
        if dst is not None:
            dst.close()
