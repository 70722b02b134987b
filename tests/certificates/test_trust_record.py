"""What a relying party is told stays true: the content certified at issue is frozen, a revocation sticks
until an admin lifts it, any name the registry accepts certifies, the app's own PDFs are recognised when
uploaded, status lists do not leak, and the verdicts say what they mean."""
from __future__ import annotations

import io
import json
from datetime import date, timedelta
from urllib.parse import urlsplit

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
import zxingcpp

from audit.models import AuditEntry
from certificates.models import Certificate
from common import clock
from common.extensions import db
from skills.models import Cohort
from tests.test_certificate_issuance import make_eligible  # noqa: F401 - the fixture, shared
from tests.test_openbadges import MESSAGE_LIST, STATUS_LIST, bit, entry, get_jws, status_bits, verify_jws

JSON = {"Accept": "application/json"}
EN = {"Accept-Language": "en"}


def _issue(client, headers, trainee, track):
    return client.post("/api/v1/certificates", headers=headers, json={"trainee_id": trainee.id, "track": track.code})


def _pdf_text(pdf: bytes) -> str:
    return pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()


def _scan(pdf: bytes) -> str:
    image = pdfium.PdfDocument(pdf)[0].render(scale=150 / 72).to_pil()
    (found,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return found.text


def _upload(client, pdf: bytes):
    return client.post("/verify", data={"pdf": (io.BytesIO(pdf), "c.pdf")}, headers=EN,
                       content_type="multipart/form-data")


@pytest.fixture
def cohort_of(client, admin, token_for, make_track, make_trainee, make_cohort, make_session):
    """A cohort whose trainees all passed every module with full attendance."""
    headers = token_for(admin)

    def make(people: list[dict]):
        track = make_track()
        trainees = [make_trainee(**fields) for fields in people]
        cohort = make_cohort(track=track, trainees=trainees)
        session = make_session(cohort)
        client.put(f"/api/v1/sessions/{session.id}/attendance", headers=headers,
                   json={"records": [{"trainee_id": t.id, "status": "present"} for t in trainees]})
        response = client.put(f"/api/v1/cohorts/{cohort.code}/results", headers=headers, json={"records": [
            {"trainee_id": t.id, "module": m.code, "passed": True, "score": 90}
            for t in trainees for m in track.modules]})
        assert response.status_code == 200, response.json
        return cohort, track, trainees
    return make, headers


# --- 1. the certified content is frozen -------------------------------------------------------------------

def test_editing_the_track_after_issue_changes_nothing_an_old_certificate_states(
        client, make_eligible, make_module, make_user, token_for, app):
    make, headers = make_eligible
    trainee, track = make()
    issued = _issue(client, headers, trainee, track).json
    holder = token_for(make_user("trainee", trainee_id=trainee.id))
    modules = [m.code for m in track.modules]
    before_json = client.get(urlsplit(issued["verify_url"]).path, headers=JSON).json
    _, before_vc = verify_jws(client, get_jws(client, issued["serial"], holder))
    original_pdf = client.get(issued["pdf_url"], headers=headers).data

    # The catalogue changes: a new module, a new title, a new issuer name.
    added = make_module(hours=40)
    edited = client.put(f"/api/v1/tracks/{track.code}", headers=headers, json={
        "modules": [*modules, added.code], "min_attendance": 0.5, "validity_months": 24,
        "title": {"fr": "Parcours renommé", "ar": "مسار جديد", "en": "Renamed track"}})
    assert edited.status_code == 200, edited.json
    app.config["ISSUER_NAME"] = "Autre émetteur"

    after_json = client.get(urlsplit(issued["verify_url"]).path, headers=JSON).json
    assert after_json == before_json
    assert after_json["track_title"] == {"fr": "Parcours", "ar": "مسار", "en": "Track"}
    assert [m["code"] for m in after_json["modules"]] == modules and after_json["total_hours"] == 12
    assert after_json["issuer"] != "Autre émetteur"

    page = client.get(urlsplit(issued["verify_url"]).path, headers={"Accept": "text/html", **EN}).get_data(as_text=True)
    assert "Parcours renommé" not in page and "Renamed track" not in page and added.code not in page
    assert f"Module {modules[0]}" in page and "Autre émetteur" not in page

    _, after_vc = verify_jws(client, get_jws(client, issued["serial"], holder))
    assert after_vc["credentialSubject"]["achievement"] == before_vc["credentialSubject"]["achievement"]
    assert after_vc["name"] == "Parcours" and after_vc["issuer"] == before_vc["issuer"]
    narrative = after_vc["credentialSubject"]["achievement"]["criteria"]["narrative"]
    assert added.code not in narrative and "80 %" in narrative and "12 heures" in narrative
    # The achievement published at its id is the track as it is today.
    today = client.get(urlsplit(after_vc["credentialSubject"]["achievement"]["id"]).path).json
    assert today["name"] == "Parcours renommé" and added.code in today["criteria"]["narrative"]

    # The PDF downloaded again is the original; revoked after the edit, its REVOKED copy says the same.
    assert client.get(issued["pdf_url"], headers=headers).data == original_pdf
    client.post(f"/api/v1/certificates/{issued['serial']}/revoke", headers=headers, json={"reason": "Test"})
    revoked_text = _pdf_text(client.get(issued["pdf_url"], headers=headers).data)
    assert "Parcours" in revoked_text and "renommé" not in revoked_text and added.code not in revoked_text
    assert "Autre émetteur" not in revoked_text

    # A certificate issued now states today's catalogue.
    newcomer, _ = make()
    fresh = client.get(urlsplit(_issue(client, headers, newcomer, track).json["verify_url"]).path, headers=JSON).json
    assert fresh["track_title"]["fr"] == "Parcours renommé" and fresh["total_hours"] == 52
    assert fresh["issuer"] == "Autre émetteur"


def test_a_correction_carries_the_certified_content_over(client, make_eligible, make_module, admin):
    from certificates.operations import reissue_certificate

    make, headers = make_eligible
    trainee, track = make()
    issued = _issue(client, headers, trainee, track).json
    old = db.session.scalar(sa.select(Certificate).where(Certificate.serial == issued["serial"]))
    certified = json.loads(json.dumps(old.certified))
    client.put(f"/api/v1/tracks/{track.code}", headers=headers, json={
        "modules": [m.code for m in track.modules] + [make_module().code], "min_attendance": 0.8,
        "validity_months": 24, "title": {"fr": "Autre titre", "ar": "عنوان", "en": "Other"}})
    new = reissue_certificate(admin, old, correction=True)
    db.session.commit()
    assert new.certified == certified and new.issued_on == old.issued_on
    answer = client.get(urlsplit(client.get(f"/api/v1/certificates/{new.serial}", headers=headers)
                                 .json["verify_url"]).path, headers=JSON).json
    assert answer["status"] == "valid" and answer["track_title"]["fr"] == "Parcours"


# --- 2. a revocation sticks ----------------------------------------------------------------------------

def test_no_routine_issue_replaces_a_revoked_certificate(client, cohort_of, app):
    make, headers = cohort_of
    cohort, track, (fraud, honest) = make([{}, {}])
    issued = _issue(client, headers, fraud, track).json
    client.post(f"/api/v1/certificates/{issued['serial']}/revoke", headers=headers, json={"reason": "Fraude"})

    again = _issue(client, headers, fraud, track)
    assert again.status_code == 409 and again.json["revoked"] == issued["serial"]
    assert issued["serial"] in again.json["detail"] and "révoqué" in again.json["detail"]

    runner = app.test_cli_runner()
    command = runner.invoke(args=["certificates", "issue", "--cohort", cohort.code])
    assert command.exit_code == 0, command.output
    assert "Issued 1" in command.output and "skipped because revoked 1" in command.output
    assert f"trainee {fraud.id}: revoked: {issued['serial']}" in command.output

    from certificates.bulk import issue_for_cohort
    summary = issue_for_cohort(None, db.session.get(Cohort, cohort.id))
    assert (summary["issued"], summary["already_held"], summary["revoked"], summary["failed"]) == (0, 1, 1, 0)
    assert {(p["trainee_id"], p["outcome"]) for p in summary["people"]} == {(fraud.id, "revoked"),
                                                                              (honest.id, "already_held")}
    held = db.session.scalars(sa.select(Certificate).where(Certificate.trainee_id == fraud.id)).all()
    assert [c.serial for c in held] == [issued["serial"]] and held[0].revoked_at is not None


def test_the_cohort_job_reports_each_outcome_and_one_failure_stops_nobody(client, cohort_of, login, admin, app,
                                                                          monkeypatch):
    from certificates import operations

    make, headers = cohort_of
    cohort, track, (first, broken, revoked, last) = make([{}, {"name": "Breaks The Renderer"}, {}, {}])
    serial = _issue(client, headers, revoked, track).json["serial"]
    client.post(f"/api/v1/certificates/{serial}/revoke", headers=headers, json={"reason": "Fraude"})
    real = operations.render_pdf

    def render(certificate, **kw):
        if certificate.holder == "Breaks The Renderer":
            raise RuntimeError("renderer crashed")
        return real(certificate, **kw)
    monkeypatch.setattr(operations, "render_pdf", render)

    login(admin)
    response = client.post(f"/cohorts/{cohort.code}/certificates")
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Issued now: 2" in page and "Skipped because their certificate was revoked: 1" in page
    assert "Failed: 1" in page and "renderer crashed" in page
    holders = set(db.session.scalars(sa.select(Certificate.trainee_id).where(Certificate.revoked_at.is_(None))))
    assert holders == {first.id, last.id}
    # The failed person left nothing half written: no certificate, no serial taken from the others' run.
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)
                                 .where(Certificate.trainee_id == broken.id))


