from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from certificates.models import Certificate
from certificates.rules import certificate_status
from common import clock
from common.extensions import db
from skills.models import Cohort, Enrollment, Trainee


def certificates_of_trainee(trainee_id: int) -> sa.Select:
    return sa.select(Certificate).where(Certificate.trainee_id == trainee_id).order_by(
        Certificate.issued_at.desc(), Certificate.id.desc())


def certificates_on_page(trainee) -> list[Certificate]:
    """A trainee's certificates, newest first, for their page in the registry (skills.views)."""
    return list(db.session.scalars(certificates_of_trainee(trainee.id)))


def prerequisite_holdings(trainee_ids: list[int], track_ids: list[int]) -> dict[tuple[int, int], list[str]]:
    """The statuses today of the certificates these trainees hold of these tracks, for the registry's
    eligibility (skills.queries.PREREQUISITE_HOLDINGS, set by the factory). One query."""
    day = clock.today()
    held: dict[tuple[int, int], list[str]] = {}
    for row in db.session.execute(
            sa.select(Certificate.trainee_id, Certificate.track_id, Certificate.revoked_at, Certificate.superseded_at,
                      Certificate.expires_on)
            .where(Certificate.trainee_id.in_(trainee_ids), Certificate.track_id.in_(track_ids))):
        held.setdefault((row.trainee_id, row.track_id), []).append(
            certificate_status(row.revoked_at, row.superseded_at, row.expires_on, day))
    return held


def _status_condition(status: str, day: date):
    """The SQL twin of Certificate.status_on(day)."""
    live = sa.and_(Certificate.revoked_at.is_(None), Certificate.superseded_at.is_(None))
    return {
        "revoked": Certificate.revoked_at.is_not(None),
        "superseded": sa.and_(Certificate.revoked_at.is_(None), Certificate.superseded_at.is_not(None)),
        "expired": sa.and_(live, Certificate.expires_on < day),
        "valid": sa.and_(live, sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= day)),
    }[status]


def certificates(*, trainee_id: int | None = None, track_id: int | None = None, cohort_id: int | None = None,
                 sector: str | None = None, region: str | None = None, status: str | None = None,
                 day: date | None = None, changed_since: datetime | None = None) -> sa.Select:
    """Certificates, newest first. `cohort_id`: held by the cohort's trainees, of its track; `sector` and
    `region` are the holder's; `status` as on `day`; `changed_since`: issued, revoked or superseded since."""
    query = sa.select(Certificate).order_by(Certificate.id.desc())
    if trainee_id is not None:
        query = query.where(Certificate.trainee_id == trainee_id)
    if track_id is not None:
        query = query.where(Certificate.track_id == track_id)
    if cohort_id is not None:
        query = query.where(
            Certificate.trainee_id.in_(sa.select(Enrollment.trainee_id).where(Enrollment.cohort_id == cohort_id)),
            Certificate.track_id == sa.select(Cohort.track_id).where(Cohort.id == cohort_id).scalar_subquery())
    for column, value in ((Trainee.sector, sector), (Trainee.region, region)):
        if value:
            query = query.where(Certificate.trainee_id.in_(sa.select(Trainee.id).where(column == value)))
    if status:
        query = query.where(_status_condition(status, day))
    if changed_since is not None:
        query = query.where(sa.or_(Certificate.issued_at >= changed_since, Certificate.revoked_at >= changed_since,
                                   Certificate.superseded_at >= changed_since))
    return query
