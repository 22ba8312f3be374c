"""front desk: a caller's new phone number awaiting the owner's confirmation (issue 21, R-CUST-8)

Revision ID: 2102
Revises: 1401
Create Date: 2026-12-06 21:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '2102'
down_revision = '1401'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('phone_change_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('national', sa.String(length=20), nullable=False),
    sa.Column('replaces_phone_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('informed', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['requested_by_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('phone_change_request', schema=None) as batch_op:
        batch_op.create_index('ix_phone_change_request_customer', ['customer_id', 'state'], unique=False)
        batch_op.create_index('ix_phone_change_request_state', ['state', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('phone_change_request', schema=None) as batch_op:
        batch_op.drop_index('ix_phone_change_request_state')
        batch_op.drop_index('ix_phone_change_request_customer')
    op.drop_table('phone_change_request')
