"""changes still to be told to the customer (issue 20: R-CUST-5)

Revision ID: 2002
Revises: 2004
Create Date: 2026-12-06 21:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '2002'
down_revision = '2004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customer_inform_due',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('informed_at', sa.DateTime(), nullable=True),
    sa.Column('informed_by_id', sa.Integer(), nullable=True),
    sa.Column('informed_method', sa.String(length=40), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['informed_by_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('customer_inform_due', schema=None) as batch_op:
        batch_op.create_index('ix_customer_inform_due_customer', ['customer_id'], unique=False)
        batch_op.create_index('ix_customer_inform_due_due', ['due_date', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customer_inform_due', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_inform_due_due')
        batch_op.drop_index('ix_customer_inform_due_customer')
    op.drop_table('customer_inform_due')
