"""Writes to the registry, named as verbs. They validate everything first, then write, and flush but
never commit: the caller (view, API handler, CLI command) commits once, so a failure leaves nothing."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import User
from audit.operations import record as audit
from common import validation as v
from common.database import insert_or_update, lock_row
from common.errors import Conflict, FieldErrors, ValidationFailed
from common.extensions import db
from common.types import utcnow
from skills.models import (
    Attendance,
    Cohort,
    CohortAttendanceTotal,
    Enrollment,
    Module,
    ModuleResult,
    Recognition,
    Track,
    Trainee,
    TrainingSession,
    track_prerequisites,
)
from skills.rules import ATTENDED_STATUSES, COUNTED_STATUSES, DEFAULT_MIN_ATTENDANCE, prerequisite_cycle
from skills.signals import recognitions_changed, trainees_written
from skills.vocab import ATTENDANCE_STATUSES, CATEGORIES, GENDERS, REGIONS, SECTORS, TRAINING_LANGUAGES

MAX_BATCH = 2000
BULK_CHUNK = 900  # rows per bulk INSERT, and values per SQL IN (...): under every backend's parameter limit


def _snapshot(obj: Any, *fields: str) -> dict[str, Any]:
    """JSON-safe values of some attributes, for the audit trail."""
    out = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value.isoformat() if isinstance(value, (date, datetime)) else (
            str(value) if isinstance(value, Decimal) else value)
    return out


# --- modules and tracks -------------------------------------------------------------------------------

MODULE_FIELDS = ("code", "title_fr", "title_ar", "title_en", "hours")


def _module_values(errors: FieldErrors, data: dict[str, Any]) -> dict[str, Any]:
    titles = v.localized_titles(errors, "title", data.get("title"))
    return {
        "code": v.code(errors, "code", data.get("code")),
        **{f"title_{lang}": title for lang, title in titles.items()},
        "hours": v.decimal(errors, "hours", data.get("hours"), minimum=Decimal(0), maximum=Decimal(1000),
                           exclusive_minimum=True),
    }


def create_module(actor: User, data: dict[str, Any]) -> Module:
    errors = FieldErrors()
    values = _module_values(errors, data)
    errors.raise_if_any()
    _ensure_unique(Module, "code", values["code"])
    module = Module(**values)
    db.session.add(module)
    db.session.flush()
    audit(actor, "module.create", "module", module.code, after=_snapshot(module, *MODULE_FIELDS))
    return module


def update_module(actor: User, module: Module, data: dict[str, Any]) -> Module:
    errors = FieldErrors()
    values = _module_values(errors, {"code": module.code, **data})
    errors.raise_if_any()
    _ensure_unique(Module, "code", values["code"], exclude_id=module.id)
    before = _snapshot(module, *MODULE_FIELDS)
    for name, value in values.items():
        setattr(module, name, value)
    db.session.flush()
    audit(actor, "module.update", "module", module.code, before=before, after=_snapshot(module, *MODULE_FIELDS))
    return module


def _ensure_unique(model, field: str, value: Any, *, exclude_id: int | None = None) -> None:
    """409 with the field at fault when a unique value is already used."""
    column = getattr(model, field)
    query = sa.select(model.id).where(column == value)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    if db.session.scalar(query.limit(1)) is not None:
        raise Conflict(_l("“%(value)s” is already taken.", value=value),
                       fields={field: [_l("“%(value)s” is already taken.", value=value)]})


TRACK_FIELDS = ("code", "title_fr", "title_ar", "title_en", "title_zgh", "min_attendance", "validity_months",
                "counts_toward_target")


def _track_values(errors: FieldErrors, data: dict[str, Any]) -> tuple[dict[str, Any], list[Module]]:
    titles = v.localized_titles(errors, "title", data.get("title"), tamazight=True)
    minimum = data.get("min_attendance")
    values = {
        "code": v.code(errors, "code", data.get("code")),
        **{f"title_{lang}": title for lang, title in titles.items()},
        "min_attendance": DEFAULT_MIN_ATTENDANCE if minimum is None else v.decimal(
            errors, "min_attendance", minimum, minimum=Decimal(0), maximum=Decimal(1)),
        "validity_months": v.integer(errors, "validity_months", data.get("validity_months"), minimum=1,
                                     maximum=240, required=False),
        "counts_toward_target": True if data.get("counts_toward_target") is None else v.boolean(
            errors, "counts_toward_target", data.get("counts_toward_target")),
    }
    modules = _modules_by_code(errors, "modules", data.get("modules"))
    return values, modules


def _modules_by_code(errors: FieldErrors, name: str, codes: Any) -> list[Module]:
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        errors.add(name, _l("Give a non-empty list of module codes."))
        return []
    found = {m.code: m for m in db.session.scalars(sa.select(Module).where(Module.code.in_(codes)))}
    unknown = [c for c in dict.fromkeys(codes) if c not in found]
    if unknown:
        errors.add(name, _l("Unknown modules: %(codes)s.", codes=", ".join(unknown)))
    return list(found.values())


def _required_tracks(errors: FieldErrors, code: str | None, track: Track | None, codes: Any) -> list[Track] | None:
    """The tracks a track requires (`requires`), checked: known, and closing no cycle. None when not given:
    an update then keeps the prerequisites the track has."""
    if codes is None:
        return None
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        errors.add("requires", _l("Give a list of track codes."))
        return None
    codes = list(dict.fromkeys(codes))
    found = {t.code: t for t in db.session.scalars(sa.select(Track).where(Track.code.in_(codes)))}
    own = [c for c in codes if c == code or (track is not None and c == track.code)]
    unknown = [c for c in codes if c not in found and c not in own]
    if unknown:
        errors.add("requires", _l("Unknown tracks: %(codes)s.", codes=", ".join(unknown)))
        return None
    if code is None:
        return None
    # The whole prerequisite graph, by code: a few rows per track.
    graph: dict[str, list[str]] = {}
    required = sa.orm.aliased(Track)
    for track_code, required_code in db.session.execute(
            sa.select(Track.code, required.code).join(track_prerequisites, track_prerequisites.c.track_id == Track.id)
            .join(required, required.id == track_prerequisites.c.required_track_id)):
        graph.setdefault(track_code, []).append(required_code)
    if track is not None and track.code != code:  # a renamed track: its edges under the new code
        graph[code] = graph.pop(track.code, [])
        graph = {t: [code if r == track.code else r for r in rs] for t, rs in graph.items()}
    cycle = prerequisite_cycle(code, codes, graph)
    if cycle:
        errors.add("requires", _l("A track cannot require itself.") if len(cycle) == 2 else
                   _l("These prerequisites would make a cycle: %(path)s.", path=" → ".join(cycle)))
        return None
    return [found[c] for c in codes]


def _track_snapshot(track: Track) -> dict[str, Any]:
    return {**_snapshot(track, *TRACK_FIELDS), "modules": sorted(m.code for m in track.modules),
            "requires": sorted(t.code for t in track.requires)}


def create_track(actor: User, data: dict[str, Any]) -> Track:
    errors = FieldErrors()
    values, modules = _track_values(errors, data)
    requires = _required_tracks(errors, values["code"], None, data.get("requires"))
    errors.raise_if_any()
    _ensure_unique(Track, "code", values["code"])
    track = Track(**values, modules=modules, requires=requires or [])
    db.session.add(track)
    db.session.flush()
    audit(actor, "track.create", "track", track.code, after=_track_snapshot(track))
    return track


def update_track(actor: User, track: Track, data: dict[str, Any]) -> Track:
    errors = FieldErrors()
    values, modules = _track_values(errors, {"code": track.code, **data})
    requires = _required_tracks(errors, values["code"], track, data.get("requires"))
    errors.raise_if_any()
    _ensure_unique(Track, "code", values["code"], exclude_id=track.id)
    before = _track_snapshot(track)
    for name, value in values.items():
        setattr(track, name, value)
    track.modules = modules
    if requires is not None:
        track.requires = requires
    db.session.flush()
    audit(actor, "track.update", "track", track.code, before=before, after=_track_snapshot(track))
    return track


# --- trainees -----------------------------------------------------------------------------------------

TRAINEE_FIELDS = ("name", "name_ar", "name_tfng", "email", "category", "sector", "region", "gender", "employer")


def trainee_values(errors: FieldErrors, data: dict[str, Any]) -> dict[str, Any]:
    """Validated trainee fields. Shared with spreadsheet imports so both apply the same rules."""
    return {
        "name": v.person_name(errors, "name", data.get("name")),
        "name_ar": v.person_name(errors, "name_ar", data.get("name_ar")),
        "name_tfng": v.person_name(errors, "name_tfng", data.get("name_tfng"), required=False),
        "email": v.email(errors, "email", data.get("email")),
        "category": v.choice(errors, "category", data.get("category"), CATEGORIES),
        "sector": v.choice(errors, "sector", data.get("sector"), SECTORS),
        "region": v.choice(errors, "region", data.get("region"), REGIONS),
        "gender": v.choice(errors, "gender", data.get("gender"), GENDERS, required=False),
        "employer": v.text(errors, "employer", data.get("employer"), required=False) or "",
    }


def create_trainee(actor: User, data: dict[str, Any]) -> Trainee:
    errors = FieldErrors()
    values = trainee_values(errors, data)
    errors.raise_if_any()
    _ensure_unique(Trainee, "email", values["email"])
    trainee = Trainee(**values)
    db.session.add(trainee)
    db.session.flush()
    audit(actor, "trainee.create", "trainee", trainee.id, after=_snapshot(trainee, *TRAINEE_FIELDS))
    return trainee


def update_trainee(actor: User, trainee: Trainee, data: dict[str, Any]) -> Trainee:
    errors = FieldErrors()
    values = trainee_values(errors, data)
    errors.raise_if_any()
    _ensure_unique(Trainee, "email", values["email"], exclude_id=trainee.id)
    before = _snapshot(trainee, *TRAINEE_FIELDS)
    for name, value in values.items():
        setattr(trainee, name, value)
    db.session.flush()
    audit(actor, "trainee.update", "trainee", trainee.id, before=before,
          after=_snapshot(trainee, *TRAINEE_FIELDS))
    return trainee


def write_trainees(new_rows: list[dict[str, Any]], updates: list[tuple[int, dict[str, Any]]]) -> list[int]:
    """Insert and update trainees in bulk; returns the new trainees' ids, in the order of `new_rows`.

    For many rows at once (a spreadsheet import): each row is a dict of every TRAINEE_FIELDS value, already
    checked by trainee_values, and `updates` are (trainee id, values) pairs. New rows are inserted
    BULK_CHUNK at a time, updates in one executemany; then `signals.trainees_written` is sent, since these
    statements bypass the unit of work that session listeners watch. A clash with rows saved meanwhile
    raises sqlalchemy's IntegrityError, for the caller to roll back. Records no audit entry: the caller
    records one for the whole batch (an import names its file). Flushes, never commits."""
    new_ids: list[int] = []
    for start in range(0, len(new_rows), BULK_CHUNK):
        chunk = new_rows[start:start + BULK_CHUNK]
        # A plain executemany, then the new ids by email: INSERT ... RETURNING in parameter order falls
        # back to a row at a time on SQLite, ten times slower.
        db.session.execute(sa.insert(Trainee), chunk)
        ids = dict(db.session.execute(sa.select(Trainee.email, Trainee.id).where(
            Trainee.email.in_([values["email"] for values in chunk]))).all())
        new_ids.extend(ids[values["email"]] for values in chunk)
    if updates:
        now = utcnow()
        db.session.execute(sa.update(Trainee), [{"id": trainee_id, **values, "updated_at": now}
                                                for trainee_id, values in updates])
    if new_ids or updates:
        trainees_written.send(db.session.connection(), created_ids=new_ids,
                              updated_ids=[trainee_id for trainee_id, _ in updates])
    db.session.flush()
    return new_ids


# --- cohorts and enrollments --------------------------------------------------------------------------

COHORT_FIELDS = ("code", "sector", "region", "language", "starts_on", "ends_on")


def _cohort_values(errors: FieldErrors, data: dict[str, Any]) -> tuple[dict[str, Any], list[User]]:
    values = {
        "code": v.code(errors, "code", data.get("code")),
        "sector": v.choice(errors, "sector", data.get("sector"), SECTORS),
        "region": v.choice(errors, "region", data.get("region"), REGIONS),
        "language": v.choice(errors, "language", data.get("language"), TRAINING_LANGUAGES),
        "starts_on": v.iso_date(errors, "starts_on", data.get("starts_on")),
        "ends_on": v.iso_date(errors, "ends_on", data.get("ends_on")),
    }
    v.date_range(errors, "starts_on", values["starts_on"], "ends_on", values["ends_on"])
    track_code = v.code(errors, "track", data.get("track"))
    if track_code is not None:
        track = db.session.scalar(sa.select(Track).where(Track.code == track_code))
        if track is None:
            errors.add("track", _l("Unknown track “%(code)s”.", code=track_code))
        else:
            values["track"] = track
    return values, _trainers_by_email(errors, data.get("trainers"))


def _trainers_by_email(errors: FieldErrors, emails: Any) -> list[User]:
    if emails is None:
        return []
    if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
        errors.add("trainers", _l("Give a list of trainer emails."))
        return []
    wanted = {e.strip().lower() for e in emails}
    found = list(db.session.scalars(sa.select(User).where(User.email.in_(wanted))))
    missing = sorted(wanted - {u.email for u in found})
    if missing:
        errors.add("trainers", _l("No account for: %(emails)s.", emails=", ".join(missing)))
    not_trainers = sorted(u.email for u in found if u.role != "trainer")
    if not_trainers:
        errors.add("trainers", _l("These accounts are not trainers: %(emails)s.", emails=", ".join(not_trainers)))
    return found


def create_cohort(actor: User, data: dict[str, Any]) -> Cohort:
    errors = FieldErrors()
    values, trainers = _cohort_values(errors, data)
    errors.raise_if_any()
    _ensure_unique(Cohort, "code", values["code"])
    cohort = Cohort(**values, trainers=trainers)
    db.session.add(cohort)
    db.session.flush()
    audit(actor, "cohort.create", "cohort", cohort.code, after={
        **_snapshot(cohort, *COHORT_FIELDS), "track": cohort.track.code, "trainers": [u.email for u in trainers]})
    return cohort


def update_cohort(actor: User, cohort: Cohort, data: dict[str, Any]) -> Cohort:
    errors = FieldErrors()
    values, trainers = _cohort_values(errors, {"code": cohort.code, **data})
    errors.raise_if_any()
    _ensure_unique(Cohort, "code", values["code"], exclude_id=cohort.id)
    before = {**_snapshot(cohort, *COHORT_FIELDS), "track": cohort.track.code,
              "trainers": [u.email for u in cohort.trainers]}
    for name, value in values.items():
        setattr(cohort, name, value)
    cohort.trainers = trainers
    db.session.flush()
    audit(actor, "cohort.update", "cohort", cohort.code, before=before, after={
        **_snapshot(cohort, *COHORT_FIELDS), "track": cohort.track.code, "trainers": [u.email for u in trainers]})
    return cohort


def enrol_trainees(actor: User, cohort: Cohort, trainee_ids: Any) -> int:
    """Enrol trainees; those already enrolled are left as they are. Returns how many were added."""
    errors = FieldErrors()
    ids = v.id_list(errors, "trainee_ids", trainee_ids, max_items=MAX_BATCH)
    errors.raise_if_any()
    known = set(db.session.scalars(sa.select(Trainee.id).where(Trainee.id.in_(ids))))
    unknown = [i for i in dict.fromkeys(ids) if i not in known]
    if unknown:
        raise ValidationFailed.single("trainee_ids", _l("Unknown trainees: %(ids)s.",
                                                        ids=", ".join(map(str, unknown[:20]))))
    already = set(db.session.scalars(sa.select(Enrollment.trainee_id).where(
        Enrollment.cohort_id == cohort.id, Enrollment.trainee_id.in_(ids))))
    new_ids = [i for i in dict.fromkeys(ids) if i not in already]
    if new_ids:  # one INSERT for all: SQLite would otherwise insert row by row to fetch each id
        db.session.execute(sa.insert(Enrollment), [
            {"cohort_id": cohort.id, "trainee_id": i, "enrolled_by_id": actor.id, "enrolled_at": utcnow()}
            for i in new_ids])
    if new_ids:
        audit(actor, "cohort.enrol", "cohort", cohort.code, after={"trainee_ids": new_ids})
    return len(new_ids)


def unenrol_trainee(actor: User, cohort: Cohort, trainee: Trainee) -> None:
    """Remove an enrollment. Attendance and results already recorded stay, for the record."""
    enrollment = db.session.scalar(sa.select(Enrollment).where(
        Enrollment.cohort_id == cohort.id, Enrollment.trainee_id == trainee.id))
    if enrollment is None:
        raise ValidationFailed.single("trainee_id", _l("This trainee is not enrolled in this cohort."))
    db.session.delete(enrollment)
    db.session.flush()
    audit(actor, "cohort.unenrol", "cohort", cohort.code, before={"trainee_id": trainee.id})


# --- sessions, attendance, results --------------------------------------------------------------------

def plan_session(actor: User, cohort: Cohort, data: dict[str, Any]) -> TrainingSession:
    errors = FieldErrors()
    module = _track_module(errors, "module", cohort, data.get("module"))
    starts_at = v.local_datetime(errors, "starts_at", data.get("starts_at"))
    hours = v.decimal(errors, "hours", data.get("hours"), minimum=Decimal(0), maximum=Decimal(24),
                      exclusive_minimum=True)
    errors.raise_if_any()
    session = TrainingSession(cohort_id=cohort.id, module=module, starts_at=starts_at, hours=hours,
                              created_by_id=actor.id)
    db.session.add(session)
    db.session.flush()
    audit(actor, "session.plan", "session", session.id,
          after={"cohort": cohort.code, "module": module.code, "starts_at": starts_at.isoformat(),
                 "hours": str(hours)})
    return session


def delete_session(actor: User, session: TrainingSession) -> None:
    """Delete a planned session and the attendance taken at it (asked to confirm on screen)."""
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Attendance).where(
        Attendance.session_id == session.id))
    audit(actor, "session.delete", "session", session.id, before={
        "cohort_id": session.cohort_id, "module": session.module.code,
        "starts_at": session.starts_at.isoformat(), "attendance_records": count})
    statuses = list(db.session.scalars(sa.select(Attendance.status).where(Attendance.session_id == session.id)))
    _adjust_totals(session.cohort_id, statuses, removed=True)
    db.session.execute(sa.delete(Attendance).where(Attendance.session_id == session.id))
    db.session.delete(session)
    db.session.flush()


def _track_module(errors: FieldErrors, name: str, cohort: Cohort, module_code: Any) -> Module | None:
    module_code = v.code(errors, name, module_code)
    if module_code is None:
        return None
    module = next((m for m in cohort.track.modules if m.code == module_code), None)
    if module is None:
        errors.add(name, _l("Module “%(code)s” is not part of this cohort's track.", code=module_code))
    return module


def _enrolled_ids(cohort_id: int, trainee_ids: Iterable[int]) -> set[int]:
    return set(db.session.scalars(sa.select(Enrollment.trainee_id).where(
        Enrollment.cohort_id == cohort_id, Enrollment.trainee_id.in_(list(trainee_ids)))))


def _records(errors: FieldErrors, records: Any) -> list[dict]:
    if not isinstance(records, list) or not records:
        errors.add("records", _l("Give a non-empty list of records."))
        return []
    if len(records) > MAX_BATCH:
        errors.add("records", _l("At most %(max)d items at once.", max=MAX_BATCH))
        return []
    if not all(isinstance(r, dict) for r in records):
        errors.add("records", _l("Each record must be an object."))
        return []
    return records


def _check_enrolled(errors: FieldErrors, cohort_id: int, parsed: list[tuple[int, int]]) -> None:
    """Flag each (row index, trainee id) whose trainee is not enrolled in the cohort."""
    enrolled = _enrolled_ids(cohort_id, {trainee_id for _, trainee_id in parsed})
    for index, trainee_id in parsed:
        if trainee_id not in enrolled:
            errors.add(f"records.{index}.trainee_id",
                       _l("Trainee %(id)s is not enrolled in this cohort.", id=trainee_id))


def record_attendance(actor: User, session: TrainingSession, records: Any) -> int:
    """Set each listed trainee's status at a session, all or nothing. Saving the same records twice
    leaves one row per trainee in the same state. Returns how many rows changed."""
    errors = FieldErrors()
    wanted: dict[int, str] = {}
    parsed: list[tuple[int, int]] = []
    for index, record in enumerate(_records(errors, records)):
        trainee_id = v.row_id(errors, f"records.{index}.trainee_id", record.get("trainee_id"))
        status = v.choice(errors, f"records.{index}.status", record.get("status"), ATTENDANCE_STATUSES)
        if trainee_id is None:
            continue
        if trainee_id in wanted:
            errors.add(f"records.{index}.trainee_id", _l("This trainee appears twice in the list."))
        parsed.append((index, trainee_id))
        wanted[trainee_id] = status
    _check_enrolled(errors, session.cohort_id, parsed)
    errors.raise_if_any()

    lock_session(session)
    existing = {a.trainee_id: a for a in db.session.scalars(sa.select(Attendance).where(
        Attendance.session_id == session.id, Attendance.trainee_id.in_(list(wanted))))}
    before: dict[int, str] = {}
    after: dict[int, str] = {}
    now = utcnow()
    for trainee_id, status in wanted.items():
        row = existing.get(trainee_id)
        if row is None:
            db.session.add(Attendance(session_id=session.id, trainee_id=trainee_id, status=status, source="manual",
                                      recorded_by_id=actor.id, recorded_at=now))
        elif row.status != status or row.source != "manual":
            before[trainee_id] = row.status
            row.status, row.source, row.recorded_by_id, row.recorded_at = status, "manual", actor.id, now
        else:
            continue
        after[trainee_id] = status
    _adjust_totals(session.cohort_id, before.values(), removed=True)
    _adjust_totals(session.cohort_id, after.values())
    db.session.flush()
    if after:
        audit(actor, "attendance.record", "session", session.id, before=before or None, after=after)
    return len(after)


def record_checkin(user: User, session: TrainingSession, trainee_id: int, status: str) -> tuple[Attendance, bool]:
    """A trainee's own check-in. An existing record, set by hand or by an earlier check-in, is kept as it
    is: checking in twice is harmless and never overrides the trainer. Returns (record, created)."""
    lock_session(session)
    existing = db.session.scalar(sa.select(Attendance).where(
        Attendance.session_id == session.id, Attendance.trainee_id == trainee_id))
    if existing is not None:
        return existing, False
    record = Attendance(session_id=session.id, trainee_id=trainee_id, status=status, source="checkin",
                        recorded_by_id=user.id, recorded_at=utcnow())
    db.session.add(record)
    _adjust_totals(session.cohort_id, [status])
    db.session.flush()
    audit(user, "attendance.checkin", "session", session.id, after={str(trainee_id): status})
    return record, True


def lock_session(session: TrainingSession) -> None:
    """Writers of a session's attendance (other instances, other workers) queue here until this transaction
    ends. Otherwise two could both find no record and both insert one (a 500 on the unique index), or both
    change the same record and each take its old status off the cohort's totals."""
    lock_row(session)