def test_lifting_a_revocation_is_an_audited_admin_act_with_a_reason(client, make_eligible, login, admin,
                                                                    make_user, token_for):
    make, headers = make_eligible
    trainee, track = make()
    issued = _issue(client, headers, trainee, track).json
    serial = issued["serial"]
    login(admin)
    not_revoked = client.get(f"/certificates/{serial}/reinstate", headers=EN).get_data(as_text=True)
    assert f"Certificate {serial} is not revoked." in not_revoked and 'name="reason"' not in not_revoked
    client.post(f"/api/v1/certificates/{serial}/revoke", headers=headers, json={"reason": "Erreur de saisie"})

    trainer = token_for(make_user("trainer"))
    assert client.post(f"/api/v1/certificates/{serial}/reinstate", headers=trainer,
                       json={"reason": "x"}).status_code == 403
    refused = client.post(f"/api/v1/certificates/{serial}/reinstate", headers=headers, json={"reason": " "})
    assert refused.status_code == 422 and "reason" in refused.json["errors"]
    assert client.get(urlsplit(issued["verify_url"]).path, headers=JSON).json["status"] == "revoked"

    lifted = client.post(f"/api/v1/certificates/{serial}/reinstate", headers=headers,
                         json={"reason": "Révoqué par erreur : mauvais stagiaire"})
    assert lifted.status_code == 200 and lifted.json["status"] == "valid" and lifted.json["revoked_at"] is None
    assert client.get(urlsplit(issued["verify_url"]).path, headers=JSON).json["status"] == "valid"
    entry_ = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "certificate.reinstate"))
    assert entry_.target_id == serial and entry_.after == {"reason": "Révoqué par erreur : mauvais stagiaire"}
    assert entry_.before["revocation_reason"] == "Erreur de saisie"
    assert client.post(f"/api/v1/certificates/{serial}/reinstate", headers=headers,
                       json={"reason": "again"}).status_code == 409
    assert _issue(client, headers, trainee, track).status_code == 200  # held again: routine issue returns it

    # On the web: a form that asks for the reason and a confirmation.
    client.post(f"/api/v1/certificates/{serial}/revoke", headers=headers, json={"reason": "Encore"})
    login(admin)
    url = f"/certificates/{serial}/reinstate"
    assert "Encore" in client.get(url, headers=EN).get_data(as_text=True)
    client.post(url, data={"reason": "Sans confirmer"})
    assert client.get(urlsplit(issued["verify_url"]).path, headers=JSON).json["status"] == "revoked"
    done = client.post(url, data={"reason": "Confirmé par le jury", "confirm": "y"})
    assert done.status_code == 302
    assert client.get(urlsplit(issued["verify_url"]).path, headers=JSON).json["status"] == "valid"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "certificate.reinstate")) == 2


