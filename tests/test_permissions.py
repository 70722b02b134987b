"""The permission matrix: every route, every role, anonymous included.

A last test walks the application's url_map, so a new route without a row here fails the suite.
"""
from __future__ import annotations

import itertools

import pytest

from common.extensions import db
from tests.helpers import PASSWORD, create_cohort, create_session, create_trainee, create_track, create_user

ROLES = ("anon", "admin", "trainer", "other_trainer", "governance", "trainee", "other_trainee")
_unique = itertools.count(1)


def _build_world(extra: str):
    """Two cohorts: C1 taught by `trainer` with trainee T1, C2 taught by `other_trainer` with T2, and
    check-in open for C1's session. Only routes that name a certificate or a job get one made (T1's
    certificate; a bulk issuance job run by the admin): rendering and signing a PDF for every row would
    make this file the slowest of the suite."""
    from certificates.operations import issue_certificate
    from checkin.operations import open_checkin
    from jobs import runner
    from skills import operations

    admin = create_user("admin", "admin@kafaa.ma")
    trainer, other_trainer = create_user("trainer"), create_user("trainer")
    t1, t2, t3 = create_trainee(admin), create_trainee(admin), create_trainee(admin)
    track = create_track(admin, code="TRK")
    c1 = create_cohort(admin, track=track, code="C1", trainers=[trainer], trainees=[t1])
    create_cohort(admin, track=track, code="C2", trainers=[other_trainer], trainees=[t2])
    session = create_session(admin, c1)
    users = {"admin": create_user("admin"), "trainer": trainer, "other_trainer": other_trainer,
             "governance": create_user("governance"), "trainee": create_user("trainee", trainee_id=t1.id),
             "other_trainee": create_user("trainee", trainee_id=t2.id)}
    operations.record_attendance(users["admin"], session, [{"trainee_id": t1.id, "status": "present"}])
    operations.record_results(users["admin"], c1, [{"trainee_id": t1.id, "module": m.code, "passed": True}
                                                   for m in track.modules])
    open_checkin(users["admin"], session)
    recognition = operations.recognise_module(users["admin"], t1, {"module": track.modules[0].code, "reason": "RPL"})
    db.session.commit()
    values = {"module": track.modules[0].code, "module2": track.modules[1].code, "recognition": recognition.id,
              "track": track.code, "cohort": "C1", "trainee": t1.id,
              "outsider": t3.id, "session": session.id, "user": users["trainer"].id, "quarter": "2026-Q3",
              "import_id": 10**9}  # no such import: past the gate, an admin gets 404
    if extra == "serial":
        values["serial"] = issue_certificate(users["admin"], t1, track)[0].serial
        db.session.commit()
    if extra == "correction":
        from privacy.operations import request_correction

        values["correction"] = request_correction(users["trainee"], {"field": "name", "value": "Corrected Name"}).id
        db.session.commit()
    if extra == "transcript":
        from transcripts.operations import issue_transcript

        values["transcript"] = issue_transcript(users["admin"], t1)[0].serial
        db.session.commit()
    if extra == "job":
        values["job"] = runner.start("certificates.issue_cohort", {"cohort_id": c1.id, "cohort": "C1"},
                                     users["admin"]).id
    return {role: user.id for role, user in users.items()}, values


class Worlds:
    """The worlds of this module, built once each rather than for every row: the world a row needs is
    committed in a transaction of the module's (below each test's, which is rolled back), and replaced only
    when a row needs another one (a certificate, a correction or a job more)."""

    def __init__(self, app, exports_dir: str) -> None:
        self.app, self.exports_dir = app, exports_dir
        self.rollback = app.extensions["tests.rollback"]
        self.extra: str | None = None
        self.level: str | None = None
        self.users: dict[str, int] = {}
        self.values: dict = {}

    def prepare(self, extra: str) -> None:
        if extra == self.extra:
            return
        self.drop()
        config = dict(self.app.config)
        self.app.config["EXPORTS_DIR"] = self.exports_dir
        try:
            with self.app.app_context():
                self.level = self.rollback.begin()
                self.users, self.values = _build_world(extra)
                db.session.remove()
        finally:
            self.app.config.clear()
            self.app.config.update(config)
        self.extra = extra

    def drop(self) -> None:
        if self.level is not None:
            self.rollback.end(self.level)
        self.extra = self.level = None


