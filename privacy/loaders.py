from __future__ import annotations

from common.extensions import db
from privacy.models import CorrectionRequest


def get_correction_or_404(correction_id: int) -> CorrectionRequest:
    """Only admins reach the handlers that call this, so there is no object check beyond existence."""
    return db.get_or_404(CorrectionRequest, correction_id)
