"""The registry's JSON API: creation, listing, and every bad input refused with nothing written."""
from datetime import datetime, timezone

import pytest

from common.clock import MOROCCO

from tests.helpers import table_counts

TRAINEE = {"name": "Salma Bennani", "name_ar": "سلمى بناني", "name_tfng": "ⵙⴰⵍⵎⴰ", "email": "salma@example.ma",
           "category": "researcher", "sector": "education", "region": "fes-meknes", "gender": "f",
           "employer": "Université Sidi Mohamed Ben Abdellah"}


@pytest.fixture
def headers(admin, token_for):
    return token_for(admin)


def test_create_the_whole_programme(client, headers, make_user):
    trainer = make_user("trainer")
    r = client.post("/api/v1/modules", headers=headers, json={
        "code": "AIR-101", "title": {"fr": "Fondements", "ar": "الأسس", "en": "Foundations"}, "hours": 12})
    assert r.status_code == 201 and r.json["hours"] == 12.0
    r = client.post("/api/v1/tracks", headers=headers, json={
        "code": "RAI", "title": {"fr": "Raisonnement", "ar": "الاستدلال", "en": "Reasoning"},
        "modules": ["AIR-101"], "min_attendance": 0.75, "validity_months": None})
    assert r.status_code == 201
    assert r.json["min_attendance"] == 0.75 and r.json["validity_months"] is None
    assert r.json["counts_toward_target"] is True
    r = client.post("/api/v1/trainees", headers=headers, json=TRAINEE)
    assert r.status_code == 201
    trainee_id = r.json["id"]
    assert r.json["name_ar"] == "سلمى بناني"
    r = client.post("/api/v1/cohorts", headers=headers, json={
        "code": "EDU-FES-01", "track": "RAI", "sector": "education", "region": "fes-meknes", "language": "ary",
        "starts_on": "2026-10-01", "ends_on": "2026-12-15", "trainers": [trainer.email]})
    assert r.status_code == 201 and r.json["trainers"] == [trainer.email]
    r = client.post("/api/v1/cohorts/EDU-FES-01/enrollments", headers=headers, json={"trainee_ids": [trainee_id]})
    assert r.status_code == 201 and r.json["added"] == 1
    r = client.post("/api/v1/cohorts/EDU-FES-01/enrollments", headers=headers, json={"trainee_ids": [trainee_id]})
    assert r.status_code == 200 and r.json["added"] == 0  # enrolling again changes nothing
    r = client.post("/api/v1/cohorts/EDU-FES-01/sessions", headers=headers, json={
        "module": "AIR-101", "starts_at": "2026-10-05T09:30", "hours": 3})
    assert r.status_code == 201
    local = datetime(2026, 10, 5, 9, 30, tzinfo=MOROCCO)  # a time without offset is Morocco's
    assert r.json["starts_at"] == local.astimezone(timezone.utc).isoformat()
    session_id = r.json["id"]
    r = client.put(f"/api/v1/sessions/{session_id}/attendance", headers=headers,
                   json={"records": [{"trainee_id": trainee_id, "status": "late"}]})
    assert r.status_code == 200 and r.json["records"][0]["status"] == "late"
    assert client.get(f"/api/v1/sessions/{session_id}/attendance", headers=headers).json["records"][0]["status"] == "late"


def test_lists_paginate_and_search(client, headers, make_trainee):
    for i in range(7):
        make_trainee(name=f"Karim Tazi {i}" if i < 3 else f"Omar Alaoui {i}")
    page = client.get("/api/v1/trainees?per_page=5&page=2", headers=headers).json
    assert (page["total"], page["pages"], page["page"], len(page["items"])) == (7, 2, 2, 2)
    found = client.get("/api/v1/trainees?q=tazi", headers=headers).json
    assert found["total"] == 3
    assert client.get("/api/v1/trainees?per_page=0", headers=headers).status_code == 422
    assert client.get("/api/v1/trainees?sector=space", headers=headers).status_code == 422