def _adjust_totals(cohort_id: int, statuses, *, removed: bool = False) -> None:
    """Add (or take away) some attendance statuses to the cohort's running totals, atomically."""
    statuses = list(statuses)
    sign = -1 if removed else 1
    attended = sign * sum(s in ATTENDED_STATUSES for s in statuses)
    counted = sign * sum(s in COUNTED_STATUSES for s in statuses)
    if not (attended or counted):
        return
    insert = insert_or_update(CohortAttendanceTotal).values(cohort_id=cohort_id, attended=attended, counted=counted)
    db.session.execute(insert.on_conflict_do_update(index_elements=["cohort_id"], set_={
        "attended": CohortAttendanceTotal.attended + attended, "counted": CohortAttendanceTotal.counted + counted}))


def record_results(actor: User, cohort: Cohort, records: Any) -> int:
    """Set module results for a cohort's trainees, all or nothing; recording again updates.
    Returns how many results changed."""
    errors = FieldErrors()
    wanted: dict[tuple[int, Module], tuple[bool, Decimal | None]] = {}
    parsed: list[tuple[int, int]] = []
    for index, record in enumerate(_records(errors, records)):
        prefix = f"records.{index}"
        trainee_id = v.row_id(errors, f"{prefix}.trainee_id", record.get("trainee_id"))
        module = _track_module(errors, f"{prefix}.module", cohort, record.get("module"))
        passed = v.boolean(errors, f"{prefix}.passed", record.get("passed"))
        score = v.decimal(errors, f"{prefix}.score", record.get("score"), minimum=Decimal(0),
                          maximum=Decimal(100), required=False)
        if trainee_id is None:
            continue
        parsed.append((index, trainee_id))
        if module is None or passed is None:
            continue
        if (trainee_id, module) in wanted:
            errors.add(f"{prefix}.trainee_id", _l("This trainee and module appear twice in the list."))
        wanted[(trainee_id, module)] = (passed, score)
    _check_enrolled(errors, cohort.id, parsed)
    errors.raise_if_any()

    # Writers of a cohort's results queue on the cohort's row: otherwise two saves at once could both find
    # no result and both insert one (a 500 on the unique constraint). The later one then reads the first's
    # rows and updates them, or finds them equal.
    lock_row(cohort)
    existing = {(r.trainee_id, r.module_id): r for r in db.session.scalars(sa.select(ModuleResult).where(
        ModuleResult.cohort_id == cohort.id, ModuleResult.trainee_id.in_([trainee_id for _, trainee_id in parsed])))}
    before, after = {}, {}
    now = utcnow()
    for (trainee_id, module), (passed, score) in wanted.items():
        row = existing.get((trainee_id, module.id))
        key = f"{trainee_id}:{module.code}"
        if row is None:
            db.session.add(ModuleResult(cohort_id=cohort.id, trainee_id=trainee_id, module_id=module.id,
                                        passed=passed, score=score, recorded_by_id=actor.id, recorded_at=now))
        elif (row.passed, row.score) != (passed, score):
            before[key] = {"passed": row.passed, "score": None if row.score is None else str(row.score)}
            row.passed, row.score, row.recorded_by_id, row.recorded_at = passed, score, actor.id, now
        else:
            continue
        after[key] = {"passed": passed, "score": None if score is None else str(score)}
    db.session.flush()
    if after:
        audit(actor, "results.record", "cohort", cohort.code, before=before or None, after=after)
    return len(after)


