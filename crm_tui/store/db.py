"""The encrypted database: one SQLCipher 4 file opened through SQLAlchemy with sqlcipher3.

Opening never changes a file it could not open: a wrong or missing key is reported and the file is
left byte for byte as it was. Schema upgrades run on open, after an encrypted copy is taken.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlcipher3.dbapi2 as sqlcipher

from crm_tui.domain.errors import CrmError
from crm_tui.store import paths
from crm_tui.store.keys import KeyMissing, KeyStore, new_key

if TYPE_CHECKING:  # SQLAlchemy is imported when the engine is first needed (see Store.engine)
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

BUSY_TIMEOUT_MS = 30_000
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


def _configure(conn: sqlcipher.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL").fetchone()
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.execute("PRAGMA temp_store = MEMORY")


def make_engine(db_file: Path, key: bytes, *, pool: str = "queue") -> Engine:
    """An engine whose every connection is keyed, verified and configured before first use."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool, QueuePool

    db_file = Path(db_file).resolve()

    def creator() -> sqlcipher.Connection:
        conn = raw_connect(db_file, key)
        _configure(conn)
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
        self._engine_lock = threading.Lock()
        self._watch: Any = None  # the connection that reads PRAGMA data_version (data_changed)
        self._watch_version: int | None = None
        self._watch_lock = threading.Lock()
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
                    self._engine = make_engine(self.db_file, self.key, pool=self._pool)
        return self._engine

    @engine.setter
    def engine(self, value: Engine) -> None:
        self._engine = value

    @contextmanager
    def read(self) -> Iterator[Session]:
        from sqlalchemy.orm import Session

        with Session(self.engine, expire_on_commit=False) as session:
            with session.begin():
                yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction, BEGIN IMMEDIATE so concurrent writers queue instead of failing."""
        from sqlalchemy.orm import Session

        with self.engine.connect() as conn:
            conn.execution_options(crm_begin="IMMEDIATE")
            with Session(bind=conn, expire_on_commit=False) as session:
                with session.begin():
                    yield session

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
    load_key(db_file, keys)  # clear messages for a missing file or key
    held = lock.shared(db_file)
    try:
        key = rotation.resolve_key(db_file, keys)  # current key, or finishes an interrupted rotation
        if migrate:
            from crm_tui.store.migrate import upgrade

            upgrade(db_file, key)
    except BaseException:
        held.release()
        raise
    paths.tighten_file_modes(db_file)
    return Store(db_file=db_file, key_store_name=keys.describe(), lock=held, key=key, pool=pool)


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
    """A consistent, encrypted (same key) copy of the open database, taken while others write."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(target.name + ".part")
    if tmp.exists():
        tmp.unlink()
    old_umask = os.umask(0o077)
    try:
        conn.execute("VACUUM INTO ?", (str(tmp),))
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

