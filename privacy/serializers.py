"""JSON shapes of privacy objects, and a person's whole data export (one function for the API and the
web button)."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Response

from accounts.models import User
from accounts.serializers import consent_json
from common import clock
from common.extensions import db
from common.openapi import DATETIME, INTEGER, STRING, enum, nullable, obj, schema
from common.types import iso_utc
from privacy import queries
from privacy.models import CORRECTION_FIELDS, CORRECTION_STATUSES, CorrectionRequest
from skills.serializers import trainee_json


def _iso(value: datetime | None) -> str | None:
    return None if value is None else iso_utc(value)


CORRECTION_PROPERTIES = {
    "id": INTEGER, "trainee_id": INTEGER, "field": enum(CORRECTION_FIELDS), "current_value": nullable(STRING),
    "requested_value": STRING, "reason": STRING, "status": enum(CORRECTION_STATUSES), "created_at": DATETIME,
    "handled_at": nullable(DATETIME), "admin_note": STRING}
CORRECTION = schema("CorrectionRequest", obj(CORRECTION_PROPERTIES))
def correction_json(correction: CorrectionRequest) -> dict[str, Any]:
    return {"id": correction.id, "trainee_id": correction.trainee_id, "field": correction.field,
            "current_value": correction.current_value, "requested_value": correction.requested_value,
            "reason": correction.reason, "status": correction.status, "created_at": _iso(correction.created_at),
            "handled_at": _iso(correction.handled_at), "admin_note": correction.admin_note}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _rows(query) -> list[dict[str, Any]]:
    return [{key: _plain(value) for key, value in row._mapping.items()} for row in db.session.execute(query)]


def personal_data(user: User) -> dict[str, Any]:
    """Everything the registry holds about this person. No password hash, no token, no signing secret;
    nothing about anyone else (trainers and admins appear only as the fact that they recorded something)."""
    data: dict[str, Any] = {
        "exported_at": iso_utc(clock.now()),
        "account": {"id": user.id, "email": user.email, "role": user.role, "locale": user.locale,
                    "active": user.active, "created_at": _iso(user.created_at),
                    "last_login_at": _iso(user.last_login_at)},
        "privacy_notice": consent_json(user),
        "trainee": None, "enrollments": [], "attendance": [], "check_ins": [], "results": [], "certificates": [],
        "correction_requests": [],
    }
    trainee = user.trainee
    if trainee is None:
        return data
    attendance = _rows(queries.attendance_of(trainee.id))
    today = clock.today()
    data.update(
        trainee={**trainee_json(trainee), "created_at": _iso(trainee.created_at)},
        enrollments=_rows(queries.enrollments_of(trainee.id)),
        attendance=attendance,
        check_ins=[record for record in attendance if record["source"] == "checkin"],
        results=_rows(queries.results_of(trainee.id)),
        certificates=[{
            "serial": c.serial, "track": c.track.code, "holder": c.holder, "holder_ar": c.holder_ar,
            "holder_tfng": c.holder_tfng, "status": c.status_on(today), "issued_on": c.issued_on.isoformat(),
            "expires_on": _plain(c.expires_on), "revoked_at": _iso(c.revoked_at),
            "revocation_reason": c.revocation_reason,
            "superseded_by": c.superseded_by.serial if c.superseded_by is not None else None,
            "verification_count": int(checks)}
            for c, checks in db.session.execute(queries.certificates_with_checks_of(trainee.id))],
        correction_requests=[correction_json(c) for c in db.session.scalars(queries.corrections(trainee_id=trainee.id))],
    )
    return data


def export_response(user: User) -> Response:
    """The export as a JSON file to download."""
    body = json.dumps(personal_data(user), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    filename = f"kafaa-my-data-{clock.today().isoformat()}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
