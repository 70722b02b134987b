"""JSON shapes of accounts."""
from __future__ import annotations

from typing import Any

from accounts.models import User
from accounts.notice import NOTICE_VERSION
from common.openapi import DATETIME, STRING, nullable, obj, schema
from common.types import iso_utc

CONSENT = schema("PrivacyNoticeAcceptance", obj({
    "accepted_at": nullable(DATETIME), "accepted_version": nullable(STRING), "current_version": STRING}))


def consent_json(user: User) -> dict[str, Any]:
    accepted_at = user.privacy_accepted_at
    return {"accepted_at": None if accepted_at is None else iso_utc(accepted_at),
            "accepted_version": user.privacy_notice_version, "current_version": NOTICE_VERSION}