def test_attendance_saved_twice_gives_one_state(client, headers, make_cohort, make_trainee, make_session):
    a, b = make_trainee(), make_trainee()
    cohort = make_cohort(trainees=[a, b])
    session = make_session(cohort)
    body = {"records": [{"trainee_id": a.id, "status": "present"}, {"trainee_id": b.id, "status": "absent"}]}
    first = client.put(f"/api/v1/sessions/{session.id}/attendance", headers=headers, json=body)
    second = client.put(f"/api/v1/sessions/{session.id}/attendance", headers=headers, json=body)
    assert first.json["changed"] == 2 and second.json["changed"] == 0
    assert [(r["trainee_id"], r["status"]) for r in second.json["records"]] == [(a.id, "present"), (b.id, "absent")]
    # Changing one status updates that row in place.
    body["records"][1]["status"] = "excused"
    third = client.put(f"/api/v1/sessions/{session.id}/attendance", headers=headers, json=body)
    assert third.json["changed"] == 1
    assert len(third.json["records"]) == 2
    assert table_counts()["attendance"] == 2


def _refused(client, method, url, headers, body, status, field=None):
    before = table_counts()
    response = client.open(url, method=method, headers=headers, json=body)
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    assert response.json["title"]
    if field:
        assert field in response.json["errors"], response.json
    assert table_counts() == before, "a refused request wrote something"
    return response


def test_bad_attendance_batches_write_nothing(client, headers, make_cohort, make_trainee, make_session):
    a, b, outsider = make_trainee(), make_trainee(), make_trainee()
    cohort = make_cohort(trainees=[a, b])
    other_cohort = make_cohort(trainees=[outsider])
    session = make_session(cohort)
    url = f"/api/v1/sessions/{session.id}/attendance"
    ok = {"trainee_id": a.id, "status": "present"}
    _refused(client, "PUT", url, headers, {"records": [ok, {"trainee_id": b.id, "status": "asleep"}]}, 422,
             "records.1.status")
    _refused(client, "PUT", url, headers, {"records": [ok, {"trainee_id": outsider.id, "status": "present"}]}, 422,
             "records.1.trainee_id")
    _refused(client, "PUT", url, headers, {"records": [ok, {"trainee_id": a.id, "status": "late"}]}, 422,
             "records.1.trainee_id")
    _refused(client, "PUT", url, headers, {"records": [ok, {"trainee_id": "x", "status": "late"}]}, 422,
             "records.1.trainee_id")
    _refused(client, "PUT", url, headers, {"records": []}, 422, "records")
    _refused(client, "PUT", url, headers, {"records": "present"}, 422, "records")
    _refused(client, "PUT", url, headers, {"records": [ok, "oops"]}, 422, "records")
    _refused(client, "PUT", "/api/v1/sessions/999999/attendance", headers, {"records": [ok]}, 404)
    # A trainee of another cohort in that cohort's session, and the other way round.
    other_session = make_session(other_cohort)
    _refused(client, "PUT", f"/api/v1/sessions/{other_session.id}/attendance", headers, {"records": [ok]}, 422,
             "records.0.trainee_id")
    response = client.put(url, headers=headers, data="not json", content_type="application/json")
    assert response.status_code == 422 and response.mimetype == "application/problem+json"


def test_bad_results_write_nothing(client, headers, make_cohort, make_trainee, make_track, make_module):
    a = make_trainee()
    cohort = make_cohort(trainees=[a])
    module = cohort.track.modules[0].code
    foreign = make_module().code  # exists, but not in this cohort's track
    url = f"/api/v1/cohorts/{cohort.code}/results"
    good = {"trainee_id": a.id, "module": module, "passed": True, "score": 80}
    _refused(client, "PUT", url, headers, {"records": [good, {**good, "module": foreign}]}, 422, "records.1.module")
    _refused(client, "PUT", url, headers, {"records": [{**good, "score": 140}]}, 422, "records.0.score")
    _refused(client, "PUT", url, headers, {"records": [{**good, "passed": "maybe"}]}, 422, "records.0.passed")
    _refused(client, "PUT", url, headers, {"records": [good, good]}, 422, "records.1.trainee_id")
    _refused(client, "PUT", url, headers, {"records": [{**good, "trainee_id": make_trainee().id}]}, 422,
             "records.0.trainee_id")


