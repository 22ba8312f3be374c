"""The encrypted database: one SQLCipher 4 file opened through SQLAlchemy with sqlcipher3.

Opening never changes a file it could not open: a wrong or missing key is reported and the file is
left byte for byte as it was. Schema upgrades run on open, after an encrypted copy is taken.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlcipher3.dbapi2 as sqlcipher

from crm_tui.clock import system_now
from crm_tui.domain.errors import CrmError, DatabaseBusy
from crm_tui.i18n import N_
from crm_tui.store import paths
from crm_tui.store.keys import KeyMissing, KeyStore, new_key

if TYPE_CHECKING:  # SQLAlchemy is imported when the engine is first needed (see Store.engine)
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

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


class Store:
    """An open database: the engine and the ways to use it. Services own transactions through it.

    Opening (``open_store``) checks the key, the lock and the schema with plain sqlcipher3
    connections; the SQLAlchemy engine is made on first use, so the app can show its login
    screen before importing SQLAlchemy (~0.25 s of CPU, most of a cold start)."""

    def __init__(self, db_file: Path, engine: Engine | None = None, key_store_name: str = "",
                 lock: object | None = None, key: bytes | None = None, *, pool: str = "queue") -> None:
        self.db_file = db_file
        self._engine = engine
        self.key_store_name = key_store_name
        self.lock = lock  # the shared flock on crm.db.lock (store.lock), released on close
        self.key = key  # for backups of this open database
        self._pool = pool
        # how long a write waits for the lock (set before first use); CRM_TUI_BUSY_TIMEOUT_MS overrides
        self.busy_ms = _env_busy_ms() or BUSY_TIMEOUT_MS
        self._engine_lock = threading.Lock()
        self._watch: Any = None  # the connection that reads PRAGMA data_version (data_changed)
        self._watch_version: int | None = None
        self._watch_lock = threading.Lock()
        self.stamp_on_close = False  # set by open_store, which checked the file (store/pagecheck.py)
        if engine is None and key is None:
            raise ValueError("a Store needs an engine or the key to make one")

    def __repr__(self) -> str:
        return f"Store(db_file={self.db_file!r}, key_store_name={self.key_store_name!r})"

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    assert self.key is not None
                    self._engine = make_engine(self.db_file, self.key, pool=self._pool, busy_ms=self.busy_ms)
        return self._engine

    @engine.setter
    def engine(self, value: Engine) -> None:
        self._engine = value

    @contextmanager
    def read(self) -> Iterator[Session]:
        from sqlalchemy.orm import Session

        try:
            with Session(self.engine, expire_on_commit=False) as session:
                with session.begin():
                    yield session
        except Exception as e:
            if is_busy(e):
                raise busy_error(self) from e
            raise

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction, BEGIN IMMEDIATE so concurrent writers queue instead of failing.

        When another process holds the write lock past ``busy_ms`` (or a statement meets a lock)
        the transaction is rolled back and :class:`DatabaseBusy` raised: every caller (form saves,
        sign-in's audit row, commands) gets the same clear, retryable error."""
        from sqlalchemy.orm import Session

        try:
            with self.engine.connect() as conn:
                conn.execution_options(crm_begin="IMMEDIATE")
                with Session(bind=conn, expire_on_commit=False) as session:
                    with session.begin():
                        yield session
        except Exception as e:
            if is_busy(e):
                raise busy_error(self) from e
            raise

    def data_changed(self) -> bool:
        """Whether another connection (another process, or this one's pool) committed since the
        last call: ``PRAGMA data_version`` on a connection of its own, as the number is per
        connection. The first call only takes the reading and answers False."""
        with self._watch_lock:
            if self._watch is None:
                raw = self.engine.raw_connection()
                raw.detach()  # owned here, not returned to the pool
                self._watch = raw
            version = int(self._watch.cursor().execute("PRAGMA data_version").fetchone()[0])
            changed = self._watch_version is not None and version != self._watch_version
            self._watch_version = version
            return changed

    def close(self) -> None:
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
        if self._engine is not None:
            self._engine.dispose()
        paths.tighten_file_modes(self.db_file)
        if self.lock is not None:
            self.lock.release()  # type: ignore[attr-defined]
            self.lock = None
            if self.stamp_on_close:
                self._stamp_if_last()

    def _stamp_if_last(self) -> None:
        """The last process to close the database records the file as it left it (store/pagecheck.py):
        the next open skips the check of every page when nothing else changed the file since."""
        from crm_tui.store import lock, pagecheck

        try:
            alone = lock.exclusive(self.db_file)
        except (CrmError, OSError):  # another process has it open: it stamps when it closes
            return
        try:
            pagecheck.write_stamp(self.db_file)
        finally:
            alone.release()


