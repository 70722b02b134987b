"""Reads. Most functions return `sa.select(...)` for the caller to paginate or run; the few that
combine several selects into a domain answer (progress, eligibility) say so. Aggregates are computed in
SQL, never by looping over rows in Python."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from fractions import Fraction
from typing import Callable, Iterable

import sqlalchemy as sa

from accounts.models import User
from common import clock
from common.extensions import db
from skills.models import (
    Attendance,
    Cohort,
    Enrollment,
    Module,
    ModuleResult,
    Recognition,
    Track,
    Trainee,
    TrainingSession,
    cohort_trainers,
    track_modules,
    track_prerequisites,
)
from skills.rules import (
    ATTENDED_STATUSES,
    COUNTED_STATUSES,
    Eligibility,
    PathwayStep,
    PrerequisiteGap,
    eligibility,
    pathway_steps,
    prerequisite_gap,
)


def _no_certificates(trainee_ids: list[int], track_ids: list[int]) -> dict[tuple[int, int], list[str]]:
    return {}


# The statuses today of the certificates trainees hold of some tracks: (trainee_ids, track_ids) ->
# {(trainee_id, track_id): [status, ...]}. Certificates sit above the registry, so the factory sets this
# (app.register_reactions) to certificates.queries.prerequisite_holdings; until then no certificate is known,
# and no prerequisite is met.
PREREQUISITE_HOLDINGS: Callable[[list[int], list[int]], dict[tuple[int, int], list[str]]] = _no_certificates


def _search(query: sa.Select, q: str | None, *columns) -> sa.Select:
    """Case-insensitive substring search over some columns."""
    if q and q.strip():
        pattern = f"%{q.strip().lower()}%"
        query = query.where(sa.or_(*(sa.func.lower(c).like(pattern) for c in columns)))
    return query


def modules(q: str | None = None) -> sa.Select:
    return _search(sa.select(Module).order_by(Module.code), q, Module.code, Module.title_fr, Module.title_en,
                   Module.title_ar)


def tracks(q: str | None = None) -> sa.Select:
    return _search(sa.select(Track).order_by(Track.code), q, Track.code, Track.title_fr, Track.title_en,
                   Track.title_ar)


def trainees(q: str | None = None, *, sector: str | None = None, region: str | None = None,
             category: str | None = None, cohort_id: int | None = None, track_id: int | None = None,
             updated_since=None, visible_to: User | None = None) -> sa.Select:
    query = _search(sa.select(Trainee).order_by(Trainee.name, Trainee.id), q, Trainee.name, Trainee.name_ar,
                    Trainee.email, Trainee.employer)
    for column, value in ((Trainee.sector, sector), (Trainee.region, region), (Trainee.category, category)):
        if value:
            query = query.where(column == value)
    if updated_since is not None:
        query = query.where(Trainee.updated_at >= updated_since)
    if cohort_id is not None:
        query = query.where(Trainee.id.in_(sa.select(Enrollment.trainee_id).where(Enrollment.cohort_id == cohort_id)))
    if track_id is not None:
        query = query.where(Trainee.id.in_(sa.select(Enrollment.trainee_id).join(Cohort, Cohort.id == Enrollment.cohort_id)
                                           .where(Cohort.track_id == track_id)))
    if visible_to is not None and visible_to.role == "trainer":
        query = query.where(Trainee.id.in_(
            sa.select(Enrollment.trainee_id).join(cohort_trainers, cohort_trainers.c.cohort_id == Enrollment.cohort_id)
            .where(cohort_trainers.c.user_id == visible_to.id)))
    elif visible_to is not None and visible_to.role == "trainee":
        query = query.where(Trainee.id == visible_to.trainee_id)
    return query


def cohorts(q: str | None = None, *, taught_by: User | None = None, track_id: int | None = None,
            sector: str | None = None, region: str | None = None, status: str | None = None) -> sa.Select:
    """Cohorts; `status` is upcoming, running or finished on today's date in Morocco."""
    query = _search(sa.select(Cohort).order_by(Cohort.starts_on.desc(), Cohort.code), q, Cohort.code)
    today = clock.today()
    by_status = {"upcoming": Cohort.starts_on > today, "finished": Cohort.ends_on < today,
                 "running": sa.and_(Cohort.starts_on <= today, Cohort.ends_on >= today)}
    if status:
        query = query.where(by_status[status])
    if taught_by is not None:
        query = query.where(Cohort.id.in_(
            sa.select(cohort_trainers.c.cohort_id).where(cohort_trainers.c.user_id == taught_by.id)))
    for column, value in ((Cohort.track_id, track_id), (Cohort.sector, sector), (Cohort.region, region)):
        if value:
            query = query.where(column == value)
    return query


