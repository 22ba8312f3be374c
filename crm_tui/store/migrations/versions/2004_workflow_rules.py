"""workflow rules of issue 20: the complaint acknowledgement (R-CMP-1), the supervisor's check of
unregistered visitors (R-FU-4), grade-standard changes approved in two steps (R-GRD-1)

Revision ID: 2004
Revises: 2102
Create Date: 2026-12-06 21:15:00
"""

from alembic import op
import sqlalchemy as sa


revision = '2004'
down_revision = '2102'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ack_method', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('ack_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('ack_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_complaint_ack_by', 'staff', ['ack_by_id'], ['id'])
    op.create_table('register_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('register_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['register_id'], ['register_entry.id'], ),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ux_register_check_item', 'register_check', ['kind', 'ref_id'], unique=True)
    op.create_index('ix_register_check_day', 'register_check', ['day'], unique=False)
    op.create_table('grade_standard_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposed', sa.String(), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('chief_id', sa.Integer(), nullable=True),
    sa.Column('chief_at', sa.DateTime(), nullable=True),
    sa.Column('deputy_id', sa.Integer(), nullable=True),
    sa.Column('deputy_at', sa.DateTime(), nullable=True),
    sa.Column('rejected_by_id', sa.Integer(), nullable=True),
    sa.Column('rejected_at', sa.DateTime(), nullable=True),
    sa.Column('reject_reason', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['chief_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['deputy_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['rejected_by_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ux_grade_standard_change_open', 'grade_standard_change', ['state'], unique=True,
                    sqlite_where=sa.text("state IN ('submitted', 'chief_approved')"))


def downgrade() -> None:
    op.drop_index('ux_grade_standard_change_open', table_name='grade_standard_change')
    op.drop_table('grade_standard_change')
    op.drop_index('ix_register_check_day', table_name='register_check')
    op.drop_index('ux_register_check_item', table_name='register_check')
    op.drop_table('register_check')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_constraint('fk_complaint_ack_by', type_='foreignkey')
        batch_op.drop_column('ack_by_id')
        batch_op.drop_column('ack_at')
        batch_op.drop_column('ack_method')
