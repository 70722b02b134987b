"""Transcripts end to end: what they list, who may read them, the signed PDF and its QR code, the public page of
a transcript as issued (frozen, no cookie, every language), bad codes, purge."""
from __future__ import annotations

import hashlib
import io
import unicodedata
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import urlsplit

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
import zxingcpp

from certificates.pdf import validate_signature
from common import clock
from common.extensions import db
from maintenance import retention
from skills.models import ModuleResult, Recognition
from tests.helpers import complete_track
from transcripts import rules
from transcripts.models import Transcript

NAME_AR = "صلاح الدين العلوي"
UTC = timezone.utc


@pytest.fixture
def registry(client, admin, token_for, make_module, make_track, make_trainee, make_cohort, make_user):
    """A trainee who passed M1 (1.5 h) and M2 (2.25 h) in a cohort of track A, failed M3, passed M2 again in a
    cohort of track B, and had M4 (4 h) recognised and M5 recognised then withdrawn. A trainer teaches the
    first cohort."""
    headers = token_for(admin)
    m1, m2, m3 = make_module(hours="1.5"), make_module(hours="2.25"), make_module(hours=3)
    m4, m5 = make_module(hours=4), make_module(hours=5)
    track_a = make_track(modules=[m1.code, m2.code, m3.code], validity_months=None)
    track_b = make_track(modules=[m2.code, m4.code])
    trainee = make_trainee(name="Salah-Eddine Alaoui", name_ar=NAME_AR)
    trainer = make_user("trainer")
    cohort_a = make_cohort(track=track_a, trainees=[trainee], trainers=[trainer])
    cohort_b = make_cohort(track=track_b, trainees=[trainee])
    for cohort, records in ((cohort_a, [(m1, True), (m2, True), (m3, False)]), (cohort_b, [(m2, True)])):
        response = client.put(f"/api/v1/cohorts/{cohort.code}/results", headers=headers, json={"records": [
            {"trainee_id": trainee.id, "module": m.code, "passed": passed, "score": 90 if passed else 20}
            for m, passed in records]})
        assert response.status_code == 200, response.json
    # M2 passed in cohort A first: make the dates say so, whatever order the requests ran in.
    db.session.execute(sa.update(ModuleResult).where(ModuleResult.cohort_id == cohort_a.id).values(
        recorded_at=datetime(2026, 10, 20, 10, tzinfo=UTC)))
    db.session.execute(sa.update(ModuleResult).where(ModuleResult.cohort_id == cohort_b.id).values(
        recorded_at=datetime(2026, 11, 20, 10, tzinfo=UTC)))
    db.session.add_all([
        Recognition(trainee_id=trainee.id, module_id=m4.id, reason="Licence", recorded_by_id=admin.id,
                    recorded_at=datetime(2026, 9, 1, 10, tzinfo=UTC)),
        Recognition(trainee_id=trainee.id, module_id=m5.id, reason="Erreur", recorded_by_id=admin.id,
                    recorded_at=datetime(2026, 9, 1, 10, tzinfo=UTC), withdrawn_at=datetime(2026, 9, 2, tzinfo=UTC)),
        # M1 is also recognised: the pass in the cohort wins.
        Recognition(trainee_id=trainee.id, module_id=m1.id, reason="Cours", recorded_by_id=admin.id,
                    recorded_at=datetime(2026, 8, 1, 10, tzinfo=UTC)),
    ])
    db.session.commit()
    return {"headers": headers, "trainee": trainee, "trainer": trainer, "modules": (m1, m2, m3, m4, m5),
            "tracks": (track_a, track_b), "cohorts": (cohort_a, cohort_b)}


@pytest.fixture
def trainee_headers(registry, make_user, token_for):
    user = make_user("trainee", trainee_id=registry["trainee"].id)
    registry["user"] = user
    return token_for(user)


