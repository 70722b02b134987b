from __future__ import annotations

import sqlalchemy as sa

from certificates.models import Certificate


def certificates_of_trainee(trainee_id: int) -> sa.Select:
    return sa.select(Certificate).where(Certificate.trainee_id == trainee_id).order_by(
        Certificate.issued_at.desc(), Certificate.id.desc())