@pytest.fixture(scope="module")
def worlds(shared_app, tmp_path_factory):
    built = Worlds(shared_app, str(tmp_path_factory.mktemp("exports")))
    yield built
    built.drop()


@pytest.fixture
def prepared_data(request, worlds):
    """Resolved by the `app` fixture before the test's own transaction begins (tests/conftest.py)."""
    url = request.node.callspec.params.get("url", "")
    worlds.prepare(next((extra for extra in ("serial", "correction", "job", "transcript") if f"{{{extra}}}" in url), ""))
    return worlds


@pytest.fixture
def world(prepared_data, app):
    from accounts.models import User

    return {role: db.session.get(User, id) for role, id in prepared_data.users.items()}, dict(prepared_data.values)


def _module_body(v):
    return {"code": f"NEW{next(_unique)}", "title": {"fr": "f", "ar": "ع", "en": "e"}, "hours": 2}


def _track_body(v):
    return {"code": f"TR{next(_unique)}", "title": {"fr": "f", "ar": "ع", "en": "e"}, "modules": [v["module"]]}


def _trainee_body(v):
    n = next(_unique)
    return {"name": f"N {n}", "name_ar": "اسم", "email": f"new{n}@example.ma", "category": "official",
            "sector": "justice", "region": "oriental"}


def _cohort_body(v):
    return {"code": f"NC{next(_unique)}", "track": v["track"], "sector": "health", "region": "oriental",
            "language": "ar", "starts_on": "2026-10-01", "ends_on": "2026-11-01"}


def _session_body(v):
    return {"module": v["module"], "starts_at": "2026-11-02T10:00", "hours": 2}


def _attendance_body(v):
    return {"records": [{"trainee_id": v["trainee"], "status": "present"}]}


def _results_body(v):
    return {"records": [{"trainee_id": v["trainee"], "module": v["module"], "passed": True}]}


ALL = {r: 200 for r in ROLES if r != "anon"}
EVERYONE = {r: 200 for r in ROLES}
ADMIN_WRITES = lambda status: {"admin": status}  # noqa: E731
COHORT_READERS = {"admin": 200, "trainer": 200, "governance": 200}
COHORT_WRITERS = lambda status: {"admin": status, "trainer": status}  # noqa: E731
PERSON_READERS = {"admin": 200, "trainer": 200, "trainee": 200}
# A certificate or a job is hidden (404) from everyone but its holder or creator and admins.
HOLDER_OR_ADMIN = {"admin": 200, "trainee": 200, "trainer": 404, "other_trainer": 404, "governance": 404,
                   "other_trainee": 404}
TRAINEES = lambda status: {"trainee": status, "other_trainee": status}  # noqa: E731
# Personal data leaves only for admins and, for their own cohorts, trainers (the export is filtered).
EXPORT_READERS = {"admin": 200, "trainer": 200, "other_trainer": 200}
FIGURE_READERS = {"admin": 200, "governance": 200}
FIGURE_READERS_POST = {"admin": 302, "governance": 302}
CREATOR_OR_ADMIN = {"admin": 200, "trainer": 404, "other_trainer": 404, "governance": 404, "trainee": 404,
                    "other_trainee": 404}

