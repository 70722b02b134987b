from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import sqlalchemy as sa
from flask import Response, abort

from accounts.permissions import current_actor
from certificates.models import Certificate
from certificates.serializers import CERTIFICATE_STATUSES
from common import validation as v
from common.errors import FieldErrors
from common.extensions import db
from common.openapi import Param
from skills.filters import ListFilters, list_filters

# The admin's certificate search, on the list page and in the API: a serial or a holder's name, the status,
# the track and the year of issue.
SEARCH_FILTERS = ("q", "track", "status")
YEARS = (1900, 9999)
YEAR_PARAM = Param("year", {"type": "integer", "minimum": YEARS[0], "maximum": YEARS[1]}, "Year of issue.")
Q_PARAM = Param("q", {"type": "string", "maxLength": 200},
                "A serial, whole or its start (case, spaces and dashes do not matter), or part of a holder's "
                "name in Latin, Arabic or Tifinagh letters, case-insensitive.")


@dataclass(frozen=True)
class CertificateSearch:
    filters: ListFilters
    year: int | None


def certificate_search(args: Mapping[str, str], *names: str, errors: FieldErrors | None = None) -> CertificateSearch:
    """The search and filters of a certificate list, every fault reported at once with those the caller
    collected in `errors` (ValidationFailed: 422 in the API, messages beside the fields on the page).
    `names`: further list filters (cohort, sector...)."""
    errors = errors if errors is not None else FieldErrors()
    year = v.integer(errors, "year", args.get("year"), minimum=YEARS[0], maximum=YEARS[1], required=False)
    return CertificateSearch(list_filters(args, *SEARCH_FILTERS, *names, statuses=CERTIFICATE_STATUSES,
                                          errors=errors), year)


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