def _env_busy_ms() -> int | None:
    raw = os.environ.get("CRM_TUI_BUSY_TIMEOUT_MS", "")
    return int(raw) if raw.isdigit() else None


def is_busy(exc: BaseException) -> bool:
    """SQLite's SQLITE_BUSY / SQLITE_LOCKED, raw or wrapped by SQLAlchemy."""
    orig = getattr(exc, "orig", None) or exc
    if not isinstance(orig, sqlcipher.OperationalError):
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (5, 6):  # SQLITE_BUSY, SQLITE_LOCKED (extended codes too)
        return True
    text_ = str(orig).lower()
    return "database is locked" in text_ or "database is busy" in text_ or "database table is locked" in text_


def busy_error(store: Store) -> DatabaseBusy:
    """The error for a write that could not get the lock, naming a running import if one is
    marked in ``import_batch`` (read without waiting: WAL readers are not blocked by a writer)."""
    running = None
    try:
        conn = raw_connect(store.db_file, store.key, timeout_s=0.2) if store.key else None
        if conn is not None:
            try:
                running = conn.execute(
                    "SELECT file, started_by, started_at FROM import_batch WHERE state = 'running'"
                    " ORDER BY id DESC LIMIT 1").fetchone()
            finally:
                conn.close()
    except Exception:  # noqa: BLE001 - an older schema or a locked read: the generic message
        running = None
    if running:
        return DatabaseBusy(
            "Another import is writing to the database ({file}, started by {user} at {at}). Nothing was "
            "saved yet and your entries are kept: save again in a moment to retry.",
            file=running[0], user=running[1] or "-", at=str(running[2])[11:16])
    return DatabaseBusy(
        "The database is busy: another program (an import, a backup or a command) is writing to it. Nothing "
        "was saved yet and your entries are kept: save again in a moment to retry.")


def _new_database(db_file: Path, key: bytes) -> None:
    """Create an empty encrypted file. The key is already safely stored by the caller."""
    silence_sqlcipher_log()
    old_umask = os.umask(0o077)
    try:
        conn = sqlcipher.connect(str(db_file), isolation_level=None)
        try:
            conn.execute(_key_pragma(key))
            conn.execute("PRAGMA cipher_page_size = 4096")
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            conn.execute("PRAGMA user_version = 1")  # writes page 1: the file exists, encrypted
        finally:
            conn.close()
    finally:
        os.umask(old_umask)
    paths.tighten_file_modes(db_file)


def create_database(data_dir: Path, keys: KeyStore) -> Path:
    """``crm-tui init``: a new key into the keyring first, then a new encrypted file.

    Refuses when a database file already exists (a new key must never replace the one that opens
    it), and creates nothing when the keyring cannot take the key.
    """
    db_file = paths.db_path(data_dir)
    if db_file.exists():
        raise DatabaseExists("A database already exists at {path}; nothing was changed.", path=str(db_file))
    keys.check()
    paths.ensure_private_dir(data_dir)
    if keys.get(db_file) is not None:
        raise DatabaseExists(
            "The keyring already holds a key for {path} but the file is missing. Restore the file "
            "from a backup (crm-tui restore) instead of creating a new one; nothing was changed.",
            path=str(db_file),
        )
    key = new_key()
    keys.put(db_file, key)
    _new_database(db_file, key)
    return db_file


def load_key(db_file: Path, keys: KeyStore) -> bytes:
    if not db_file.exists():
        raise DatabaseMissing(
            "No database at {path}. Run 'crm-tui init' to create one, or 'crm-tui demo' to try the app.",
            path=str(db_file),
        )
    keys.check()
    key = keys.get(db_file)
    if key is None:
        raise KeyMissing(
            "The keyring ({backend}) holds no key for {path}. The file was not changed. Restore the key "
            "from the sealed recovery code with 'crm-tui key import', then try again.",
            backend=keys.describe(),
            path=str(db_file),
        )
    return key


