"""jobs: the process running a job and its heartbeat, so a job whose worker died is marked failed

Revision ID: 6e1f0b7d2a44
Revises: b7e2f4c81a90
Create Date: 2026-12-06 01:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '6e1f0b7d2a44'
down_revision = 'b7e2f4c81a90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('worker')
