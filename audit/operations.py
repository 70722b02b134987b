from __future__ import annotations

import json
from typing import Any, Iterator

import sqlalchemy as sa

from app import db
from audit.chain import entry_hash
from audit.models import GENESIS, AuditEntry, AuditHead
from common.types import utcnow

HEAD_ID = 1


def _head() -> AuditHead:
    """The chain's head, locked until this transaction ends (PostgreSQL; SQLite serialises writers)."""
    head = db.session.scalar(sa.select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update())
    if head is None:
        head = AuditHead(id=HEAD_ID, seq=0, hash=GENESIS)
        db.session.add(head)
        db.session.flush()
    return head


def record(actor, action: str, target_type: str, target_id: Any,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> AuditEntry:
    """Append an audit entry to the current transaction; it commits or rolls back with the write."""
    # Hash exactly what the JSON column will give back (integer keys become strings, and so on).
    before, after = (json.loads(json.dumps(v, default=str)) if v is not None else None for v in (before, after))
    head = _head()
    values = dict(seq=head.seq + 1, at=utcnow(), actor_id=getattr(actor, "id", None), action=action,
                  target_type=target_type, target_id=str(target_id), before=before, after=after)
    digest = entry_hash(head.hash, **values)
    entry = AuditEntry(**values, prev_hash=head.hash, hash=digest)
    db.session.add(entry)
    head.seq, head.hash = values["seq"], digest
    return entry


def verify_chain() -> Iterator[str]:
    """Every break in the chain, as a sentence naming the entry. Nothing when the trail is intact."""
    expected_prev, expected_seq = GENESIS, 1
    for entry in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)):
        if entry.seq != expected_seq:
            yield f"entry #{expected_seq} is missing (the next one is #{entry.seq}): entries were removed"
        elif entry.prev_hash != expected_prev:
            yield f"entry #{entry.seq} does not follow #{entry.seq - 1}: entries were removed or reordered"
        recomputed = entry_hash(entry.prev_hash, entry.seq, entry.at, entry.actor_id, entry.action,
                                entry.target_type, entry.target_id, entry.before, entry.after)
        if recomputed != entry.hash:
            yield f"entry #{entry.seq} ({entry.action} {entry.target_type} {entry.target_id}) was altered"
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    head = db.session.get(AuditHead, HEAD_ID)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != expected_prev):
        yield f"the trail ends at #{expected_seq - 1} but #{head.seq} was written: the last entries were removed"
