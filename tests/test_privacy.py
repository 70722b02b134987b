"""Privacy under law 09-08: the notice and its acceptance, a person's data export, correction requests."""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from accounts.models import OutboxMessage, User
from accounts.notice import NOTICE_VERSION
from audit.models import AuditEntry
from certificates.models import Certificate
from certificates.operations import count_verification, issue_certificate
from certificates.signing import verify_url
from common import clock
from common.extensions import db
from privacy.models import CorrectionRequest
from skills import operations as skills
from skills.models import Attendance, Trainee
from tests.helpers import PASSWORD, table_counts

EN = {"Accept-Language": "en"}


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.seq)))


# --- the notice --------------------------------------------------------------------------------------

@pytest.mark.parametrize("language, words", [
    ("fr", ["Notice de confidentialité", "Responsable", "CNDP", "Rectification"]),
    ("ar", ["إشعار الخصوصية", "المسؤول", "التصحيح"]),
    ("en", ["Privacy notice", "Who is responsible", "Rectification"]),
])
def test_the_notice_is_public_in_each_language(client, app, language, words):
    app.config.update(PRIVACY_CONTROLLER="Ministère X", PRIVACY_CONTACT_EMAIL="dpo@x.ma",
                      CNDP_REFERENCE="D-GC-123/2026", RETENTION_PERSON_YEARS=7)
    page = client.get("/privacy", headers={"Accept-Language": language}).get_data(as_text=True)
    for word in words + ["Ministère X", "dpo@x.ma", "D-GC-123/2026", NOTICE_VERSION]:
        assert word in page, word
    assert "7" in page


def test_the_cndp_line_is_left_out_until_a_reference_is_set(client):
    page = client.get("/privacy", headers=EN).get_data(as_text=True)
    assert "under reference" not in page and "www.cndp.ma" in page


def test_account_creation_shows_the_notice_and_records_its_acceptance(client, make_user):
    from accounts.operations import invitation_token

    user = make_user("trainee", accepted_notice=False)
    user.password_hash = None
    db.session.commit()
    link = f"/invitation/{invitation_token(user)}"
    assert "Who is responsible" in client.get(link, headers=EN).get_data(as_text=True)
    before = table_counts()
    refused = client.post(link, headers=EN, data={"password": "a long password 1", "confirm": "a long password 1"})
    assert "tick the box to accept it" in refused.get_data(as_text=True)
    assert table_counts() == before
    assert client.post(link, data={"password": "a long password 1", "confirm": "a long password 1",
                                   "accept_privacy": "y"}).status_code == 302
    db.session.refresh(user)
    assert user.privacy_notice_version == NOTICE_VERSION and user.privacy_accepted_at is not None
    assert "user.privacy_accept" in _actions()


def test_someone_who_has_not_accepted_is_asked_once_after_sign_in(client, make_user, token_for):
    user = make_user("trainer", accepted_notice=False)
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    response = client.get("/cohorts?q=x")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/privacy/accept"
    # Signing out, changing language and reading the notice stay open; the API is not held back.
    assert client.post("/language", data={"lang": "en", "next": "/privacy"}).status_code == 302
    assert client.get("/privacy").status_code == 200
    me = client.get("/api/v1/me", headers=token_for(user)).json
    assert me["privacy_notice"] == {"accepted_at": None, "accepted_version": None, "current_version": NOTICE_VERSION}

    before = table_counts()
    refused = client.post(response.headers["Location"], headers=EN, data={})
    assert refused.status_code == 422 and "tick the box to accept it" in refused.get_data(as_text=True)
    assert table_counts() == before

    accepted = client.post(response.headers["Location"], data={"accept_privacy": "y"})
    assert accepted.status_code == 302 and accepted.headers["Location"] == "/cohorts?q=x"
    assert client.get("/cohorts").status_code == 200
    db.session.refresh(user)
    assert user.privacy_notice_version == NOTICE_VERSION
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "user.privacy_accept")).one()
    assert entry.actor_id == user.id and entry.after == {"version": NOTICE_VERSION}


def test_a_new_version_of_the_notice_is_asked_again(client, make_user, login):
    user = make_user("admin")
    user.privacy_notice_version = "2020-01"
    db.session.commit()
    login(user)
    assert urlsplit(client.get("/admin/users").headers["Location"]).path == "/privacy/accept"


# --- the export --------------------------------------------------------------------------------------

