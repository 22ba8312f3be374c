"""security records: approval requests, erasure ledger, incident register; who/how a handed-over
customer was told (issue 19: R-CUST-11, R-SEC-2, R-CUST-13, R-SEC-6)

Revision ID: 1401
Revises: 1002
Create Date: 2026-12-06 17:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '1401'
down_revision = '1201'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer_handover_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('informed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('informed_method', sa.String(), nullable=True))
        batch_op.create_foreign_key('fk_handover_item_informed_by', 'staff', ['informed_by_id'], ['id'])
    op.create_table('approval_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('operation', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('params', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['requester_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('approval_request', schema=None) as batch_op:
        batch_op.create_index('ix_approval_request_requester', ['requester_id', 'id'], unique=False)
        batch_op.create_index('ix_approval_request_state', ['state', 'id'], unique=False)
    op.create_table('erasure_ledger',
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('erased_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('number')
    )
    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('query', sa.Text(), nullable=True),
    sa.Column('report', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index('ix_incident_state', ['state', 'id'], unique=False)
    op.create_table('incident_customer',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('notified_at', sa.DateTime(), nullable=True),
    sa.Column('notified_by', sa.String(length=60), nullable=True),
    sa.Column('notice_method', sa.String(length=100), nullable=True),
    sa.Column('notice_note', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('incident_id', 'customer_id')
    )
    with op.batch_alter_table('incident_customer', schema=None) as batch_op:
        batch_op.create_index('ix_incident_customer_customer', ['customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident_customer', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_customer_customer')
    op.drop_table('incident_customer')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_state')
    op.drop_table('incident')
    op.drop_table('erasure_ledger')
    with op.batch_alter_table('approval_request', schema=None) as batch_op:
        batch_op.drop_index('ix_approval_request_state')
        batch_op.drop_index('ix_approval_request_requester')
    op.drop_table('approval_request')
    with op.batch_alter_table('customer_handover_item', schema=None) as batch_op:
        batch_op.drop_constraint('fk_handover_item_informed_by', type_='foreignkey')
        batch_op.drop_column('informed_method')
        batch_op.drop_column('informed_by_id')