# --- 3. any name the registry accepts certifies ------------------------------------------------------------

def test_the_longest_names_in_all_three_scripts_at_once_certify(client, cohort_of, app):
    latin = ("Fatima-Zahra " * 16)[:200].strip().ljust(200, "é")
    arabic = ("فاطمة الزهراء بنت محمد ڭ " * 10)[:200].strip().ljust(200, "ـ")
    tifinagh = ("ⴼⴰⵟⵉⵎⴰ ⵣⵣⵀⵔⴰ ⵦ " * 15)[:200].strip().ljust(200, "ⵣ")
    assert len(latin) == len(arabic) == len(tifinagh) == 200
    make, headers = cohort_of
    people = [{"name": latin, "name_ar": arabic, "name_tfng": tifinagh},
              {"name": latin[:-1] + "x", "name_ar": arabic, "name_tfng": tifinagh},
              {"name": latin[:-1] + "y", "name_ar": arabic, "name_tfng": tifinagh}]
    cohort, track, trainees = make(people)
    for trainee in trainees:  # the registry accepted them (the API, to its columns' 200 characters)
        assert client.get(f"/api/v1/trainees/{trainee.id}", headers=headers).json["name_tfng"] == tifinagh

    issued = _issue(client, headers, trainees[0], track)
    assert issued.status_code == 201, issued.json
    url = _scan(client.get(issued.json["pdf_url"], headers=headers).data)
    assert url == issued.json["verify_url"]
    answer = client.get(urlsplit(url).path, headers=JSON).json
    assert (answer["status"], answer["holder"], answer["holder_ar"], answer["holder_tfng"]) == (
        "valid", latin, arabic, tifinagh)

    command = app.test_cli_runner().invoke(args=["certificates", "issue", "--cohort", cohort.code])
    assert command.exit_code == 0 and "Issued 2, already held 1" in command.output, command.output