def cohorts_of_trainee(trainee_id: int, cohort_ids: Iterable[int] | None = None) -> sa.Select:
    query = (sa.select(Cohort).join(Enrollment, Enrollment.cohort_id == Cohort.id)
             .where(Enrollment.trainee_id == trainee_id).order_by(Cohort.starts_on.desc()))
    return query if cohort_ids is None else query.where(Cohort.id.in_(list(cohort_ids)))


def latest_cohort_of(trainee_id: int, track_id: int) -> sa.Select:
    """The id of the latest cohort of a track the trainee is enrolled in."""
    return (sa.select(Cohort.id).join(Enrollment, Enrollment.cohort_id == Cohort.id)
            .where(Enrollment.trainee_id == trainee_id, Cohort.track_id == track_id)
            .order_by(Cohort.starts_on.desc(), Cohort.id.desc()).limit(1))


def cohort_roster(cohort_id: int, q: str | None = None) -> sa.Select:
    query = (sa.select(Trainee).join(Enrollment, Enrollment.trainee_id == Trainee.id)
             .where(Enrollment.cohort_id == cohort_id).order_by(Trainee.name, Trainee.id))
    return _search(query, q, Trainee.name, Trainee.name_ar, Trainee.email)


def cohort_sessions(cohort_id: int) -> sa.Select:
    return (sa.select(TrainingSession).where(TrainingSession.cohort_id == cohort_id)
            .order_by(TrainingSession.starts_at, TrainingSession.id))


def _today_bounds():
    """Today in Morocco, as UTC instants [start, end)."""
    start = datetime.combine(clock.today(), time(0), tzinfo=clock.MOROCCO)
    return start.astimezone(timezone.utc), (start + timedelta(days=1)).astimezone(timezone.utc)


def cohort_sessions_for_trainers(cohort_id: int) -> sa.Select:
    """A cohort's sessions in the order a trainer needs them: today's, then the upcoming ones (soonest
    first), then the past ones (most recent first)."""
    start, end = _today_bounds()
    bucket = sa.case((TrainingSession.starts_at < start, 2), (TrainingSession.starts_at < end, 0), else_=1)
    return (sa.select(TrainingSession).where(TrainingSession.cohort_id == cohort_id)
            .order_by(bucket, sa.case((TrainingSession.starts_at >= start, TrainingSession.starts_at)),
                      TrainingSession.starts_at.desc(), TrainingSession.id))


def sessions_today(*, taught_by: User | None = None) -> sa.Select:
    """Today's sessions (Morocco's day), of the cohorts a trainer teaches, or of all cohorts."""
    start, end = _today_bounds()
    query = (sa.select(TrainingSession).where(TrainingSession.starts_at >= start, TrainingSession.starts_at < end)
             .order_by(TrainingSession.starts_at, TrainingSession.id))
    if taught_by is not None:
        query = query.where(TrainingSession.cohort_id.in_(
            sa.select(cohort_trainers.c.cohort_id).where(cohort_trainers.c.user_id == taught_by.id)))
    return query


def session_attendance(session_id: int) -> sa.Select:
    return (sa.select(Attendance).where(Attendance.session_id == session_id)
            .order_by(Attendance.trainee_id))


def cohort_results(cohort_id: int) -> sa.Select:
    return sa.select(ModuleResult).where(ModuleResult.cohort_id == cohort_id).order_by(
        ModuleResult.trainee_id, ModuleResult.module_id)


def _attended_and_counted():
    attended = sa.func.sum(sa.case((Attendance.status.in_(ATTENDED_STATUSES), 1), else_=0))
    counted = sa.func.sum(sa.case((Attendance.status.in_(COUNTED_STATUSES), 1), else_=0))
    return attended.label("attended"), counted.label("counted")


def cohort_attendance_counts(cohort_id: int, trainee_ids: Iterable[int] | None = None) -> sa.Select:
    """(trainee_id, attended, counted) over this cohort's sessions only: its rows and no others."""
    query = (sa.select(Attendance.trainee_id, *_attended_and_counted())
             .join(TrainingSession, TrainingSession.id == Attendance.session_id)
             .where(TrainingSession.cohort_id == cohort_id)
             .group_by(Attendance.trainee_id))
    if trainee_ids is not None:
        query = query.where(Attendance.trainee_id.in_(list(trainee_ids)))
    return query


@dataclass(frozen=True)
class TrackProgress:
    track: Track
    eligibility: Eligibility


