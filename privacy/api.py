"""Privacy on the JSON API: a person's data export, their correction requests, and the admins' decisions.
The API does not ask for the privacy notice: clients keep working, and GET /me tells whether it was
accepted (the notice is accepted on the web, at account creation or at the next sign-in)."""
from __future__ import annotations

from flask import request

from accounts.bearer import api_blueprint
from accounts.permissions import current_actor, require_role
from common import validation as v
from common.api import json_body, paginated
from common.errors import FieldErrors
from common.extensions import db
from common.openapi import STRING, Answer, Body, Param, array, documented, enum, obj, page_of
from privacy import operations, queries
from privacy.loaders import get_correction_or_404
from privacy.models import CORRECTION_FIELDS, CORRECTION_STATUSES
from privacy.serializers import CORRECTION, CORRECTION_PROPERTIES, correction_json, export_response

bp = api_blueprint("privacy_api", __name__)

EXPORT = Answer("All the caller's personal data, as a JSON file to download (attachment).",
                {"application/json": {"type": "object"}})
NOTE = {"type": "string", "maxLength": 1000}


@bp.get("/me/export")
@require_role()
@documented("Download all my personal data", tag="Privacy", responses={200: EXPORT},
            description="Account, trainee record, enrolments, attendance, check-ins, results, certificates with "
                        "their verification counts, correction requests and the privacy notice's acceptance.")
def export_mine():
    return export_response(current_actor())


@bp.get("/me/corrections")
@require_role("trainee")
@documented("My correction requests", tag="Privacy", responses={200: page_of(CORRECTION)}, paginated=True)
def my_corrections():
    return paginated(queries.corrections(trainee_id=current_actor().trainee_id or -1), correction_json)


@bp.post("/me/corrections")
@require_role("trainee")
@documented("Ask for a correction of my data", tag="Privacy", responses={201: CORRECTION}, errors=(409,),
            body=Body(obj({"field": enum(CORRECTION_FIELDS), "value": STRING, "reason": STRING},
                          required=("field", "value"))),
            description="One pending request per field; an admin approves or rejects it. A corrected name "
                        "reissues the trainee's valid certificates.")
def ask_correction():
    correction = operations.request_correction(current_actor(), json_body())
    db.session.commit()
    return correction_json(correction), 201


@bp.get("/corrections")
@require_role("admin")
@documented("List correction requests", tag="Privacy", responses={200: page_of(CORRECTION)}, paginated=True,
            query=(Param("status", enum(CORRECTION_STATUSES)),))
def list_corrections():
    errors = FieldErrors()
    status = v.choice(errors, "status", request.args.get("status") or None, CORRECTION_STATUSES, required=False)
    errors.raise_if_any()
    return paginated(queries.corrections(status), correction_json)


@bp.post("/corrections/<int:correction_id>/approve")
@require_role("admin")
@documented("Approve a correction request", tag="Privacy", errors=(409,),
            body=Body(obj({"note": NOTE}, required=()), required=False),
            responses={200: obj({**CORRECTION_PROPERTIES, "reissued": array(STRING)})},
            description="Applies the correction; a corrected name reissues each valid certificate (same dates) "
                        "and `reissued` lists the new serials.")
def approve(correction_id: int):
    correction = get_correction_or_404(correction_id)
    data = request.get_json(silent=True)  # the note is optional, and so is the body
    note = data.get("note") if isinstance(data, dict) else None
    reissued = operations.approve_correction(current_actor(), correction, note)
    db.session.commit()
    return {**correction_json(correction), "reissued": reissued}


@bp.post("/corrections/<int:correction_id>/reject")
@require_role("admin")
@documented("Reject a correction request", tag="Privacy", errors=(409,), responses={200: CORRECTION},
            body=Body(obj({"note": NOTE})), description="The note, which the trainee reads, is required.")
def reject(correction_id: int):
    correction = get_correction_or_404(correction_id)
    operations.reject_correction(current_actor(), correction, json_body().get("note"))
    db.session.commit()
    return correction_json(correction)