def test_bad_registry_input_is_refused_with_its_field(client, headers, make_module, make_track, make_trainee,
                                                      make_cohort):
    module = make_module("DUP-1")
    track = make_track(modules=[module.code])
    make_trainee(email="taken@example.ma")
    make_cohort(track=track, code="COH-DUP")
    title = {"fr": "a", "ar": "ب", "en": "c"}
    _refused(client, "POST", "/api/v1/modules", headers, {"code": "DUP-1", "title": title, "hours": 3}, 409, "code")
    _refused(client, "POST", "/api/v1/modules", headers, {"code": "NEW", "title": {"fr": "a"}, "hours": 3}, 422,
             "title.ar")
    _refused(client, "POST", "/api/v1/modules", headers, {"code": "NEW", "title": title, "hours": -2}, 422, "hours")
    _refused(client, "POST", "/api/v1/modules", headers, {"code": "bad code!", "title": title, "hours": 2}, 422, "code")
    _refused(client, "POST", "/api/v1/tracks", headers, {"code": "T-NEW", "title": title, "modules": ["NOPE"]},
             422, "modules")
    _refused(client, "POST", "/api/v1/tracks", headers,
             {"code": "T-NEW", "title": title, "modules": [module.code], "min_attendance": 1.5}, 422, "min_attendance")
    _refused(client, "POST", "/api/v1/trainees", headers, {**TRAINEE, "email": "taken@example.ma"}, 409, "email")
    _refused(client, "POST", "/api/v1/trainees", headers, {**TRAINEE, "email": "not-an-email"}, 422, "email")
    _refused(client, "POST", "/api/v1/trainees", headers, {**TRAINEE, "region": "atlantis"}, 422, "region")
    _refused(client, "POST", "/api/v1/trainees", headers, {**TRAINEE, "category": "wizard"}, 422, "category")
    _refused(client, "POST", "/api/v1/trainees", headers, {**TRAINEE, "name_ar": ""}, 422, "name_ar")
    cohort = {"code": "NEW-C", "track": track.code, "sector": "health", "region": "oriental", "language": "fr",
              "starts_on": "2026-10-01", "ends_on": "2026-12-01"}
    _refused(client, "POST", "/api/v1/cohorts", headers, {**cohort, "code": "COH-DUP"}, 409, "code")
    _refused(client, "POST", "/api/v1/cohorts", headers, {**cohort, "ends_on": "2026-09-01"}, 422, "ends_on")
    _refused(client, "POST", "/api/v1/cohorts", headers, {**cohort, "starts_on": "01/10/2026"}, 422, "starts_on")
    _refused(client, "POST", "/api/v1/cohorts", headers, {**cohort, "region": "mars"}, 422, "region")
    _refused(client, "POST", "/api/v1/cohorts", headers, {**cohort, "language": "de"}, 422, "language")
    _refused(client, "POST", "/api/v1/cohorts", headers, {**cohort, "track": "NOPE"}, 422, "track")
    _refused(client, "POST", "/api/v1/cohorts", headers, {**cohort, "trainers": ["nobody@example.ma"]}, 422,
             "trainers")
    _refused(client, "POST", "/api/v1/cohorts/COH-DUP/enrollments", headers, {"trainee_ids": [424242]}, 422,
             "trainee_ids")
    _refused(client, "POST", "/api/v1/cohorts/COH-DUP/sessions", headers,
             {"module": module.code, "starts_at": "tomorrow", "hours": 3}, 422, "starts_at")
    _refused(client, "POST", "/api/v1/cohorts/COH-DUP/sessions", headers,
             {"module": "OTHER", "starts_at": "2026-10-05T09:00", "hours": 3}, 422, "module")


def test_errors_speak_the_callers_language(client, headers):
    r = client.post("/api/v1/trainees", headers={**headers, "Accept-Language": "en"}, json={**TRAINEE, "region": "x"})
    assert r.json["title"] == "Some fields are invalid."
    assert r.json["errors"]["region"][0].startswith("Unknown value")


def test_unauthenticated_and_bad_tokens(client, admin):
    assert client.get("/api/v1/modules").status_code == 401
    r = client.get("/api/v1/modules", headers={"Authorization": "Bearer forged"})
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    wrong = client.post("/api/v1/tokens", json={"email": admin.email, "password": "wrong password"})
    unknown = client.post("/api/v1/tokens", json={"email": "ghost@example.ma", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json  # an unknown email and a wrong password look the same
