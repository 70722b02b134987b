"""Certificates end to end: issue, print, scan, verify, revoke, expire, reissue, check a PDF file."""
from __future__ import annotations

import io
import threading
import zipfile
from datetime import date, timedelta
from urllib.parse import urlsplit

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
import zxingcpp
from hypothesis import HealthCheck, given, settings, strategies as st

from app import create_app
from certificates.models import Certificate, VerificationCount
from certificates.pdf import validate_signature
from common import clock
from common.extensions import db
from tests.helpers import TEST_CONFIG, complete_track, table_counts

PUBLIC_FIELDS = {"status", "serial", "holder", "holder_ar", "track", "issued_on", "expires_on", "issuer"}


@pytest.fixture
def make_eligible(client, admin, token_for, make_track, make_trainee):
    """A trainee who passed every module of a track with full attendance, and the admin's headers."""
    headers = token_for(admin)
    track = make_track(validity_months=24)

    def make(**trainee_fields):
        trainee = make_trainee(**trainee_fields)
        complete_track(client, headers, admin, trainee, track)
        return trainee, track
    return make, headers


def _issue(client, headers, trainee, track):
    return client.post("/api/v1/certificates", headers=headers, json={"trainee_id": trainee.id, "track": track.code})


def _scan(pdf: bytes) -> str:
    image = pdfium.PdfDocument(pdf)[0].render(scale=150 / 72).to_pil()
    (found,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return found.text


def _verify(client, url: str, json: bool = True):
    path = urlsplit(url).path
    return client.get(path, headers={"Accept": "application/json"} if json else {"Accept": "text/html"})


def test_issue_scan_and_verify(client, make_eligible, make_user):
    make, headers = make_eligible
    trainee, track = make(name="Fatima Zahra El Idrissi", name_ar="فاطمة الزهراء الإدريسي", name_tfng="ⴼⴰⵟⵉⵎⴰ")
    response = _issue(client, headers, trainee, track)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "valid" and body["serial"].startswith(f"KF-{clock.today().year}-")
    assert body["verify_url"].startswith("https://kafaa.test/v/")
    assert body["expires_on"] == clock.today().replace(year=clock.today().year + 2).isoformat() or body["expires_on"]

    # The holder downloads the PDF, a phone scans its QR code, the employer sees "valid".
    holder = make_user("trainee", trainee_id=trainee.id)
    from tests.helpers import PASSWORD
    token = client.post("/api/v1/tokens", json={"email": holder.email, "password": PASSWORD}).json["token"]
    mine = client.get("/api/v1/me/certificates", headers={"Authorization": f"Bearer {token}"}).json["items"]
    assert [c["serial"] for c in mine] == [body["serial"]]
    pdf = client.get(mine[0]["pdf_url"], headers={"Authorization": f"Bearer {token}"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert validate_signature(pdf.data)
    url = _scan(pdf.data)
    assert url == body["verify_url"]
    check = _verify(client, url)
    assert check.status_code == 200
    assert check.json["status"] == "valid"
    assert PUBLIC_FIELDS <= set(check.json)
    assert check.json["holder_ar"] == "فاطمة الزهراء الإدريسي"
    for private in ("email", "employer", "trainee_id", "score", "gender"):
        assert private not in check.json and trainee.email not in check.get_data(as_text=True)
    assert check.headers["Cache-Control"] == "no-store"
    assert "noindex" in check.headers["X-Robots-Tag"]
    page = _verify(client, url, json=False)
    assert page.status_code == 200 and "فاطمة الزهراء الإدريسي" in page.get_data(as_text=True)
    assert trainee.email not in page.get_data(as_text=True)
    # Each check was counted, with no visitor detail.
    assert db.session.scalar(sa.select(sa.func.sum(VerificationCount.count))) == 2


def test_issuing_again_returns_the_same_certificate(client, make_eligible):
    make, headers = make_eligible
    trainee, track = make()
    first = _issue(client, headers, trainee, track)
    again = _issue(client, headers, trainee, track)
    assert again.status_code == 200 and again.json["serial"] == first.json["serial"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1


def test_not_eligible_lists_each_unmet_requirement(client, admin, token_for, make_track, make_trainee, make_cohort):
    headers = token_for(admin)
    track = make_track()
    trainee = make_trainee()
    make_cohort(track=track, trainees=[trainee])
    before = table_counts()
    response = client.post("/api/v1/certificates", headers={**headers, "Accept-Language": "en"},
                           json={"trainee_id": trainee.id, "track": track.code})
    assert response.status_code == 422
    kinds = sorted((m["type"], m.get("module")) for m in response.json["missing"])
    assert kinds == sorted([("attendance", None)] + [("module", m.code) for m in track.modules])
    assert all(m["message"] for m in response.json["missing"])
    assert table_counts() == before
    assert client.post("/api/v1/certificates", headers=headers, json={"trainee_id": 9999, "track": track.code}
                       ).status_code == 404
    assert client.post("/api/v1/certificates", headers=headers, json={"trainee_id": "x"}).status_code == 422


def test_another_trainee_cannot_get_the_pdf(client, make_eligible, make_user, login):
    make, headers = make_eligible
    trainee, track = make()
    serial = _issue(client, headers, trainee, track).json["serial"]
    other = make_user("trainee", trainee_id=make(email="other@example.ma")[0].id)
    login(other)
    assert client.get(f"/certificates/{serial}.pdf").status_code == 404
    owner = make_user("trainee", trainee_id=trainee.id)
    login(owner)
    assert client.get(f"/certificates/{serial}.pdf").status_code == 200
    assert serial in client.get("/me/certificates").get_data(as_text=True)


def test_revoked_shows_at_once_with_its_date_and_a_marked_pdf(client, make_eligible):
    make, headers = make_eligible
    trainee, track = make()
    issued = _issue(client, headers, trainee, track).json
    refused = client.post(f"/api/v1/certificates/{issued['serial']}/revoke", headers=headers, json={"reason": ""})
    assert refused.status_code == 422
    revoked = client.post(f"/api/v1/certificates/{issued['serial']}/revoke", headers=headers,
                          json={"reason": "Fraude à l'examen"})
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    check = _verify(client, issued["verify_url"])
    assert check.json["status"] == "revoked" and check.json["revoked_on"] == clock.today().isoformat()
    assert client.post(f"/api/v1/certificates/{issued['serial']}/revoke", headers=headers,
                       json={"reason": "again"}).status_code == 409
    pdf = client.get(issued["pdf_url"], headers=headers).data
    text = pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "REVOKED" in text or "RÉVOQUÉ" in text


def test_expired_after_its_validity(client, make_eligible, monkeypatch):
    make, headers = make_eligible
    trainee, track = make()
    issued = _issue(client, headers, trainee, track).json
    expires = date.fromisoformat(issued["expires_on"])
    monkeypatch.setattr(clock, "today", lambda: expires)
    assert _verify(client, issued["verify_url"]).json["status"] == "valid"  # valid through its last day
    monkeypatch.setattr(clock, "today", lambda: expires + timedelta(days=1))
    assert _verify(client, issued["verify_url"]).json["status"] == "expired"
    # Asking again renews it: a new certificate, the old one superseded.
    renewed = _issue(client, headers, trainee, track)
    assert renewed.status_code == 201 and renewed.json["serial"] != issued["serial"]
    old = _verify(client, issued["verify_url"]).json
    assert old["status"] == "superseded" and old["superseded_by"] == renewed.json["serial"]


def test_reissue_supersedes_with_the_corrected_name(client, make_eligible):
    make, headers = make_eligible
    trainee, track = make(name="Youssef Alaoi")
    old = _issue(client, headers, trainee, track).json
    client.put(f"/api/v1/trainees/{trainee.id}", headers=headers, json={
        "name": "Youssef Alaoui", "name_ar": trainee.name_ar, "email": trainee.email, "category": trainee.category,
        "sector": trainee.sector, "region": trainee.region})
    new = client.post(f"/api/v1/certificates/{old['serial']}/reissue", headers=headers)
    assert new.status_code == 201 and new.json["holder"] == "Youssef Alaoui"
    check = _verify(client, old["verify_url"]).json
    assert check["status"] == "superseded" and check["superseded_by"] == new.json["serial"]
    assert _verify(client, new.json["verify_url"]).json["status"] == "valid"
    assert client.post(f"/api/v1/certificates/{old['serial']}/reissue", headers=headers).status_code == 409


@pytest.fixture
def issued_token(client, make_eligible):
    make, headers = make_eligible
    trainee, track = make()
    return urlsplit(_issue(client, headers, trainee, track).json["verify_url"]).path.rsplit("/", 1)[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), digit=st.sampled_from("0123456789"))
def test_no_single_altered_character_ever_verifies(client, issued_token, position, digit):
    position %= len(issued_token)
    if issued_token[position] == digit:
        digit = str((int(digit) + 1) % 10)
    altered = issued_token[:position] + digit + issued_token[position + 1:]
    response = client.get(f"/v/{altered}", headers={"Accept": "application/json"})
    assert response.status_code in (400, 404)
    assert response.json["status"] in ("invalid", "not_found")


@pytest.mark.parametrize("garbage", ["abc", "0" * 400, "9" * 5000, "١٢٣", "12345678901234567890", "%00",
                                     "<script>", "1" * 1025])
def test_garbage_gets_a_4xx_never_a_500(client, garbage):
    response = client.get(f"/v/{garbage}", headers={"Accept": "application/json"})
    assert 400 <= response.status_code < 500
    assert response.json["status"] in ("invalid", "not_found")


@pytest.mark.multiprocess  # another app, on its own connection, reads the certificate
def test_a_verifier_with_an_unknown_key_sees_invalid(client, issued_token, app, tmp_path, new_app):
    other = new_app({"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "KEYS_DIR": str(tmp_path / "other-keys")})
    response = other.test_client().get(f"/v/{issued_token}", headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.json["status"] == "invalid"


def test_database_down_answers_503_never_valid(issued_token, app, tmp_path, new_app):
    broken = new_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "KEYS_DIR": app.config["KEYS_DIR"]})
    response = broken.test_client().get(f"/v/{issued_token}", headers={"Accept": "application/json"})
    assert response.status_code == 503 and response.json["status"] == "unavailable"
    page = broken.test_client().get(f"/v/{issued_token}", headers={"Accept-Language": "en"})
    assert page.status_code == 503 and "Cannot check now" in page.get_data(as_text=True)
    assert "Valid certificate" not in page.get_data(as_text=True)


def test_typed_serial_and_code(client, make_eligible):
    make, headers = make_eligible
    trainee, track = make()
    issued = _issue(client, headers, trainee, track).json
    code = issued["verification_code"].lower().replace("-", " ")
    # A read-only GET form: the check writes nothing a visitor could be tricked into.
    ok = client.get("/verify", query_string={"serial": issued["serial"], "code": code},
                    headers={"Accept-Language": "en"})
    assert ok.status_code == 200 and "Valid certificate" in ok.get_data(as_text=True)
    wrong = client.get("/verify", query_string={"serial": issued["serial"], "code": "ZZZZ-ZZZZ"},
                       headers={"Accept-Language": "en"})
    # A slip of the keyboard is not a forgery: the page says the code does not match and to check it.
    text = wrong.get_data(as_text=True)
    assert wrong.status_code == 404 and "The code does not match" in text and "Check what you typed" in text
    assert "Not genuine" not in text and "Do not trust" not in text
    assert issued["holder"] not in text  # nothing of the certificate is shown for a wrong code
    unknown = client.get("/verify", query_string={"serial": "KF-1999-000001", "code": code})
    assert unknown.status_code == 404


def test_check_a_pdf_file(client, make_eligible):
    make, headers = make_eligible
    trainee, track = make()
    issued = _issue(client, headers, trainee, track).json
    original = client.get(issued["pdf_url"], headers=headers).data
    altered = bytearray(original)
    altered[len(altered) // 2] ^= 0x01
    assert not validate_signature(bytes(altered))
    good = client.post("/verify", data={"pdf": (io.BytesIO(original), "c.pdf")},
                       headers={"Accept-Language": "en"}, content_type="multipart/form-data")
    assert good.status_code == 200 and "unaltered original" in good.get_data(as_text=True)
    bad = client.post("/verify", data={"pdf": (io.BytesIO(bytes(altered)), "c.pdf")},
                      headers={"Accept-Language": "en"}, content_type="multipart/form-data")
    assert bad.status_code == 422 and "Not an original" in bad.get_data(as_text=True)


def test_jwks_publishes_keys_and_rotation_keeps_old_certificates_valid(client, app, issued_token, tmp_path):
    first = client.get("/.well-known/jwks.json").json["keys"]
    assert first and all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and k["alg"] == "EdDSA" for k in first)
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    keys = client.get("/.well-known/jwks.json").json["keys"]
    assert len(keys) == len(first) + 1 and {k["kid"] for k in first} < {k["kid"] for k in keys}
    assert client.get(f"/v/{issued_token}", headers={"Accept": "application/json"}).json["status"] == "valid"


@pytest.mark.multiprocess  # apps of their own issue from threads at once
def test_serials_are_sequential_and_never_shared_under_concurrency(app, make_eligible, client):
    make, headers = make_eligible
    pairs = [make() for _ in range(6)]
    db.session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    errors, serials = [], []

    # One application per worker, as with several instances; built here since Python 3.11 can fail to
    # compile code in several threads at once.
    workers = [create_app({**TEST_CONFIG, "DATABASE_URL": url, "KEYS_DIR": app.config["KEYS_DIR"],
                           "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 30}} if url.startswith("sqlite")
                           else {}}) for _ in pairs]
    for worker in workers:  # warm the code paths before racing
        with worker.app_context():
            from certificates.keys import keystore, pdf_signer
            keystore(), pdf_signer()

    def issue(worker, trainee_id, track_id):
        with worker.app_context():
            from certificates.operations import issue_certificate
            from skills.models import Track, Trainee
            try:
                certificate, _ = issue_certificate(None, db.session.get(Trainee, trainee_id),
                                                   db.session.get(Track, track_id))
                db.session.commit()
                serials.append(certificate.serial)
            except Exception as error:  # collected and asserted below
                errors.append(repr(error))
            finally:
                db.session.remove()
                db.engine.dispose()

    threads = [threading.Thread(target=issue, args=(w, t.id, tr.id)) for w, (t, tr) in zip(workers, pairs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(int(s.rsplit("-", 1)[1]) for s in serials)
    assert numbers == list(range(1, 7))


def test_bulk_issuance_from_the_cohort_page(client, app, login, admin, make_eligible, make_trainee):
    app.config["JOBS_SYNCHRONOUS"] = True
    make, headers = make_eligible
    trainee, track = make()
    from skills.models import Cohort
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.track_id == track.id))
    late = make_trainee()
    client.post(f"/api/v1/cohorts/{cohort.code}/enrollments", headers=headers, json={"trainee_ids": [late.id]})
    login(admin)
    url = f"/cohorts/{cohort.code}/certificates"
    assert "Please confirm" in client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    response = client.post(url)
    assert response.status_code == 302
    job_page = client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Issued now: 1" in job_page and "Not eligible yet: 1" in job_page
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert client.get(f"/api/v1/jobs/{job_id}", headers=headers).json["status"] == "done"
    with client.get(f"/jobs/{job_id}/download") as download:
        archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert len(archive.namelist()) == 1 and archive.namelist()[0].endswith(".pdf")
    # Again: nobody gets two.
    again = client.post(url)
    again_page = client.get(again.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Issued now: 0" in again_page and "Already held a certificate: 1" in again_page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1


def test_bulk_issuance_command(app, make_eligible):
    make, _ = make_eligible
    trainee, track = make()
    from skills.models import Cohort
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.track_id == track.id))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["certificates", "issue", "--cohort", cohort.code])
    assert first.exit_code == 0 and "Issued 1" in first.output, first.output
    second = runner.invoke(args=["certificates", "issue", "--cohort", cohort.code])
    assert "Issued 0, already held 1" in second.output
    assert runner.invoke(args=["certificates", "issue", "--cohort", "NOPE"]).exit_code != 0


def test_verification_counts_are_buffered_then_written(client, app, issued_token):
    from certificates.operations import verification_counter

    verification_counter.flush()
    db.session.commit()
    total = sa.select(sa.func.coalesce(sa.func.sum(VerificationCount.count), 0))
    before = db.session.scalar(total)
    app.config["VERIFICATION_FLUSH_SECONDS"] = 3600
    for _ in range(3):
        assert client.get(f"/v/{issued_token}", headers={"Accept": "application/json"}).json["status"] == "valid"
    assert db.session.scalar(total) == before  # not written yet
    verification_counter.flush()
    db.session.commit()
    assert db.session.scalar(total) == before + 3


def test_a_head_request_reads_no_verdict_and_is_not_counted(client, app, issued_token):
    """"Checked N times by employers" counts checks: a HEAD request (a crawler's, a link checker's) answers
    without a verdict and adds nothing."""
    from certificates.operations import verification_counter

    verification_counter.flush()
    db.session.commit()
    total = sa.select(sa.func.coalesce(sa.func.sum(VerificationCount.count), 0))
    before = db.session.scalar(total)
    path = f"/v/{issued_token}"
    certificate = db.session.scalars(sa.select(Certificate)).first()
    typed = f"/verify?serial={certificate.serial}&code={certificate.verification_code}"
    for url in (path, typed):
        head = client.head(url, headers={"Accept": "text/html"})
        assert head.status_code == 200 and head.data == b""
    verification_counter.flush()
    db.session.commit()
    assert db.session.scalar(total) == before
    assert client.get(path, headers={"Accept": "application/json"}).json["status"] == "valid"
    assert "verdict-valid" in client.get(typed, headers={"Accept": "text/html"}).get_data(as_text=True)
    verification_counter.flush()
    db.session.commit()
    assert db.session.scalar(total) == before + 2


@pytest.mark.multiprocess  # a second instance, on its own connection
def test_a_revocation_shows_at_once_on_every_instance(client, make_eligible, app, new_app):
    """Verification caches nothing: another instance on the same registry sees the revocation on its next check."""
    make, headers = make_eligible
    trainee, track = make()
    issued = _issue(client, headers, trainee, track).json
    other = new_app({"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "KEYS_DIR": app.config["KEYS_DIR"]})
    other_client = other.test_client()
    assert _verify(other_client, issued["verify_url"]).json["status"] == "valid"
    client.post(f"/api/v1/certificates/{issued['serial']}/revoke", headers=headers, json={"reason": "Erreur"})
    assert _verify(other_client, issued["verify_url"]).json["status"] == "revoked"


def test_a_verification_answer_shows_the_tracks_modules_in_order(client, make_eligible):
    make, headers = make_eligible
    trainee, track = make()
    check = _verify(client, _issue(client, headers, trainee, track).json["verify_url"]).json
    assert [m["code"] for m in check["modules"]] == sorted(m.code for m in track.modules)
    assert [m["hours"] for m in check["modules"]] == [float(m.hours) for m in sorted(track.modules, key=lambda m: m.code)]
    assert check["track_title"] == {"fr": track.title_fr, "ar": track.title_ar, "en": track.title_en}


def test_a_public_verification_sets_no_session_cookie(app, issued_token):
    response = app.test_client().get(f"/v/{issued_token}", headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json["status"] == "valid"
    assert "Set-Cookie" not in response.headers

