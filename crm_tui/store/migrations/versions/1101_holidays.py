"""holidays: the branch's holiday schedule, days off and make-up working days (issue 16)

Revision ID: 1101
Revises: 1002
Create Date: 2026-12-06 17:10:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '1101'
down_revision = '1501'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'holiday_entry',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by_id'], ['staff.id']),
        sa.PrimaryKeyConstraint('day'),
    )


def downgrade() -> None:
    op.drop_table('holiday_entry')
