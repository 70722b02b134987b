"""The trained_periods table, kept exact as certificates, tracks, cohorts and trainees change.

Whatever is flushed through the ORM (issuing, revoking, reissuing and renewing certificates, editing a
trainee, a track's counts_toward_target, a cohort's language) is noticed by the session listeners below,
which rebuild the periods of the people concerned in the same transaction: no operation has to remember
to, and a refused request leaves the table as it was. Bulk statements that bypass the unit of work
(skills' `write_trainees`, which the spreadsheet import uses) send `skills.signals.trainees_written`, which
`refresh_written` answers. The factory wires both (`install`, and the signal's subscription).
"""
from __future__ import annotations

from collections.abc import Iterable
from itertools import chain

import sqlalchemy as sa
from sqlalchemy.orm import Session

from certificates.models import Certificate
from common.extensions import db
from governance.models import TrainedPeriod
from governance.rules import CountingCertificate, trained_periods
from skills.models import Cohort, Track, Trainee

CHUNK = 500  # people per round of statements (stays under SQLite's bound-parameter limit)
PERSON_FIELDS = ("category", "sector", "region", "gender")
# What a certificate's periods depend on: changing any of these rebuilds its holder's periods.
CERTIFICATE_FIELDS = ("trainee_id", "track_id", "cohort_id", "issued_on", "expires_on", "revoked_at", "superseded_at")

certificates, tracks, cohorts, trainees = (model.__table__ for model in (Certificate, Track, Cohort, Trainee))
periods = TrainedPeriod.__table__


def refresh(connection: sa.Connection, trainee_ids: Iterable[int]) -> None:
    """Rebuild the periods of these people from their certificates and their record."""
    ids = sorted(set(trainee_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        connection.execute(sa.delete(periods).where(periods.c.trainee_id.in_(chunk)))
        held: dict[int, list[CountingCertificate]] = {}
        for row in connection.execute(
                sa.select(certificates.c.trainee_id, certificates.c.track_id, certificates.c.issued_on,
                          certificates.c.expires_on, certificates.c.revoked_at, certificates.c.superseded_at,
                          cohorts.c.language)
                .join(tracks, tracks.c.id == certificates.c.track_id)
                .outerjoin(cohorts, cohorts.c.id == certificates.c.cohort_id)
                .where(certificates.c.trainee_id.in_(chunk), tracks.c.counts_toward_target)):
            held.setdefault(row.trainee_id, []).append(CountingCertificate(*row[1:]))
        if not held:
            continue
        people = connection.execute(sa.select(trainees.c.id, *(trainees.c[f] for f in PERSON_FIELDS))
                                    .where(trainees.c.id.in_(list(held)))).all()
        rows = [{"trainee_id": person.id, "track_id": period.track_id, "first_day": period.first_day,
                 "last_day": period.last_day, "language": period.language,
                 **{f: getattr(person, f) for f in PERSON_FIELDS}}
                for person in people for period in trained_periods(held[person.id])]
        if rows:
            connection.execute(sa.insert(periods), rows)


def rebuild(connection: sa.Connection) -> None:
    """Rebuild the whole table (after a bulk load that bypassed the ORM, or to repair it)."""
    connection.execute(sa.delete(periods))
    refresh(connection, connection.scalars(sa.select(certificates.c.trainee_id).distinct()))


# --- the session listeners ------------------------------------------------------------------------------

def _changed(obj, fields: Iterable[str]) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _holders(session: Session, column, value) -> set[int]:
    """The people holding a certificate whose `column` is `value`."""
    return set(session.connection().scalars(
        sa.select(certificates.c.trainee_id).where(column == value).distinct()))


def _before_flush(session: Session, _context, _instances) -> None:
    # A deleted cohort's certificates lose their cohort (ON DELETE SET NULL) during the flush: note
    # their holders while the link is still there.
    pending = session.info.setdefault("trained_periods_pending", set())
    for obj in session.deleted:
        if isinstance(obj, Cohort):
            pending |= _holders(session, certificates.c.cohort_id, obj.id)


def _after_flush(session: Session, _context) -> None:
    affected: set[int] = session.info.pop("trained_periods_pending", set())
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Certificate):
            if obj in session.new or obj in session.deleted or _changed(obj, CERTIFICATE_FIELDS):
                affected.add(obj.trainee_id)
                affected.update(i for i in sa.inspect(obj).attrs.trainee_id.history.deleted if i is not None)
        elif isinstance(obj, Trainee):
            if obj not in session.new and _changed(obj, PERSON_FIELDS):
                affected.add(obj.id)
        elif isinstance(obj, Track):
            if obj not in session.new and _changed(obj, ("counts_toward_target",)):
                affected |= _holders(session, certificates.c.track_id, obj.id)
        elif isinstance(obj, Cohort):
            if obj not in session.new and obj not in session.deleted and _changed(obj, ("language",)):
                affected |= _holders(session, certificates.c.cohort_id, obj.id)
    if affected:
        refresh(session.connection(), affected)


def install() -> None:
    """Keep trained_periods in step with every flush of the app's session. The factory calls this once."""
    for name, listener in (("before_flush", _before_flush), ("after_flush", _after_flush)):
        if not sa.event.contains(db.session, name, listener):
            sa.event.listen(db.session, name, listener)


def refresh_written(connection: sa.Connection, *, updated_ids: Iterable[int], **_) -> None:
    """Answer skills' `trainees_written` signal: rebuild the periods of the updated people (their category,
    sector, region or gender may have changed). New trainees hold no certificate yet, so no period."""
    refresh(connection, updated_ids)


def refresh_recognised(connection: sa.Connection, *, trainee_ids: Iterable[int], **_) -> None:
    """Answer skills' `recognitions_changed` signal: a recognition recorded or withdrawn changes what its
    holder is eligible for, so their periods are rebuilt in the same transaction. Today the periods rest on
    certificates only (a certificate issued on a recognition stands when it is withdrawn); rebuilding here
    keeps them right once anything they count depends on recognitions."""
    refresh(connection, trainee_ids)
