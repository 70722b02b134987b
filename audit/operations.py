from __future__ import annotations

from typing import Any

from app import db
from audit.models import AuditEntry


def record(actor, action: str, target_type: str, target_id: Any,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> AuditEntry:
    """Append an audit entry to the current transaction; it commits or rolls back with the write."""
    entry = AuditEntry(actor_id=getattr(actor, "id", None), action=action, target_type=target_type,
                       target_id=str(target_id), before=before, after=after)
    db.session.add(entry)
    return entry
