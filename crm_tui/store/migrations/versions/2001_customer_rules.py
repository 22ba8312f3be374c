"""customer rules, whole (issue 20): shared phones signed by the section chief and the deputy
manager and filed with internal control, on every customer sharing the number (R-CUST-7); the
persistent phone-inspection flag and its inspection records (R-CUST-8); the second-contact tasks of
important customers (R-CUST-10); business stopped with its reason (R-CUST-3)

Revision ID: 2001
Revises: 2002
Create Date: 2026-12-06 21:15:00
"""

from alembic import op
import sqlalchemy as sa


revision = '2001'
down_revision = '2002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('business_stop_note', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('business_stopped_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('phone_inspection_since', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_customer_phone_inspection', ['phone_inspection_since', 'id'], unique=False,
                              sqlite_where=sa.text('phone_inspection_since IS NOT NULL'))
    with op.batch_alter_table('customer_phone', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shared_chief_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shared_chief_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('shared_deputy_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shared_deputy_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('shared_filed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shared_filed_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key('fk_customer_phone_chief', 'staff', ['shared_chief_id'], ['id'])
        batch_op.create_foreign_key('fk_customer_phone_deputy', 'staff', ['shared_deputy_id'], ['id'])
        batch_op.create_foreign_key('fk_customer_phone_filed_by', 'staff', ['shared_filed_by_id'], ['id'])
    op.create_table('customer_phone_inspection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('flagged_at', sa.DateTime(), nullable=False),
    sa.Column('inspected_at', sa.DateTime(), nullable=False),
    sa.Column('inspected_by_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['inspected_by_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('customer_phone_inspection', schema=None) as batch_op:
        batch_op.create_index('ix_phone_inspection_customer', ['customer_id', 'id'], unique=False)
    op.create_table('customer_contact_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('cause', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('customer_contact_task', schema=None) as batch_op:
        batch_op.create_index('ix_contact_task_open', ['due_at', 'id'], unique=False,
                              sqlite_where=sa.text('done_at IS NULL'))
        batch_op.create_index('ix_contact_task_customer', ['customer_id', 'id'], unique=False)
    # R-CUST-8: customers whose phone changed twice within 30 days before this revision stay flagged.
    op.execute("UPDATE customer SET phone_inspection_since = phone_changed_at WHERE phone_changed_prev_at IS NOT NULL"
               " AND julianday(phone_changed_at) - julianday(phone_changed_prev_at) <= 30 AND erased_at IS NULL")
    # R-CUST-7: the customer who had a shared number first gets the same reason and is reviewed too.
    op.execute("UPDATE customer_phone SET shared_reason = (SELECT o.shared_reason FROM customer_phone o"
               " WHERE o.national = customer_phone.national AND o.id <> customer_phone.id AND o.shared_reason"
               " IS NOT NULL ORDER BY o.id LIMIT 1), shared_review_due = (SELECT o.shared_review_due FROM"
               " customer_phone o WHERE o.national = customer_phone.national AND o.id <> customer_phone.id AND"
               " o.shared_reason IS NOT NULL ORDER BY o.id LIMIT 1) WHERE shared_reason IS NULL AND EXISTS (SELECT 1"
               " FROM customer_phone o WHERE o.national = customer_phone.national AND o.id <> customer_phone.id AND"
               " o.shared_reason IS NOT NULL)")


def downgrade() -> None:
    with op.batch_alter_table('customer_contact_task', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_task_customer')
        batch_op.drop_index('ix_contact_task_open', sqlite_where=sa.text('done_at IS NULL'))
    op.drop_table('customer_contact_task')
    with op.batch_alter_table('customer_phone_inspection', schema=None) as batch_op:
        batch_op.drop_index('ix_phone_inspection_customer')
    op.drop_table('customer_phone_inspection')
    with op.batch_alter_table('customer_phone', schema=None) as batch_op:
        batch_op.drop_constraint('fk_customer_phone_filed_by', type_='foreignkey')
        batch_op.drop_constraint('fk_customer_phone_deputy', type_='foreignkey')
        batch_op.drop_constraint('fk_customer_phone_chief', type_='foreignkey')
        for c in ('shared_filed_at', 'shared_filed_by_id', 'shared_deputy_at', 'shared_deputy_id',
                  'shared_chief_at', 'shared_chief_id'):
            batch_op.drop_column(c)
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_phone_inspection', sqlite_where=sa.text('phone_inspection_since IS NOT NULL'))
        for c in ('phone_inspection_since', 'business_stopped_at', 'business_stop_note'):
            batch_op.drop_column(c)
