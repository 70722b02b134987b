"""The governance figures, every one computed in the database.

"Trained" on a day: holding a certificate of a track that counts toward the target, issued by that day
and on that day neither revoked, replaced nor expired. A person with several such certificates counts
once. Those figures come from trained_periods (kept by governance.trained as certificates change), and
attendance from the per-cohort running totals: never from scanning certificates or raw attendance.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from certificates.models import NAMES_RECOGNITION, Certificate, VerificationCount
from common import clock
from common.clock import MOROCCO
from common.extensions import db
from governance.disclosure import Family, written_json
from governance.figures import (
    BREAKDOWNS,
    Breakdowns,
    CertificateEvents,
    CohortRate,
    Figures,
    Pathway,
    PathwayLevel,
    TrendPoint,
)
from governance.models import DEFAULT_TARGETS, QuarterSnapshot, Target, TrainedPeriod
from governance.rules import Quarter, quarters_between
from skills import queries as skills_queries
from skills.models import Cohort, CohortAttendanceTotal, Enrollment, Track, Trainee
from skills.rules import pathway_levels
from skills.vocab import CATEGORIES, GENDERS, REGIONS, SECTORS, TRAINING_LANGUAGES


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
    return datetime.combine(day + timedelta(days=1), time.min, MOROCCO).astimezone(UTC)


def as_of_day(quarter: Quarter) -> date:
    """Figures of a quarter are taken on its last day, or today while it is running."""
    return min(quarter.last_day, clock.today())


def targets() -> dict[str, int]:
    stored = dict(db.session.execute(sa.select(Target.key, Target.value)).all())
    return {key: stored.get(key, default) for key, default in DEFAULT_TARGETS.items()}


def _in_scope(filters: Filters) -> list:
    """Rows of trained_periods that a figure reads: its scope (the programme, or one track) and the
    filters on the person."""
    conditions = [TrainedPeriod.track_id == filters.track_id if filters.track_id else TrainedPeriod.track_id.is_(None)]
    if filters.sector:
        conditions.append(TrainedPeriod.sector == filters.sector)
    if filters.region:
        conditions.append(TrainedPeriod.region == filters.region)
    return conditions


def _covers(day) -> list:
    """A period counting its person on `day` (a column or a literal)."""
    return [TrainedPeriod.first_day <= day, sa.or_(TrainedPeriod.last_day.is_(None), TrainedPeriod.last_day >= day)]


def trained_people(day: date, filters: Filters = Filters()) -> sa.Select:
    """One row per person trained on `day`: trainee id and training language (of the cohort where the
    certificate was earned; the first in code order when there are several). Read from the periods
    kept by governance.trained; the definition they follow is in governance.rules.trained_periods."""
    return sa.select(TrainedPeriod.trainee_id, TrainedPeriod.language).where(*_in_scope(filters), *_covers(day))


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


GROUPS = (TrainedPeriod.category, TrainedPeriod.sector, TrainedPeriod.region, TrainedPeriod.gender,
          TrainedPeriod.language)  # in the order of BREAKDOWNS, and of the index ix_trained_periods_figures


def trained_counts(days: list[date], filters: Filters = Filters()) -> list[sa.Row]:
    """People trained on each of `days`, grouped by every attribute at once: rows of (category, sector,
    region, gender, language, count on days[0], count on days[1], ...). One statement, one pass over the
    scope's part of the covering index, in its order: no sort, whatever the number of days."""
    counts = [sa.func.sum(sa.case((sa.and_(*_covers(day)), 1), else_=0)) for day in days]
    return db.session.execute(sa.select(*GROUPS, *counts).where(*_in_scope(filters)).group_by(*GROUPS)).all()


def _breakdowns(columns: list[tuple], column: int) -> Breakdowns:
    """The trained total and its breakdowns on one day, from trained_counts' rows transposed into
    columns (one count column per day): sums over a few thousand groups at most, never over people."""
    vocabularies = {"category": CATEGORIES, "sector": SECTORS, "region": REGIONS,
                    "gender": {**GENDERS, "unknown": None}, "language": {**TRAINING_LANGUAGES, "unknown": None}}
    counted = columns[column] if columns else ()
    result: dict[str, Any] = {"trained": sum(counted)}
    for index, name in enumerate(BREAKDOWNS):  # GROUPS' order
        counts = dict.fromkeys(vocabularies[name], 0)
        for key, count in zip(columns[index] if columns else (), counted):
            if count:
                key = "unknown" if key is None else key
                counts[key] = counts.get(key, 0) + count
        if not counts.get("unknown"):
            counts.pop("unknown", None)
        result[f"by_{name}"] = counts
    return Breakdowns(**result)


