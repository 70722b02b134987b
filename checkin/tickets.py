"""A scan, remembered through sign-in. A trainee who scans the projector's code while signed out needs a
minute or two to sign in and accept the notice; by then the code on screen has changed. What counts is
the moment of the scan: the scan page checks the code then, and hands out a signed ticket saying "this
code was good for this session at this moment", which the sign-in redirect carries back to the
check-in page. The ticket is accepted for a few minutes only."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from common import clock

SALT = "kafaa.checkin"
MAX_AGE_SECONDS = 5 * 60  # long enough to sign in and accept the notice, too short to send to a friend


class _ClockedSigner(TimestampSigner):
    """Timestamps from the application's clock (which tests move), not straight from time.time()."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT, signer=_ClockedSigner)


def issue(session_id: int, code: str) -> str:
    """A ticket for a code found valid for this session now."""
    return _serializer().dumps({"s": session_id, "c": code})


def redeem(ticket: str | None, session_id: int) -> tuple[str, datetime] | None:
    """(code, moment of the scan) when the ticket is genuine, recent and for this session; else None."""
    if not ticket or not isinstance(ticket, str):
        return None
    try:
        data, signed_at = _serializer().loads(ticket, max_age=MAX_AGE_SECONDS, return_timestamp=True)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or data.get("s") != session_id or not isinstance(data.get("c"), str):
        return None
    return data["c"], signed_at if signed_at.tzinfo else signed_at.replace(tzinfo=timezone.utc)
