"""A certificate's statuses and their names: one vocabulary for the pages, the exports and the API. The
status itself is decided by certificates.rules.certificate_status."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {"valid": _l("Valid"), "revoked": _l("Revoked"), "superseded": _l("Replaced"), "expired": _l("Expired")}
STATUSES = tuple(STATUS_LABELS)
