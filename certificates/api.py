"""Certificates on the JSON API."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, g, request

from app import db
from certificates import operations
from certificates.loaders import get_certificate_or_404, pdf_response
from certificates.models import Certificate
from certificates.queries import certificates_of_trainee
from certificates.serializers import certificate_json
from common.api import api_blueprint, json_body, paginated
from common.errors import FieldErrors, NotFound
from skills import validation as v
from skills.models import Track, Trainee
from skills.permissions import current_actor, require_role

bp = api_blueprint("certificates_api", __name__)


@bp.post("/certificates")
@require_role("admin")
def issue():
    data = json_body()
    errors = FieldErrors()
    trainee_id = v.integer(errors, "trainee_id", data.get("trainee_id"), minimum=1)
    track_code = v.code(errors, "track", data.get("track"))
    errors.raise_if_any()
    trainee = db.session.get(Trainee, trainee_id)
    track = db.session.scalar(sa.select(Track).where(Track.code == track_code))
    if trainee is None or track is None:
        raise NotFound(fields={"trainee_id" if trainee is None else "track": [NotFound.title]})
    certificate, created = operations.issue_certificate(current_actor(), trainee, track)
    db.session.commit()
    return certificate_json(certificate), 201 if created else 200


@bp.get("/certificates")
@require_role("admin")
def list_certificates():
    query = sa.select(Certificate).order_by(Certificate.id.desc())
    if request.args.get("trainee_id", "").isdigit():
        query = query.where(Certificate.trainee_id == int(request.args["trainee_id"]))
    return paginated(query, certificate_json)


@bp.get("/certificates/<serial>")
@require_role()
def get(serial: str):
    return certificate_json(get_certificate_or_404(serial))


@bp.get("/certificates/<serial>/pdf")
@require_role()
def pdf(serial: str):
    certificate = get_certificate_or_404(serial)
    return pdf_response(certificate)


@bp.post("/certificates/<serial>/revoke")
@require_role("admin")
def revoke(serial: str):
    certificate = operations.revoke_certificate(current_actor(), get_certificate_or_404(serial),
                                                json_body().get("reason"))
    db.session.commit()
    return certificate_json(certificate)


@bp.post("/certificates/<serial>/reissue")
@require_role("admin")
def reissue(serial: str):
    """A corrected name or a renewal: a new certificate that supersedes this one."""
    new = operations.reissue_certificate(current_actor(), get_certificate_or_404(serial))
    db.session.commit()
    return certificate_json(new), 201


@bp.get("/me/certificates")
@require_role()
def mine():
    return paginated(certificates_of_trainee(g.api_user.trainee_id or -1), certificate_json)
