"""home summary tables (issue 22): counts per responsible person, category/grade, day, source and
status, kept by triggers in the same transaction as every write (crm_tui/store/summary.py), and
filled here from the existing rows (one GROUP BY per table)

Revision ID: 2201
Revises: 2001
Create Date: 2026-12-07 05:40:00
"""

from alembic import op

from crm_tui.store import summary


revision = '2201'
down_revision = '2001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    summary.install(op.execute)
    op.create_index('ix_complaint_closed', 'complaint', ['closed_at', 'assignee_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_complaint_closed', table_name='complaint')
    summary.drop(op.execute)