# --- 4. the app's own PDFs, uploaded ------------------------------------------------------------------------

def test_an_uploaded_revoked_copy_or_original_gives_the_real_status(client, make_eligible):
    make, headers = make_eligible
    trainee, track = make()
    issued = _issue(client, headers, trainee, track).json
    original = client.get(issued["pdf_url"], headers=headers).data
    client.post(f"/api/v1/certificates/{issued['serial']}/revoke", headers=headers, json={"reason": "Fraude"})
    copy = client.get(issued["pdf_url"], headers=headers).data
    assert copy != original and client.get(issued["pdf_url"], headers=headers).data == copy  # kept, not redrawn
    for pdf in (copy, original):
        answer = _upload(client, pdf)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 200 and "Revoked" in text and issued["serial"] in text
        assert "never issued" not in text
    altered = bytearray(copy)
    altered[len(altered) // 2] ^= 1
    assert _upload(client, bytes(altered)).status_code == 422

    # A revocation lifted: the copy it produced now says the certificate is valid again.
    client.post(f"/api/v1/certificates/{issued['serial']}/reinstate", headers=headers, json={"reason": "Erreur"})
    assert "Valid certificate" in _upload(client, copy).get_data(as_text=True)
    assert client.get(issued["pdf_url"], headers=headers).data == original


def test_certificates_revoked_before_copies_were_kept_get_theirs_from_the_command(client, make_eligible, app):
    from certificates.models import CertificateFile

    make, headers = make_eligible
    trainee, track = make()
    issued = _issue(client, headers, trainee, track).json
    client.post(f"/api/v1/certificates/{issued['serial']}/revoke", headers=headers, json={"reason": "Fraude"})
    # As the migration leaves a certificate revoked earlier: no copy kept.
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.serial == issued["serial"]))
    db.session.execute(sa.update(CertificateFile).where(CertificateFile.certificate_id == certificate.id)
                       .values(revoked_content=None))
    certificate.revoked_pdf_sha256 = None
    db.session.commit()
    fresh = client.get(issued["pdf_url"], headers=headers).data
    assert "REVOKED" in _pdf_text(fresh) or "RÉVOQUÉ" in _pdf_text(fresh)
    assert _upload(client, fresh).status_code == 422  # a download does not write (GET never writes)

    result = app.test_cli_runner().invoke(args=["certificates", "keep-revoked-copies"])
    assert result.exit_code == 0 and "1 certificate" in result.output, result.output
    kept = client.get(issued["pdf_url"], headers=headers).data
    assert "Revoked" in _upload(client, kept).get_data(as_text=True)
    assert "0 certificate" in app.test_cli_runner().invoke(args=["certificates", "keep-revoked-copies"]).output


# --- 5. status lists ----------------------------------------------------------------------------------------

