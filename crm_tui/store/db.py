"""The encrypted database: one SQLCipher 4 file opened through SQLAlchemy with sqlcipher3.

Opening never changes a file it could not open: a wrong or missing key is reported and the file is
left byte for byte as it was. Schema upgrades run on open, after an encrypted copy is taken.

Connecting (keys, errors, the engine, encrypted copies) is in ``store/connection.py`` and telling
damage from a wrong key in ``store/damage.py``; their names are importable from here as before.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlcipher3.dbapi2 as sqlcipher

from crm_tui.domain.errors import CrmError, DatabaseBusy
from crm_tui.store import paths
from crm_tui.store.connection import (  # the names below are re-exported: importable from store.db as before
    _DAMAGE_WORDS,
    APP_BUSY_TIMEOUT_MS,
    BUSY_TIMEOUT_MS,
    CACHE_KIB,
    DAMAGED_COPY,
    DatabaseDamaged,
    DatabaseExists,
    DatabaseMissing,
    MigrationFailed,
    WrongKey,
    _configure,
    _key_pragma,
    copy_encrypted,
    is_damage,
    make_engine,
    raw_connect,
    silence_sqlcipher_log,
)
from crm_tui.store.damage import (
    _HMAC_SIZE,
    _RESERVE,
    DAMAGED_FILE,
    DAMAGED_WAL,
    PAGE_SIZE,
    Diagnosis,
    _failing_pages,
    damaged_or,
    diagnose,
    integrity_checks,
    keep_damaged_wal,
    page_count,
    pages_that_check,
    refuse_damaged_wal,
    wal_damage,
)
from crm_tui.store.keys import KeyMissing, KeyStore, new_key

if TYPE_CHECKING:  # SQLAlchemy is imported when the engine is first needed (see Store.engine)
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session


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