def breakdowns(day: date, filters: Filters = Filters()) -> Breakdowns:
    """The trained total and its breakdowns on a day."""
    return _breakdowns(list(zip(*trained_counts([day], filters))), len(GROUPS))


def first_quarter() -> Quarter:
    """The programme's first quarter: that of its first cohort or certificate, else the current one."""
    first = db.session.scalar(sa.select(sa.func.min(Cohort.starts_on)))
    issued = db.session.scalar(sa.select(sa.func.min(Certificate.issued_on)))
    days = [d for d in (first, issued) if d is not None]
    return Quarter.of(min(days)) if days else Quarter.of(clock.today())


def trend_quarters(last: Quarter) -> list[Quarter]:
    """The quarters of the trend: from the programme's first up to `last`."""
    return quarters_between(min(first_quarter(), last), last)


def _for_people(query: sa.Select, filters: Filters) -> sa.Select:
    """Join trainees only when a filter is about the person: unfiltered figures never touch them."""
    if filters.sector or filters.region:
        query = query.join(Trainee, Trainee.id == Certificate.trainee_id).where(*(
            column == value for column, value in ((Trainee.sector, filters.sector), (Trainee.region, filters.region))
            if value))
    return query


def certificate_events(quarter: Quarter, filters: Filters = Filters()) -> CertificateEvents:
    """Certificates issued, revoked and expired during the quarter, and checks by verifiers. Each count
    reads one index range (see the indexes on certificates and verification_counts)."""
    start, end = quarter.utc_bounds()
    of_track = [Certificate.track_id == filters.track_id] if filters.track_id else []
    base = _for_people(sa.select(sa.func.count()).select_from(Certificate).where(*of_track), filters)
    checks = (sa.select(sa.func.coalesce(sa.func.sum(VerificationCount.count), 0))
              .where(VerificationCount.day.between(quarter.first_day, quarter.last_day)))
    if filters.any:  # only a filter needs the certificate behind each check
        checks = _for_people(checks.join(Certificate, Certificate.id == VerificationCount.certificate_id)
                             .where(*of_track), filters)
    last = as_of_day(quarter)
    return CertificateEvents(
        issued=db.session.scalar(base.where(Certificate.issued_on.between(quarter.first_day, quarter.last_day))),
        revoked=db.session.scalar(base.where(Certificate.revoked_at >= start, Certificate.revoked_at < end)),
        # "not revoked" through a CASE: as a plain IS NULL, SQLite (without statistics) would read it from
        # the revoked_at index, where nearly every certificate sits, instead of the expiry range
        expired=db.session.scalar(base.where(Certificate.expires_on >= quarter.first_day,
                                             Certificate.expires_on < last,
                                             sa.case((Certificate.revoked_at.is_(None), 1), else_=0) == 1)),
        verifications=int(db.session.scalar(checks)),
    )


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
             .where(*_in_scope(filters), *_covers(day)).order_by(Trainee.name, Trainee.id))
    for name, value in attributes.items():
        if name in ("language", "gender"):
            query = query.where(sa.func.coalesce(getattr(TrainedPeriod, name), "unknown") == value)
        elif name in ("category", "sector", "region"):
            query = query.where(getattr(TrainedPeriod, name) == value)
    return query


def figures(quarter: Quarter, filters: Filters = Filters(), *, with_previous: bool = False) -> Figures:
    """Everything the dashboard and the report show for a quarter (exact counts). The breakdowns and the
    trend come from one statement (trained_counts on every quarter's as-of day); `with_previous` adds the
    previous quarter's breakdowns (`previous`) from the same statement."""
    day = as_of_day(quarter)
    quarters = trend_quarters(quarter)
    days = [as_of_day(q) for q in quarters]
    previous_day = as_of_day(quarter.previous())
    if with_previous and previous_day not in days:
        days.append(previous_day)
    columns = list(zip(*trained_counts(days, filters)))  # attributes, then one count column per day
    trend = tuple(TrendPoint(q, sum(columns[len(GROUPS) + i]) if columns else 0) for i, q in enumerate(quarters))
    current = _breakdowns(columns, len(GROUPS) + days.index(day))
    return Figures(quarter=quarter, as_of=day, targets=targets(), **current.breakdowns_json(), trend=trend,
                   certificates=certificate_events(quarter, filters),
                   previous=_breakdowns(columns, len(GROUPS) + days.index(previous_day)) if with_previous else None)