# (method, url, body, {role: expected}); roles not named get 403, anonymous gets 401.
API = [
    ("GET", "/api/v1/me", None, ALL),
    ("GET", "/api/v1/users/{user}/tokens", None, ADMIN_WRITES(200)),
    ("POST", "/api/v1/users/{user}/sign-out", None, ADMIN_WRITES(200)),
    ("POST", "/api/v1/users/{user}/disable", None, ADMIN_WRITES(200)),
    ("POST", "/api/v1/users/{user}/enable", None, ADMIN_WRITES(200)),
    ("GET", "/api/v1/openapi.json", None, EVERYONE),
    ("GET", "/api/v1/modules", None, ALL),
    ("POST", "/api/v1/modules", _module_body, ADMIN_WRITES(201)),
    ("GET", "/api/v1/modules/{module}", None, ALL),
    ("PUT", "/api/v1/modules/{module}", lambda v: {**_module_body(v), "code": v["module"]}, ADMIN_WRITES(200)),
    ("GET", "/api/v1/tracks", None, ALL),
    ("POST", "/api/v1/tracks", _track_body, ADMIN_WRITES(201)),
    ("GET", "/api/v1/tracks/{track}", None, ALL),
    ("PUT", "/api/v1/tracks/{track}", lambda v: {**_track_body(v), "code": v["track"]}, ADMIN_WRITES(200)),
    ("GET", "/api/v1/trainees", None, {**PERSON_READERS, "other_trainer": 200, "other_trainee": 200}),
    ("POST", "/api/v1/trainees", _trainee_body, ADMIN_WRITES(201)),
    ("GET", "/api/v1/trainees/{trainee}", None, PERSON_READERS),
    ("PUT", "/api/v1/trainees/{trainee}", _trainee_body, ADMIN_WRITES(200)),
    ("GET", "/api/v1/trainees/{trainee}/progress", None, PERSON_READERS),
    ("GET", "/api/v1/trainees/{trainee}/recognitions", None, ADMIN_WRITES(200)),
    ("POST", "/api/v1/trainees/{trainee}/recognitions", lambda v: {"module": v["module2"], "reason": "RPL"},
     ADMIN_WRITES(201)),
    ("DELETE", "/api/v1/trainees/{trainee}/recognitions/{recognition}", None, ADMIN_WRITES(204)),
    ("GET", "/api/v1/me/recognitions", None, ALL),
    ("GET", "/api/v1/cohorts", None, {**COHORT_READERS, "other_trainer": 200}),
    ("POST", "/api/v1/cohorts", _cohort_body, ADMIN_WRITES(201)),
    ("GET", "/api/v1/cohorts/{cohort}", None, COHORT_READERS),
    ("PUT", "/api/v1/cohorts/{cohort}", lambda v: {**_cohort_body(v), "code": "C1"}, ADMIN_WRITES(200)),
    ("GET", "/api/v1/cohorts/{cohort}/enrollments", None, {"admin": 200, "trainer": 200}),
    ("POST", "/api/v1/cohorts/{cohort}/enrollments", lambda v: {"trainee_ids": [v["outsider"]]}, ADMIN_WRITES(201)),
    ("DELETE", "/api/v1/cohorts/{cohort}/enrollments/{trainee}", None, ADMIN_WRITES(204)),
    ("GET", "/api/v1/cohorts/{cohort}/sessions", None, COHORT_READERS),
    ("POST", "/api/v1/cohorts/{cohort}/sessions", _session_body, COHORT_WRITERS(201)),
    ("GET", "/api/v1/sessions/{session}", None, COHORT_READERS),
    ("DELETE", "/api/v1/sessions/{session}", None, {"admin": 204, "trainer": None}),
    ("DELETE", "/api/v1/sessions/{session}", None, {"trainer": 204, "admin": None}),
    ("GET", "/api/v1/sessions/{session}/attendance", None, {"admin": 200, "trainer": 200}),
    ("PUT", "/api/v1/sessions/{session}/attendance", _attendance_body, COHORT_WRITERS(200)),
    ("GET", "/api/v1/cohorts/{cohort}/results", None, {"admin": 200, "trainer": 200}),
    ("PUT", "/api/v1/cohorts/{cohort}/results", _results_body, COHORT_WRITERS(200)),
    ("POST", "/api/v1/certificates", lambda v: {"trainee_id": v["trainee"], "track": v["track"]}, ADMIN_WRITES(201)),
    ("GET", "/api/v1/certificates", None, {"admin": 200}),
    ("GET", "/api/v1/certificates/{serial}", None, HOLDER_OR_ADMIN),
    ("GET", "/api/v1/certificates/{serial}/pdf", None, HOLDER_OR_ADMIN),
    ("POST", "/api/v1/certificates/{serial}/revoke", lambda v: {"reason": "test"}, ADMIN_WRITES(200)),
    # The certificate is not revoked: an admin is refused with 409, anyone else before that.
    ("POST", "/api/v1/certificates/{serial}/reinstate", lambda v: {"reason": "test"}, ADMIN_WRITES(409)),
    ("POST", "/api/v1/certificates/{serial}/reissue", None, ADMIN_WRITES(201)),
    ("GET", "/api/v1/me/certificates", None, ALL),
    ("GET", "/api/v1/me/transcript", None, TRAINEES(200)),
    ("GET", "/api/v1/trainees/{trainee}/transcript", None, PERSON_READERS),
    ("POST", "/api/v1/me/transcripts", None, TRAINEES(201)),
    ("POST", "/api/v1/trainees/{trainee}/transcripts", None, ADMIN_WRITES(201)),
    ("GET", "/api/v1/transcripts/{transcript}", None, HOLDER_OR_ADMIN),
    ("GET", "/api/v1/transcripts/{transcript}/pdf", None, HOLDER_OR_ADMIN),
    ("GET", "/api/v1/jobs/{job}", None, CREATOR_OR_ADMIN),
    ("POST", "/api/v1/jobs/{job}/retry", None, {"admin": 409}),  # the world's job is done, not failed
    ("GET", "/api/v1/stats/progress", None, FIGURE_READERS),
    ("GET", "/api/v1/stats/cohorts", None, FIGURE_READERS),
    ("GET", "/api/v1/stats/pathway", None, FIGURE_READERS),
    ("GET", "/api/v1/stats/targets", None, FIGURE_READERS),
    ("PUT", "/api/v1/stats/targets", lambda v: {"total": 520}, ADMIN_WRITES(200)),
    ("POST", "/api/v1/stats/quarters/{quarter}/close", None, ADMIN_WRITES(201)),
    ("GET", "/api/v1/sessions/{session}/checkin", None, COHORT_WRITERS(200)),
    ("POST", "/api/v1/sessions/{session}/checkin/open", lambda v: {}, COHORT_WRITERS(201)),
    ("POST", "/api/v1/checkin", lambda v: {"code": "WRONG1"}, TRAINEES(422)),
    ("GET", "/api/v1/certificates/{serial}/credential", None, HOLDER_OR_ADMIN),
    ("POST", "/api/v1/imports/trainees", None, ADMIN_WRITES(422)),  # no file: refused, but past the gate
    ("POST", "/api/v1/imports/sessions/{session}/attendance", None, COHORT_WRITERS(422)),
    ("GET", "/api/v1/exports/trainees.csv", None, EXPORT_READERS),
    ("GET", "/api/v1/exports/trainees.xlsx", None, EXPORT_READERS),
    ("GET", "/api/v1/exports/attendance.csv", None, EXPORT_READERS),
    ("GET", "/api/v1/exports/attendance.xlsx", None, EXPORT_READERS),
    ("GET", "/api/v1/exports/results.csv", None, EXPORT_READERS),
    ("GET", "/api/v1/exports/results.xlsx", None, EXPORT_READERS),
    ("GET", "/api/v1/exports/certificates.csv", None, {"admin": 200}),
    ("GET", "/api/v1/exports/certificates.xlsx", None, {"admin": 200}),
    ("GET", "/api/v1/me/export", None, ALL),
    ("GET", "/api/v1/me/corrections", None, TRAINEES(200)),
    ("POST", "/api/v1/me/corrections", lambda v: {"field": "name", "value": f"Corrected {next(_unique)}"},
     TRAINEES(201)),
    ("GET", "/api/v1/corrections", None, {"admin": 200}),
    ("POST", "/api/v1/corrections/{correction}/approve", None, ADMIN_WRITES(200)),
    ("POST", "/api/v1/corrections/{correction}/reject", lambda v: {"note": "Not what the records say."},
     ADMIN_WRITES(200)),
]

