"""pathway: track prerequisites and recognitions

Revision ID: 531fe7994be1
Revises: 6e1f0b7d2a44
Create Date: 2026-12-06 03:14:00.839256

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '531fe7994be1'
down_revision = '6e1f0b7d2a44'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('track_prerequisites',
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('required_track_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('track_id <> required_track_id', name=op.f('ck_track_prerequisites_not_self')),
    sa.ForeignKeyConstraint(['required_track_id'], ['tracks.id'], name=op.f('fk_track_prerequisites_required_track_id_tracks'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_track_prerequisites_track_id_tracks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('track_id', 'required_track_id', name=op.f('pk_track_prerequisites'))
    )
    with op.batch_alter_table('track_prerequisites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_track_prerequisites_required_track_id'), ['required_track_id'], unique=False)

    op.create_table('recognitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trainee_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('evidence', sa.String(length=500), nullable=False, server_default=''),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_recognitions_module_id_modules'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_recognitions_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['trainee_id'], ['trainees.id'], name=op.f('fk_recognitions_trainee_id_trainees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_recognitions_withdrawn_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recognitions'))
    )
    with op.batch_alter_table('recognitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recognitions_trainee_id'), ['trainee_id'], unique=False)
        batch_op.create_index('uq_recognitions_in_force', ['trainee_id', 'module_id'], unique=True, sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))



def downgrade():
    with op.batch_alter_table('recognitions', schema=None) as batch_op:
        batch_op.drop_index('uq_recognitions_in_force', sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_recognitions_trainee_id'))

    op.drop_table('recognitions')
    with op.batch_alter_table('track_prerequisites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_track_prerequisites_required_track_id'))

    op.drop_table('track_prerequisites')