# --- recognition of prior learning ------------------------------------------------------------------------

def recognise_module(actor: User, trainee: Trainee, data: dict[str, Any]) -> Recognition:
    """Record that a trainee has a module's learning from elsewhere (admins). It counts as passed, and its
    attendance as met, for every track containing the module (skills.rules.eligibility)."""
    errors = FieldErrors()
    module_code = v.code(errors, "module", data.get("module"))
    reason = v.text(errors, "reason", data.get("reason"), max_length=500)
    evidence = v.text(errors, "evidence", data.get("evidence"), required=False, max_length=500) or ""
    module = None
    if module_code is not None:
        module = db.session.scalar(sa.select(Module).where(Module.code == module_code))
        if module is None:
            errors.add("module", _l("Unknown module “%(code)s”.", code=module_code))
    errors.raise_if_any()
    if trainee.purged_at is not None:
        raise Conflict(_l("The personal data of trainee %(id)s was deleted at the end of its retention period.",
                          id=trainee.id))
    # Two admins recording the same module at once: the later one waits here, then finds the first's
    # recognition (a clear 422 rather than a 500 on the one-in-force index).
    lock_row(trainee)
    in_force = db.session.scalar(sa.select(Recognition.id).where(
        Recognition.trainee_id == trainee.id, Recognition.module_id == module.id, Recognition.withdrawn_at.is_(None)))
    if in_force is not None:
        raise ValidationFailed.single("module", _l("Module %(code)s is already recognised for this trainee: "
                                                   "withdraw that recognition first.", code=module.code))
    recognition = Recognition(trainee_id=trainee.id, module=module, reason=reason, evidence=evidence,
                              recorded_by_id=actor.id, recorded_at=utcnow())
    db.session.add(recognition)
    db.session.flush()
    # Under the trainee: the purge erases these values with the rest of the person's entries.
    audit(actor, "recognition.record", "trainee", trainee.id, after={
        "recognition_id": recognition.id, "module": module.code, "reason": reason, "evidence": evidence})
    recognitions_changed.send(db.session.connection(), trainee_ids=[trainee.id])
    return recognition


def withdraw_recognition(actor: User, recognition: Recognition) -> Recognition:
    """Withdraw a recognition: it stops counting from now on; the row stays as history. A recognition
    already withdrawn is a conflict (409), so two withdrawals at once audit one."""
    lock_row(recognition)
    if recognition.withdrawn_at is not None:
        raise Conflict(_l("This recognition was already withdrawn."))
    recognition.withdrawn_at = utcnow()
    recognition.withdrawn_by_id = actor.id
    db.session.flush()
    audit(actor, "recognition.withdraw", "trainee", recognition.trainee_id, before={
        "recognition_id": recognition.id, "module": recognition.module.code})
    recognitions_changed.send(db.session.connection(), trainee_ids=[recognition.trainee_id])
    return recognition
