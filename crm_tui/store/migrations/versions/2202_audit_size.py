"""audit trail size (issue 22, item 4): the audit tables were ~70 % of the file

- audit_log: no ``prev_hash`` column (a copy of the previous row's ``hash``; verification walks the
  chain in id order and each hash covers the previous one, so an edit is still found) and no unique
  index on ``hash`` (no query looks a row up by its hash); ``details`` stored with the personal
  commitments in base64url instead of hex (``store.audit.compact_details``; the hash covers the hex
  form, which ``expand_details`` gives back byte for byte - a row that would not is kept as it was).
- audit_value: WITHOUT ROWID keyed by (audit_id, field) - the unique index it had, so no rowid, no
  id column and no separate audit_id index; ``salt`` as its 16 bytes instead of 32 hex characters.

Nothing is lost: every row keeps its content and its hash, and the chain verifies as before. The
freed pages go to the free list; a VACUUM gives them back to the file system (see benchmarks
RESULTS.md, size).

Revision ID: 2202
Revises: 2201
Create Date: 2026-12-07 05:40:00
"""

from alembic import op


revision = '2202'
down_revision = '2201'
branch_labels = None
depends_on = None

_GENESIS = "0" * 64


def _driver():  # type: ignore[no-untyped-def]
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    from crm_tui.store.audit import compact_details

    _driver().create_function("crm_compact_details", 1, compact_details, deterministic=True)
    # The old tables' pages hold the same rows as the new ones (erased values were overwritten when
    # they were erased), and the upgrade ends with a VACUUM: no need to zero them one by one.
    op.execute("PRAGMA secure_delete = OFF")
    op.execute("""CREATE TABLE audit_log_new (
        id INTEGER NOT NULL,
        at DATETIME NOT NULL,
        actor_id INTEGER,
        actor_name VARCHAR NOT NULL,
        on_behalf_of_id INTEGER,
        action VARCHAR NOT NULL,
        entity VARCHAR,
        entity_id VARCHAR,
        customer_id INTEGER,
        details VARCHAR NOT NULL,
        hash VARCHAR(64) NOT NULL,
        PRIMARY KEY (id),
        FOREIGN KEY(actor_id) REFERENCES staff (id),
        FOREIGN KEY(on_behalf_of_id) REFERENCES staff (id))""")
    op.execute("INSERT INTO audit_log_new (id, at, actor_id, actor_name, on_behalf_of_id, action, entity, entity_id,"
               " customer_id, details, hash) SELECT id, at, actor_id, actor_name, on_behalf_of_id, action, entity,"
               " entity_id, customer_id, crm_compact_details(details), hash FROM audit_log ORDER BY id")
    op.execute("DROP TABLE audit_log")
    op.execute("ALTER TABLE audit_log_new RENAME TO audit_log")
    op.execute("CREATE INDEX ix_audit_action_at ON audit_log (action, at)")
    op.execute("CREATE INDEX ix_audit_actor_at ON audit_log (actor_id, at)")
    op.execute("CREATE INDEX ix_audit_customer ON audit_log (customer_id, id)")

    op.execute("""CREATE TABLE audit_value_new (
        audit_id INTEGER NOT NULL,
        field VARCHAR NOT NULL,
        customer_id INTEGER,
        old_value VARCHAR,
        new_value VARCHAR,
        salt BLOB NOT NULL,
        PRIMARY KEY (audit_id, field),
        FOREIGN KEY(audit_id) REFERENCES audit_log (id)) WITHOUT ROWID""")
    # A salt that is not lowercase hex of 16 bytes (none is written so) stays as it was.
    op.execute("INSERT INTO audit_value_new (audit_id, field, customer_id, old_value, new_value, salt)"
               " SELECT audit_id, field, customer_id, old_value, new_value,"
               " CASE WHEN length(salt) = 32 AND lower(hex(unhex(salt))) = salt THEN unhex(salt) ELSE salt END"
               " FROM audit_value ORDER BY audit_id, field")
    op.execute("DROP TABLE audit_value")
    op.execute("ALTER TABLE audit_value_new RENAME TO audit_value")
    op.execute("CREATE INDEX ix_audit_value_customer_id ON audit_value (customer_id)")
    op.execute("PRAGMA secure_delete = ON")


def downgrade() -> None:
    from crm_tui.store.audit import expand_details

    _driver().create_function("crm_expand_details", 1, expand_details, deterministic=True)
    op.execute("""CREATE TABLE audit_log_old (
        id INTEGER NOT NULL,
        at DATETIME NOT NULL,
        actor_id INTEGER,
        actor_name VARCHAR NOT NULL,
        on_behalf_of_id INTEGER,
        action VARCHAR NOT NULL,
        entity VARCHAR,
        entity_id VARCHAR,
        customer_id INTEGER,
        details VARCHAR NOT NULL,
        prev_hash VARCHAR NOT NULL,
        hash VARCHAR(64) NOT NULL,
        PRIMARY KEY (id),
        FOREIGN KEY(actor_id) REFERENCES staff (id),
        FOREIGN KEY(on_behalf_of_id) REFERENCES staff (id),
        UNIQUE (hash))""")
    op.execute("INSERT INTO audit_log_old SELECT id, at, actor_id, actor_name, on_behalf_of_id, action, entity,"
               " entity_id, customer_id, crm_expand_details(details),"
               f" coalesce(lag(hash) OVER (ORDER BY id), '{_GENESIS}'), hash FROM audit_log ORDER BY id")
    op.execute("DROP TABLE audit_log")
    op.execute("ALTER TABLE audit_log_old RENAME TO audit_log")
    op.execute("CREATE INDEX ix_audit_action_at ON audit_log (action, at)")
    op.execute("CREATE INDEX ix_audit_actor_at ON audit_log (actor_id, at)")
    op.execute("CREATE INDEX ix_audit_customer ON audit_log (customer_id, id)")
    op.execute("""CREATE TABLE audit_value_old (
        id INTEGER NOT NULL,
        audit_id INTEGER NOT NULL,
        customer_id INTEGER,
        field VARCHAR NOT NULL,
        old_value VARCHAR,
        new_value VARCHAR,
        salt VARCHAR NOT NULL,
        PRIMARY KEY (id),
        FOREIGN KEY(audit_id) REFERENCES audit_log (id),
        UNIQUE (audit_id, field))""")
    op.execute("INSERT INTO audit_value_old (audit_id, customer_id, field, old_value, new_value, salt)"
               " SELECT audit_id, customer_id, field, old_value, new_value,"
               " CASE WHEN typeof(salt) = 'blob' THEN lower(hex(salt)) ELSE salt END FROM audit_value"
               " ORDER BY audit_id, field")
    op.execute("DROP TABLE audit_value")
    op.execute("ALTER TABLE audit_value_old RENAME TO audit_value")
    op.execute("CREATE INDEX ix_audit_value_audit_id ON audit_value (audit_id)")
    op.execute("CREATE INDEX ix_audit_value_customer_id ON audit_value (customer_id)")
