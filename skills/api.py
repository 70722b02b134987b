"""The registry's JSON API under /api/v1. Handlers parse, authorise, call operations or queries, and
commit once; every error answers application/problem+json and writes nothing."""
from __future__ import annotations

from flask import g, request

from accounts.bearer import api_blueprint
from accounts.permissions import current_actor, require_role
from accounts.roles import STAFF
from common.api import json_body, paginated
from common.extensions import db
from common.openapi import (
    BOOLEAN,
    DATE,
    INTEGER,
    NO_CONTENT,
    NUMBER,
    STRING,
    TITLES,
    TRACK_TITLES_IN,
    Body,
    Q,
    array,
    documented,
    enum,
    nullable,
    obj,
    page_of,
)
from skills import operations, permissions, queries
from skills.filters import COHORT_STATUSES, list_filters, params as filter_params
from skills.loaders import (
    get_cohort_or_404,
    get_module_or_404,
    get_recognition_or_404,
    get_session_or_404,
    get_track_or_404,
    get_trainee_or_404,
)
from skills.serializers import (
    ATTENDANCE,
    COHORT,
    ENROLLED,
    MODULE,
    PROGRESS,
    RECOGNITION,
    RESULT,
    SESSION,
    TRACK,
    TRAINEE,
    attendance_json,
    cohort_json,
    enrolled_json,
    module_json,
    progress_json,
    recognition_json,
    result_json,
    session_json,
    track_json,
    trainee_json,
)
from skills.vocab import ATTENDANCE_STATUSES, CATEGORIES, GENDERS, REGIONS, SECTORS, TRAINING_LANGUAGES

bp = api_blueprint("skills_api", __name__)

# --- what the handlers take (validated by the operations, which say what is wrong field by field) ------

CODE = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"}
MODULE_IN = Body(obj({"code": CODE, "title": TITLES, "hours": NUMBER}))
TRACK_IN = Body(obj({"code": CODE, "title": TRACK_TITLES_IN, "modules": array(CODE), "min_attendance": NUMBER,
                     "validity_months": nullable(INTEGER), "counts_toward_target": BOOLEAN,
                     "requires": array(CODE)},
                    required=("code", "title", "modules")))
TRAINEE_IN = Body(obj({"name": STRING, "name_ar": STRING, "name_tfng": nullable(STRING), "email": STRING,
                       "category": enum(CATEGORIES), "sector": enum(SECTORS), "region": enum(REGIONS),
                       "gender": nullable(enum(GENDERS)), "employer": STRING},
                      required=("name", "name_ar", "email", "category", "sector", "region")))
COHORT_IN = Body(obj({"code": CODE, "track": CODE, "sector": enum(SECTORS), "region": enum(REGIONS),
                      "language": enum(TRAINING_LANGUAGES), "starts_on": DATE, "ends_on": DATE,
                      "trainers": array(STRING)},
                     required=("code", "track", "sector", "region", "language", "starts_on", "ends_on")))
SESSION_IN = Body(obj({"module": CODE, "starts_at": {"type": "string", "format": "date-time"}, "hours": NUMBER}))
ENROL_IN = Body(obj({"trainee_ids": array({"type": "integer", "minimum": 1}, minItems=1)}))
ATTENDANCE_IN = Body(obj({"records": array(obj({"trainee_id": INTEGER, "status": enum(ATTENDANCE_STATUSES)}),
                                          minItems=1)}))
RESULTS_IN = Body(obj({"records": array(obj({"trainee_id": INTEGER, "module": CODE, "passed": BOOLEAN,
                                             "score": nullable(NUMBER)}, required=("trainee_id", "module", "passed")),
                                        minItems=1)}))
RECOGNITION_IN = Body(obj({"module": CODE, "reason": {"type": "string", "maxLength": 500},
                           "evidence": {"type": "string", "maxLength": 500}}, required=("module", "reason")))
TRAINEE_FILTERS = ("q", "cohort", "track", "sector", "region", "category", "updated_since")
COHORT_FILTERS = ("q", "track", "sector", "region", "status")
ATTENDANCE_OUT = obj({"session_id": INTEGER, "records": array(ATTENDANCE)})
RESULTS_OUT = obj({"cohort": STRING, "records": array(RESULT)})


def _created(payload: dict, location: str):
    db.session.commit()
    return payload, 201, {"Location": location}


# --- modules and tracks: readable by every signed-in user, written by admins --------------------------

@bp.get("/modules")
@require_role()
@documented("List modules", tag="Modules", responses={200: page_of(MODULE)}, query=(Q,), paginated=True)
def list_modules():
    return paginated(queries.modules(request.args.get("q")), module_json)