def prerequisite_gaps(track: Track, trainee_ids: Iterable[int]) -> dict[int, list[PrerequisiteGap]]:
    """The prerequisites of a track that each trainee does not hold (a valid certificate), with why: one
    query, none when the track has no prerequisites. The rule eligibility applies (rules.prerequisite_gap)."""
    ids = list(trainee_ids)
    if not track.requires:
        return {trainee_id: [] for trainee_id in ids}
    holdings = PREREQUISITE_HOLDINGS(ids, [t.id for t in track.requires])
    return {trainee_id: [gap for gap in (prerequisite_gap(t.code, holdings.get((trainee_id, t.id), ()))
                                         for t in track.requires) if gap is not None]
            for trainee_id in ids}


def track_eligibility(track: Track, trainee_ids: Iterable[int],
                      cohort_ids: Iterable[int] | None = None) -> dict[int, Eligibility]:
    """Eligibility for one track of many trainees (docs/rules.md, "Eligibility"). Four grouped queries
    whatever the number of trainees (one more when the track has prerequisites); with cohort_ids (a
    trainer's own cohorts) only those cohorts' results and attendance count.

    A module passed in any cohort, of this track or another, counts; its attendance is that module's
    sessions in the cohort it was passed in (passed in several: the best attendance, ties to the earliest
    result). A module not passed counts its sessions in this track's cohorts. A recognised module not
    passed in a cohort counts as passed and adds no attendance."""
    ids = list(trainee_ids)
    codes = {m.id: m.code for m in track.modules}
    scope = None if cohort_ids is None else list(cohort_ids)

    def in_scope(column):
        return [] if scope is None else [column.in_(scope)]

    passed = sa.and_(ModuleResult.passed, ModuleResult.trainee_id.in_(ids), ModuleResult.module_id.in_(list(codes)))
    # (trainee, module) -> the cohorts it was passed in, with (when, which) to break ties on.
    passed_in: dict[tuple[int, int], list[tuple[int, datetime, int]]] = {}
    for row in db.session.execute(
            sa.select(ModuleResult.trainee_id, ModuleResult.module_id, ModuleResult.cohort_id,
                      ModuleResult.recorded_at, ModuleResult.id)
            .where(passed, *in_scope(ModuleResult.cohort_id))):
        passed_in.setdefault((row.trainee_id, row.module_id), []).append((row.cohort_id, row.recorded_at, row.id))

    recognised: dict[int, set[str]] = {}
    for trainee_id, module_id in db.session.execute(
            sa.select(Recognition.trainee_id, Recognition.module_id)
            .where(Recognition.withdrawn_at.is_(None), Recognition.trainee_id.in_(ids),
                   Recognition.module_id.in_(list(codes)))):
        recognised.setdefault(trainee_id, set()).add(codes[module_id])

    # Attendance per (trainee, cohort, module), over this track's cohorts and the cohorts a module was passed in.
    own_track = (Cohort.track_id == track.id).label("own_track")
    counts: dict[tuple[int, int, int], tuple[int, int, bool]] = {}
    for row in db.session.execute(
            sa.select(Attendance.trainee_id, TrainingSession.cohort_id, TrainingSession.module_id, own_track,
                      *_attended_and_counted())
            .join(TrainingSession, TrainingSession.id == Attendance.session_id)
            .join(Cohort, Cohort.id == TrainingSession.cohort_id)
            .where(Attendance.trainee_id.in_(ids), TrainingSession.module_id.in_(list(codes)),
                   sa.or_(Cohort.track_id == track.id,
                          TrainingSession.cohort_id.in_(sa.select(ModuleResult.cohort_id).where(passed))),
                   *in_scope(TrainingSession.cohort_id))
            .group_by(Attendance.trainee_id, TrainingSession.cohort_id, TrainingSession.module_id, own_track)):
        counts[(row.trainee_id, row.cohort_id, row.module_id)] = (row.attended or 0, row.counted or 0, row.own_track)

    gaps = prerequisite_gaps(track, ids)

    by_trainee: dict[int, list[tuple[int, int, int, int, bool]]] = {}
    for (trainee_id, cohort_id, module_id), (attended, counted, own) in counts.items():
        by_trainee.setdefault(trainee_id, []).append((cohort_id, module_id, attended, counted, own))
    modules_passed: dict[int, set[int]] = {}
    for trainee_id, module_id in passed_in:
        modules_passed.setdefault(trainee_id, set()).add(module_id)

    def best(trainee_id: int, module_id: int) -> int:
        """The cohort whose attendance counts for a module passed in several: the best rate, then the
        earliest result."""
        def key(passing):
            cohort_id, recorded_at, result_id = passing
            attended, counted, _ = counts.get((trainee_id, cohort_id, module_id), (0, 0, False))
            return (-(Fraction(attended, counted) if counted else Fraction(-1)), recorded_at, result_id)
        return min(passed_in[(trainee_id, module_id)], key=key)[0]

    results = {}
    for trainee_id in ids:
        passed_modules = modules_passed.get(trainee_id, set())
        chosen = {module_id: best(trainee_id, module_id) for module_id in passed_modules}
        skipped = {module_id for module_id, code in codes.items()
                   if module_id not in passed_modules and code in recognised.get(trainee_id, ())}
        attended = counted = 0
        for cohort_id, module_id, a, c, own in by_trainee.get(trainee_id, ()):
            if module_id in skipped:
                continue
            if (chosen[module_id] == cohort_id) if module_id in chosen else own:
                attended, counted = attended + a, counted + c
        results[trainee_id] = eligibility(
            codes.values(), [codes[m] for m in passed_modules], attended, counted, track.min_attendance,
            recognised_modules=recognised.get(trainee_id, ()), prerequisites=gaps[trainee_id])
    return results


