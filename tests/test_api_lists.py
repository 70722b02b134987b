"""List endpoints of the API: one envelope, page by page, and the filters each takes (cohort, track, sector,
region, category, status, updated_since), with a translated 422 for a bad value, an unknown
cohort or track included. Ids too large for a database column are refused, never passed to the driver."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from common.extensions import db
from skills.models import Cohort
from tests.helpers import table_counts

EN = {"Accept-Language": "en"}


def _codes(response, key="code"):
    assert response.status_code == 200, response.get_json()
    return sorted(item[key] for item in response.get_json()["items"])


@pytest.fixture
def admin_headers(admin, token_for):
    return {**token_for(admin), **EN}


@pytest.fixture
def two_tracks(make_track, make_trainee, make_cohort):
    """Track A: cohort CA (running, health, Rabat) with a health engineer in Rabat and a justice official in
    the Oriental. Track B: cohort CB (finished, justice, Oriental) with the official, and CU (upcoming)."""
    track_a, track_b = make_track(code="TA", min_attendance=0), make_track(code="TB", min_attendance=0)
    engineer = make_trainee(name="Amina Engineer")
    official = make_trainee(name="Omar Official", category="official", sector="justice", region="oriental")
    make_cohort(track=track_a, code="CA", trainees=[engineer, official])
    make_cohort(track=track_b, code="CB", trainees=[official], sector="justice", region="oriental",
                starts_on=date(2025, 1, 5), ends_on=date(2025, 3, 1))
    make_cohort(track=track_b, code="CU", starts_on=date(2099, 1, 5), ends_on=date(2099, 3, 1))
    return track_a, track_b, engineer, official


def test_lists_answer_one_envelope_page_by_page(client, admin_headers, two_tracks):
    for url in ("/api/v1/trainees", "/api/v1/cohorts", "/api/v1/modules", "/api/v1/tracks",
                "/api/v1/cohorts/CA/enrollments", "/api/v1/certificates", "/api/v1/me/certificates",
                "/api/v1/cohorts/CA/sessions", "/api/v1/stats/cohorts"):
        first = client.get(url, query_string={"per_page": 1}, headers=admin_headers).get_json()
        assert set(first) == {"items", "page", "per_page", "total", "pages"}, url
        assert first["per_page"] == 1 and len(first["items"]) == min(1, first["total"])
        assert first["pages"] == first["total"], url
    second = client.get("/api/v1/trainees", query_string={"per_page": 1, "page": 2}, headers=admin_headers)
    assert second.get_json()["page"] == 2 and second.get_json()["items"][0]["name"] == "Omar Official"


def test_a_page_beyond_the_limits_is_refused(client, admin_headers, two_tracks):
    response = client.get("/api/v1/trainees", query_string={"per_page": 201, "page": 0}, headers=admin_headers)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"per_page", "page"}


def test_trainees_filter_by_cohort_track_sector_region_category(client, admin_headers, two_tracks):
    def names(**filters):
        return _codes(client.get("/api/v1/trainees", query_string=filters, headers=admin_headers), "name")

    assert names(track="TB") == ["Omar Official"]
    assert names(track="TA") == ["Amina Engineer", "Omar Official"]
    assert names(cohort="CB") == ["Omar Official"]
    assert names(sector="health") == ["Amina Engineer"]
    assert names(region="oriental", category="official") == ["Omar Official"]
    assert names(track="TA", sector="justice") == ["Omar Official"]


def test_trainees_updated_since(client, admin_headers, two_tracks):
    _, _, engineer, _ = two_tracks
    later = (engineer.updated_at + timedelta(hours=1)).astimezone(timezone.utc).isoformat()
    earlier = (engineer.updated_at - timedelta(days=1)).astimezone(timezone.utc).isoformat()
    assert _codes(client.get("/api/v1/trainees", query_string={"updated_since": later}, headers=admin_headers)) == []
    assert len(_codes(client.get("/api/v1/trainees", query_string={"updated_since": earlier},
                                 headers=admin_headers), "id")) == 2


def test_cohorts_filter_by_status_track_sector_region(client, admin_headers, two_tracks):
    def codes(**filters):
        return _codes(client.get("/api/v1/cohorts", query_string=filters, headers=admin_headers))

    assert codes(status="running") == ["CA"]
    assert codes(status="finished") == ["CB"]
    assert codes(status="upcoming") == ["CU"]
    assert codes(track="TB") == ["CB", "CU"]
    assert codes(track="TB", sector="justice", region="oriental") == ["CB"]


@pytest.mark.parametrize("url, query, field, english, french", [
    ("/api/v1/cohorts", {"status": "ongoing"}, "status", "Unknown value “ongoing”. Allowed: upcoming, running, finished.",
     "Valeurs autorisées"),
    ("/api/v1/trainees", {"updated_since": "yesterday"}, "updated_since", "Use a date and time like 2026-09-30T09:00.",
     "2026-09-30T09:00"),
    ("/api/v1/trainees", {"sector": "space"}, "sector", "Unknown value “space”.", "Valeurs autorisées"),
    ("/api/v1/certificates", {"status": "lost"}, "status", "Allowed: valid, revoked, superseded, expired.",
     "Valeurs autorisées"),
    ("/api/v1/certificates", {"trainee_id": "2147483648"}, "trainee_id", "Must be between 1 and 2147483647.",
     "2147483647"),
])
def test_a_bad_filter_is_refused_in_the_readers_language(client, admin, token_for, two_tracks, url, query, field,
                                                         english, french):
    token = token_for(admin)
    answer = client.get(url, query_string=query, headers={**token, **EN})
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert english in answer.get_json()["errors"][field][0]
    in_french = client.get(url, query_string=query, headers={**token, "Accept-Language": "fr"})
    assert french in in_french.get_json()["errors"][field][0]
    assert in_french.get_json()["errors"][field][0] != answer.get_json()["errors"][field][0]


@pytest.mark.parametrize("url", ["/api/v1/trainees?track=NOPE", "/api/v1/cohorts?track=NOPE",
                                 "/api/v1/certificates?cohort=NOPE", "/api/v1/me/certificates?track=NOPE"])
def test_an_unknown_cohort_or_track_filter_is_refused(client, admin_headers, two_tracks, url):
    assert client.get(url, headers=admin_headers).status_code == 422


def test_certificates_filter_by_status_track_cohort_place_and_change(client, admin, admin_headers, two_tracks):
    from certificates.operations import issue_certificate, revoke_certificate
    from skills import operations

    track_a, track_b, engineer, official = two_tracks
    for cohort_code, track, people in (("CA", track_a, (engineer, official)), ("CB", track_b, (official,))):
        cohort = db.session.scalar(sa.select(Cohort).where(Cohort.code == cohort_code))
        operations.record_results(admin, cohort, [{"trainee_id": p.id, "module": m.code, "passed": True}
                                                  for p in people for m in track.modules])
    db.session.commit()
    engineers = issue_certificate(admin, engineer, track_a)[0]
    officials_a = issue_certificate(admin, official, track_a)[0]
    officials_b = issue_certificate(admin, official, track_b)[0]
    db.session.commit()
    before_revocation = datetime.now(timezone.utc).isoformat()
    revoke_certificate(admin, officials_a, "Erreur de saisie")
    db.session.commit()

    def serials(**filters):
        return _codes(client.get("/api/v1/certificates", query_string=filters, headers=admin_headers), "serial")

    assert serials(status="revoked") == [officials_a.serial]
    assert serials(status="valid") == sorted([engineers.serial, officials_b.serial])
    assert serials(track="TB") == [officials_b.serial]
    assert serials(cohort="CA") == sorted([engineers.serial, officials_a.serial])
    assert serials(sector="justice", status="valid") == [officials_b.serial]
    assert serials(region="rabat-sale-kenitra") == [engineers.serial]
    assert serials(updated_since=before_revocation) == [officials_a.serial]
    assert serials(trainee_id=str(engineer.id)) == [engineers.serial]


def test_my_certificates_filter_by_status(client, admin, make_user, token_for, make_track, make_trainee,
                                          make_cohort):
    from certificates.operations import issue_certificate
    from skills import operations

    track = make_track(min_attendance=0)
    trainee = make_trainee()
    cohort = make_cohort(track=track, trainees=[trainee])
    operations.record_results(admin, cohort, [{"trainee_id": trainee.id, "module": m.code, "passed": True}
                                              for m in track.modules])
    held = issue_certificate(admin, trainee, track)[0]
    db.session.commit()
    headers = token_for(make_user("trainee", trainee_id=trainee.id))
    assert _codes(client.get("/api/v1/me/certificates?status=valid", headers=headers), "serial") == [held.serial]
    assert _codes(client.get("/api/v1/me/certificates?status=revoked", headers=headers), "serial") == []


@pytest.mark.parametrize("url", ["/api/v1/trainees/2147483648", "/api/v1/sessions/99999999999999999999999",
                                 "/api/v1/jobs/2147483648"])
def test_an_id_too_large_for_any_row_is_not_found(client, admin_headers, url):
    response = client.get(url, headers=admin_headers)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_ids_too_large_in_a_body_are_refused_and_nothing_is_written(client, admin_headers, two_tracks):
    before = table_counts()
    response = client.post("/api/v1/cohorts/CU/enrollments", json={"trainee_ids": [1, 2**40]}, headers=admin_headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"trainee_ids.1": ["Must be between 1 and 2147483647."]}
    db.session.rollback()
    assert table_counts() == before


def test_check_in_refuses_a_session_id_that_is_not_an_id(client, make_user, make_trainee, token_for):
    headers = {**token_for(make_user("trainee", trainee_id=make_trainee().id)), **EN}
    for session_id in ("twelve", True, 2**40):
        response = client.post("/api/v1/checkin", json={"code": "ABC123", "session_id": session_id}, headers=headers)
        assert response.status_code == 422, session_id
        assert "session_id" in response.get_json()["errors"]