@bp.post("/modules")
@require_role("admin")
@documented("Create a module", tag="Modules", body=MODULE_IN, responses={201: MODULE}, errors=(409,))
def create_module():
    module = operations.create_module(current_actor(), json_body())
    return _created(module_json(module), f"/api/v1/modules/{module.code}")


@bp.get("/modules/<code>")
@require_role()
@documented("Get a module", tag="Modules", responses={200: MODULE})
def get_module(code: str):
    return module_json(get_module_or_404(code))


@bp.put("/modules/<code>")
@require_role("admin")
@documented("Update a module", tag="Modules", body=MODULE_IN, responses={200: MODULE}, errors=(409,))
def update_module(code: str):
    module = operations.update_module(current_actor(), get_module_or_404(code), json_body())
    db.session.commit()
    return module_json(module)


@bp.get("/tracks")
@require_role()
@documented("List tracks", tag="Tracks", responses={200: page_of(TRACK)}, query=(Q,), paginated=True)
def list_tracks():
    return paginated(queries.tracks(request.args.get("q")), track_json)


@bp.post("/tracks")
@require_role("admin")
@documented("Create a track", tag="Tracks", body=TRACK_IN, responses={201: TRACK}, errors=(409,))
def create_track():
    track = operations.create_track(current_actor(), json_body())
    return _created(track_json(track), f"/api/v1/tracks/{track.code}")


@bp.get("/tracks/<code>")
@require_role()
@documented("Get a track", tag="Tracks", responses={200: TRACK})
def get_track(code: str):
    return track_json(get_track_or_404(code))


@bp.put("/tracks/<code>")
@require_role("admin")
@documented("Update a track", tag="Tracks", body=TRACK_IN, responses={200: TRACK}, errors=(409,))
def update_track(code: str):
    track = operations.update_track(current_actor(), get_track_or_404(code), json_body())
    db.session.commit()
    return track_json(track)


# --- trainees ------------------------------------------------------------------------------------------

@bp.get("/trainees")
@require_role("admin", "trainer", "trainee")
@documented("List trainees", tag="Trainees", responses={200: page_of(TRAINEE)}, paginated=True,
            query=filter_params(*TRAINEE_FILTERS),
            description="Admins see everyone, trainers the trainees of their cohorts, a trainee itself.")
def list_trainees():
    f = list_filters(request.args, *TRAINEE_FILTERS)
    query = queries.trainees(f.q, cohort_id=f.cohort.id if f.cohort else None, track_id=f.track.id if f.track else None,
                             sector=f.sector, region=f.region, category=f.category, updated_since=f.updated_since,
                             visible_to=current_actor())
    return paginated(query, trainee_json)


@bp.post("/trainees")
@require_role("admin")
@documented("Create a trainee", tag="Trainees", body=TRAINEE_IN, responses={201: TRAINEE}, errors=(409,))
def create_trainee():
    trainee = operations.create_trainee(current_actor(), json_body())
    return _created(trainee_json(trainee), f"/api/v1/trainees/{trainee.id}")


@bp.get("/trainees/<int:trainee_id>")
@require_role("admin", "trainer", "trainee")
@documented("Get a trainee", tag="Trainees", responses={200: TRAINEE})
def get_trainee(trainee_id: int):
    return trainee_json(get_trainee_or_404(trainee_id))


@bp.put("/trainees/<int:trainee_id>")
@require_role("admin")
@documented("Update a trainee", tag="Trainees", body=TRAINEE_IN, responses={200: TRAINEE}, errors=(409,))
def update_trainee(trainee_id: int):
    trainee = operations.update_trainee(current_actor(), get_trainee_or_404(trainee_id), json_body())
    db.session.commit()
    return trainee_json(trainee)


@bp.get("/trainees/<int:trainee_id>/progress")
@require_role("admin", "trainer", "trainee")
@documented("A trainee's progress in each track", tag="Trainees",
            responses={200: obj({"trainee_id": INTEGER, "tracks": array(PROGRESS)})})
def trainee_progress(trainee_id: int):
    trainee = get_trainee_or_404(trainee_id)
    scope = permissions.progress_scope(current_actor())  # a trainer: the cohorts they teach only
    return {"trainee_id": trainee.id,
            "tracks": [progress_json(p) for p in queries.trainee_progress(trainee.id, scope)]}


# --- recognition of prior learning ----------------------------------------------------------------------