HTML_FORM = lambda v: {}  # noqa: E731  (a form post; CSRF is checked in test_security)
# (method, url, form, {role: expected}); roles not named get 403, anonymous is sent to the login page (302).
HTML = [
    ("GET", "/", None, {**{r: 302 for r in ROLES}, "anon": 200}),  # signed out: the public landing page
    ("GET", "/admin/users", None, {"admin": 200}),
    ("POST", "/admin/users", lambda v: {"email": f"inv{next(_unique)}@example.ma", "role": "trainer"}, {"admin": 302}),
    ("POST", "/admin/users/{user}/invite", HTML_FORM, {"admin": 302}),
    ("GET", "/admin/outbox", None, {"admin": 200}),
    ("GET", "/admin/users/{user}", None, {"admin": 200}),
    ("GET", "/admin/users/{user}/sign-out", None, {"admin": 200}),
    ("POST", "/admin/users/{user}/sign-out", HTML_FORM, {"admin": 302}),
    ("GET", "/admin/users/{user}/disable", None, {"admin": 200}),
    ("POST", "/admin/users/{user}/disable", HTML_FORM, {"admin": 302}),
    ("POST", "/admin/users/{user}/enable", HTML_FORM, {"admin": 302}),
    ("GET", "/modules", None, {"admin": 200}),
    ("POST", "/modules", lambda v: {"code": f"HM{next(_unique)}", "title_fr": "a", "title_ar": "ب", "title_en": "c",
                                    "hours": "3"}, {"admin": 302}),
    ("GET", "/modules/{module}/edit", None, {"admin": 200}),
    ("POST", "/modules/{module}/edit", lambda v: {"code": v["module"], "title_fr": "a", "title_ar": "ب",
                                                  "title_en": "c", "hours": "4"}, {"admin": 302}),
    ("GET", "/tracks", None, {"admin": 200}),
    ("POST", "/tracks", lambda v: {"code": f"HT{next(_unique)}", "title_fr": "a", "title_ar": "ب", "title_en": "c",
                                   "modules": [v["module"]], "min_attendance": "80"}, {"admin": 302}),
    ("GET", "/tracks/{track}/edit", None, {"admin": 200}),
    ("POST", "/tracks/{track}/edit", lambda v: {"code": v["track"], "title_fr": "a", "title_ar": "ب", "title_en": "c",
                                                "modules": [v["module"]], "min_attendance": "75"}, {"admin": 302}),
    ("GET", "/trainees", None, {"admin": 200, "trainer": 200, "other_trainer": 200}),
    ("GET", "/trainees/new", None, {"admin": 200}),
    ("POST", "/trainees/new", lambda v: {**_trainee_body(v), "gender": ""}, {"admin": 302}),
    ("GET", "/trainees/{trainee}", None, PERSON_READERS),
    ("GET", "/trainees/{trainee}/edit", None, {"admin": 200}),
    ("POST", "/trainees/{trainee}/edit", lambda v: {**_trainee_body(v), "gender": "m"}, {"admin": 302}),
    ("GET", "/me/progress", None, {"trainee": 200, "other_trainee": 200}),
    ("POST", "/trainees/{trainee}/recognitions", lambda v: {"recognition-module": v["module2"],
                                                            "recognition-reason": "RPL"}, {"admin": 302}),
    ("GET", "/trainees/{trainee}/recognitions/{recognition}/withdraw", None, {"admin": 200}),
    ("POST", "/trainees/{trainee}/recognitions/{recognition}/withdraw", HTML_FORM, {"admin": 302}),
    ("GET", "/cohorts", None, {**COHORT_READERS, "other_trainer": 200}),
    ("GET", "/cohorts/new", None, {"admin": 200}),
    ("POST", "/cohorts/new", lambda v: _cohort_body(v), {"admin": 302}),
    ("GET", "/cohorts/{cohort}", None, COHORT_READERS),
    ("GET", "/cohorts/{cohort}/edit", None, {"admin": 200}),
    ("POST", "/cohorts/{cohort}/edit", lambda v: {**_cohort_body(v), "code": "C1"}, {"admin": 302}),
    ("POST", "/cohorts/{cohort}/sessions", lambda v: {"session-module": v["module"],
                                                      "session-starts_at": "2026-11-03T09:00", "session-hours": "2"},
     COHORT_WRITERS(302)),
    ("POST", "/cohorts/{cohort}/enrollments", lambda v: {"enrol-trainee_id": str(v["outsider"])}, {"admin": 302}),
    ("GET", "/cohorts/{cohort}/enrollments/{trainee}/remove", None, {"admin": 200}),
    ("POST", "/cohorts/{cohort}/enrollments/{trainee}/remove", HTML_FORM, {"admin": 302}),
    ("GET", "/cohorts/{cohort}/sessions/{session}", None, {"admin": 200, "trainer": 200}),
    ("POST", "/cohorts/{cohort}/sessions/{session}", lambda v: {f"status-{v['trainee']}": "late"},
     COHORT_WRITERS(302)),
    ("GET", "/cohorts/{cohort}/sessions/{session}/delete", None, {"admin": 200, "trainer": 200}),
    ("POST", "/cohorts/{cohort}/sessions/{session}/delete", HTML_FORM, {"admin": 302, "trainer": None}),
    ("POST", "/cohorts/{cohort}/sessions/{session}/delete", HTML_FORM, {"trainer": 302, "admin": None}),
    ("GET", "/cohorts/{cohort}/results", None, {"admin": 200, "trainer": 200}),
    ("POST", "/cohorts/{cohort}/results", lambda v: {f"result-{v['trainee']}-{v['module']}": "passed"},
     COHORT_WRITERS(302)),
    ("GET", "/certificates/{serial}.pdf", None, HOLDER_OR_ADMIN),
    ("GET", "/me/certificates", None, {"trainee": 200, "other_trainee": 200}),
    ("GET", "/admin/certificates", None, {"admin": 200}),
    ("GET", "/admin/certificates/{serial}", None, {"admin": 200}),
    ("POST", "/me/transcript", None, TRAINEES(302)),
    ("POST", "/trainees/{trainee}/transcript", None, {"admin": 302}),
    ("GET", "/transcripts/{transcript}.pdf", None, HOLDER_OR_ADMIN),
    ("GET", "/certificates/{serial}/revoke", None, {"admin": 200}),
    ("POST", "/certificates/{serial}/revoke", lambda v: {"reason": "test"}, {"admin": 302}),
    ("GET", "/certificates/{serial}/reinstate", None, {"admin": 200}),
    ("POST", "/certificates/{serial}/reinstate", lambda v: {"reason": "test", "confirm": "y"}, {"admin": 302}),
    ("GET", "/certificates/{serial}/reissue", None, {"admin": 200}),
    ("POST", "/certificates/{serial}/reissue", HTML_FORM, {"admin": 302}),
    ("GET", "/cohorts/{cohort}/certificates", None, {"admin": 200}),
    ("POST", "/cohorts/{cohort}/certificates", HTML_FORM, {"admin": 302}),
    ("GET", "/jobs/{job}", None, CREATOR_OR_ADMIN),
    ("GET", "/jobs/{job}/download", None, CREATOR_OR_ADMIN),
    ("GET", "/jobs/{job}/retry", None, {"admin": 200}),
    ("POST", "/jobs/{job}/retry", HTML_FORM, {"admin": 302}),
    ("GET", "/dashboard", None, FIGURE_READERS),
    ("GET", "/dashboard/people", None, {"admin": 200}),
    ("GET", "/dashboard/targets", None, {"admin": 200}),
    ("POST", "/dashboard/targets", lambda v: {"total": "510", "engineer": "200", "researcher": "100",
                                              "official": "210"}, {"admin": 302}),
    ("GET", "/dashboard/quarters/{quarter}/close", None, {"admin": 200}),
    ("POST", "/dashboard/quarters/{quarter}/close", HTML_FORM, {"admin": 302}),
    ("POST", "/dashboard/report", lambda v: {"quarter": v["quarter"]}, FIGURE_READERS_POST),
    ("GET", "/dashboard/report/{quarter}.pdf", None, FIGURE_READERS),
    ("GET", "/dashboard/report/{quarter}.xlsx", None, FIGURE_READERS),
    ("GET", "/cohorts/{cohort}/sessions/{session}/checkin", None, COHORT_WRITERS(200)),
    ("POST", "/cohorts/{cohort}/sessions/{session}/checkin", lambda v: {"late_after_minutes": "5"},
     COHORT_WRITERS(302)),
    ("GET", "/cohorts/{cohort}/sessions/{session}/checkin/state", None, COHORT_WRITERS(200)),
    ("GET", "/cohorts/{cohort}/sessions/{session}/checkin/room", None, COHORT_WRITERS(200)),
    ("GET", "/cohorts/{cohort}/sessions/{session}/checkin/room/state", None, COHORT_WRITERS(200)),
    ("GET", "/cohorts/{cohort}/sessions/{session}/checkin/close", None, COHORT_WRITERS(200)),
    ("POST", "/cohorts/{cohort}/sessions/{session}/checkin/close", HTML_FORM, COHORT_WRITERS(302)),
    ("GET", "/checkin", None, TRAINEES(200)),
    ("POST", "/checkin", lambda v: {"code": "WRONG1"}, TRAINEES(422)),
    ("GET", "/checkin/{session}/{module}", None, TRAINEES(200)),
    ("POST", "/checkin/{session}/{module}", lambda v: {"code": "WRONG1"}, TRAINEES(422)),
    ("GET", "/certificates/{serial}/credential.jwt", None, HOLDER_OR_ADMIN),
    ("GET", "/admin/audit", None, {"admin": 200}),
    ("GET", "/api/docs", None, EVERYONE),
    ("GET", "/imports", None, {"admin": 200}),
    ("POST", "/imports/trainees", HTML_FORM, {"admin": 422}),
    ("POST", "/imports/trainees/commit", lambda v: {"token": "unknown-or-expired"}, {"admin": 302}),
    ("GET", "/imports/sample.csv", None, {"admin": 200}),
    ("GET", "/imports/sample.xlsx", None, {"admin": 200}),
    ("GET", "/imports/{import_id}", None, {"admin": 404}),
    ("GET", "/cohorts/{cohort}/sessions/{session}/import/roster.csv", None, COHORT_WRITERS(200)),
    ("GET", "/cohorts/{cohort}/sessions/{session}/import/roster.xlsx", None, COHORT_WRITERS(200)),
    ("GET", "/cohorts/{cohort}/sessions/{session}/import", None, COHORT_WRITERS(200)),
    ("POST", "/cohorts/{cohort}/sessions/{session}/import", HTML_FORM, COHORT_WRITERS(422)),
    ("POST", "/cohorts/{cohort}/sessions/{session}/import/commit", lambda v: {"token": "unknown-or-expired"},
     COHORT_WRITERS(302)),
    ("GET", "/exports/trainees.csv", None, EXPORT_READERS),
    ("GET", "/exports/trainees.xlsx", None, EXPORT_READERS),
    ("GET", "/exports/attendance.csv", None, EXPORT_READERS),
    ("GET", "/exports/attendance.xlsx", None, EXPORT_READERS),
    ("GET", "/exports/results.csv", None, EXPORT_READERS),
    ("GET", "/exports/results.xlsx", None, EXPORT_READERS),
    ("GET", "/exports/certificates.csv", None, {"admin": 200}),
    ("GET", "/exports/certificates.xlsx", None, {"admin": 200}),
    ("GET", "/privacy/accept", None, ALL),
    ("POST", "/privacy/accept", lambda v: {"accept_privacy": "y"}, {r: 302 for r in ROLES if r != "anon"}),
    ("GET", "/me/export", None, ALL),
    ("GET", "/me/data", None, TRAINEES(200)),
    ("POST", "/me/data", lambda v: {"field": "name", "value": f"Corrected {next(_unique)}"}, TRAINEES(302)),
    ("GET", "/admin/corrections", None, {"admin": 200}),
    ("GET", "/admin/corrections/{correction}", None, {"admin": 200}),
    ("POST", "/admin/corrections/{correction}/approve", HTML_FORM, {"admin": 302}),
    ("POST", "/admin/corrections/{correction}/reject", lambda v: {"note": "Not what the records say."},
     {"admin": 302}),
]