def _scan(pdf: bytes) -> str:
    image = pdfium.PdfDocument(pdf)[0].render(scale=150 / 72).to_pil()
    (found,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return found.text


def _text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    return unicodedata.normalize("NFKC", "\n".join(page.get_textpage().get_text_range() for page in document))


# --- what a transcript lists -------------------------------------------------------------------------------

def test_lists_each_module_once_with_how_and_exact_total(client, registry, trainee_headers):
    m1, m2, m3, m4, m5 = registry["modules"]
    cohort_a, _ = registry["cohorts"]
    body = client.get("/api/v1/me/transcript", headers=trainee_headers).json
    by_code = {m["code"]: m for m in body["modules"]}
    assert set(by_code) == {m1.code, m2.code, m4.code}  # failed M3 and withdrawn M5 absent
    assert by_code[m1.code] | {"title": None} == {
        "code": m1.code, "title": None, "hours": "1.5", "passed_on": "2026-10-20", "how": "cohort",
        "cohort": cohort_a.code, "track": registry["tracks"][0].code}
    # Passed twice: once, in the earlier cohort.
    assert (by_code[m2.code]["cohort"], by_code[m2.code]["passed_on"]) == (cohort_a.code, "2026-10-20")
    assert by_code[m4.code] | {"title": None} == {
        "code": m4.code, "title": None, "hours": "4", "passed_on": "2026-09-01", "how": "recognition",
        "cohort": None, "track": None}
    assert body["total_hours"] == "7.75"  # 1.5 + 2.25 + 4, exactly
    assert [m["code"] for m in body["modules"]] == [m4.code, m1.code, m2.code]  # in the order passed
    assert body["holder"]["name_ar"] == NAME_AR and body["certificates"] == []


def test_lists_each_certificate_with_its_status_today(client, registry, trainee_headers, monkeypatch, admin,
                                                      make_module, make_track):
    headers, trainee = registry["headers"], registry["trainee"]
    serials = {}
    for name, validity in (("valid", None), ("revoked", None), ("superseded", None), ("expired", 1)):
        module = make_module()
        track = make_track(modules=[module.code], validity_months=validity)
        complete_track(client, headers, admin, trainee, track)
        issued = client.post("/api/v1/certificates", headers=headers, json={"trainee_id": trainee.id,
                                                                             "track": track.code})
        assert issued.status_code == 201, issued.json
        serials[name] = issued.json["serial"]
    client.post(f"/api/v1/certificates/{serials['revoked']}/revoke", headers=headers, json={"reason": "Fraude"})
    renewed = client.post(f"/api/v1/certificates/{serials['superseded']}/reissue", headers=headers).json["serial"]
    monkeypatch.setattr(clock, "today", lambda: date.today() + timedelta(days=62))
    listed = {c["serial"]: c["status"] for c in client.get("/api/v1/me/transcript", headers=trainee_headers)
              .json["certificates"]}
    assert listed == {serials["valid"]: "valid", serials["revoked"]: "revoked",
                      serials["superseded"]: "superseded", renewed: "valid", serials["expired"]: "expired"}


def test_rules_rank_and_total():
    at = datetime(2026, 10, 1, tzinfo=UTC)
    passes = [rules.Passed("A", {}, Decimal("0.1"), at + timedelta(days=2), rules.COHORT, "C2", "T"),
              rules.Passed("A", {}, Decimal("0.1"), at + timedelta(days=1), rules.COHORT, "C1", "T"),
              rules.Passed("A", {}, Decimal("0.1"), at, rules.RECOGNITION),
              rules.Passed("B", {}, Decimal("0.2"), at, rules.RECOGNITION)]
    kept = rules.modules_passed(passes)
    assert [(p.code, p.how, p.cohort) for p in kept] == [("B", "recognition", None), ("A", "cohort", "C1")]
    assert rules.total_hours(kept) == Decimal("0.3")  # 0.1 + 0.2 in float would be 0.30000000000000004


# --- who may read it ----------------------------------------------------------------------------------------

def test_scope(client, registry, trainee_headers, make_user, make_trainee, token_for):
    trainee_id = registry["trainee"].id
    url = f"/api/v1/trainees/{trainee_id}/transcript"
    assert client.get(url, headers=registry["headers"]).status_code == 200  # admin
    assert client.get(url, headers=token_for(registry["trainer"])).status_code == 200  # teaches cohort A
    assert client.get(url, headers=trainee_headers).status_code == 200  # their own
    for outsider in (make_user("trainer"), make_user("governance"),
                     make_user("trainee", trainee_id=make_trainee().id)):
        response = client.get(url, headers=token_for(outsider))
        assert response.status_code == 403 and response.content_type == "application/problem+json"
    assert client.get(url).status_code == 401
    assert client.get("/api/v1/trainees/999999/transcript", headers=registry["headers"]).status_code == 404
    assert client.get("/api/v1/me/transcript", headers=registry["headers"]).status_code == 403  # not a trainee
    unlinked = client.get("/api/v1/me/transcript", headers=token_for(make_user("trainee")))
    assert unlinked.status_code == 404 and "pas encore lié" in unlinked.json["detail"]
    # Issuing for someone else is the admin's alone.
    issue = f"/api/v1/trainees/{trainee_id}/transcripts"
    assert client.post(issue, headers=token_for(registry["trainer"])).status_code == 403


# --- the signed PDF and the page its QR code opens -----------------------------------------------------------

def test_issue_sign_scan_and_see_the_frozen_page(client, app, registry, trainee_headers):
    issued = client.post("/api/v1/me/transcripts", headers=trainee_headers)
    assert issued.status_code == 201, issued.json
    body = issued.json
    assert rules.SERIAL_RE.match(body["serial"]) and body["content"]["total_hours"] == "7.75"
    pdf = client.get(body["pdf_url"], headers=trainee_headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    data = pdf.data
    assert validate_signature(data)
    from pyhanko.pdf_utils.reader import PdfFileReader
    # The signature says what it signs: a transcript, not a certificate.
    signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[0].sig_object
    assert str(signature["/Reason"]).startswith("Relevé de formation"), signature["/Reason"]
    transcript = db.session.scalar(sa.select(Transcript).where(Transcript.serial == body["serial"]))
    assert hashlib.sha256(data).hexdigest() == transcript.pdf_sha256
    text = _text(data)
    # The Arabic heading shares its line with the French one (and comes out word by word); the name has its own.
    for expected in ("Relevé de formation", "كشف", "التكوين", "الوحدات", "المكتسبة", "Salah-Eddine Alaoui",
                     "Total : 7,75 h", body["serial"], body["verification_code"], "Reconnaissance"):
        assert expected in text, expected
    assert unicodedata.normalize("NFKC", NAME_AR) in text.splitlines()
    assert _scan(data) == body["verify_url"]
    path = urlsplit(body["verify_url"]).path
    page = app.test_client().get(path, headers={"Accept-Language": "fr"})
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "<bdi lang=\"fr\">Salah-Eddine Alaoui</bdi>" in html and NAME_AR in html
    assert "7,75" in html and "Reconnaissance des acquis" in html
    as_json = app.test_client().get(path, headers={"Accept": "application/json"}).json
    assert as_json["status"] == "issued" and as_json["total_hours"] == "7.75"
    # Asking again the same day with nothing changed gives back the same transcript: no new row.
    again = client.post("/api/v1/me/transcripts", headers=trainee_headers)
    assert again.status_code == 200 and again.json["serial"] == body["serial"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Transcript)) == 1


def test_later_edits_do_not_change_an_issued_transcript(client, app, registry, trainee_headers):
    headers = registry["headers"]
    m1, _, m3, _, _ = registry["modules"]
    cohort_a, _ = registry["cohorts"]
    first = client.post("/api/v1/me/transcripts", headers=trainee_headers).json
    path = urlsplit(first["verify_url"]).path
    before = app.test_client().get(path, headers={"Accept": "application/json"}).json
    # A catalogue edit, a new result.
    edited = client.put(f"/api/v1/modules/{m1.code}", headers=headers, json={
        "hours": 10, "title": {"fr": "Titre changé", "ar": "عنوان", "en": "Changed"}})
    assert edited.status_code == 200, edited.json
    client.put(f"/api/v1/cohorts/{cohort_a.code}/results", headers=headers, json={"records": [
        {"trainee_id": registry["trainee"].id, "module": m3.code, "passed": True, "score": 70}]})
    after = app.test_client().get(path, headers={"Accept": "application/json"}).json
    assert after == before and after["total_hours"] == "7.75"
    assert "Titre changé" not in app.test_client().get(path).get_data(as_text=True)
    pdf = client.get(first["pdf_url"], headers=trainee_headers).data
    assert "Titre changé" not in _text(pdf)
    # Today's transcript has changed, so issuing again makes a new one.
    second = client.post("/api/v1/me/transcripts", headers=trainee_headers)
    assert second.status_code == 201 and second.json["serial"] != first["serial"]
    assert second.json["content"]["total_hours"] == str(Decimal("2.25") + 4 + 10 + 3)


@pytest.mark.parametrize("lang, heading", [("fr", "Relevé tel que délivré"), ("ar", "الكشف كما سُلّم"),
                                           ("en", "Transcript as issued"), ("zgh", "ⴰⵎⵙⵉⵊⵊⵍ ⴰⵎⵎ ⵉⵜⵜⵓⴼⴽⴰ")])
def test_public_page_in_every_language(client, app, registry, trainee_headers, lang, heading):
    url = client.post("/api/v1/me/transcripts", headers=trainee_headers).json["verify_url"]
    page = app.test_client().get(f"{urlsplit(url).path}?lang={lang}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'lang="{lang}"' in html and heading in html
    assert "Set-Cookie" not in page.headers


def test_bad_codes_say_not_found_without_leaking(client, app, registry, trainee_headers):
    body = client.post("/api/v1/me/transcripts", headers=trainee_headers).json
    serial, code = body["serial"], body["verification_code"]
    public = app.test_client()
    wrong = public.get(f"/t/{serial}/ZZZZ-ZZZZ", headers={"Accept": "application/json"})
    unknown = public.get(f"/t/KT-1999-000001/{code}", headers={"Accept": "application/json"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json == unknown.json == {"status": "not_found"}
    for path in (f"/t/{serial}/{'A' * 500}", "/t/nonsense/x", f"/t/{serial}/{code}%00"):
        assert public.get(path).status_code == 404
    page = public.get(f"/t/{serial}/ZZZZ-ZZZZ?lang=fr").get_data(as_text=True)
    assert "Aucun relevé ne correspond" in page and "Salah" not in page
    # Typed loosely (lower case, no dash) it is still found, as certificate codes are.
    assert public.get(f"/t/{serial}/{code.replace('-', '').lower()}").status_code == 200


def test_a_record_edited_in_the_database_is_not_genuine(client, app, registry, trainee_headers):
    body = client.post("/api/v1/me/transcripts", headers=trainee_headers).json
    transcript = db.session.scalar(sa.select(Transcript).where(Transcript.serial == body["serial"]))
    transcript.content = {**transcript.content, "total_hours": "700"}
    db.session.commit()
    response = app.test_client().get(urlsplit(body["verify_url"]).path, headers={"Accept": "application/json"})
    assert response.status_code == 409 and response.json == {"status": "altered"}


def test_a_purged_holders_transcript_no_longer_exists(client, app, registry, trainee_headers):
    body = client.post("/api/v1/me/transcripts", headers=trainee_headers).json
    retention._anonymise_people([registry["trainee"].id], datetime.now(UTC))
    db.session.commit()
    path = urlsplit(body["verify_url"]).path
    page = app.test_client().get(f"{path}?lang=fr")
    assert page.status_code == 410
    html = page.get_data(as_text=True)
    assert "n’existe plus" in html and "Salah" not in html
    row = db.session.scalar(sa.select(Transcript).where(Transcript.serial == body["serial"]))
    assert row.content == {} and row.pdf is None
    download = client.get(body["pdf_url"], headers=registry["headers"])
    assert download.status_code == 404 and "conservation" in download.json["detail"]
    refused = client.post(f"/api/v1/trainees/{registry['trainee'].id}/transcripts", headers=registry["headers"])
    assert refused.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Transcript)) == 1


# --- the web pages ------------------------------------------------------------------------------------------

def test_trainee_downloads_from_their_progress_page(client, registry, trainee_headers, login, make_user,
                                                    make_trainee):
    login(registry["user"])
    page = client.get("/me/progress").get_data(as_text=True)
    assert "/me/transcript" in page and "Télécharger mon relevé" in page
    response = client.post("/me/transcript")
    assert response.status_code == 302 and response.location.endswith(".pdf")
    pdf = client.get(response.location)
    assert pdf.status_code == 200 and validate_signature(pdf.data)
    assert "Salah-Eddine Alaoui" in _text(pdf.data)
    serial = urlsplit(response.location).path.rsplit("/", 1)[1].removesuffix(".pdf")
    # Another trainee cannot download it; a trainer sees no button.
    login(make_user("trainee", trainee_id=make_trainee().id))
    assert client.get(f"/transcripts/{serial}.pdf").status_code == 404
    login(registry["trainer"])
    assert "/transcript" not in client.get(f"/trainees/{registry['trainee'].id}").get_data(as_text=True)
    assert client.post(f"/trainees/{registry['trainee'].id}/transcript").status_code == 403


def test_admin_downloads_for_a_trainee(client, registry, login, admin):
    login(admin)
    trainee_id = registry["trainee"].id
    assert f"/trainees/{trainee_id}/transcript" in client.get(f"/trainees/{trainee_id}").get_data(as_text=True)
    response = client.post(f"/trainees/{trainee_id}/transcript")
    assert response.status_code == 302
    pdf = client.get(response.location)
    assert pdf.status_code == 200 and validate_signature(pdf.data)


def test_a_long_transcript_flows_onto_more_pages_each_with_its_qr_code():
    from transcripts.pdf import Issue, render_transcript

    modules = [{"code": f"M{n:03d}", "title": {"fr": f"Module {n}", "ar": f"وحدة {n}", "en": ""}, "hours": "1.5",
                "passed_on": "2026-10-01", "how": "cohort" if n % 2 else "recognition",
                "cohort": "C1" if n % 2 else None, "track": "T1" if n % 2 else None} for n in range(70)]
    certificates = [{"serial": f"KF-2026-{n:06d}", "track": "T1", "title": {"fr": "Parcours", "ar": "مسار", "en": ""},
                     "status": "valid", "issued_on": "2026-10-01", "expires_on": None} for n in range(12)]
    record = {"version": 1, "holder": {"name": "Zoé Ñúñez", "name_ar": NAME_AR, "name_tfng": None},
              "modules": modules, "certificates": certificates, "total_hours": "105", "issuer": {"fr": "Kafaa"}}
    url = "https://kafaa.test/t/KT-2026-000009/ABCD-EFGH"
    pdf = render_transcript(record, Issue("KT-2026-000009", date(2026, 12, 1), url, "ABCD-EFGH", "kafaa.test"))
    document = pdfium.PdfDocument(pdf)
    assert len(document) >= 2
    text = _text(pdf)
    assert all(m["code"] in text for m in modules) and all(c["serial"] in text for c in certificates)
    assert "Total : 105 h" in text
    for page in document:
        found = zxingcpp.read_barcodes(page.render(scale=150 / 72).to_pil(), formats=zxingcpp.BarcodeFormat.QRCode)
        assert [b.text for b in found] == [url]