def trainee_progress(trainee_id: int, cohort_ids: Iterable[int] | None = None) -> list[TrackProgress]:
    """A trainee's progress in every track they are enrolled in, one entry per track. With cohort_ids
    (a trainer's own cohorts, skills.permissions.progress_scope), only those cohorts' tracks, measured
    over those cohorts' attendance and results."""
    enrolled = sa.select(Cohort.track_id).join(Enrollment, Enrollment.cohort_id == Cohort.id).where(
        Enrollment.trainee_id == trainee_id)
    if cohort_ids is not None:
        cohort_ids = list(cohort_ids)
        enrolled = enrolled.where(Cohort.id.in_(cohort_ids))
    tracks_enrolled = db.session.scalars(sa.select(Track).where(Track.id.in_(enrolled)).order_by(Track.code)).all()
    return [TrackProgress(track, track_eligibility(track, [trainee_id], cohort_ids)[trainee_id])
            for track in tracks_enrolled]


def required_module_codes(track_id: int) -> sa.Select:
    return (sa.select(Module.code).join(track_modules, track_modules.c.module_id == Module.id)
            .where(track_modules.c.track_id == track_id).order_by(Module.code))


def recognitions_of(trainee_id: int) -> sa.Select:
    """A trainee's recognitions of prior learning, those in force first, newest first."""
    return (sa.select(Recognition).where(Recognition.trainee_id == trainee_id)
            .order_by(Recognition.withdrawn_at.is_not(None), Recognition.recorded_at.desc(), Recognition.id.desc()))


def prerequisite_graph(track_ids: Iterable[int] | None = None) -> dict[int, list[int]]:
    """Every track, by id, with the ids of the tracks it requires: what rules.pathway_levels and
    rules.pathway_steps read. `track_ids`: every track's id, when the caller has already read them."""
    if track_ids is None:
        track_ids = db.session.scalars(sa.select(Track.id))
    requires: dict[int, list[int]] = {track_id: [] for track_id in track_ids}
    for track_id, required_id in db.session.execute(
            sa.select(track_prerequisites.c.track_id, track_prerequisites.c.required_track_id)):
        requires[track_id].append(required_id)
    return requires


def trainee_pathway(trainee_id: int) -> list[tuple[Track, PathwayStep]]:
    """Where a trainee stands on the pathway (rules.pathway_steps): the tracks that concern them, with their
    level and state. Four queries whatever the catalogue's size: the tracks' codes, their prerequisites, the
    trainee's enrolments and their certificates; then the concerned tracks themselves."""
    codes = {row.id: row.code for row in db.session.execute(sa.select(Track.id, Track.code))}
    requires = prerequisite_graph(codes)
    enrolled = db.session.scalars(sa.select(Cohort.track_id).join(Enrollment, Enrollment.cohort_id == Cohort.id)
                                  .where(Enrollment.trainee_id == trainee_id).distinct())
    held = {track_id: statuses for (_, track_id), statuses in PREREQUISITE_HOLDINGS([trainee_id], list(codes)).items()}
    steps = pathway_steps(requires, codes, held, enrolled)
    tracks = {t.id: t for t in db.session.scalars(sa.select(Track).where(Track.id.in_([s.track for s in steps])))}
    return [(tracks[step.track], step) for step in steps]