@pytest.fixture
def two_trainees(admin, make_user, make_trainee, make_track, make_cohort, make_session):
    """Two trainees of one cohort, each with attendance (one check-in), results and a certificate."""
    track = make_track(validity_months=24)
    mine = make_trainee(name="Salma Bennani", name_ar="سلمى بناني", name_tfng="ⵙⴰⵍⵎⴰ", email="salma@example.ma")
    other = make_trainee(name="Karim Other", name_ar="كريم", email="karim@example.ma")
    cohort = make_cohort(track=track, trainees=[mine, other])
    session = make_session(cohort)
    skills.record_attendance(admin, session, [{"trainee_id": mine.id, "status": "present"},
                                              {"trainee_id": other.id, "status": "present"}])
    second = make_session(cohort)
    db.session.add(Attendance(session_id=second.id, trainee_id=mine.id, status="present", source="checkin"))
    skills.record_results(admin, cohort, [{"trainee_id": t.id, "module": m.code, "passed": True, "score": 88}
                                          for t in (mine, other) for m in track.modules])
    db.session.commit()
    certificates = {t.id: issue_certificate(admin, t, track)[0] for t in (mine, other)}
    db.session.commit()
    count_verification(certificates[mine.id].id)
    count_verification(certificates[mine.id].id)
    db.session.commit()
    user = make_user("trainee", trainee_id=mine.id)
    other_user = make_user("trainee", trainee_id=other.id)
    return user, other_user, certificates[mine.id], certificates[other.id], cohort


def test_the_export_holds_all_my_data_and_nothing_else(client, two_trainees, token_for, login):
    user, other_user, my_certificate, other_certificate, cohort = two_trainees
    client.post("/api/v1/me/corrections", headers=token_for(user), json={"field": "name", "value": "Salma Bennani-Alaoui"})
    client.post("/api/v1/me/corrections", headers=token_for(other_user), json={"field": "name", "value": "Karim Autre"})

    response = client.get("/api/v1/me/export", headers=token_for(user))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=\"kafaa-my-data-")
    data = response.json
    assert data["account"]["email"] == user.email and data["privacy_notice"]["accepted_version"] == NOTICE_VERSION
    assert data["trainee"]["name"] == "Salma Bennani" and data["trainee"]["name_tfng"] == "ⵙⴰⵍⵎⴰ"
    assert [e["code"] for e in data["enrollments"]] == [cohort.code]
    assert len(data["attendance"]) == 2 and [c["source"] for c in data["check_ins"]] == ["checkin"]
    assert {r["score"] for r in data["results"]} == {88.0} and len(data["results"]) == 2
    (certificate,) = data["certificates"]
    assert certificate["serial"] == my_certificate.serial and certificate["status"] == "valid"
    assert certificate["verification_count"] == 2
    assert [c["requested_value"] for c in data["correction_requests"]] == ["Salma Bennani-Alaoui"]

    body = response.get_data(as_text=True)
    for foreign in ("Karim", "karim@example.ma", other_certificate.serial, other_user.email):
        assert foreign not in body
    for secret in ("password", "token", user.password_hash, my_certificate.token, my_certificate.verification_code):
        assert secret not in body

    # The button on the web gives the same file, from the same function.
    login(user)
    page = client.get("/me/progress").get_data(as_text=True)
    assert "/me/export" in page
    web = client.get("/me/export")
    assert web.headers["Content-Disposition"] == response.headers["Content-Disposition"]
    web_data = json.loads(web.get_data(as_text=True))
    for export in (web_data, data):  # what signing in on the web changed
        export["exported_at"] = export["account"]["last_login_at"] = None
    assert web_data == data


def test_staff_export_their_account_only(client, admin, token_for):
    data = client.get("/api/v1/me/export", headers=token_for(admin)).json
    assert data["account"]["email"] == admin.email and data["trainee"] is None and data["certificates"] == []


# --- correction requests -----------------------------------------------------------------------------

@pytest.fixture
def trainee_user(make_user, make_trainee):
    trainee = make_trainee(name="Youssef Alaoi", name_ar="يوسف العلوي", email="youssef@example.ma")
    return make_user("trainee", trainee_id=trainee.id)


