"""The governance figures, every one computed in the database.

"Trained" on a day: holding a certificate of a track that counts toward the target, issued by that day
and on that day neither revoked, replaced nor expired. A person with several such certificates counts
once. Those figures come from trained_periods (kept by governance.trained as certificates change), and
attendance from the per-cohort running totals: never from scanning certificates or raw attendance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from app import db
from certificates.models import Certificate, VerificationCount
from common import clock
from common.clock import MOROCCO
from governance import trained  # noqa: F401  (keeps trained_periods exact: its session listeners)
from governance.models import DEFAULT_TARGETS, Target, TrainedPeriod
from governance.rules import Quarter, quarters_between
from skills.models import Cohort, CohortAttendanceTotal, Enrollment, Track, Trainee
from skills.vocab import CATEGORIES, GENDERS, REGIONS, SECTORS, TRAINING_LANGUAGES

BREAKDOWNS = ("category", "sector", "region", "gender", "language")


@dataclass(frozen=True)
class Filters:
    sector: str | None = None
    region: str | None = None
    track_id: int | None = None

    @property
    def any(self) -> bool:
        return any((self.sector, self.region, self.track_id))


def end_of_day_utc(day: date) -> datetime:
    """The first instant after `day` in Morocco, in UTC: what happened before it happened by that day."""
    return datetime.combine(day + timedelta(days=1), time.min, MOROCCO).astimezone(timezone.utc)


def as_of_day(quarter: Quarter) -> date:
    """Figures of a quarter are taken on its last day, or today while it is running."""
    return min(quarter.last_day, clock.today())


def targets() -> dict[str, int]:
    stored = dict(db.session.execute(sa.select(Target.key, Target.value)).all())
    return {key: stored.get(key, default) for key, default in DEFAULT_TARGETS.items()}


def _trained_on(day, filters: Filters) -> list:
    """Conditions for a row of trained_periods counting a person on `day` (a column or a literal): the
    figure's scope (the programme, or one track) and the filters on the person."""
    conditions = [
        TrainedPeriod.track_id == filters.track_id if filters.track_id else TrainedPeriod.track_id.is_(None),
        TrainedPeriod.first_day <= day,
        sa.or_(TrainedPeriod.last_day.is_(None), TrainedPeriod.last_day >= day),
    ]
    if filters.sector:
        conditions.append(TrainedPeriod.sector == filters.sector)
    if filters.region:
        conditions.append(TrainedPeriod.region == filters.region)
    return conditions


def trained_people(day: date, filters: Filters = Filters()) -> sa.Select:
    """One row per person trained on `day`: trainee id and training language (of the cohort where the
    certificate was earned; the first in code order when there are several). Read from the periods
    kept by governance.trained; the definition they follow is in governance.rules.trained_periods."""
    return sa.select(TrainedPeriod.trainee_id, TrainedPeriod.language).where(*_trained_on(day, filters))


def trained_people_by_definition(day: date, filters: Filters = Filters()) -> sa.Select:
    """The same rows as trained_people, straight from certificates by the definition: what tests and
    `flask report check-trained` compare trained_periods with. Too slow for a page at full size."""
    cutoff = end_of_day_utc(day)
    conditions = [
        Certificate.track_id.in_(sa.select(Track.id).where(Track.counts_toward_target)),
        Certificate.issued_on <= day,
        sa.or_(Certificate.revoked_at.is_(None), Certificate.revoked_at >= cutoff),
        sa.or_(Certificate.superseded_at.is_(None), Certificate.superseded_at >= cutoff),
        sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= day),
    ]
    if filters.track_id:
        conditions.append(Certificate.track_id == filters.track_id)
    query = (sa.select(Certificate.trainee_id, sa.func.min(Cohort.language).label("language"))
             .outerjoin(Cohort, Cohort.id == Certificate.cohort_id)
             .where(*conditions).group_by(Certificate.trainee_id))
    return _for_people(query, filters)


def breakdowns(day: date, filters: Filters = Filters()) -> dict[str, Any]:
    """The trained total and its breakdowns. SQL groups people by every attribute at once; the
    breakdowns are sums over those few groups (at most a few thousand), never over people."""
    language = sa.func.coalesce(TrainedPeriod.language, "unknown")
    gender = sa.func.coalesce(TrainedPeriod.gender, "unknown")
    groups = db.session.execute(
        sa.select(TrainedPeriod.category, TrainedPeriod.sector, TrainedPeriod.region, gender, language,
                  sa.func.count())
        .where(*_trained_on(day, filters))
        .group_by(TrainedPeriod.category, TrainedPeriod.sector, TrainedPeriod.region, gender, language)).all()
    vocabularies = {"category": CATEGORIES, "sector": SECTORS, "region": REGIONS,
                    "gender": {**GENDERS, "unknown": None}, "language": {**TRAINING_LANGUAGES, "unknown": None}}
    result: dict[str, Any] = {"trained": sum(row[-1] for row in groups)}
    for index, name in enumerate(BREAKDOWNS):
        counts = dict.fromkeys(vocabularies[name], 0)
        for row in groups:
            counts[row[index]] = counts.get(row[index], 0) + row[-1]
        if not counts.get("unknown"):
            counts.pop("unknown", None)
        result[f"by_{name}"] = counts
    return result


def first_quarter() -> Quarter:
    """The programme's first quarter: that of its first cohort or certificate, else the current one."""
    first = db.session.scalar(sa.select(sa.func.min(Cohort.starts_on)))
    issued = db.session.scalar(sa.select(sa.func.min(Certificate.issued_on)))
    days = [d for d in (first, issued) if d is not None]
    return Quarter.of(min(days)) if days else Quarter.of(clock.today())