@bp.get("/trainees/<int:trainee_id>/recognitions")
@require_role("admin")
@documented("A trainee's recognitions of prior learning", tag="Trainees", responses={200: page_of(RECOGNITION)},
            paginated=True, description="Those in force first, then the withdrawn ones (kept as history).")
def list_recognitions(trainee_id: int):
    return paginated(queries.recognitions_of(get_trainee_or_404(trainee_id).id), recognition_json)


@bp.post("/trainees/<int:trainee_id>/recognitions")
@require_role("admin")
@documented("Recognise a module's prior learning", tag="Trainees", body=RECOGNITION_IN,
            responses={201: RECOGNITION}, errors=(409,),
            description="The module then counts as passed, and its attendance as met, for every track that "
                        "contains it. 422 for an unknown module, an empty reason, or a module already "
                        "recognised for this trainee (withdraw that one first).")
def recognise(trainee_id: int):
    trainee = get_trainee_or_404(trainee_id)
    recognition = operations.recognise_module(current_actor(), trainee, json_body())
    return _created(recognition_json(recognition), f"/api/v1/trainees/{trainee.id}/recognitions")


@bp.delete("/trainees/<int:trainee_id>/recognitions/<int:recognition_id>")
@require_role("admin")
@documented("Withdraw a recognition", tag="Trainees", responses={204: NO_CONTENT}, errors=(409,),
            description="It stops counting at once; the record stays, marked withdrawn. 409 when it was "
                        "withdrawn already.")
def withdraw_recognition(trainee_id: int, recognition_id: int):
    recognition = get_recognition_or_404(get_trainee_or_404(trainee_id), recognition_id)
    operations.withdraw_recognition(current_actor(), recognition)
    db.session.commit()
    return "", 204


@bp.get("/me/recognitions")
@require_role()
@documented("The token's own recognitions of prior learning", tag="Trainees", responses={200: page_of(RECOGNITION)},
            paginated=True, description="Empty for an account that is not a trainee's.")
def my_recognitions():
    return paginated(queries.recognitions_of(g.api_user.trainee_id or -1), recognition_json)


# --- cohorts, enrollments, sessions, attendance, results -----------------------------------------------

@bp.get("/cohorts")
@require_role(*STAFF)
@documented("List cohorts", tag="Cohorts", responses={200: page_of(COHORT)}, paginated=True,
            query=filter_params(*COHORT_FILTERS, statuses=COHORT_STATUSES),
            description="A trainer sees the cohorts they teach. Status: upcoming, running or finished today.")
def list_cohorts():
    actor = current_actor()
    f = list_filters(request.args, *COHORT_FILTERS, statuses=COHORT_STATUSES)
    query = queries.cohorts(f.q, taught_by=actor if actor.role == "trainer" else None,
                            track_id=f.track.id if f.track else None, sector=f.sector, region=f.region,
                            status=f.status)
    people = actor.role != "governance"  # the governance cell sees counts, never people
    return paginated(query, lambda cohort: cohort_json(cohort, people))


@bp.post("/cohorts")
@require_role("admin")
@documented("Create a cohort", tag="Cohorts", body=COHORT_IN, responses={201: COHORT}, errors=(409,))
def create_cohort():
    cohort = operations.create_cohort(current_actor(), json_body())
    return _created(cohort_json(cohort), f"/api/v1/cohorts/{cohort.code}")


@bp.get("/cohorts/<code>")
@require_role(*STAFF)
@documented("Get a cohort", tag="Cohorts", responses={200: COHORT})
def get_cohort(code: str):
    return cohort_json(get_cohort_or_404(code), people=current_actor().role != "governance")


@bp.put("/cohorts/<code>")
@require_role("admin")
@documented("Update a cohort", tag="Cohorts", body=COHORT_IN, responses={200: COHORT}, errors=(409,))
def update_cohort(code: str):
    cohort = operations.update_cohort(current_actor(), get_cohort_or_404(code), json_body())
    db.session.commit()
    return cohort_json(cohort)


@bp.get("/cohorts/<code>/enrollments")
@require_role("admin", "trainer")
@documented("List a cohort's trainees", tag="Cohorts", responses={200: page_of(TRAINEE)},
            query=(Q,), paginated=True)
def list_enrollments(code: str):
    cohort = get_cohort_or_404(code)
    return paginated(queries.cohort_roster(cohort.id, request.args.get("q")), trainee_json)


@bp.post("/cohorts/<code>/enrollments")
@require_role("admin")
@documented("Enrol trainees in a cohort", tag="Cohorts", body=ENROL_IN,
            responses={200: ENROLLED, 201: ENROLLED},
            description="201 when some were added, 200 when all were enrolled already. Trainees who lack a "
                        "prerequisite of the track are enrolled too, and listed in `prerequisites_missing`.")