@pytest.mark.parametrize("body, field, message", [
    ({"field": "name", "value": ""}, "value", "This field is required."),
    ({"field": "name", "value": "   "}, "value", "This field is required."),
    ({"field": "name", "value": "Youssef Alaoi"}, "value", "This is already the value on your record."),
    ({"field": "email", "value": "not an email"}, "value", "This is not a valid email address."),
    ({"field": "cin", "value": "AB123456"}, "field", "Unknown value"),
    ({"field": "name", "value": "x" * 201}, "value", "At most 200 characters."),
    ({"field": "other", "value": "Employer", "reason": "r" * 1001}, "reason", "At most 1000 characters."),
])
def test_a_bad_correction_request_is_refused_and_nothing_is_saved(client, trainee_user, token_for, body, field, message):
    headers = {**token_for(trainee_user), **EN}
    before = table_counts()
    response = client.post("/api/v1/me/corrections", headers=headers, json=body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert message in " ".join(response.json["errors"][field])
    assert table_counts() == before


def test_one_pending_request_per_field_and_email_taken(client, trainee_user, token_for, make_trainee):
    headers = {**token_for(trainee_user), **EN}
    assert client.post("/api/v1/me/corrections", headers=headers,
                       json={"field": "name", "value": "Youssef Alaoui", "reason": "typo"}).status_code == 201
    before = table_counts()
    again = client.post("/api/v1/me/corrections", headers=headers, json={"field": "name", "value": "Youssef Alaou"})
    assert again.status_code == 409 and "already asked" in again.json["errors"]["field"][0]
    make_trainee(email="taken@example.ma")
    before = table_counts()
    taken = client.post("/api/v1/me/corrections", headers=headers, json={"field": "email", "value": "taken@example.ma"})
    assert taken.status_code == 422 and "already used" in taken.json["errors"]["value"][0]
    assert table_counts() == before
    listed = client.get("/api/v1/me/corrections", headers=headers).json
    assert listed["total"] == 1 and listed["items"][0]["current_value"] == "Youssef Alaoi"
    assert "correction.request" in _actions()


def test_a_trainee_asks_on_their_page_with_translated_errors(client, trainee_user, login):
    login(trainee_user)
    page = client.get("/me/data")
    assert page.status_code == 200 and "youssef@example.ma" in page.get_data(as_text=True)
    before = table_counts()
    refused = client.post("/me/data", data={"field": "name", "value": ""}, headers={"Accept-Language": "fr"})
    assert refused.status_code == 422 and "Ce champ est obligatoire" in refused.get_data(as_text=True)
    assert table_counts() == before
    assert client.post("/me/data", data={"field": "name_tfng", "value": "ⵢⵓⵙⴼ"}).status_code == 302
    assert "ⵢⵓⵙⴼ" in client.get("/me/data").get_data(as_text=True)


def _pending(field: str = "name") -> CorrectionRequest:
    return db.session.scalars(sa.select(CorrectionRequest).where(CorrectionRequest.field == field)).one()


def test_approving_a_name_reissues_the_certificate_and_tells_the_trainee(client, two_trainees, token_for, login,
                                                                          admin):
    user, _, old, other_certificate, _ = two_trainees
    client.post("/api/v1/me/corrections", headers=token_for(user), json={"field": "name", "value": "Salma Bennani Alaoui"})
    correction = _pending()
    login(admin)
    review = client.get(f"/admin/corrections/{correction.id}", headers=EN).get_data(as_text=True)
    assert old.serial in review and "It reissues 1 certificate" in review
    assert "Salma Bennani Alaoui" in client.get("/admin/corrections").get_data(as_text=True)

    response = client.post(f"/admin/corrections/{correction.id}/approve", data={"note": "Checked."})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Trainee, user.trainee_id).name == "Salma Bennani Alaoui"
    old = db.session.get(Certificate, old.id)
    assert old.superseded_by is not None and old.superseded_by.holder == "Salma Bennani Alaoui"
    assert db.session.get(Certificate, other_certificate.id).superseded_at is None  # nobody else's
    verdict = client.get(urlsplit(verify_url("https://kafaa.test", old.token)).path,
                         headers={"Accept": "application/json"}).json
    assert verdict["status"] == "superseded" and verdict["superseded_by"] == old.superseded_by.serial
    correction = db.session.get(CorrectionRequest, correction.id)
    assert (correction.status, correction.handled_by_id, correction.admin_note) == ("approved", admin.id, "Checked.")
    mail = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert mail.recipient == user.email and old.superseded_by.serial in mail.body
    assert {"trainee.update", "certificate.issue", "correction.approve"} <= set(_actions())
    # Decided once: a second decision is refused.
    assert client.post(f"/admin/corrections/{correction.id}/reject", data={"note": "x"}).status_code == 409


def test_a_name_correction_keeps_the_dates_and_needs_no_new_eligibility_check(client, two_trainees, token_for,
                                                                             admin, monkeypatch):
    """The achievement is the same: a trainee who no longer meets the track's requirements (a module
    marked failed since) still gets the corrected certificate, with the old dates, so a correction can
    never extend a certificate."""
    user, _, certificate, _, cohort = two_trainees
    client.post("/api/v1/me/corrections", headers=token_for(user), json={"field": "name", "value": "Salma B."})
    module = certificate.track.modules[0].code
    skills.record_results(admin, cohort, [{"trainee_id": user.trainee_id, "module": module, "passed": False}])
    db.session.commit()
    issued_on, expires_on = certificate.issued_on, certificate.expires_on
    later = clock.today() + timedelta(days=40)
    monkeypatch.setattr(clock, "today", lambda: later)
    response = client.post(f"/api/v1/corrections/{_pending().id}/approve", headers={**token_for(admin), **EN})
    assert response.status_code == 200, response.json
    db.session.expire_all()
    new = db.session.get(Certificate, certificate.id).superseded_by
    assert new.serial == response.json["reissued"][0] and new.holder == "Salma B."
    assert (new.issued_on, new.expires_on) == (issued_on, expires_on)
    # A renewal is another matter: it checks eligibility again.
    renewal = client.post(f"/api/v1/certificates/{new.serial}/reissue", headers={**token_for(admin), **EN})
    assert renewal.status_code == 422 and f"Module {module} not yet passed." in renewal.json["errors"]["requirements"]