def cohort_table(quarter: Quarter) -> tuple[CohortRate, ...]:
    """The quarter's cohorts with their rates, unfiltered: what a snapshot and a report hold."""
    return tuple(CohortRate(**row._mapping) for row in db.session.execute(cohort_rates(quarter)))


def full_figures(quarter: Quarter) -> Figures:
    """The unfiltered figures of a quarter with its cohort table and pathway funnel: what a snapshot and a
    report hold."""
    return dataclasses.replace(figures(quarter), cohorts=cohort_table(quarter), pathway=pathway_funnel(quarter))


def closed_figures(quarter: Quarter) -> Figures | None:
    """The figures frozen when the quarter was closed, or None while it is open."""
    snapshot = db.session.get(QuarterSnapshot, str(quarter))
    return Figures.from_json(snapshot.figures) if snapshot else None


def families(days: list[date]) -> list[Family]:
    """For each day, every count governance can request, protected together (governance.disclosure.
    Family): the programme's and every track's counts per combination of attributes, read in one
    statement over trained_periods (in the order of its covering index)."""
    counts = [sa.func.sum(sa.case((sa.and_(*_covers(day)), 1), else_=0)) for day in days]
    rows = db.session.execute(sa.select(TrainedPeriod.track_id, *GROUPS, *counts)
                              .group_by(TrainedPeriod.track_id, *GROUPS)).all()
    result = []
    for index in range(len(days)):
        scopes: dict[int | None, list] = {None: []}
        for row in rows:
            count = int(row[1 + len(GROUPS) + index])
            if count:
                attrs = {name: "unknown" if row[1 + i] is None else row[1 + i] for i, name in enumerate(BREAKDOWNS)}
                scopes.setdefault(row[0], []).append((attrs, count))
        result.append(Family(scopes, BREAKDOWNS))
    return result


def filtered_written(quarter: Quarter, filters: Filters, *, with_previous: bool = False) -> dict[str, Any] | None:
    """For the governance role, a view filtered by track, sector and/or region as written: each figure as
    it is in the family of every view governance can request that day (governance.disclosure.Family),
    so that no filter, and no difference between filters, undoes a suppression. None without a filter
    (the unfiltered view is the family's first, fixed part: governance.serializers writes it alike).
    Keys: trained, by_<dim>, trend (written totals per quarter), previous (trained and by_<dim>, or None)."""
    if not filters.any:
        return None
    chosen = {name: value for name, value in (("sector", filters.sector), ("region", filters.region)) if value}
    scope = filters.track_id
    quarters = trend_quarters(quarter)
    days = [as_of_day(q) for q in quarters]
    previous_day = as_of_day(quarter.previous())
    if with_previous and previous_day not in days:
        days.append(previous_day)
    family = families(days)

    def written(index: int, exact: Breakdowns) -> dict[str, Any]:
        total, by = family[index].view(scope, chosen)
        keys = {name: [*exact.by(name), *(k for k in by[name] if k not in exact.by(name))] for name in BREAKDOWNS}
        return {"trained": total, **{f"by_{name}": {key: by[name].get(key, 0) for key in keys[name]}
                                     for name in BREAKDOWNS}}

    current = figures(quarter, filters, with_previous=with_previous)
    result = written(days.index(as_of_day(quarter)), current)
    result["trend"] = [{"quarter": str(q), "trained": family[i].total(scope, chosen)} for i, q in enumerate(quarters)]
    result["previous"] = (written(days.index(previous_day), current.previous)
                          if with_previous and current.previous is not None else None)
    return result


def quarter_figures(quarter: Quarter, filters: Filters = Filters(), *,
                    with_previous: bool = False) -> tuple[Figures, bool]:
    """A quarter's figures and whether they come from its closed snapshot (only unfiltered ones can).
    Live figures `with_previous` also hold the previous quarter's breakdowns (see previous_breakdowns)."""
    if not filters.any:
        frozen = closed_figures(quarter)
        if frozen is not None:
            return frozen, True
    return figures(quarter, filters, with_previous=with_previous), False