def enrol(code: str):
    cohort = get_cohort_or_404(code)
    trainee_ids = json_body().get("trainee_ids")
    added = operations.enrol_trainees(current_actor(), cohort, trainee_ids)
    db.session.commit()
    gaps = queries.prerequisite_gaps(cohort.track, dict.fromkeys(int(i) for i in trainee_ids))  # the operation checked them
    return enrolled_json(cohort, added, gaps), 201 if added else 200


@bp.delete("/cohorts/<code>/enrollments/<int:trainee_id>")
@require_role("admin")
@documented("Remove a trainee from a cohort", tag="Cohorts", responses={204: NO_CONTENT}, errors=(422,),
            description="422 when the trainee is not enrolled in the cohort.")
def unenrol(code: str, trainee_id: int):
    cohort = get_cohort_or_404(code)
    operations.unenrol_trainee(current_actor(), cohort, get_trainee_or_404(trainee_id))
    db.session.commit()
    return "", 204


@bp.get("/cohorts/<code>/sessions")
@require_role(*STAFF)
@documented("List a cohort's sessions", tag="Sessions", responses={200: page_of(SESSION)},
            paginated=True)
def list_sessions(code: str):
    return paginated(queries.cohort_sessions(get_cohort_or_404(code).id), session_json)


@bp.post("/cohorts/<code>/sessions")
@require_role("admin", "trainer")
@documented("Plan a session", tag="Sessions", body=SESSION_IN, responses={201: SESSION}, errors=(409,))
def plan_session(code: str):
    session = operations.plan_session(current_actor(), get_cohort_or_404(code, manage=True), json_body())
    return _created(session_json(session), f"/api/v1/sessions/{session.id}")


@bp.get("/sessions/<int:session_id>")
@require_role(*STAFF)
@documented("Get a session", tag="Sessions", responses={200: SESSION})
def get_session(session_id: int):
    return session_json(get_session_or_404(session_id))


@bp.delete("/sessions/<int:session_id>")
@require_role("admin", "trainer")
@documented("Delete a session", tag="Sessions", responses={204: NO_CONTENT}, errors=(409,))
def delete_session(session_id: int):
    operations.delete_session(current_actor(), get_session_or_404(session_id, manage=True))
    db.session.commit()
    return "", 204


@bp.get("/sessions/<int:session_id>/attendance")
@require_role("admin", "trainer")
@documented("A session's attendance", tag="Sessions", responses={200: ATTENDANCE_OUT})
def get_attendance(session_id: int):
    session = get_session_or_404(session_id)
    records = db.session.scalars(queries.session_attendance(session.id))
    return {"session_id": session.id, "records": [attendance_json(r) for r in records]}


@bp.put("/sessions/<int:session_id>/attendance")
@require_role("admin", "trainer")
@documented("Record a session's attendance", tag="Sessions", body=ATTENDANCE_IN,
            responses={200: obj({"session_id": INTEGER, "changed": INTEGER, "records": array(ATTENDANCE)})},
            description="All or nothing: one invalid record and nothing is written.")
def put_attendance(session_id: int):
    session = get_session_or_404(session_id, manage=True)
    changed = operations.record_attendance(current_actor(), session, json_body().get("records"))
    db.session.commit()
    records = db.session.scalars(queries.session_attendance(session.id))
    return {"session_id": session.id, "changed": changed, "records": [attendance_json(r) for r in records]}


@bp.get("/cohorts/<code>/results")
@require_role("admin", "trainer")
@documented("A cohort's module results", tag="Cohorts", responses={200: RESULTS_OUT})
def get_results(code: str):
    cohort = get_cohort_or_404(code)
    return {"cohort": cohort.code,
            "records": [result_json(r) for r in db.session.scalars(queries.cohort_results(cohort.id))]}


@bp.put("/cohorts/<code>/results")
@require_role("admin", "trainer")
@documented("Record module results", tag="Cohorts", body=RESULTS_IN,
            responses={200: obj({"cohort": STRING, "changed": INTEGER, "records": array(RESULT)})},
            description="All or nothing: one invalid record and nothing is written.")
def put_results(code: str):
    cohort = get_cohort_or_404(code, manage=True)
    changed = operations.record_results(current_actor(), cohort, json_body().get("records"))
    db.session.commit()
    return {"cohort": cohort.code, "changed": changed,
            "records": [result_json(r) for r in db.session.scalars(queries.cohort_results(cohort.id))]}
