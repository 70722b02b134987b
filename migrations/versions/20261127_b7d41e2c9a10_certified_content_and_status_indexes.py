"""certificates: the certified content frozen at issue, random status list indexes, the kept REVOKED copy

Revision ID: b7d41e2c9a10
Revises: a3c91d7e5b20
Create Date: 2026-11-27 10:00:00

Existing certificates get their certified content from today's catalogue (the best record there is of what
they state: the signed PDF kept for each one says the same unless the track was edited since), and a random,
distinct status list index each.
"""
import random
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from flask import current_app, has_app_context

# revision identifiers, used by Alembic.
revision = 'b7d41e2c9a10'
down_revision = 'a3c91d7e5b20'
branch_labels = None
depends_on = None

STATUS_LIST_MIN_BITS = 131_072
LANGUAGES = ("fr", "ar", "en")

certificates = sa.table("certificates", sa.column("id", sa.Integer), sa.column("track_id", sa.Integer),
                        sa.column("certified", sa.JSON), sa.column("status_index", sa.Integer))
tracks = sa.table("tracks", sa.column("id", sa.Integer), sa.column("code", sa.String),
                  sa.column("title_fr", sa.String), sa.column("title_ar", sa.String), sa.column("title_en", sa.String),
                  sa.column("min_attendance", sa.Numeric))
modules = sa.table("modules", sa.column("id", sa.Integer), sa.column("code", sa.String),
                   sa.column("title_fr", sa.String), sa.column("title_ar", sa.String),
                   sa.column("title_en", sa.String), sa.column("hours", sa.Numeric))
track_modules = sa.table("track_modules", sa.column("track_id", sa.Integer), sa.column("module_id", sa.Integer))


def _text(value) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def _issuer() -> dict:
    config = current_app.config if has_app_context() else {}
    issuer = {"fr": config.get("ISSUER_NAME") or "Kafaa", "ar": config.get("ISSUER_NAME_AR") or ""}
    return {k: v for k, v in issuer.items() if v}


def _records(connection) -> dict:
    records = {}
    for track in connection.execute(sa.select(tracks)).mappings():
        rows = connection.execute(
            sa.select(modules).join(track_modules, track_modules.c.module_id == modules.c.id)
            .where(track_modules.c.track_id == track["id"]).order_by(modules.c.code)).mappings().all()
        total = sum((Decimal(str(m["hours"])) for m in rows), Decimal(0))
        records[track["id"]] = {
            "version": 1,
            "track": {"code": track["code"], "title": {k: track[f"title_{k}"] or "" for k in LANGUAGES},
                      "min_attendance": None if track["min_attendance"] is None else _text(track["min_attendance"])},
            "modules": [{"code": m["code"], "title": {k: m[f"title_{k}"] or "" for k in LANGUAGES},
                         "hours": _text(m["hours"])} for m in rows],
            "total_hours": _text(total),
            "issuer": _issuer(),
        }
    return records


def upgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certified', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('status_index', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('revoked_pdf_sha256', sa.String(length=64), nullable=True))
    with op.batch_alter_table('certificate_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_content', sa.LargeBinary(), nullable=True))
    op.create_table(
        'retired_status_indexes',
        sa.Column('status_index', sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint('status_index', name=op.f('pk_retired_status_indexes')))

    connection = op.get_bind()
    records = _records(connection)
    rows = connection.execute(sa.select(certificates.c.id, certificates.c.track_id).order_by(certificates.c.id)).all()
    size = STATUS_LIST_MIN_BITS * max(1, -(-2 * len(rows) // STATUS_LIST_MIN_BITS))
    indexes = random.SystemRandom().sample(range(size), len(rows))
    for (certificate_id, track_id), index in zip(rows, indexes):
        op.execute(certificates.update().where(certificates.c.id == certificate_id)
                   .values(certified=records[track_id], status_index=index))

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.alter_column('certified', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('status_index', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_certificates_revoked_pdf_sha256'), ['revoked_pdf_sha256'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_certificates_status_index'), ['status_index'])


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_certificates_status_index'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_certificates_revoked_pdf_sha256'))
        batch_op.drop_column('revoked_pdf_sha256')
        batch_op.drop_column('status_index')
        batch_op.drop_column('certified')
    with op.batch_alter_table('certificate_files', schema=None) as batch_op:
        batch_op.drop_column('revoked_content')
    op.drop_table('retired_status_indexes')