# Routes anyone may call; their own behaviour is tested elsewhere.
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("POST", "/api/v1/tokens"), ("GET", "/login"),
          ("POST", "/login"), ("POST", "/logout"), ("POST", "/language"), ("GET", "/invitation/<token>"),
          ("POST", "/invitation/<token>"), ("GET", "/password/forgot"), ("POST", "/password/forgot"),
          ("GET", "/password/reset/<token>"), ("POST", "/password/reset/<token>"),
          ("GET", "/static/<path:filename>"), ("GET", "/v/<token>"),
          ("GET", "/verify"), ("POST", "/verify"), ("GET", "/.well-known/jwks.json"), ("GET", "/.well-known/kafaa-signer.json"),
          ("GET", "/credentials/status/revocation"), ("GET", "/credentials/status/message"), ("GET", "/issuers/kafaa"), ("GET", "/issuers/kafaa/keys/<kid>"),
          ("GET", "/achievements/<code>"), ("GET", "/privacy"), ("GET", "/t/<serial>/<code>"),
          # A token revokes itself, or an admin revokes one: tested in test_account_control.py, as they end
          # the very token a matrix row would go on with.
          ("DELETE", "/api/v1/tokens/current"), ("DELETE", "/api/v1/users/{user}/tokens/{token_id}"),
          ("GET", "/admin/users/{user}/tokens/{token_id}/revoke"),
          ("POST", "/admin/users/{user}/tokens/{token_id}/revoke")}