def _quarter_table(quarters: list[Quarter]):
    """The quarters as rows (label, as-of day), for a single grouped query."""
    selects = [sa.select(sa.literal(str(q)).label("quarter"), sa.literal(as_of_day(q), sa.Date).label("day"))
               for q in quarters]
    return sa.union_all(*selects).subquery("quarters")


def trend(last: Quarter, filters: Filters = Filters()) -> list[dict[str, Any]]:
    """People trained at the end of each quarter since the programme began, in one query."""
    quarters = quarters_between(min(first_quarter(), last), last)
    table = _quarter_table(quarters)
    counts = dict(db.session.execute(
        sa.select(table.c.quarter, sa.func.count()).select_from(TrainedPeriod)
        .join(table, sa.and_(*_trained_on(table.c.day, filters)))
        .group_by(table.c.quarter)).all())
    return [{"quarter": str(q), "trained": counts.get(str(q), 0)} for q in quarters]


def _for_people(query: sa.Select, filters: Filters) -> sa.Select:
    """Join trainees only when a filter is about the person: unfiltered figures never touch them."""
    if filters.sector or filters.region:
        query = query.join(Trainee, Trainee.id == Certificate.trainee_id).where(*(
            column == value for column, value in ((Trainee.sector, filters.sector), (Trainee.region, filters.region))
            if value))
    return query


def certificate_events(quarter: Quarter, filters: Filters = Filters()) -> dict[str, int]:
    """Certificates issued, revoked and expired during the quarter, and checks by verifiers."""
    start, end = quarter.utc_bounds()
    base = _for_people(sa.select(sa.func.count()).select_from(Certificate).where(
        *([Certificate.track_id == filters.track_id] if filters.track_id else [])), filters)
    last = as_of_day(quarter)
    return {
        "issued": db.session.scalar(base.where(Certificate.issued_on.between(quarter.first_day, quarter.last_day))),
        "revoked": db.session.scalar(base.where(Certificate.revoked_at >= start, Certificate.revoked_at < end)),
        "expired": db.session.scalar(base.where(Certificate.expires_on >= quarter.first_day,
                                                Certificate.expires_on < last, Certificate.revoked_at.is_(None))),
        "verifications": db.session.scalar(_for_people(
            sa.select(sa.func.coalesce(sa.func.sum(VerificationCount.count), 0))
            .join(Certificate, Certificate.id == VerificationCount.certificate_id)
            .where(VerificationCount.day.between(quarter.first_day, quarter.last_day),
                   *([Certificate.track_id == filters.track_id] if filters.track_id else [])), filters)),
    }


def cohort_rates(quarter: Quarter, filters: Filters = Filters()) -> sa.Select:
    """Cohorts running during the quarter with their attendance rate (from running totals) and completion
    rate (enrolled people holding a certificate of the cohort's track on the quarter's as-of day)."""
    day = as_of_day(quarter)
    enrolled = (sa.select(sa.func.count()).select_from(Enrollment)
                .where(Enrollment.cohort_id == Cohort.id).correlate(Cohort).scalar_subquery())
    holds = (sa.select(Certificate.id)
             .where(Certificate.trainee_id == Enrollment.trainee_id, Certificate.track_id == Cohort.track_id,
                    Certificate.issued_on <= day,
                    sa.or_(Certificate.revoked_at.is_(None), Certificate.revoked_at >= end_of_day_utc(day)))
             .exists())
    completed = (sa.select(sa.func.count()).select_from(Enrollment)
                 .where(Enrollment.cohort_id == Cohort.id, holds)
                 .correlate(Cohort).scalar_subquery())
    query = (sa.select(Cohort.code, Cohort.sector, Cohort.region, Cohort.language,
                       sa.func.coalesce(CohortAttendanceTotal.attended, 0).label("attended"),
                       sa.func.coalesce(CohortAttendanceTotal.counted, 0).label("counted"),
                       enrolled.label("enrolled"), completed.label("completed"))
             .outerjoin(CohortAttendanceTotal, CohortAttendanceTotal.cohort_id == Cohort.id)
             .where(Cohort.starts_on <= quarter.last_day, Cohort.ends_on >= quarter.first_day)
             .order_by(Cohort.starts_on, Cohort.code))
    for column, value in ((Cohort.sector, filters.sector), (Cohort.region, filters.region),
                          (Cohort.track_id, filters.track_id)):
        if value:
            query = query.where(column == value)
    return query


def people_behind(day: date, filters: Filters, **attributes: str) -> sa.Select:
    """The people counted in a figure (for admins only): trained on `day`, with the given attributes."""
    query = (sa.select(Trainee).join(TrainedPeriod, TrainedPeriod.trainee_id == Trainee.id)
             .where(*_trained_on(day, filters)).order_by(Trainee.name, Trainee.id))
    for name, value in attributes.items():
        if name in ("language", "gender"):
            query = query.where(sa.func.coalesce(getattr(TrainedPeriod, name), "unknown") == value)
        elif name in ("category", "sector", "region"):
            query = query.where(getattr(TrainedPeriod, name) == value)
    return query


def figures(quarter: Quarter, filters: Filters = Filters()) -> dict[str, Any]:
    """Everything the dashboard and the report show for a quarter, as plain data (exact counts)."""
    day = as_of_day(quarter)
    return {"quarter": str(quarter), "as_of": day.isoformat(), "targets": targets(),
            **breakdowns(day, filters), "trend": trend(quarter, filters),
            "certificates": certificate_events(quarter, filters)}
