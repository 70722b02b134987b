from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort

from accounts.permissions import current_actor
from certificates.models import Certificate
from common.extensions import db


def get_certificate_or_404(serial: str, *, own_or_admin: bool = True) -> Certificate:
    """A certificate its holder or an admin may see. To anyone else it does not exist (404), so a serial
    cannot be used to probe whose certificate it is."""
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.serial == serial))
    actor = current_actor()
    if certificate is None or actor is None:
        abort(404)
    if own_or_admin and not (actor.role == "admin" or (actor.trainee_id and actor.trainee_id == certificate.trainee_id)):
        abort(404)
    return certificate


def pdf_response(certificate: Certificate) -> Response:
    from certificates.operations import downloadable_pdf

    return Response(downloadable_pdf(certificate), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{certificate.serial}.pdf"', "Cache-Control": "private, no-store"})
