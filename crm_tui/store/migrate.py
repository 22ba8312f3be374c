"""Schema upgrades on open: Alembic, batch mode, one transaction, an encrypted copy first.

Alembic (and with it Mako, the SQLAlchemy dialects and every migration script) costs ~0.15 s of
CPU to import, more than the rest of opening a database. An up-to-date file - the normal start -
is recognised without it: the head revision is read from the scripts' ``revision`` and
``down_revision`` lines (``quick_head``; a test checks it against Alembic's answer) and compared
with the file's ``alembic_version`` row. Alembic is imported only when an upgrade is due.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from crm_tui.clock import system_now
from crm_tui.store import paths
from crm_tui.store.upgrade_notes import UpgradeNotes

if TYPE_CHECKING:
    from alembic.config import Config

_SCRIPTS = Path(__file__).parent / "migrations"
_REV_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(?:['\"]([^'\"]*)['\"]|None)\s*$", re.M)


class ForeignKeyViolation(Exception):
    """A migration left a row pointing at nothing; the whole upgrade is rolled back."""


def alembic_config(connection=None) -> Config:  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def quick_head() -> str | None:
    """The head revision without importing Alembic: the one revision no script names as its
    ``down_revision``. None when the scripts do not say it plainly (a merge point, several heads,
    a computed id): the caller then asks Alembic."""
    revs: set[str] = set()
    downs: set[str] = set()
    for f in (_SCRIPTS / "versions").glob("*.py"):
        found = dict((k, v) for k, v in _REV_LINE.findall(f.read_text(encoding="utf-8")))
        if "revision" not in found or "down_revision" not in found:
            return None
        revs.add(found["revision"])
        if found["down_revision"]:
            downs.add(found["down_revision"])
    heads = revs - downs
    return heads.pop() if len(heads) == 1 else None


def stored_revision(conn) -> str | None:  # type: ignore[no-untyped-def]
    """The file's revision with one plain query (DB-API connection); None when unmigrated or
    when the table holds several heads."""
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except Exception:  # noqa: BLE001 - an unmigrated file has no version table
        return None
    return rows[0][0] if len(rows) == 1 else None


def is_current(db_file: Path, key: bytes) -> bool:
    """True when the file is at the scripts' head, decided without Alembic."""
    from crm_tui.store.connection import raw_connect

    head = quick_head()
    if head is None:
        return False
    conn = raw_connect(db_file, key)
    try:
        return stored_revision(conn) == head
    finally:
        conn.close()


def current_revision(conn) -> str | None:  # type: ignore[no-untyped-def]
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def upgrade(db_file: Path, key: bytes, notes: UpgradeNotes | None = None) -> str | None:
    """Bring the file to the newest schema. Returns the path of the pre-upgrade copy, if one was made.

    The upgrade runs in a single transaction: a failure rolls back every step, and the copy taken
    before it stays beside the database in ``backups/``. The upgrade of a file with data says what
    it does, step by step, on stderr (``notes``; store/upgrade_notes.py): it can take minutes.
    """
    from crm_tui.domain.errors import CrmError
    from crm_tui.store.connection import MigrationFailed, copy_encrypted, make_engine, raw_connect

    if is_current(db_file, key):  # the normal start: no Alembic import
        return None
    from alembic import command

    head = head_revision()
    engine = make_engine(db_file, key, pool="null")
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
        if current == head:
            return None
        backup: Path | None = None
        has_tables = current is not None
        said = (notes or UpgradeNotes()) if has_tables else None  # a new file is created silently
        if said is not None:
            said.begin(db_file, current or "-", head)
        try:
            if has_tables:
                stamp = system_now().strftime("%Y%m%d-%H%M%S")
                target = paths.backups_dir(db_file.parent) / f"pre-upgrade-{current}-{stamp}.db"
                if said is not None:
                    said.copy(target)
                raw = raw_connect(db_file, key)
                try:
                    copy_encrypted(raw, target, key)
                finally:
                    raw.close()
                backup = target
            steps = _steps(current, head) if said is not None else ["head"]
            with engine.connect() as conn:
                # SQLite ignores PRAGMA foreign_keys inside a transaction, and Alembic's batch mode
                # drops and re-creates tables that others reference: switch the checks off before
                # BEGIN, and check every reference once, before COMMIT, instead.
                conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
                conn.execution_options(crm_begin="IMMEDIATE")
                with conn.begin():
                    for n, rev in enumerate(steps, 1):  # one at a time, so each says when it is done
                        if said is not None:
                            said.migration(rev if rev != "head" else head, n, len(steps))
                        command.upgrade(alembic_config(conn), rev)
                    if said is not None:
                        said.checking()
                    if conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                        raise ForeignKeyViolation
        except CrmError:
            if said is not None:
                said.failed()
            raise
        except Exception as exc:
            if said is not None:
                said.failed()
            if backup is None and has_tables:  # the copy failed: as before, the error as it came
                raise
            raise MigrationFailed(
                "The schema upgrade from {current} to {head} failed ({reason}); the database was left "
                "as it was. A copy taken before the upgrade is at {backup}.",
                current=current or "-",
                head=head,
                reason=type(exc).__name__,
                backup=str(backup) if backup else "-",
            ) from exc
        except BaseException:
            if said is not None:
                said.failed()
            raise
        if has_tables:
            reclaim_free_pages(db_file, key, notes=said)
        if said is not None:
            said.finished(head)
        return str(backup) if backup else None
    finally:
        engine.dispose()


def _steps(current: str | None, head: str) -> list[str]:
    """The revisions from ``current`` (exclusive) up to ``head``, oldest first; ``["head"]`` (one
    step) when the history is not one plain line between them."""
    from alembic.script import ScriptDirectory

    try:
        revs = list(ScriptDirectory.from_config(alembic_config()).iterate_revisions(head, current))
    except Exception:  # noqa: BLE001 - a branched or unknown history: Alembic finds the way at once
        return ["head"]
    ids = [r.revision for r in reversed(revs)]
    if not ids or ids[-1] != head or current in ids or any(r.is_merge_point or r.is_branch_point for r in revs):
        return ["head"]
    return ids


#: An upgrade that rebuilds big tables (2202: the audit trail) leaves their old pages on the free
#: list, and the file keeps its size. Past this share of free pages (and at least this many), the
#: upgrade ends with a VACUUM so the file shrinks (issue 22; 100k customers: ~8 s CPU, 35 s wall).
RECLAIM_SHARE = 0.25
RECLAIM_MIN_PAGES = 2560


def reclaim_free_pages(db_file: Path, key: bytes, notes: UpgradeNotes | None = None) -> bool:
    """VACUUM the file when most of its free pages came from an upgrade; True when it ran. The
    schema change is committed already: a VACUUM that cannot run (disk full, a reader holding the
    file) leaves the file as it is, only larger than it needs to be."""
    import sqlcipher3.dbapi2 as sqlcipher

    from crm_tui.store.connection import raw_connect

    conn = raw_connect(db_file, key)
    try:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        if free < max(RECLAIM_MIN_PAGES, RECLAIM_SHARE * pages):
            return False
        if notes is not None:
            notes.vacuum()
        conn.execute("PRAGMA temp_store = FILE")  # the rebuilt copy on disk, not in memory
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if notes is not None:
            notes.done()
        return True
    except sqlcipher.Error:
        if notes is not None:
            notes.failed()
        return False
    finally:
        conn.close()
