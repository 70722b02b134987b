"""The registry's JSON API under /api/v1. Handlers parse, authorise, call operations or queries, and
commit once; every error answers application/problem+json and writes nothing."""
from __future__ import annotations

from flask import request

from app import db
from common.api import api_blueprint, json_body, paginated
from common.errors import FieldErrors
from skills import operations, queries
from skills import validation as v
from skills.loaders import (get_cohort_or_404, get_module_or_404, get_session_or_404, get_track_or_404,
                            get_trainee_or_404)
from skills.permissions import STAFF, current_actor, require_role
from skills.serializers import (attendance_json, cohort_json, module_json, progress_json, result_json,
                                session_json, track_json, trainee_json)
from skills.vocab import CATEGORIES, REGIONS, SECTORS

bp = api_blueprint("skills_api", __name__)


def _created(payload: dict, location: str):
    db.session.commit()
    return payload, 201, {"Location": location}


# --- modules and tracks: readable by every signed-in user, written by admins --------------------------

@bp.get("/modules")
@require_role()
def list_modules():
    return paginated(queries.modules(request.args.get("q")), module_json)


@bp.post("/modules")
@require_role("admin")
def create_module():
    module = operations.create_module(current_actor(), json_body())
    return _created(module_json(module), f"/api/v1/modules/{module.code}")


@bp.get("/modules/<code>")
@require_role()
def get_module(code: str):
    return module_json(get_module_or_404(code))


@bp.put("/modules/<code>")
@require_role("admin")
def update_module(code: str):
    module = operations.update_module(current_actor(), get_module_or_404(code), json_body())
    db.session.commit()
    return module_json(module)


@bp.get("/tracks")
@require_role()
def list_tracks():
    return paginated(queries.tracks(request.args.get("q")), track_json)


@bp.post("/tracks")
@require_role("admin")
def create_track():
    track = operations.create_track(current_actor(), json_body())
    return _created(track_json(track), f"/api/v1/tracks/{track.code}")


@bp.get("/tracks/<code>")
@require_role()
def get_track(code: str):
    return track_json(get_track_or_404(code))


@bp.put("/tracks/<code>")
@require_role("admin")
def update_track(code: str):
    track = operations.update_track(current_actor(), get_track_or_404(code), json_body())
    db.session.commit()
    return track_json(track)


# --- trainees ------------------------------------------------------------------------------------------

def _filters() -> dict:
    errors = FieldErrors()
    filters = {
        "sector": v.choice(errors, "sector", request.args.get("sector"), SECTORS, required=False),
        "region": v.choice(errors, "region", request.args.get("region"), REGIONS, required=False),
        "category": v.choice(errors, "category", request.args.get("category"), CATEGORIES, required=False),
    }
    if request.args.get("updated_since"):
        filters["updated_since"] = v.local_datetime(errors, "updated_since", request.args["updated_since"])
    errors.raise_if_any()
    return filters


@bp.get("/trainees")
@require_role("admin", "trainer", "trainee")
def list_trainees():
    cohort_id = None
    if request.args.get("cohort"):
        cohort_id = get_cohort_or_404(request.args["cohort"]).id
    query = queries.trainees(request.args.get("q"), cohort_id=cohort_id, visible_to=current_actor(), **_filters())
    return paginated(query, trainee_json)


@bp.post("/trainees")
@require_role("admin")
def create_trainee():
    trainee = operations.create_trainee(current_actor(), json_body())
    return _created(trainee_json(trainee), f"/api/v1/trainees/{trainee.id}")


@bp.get("/trainees/<int:trainee_id>")
@require_role("admin", "trainer", "trainee")
def get_trainee(trainee_id: int):
    return trainee_json(get_trainee_or_404(trainee_id))


@bp.put("/trainees/<int:trainee_id>")
@require_role("admin")
def update_trainee(trainee_id: int):
    trainee = operations.update_trainee(current_actor(), get_trainee_or_404(trainee_id), json_body())
    db.session.commit()
    return trainee_json(trainee)


@bp.get("/trainees/<int:trainee_id>/progress")
@require_role("admin", "trainer", "trainee")
def trainee_progress(trainee_id: int):
    trainee = get_trainee_or_404(trainee_id)
    return {"trainee_id": trainee.id, "tracks": [progress_json(p) for p in queries.trainee_progress(trainee.id)]}


# --- cohorts, enrollments, sessions, attendance, results -----------------------------------------------

