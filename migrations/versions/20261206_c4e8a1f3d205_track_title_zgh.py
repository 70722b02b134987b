"""tracks: an optional title in Tamazight (Tifinagh), printed on certificates

Revision ID: c4e8a1f3d205
Revises: 531fe7994be1
Create Date: 2026-12-06 04:00:00

Existing tracks have none: their certificates print the Tamazight labels with the French and Arabic titles.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a1f3d205'
down_revision = '531fe7994be1'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('tracks', sa.Column('title_zgh', sa.String(length=200), nullable=True))


def downgrade():
    # A plain ALTER TABLE (SQLite 3.35+ drops a column in place): a batch would copy `tracks` and drop the
    # original, which SQLite refuses while cohorts and certificates reference it.
    op.drop_column('tracks', 'title_zgh')
