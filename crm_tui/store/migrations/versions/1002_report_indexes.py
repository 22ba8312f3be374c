"""report indexes without the erased_at partial condition; per-owner covering indexes (issue 10)

At 1M customers the partial indexes of 1001 (``WHERE erased_at IS NULL``) drew unrelated queries:
the planner met "erased_at IS NULL" with ix_customer_ratings and scanned every customer for the
home screen's important-customers count (10.6 s). Here the report indexes carry erased_at as a
column instead; ix_customer_important also covers owner_id.

Revision ID: 1002
Revises: 1001
Create Date: 2026-12-01 17:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '1002'
down_revision = '1001'
branch_labels = None
depends_on = None

_PARTIAL = sa.text('erased_at IS NULL')
_IMPORTANT = sa.text('important = 1 AND erased_at IS NULL')


def upgrade() -> None:
    for name in ('ix_customer_category_grade', 'ix_customer_owner_due', 'ix_customer_ratings', 'ix_customer_important'):
        op.drop_index(name, table_name='customer')
    op.create_index('ix_customer_category_grade', 'customer', ['category', 'grade', 'erased_at'], unique=False)
    op.create_index('ix_customer_owner_due', 'customer', ['owner_id', 'incomplete_due', 'erased_at'], unique=False)
    op.create_index('ix_customer_ratings', 'customer', ['credit_rating', 'risk_rating', 'erased_at'], unique=False)
    op.create_index('ix_customer_owner_created', 'customer', ['owner_id', 'created_at'], unique=False)
    op.create_index('ix_customer_owner_category', 'customer', ['owner_id', 'erased_at', 'category', 'grade'],
                    unique=False)
    op.create_index('ix_customer_important', 'customer', ['id', 'owner_id'], unique=False, sqlite_where=_IMPORTANT)


def downgrade() -> None:
    for name in ('ix_customer_important', 'ix_customer_owner_category', 'ix_customer_owner_created',
                 'ix_customer_ratings', 'ix_customer_owner_due', 'ix_customer_category_grade'):
        op.drop_index(name, table_name='customer')
    op.create_index('ix_customer_important', 'customer', ['id'], unique=False, sqlite_where=_IMPORTANT)
    op.create_index('ix_customer_ratings', 'customer', ['credit_rating', 'risk_rating'], unique=False,
                    sqlite_where=_PARTIAL)
    op.create_index('ix_customer_owner_due', 'customer', ['owner_id', 'incomplete_due'], unique=False,
                    sqlite_where=_PARTIAL)
    op.create_index('ix_customer_category_grade', 'customer', ['category', 'grade'], unique=False,
                    sqlite_where=_PARTIAL)
