"""Schema migrations on open: Alembic matches the models, an up-to-date file is left alone, an upgrade
takes an encrypted copy first, and a failed upgrade leaves the file as it was and says so."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from crm_tui.domain.errors import CrmError
from crm_tui.services import system
from crm_tui.store import db, migrate
from crm_tui.store.keys import MemoryKeyStore
from crm_tui.store.models import metadata
from tests.helpers import cli

TEST_REV = "t9999"
MIGRATION = '''
"""test revision, on top of the real head"""
from alembic import op
import sqlalchemy as sa

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("test_extra", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("note", sa.String()))
    op.execute("INSERT INTO test_extra (id, note) VALUES (1, 'written by the test revision')")
    with op.batch_alter_table("app_meta") as batch:
        batch.add_column(sa.Column("extra", sa.String(), nullable=True))
    op.execute("UPDATE app_meta SET value = 'changed by the test revision'")
    {tail}


def downgrade() -> None:
    pass
'''


@pytest.fixture
def migrated(tmp_data_dir: Path) -> tuple[Path, bytes]:
    """A database at the newest schema with a little data in it; returns (db file, key)."""
    place = system.Place(tmp_data_dir, MemoryKeyStore())
    db_file = system.create_empty(place)
    store = db.open_store(tmp_data_dir, place.key_store)
    try:
        with store.write() as s:
            s.execute(text("INSERT INTO app_meta (key, value) VALUES ('k1', 'v1'), ('k2', 'v2')"))
    finally:
        store.close()
    key = place.key_store.get(db_file)
    assert key is not None
    return db_file, key


def _dump_sha(db_file: Path, key: bytes) -> str:
    """sha256 of a logical dump: the schema and every row of every table (sqlcipher3 has no iterdump)."""
    conn = db.raw_connect(db_file, key)
    try:
        h = hashlib.sha256()
        schema = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        h.update(repr(schema).encode())
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
            h.update(repr(conn.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall()).encode())
        return h.hexdigest()
    finally:
        conn.close()


def _revision(db_file: Path, key: bytes) -> str:
    conn = db.raw_connect(db_file, key)
    try:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def scripts_plus_one(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The real migration scripts plus one test revision on top of the real head (body chosen by
    the test), so a database at the real head is 'older' than the scripts. Returns the real head."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrate._SCRIPTS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    real_head = migrate.head_revision()
    monkeypatch.setattr(migrate, "_SCRIPTS", folder)

    def write(tail: str) -> str:
        (folder / "versions" / f"{TEST_REV}_test.py").write_text(
            MIGRATION.format(rev=TEST_REV, down=real_head, tail=tail), encoding="utf-8")
        assert migrate.head_revision() == TEST_REV
        return real_head

    return write


def test_alembic_migrations_match_the_models(migrated):
    db_file, key = migrated
    engine = db.make_engine(db_file, key, pool="null")
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
            assert ctx.get_current_revision() == migrate.head_revision()
            assert compare_metadata(ctx, metadata) == []
    finally:
        engine.dispose()


def test_opening_an_up_to_date_database_makes_no_copy(migrated):
    db_file, key = migrated
    assert migrate.upgrade(db_file, key) is None
    store = db.open_with_key(db_file, key)
    store.close()
    backups = db_file.parent / "backups"
    assert not backups.exists() or not list(backups.glob("pre-upgrade-*"))


def test_upgrade_takes_an_encrypted_copy_first(migrated, scripts_plus_one):
    db_file, key = migrated
    old = scripts_plus_one("pass")
    before = _dump_sha(db_file, key)
    copy = migrate.upgrade(db_file, key)
    assert copy is not None and Path(copy).name.startswith(f"pre-upgrade-{old}-")
    assert _revision(db_file, key) == TEST_REV
    assert _revision(Path(copy), key) == old
    assert _dump_sha(Path(copy), key) == before  # the copy is the file as it was, encrypted with the same key
    with pytest.raises(db.WrongKey):
        db.raw_connect(Path(copy), bytes(32))


def test_failed_upgrade_leaves_the_file_unchanged_and_says_so(migrated, scripts_plus_one):
    db_file, key = migrated
    old = scripts_plus_one('raise RuntimeError("boom")')
    dump_before, bytes_before = _dump_sha(db_file, key), cli.sha256(db_file)

    with pytest.raises(db.MigrationFailed) as err:
        migrate.upgrade(db_file, key)
    copies = list((db_file.parent / "backups").glob(f"pre-upgrade-{old}-*.db"))
    assert len(copies) == 1
    assert err.value.message == (
        f"The schema upgrade from {old} to {TEST_REV} failed (RuntimeError); the database was left as it was. "
        f"A copy taken before the upgrade is at {copies[0]}."
    )
    assert not Path(f"{db_file}-wal").exists()
    assert _dump_sha(db_file, key) == dump_before
    assert cli.sha256(db_file) == bytes_before
    assert _revision(db_file, key) == old


def test_failed_upgrade_on_open_reports_and_keeps_the_file(migrated, scripts_plus_one):
    db_file, key = migrated
    scripts_plus_one('raise RuntimeError("boom")')
    dump_before = _dump_sha(db_file, key)
    place = system.Place(db_file.parent, MemoryKeyStore({str(db_file.resolve()): key}))
    with pytest.raises(CrmError) as err:
        system.open_services(place)
    assert "the database was left as it was" in err.value.message
    assert _dump_sha(db_file, key) == dump_before


def test_batch_recreate_of_a_referenced_table_upgrades(migrated, scripts_plus_one):
    db_file, key = migrated
    store = db.open_with_key(db_file, key, migrate=False)
    try:
        with store.write() as s:
            s.execute(text(
                "INSERT INTO staff (id, username, display_name, password_hash, password_set_at, "
                "must_change_password, active, failed_logins, created_at) VALUES "
                "(1, 'a', 'A', 'x', '2026-01-01', 0, 1, 0, '2026-01-01')"))
            s.execute(text("INSERT INTO staff_role (staff_id, role) VALUES (1, 'admin')"))
    finally:
        store.close()
    scripts_plus_one('with op.batch_alter_table("staff", recreate="always") as b:\n'
                      '        b.alter_column("display_name", type_=sa.String(60))')
    migrate.upgrade(db_file, key)
    assert _revision(db_file, key) == TEST_REV


def test_quick_head_is_alembics_head(scripts_plus_one):
    """The start-up check reads the head from the scripts without importing Alembic; it must name
    the same revision Alembic does, for the real scripts and with a revision added on top."""
    real_head = migrate.head_revision()
    assert migrate.quick_head() == real_head
    scripts_plus_one("pass")
    assert migrate.quick_head() == migrate.head_revision() == TEST_REV


def test_up_to_date_file_is_recognised_without_alembic(migrated, scripts_plus_one):
    db_file, key = migrated
    assert migrate.is_current(db_file, key)
    scripts_plus_one("pass")
    assert not migrate.is_current(db_file, key)
