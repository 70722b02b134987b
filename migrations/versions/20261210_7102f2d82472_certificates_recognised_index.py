"""certificates: a partial index of those whose record names a recognised module (the pathway funnel)

Revision ID: 7102f2d82472
Revises: d81f3a6c2e95
Create Date: 2026-12-06 04:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7102f2d82472'
down_revision = 'd81f3a6c2e95'
branch_labels = None
depends_on = None

# As certificates.models.NAMES_RECOGNITION was when written (a migration does not follow the code).
NAMES_RECOGNITION = "CAST(certified AS TEXT) LIKE '%\"recognised\"%'"
COLUMNS = ['trainee_id', 'track_id', 'issued_on', 'expires_on', 'revoked_at', 'superseded_at']


def upgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('ix_certificates_recognised', COLUMNS, unique=False,
                              sqlite_where=sa.text(NAMES_RECOGNITION), postgresql_where=sa.text(NAMES_RECOGNITION))


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_recognised', sqlite_where=sa.text(NAMES_RECOGNITION),
                            postgresql_where=sa.text(NAMES_RECOGNITION))
