from __future__ import annotations

import json
from typing import Any, Iterator

import sqlalchemy as sa

from audit.chain import content_hash, entry_hash
from audit.models import GENESIS, AuditEntry, AuditHead
from common.extensions import db
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
                  target_type=target_type, target_id=str(target_id))
    content = content_hash(before, after)
    digest = entry_hash(head.hash, **values, content=content)
    entry = AuditEntry(**values, before=before, after=after, content_hash=content, prev_hash=head.hash, hash=digest)
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
                                entry.target_type, entry.target_id, entry.content_hash)
        altered_values = entry.redacted_at is None and content_hash(entry.before, entry.after) != entry.content_hash
        if recomputed != entry.hash or altered_values:
            yield f"entry #{entry.seq} ({entry.action} {entry.target_type} {entry.target_id}) was altered"
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    head = db.session.get(AuditHead, HEAD_ID)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != expected_prev):
        yield f"the trail ends at #{expected_seq - 1} but #{head.seq} was written: the last entries were removed"


ERASED = {"erased": "retention"}  # what an entry's values become when they named a purged person


def erase_personal_values(targets: dict[str, list[str]], trainee_ids: list[int], now) -> int:
    """Erase the before/after values of the entries about these targets ({target_type: [target_id]}), and
    the purged trainees' rows from the values of import entries, which list many people. The link hashes
    stay, so the chain still verifies. Returns how many entries were touched. Flushes."""
    touched = 0
    for target_type, ids in targets.items():
        for start in range(0, len(ids), 500):
            touched += db.session.execute(
                sa.update(AuditEntry)
                .where(AuditEntry.target_type == target_type, AuditEntry.target_id.in_(ids[start:start + 500]),
                       AuditEntry.redacted_at.is_(None))
                .values(before=None, after=ERASED, redacted_at=now)
                .execution_options(synchronize_session=False)).rowcount
    purged = {str(i) for i in trainee_ids}
    imports = db.session.execute(sa.select(AuditEntry.id, AuditEntry.before).where(
        AuditEntry.action == "trainee.import")).all()
    for entry_id, before in imports:  # an import's `before` maps trainee ids to the values it changed
        if before and purged & set(before):
            db.session.execute(sa.update(AuditEntry).where(AuditEntry.id == entry_id).values(
                before={key: value for key, value in before.items() if key not in purged} or None, redacted_at=now)
                .execution_options(synchronize_session=False))
            touched += 1
    return touched
