"""import mappings

Revision ID: 0401
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = '0401'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_mapping',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('mapping', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('import_mapping')