def open_store(data_dir: Path, keys: KeyStore, *, migrate: bool = True, pool: str = "queue") -> Store:
    """Open the database in ``data_dir``: key from the keyring, verified, schema upgraded."""
    from crm_tui.store import lock, rotation

    db_file = paths.db_path(data_dir)
    current = load_key(db_file, keys)  # clear messages for a missing file or key
    # Alone (no other process has it open): a -wal left is a crashed process's, checked (~0.15 s per
    # MB) before an open applies it; and every page's HMAC is checked unless the file is as the last
    # process left it (store/pagecheck.py). While others have it open, their log is live and sound.
    try:
        alone = lock.exclusive(db_file)
    except lock.DatabaseInUse:
        alone = None
    if alone is not None:
        from crm_tui.store import pagecheck

        try:
            if Path(str(db_file) + "-wal").exists():
                refuse_damaged_wal(db_file)
            problems = pagecheck.check_at_open(db_file, current)
            if problems:
                err = DatabaseDamaged(DAMAGED_FILE, pages=_failing_pages(problems), path=str(db_file))
                err.diagnosis = Diagnosis("damaged", _failing_pages(problems), tuple(problems))  # type: ignore[attr-defined]
                raise err
        finally:
            alone.release()
    held = lock.shared(db_file)
    try:
        try:
            key = rotation.resolve_key(db_file, keys)  # current key, or finishes an interrupted rotation
        except WrongKey:
            damaged_or(db_file, current, full=False)  # a damaged first page is not a wrong key
            raise
        if migrate:
            from crm_tui.store.migrate import upgrade

            try:
                upgrade(db_file, key)
            except sqlcipher.DatabaseError as e:
                if not is_damage(e):
                    raise
                damaged_or(db_file, key, full=True)
                raise
    except BaseException:
        held.release()
        raise
    paths.tighten_file_modes(db_file)
    store = Store(db_file=db_file, key_store_name=keys.describe(), lock=held, key=key, pool=pool)
    store.stamp_on_close = True  # the last to close it records the file as sound (store/pagecheck.py)
    return store


def open_with_key(db_file: Path, key: bytes, *, migrate: bool = True, pool: str = "queue") -> Store:
    """Open with a key in hand (tests, demo without keyring, restore checks)."""
    from crm_tui.store import lock

    held = lock.shared(Path(db_file))
    try:
        raw_connect(db_file, key).close()
        if migrate:
            from crm_tui.store.migrate import upgrade

            upgrade(db_file, key)
    except BaseException:
        held.release()
        raise
    return Store(db_file=Path(db_file).resolve(), key_store_name="memory", lock=held, key=key, pool=pool)


