"""certificates: the revocation's message to the holder, apart from the internal reason

Revision ID: d81f3a6c2e95
Revises: c4a9e1f2b7d3
Create Date: 2026-12-10 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd81f3a6c2e95'
down_revision = 'c4a9e1f2b7d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revocation_message', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_column('revocation_message')
