from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import current_app, url_for

from certificates.models import Certificate
from certificates.notifications import revocation_message
from common import clock
from common.openapi import DATE, INTEGER, STRING, enum, nullable, obj, schema
from certificates.signing import verify_url
from certificates.vocab import STATUSES

if TYPE_CHECKING:
    from certificates.verification import Verdict


CERTIFICATE_STATUSES = STATUSES  # the API's name for them
CERTIFICATE = schema("Certificate", obj({
    "serial": {"type": "string", "examples": ["KF-2026-000042"]}, "status": enum(CERTIFICATE_STATUSES), "trainee_id": INTEGER, "track": STRING,
    "holder": STRING, "holder_ar": STRING, "holder_tfng": nullable(STRING), "issued_on": DATE,
    "expires_on": nullable(DATE), "verify_url": {"type": "string", "format": "uri"}, "verification_code": STRING,
    "pdf_url": STRING, "revoked_at": nullable({"type": "string", "format": "date-time"}),
    "revocation_reason": nullable(STRING), "revocation_message": nullable(STRING),
    "superseded_by": nullable(STRING)}))


def certificate_json(certificate: Certificate, *, internal: bool = True) -> dict[str, Any]:
    """`internal`: for an admin, with the revocation's internal reason; its holder gets only the message
    worded for them (the neutral wording when the admin wrote none)."""
    revoked = certificate.revoked_at is not None
    return {
        "serial": certificate.serial,
        "status": certificate.status_on(clock.today()),
        "trainee_id": certificate.trainee_id,
        "track": certificate.track.code,
        "holder": certificate.holder,
        "holder_ar": certificate.holder_ar,
        "holder_tfng": certificate.holder_tfng,
        "issued_on": certificate.issued_on.isoformat(),
        "expires_on": certificate.expires_on.isoformat() if certificate.expires_on else None,
        "verify_url": verify_url(current_app.config["BASE_URL"], certificate.token),
        "verification_code": certificate.verification_code,
        "pdf_url": url_for("certificates_api.pdf", serial=certificate.serial),
        "revoked_at": certificate.revoked_at.isoformat() if certificate.revoked_at else None,
        "revocation_reason": certificate.revocation_reason if internal else None,
        "revocation_message": revocation_message(certificate) if revoked else None,
        "superseded_by": certificate.superseded_by.serial if certificate.superseded_by else None,
    }


def public_json(verdict: Verdict) -> dict[str, Any]:
    """What anyone holding the QR code may learn: no email, employer, identifier or score."""
    certificate = verdict.certificate
    body: dict[str, Any] = {"status": verdict.status}
    if certificate is None or verdict.status in ("invalid", "mismatch"):
        return {**body, "serial": None, "holder": None, "holder_ar": None, "track": None, "issued_on": None,
                "expires_on": None, "issuer": current_app.config["ISSUER_NAME"]}
    # A purged holder's names are gone: null, not an empty name.
    return {**body, "serial": certificate.serial, "holder": certificate.holder or None,
            "holder_ar": certificate.holder_ar or None, "holder_tfng": certificate.holder_tfng,
            "holder_removed": certificate.purged_at is not None, "track": certificate.track.code,
            "track_title": dict(certificate.track.titles),
            "modules": [{"code": m.code, "title": m.title("fr"), "hours": float(m.hours), "recognised": m.recognised}
                        for m in certificate.track.modules],
            "builds_on": [{"code": code, "title": dict(titles)} for code, titles in certificate.track.builds_on],
            "total_hours": float(certificate.track.total_hours),
            "issued_on": certificate.issued_on.isoformat(),
            "expires_on": certificate.expires_on.isoformat() if certificate.expires_on else None,
            "revoked_on": certificate.revoked_at.date().isoformat() if certificate.revoked_at else None,
            "superseded_by": certificate.superseded_by,
            "issuer": certificate.track.issuer_name("fr")}
