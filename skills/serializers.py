"""JSON shapes of the registry's objects, shared by the API and exports."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from common.openapi import (
    BOOLEAN, DATE, DATETIME, INTEGER, NUMBER, STRING, TITLES, TRACK_TITLES, array, enum, nullable, obj, schema,
)
from common.types import iso_utc
from skills.models import Attendance, Cohort, Module, ModuleResult, Recognition, Track, Trainee, TrainingSession
from skills.queries import TrackProgress
from skills.rules import PREREQUISITE_REASONS, Eligibility, PrerequisiteGap
from skills.vocab import ATTENDANCE_STATUSES, CATEGORIES, GENDERS, REGIONS, SECTORS, TRAINING_LANGUAGES


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _titles(obj) -> dict[str, str]:
    return {"fr": obj.title_fr, "ar": obj.title_ar, "en": obj.title_en}


MODULE = schema("Module", obj({"code": {"type": "string", "examples": ["RAI-101"]}, "title": TITLES, "hours": NUMBER}))


def module_json(module: Module) -> dict[str, Any]:
    return {"code": module.code, "title": _titles(module), "hours": _number(module.hours)}


TRACK = schema("Track", obj({
    "code": STRING, "title": TRACK_TITLES, "modules": array(STRING), "min_attendance": NUMBER,
    "validity_months": nullable(INTEGER), "counts_toward_target": BOOLEAN,
    "requires": {**array(STRING), "description": "Tracks whose valid certificate this track requires (the pathway)."}}))


def track_json(track: Track) -> dict[str, Any]:
    return {"code": track.code, "title": {**_titles(track), "zgh": track.title_zgh}, "modules": [m.code for m in track.modules],
            "min_attendance": _number(track.min_attendance), "validity_months": track.validity_months,
            "counts_toward_target": track.counts_toward_target, "requires": [t.code for t in track.requires]}


TRAINEE = schema("Trainee", obj({
    "id": INTEGER, "name": {"type": "string", "examples": ["Amina El Idrissi"]},
    "name_ar": {"type": "string", "examples": ["أمينة الإدريسي"]}, "name_tfng": nullable(STRING),
    "email": {"type": "string", "examples": ["amina.elidrissi@sante.gov.ma"]},
    "category": enum(CATEGORIES), "sector": enum(SECTORS), "region": enum(REGIONS),
    "gender": nullable(enum(GENDERS)), "employer": STRING, "updated_at": DATETIME}))


def trainee_json(trainee: Trainee) -> dict[str, Any]:
    return {"id": trainee.id, "name": trainee.name, "name_ar": trainee.name_ar, "name_tfng": trainee.name_tfng,
            "email": trainee.email, "category": trainee.category, "sector": trainee.sector,
            "region": trainee.region, "gender": trainee.gender, "employer": trainee.employer,
            "updated_at": iso_utc(trainee.updated_at)}


COHORT = schema("Cohort", obj({
    "code": STRING, "track": STRING, "sector": enum(SECTORS), "region": enum(REGIONS),
    "language": enum(TRAINING_LANGUAGES), "starts_on": DATE, "ends_on": DATE,
    "trainers": {**array(STRING), "description": "The trainers' email addresses; always empty for the governance "
                                                 "cell, which sees counts, never people."},
    "trainer_count": INTEGER}))


def cohort_json(cohort: Cohort, people: bool = True) -> dict[str, Any]:
    """people=False (the governance cell): how many trainers, not who."""
    return {"code": cohort.code, "track": cohort.track.code, "sector": cohort.sector, "region": cohort.region,
            "language": cohort.language, "starts_on": cohort.starts_on.isoformat(),
            "ends_on": cohort.ends_on.isoformat(),
            "trainers": [u.email for u in cohort.trainers] if people else [], "trainer_count": len(cohort.trainers)}


SESSION = schema("Session", obj({"id": INTEGER, "cohort": STRING, "module": STRING, "starts_at": DATETIME,
                                 "hours": NUMBER}))


def session_json(session: TrainingSession) -> dict[str, Any]:
    return {"id": session.id, "cohort": session.cohort.code, "module": session.module.code,
            "starts_at": iso_utc(session.starts_at), "hours": _number(session.hours)}


ATTENDANCE = schema("Attendance", obj({"trainee_id": INTEGER, "status": enum(ATTENDANCE_STATUSES),
                                       "recorded_at": DATETIME, "recorded_by": nullable(INTEGER)}))


def attendance_json(record: Attendance) -> dict[str, Any]:
    return {"trainee_id": record.trainee_id, "status": record.status,
            "recorded_at": iso_utc(record.recorded_at), "recorded_by": record.recorded_by_id}


RESULT = schema("Result", obj({"trainee_id": INTEGER, "module": STRING, "passed": BOOLEAN,
                               "score": nullable(NUMBER), "recorded_at": DATETIME,
                               "recorded_by": nullable(INTEGER)}))


def result_json(result: ModuleResult) -> dict[str, Any]:
    return {"trainee_id": result.trainee_id, "module": result.module.code, "passed": result.passed,
            "score": _number(result.score), "recorded_at": iso_utc(result.recorded_at),
            "recorded_by": result.recorded_by_id}


RECOGNITION = schema("Recognition", obj({
    "id": INTEGER, "trainee_id": INTEGER, "module": STRING, "module_title": TITLES, "reason": STRING,
    "evidence": STRING, "recorded_at": DATETIME, "recorded_by": nullable(INTEGER),
    "in_force": {**BOOLEAN, "description": "False once withdrawn: it no longer counts."},
    "withdrawn_at": nullable(DATETIME), "withdrawn_by": nullable(INTEGER)}))


def recognition_json(recognition: Recognition) -> dict[str, Any]:
    return {"id": recognition.id, "trainee_id": recognition.trainee_id, "module": recognition.module.code,
            "module_title": _titles(recognition.module), "reason": recognition.reason,
            "evidence": recognition.evidence, "recorded_at": iso_utc(recognition.recorded_at),
            "recorded_by": recognition.recorded_by_id, "in_force": recognition.withdrawn_at is None,
            "withdrawn_at": iso_utc(recognition.withdrawn_at) if recognition.withdrawn_at else None,
            "withdrawn_by": recognition.withdrawn_by_id}


PROGRESS = schema("TrackProgress", obj({
    "track": STRING, "title": TITLES, "attendance_rate": nullable(NUMBER), "attended": INTEGER,
    "counted": INTEGER, "min_attendance": NUMBER, "modules_required": array(STRING),
    "modules_passed": {**array(STRING), "description": "Passed in a cohort or recognised."},
    "modules_recognised": {**array(STRING), "description": "Counted through a recognition of prior learning."},
    "requires": {**array(STRING), "description": "The tracks whose valid certificate this track requires."},
    "eligible": BOOLEAN,
    "missing": array({"type": "object", "required": ["type", "message"],
                      "properties": {"type": enum(["module", "attendance", "prerequisite"]), "message": STRING,
                                     "module": STRING, "rate": nullable(NUMBER), "required": NUMBER,
                                     "track": STRING, "reason": enum(PREREQUISITE_REASONS)}})}))


def progress_json(progress: TrackProgress) -> dict[str, Any]:
    e = progress.eligibility
    return {"track": progress.track.code, "title": _titles(progress.track),
            "attendance_rate": _number(e.rate), "attended": e.attended, "counted": e.counted,
            "min_attendance": _number(e.min_attendance), "modules_required": [m.code for m in progress.track.modules],
            "modules_passed": list(e.modules_passed), "modules_recognised": list(e.modules_recognised),
            "requires": [t.code for t in progress.track.requires], "eligible": e.eligible,
            "missing": [{**m, "message": str(m["message"])} for m in missing_requirements(e)]}


ENROLLED = schema("Enrolled", obj({
    "cohort": STRING, "added": INTEGER,
    "prerequisites_missing": {
        **array(obj({"trainee_id": INTEGER, "track": STRING, "reason": enum(PREREQUISITE_REASONS), "message": STRING})),
        "description": "The prerequisites of the cohort's track that trainees in the request do not hold yet. "
                       "They are enrolled all the same (they may earn them during the cohort), but no certificate "
                       "of the track can be issued to them before."}}))


def enrolled_json(cohort: Cohort, added: int, gaps: dict[int, list[PrerequisiteGap]]) -> dict[str, Any]:
    return {"cohort": cohort.code, "added": added, "prerequisites_missing": [
        {"trainee_id": trainee_id, "track": gap.track, "reason": gap.reason, "message": str(prerequisite_message(gap))}
        for trainee_id, trainee_gaps in gaps.items() for gap in trainee_gaps]}


def prerequisite_message(gap: PrerequisiteGap) -> Any:
    if gap.reason == "expired":
        return _l("The certificate of track %(code)s, required first, has expired: it must be renewed.", code=gap.track)
    if gap.reason == "revoked":
        return _l("The certificate of track %(code)s, required first, was revoked.", code=gap.track)
    return _l("Requires a valid certificate of track %(code)s.", code=gap.track)


def missing_requirements(e: Eligibility) -> list[dict[str, Any]]:
    """What a trainee still lacks for a track, each with its message (lazy: in the reader's language).
    The one list progress, single issuance and bulk issuance give."""
    missing: list[dict[str, Any]] = [
        {"type": "prerequisite", "track": gap.track, "reason": gap.reason, "message": prerequisite_message(gap)}
        for gap in e.prerequisites_missing]
    missing += [{"type": "module", "module": code, "message": _l("Module %(code)s not yet passed.", code=code)}
                for code in e.modules_missing]
    if not e.attendance_met:
        missing.append({"type": "attendance", "rate": _number(e.rate), "required": _number(e.min_attendance),
                        "message": attendance_shortfall_message(e)})
    return missing


def attendance_shortfall_message(e) -> Any:
    if e.rate is None:
        return _l("No attendance recorded yet (at least %(min)s%% required).", min=_percent(e.min_attendance))
    return _l("Attendance %(rate)s%% is below the required %(min)s%%.", rate=_percent(e.rate),
              min=_percent(e.min_attendance))


def _percent(value: Decimal) -> str:
    return f"{(value * 100).quantize(Decimal('0.1')).normalize():f}"
