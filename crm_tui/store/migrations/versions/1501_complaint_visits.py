"""complaint return visits, one row each (R-CMP-6)

A ticket kept only its latest return visit's satisfaction, and reopening set it to empty: an
unsatisfied score dropped out of the handler's metric, so reopening raised it. Every return visit
is now a row of its own, with its score and the handler at the time; metrics read these rows.
The history is rebuilt from the audit trail, where each ``complaint.visit`` entry holds its score.

Revision ID: 1501
Revises: 1002
Create Date: 2026-12-06 17:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '1501'
down_revision = '1002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'complaint_visit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('method', sa.String(), nullable=True),
        sa.Column('satisfaction', sa.Integer(), nullable=False),
        sa.Column('handler_id', sa.Integer(), nullable=True),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ),
        sa.ForeignKeyConstraint(['handler_id'], ['staff.id'], ),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_complaint_visit_at', 'complaint_visit', ['at', 'handler_id'], unique=False)
    op.create_index('ix_complaint_visit_ticket', 'complaint_visit', ['complaint_id', 'at'], unique=False)
    op.execute(
        "INSERT INTO complaint_visit (complaint_id, at, method, satisfaction, handler_id, staff_id)"
        " SELECT c.id, a.at, NULL, CAST(json_extract(a.details, '$.satisfaction') AS INTEGER), c.assignee_id,"
        " a.actor_id FROM audit_log a JOIN complaint c ON c.id = CAST(a.entity_id AS INTEGER)"
        " WHERE a.action = 'complaint.visit' AND a.entity = 'complaint'"
        " AND json_extract(a.details, '$.satisfaction') IS NOT NULL ORDER BY a.id")


def downgrade() -> None:
    op.drop_index('ix_complaint_visit_ticket', table_name='complaint_visit')
    op.drop_index('ix_complaint_visit_at', table_name='complaint_visit')
    op.drop_table('complaint_visit')