def test_status_indexes_are_random_and_a_lifted_revocation_retires_its_index(client, make_eligible, make_user,
                                                                             token_for):
    make, headers = make_eligible
    certificates = []
    for _ in range(4):
        trainee, track = make()
        serial = _issue(client, headers, trainee, track).json["serial"]
        certificates.append((serial, token_for(make_user("trainee", trainee_id=trainee.id))))
    indexes = []
    for serial, holder in certificates:
        _, vc = verify_jws(client, get_jws(client, serial, holder))
        indexes.append(int(entry(vc, "revocation")["statusListIndex"]))
    ids = sorted(db.session.scalars(sa.select(Certificate.id)))
    assert len(set(indexes)) == 4 and all(0 <= i < 131_072 for i in indexes)
    assert sorted(indexes) != ids and max(indexes) - min(indexes) > 8  # not database ids, not a sequence

    serial, holder = certificates[0]
    client.post(f"/api/v1/certificates/{serial}/revoke", headers=headers, json={"reason": "Fraude"})
    bits, _ = status_bits(client)
    assert bit(bits, indexes[0]) == 1
    client.post(f"/api/v1/certificates/{serial}/reinstate", headers=headers, json={"reason": "Erreur"})
    _, vc = verify_jws(client, get_jws(client, serial, holder))
    new_index = int(entry(vc, "revocation")["statusListIndex"])
    assert new_index not in indexes
    bits, _ = status_bits(client)
    # Bitstring Status List: a revocation is not reversible. The old index stays revoked (credentials fetched
    # before carry it); the certificate's new credentials carry a fresh index, not revoked.
    assert bit(bits, indexes[0]) == 1 and bit(bits, new_index) == 0
    message, _ = status_bits(client, MESSAGE_LIST)
    assert not any(message)


def test_public_keys_can_be_fetched_from_any_origin(client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    for url in (STATUS_LIST, MESSAGE_LIST):
        assert client.get(url).headers["Access-Control-Allow-Origin"] == "*"


# --- 6. verdict wording -------------------------------------------------------------------------------------

@pytest.mark.parametrize("language, before, last_day, expired", [
    ("en", "It is valid until {d} included", "Today, {d}, is its last valid day",
     "was valid until {d} included. It has expired since"),
    ("fr", "Il est valide jusqu’au {d} inclus", "Aujourd’hui, {d}, est son dernier jour de validité",
     "était valide jusqu’au {d} inclus"),
])
def test_expiry_is_worded_by_the_day(client, make_eligible, monkeypatch, language, before, last_day, expired):
    from flask_babel import force_locale, format_date

    make, headers = make_eligible
    trainee, track = make()
    issued = _issue(client, headers, trainee, track).json
    expires = date.fromisoformat(issued["expires_on"])
    path = urlsplit(issued["verify_url"]).path
    html = {"Accept": "text/html", "Accept-Language": language}
    with force_locale(language):
        shown = format_date(expires, "medium")

    def page_on(day: date) -> str:
        monkeypatch.setattr(clock, "today", lambda: day)
        response = client.get(path, headers=html)
        verdict = response.get_data(as_text=True).split('role="status"')[1].split("</div>")[0]
        return verdict.replace("<bdi>", "").replace("</bdi>", "")

    assert before.format(d=shown) in page_on(expires - timedelta(days=1))
    on_the_day = page_on(expires)
    assert last_day.format(d=shown) in on_the_day
    assert "expired" not in on_the_day.lower() and "expiré" not in on_the_day.lower()
    assert expired.format(d=shown) in page_on(expires + timedelta(days=1))


# --- the migration --------------------------------------------------------------------------------------------

def test_the_migration_backfills_certified_content_and_distinct_random_indexes(client, make_eligible):
    """Certificates issued before the migration get their content from today's catalogue and an index each."""
    from flask_migrate import downgrade, upgrade

    make, headers = make_eligible
    serials = []
    for _ in range(3):
        trainee, track = make()
        serials.append(_issue(client, headers, trainee, track).json["serial"])
    expected = {c.serial: json.loads(json.dumps(c.certified)) for c in db.session.scalars(sa.select(Certificate))}
    db.session.commit()
    db.session.remove()
    try:
        downgrade(revision="a3c91d7e5b20")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("certificates")}
        assert "certified" not in columns and "status_index" not in columns
    finally:
        upgrade()
    rows = db.session.execute(sa.select(Certificate.serial, Certificate.certified, Certificate.status_index)).all()
    assert {serial: certified for serial, certified, _ in rows} == expected
    indexes = [index for _, _, index in rows]
    assert len(set(indexes)) == 3 and all(0 <= i < 131_072 for i in indexes)
    answer = client.get(urlsplit(client.get(f"/api/v1/certificates/{serials[0]}", headers=headers)
                                 .json["verify_url"]).path, headers=JSON).json
    assert answer["status"] == "valid" and answer["track_title"]["fr"] == "Parcours"
