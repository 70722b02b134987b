"""audit entries link a digest of their values, so the purge can erase personal data and keep the chain

Revision ID: a3c91d7e5b20
Revises: 174051701412
Create Date: 2026-11-26 17:05:00

"""
import hashlib
import json
from datetime import timezone

from alembic import op
import sqlalchemy as sa

GENESIS = "0" * 64


# Frozen copies of audit.chain as of this revision and the one before: migrations never import app code.
def _digest(value):
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _utc_text(at):
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _new_hash(prev_hash, row, content):
    return _digest([prev_hash, row.seq, _utc_text(row.at), row.actor_id, row.action, row.target_type, row.target_id,
                    content])


def _old_hash(prev_hash, row, content):
    return _digest([prev_hash, row.seq, _utc_text(row.at), row.actor_id, row.action, row.target_type, row.target_id,
                    row.before, row.after])


# revision identifiers, used by Alembic.
revision = 'a3c91d7e5b20'
down_revision = '174051701412'
branch_labels = None
depends_on = None

entries = sa.table('audit_entries', sa.column('id', sa.Integer), sa.column('seq', sa.Integer),
                   sa.column('at', sa.DateTime(timezone=True)), sa.column('actor_id', sa.Integer),
                   sa.column('action', sa.String), sa.column('target_type', sa.String),
                   sa.column('target_id', sa.String), sa.column('before', sa.JSON), sa.column('after', sa.JSON),
                   sa.column('content_hash', sa.String), sa.column('prev_hash', sa.String),
                   sa.column('hash', sa.String))
head = sa.table('audit_head', sa.column('id', sa.Integer), sa.column('hash', sa.String))


def _rechain(link, *, with_content):
    """Recompute every link in order with the given formula; the head follows."""
    connection = op.get_bind()
    prev = GENESIS
    rows = connection.execute(sa.select(entries).order_by(entries.c.seq)).all()
    for row in rows:
        content = _digest([row.before, row.after])
        digest = link(prev, row, content)
        values = dict(prev_hash=prev, hash=digest)
        if with_content:
            values["content_hash"] = content
        connection.execute(sa.update(entries).where(entries.c.id == row.id).values(**values))
        prev = digest
    if rows:
        connection.execute(sa.update(head).where(head.c.id == 1).values(hash=prev))


def upgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=True))
    _rechain(_new_hash, with_content=True)
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.alter_column('content_hash', existing_type=sa.String(length=64), nullable=False)


def downgrade():
    # Values already erased cannot come back: their links will not verify under the old formula.
    _rechain(_old_hash, with_content=False)
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('redacted_at')
        batch_op.drop_column('content_hash')