def test_approving_an_email_changes_the_sign_in_address(client, trainee_user, token_for, admin, make_trainee):
    client.post("/api/v1/me/corrections", headers=token_for(trainee_user), json={"field": "email", "value": "y.alaoui@example.ma"})
    correction = _pending("email")
    headers = {**token_for(admin), **EN}
    # Someone took the address meanwhile: refused, nothing saved.
    intruder = make_trainee(email="y.alaoui@example.ma")
    before = table_counts()
    assert client.post(f"/api/v1/corrections/{correction.id}/approve", headers=headers).status_code == 409
    assert table_counts() == before
    skills.update_trainee(admin, intruder, {**{f: getattr(intruder, f) for f in skills.TRAINEE_FIELDS},
                                            "email": "intruder@example.ma"})
    db.session.commit()
    approved = client.post(f"/api/v1/corrections/{correction.id}/approve", headers=headers, json={})
    assert approved.status_code == 200 and approved.json["status"] == "approved" and approved.json["reissued"] == []
    db.session.expire_all()
    assert db.session.get(User, trainee_user.id).email == "y.alaoui@example.ma"
    assert client.post("/login", data={"email": "y.alaoui@example.ma", "password": PASSWORD}).status_code == 302


def test_rejecting_needs_a_note_the_trainee_reads(client, trainee_user, token_for, admin, login):
    client.post("/api/v1/me/corrections", headers=token_for(trainee_user), json={"field": "other", "value": "My employer changed"})
    correction = _pending("other")
    headers = {**token_for(admin), **EN}
    before = table_counts()
    refused = client.post(f"/api/v1/corrections/{correction.id}/reject", headers=headers, json={"note": "  "})
    assert refused.status_code == 422 and "Say why" in refused.json["errors"]["note"][0]
    assert table_counts() == before
    login(admin)
    web = client.post(f"/admin/corrections/{correction.id}/reject", data={"note": ""}, headers=EN)
    assert web.status_code == 422 and "Say why" in web.get_data(as_text=True)
    rejected = client.post(f"/api/v1/corrections/{correction.id}/reject", headers=headers,
                           json={"note": "Your employer must write to us."})
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    mail = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert mail.recipient == trainee_user.email and "Your employer must write to us." in mail.body
    assert "correction.reject" in _actions()
    assert client.post(f"/api/v1/corrections/{correction.id}/approve", headers=headers).status_code == 409
    assert client.post("/api/v1/corrections/999999/approve", headers=headers).status_code == 404


def test_admins_list_requests_by_status(client, trainee_user, token_for, admin, login):
    mine = token_for(trainee_user)
    for field, value in (("name", "Youssef Alaoui"), ("name_ar", "يوسف علوي"), ("other", "Region")):
        client.post("/api/v1/me/corrections", headers=mine, json={"field": field, "value": value})
    headers = token_for(admin)
    client.post(f"/api/v1/corrections/{_pending('other').id}/reject", headers=headers, json={"note": "No."})
    assert client.get("/api/v1/corrections?status=pending", headers=headers).json["total"] == 2
    assert client.get("/api/v1/corrections?status=rejected", headers=headers).json["total"] == 1
    page = client.get("/api/v1/corrections?per_page=2", headers=headers).json
    assert page["total"] == 3 and page["pages"] == 2 and len(page["items"]) == 2
    assert client.get("/api/v1/corrections?status=bogus", headers=headers).status_code == 422
    login(admin)
    html = client.get("/admin/corrections?status=rejected").get_data(as_text=True)
    assert "Region" in html and "يوسف علوي" not in html


# --- no national identity number -----------------------------------------------------------------------

def test_no_column_holds_a_national_identity_number(app):
    """Law 09-08 and the issue: no CIN/CNIE is kept. A cheap guard on every table of the schema."""
    words = {"cin", "cnie", "nin"}  # whole words only: "cin" is inside many innocent names
    fragments = ("national_id", "nationalid", "identity_number", "id_card", "idcard", "passport")
    inspector = sa.inspect(db.engine)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            name = column["name"].lower()
            assert not words & set(name.split("_")) and not any(f in name for f in fragments), f"{table}.{name}"
