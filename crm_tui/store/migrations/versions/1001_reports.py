"""reports: indexes for the dashboard and the review pack's period ranges (issue 10)

Revision ID: 1001
Revises: 0201
Create Date: 2026-12-01 16:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = '1001'
down_revision = '0201'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_customer_created', 'customer', ['created_at'], unique=False)
    op.create_index('ix_customer_category_grade', 'customer', ['category', 'grade'], unique=False,
                    sqlite_where=sa.text('erased_at IS NULL'))
    op.create_index('ix_customer_owner_due', 'customer', ['owner_id', 'incomplete_due'], unique=False,
                    sqlite_where=sa.text('erased_at IS NULL'))
    op.create_index('ix_customer_ratings', 'customer', ['credit_rating', 'risk_rating'], unique=False,
                    sqlite_where=sa.text('erased_at IS NULL'))
    op.create_index('ix_complaint_received', 'complaint', ['received_at'], unique=False)
    op.create_index('ix_complaint_visit', 'complaint', ['visit_at'], unique=False,
                    sqlite_where=sa.text('visit_at IS NOT NULL'))
    op.create_index('ix_followup_card_date', 'followup_card', ['card_date'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_followup_card_date', table_name='followup_card')
    op.drop_index('ix_complaint_visit', table_name='complaint')
    op.drop_index('ix_complaint_received', table_name='complaint')
    op.drop_index('ix_customer_ratings', table_name='customer')
    op.drop_index('ix_customer_owner_due', table_name='customer')
    op.drop_index('ix_customer_category_grade', table_name='customer')
    op.drop_index('ix_customer_created', table_name='customer')
