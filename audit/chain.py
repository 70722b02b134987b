"""The hashes of an audit entry. Pure: the same functions write and verify the chain.

An entry's link covers a digest of its before/after values rather than the values themselves, so the
purge can erase the personal data an old entry holds (names, emails) and keep the digest: the chain still
proves that no entry was added, removed, reordered or altered, and an erased entry says when it was erased.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def content_hash(before: Any, after: Any) -> str:
    return _digest([before, after])


def entry_hash(prev_hash: str, seq: int, at: datetime, actor_id: int | None, action: str, target_type: str,
               target_id: str, content: str) -> str:
    return _digest([prev_hash, seq, at.astimezone(timezone.utc).isoformat(timespec="microseconds"), actor_id,
                    action, target_type, target_id, content])
