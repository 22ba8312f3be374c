"""import batches (rows written in short transactions, published at once); unique live ID numbers
and credit codes (issue 17)

``import_batch``: one row per import run. Its customers are written in short transactions while
the batch is ``running`` (or ``failed``); every list, count, queue, report and search hides the
batch's id range (``first_id``..``last_id``) until one short final transaction marks it
``published`` (store/pending.py). A batch left unpublished by a killed import is removed at the
next start (services/importing.py: ``discard_abandoned``). ``token`` names the lock file the
importing process holds (store/lock.py), so a running import is never taken for an abandoned one.

Unique ID numbers (R-CUST-1) and credit codes: ``ix_customer_id_number`` / ``ix_customer_uscc``
become UNIQUE with the same partial condition (``... IS NOT NULL``). Erasing an archive sets the
ID number and credit code to NULL (services/customers.py: erase), so "not null" is "live": an
erased archive never blocks a new one. A database that already holds live duplicates keeps the
plain index for that column (the upgrade does not fail); ``crm-tui doctor`` lists the duplicates
and makes the index unique once they have been resolved (erase or correct one of each pair).

Revision ID: 1201
Revises: 1002
"""

from alembic import op
import sqlalchemy as sa


revision = '1201'
down_revision = '1101'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'import_batch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=40), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),  # running | failed | published
        sa.Column('file', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('first_id', sa.Integer(), nullable=False),
        sa.Column('last_id', sa.Integer(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('started_by', sa.String(length=40), nullable=True),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token'),
    )
    op.create_index('ix_import_batch_pending', 'import_batch', ['first_id', 'last_id'],
                    sqlite_where=sa.text("state <> 'published'"))
    from crm_tui.store import pending

    bind = op.get_bind()

    def run(sql: str) -> list:
        result = bind.exec_driver_sql(sql)
        return list(result.fetchall()) if result.returns_rows else []

    pending.make_unique_indexes(run)


def downgrade() -> None:
    for col in ('id_number', 'uscc'):
        op.drop_index(f'ix_customer_{col}', table_name='customer')
        op.create_index(f'ix_customer_{col}', 'customer', [col], unique=False,
                        sqlite_where=sa.text(f'{col} IS NOT NULL'))
    op.drop_index('ix_import_batch_pending', table_name='import_batch')
    op.drop_table('import_batch')