@bp.get("/cohorts")
@require_role(*STAFF)
def list_cohorts():
    actor = current_actor()
    track_id = get_track_or_404(request.args["track"]).id if request.args.get("track") else None
    filters = _filters()
    query = queries.cohorts(request.args.get("q"), taught_by=actor if actor.role == "trainer" else None,
                            track_id=track_id, sector=filters["sector"], region=filters["region"])
    return paginated(query, cohort_json)


@bp.post("/cohorts")
@require_role("admin")
def create_cohort():
    cohort = operations.create_cohort(current_actor(), json_body())
    return _created(cohort_json(cohort), f"/api/v1/cohorts/{cohort.code}")


@bp.get("/cohorts/<code>")
@require_role(*STAFF)
def get_cohort(code: str):
    return cohort_json(get_cohort_or_404(code))


@bp.put("/cohorts/<code>")
@require_role("admin")
def update_cohort(code: str):
    cohort = operations.update_cohort(current_actor(), get_cohort_or_404(code), json_body())
    db.session.commit()
    return cohort_json(cohort)


@bp.get("/cohorts/<code>/enrollments")
@require_role("admin", "trainer")
def list_enrollments(code: str):
    cohort = get_cohort_or_404(code)
    return paginated(queries.cohort_roster(cohort.id, request.args.get("q")), trainee_json)


@bp.post("/cohorts/<code>/enrollments")
@require_role("admin")
def enrol(code: str):
    cohort = get_cohort_or_404(code)
    added = operations.enrol_trainees(current_actor(), cohort, json_body().get("trainee_ids"))
    db.session.commit()
    return {"cohort": cohort.code, "added": added}, 201 if added else 200


@bp.delete("/cohorts/<code>/enrollments/<int:trainee_id>")
@require_role("admin")
def unenrol(code: str, trainee_id: int):
    cohort = get_cohort_or_404(code)
    operations.unenrol_trainee(current_actor(), cohort, get_trainee_or_404(trainee_id))
    db.session.commit()
    return "", 204


@bp.get("/cohorts/<code>/sessions")
@require_role(*STAFF)
def list_sessions(code: str):
    return paginated(queries.cohort_sessions(get_cohort_or_404(code).id), session_json)


@bp.post("/cohorts/<code>/sessions")
@require_role("admin", "trainer")
def plan_session(code: str):
    session = operations.plan_session(current_actor(), get_cohort_or_404(code, manage=True), json_body())
    return _created(session_json(session), f"/api/v1/sessions/{session.id}")


@bp.get("/sessions/<int:session_id>")
@require_role(*STAFF)
def get_session(session_id: int):
    return session_json(get_session_or_404(session_id))


@bp.delete("/sessions/<int:session_id>")
@require_role("admin", "trainer")
def delete_session(session_id: int):
    operations.delete_session(current_actor(), get_session_or_404(session_id, manage=True))
    db.session.commit()
    return "", 204


@bp.get("/sessions/<int:session_id>/attendance")
@require_role("admin", "trainer")
def get_attendance(session_id: int):
    session = get_session_or_404(session_id)
    records = db.session.scalars(queries.session_attendance(session.id))
    return {"session_id": session.id, "records": [attendance_json(r) for r in records]}


@bp.put("/sessions/<int:session_id>/attendance")
@require_role("admin", "trainer")
def put_attendance(session_id: int):
    session = get_session_or_404(session_id, manage=True)
    changed = operations.record_attendance(current_actor(), session, json_body().get("records"))
    db.session.commit()
    records = db.session.scalars(queries.session_attendance(session.id))
    return {"session_id": session.id, "changed": changed, "records": [attendance_json(r) for r in records]}


@bp.get("/cohorts/<code>/results")
@require_role("admin", "trainer")
def get_results(code: str):
    cohort = get_cohort_or_404(code)
    return {"cohort": cohort.code,
            "records": [result_json(r) for r in db.session.scalars(queries.cohort_results(cohort.id))]}


@bp.put("/cohorts/<code>/results")
@require_role("admin", "trainer")
def put_results(code: str):
    cohort = get_cohort_or_404(code, manage=True)
    changed = operations.record_results(current_actor(), cohort, json_body().get("records"))
    db.session.commit()
    return {"cohort": cohort.code, "changed": changed,
            "records": [result_json(r) for r in db.session.scalars(queries.cohort_results(cohort.id))]}
