"""The hash of an audit entry. Pure: the same function writes and verifies the chain."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any


def entry_hash(prev_hash: str, seq: int, at: datetime, actor_id: int | None, action: str, target_type: str,
               target_id: str, before: Any, after: Any) -> str:
    payload = json.dumps(
        [prev_hash, seq, at.astimezone(timezone.utc).isoformat(timespec="microseconds"), actor_id, action,
         target_type, target_id, before, after],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()