def previous_breakdowns(quarter: Quarter, filters: Filters = Filters(),
                        live: Breakdowns | None = None) -> Breakdowns:
    """The previous quarter's total and breakdowns, for the changes shown beside this quarter's: its
    snapshot when closed, else `live` (computed with this quarter's figures) or only the breakdowns (no
    trend, no event counts: they are not shown)."""
    frozen = None if filters.any else closed_figures(quarter.previous())
    if frozen is not None:
        return frozen
    return live if live is not None else breakdowns(as_of_day(quarter.previous()), filters)


def corrections(quarter: Quarter) -> list[dict[str, Any]]:
    """For every closed quarter before this one: figures that changed since it was closed."""
    rows = db.session.scalars(sa.select(QuarterSnapshot).where(QuarterSnapshot.quarter < str(quarter))
                              .order_by(QuarterSnapshot.quarter)).all()
    changes = []
    for snapshot in rows:
        live = figures(Quarter.parse(snapshot.quarter)).to_json()
        # As governance may read them: each value as it is written in its own protected table.
        frozen_written, live_written = written_json(snapshot.figures), written_json(live)
        for name, old, new in _differences(snapshot.figures, live):
            changes.append({"quarter": snapshot.quarter, "figure": name, "closed": old, "now": new,
                            "closed_written": _at(frozen_written, name), "now_written": _at(live_written, name)})
    return changes


def _at(data: dict[str, Any], name: str) -> Any:
    key, _, sub = name.partition(".")
    value = data.get(key)
    return value.get(sub, 0) if sub and isinstance(value, dict) else value


