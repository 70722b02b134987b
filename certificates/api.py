"""Certificates on the JSON API."""
from __future__ import annotations

from functools import partial

import sqlalchemy as sa
from flask import g, request

from accounts.bearer import api_blueprint
from accounts.permissions import current_actor, require_role
from certificates import operations
from certificates.loaders import Q_PARAM, SEARCH_FILTERS, YEAR_PARAM, certificate_search, get_certificate_or_404, pdf_response
from certificates.queries import certificates
from certificates.serializers import CERTIFICATE, CERTIFICATE_STATUSES, certificate_json
from common import clock, validation as v
from common.api import json_body, paginated
from common.errors import FieldErrors, NotFound
from common.extensions import db
from common.openapi import BINARY, STRING, Answer, Body, Param, documented, nullable, obj, page_of
from skills.filters import ListFilters, list_filters, params as filter_params
from skills.models import Track, Trainee

bp = api_blueprint("certificates_api", __name__)
PDF = Answer("The signed PDF (PAdES).", {"application/pdf": BINARY})
CERTIFICATE_FILTERS = ("cohort", "sector", "region", "updated_since")  # with the search's (loaders.SEARCH_FILTERS)
MY_CERTIFICATE_FILTERS = ("track", "status")


@bp.post("/certificates")
@require_role("admin")
@documented("Issue a certificate", tag="Certificates",
            body=Body(obj({"trainee_id": {"type": "integer", "minimum": 1}, "track": STRING})),
            responses={201: CERTIFICATE, 200: CERTIFICATE},
            errors=(409,),
            description="201 issued; 200 when the trainee already holds a current one; 422 with `missing` "
                        "requirements when not eligible; 409 with `revoked` (the serial) when the trainee's "
                        "certificate of this track was revoked: only lifting the revocation undoes it.")
def issue():
    data = json_body()
    errors = FieldErrors()
    trainee_id = v.row_id(errors, "trainee_id", data.get("trainee_id"))
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
@documented("List certificates", tag="Certificates", responses={200: page_of(CERTIFICATE)},
            paginated=True, description="Newest first. `q`: a serial (whole or its start) or part of a holder's "
                                        "name; `status` as of today; `year`: of issue; `updated_since`: issued, "
                                        "revoked or superseded since then. An unknown value answers 422.",
            query=(Param("trainee_id", {"type": "integer", "minimum": 1}), Q_PARAM,
                   *filter_params(*(n for n in SEARCH_FILTERS if n != "q"), *CERTIFICATE_FILTERS,
                                  statuses=CERTIFICATE_STATUSES), YEAR_PARAM))
def list_certificates():
    errors = FieldErrors()
    trainee_id = v.row_id(errors, "trainee_id", request.args.get("trainee_id"), required=False)
    search = certificate_search(request.args, *CERTIFICATE_FILTERS, errors=errors)
    return paginated(_certificates(search.filters, trainee_id=trainee_id, year=search.year), certificate_json)


def _certificates(f: ListFilters, **kw) -> sa.Select:
    return certificates(track_id=f.track.id if f.track else None, cohort_id=f.cohort.id if f.cohort else None,
                        sector=f.sector, region=f.region, status=f.status, day=clock.today(),
                        changed_since=f.updated_since, q=f.q, **kw)


@bp.get("/certificates/<serial>")
@require_role()
@documented("Get a certificate", tag="Certificates", responses={200: CERTIFICATE})
def get(serial: str):
    return certificate_json(get_certificate_or_404(serial), internal=current_actor().role == "admin")


@bp.get("/certificates/<serial>/pdf")
@require_role()
@documented("Download a certificate's PDF", tag="Certificates", responses={200: PDF})
def pdf(serial: str):
    certificate = get_certificate_or_404(serial)
    return pdf_response(certificate)


@bp.post("/certificates/<serial>/revoke")
@require_role("admin")
@documented("Revoke a certificate", tag="Certificates",
            body=Body(obj({"reason": STRING, "message": nullable({**STRING, "maxLength": 500})}, required=("reason",))),
            responses={200: CERTIFICATE}, errors=(409,),
            description="`reason` is internal (admins see it); `message` is what the holder is told by mail and on "
                        "their certificates (optional: a neutral wording otherwise).")
def revoke(serial: str):
    data = json_body()
    certificate = operations.revoke_certificate(current_actor(), get_certificate_or_404(serial),
                                                data.get("reason"), data.get("message"))
    db.session.commit()
    return certificate_json(certificate)


@bp.post("/certificates/<serial>/reinstate")
@require_role("admin")
@documented("Lift a certificate's revocation", tag="Certificates", body=Body(obj({"reason": STRING})),
            responses={200: CERTIFICATE}, errors=(409,),
            description="For a revocation made by mistake: the certificate is current again. The reason is "
                        "required and audited.")
def reinstate(serial: str):
    certificate = operations.reinstate_certificate(current_actor(), get_certificate_or_404(serial),
                                                   json_body().get("reason"))
    db.session.commit()
    return certificate_json(certificate)


@bp.post("/certificates/<serial>/reissue")
@require_role("admin")
@documented("Reissue a certificate", tag="Certificates", responses={201: CERTIFICATE}, errors=(409,),
            description="A corrected name or a renewal: a new certificate that supersedes this one.")
def reissue(serial: str):
    """A corrected name or a renewal: a new certificate that supersedes this one."""
    new = operations.reissue_certificate(current_actor(), get_certificate_or_404(serial))
    db.session.commit()
    return certificate_json(new), 201


@bp.get("/me/certificates")
@require_role()
@documented("The token's own certificates", tag="Certificates", responses={200: page_of(CERTIFICATE)},
            paginated=True, query=filter_params(*MY_CERTIFICATE_FILTERS, statuses=CERTIFICATE_STATUSES))
def mine():
    f = list_filters(request.args, *MY_CERTIFICATE_FILTERS, statuses=CERTIFICATE_STATUSES)
    return paginated(_certificates(f, trainee_id=g.api_user.trainee_id or -1),
                     partial(certificate_json, internal=False))
