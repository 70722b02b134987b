"""Rotating check-in codes, like TOTP: a code is an HMAC of the current 30-second step. Pure functions."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

STEP_SECONDS = 30
GRACE_SECONDS = 10  # a code typed just after it changed on screen still counts
OPENS_BEFORE = timedelta(minutes=30)  # check-in can start this long before the session
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: nothing to confuse when typing
CODE_LENGTH = 6


def step_of(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def code_for(secret: str, step: int) -> str:
    digest = hmac.new(bytes.fromhex(secret), step.to_bytes(8, "big"), hashlib.sha256).digest()
    number = int.from_bytes(digest[:5], "big")
    return "".join(CODE_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))


def current_code(secret: str, now: datetime) -> tuple[str, datetime]:
    """The code on screen now and when it stops being shown."""
    step = step_of(now)
    return code_for(secret, step), datetime.fromtimestamp((step + 1) * STEP_SECONDS, timezone.utc)


def normalise(typed: str) -> str:
    return typed.strip().upper().replace(" ", "").replace("-", "").translate(str.maketrans("OIL", "011"))


def accepts(secret: str, typed: str, now: datetime) -> bool:
    """The current code, or the previous one during the first seconds of a new step."""
    typed = normalise(typed)
    step = step_of(now)
    candidates = [step]
    if now.timestamp() - step * STEP_SECONDS < GRACE_SECONDS:
        candidates.append(step - 1)
    return any(hmac.compare_digest(code_for(secret, s), typed) for s in candidates)


def window(starts_at: datetime, hours) -> tuple[datetime, datetime]:
    """When a session accepts check-ins: from a little before it starts until it ends."""
    return starts_at - OPENS_BEFORE, starts_at + timedelta(hours=float(hours))


def status_at(starts_at: datetime, late_after_minutes: int, now: datetime) -> str:
    return "late" if now > starts_at + timedelta(minutes=late_after_minutes) else "present"
