from __future__ import annotations

from typing import Any

from flask import url_for

from certificates.serializers import CERTIFICATE_STATUSES
from common import clock
from common.openapi import DATE, DATETIME, INTEGER, STRING, TITLES, array, enum, nullable, obj, schema
from transcripts import rules
from transcripts.models import Transcript
from transcripts.operations import transcript_url

HOURS = {"type": "string", "pattern": r"^\d+(\.\d+)?$", "examples": ["12.5"]}
_MODULE = obj({"code": STRING, "title": TITLES, "hours": HOURS, "passed_on": DATE,
               "how": enum((rules.COHORT, rules.RECOGNITION)), "cohort": nullable(STRING), "track": nullable(STRING)})
_CERTIFICATE = obj({"serial": STRING, "track": STRING, "title": TITLES, "status": enum(CERTIFICATE_STATUSES),
                    "issued_on": DATE, "expires_on": nullable(DATE)})
_RECORD = {"holder": obj({"name": STRING, "name_ar": STRING, "name_tfng": nullable(STRING)}),
           "modules": array(_MODULE), "certificates": array(_CERTIFICATE), "total_hours": HOURS,
           "issuer": obj({"fr": STRING, "ar": STRING}, required=("fr",))}
TRANSCRIPT = schema("Transcript", obj({"trainee_id": INTEGER, "as_of": DATE, "version": INTEGER, **_RECORD}))
ISSUED_TRANSCRIPT = schema("IssuedTranscript", obj({
    "serial": {"type": "string", "examples": ["KT-2026-000001"]}, "trainee_id": INTEGER, "issued_on": DATE,
    "issued_at": DATETIME, "verify_url": {"type": "string", "format": "uri"}, "verification_code": STRING,
    "pdf_url": STRING, "content": obj({"version": INTEGER, **_RECORD})}))


def transcript_json(trainee_id: int, record: dict[str, Any]) -> dict[str, Any]:
    """A trainee's transcript as of today (not issued: nothing is kept)."""
    return {"trainee_id": trainee_id, "as_of": clock.today().isoformat(), **record}


def issued_json(transcript: Transcript) -> dict[str, Any]:
    return {"serial": transcript.serial, "trainee_id": transcript.trainee_id,
            "issued_on": transcript.issued_on.isoformat(), "issued_at": transcript.issued_at.isoformat(),
            "verify_url": transcript_url(transcript.serial, transcript.verification_code),
            "verification_code": transcript.verification_code,
            "pdf_url": url_for("transcripts_api.pdf", serial=transcript.serial), "content": transcript.content}