def _differences(frozen: dict[str, Any], live: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    """Figures of two JSON forms (a snapshot's and today's) that differ, as (name, frozen, live)."""
    for key in ("trained", *(f"by_{name}" for name in BREAKDOWNS), "certificates"):
        old, new = frozen.get(key), live.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            for sub in sorted(set(old) | set(new)):
                if old.get(sub, 0) != new.get(sub, 0):
                    yield f"{key}.{sub}", old.get(sub, 0), new.get(sub, 0)
        elif old != new:
            yield key, old, new


# --- the pathway funnel (docs/rules.md, "The pathway funnel") ----------------------------------------------

def track_levels() -> dict[int, int]:
    """Every track's pathway level, by id, from the prerequisites (skills.rules.pathway_levels: one rule for
    the trainee's path and the funnel)."""
    return pathway_levels(skills_queries.prerequisite_graph())


def _any_module_recognised() -> sa.ColumnElement[bool]:
    """A certificate whose frozen record marks at least one module `"recognised": true` (written by
    certificates.rules.Certified.record; records without the mark read as false). The text test first:
    it is the predicate of the partial index ix_certificates_recognised, so only the records naming the
    mark are read and parsed. JSON functions differ between the two databases."""
    named = sa.text(NAMES_RECOGNITION)
    if db.session.get_bind().dialect.name == "postgresql":
        modules = sa.cast(Certificate.certified, JSONB).op("->")(sa.literal("modules"))
        return sa.and_(named, modules.op("@>", return_type=sa.Boolean)(
            sa.cast(sa.literal('[{"recognised": true}]'), JSONB)))
    module = sa.func.json_each(Certificate.certified, "$.modules").table_valued("value").alias("module")
    return sa.and_(named, sa.exists(sa.select(1).select_from(module)
                                    .where(sa.func.json_extract(module.c.value, "$.recognised") == 1)))


def pathway_funnel(quarter: Quarter) -> Pathway:
    """The quarter's pathway funnel on its as-of day, exact, from the certificates of the tracks that count
    toward the target (purged people's certificates stay, so they count as in every figure). A level
    holds the people with a certificate of one of its tracks valid that day (as "trained" reads it); a
    move into level k+1 is a person's first certificate of that level, issued during the quarter, on or
    after their first of level k. Revoked certificates (by the as-of day) never happened for the pathway;
    replaced and expired ones were held. A person counts once per level and once per move.

    Two statements: one pass over the covering index ix_certificates_counting in its order (a row per
    person, then sums; no sort), and the people trained through recognition, which reads the records."""
    day = as_of_day(quarter)
    cutoff = end_of_day_utc(day)
    counting = dict(db.session.execute(sa.select(Track.id, Track.code).where(Track.counts_toward_target)).all())
    if not counting:
        return Pathway(trained=0, recognised=0, levels=())
    levels = track_levels()
    tracks = {level: sorted(track_id for track_id in counting if levels[track_id] == level)
              for level in range(1, max(levels[track_id] for track_id in counting) + 1)}
    held = [Certificate.track_id.in_(counting), Certificate.issued_on <= day,
            sa.or_(Certificate.revoked_at.is_(None), Certificate.revoked_at >= cutoff)]
    valid = sa.and_(sa.or_(Certificate.superseded_at.is_(None), Certificate.superseded_at >= cutoff),
                    sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= day))
    # The conditions as one CASE, which no index serves: SQLite then reads the covering index
    # ix_certificates_counting in trainee order for the GROUP BY (no sort), and the partial index
    # ix_certificates_recognised for the second statement, rather than the track_id or issued_on index.
    chosen = sa.case((sa.and_(*held), 1), else_=0) == 1
    person = sa.select(
        sa.func.max(sa.case((valid, 1), else_=0)).label("trained"),
        *(sa.func.max(sa.case((sa.and_(valid, Certificate.track_id.in_(ids)), 1), else_=0)).label(f"holds_{level}")
          for level, ids in tracks.items() if ids),
        *(sa.func.min(sa.case((Certificate.track_id.in_(ids), Certificate.issued_on))).label(f"first_{level}")
          for level, ids in tracks.items() if ids),
    ).where(chosen).group_by(Certificate.trainee_id).subquery("person")
    sums: dict[str, Any] = {"trained": sa.func.sum(person.c.trained)}
    for level, ids in tracks.items():
        if not ids:
            continue
        sums[f"holding_{level}"] = sa.func.sum(person.c[f"holds_{level}"])
        if level > 1 and tracks[level - 1]:
            first, below = person.c[f"first_{level}"], person.c[f"first_{level - 1}"]
            moved = sa.and_(first >= quarter.first_day, below <= first)
            sums[f"moved_{level}"] = sa.func.sum(sa.case((moved, 1), else_=0))
            sums[f"still_{level}"] = sa.func.sum(sa.case((sa.and_(moved, person.c[f"holds_{level}"] == 1), 1), else_=0))
    row = db.session.execute(sa.select(*(value.label(name) for name, value in sums.items()))).one()._mapping
    recognised = db.session.scalar(sa.select(sa.func.count(sa.distinct(Certificate.trainee_id)))
                                   .where(sa.case((sa.and_(*held, valid), 1), else_=0) == 1, _any_module_recognised()))
    return Pathway(trained=int(row["trained"] or 0), recognised=int(recognised), levels=tuple(
        PathwayLevel(level=level, tracks=tuple(sorted(counting[track_id] for track_id in ids)),
                     holding=int(row.get(f"holding_{level}") or 0), moved_in=int(row.get(f"moved_{level}") or 0),
                     moved_holding=int(row.get(f"still_{level}") or 0))
        for level, ids in tracks.items()))


def quarter_pathway(quarter: Quarter) -> tuple[Pathway, bool]:
    """A quarter's funnel and whether it comes from its closed snapshot (snapshots closed before the funnel
    existed have none: then it is computed live)."""
    frozen = closed_figures(quarter)
    if frozen is not None and frozen.pathway is not None:
        return frozen.pathway, True
    return pathway_funnel(quarter), False


def pathway_track_totals(quarter: Quarter, pathway: Pathway) -> dict[int, list[tuple[int, Any]]]:
    """Per level of the funnel, its tracks' trained totals on the as-of day, exact and as the track views
    write them for governance (the day's Family), so that the funnel is protected together with them
    (governance.funnel). A level with a track unknown today (renamed since a snapshot) is left out."""
    family = families([as_of_day(quarter)])[0]
    ids = dict(db.session.execute(sa.select(Track.code, Track.id)).all())
    result: dict[int, list[tuple[int, Any]]] = {}
    for level in pathway.levels:
        if level.tracks and all(code in ids for code in level.tracks):
            result[level.level] = [(family.exact(ids[code], ()), family.total(ids[code], {})) for code in level.tracks]
    return result
