"""Schema upgrades on open: Alembic, batch mode, one transaction, an encrypted copy first."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from crm_tui.store import paths

_SCRIPTS = Path(__file__).parent / "migrations"


class ForeignKeyViolation(Exception):
    """A migration left a row pointing at nothing; the whole upgrade is rolled back."""


def alembic_config(connection=None) -> Config:  # type: ignore[no-untyped-def]
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current_revision(conn) -> str | None:  # type: ignore[no-untyped-def]
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(db_file: Path, key: bytes) -> str | None:
    """Bring the file to the newest schema. Returns the path of the pre-upgrade copy, if one was made.

    The upgrade runs in a single transaction: a failure rolls back every step, and the copy taken
    before it stays beside the database in ``backups/``.
    """
    from crm_tui.domain.errors import CrmError
    from crm_tui.store.db import MigrationFailed, copy_encrypted, make_engine, raw_connect

    head = head_revision()
    engine = make_engine(db_file, key, pool="null")
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
        if current == head:
            return None
        backup: Path | None = None
        has_tables = current is not None
        if has_tables:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            target = paths.backups_dir(db_file.parent) / f"pre-upgrade-{current}-{stamp}.db"
            raw = raw_connect(db_file, key)
            try:
                copy_encrypted(raw, target)
            finally:
                raw.close()
            backup = target
        try:
            with engine.connect() as conn:
                # SQLite ignores PRAGMA foreign_keys inside a transaction, and Alembic's batch mode
                # drops and re-creates tables that others reference: switch the checks off before
                # BEGIN, and check every reference once, before COMMIT, instead.
                conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
                conn.execution_options(crm_begin="IMMEDIATE")
                with conn.begin():
                    command.upgrade(alembic_config(conn), "head")
                    if conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                        raise ForeignKeyViolation
        except CrmError:
            raise
        except Exception as exc:
            raise MigrationFailed(
                "The schema upgrade from {current} to {head} failed ({reason}); the database was left "
                "as it was. A copy taken before the upgrade is at {backup}.",
                current=current or "-",
                head=head,
                reason=type(exc).__name__,
                backup=str(backup) if backup else "-",
            ) from exc
        return str(backup) if backup else None
    finally:
        engine.dispose()
