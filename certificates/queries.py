from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from accounts.models import User
from audit.models import AuditEntry
from certificates.models import Certificate
from certificates.rules import certificate_status, serial_search
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


def _matching(q: str):
    """A serial (whole or its start, as rules.serial_search reads it) or part of a holder's name as
    printed on the certificate, in any of its scripts, ignoring case."""
    conditions = [sa.func.lower(column).contains(q.lower(), autoescape=True)
                  for column in (Certificate.holder, Certificate.holder_ar, Certificate.holder_tfng)]
    serial = serial_search(q)
    if serial is not None:
        conditions.append(Certificate.serial.startswith(serial))
    return sa.or_(*conditions)


def certificates(*, trainee_id: int | None = None, track_id: int | None = None, cohort_id: int | None = None,
                 sector: str | None = None, region: str | None = None, status: str | None = None,
                 day: date | None = None, changed_since: datetime | None = None, q: str | None = None,
                 year: int | None = None) -> sa.Select:
    """Certificates, newest first. `cohort_id`: held by the cohort's trainees, of its track; `sector` and
    `region` are the holder's; `status` as on `day`; `changed_since`: issued, revoked or superseded since;
    `q`: a serial or a holder's name (see _matching); `year`: issued that year."""
    query = sa.select(Certificate).order_by(Certificate.id.desc())
    if q:
        query = query.where(_matching(q))
    if year is not None:
        query = query.where(Certificate.issued_on.between(date(year, 1, 1), date(year, 12, 31)))
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


def issue_years() -> sa.Select:
    """The years certificates were issued in, latest first (the list page's year filter)."""
    year = sa.extract("year", Certificate.issued_on)
    return sa.select(year).distinct().order_by(year.desc())


def predecessor_of(certificate_id: int) -> sa.Select:
    """The certificate this one replaced, if it was a reissue."""
    return sa.select(Certificate).where(Certificate.superseded_by_id == certificate_id)


@dataclass(frozen=True)
class HistoryEvent:
    kind: str  # issued, revoked, reinstated, superseded, purged
    at: datetime
    actor: str | None = None  # the email of whoever did it; None for the system or a deleted account
    reason: str | None = None
    other: str | None = None  # issued: the serial it replaced; superseded: the serial replacing it


_AUDITED = {"certificate.issue": "issued", "certificate.revoke": "revoked", "certificate.reinstate": "reinstated"}


def certificate_history(certificate: Certificate) -> list[HistoryEvent]:
    """What happened to a certificate, oldest first. Combines two reads: its audit entries (issued, revoked
    with the reason, reinstated with its reason) and what its own columns record (the certificate it
    replaced and the one replacing it, its holder's data deleted). A step the trail lacks (a certificate
    written before the trail, say) is told from the columns, without the actor when none is recorded."""
    entries = db.session.execute(
        sa.select(AuditEntry, User.email).outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.target_type == "certificate", AuditEntry.target_id == certificate.serial,
               AuditEntry.action.in_(_AUDITED)).order_by(AuditEntry.seq)).all()
    predecessor = db.session.scalar(predecessor_of(certificate.id))
    events = [HistoryEvent(_AUDITED[entry.action], entry.at, email, (entry.after or {}).get("reason"),
                           predecessor.serial if predecessor and entry.action == "certificate.issue" else None)
              for entry, email in entries]
    kinds = [event.kind for event in events]
    emails = dict(db.session.execute(sa.select(User.id, User.email).where(
        User.id.in_([i for i in (certificate.issued_by_id, certificate.revoked_by_id) if i is not None]))).all())
    if "issued" not in kinds:
        events.insert(0, HistoryEvent("issued", certificate.issued_at, emails.get(certificate.issued_by_id),
                                      other=predecessor.serial if predecessor else None))
    if certificate.revoked_at is not None and (not kinds or kinds[-1] != "revoked"):
        events.append(HistoryEvent("revoked", certificate.revoked_at, emails.get(certificate.revoked_by_id),
                                   certificate.revocation_reason))
    if certificate.superseded_at is not None:
        events.append(HistoryEvent("superseded", certificate.superseded_at,
                                   other=certificate.superseded_by.serial if certificate.superseded_by else None))
    if certificate.purged_at is not None:
        events.append(HistoryEvent("purged", certificate.purged_at))
    return sorted(events, key=lambda event: event.at)  # stable: the issue stays first when times are equal
