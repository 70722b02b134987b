"""Privacy on the JSON API: a person's data export, their correction requests, and the admins' decisions.
The API does not ask for the privacy notice: clients keep working, and GET /me tells whether it was
accepted (the notice is accepted on the web, at account creation or at the next sign-in)."""
from __future__ import annotations

from flask import request

from app import db
from common.api import api_blueprint, json_body, paginated
from common.errors import FieldErrors
from privacy import operations, queries
from privacy.loaders import get_correction_or_404
from privacy.models import CORRECTION_STATUSES
from privacy.serializers import correction_json, export_response
from skills import validation as v
from skills.permissions import current_actor, require_role

bp = api_blueprint("privacy_api", __name__)


@bp.get("/me/export")
@require_role()
def export_mine():
    return export_response(current_actor())


@bp.get("/me/corrections")
@require_role("trainee")
def my_corrections():
    return paginated(queries.corrections(trainee_id=current_actor().trainee_id or -1), correction_json)


@bp.post("/me/corrections")
@require_role("trainee")
def ask_correction():
    correction = operations.request_correction(current_actor(), json_body())
    db.session.commit()
    return correction_json(correction), 201


@bp.get("/corrections")
@require_role("admin")
def list_corrections():
    errors = FieldErrors()
    status = v.choice(errors, "status", request.args.get("status") or None, CORRECTION_STATUSES, required=False)
    errors.raise_if_any()
    return paginated(queries.corrections(status), correction_json)


@bp.post("/corrections/<int:correction_id>/approve")
@require_role("admin")
def approve(correction_id: int):
    correction = get_correction_or_404(correction_id)
    data = request.get_json(silent=True)  # the note is optional, and so is the body
    note = data.get("note") if isinstance(data, dict) else None
    reissued = operations.approve_correction(current_actor(), correction, note)
    db.session.commit()
    return {**correction_json(correction), "reissued": reissued}


@bp.post("/corrections/<int:correction_id>/reject")
@require_role("admin")
def reject(correction_id: int):
    correction = get_correction_or_404(correction_id)
    operations.reject_correction(current_actor(), correction, json_body().get("note"))
    db.session.commit()
    return correction_json(correction)