def copy_encrypted(conn: sqlcipher.Connection, target: Path) -> Path:
    """A consistent, encrypted (same key) copy of the open database, taken while others write.

    A copy that fails (a damaged page, a full disk) leaves no ``.part`` / ``.part-journal`` behind;
    a damaged source is said as DatabaseDamaged."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(target.name + ".part")
    if tmp.exists():
        tmp.unlink()
    old_umask = os.umask(0o077)
    try:
        conn.execute("VACUUM INTO ?", (str(tmp),))
    except BaseException as e:
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            leftover.unlink(missing_ok=True)
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
    return target


DAMAGED_COPY = N_("The database file is damaged: a page fails its check while it is copied. No backup was made.")
_DAMAGE_WORDS = ("malformed", "not a database", "disk image", "corrupt", "hmac")
PAGE_SIZE = 4096
_RESERVE = 80  # SQLCipher 4: a 16-byte IV and a 64-byte HMAC-SHA512 at the end of each page
_HMAC_SIZE = 64


def is_damage(exc: BaseException) -> bool:
    """A driver error that means a damaged file (not a busy lock, not a full disk)."""
    return isinstance(exc, sqlcipher.DatabaseError) and any(w in str(exc).lower() for w in _DAMAGE_WORDS)


def page_count(db_file: Path) -> int:
    return Path(db_file).stat().st_size // PAGE_SIZE


def pages_that_check(db_file: Path, key: bytes, pages: list[int]) -> dict[int, bool]:
    """Whether each page's HMAC checks with ``key``, read straight from the file (SQLCipher 4
    defaults: HMAC-SHA512 over the page's ciphertext and IV and its number, little-endian, with a
    key derived from the raw key and the file's salt). Needs no working page 1: it tells a wrong
    key (no page checks) from a damaged first page (the others check)."""
    import hashlib
    import hmac

    out: dict[int, bool] = {}
    with Path(db_file).open("rb") as fh:
        salt = fh.read(16)
        if len(salt) < 16:
            return {p: False for p in pages}
        hkey = hashlib.pbkdf2_hmac("sha512", key, bytes(b ^ 0x3A for b in salt), 2, 32)
        for pg in pages:
            fh.seek((pg - 1) * PAGE_SIZE)
            page = fh.read(PAGE_SIZE)
            if len(page) < PAGE_SIZE:
                out[pg] = False
                continue
            body = page[16 if pg == 1 else 0:PAGE_SIZE - _HMAC_SIZE]
            mac = hmac.new(hkey, body + pg.to_bytes(4, "little"), hashlib.sha512).digest()
            out[pg] = hmac.compare_digest(mac, page[PAGE_SIZE - _HMAC_SIZE:])
    return out


@dataclass(frozen=True)
class Diagnosis:
    """What is wrong with a database file, for ``doctor``, the app's start, backup and restore.

    ``verdict``: ``ok``; ``wrong_key`` (page 1 does not decrypt and no other page checks with the
    key); ``damaged`` (the key is right - page 1 or other pages check - but a page or the structure
    fails); ``missing``."""

    verdict: str
    pages: tuple[int, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"


def _failing_pages(messages: list[str]) -> tuple[int, ...]:
    import re

    found = sorted({int(m.group(1)) for t in messages for m in [re.search(r"page (\d+)", t)] if m})
    return tuple(found)


def diagnose(db_file: Path, key: bytes, *, full: bool = True) -> Diagnosis:
    """Open the file with ``key`` and check it; never raises for a damaged or foreign file and never
    changes it beyond what opening does (a -wal is applied by SQLite as on every open).

    ``full``: run ``cipher_integrity_check`` (every page's HMAC) and ``integrity_check`` too; without
    it only page 1 and the schema are read (what every open does)."""
    db_file = Path(db_file)
    if not db_file.exists():
        return Diagnosis("missing")
    n = page_count(db_file)
    if n == 0:
        return Diagnosis("damaged", (1,), ("the file is shorter than one page",))
    try:
        conn = raw_connect(db_file, key)
    except WrongKey:
        sample = [p for p in (2, 3, 4, 5, n // 2, n - 1, n) if 1 < p <= n]
        checks = pages_that_check(db_file, key, [1, *dict.fromkeys(sample)])
        if checks.get(1):  # page 1 is sound, the schema on later pages is not
            bad = tuple(p for p, good in checks.items() if not good)
            return Diagnosis("damaged", bad, ("the schema does not read",))
        if any(checks.values()):
            return Diagnosis("damaged", (1,), ("page 1 does not decrypt, other pages do",))
        return Diagnosis("wrong_key")
    try:
        if not full:
            return Diagnosis("ok")
        try:
            cipher = [r[0] for r in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
        except sqlcipher.DatabaseError as e:
            cipher = [str(e)]
        try:
            plain = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            plain = [p for p in plain if p != "ok"]
        except sqlcipher.DatabaseError as e:
            plain = [str(e)]
        problems = cipher + plain
        if problems:
            return Diagnosis("damaged", _failing_pages(cipher), tuple(problems))
        return Diagnosis("ok")
    finally:
        conn.close()


def wal_damage(db_file: Path) -> tuple[int, int] | None:
    """(first bad frame, frames) when the -wal file beside the database is damaged: a frame fails its
    checksum and a later commit frame of the same log follows it. SQLite would stop at the bad frame
    and drop every change committed after it - silently - and the next close deletes the log. A bad
    frame at the end (a write torn by a crash) is normal and is not reported. Reads only."""
    import struct

    wal = Path(str(db_file) + "-wal")
    try:
        data = wal.read_bytes()
    except OSError:
        return None
    if len(data) < 32:
        return None
    magic, _version, page_size, _seq, salt1, salt2, c1, c2 = struct.unpack(">8I", data[:32])
    if magic not in (0x377F0682, 0x377F0683) or page_size < 512:
        return None
    word = struct.Struct(">2I" if magic == 0x377F0683 else "<2I")

    def checksum(chunk: bytes, s0: int, s1: int) -> tuple[int, int]:
        for x0, x1 in word.iter_unpack(chunk):
            s0 = (s0 + x0 + s1) & 0xFFFFFFFF
            s1 = (s1 + x1 + s0) & 0xFFFFFFFF
        return s0, s1

    if checksum(data[:24], 0, 0) != (c1, c2):
        return None  # an unused or reset log: SQLite ignores it
    size = 24 + page_size
    frames = (len(data) - 32) // size
    s0, s1 = c1, c2
    for i in range(frames):
        off = 32 + i * size
        pgno, commit, f1, f2, k1, k2 = struct.unpack(">6I", data[off:off + 24])
        if (f1, f2) != (salt1, salt2):
            return None  # the rest is an older log's
        s0, s1 = checksum(data[off:off + 8] + data[off + 24:off + size], s0, s1)
        if (s0, s1) != (k1, k2):
            for j in range(i + 1, frames):
                o = 32 + j * size
                _p, later_commit, g1, g2 = struct.unpack(">4I", data[o:o + 16])
                if (g1, g2) == (salt1, salt2) and later_commit:
                    return i + 1, frames
            return None
    return None


def keep_damaged_wal(db_file: Path, now: datetime) -> Path:
    """A copy of a damaged -wal in the data folder (``crm.db-wal.damaged-<time>``), before anything
    opens the database (an open applies what it can and the close deletes the log)."""
    import shutil

    wal = Path(str(db_file) + "-wal")
    target = wal.with_name(f"{wal.name}.damaged-{now:%Y%m%d-%H%M%S}")
    if not target.exists():
        shutil.copy2(wal, target)
        os.chmod(target, 0o600)
    return target


def refuse_damaged_wal(db_file: Path) -> None:
    """Before an open: a damaged -wal is kept aside and said as DatabaseDamaged (nothing opened)."""
    found = wal_damage(db_file)
    if found is None:
        return
    kept = keep_damaged_wal(db_file, system_now())
    err = DatabaseDamaged(DAMAGED_WAL, path=str(db_file), frame=found[0], frames=found[1], kept=kept.name)
    err.diagnosis = Diagnosis("damaged", (), (f"wal:{found[0]}/{found[1]}", f"kept:{kept.name}"))  # type: ignore[attr-defined]
    raise err


DAMAGED_WAL = N_("The write-ahead log of {path} (its -wal file) is damaged at frame {frame} of {frames}: changes "
                 "committed after it cannot be applied. A copy is kept as {kept}; the database was not opened.")


def damaged_or(db_file: Path, key: bytes, *, full: bool) -> None:
    """Raise DatabaseDamaged (with the diagnosis) when the file is damaged; else return."""
    d = diagnose(db_file, key, full=full)
    if d.verdict == "damaged":
        err = DatabaseDamaged(DAMAGED_FILE, pages=d.pages, path=str(db_file))
        err.diagnosis = d  # type: ignore[attr-defined]
        raise err


DAMAGED_FILE = N_("The database file {path} is damaged; the key is right. Nothing was changed.")


def integrity_checks(conn: sqlcipher.Connection) -> tuple[list[str], list[str]]:
    """(cipher_integrity_check problems, integrity_check problems): empty lists when all is well."""
    cipher = [r[0] for r in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
    plain = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    return cipher, [p for p in plain if p != "ok"]


def scalar(store: Store, sql: str, **params: object) -> object:
    from sqlalchemy import text

    with store.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def adapt(value: object) -> object:
    """``value`` as the driver binds it (a datetime becomes its registered adapter's text): a bulk
    writer converts a value it writes on every row once."""
    return sqlcipher.adapt(value)


def dbapi_connection(session: Session | object) -> Any:
    """The DB-API connection under the session's transaction: per-keystroke queries and bulk
    writers skip the ORM. A DB-API connection (from ``search_index.reader``) is used as it is.

    Looked up once per transaction (kept in ``session.info`` with the transaction it belongs to):
    the lookup through the session costs about as much as a small query, and a search runs three.
    A later transaction of the same session may hold another connection, so it looks up again."""
    from sqlalchemy.orm import Session

    if not isinstance(session, Session):
        return session
    tx = session.get_transaction()
    cached = session.info.get("_crm_raw")
    if tx is not None and cached is not None and cached[0] is tx:
        return cached[1]
    conn = session.connection().connection.driver_connection
    session.info["_crm_raw"] = (session.get_transaction(), conn)
    return conn


def executemany(session: Session, sql: str, rows: list[tuple[object, ...]]) -> None:
    """DB-API ``executemany`` of positional rows (``?`` placeholders) on the session's own
    connection, inside its transaction: bulk writers (imports) skip SQLAlchemy's per-row parameter
    processing, ~17 % of an import's write. Values go to the driver as SQLAlchemy's ``text()``
    passes them (untyped), so the stored values are the same."""
    if rows:
        dbapi_connection(session).executemany(sql, rows)


def checkpoint_truncate(store: Store) -> tuple[int, int, int]:
    """``PRAGMA wal_checkpoint(TRUNCATE)``: copy the WAL into the file and empty it, so old page
    images (erased data) do not linger in the WAL. Returns SQLite's (busy, log pages, checkpointed)."""
    raw = store.engine.raw_connection()
    try:
        row = raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        raw.close()
    return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)
