"""Open Badges 3.0: a certificate's credential for its holder (API and web download), and the public
documents wallets fetch to check it: the issuer profile, its keys, the achievements and the revocation list.

A credential is a compact JWS (VC-JWT). Open Badges 3.0 says a VC-JWT web resource is the compact JWS
itself (Content-Type text/plain) and a VC-JWT file holds just that string (.jwt), so:
- GET /credentials/status/revocation and /credentials/status/message answer the JWS unless JSON is preferred;
- GET /api/v1/certificates/SERIAL/credential answers JSON {"serial", "credential", "jwt"} like the rest of
  the API, unless the client asks for application/vc+jwt, application/jwt or text/plain;
- GET /certificates/SERIAL/credential.jwt (web, session) downloads the JWS as a file.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, make_response, request

from accounts.bearer import api_blueprint
from accounts.permissions import require_role
from certificates import keys, openbadges
from certificates.loaders import get_certificate_or_404
from certificates.operations import certified_record
from certificates.rules import Certified
from certificates.signing import public_jwk
from common.extensions import db
from common.openapi import STRING, Answer, documented, obj
from skills.models import Track

bp = Blueprint("openbadges", __name__)
api_bp = api_blueprint("openbadges_api", __name__)

JWS_TYPES = ("application/vc+jwt", "application/jwt", "text/plain")
ISSUER_PATH = f"/issuers/{openbadges.ISSUER_SLUG}"
PRIVATE = "private, no-store"  # like the PDF: a person's document, never kept by a cache


def _jws_type(*, json_first: bool) -> str | None:
    """The JWS media type to answer with, or None for JSON. Ties (*/*, no Accept) go to the first offered."""
    offered = ["application/json", *JWS_TYPES] if json_first else ["text/plain", *JWS_TYPES[:2], "application/json"]
    best = request.accept_mimetypes.best_match(offered) or offered[0]
    return None if best == "application/json" else best


def _signed(vc: dict, *, json_first: bool, extra: dict | None = None) -> Response:
    """The credential as JSON (with its JWS) or as the bare JWS, whose `typ` names the media type served."""
    mimetype = _jws_type(json_first=json_first)
    token = openbadges.sign_jwt(vc, openbadges.jwt_type(mimetype))
    if mimetype is None:
        response = make_response({**(extra or {}), "credential": vc, "jwt": token})
    else:
        response = Response(token, mimetype=mimetype)
    response.vary.add("Accept")
    return response


def _public(response: Response, cache: str) -> Response:
    """A document any wallet or verifier may fetch, from any origin."""
    response.headers["Cache-Control"] = cache
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _holders_credential(serial: str) -> tuple[str, dict]:
    """(serial, credential) of a certificate its holder or an admin asks for; 404 to anyone else."""
    certificate = get_certificate_or_404(serial)
    return certificate.serial, openbadges.credential(certificate)


@api_bp.get("/certificates/<serial>/credential")
@require_role()
@documented("A certificate's Open Badges 3.0 credential", tag="Certificates", responses={200: Answer(
    "The credential and its VC-JWT; the bare JWS when Accept asks for application/vc+jwt, application/jwt or "
    "text/plain.",
    {"application/json": obj({"serial": STRING, "credential": {"type": "object"}, "jwt": STRING}),
     **{media: STRING for media in JWS_TYPES}})})
def credential(serial: str):
    serial, vc = _holders_credential(serial)
    response = _signed(vc, json_first=True, extra={"serial": serial})
    response.headers["Cache-Control"] = PRIVATE
    return response


@bp.get("/certificates/<serial>/credential.jwt")
@require_role()
def download(serial: str):
    serial, vc = _holders_credential(serial)
    return Response(openbadges.sign_jwt(vc, "JWT"), mimetype="text/plain", headers={
        "Content-Disposition": f'attachment; filename="{serial}.jwt"', "Cache-Control": PRIVATE})


@bp.get("/credentials/status/revocation", defaults={"purpose": "revocation"})
@bp.get("/credentials/status/message", defaults={"purpose": "message"})
def status_list(purpose: str):
    response = _signed(openbadges.status_list_credential(purpose), json_first=False)
    return _public(response, "no-store")  # a revocation must be seen at once


@bp.get(ISSUER_PATH)
def issuer():
    return _public(make_response(openbadges.issuer_document()), "public, max-age=3600")


@bp.get(f"{ISSUER_PATH}/keys/<kid>")
def key(kid: str):
    public = keys.keystore().public_keys().get(kid)
    if public is None:
        abort(404)
    return _public(make_response(public_jwk(kid, public)), "public, max-age=300")


@bp.get("/achievements/<code>")
def achievement(code: str):
    track = db.session.scalar(sa.select(Track).where(Track.code == code))
    if track is None:
        abort(404)
    content = Certified.from_record(certified_record(track))
    return _public(make_response(openbadges.achievement_document(content)), "public, max-age=300")
