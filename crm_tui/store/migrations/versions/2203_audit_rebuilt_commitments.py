"""audit trail size, second step (issue 22, item 4): commitments rebuilt from the values

- audit_log.details: a row's ``personal`` commitments are sha256 of its own ``audit_value`` rows
  (salt, field, old, new), so they are no longer stored when those rows give every one of them back
  byte for byte; ``store.audit.expand_details`` rebuilds them on read, and verification hashes the
  rebuilt text (the hash formula, domain.audit, is unchanged: every old row verifies as before). A
  row whose values are gone (erased) or would not give the text back keeps its 2202 form.
- audit_value.customer_id: NULL where it repeats its audit row's customer_id (the customer's values
  are found through ix_audit_customer); it holds only a later tie (a register line's values given
  to the customer); the index on it is partial (WHERE customer_id IS NOT NULL).
- audit_log.hash: its 32 bytes instead of 64 hex characters (readers: ``store.audit.HASH_HEX``).

Nothing is lost: every row keeps its hashed content and its hash. The table is rebuilt in id
ranges (one query for the values of a range, the converted details looked up by a SQL function in
the INSERT ... SELECT), and the upgrade ends with a VACUUM when a quarter of the file is free
(store.migrate.reclaim_free_pages, as 2202).

Revision ID: 2203
Revises: 2202
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Callable
from typing import Any

from alembic import op


revision = '2203'
down_revision = '2202'
branch_labels = None
depends_on = None

#: audit ids a range: its values (~5 a row) and converted details are held in memory at once.
STEP = 20000

_COLUMNS = "id, at, actor_id, actor_name, on_behalf_of_id, action, entity, entity_id, customer_id"


def _rebuild(convert: Callable[[str, list[Any]], str], hash_type: str, hash_sql: str) -> None:
    """audit_log copied in id ranges; the details of rows with values are ``convert(details,
    values)``, the others copied as they are; ``hash`` as ``hash_sql`` into a ``hash_type`` column."""
    bind = op.get_bind()
    new: dict[int, str] = {}
    bind.connection.driver_connection.create_function(
        "crm_2203_details", 2, lambda i, d: new.get(i, d), deterministic=True)
    op.execute("PRAGMA secure_delete = OFF")  # the old pages hold the same rows; a VACUUM follows
    op.execute(f"""CREATE TABLE audit_log_new (
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
        hash {hash_type} NOT NULL,
        PRIMARY KEY (id),
        FOREIGN KEY(actor_id) REFERENCES staff (id),
        FOREIGN KEY(on_behalf_of_id) REFERENCES staff (id))""")
    lo, hi = bind.exec_driver_sql("SELECT min(id), max(id) FROM audit_log").fetchone()
    for start in range(lo or 1, (hi or 0) + 1, STEP):
        end = start + STEP - 1
        values: dict[int, list[Any]] = {}
        for a, f, o, n, salt in bind.exec_driver_sql(
                "SELECT audit_id, field, old_value, new_value, salt FROM audit_value WHERE audit_id BETWEEN ? AND ?",
                (start, end)):
            values.setdefault(a, []).append((f, o, n, salt))
        new.clear()
        if values:
            ids = ",".join(str(i) for i in values)
            for i, d in bind.exec_driver_sql(f"SELECT id, details FROM audit_log WHERE id IN ({ids})"):
                out = convert(d, values[i])
                if out != d:
                    new[i] = out
        bind.exec_driver_sql(
            f"INSERT INTO audit_log_new ({_COLUMNS}, details, hash) SELECT {_COLUMNS},"
            f" crm_2203_details(id, details), {hash_sql} FROM audit_log WHERE id BETWEEN ? AND ? ORDER BY id",
            (start, end))
    op.execute("DROP TABLE audit_log")
    op.execute("ALTER TABLE audit_log_new RENAME TO audit_log")
    op.execute("CREATE INDEX ix_audit_action_at ON audit_log (action, at)")
    op.execute("CREATE INDEX ix_audit_actor_at ON audit_log (actor_id, at)")
    op.execute("CREATE INDEX ix_audit_customer ON audit_log (customer_id, id)")


def _drop_rebuildable(stored: str, values: list[Any]) -> str:
    """The 2203 form of a 2202 row. Fast path: the stored base64url commitments are exactly those of
    the values (same fields, same 32 bytes), so the text rebuilt from the values equals the one
    2202's ``expand_details`` gives (the rest of the object is the same JSON, written canonically
    again). Otherwise the general conversion, which checks the rebuilt text against the hashed one."""
    import base64
    import json

    from crm_tui.domain import audit as chain
    from crm_tui.store.audit import _salt_text, compact_details, expand_details

    if '"personal":' not in stored:
        return stored
    try:
        obj = json.loads(stored)
    except ValueError:
        return stored
    p = obj.get("personal") if isinstance(obj, dict) else None
    if isinstance(p, dict) and len(p) == len(values) and all(
            p.get(f) == base64.urlsafe_b64encode(bytes.fromhex(
                chain.commitment(_salt_text(salt), f, o, n))).rstrip(b"=").decode() for f, o, n, salt in values):
        return chain.canonical({k: v for k, v in obj.items() if k != "personal"})
    return compact_details(expand_details(stored), values)


def _pin(stored: str, values: list[Any]) -> str:
    from crm_tui.store.audit import compact_details, expand_details, rebuilt

    return compact_details(expand_details(stored, values)) if rebuilt(stored) else stored


def _values_table(customer_id_sql: str, index_where: str) -> None:
    """audit_value copied in key order with ``customer_id`` as ``customer_id_sql`` (v: the value,
    a: its audit row); the customer index made with ``index_where``."""
    op.execute("""CREATE TABLE audit_value_new (
        audit_id INTEGER NOT NULL,
        field VARCHAR NOT NULL,
        customer_id INTEGER,
        old_value VARCHAR,
        new_value VARCHAR,
        salt BLOB NOT NULL,
        PRIMARY KEY (audit_id, field),
        FOREIGN KEY(audit_id) REFERENCES audit_log (id)) WITHOUT ROWID""")
    op.execute("INSERT INTO audit_value_new (audit_id, field, customer_id, old_value, new_value, salt)"
               f" SELECT v.audit_id, v.field, {customer_id_sql}, v.old_value, v.new_value, v.salt"
               " FROM audit_value v LEFT JOIN audit_log a ON a.id = v.audit_id ORDER BY v.audit_id, v.field")
    op.execute("DROP TABLE audit_value")
    op.execute("ALTER TABLE audit_value_new RENAME TO audit_value")
    op.execute(f"CREATE INDEX ix_audit_value_customer_id ON audit_value (customer_id){index_where}")


def upgrade() -> None:
    # the hash as its 32 bytes (one that is not 64 lowercase hex characters, none is written so, stays)
    _rebuild(_drop_rebuildable, "BLOB",
             "CASE WHEN length(hash) = 64 AND lower(hex(unhex(hash))) = hash THEN unhex(hash) ELSE hash END")
    # customer_id only where a tie says more than the audit row's own customer_id
    _values_table("CASE WHEN v.customer_id = a.customer_id THEN NULL ELSE v.customer_id END",
                  " WHERE customer_id IS NOT NULL")
    op.execute("PRAGMA secure_delete = ON")


def downgrade() -> None:
    _rebuild(_pin, "VARCHAR(64)", "CASE typeof(hash) WHEN 'blob' THEN lower(hex(hash)) ELSE hash END")
    _values_table("coalesce(v.customer_id, a.customer_id)", "")
    op.execute("PRAGMA secure_delete = ON")