def _expected(table_row, role, anonymous_status):
    expected = table_row.get(role, 403)
    return anonymous_status if role == "anon" and "anon" not in table_row else expected


def _order(row: dict) -> list[str]:
    """Refused roles first, so an allowed write (a deletion, say) cannot change what they see."""
    return sorted(ROLES, key=lambda r: r in row and row[r] is not None and row[r] < 400)


@pytest.mark.parametrize("method, url, body, allowed", API, ids=[f"{m} {u}" for m, u, _, _ in API])
def test_api_matrix(client, world, token_for, method, url, body, allowed):
    users, values = world
    tokens = {role: token_for(user) for role, user in users.items()}
    path = url.format(**values)
    for role in _order(allowed):
        expected = _expected(allowed, role, 401)
        if expected is None:
            continue  # this role is exercised by a sibling row
        # Closed at once: a streamed export holds a database connection until its body is consumed or closed.
        with client.open(path, method=method, headers=tokens.get(role, {}),
                         json=body(values) if body else None) as response:
            assert response.status_code == expected, (role, response.get_json())


@pytest.mark.parametrize("method, url, form, allowed", HTML, ids=[f"{m} {u}" for m, u, _, _ in HTML])
def test_html_matrix(client, world, method, url, form, allowed):
    users, values = world
    path = url.format(**values)
    for role in _order(allowed):
        expected = _expected(allowed, role, 302)
        if expected is None:
            continue
        client.post("/logout")
        if role != "anon":
            assert client.post("/login", data={"email": users[role].email, "password": PASSWORD}).status_code == 302
        with client.open(path, method=method, data=form(values) if form else None) as response:
            assert response.status_code == expected, (role, response.get_data(as_text=True)[:2000])
            if role == "anon" and expected == 302 and path != "/":
                assert "/login" in response.headers["Location"]


def test_every_route_is_in_the_matrix(app):
    """Walk the url_map: a route nobody listed is a route nobody checked."""
    listed = {(m, u) for m, u, _, _ in API + HTML} | PUBLIC

    def template(rule) -> str:
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", f"{{{name}}}").replace(f"<int:{name}>", f"{{{name}}}")
        return path

    unlisted = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = template(rule)
            normalised = (method, path.replace("{code}", "{module}").replace("{trainee_id}", "{trainee}")
                          .replace("{session_id}", "{session}").replace("{user_id}", "{user}")
                          .replace("{job_id}", "{job}").replace("{correction_id}", "{correction}")
                          .replace("{recognition_id}", "{recognition}")
                          .replace("transcripts/{serial}", "transcripts/{transcript}"))
            candidates = {(method, rule.rule), (method, path), normalised}
            for placeholder in ("{module}", "{track}", "{cohort}"):
                candidates.add((method, normalised[1].replace("{module}", placeholder)))
            if not candidates & listed:
                unlisted.append(f"{method} {rule.rule}")
    assert not unlisted, f"routes missing from the permission matrix: {unlisted}"
    db.session.rollback()


# --- least privilege ------------------------------------------------------------------------------------
