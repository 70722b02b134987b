"""Imports of trainees and attendance from real spreadsheet files, built here as people save them: CSV with
a BOM, semicolons and French headers, Arabic names and blank trailing rows; XLSX made with openpyxl."""
from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from audit.models import AuditEntry
from common.extensions import db
from skills.models import Attendance, Enrollment, Trainee
from tests.helpers import table_counts

FRENCH_HEADER = ["nom", "courriel", "catégorie", "secteur", "région", "nom_ar", "nom_tfng", "genre", "employeur"]
ENGLISH_HEADER = ["name", "email", "category", "sector", "region", "name_ar", "name_tfng", "gender", "employer"]


def csv_file(rows: list[list], *, sep: str = ";", bom: bool = True, blank_tail: int = 2) -> bytes:
    """A CSV as a spreadsheet in a French locale saves it: BOM, semicolons, CRLF, blank rows at the end."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\r\n")
    writer.writerows(rows)
    for _ in range(blank_tail):
        writer.writerow([""] * len(rows[0]))
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode("utf-8")


def xlsx_file(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, url: str, headers: dict, content: bytes, filename: str = "stagiaires.csv", **fields):
    data = {"file": (io.BytesIO(content), filename), **{k: str(v).lower() if isinstance(v, bool) else v
                                                        for k, v in fields.items()}}
    return client.post(url, data=data, headers=headers, content_type="multipart/form-data")


@pytest.fixture
def api(client, admin, token_for):
    """POST a trainee file as the admin, French messages."""
    token = token_for(admin)  # made now, so that table_counts() taken later see no new row

    def post(content: bytes, filename: str = "stagiaires.csv", lang: str = "fr", **fields):
        headers = {**token, "Accept-Language": lang}
        return upload(client, "/api/v1/imports/trainees", headers, content, filename, **fields)
    return post


def _row(name, email, **kw):
    values = {"catégorie": "Ingénieur", "secteur": "Santé", "région": "Rabat-Salé-Kénitra", "nom_ar": "اسم",
              "nom_tfng": "", "genre": "F", "employeur": "Ministère de la Santé", **kw}
    return [name, email] + [values[h] for h in FRENCH_HEADER[2:]]


# --- trainees: dry run --------------------------------------------------------------------------------

def test_dry_run_reads_a_french_csv_with_bom_semicolons_arabic_and_blank_rows(api, make_trainee):
    existing = make_trainee(email="salma.idrissi@example.ma", name="Salma Idrissi", name_ar="سلمى الإدريسي",
                            employer="ONEE", gender="f", category="engineer", sector="health",
                            region="rabat-sale-kenitra")
    same = make_trainee(email="omar@example.ma", name="Omar Tazi", name_ar="عمر التازي", gender="m",
                        category="researcher", sector="education", region="oriental", employer="")
    content = csv_file([
        FRENCH_HEADER,
        _row("Fatima Zahra El Amrani", "fz.elamrani@example.ma", nom_ar="فاطمة الزهراء العمراني",
             nom_tfng="ⴼⴰⵟⵉⵎⴰ", catégorie="ingénieure", secteur="sante", région="rabat sale kenitra"),
        _row("Salma Idrissi", "Salma.Idrissi@Example.ma", nom_ar="سلمى الإدريسي", employeur="Ministère de la Santé"),
        ["Omar Tazi", "omar@example.ma", "chercheur", "Éducation", "Oriental", "عمر التازي", "", "homme", ""],
    ])
    before = table_counts()
    response = api(content, dry_run=True)
    assert response.status_code == 200, response.json
    assert response.json == {
        "dry_run": True, "file": "stagiaires.csv", "rows": 3, "created": 1, "updated": 1, "unchanged": 1,
        "cohort": None, "enrolled": 0, "ignored_columns": [], "errors": [], "error_count": 0}
    assert table_counts() == before  # a dry run writes nothing
    assert db.session.get(Trainee, existing.id).employer == "ONEE"
    assert same.id


def test_dry_run_numbers_rows_as_a_spreadsheet_shows_them(api, make_trainee):
    make_trainee(email="taken@example.ma")
    content = csv_file([
        FRENCH_HEADER,                                                         # row 1
        _row("Amine Berrada", "amine@example.ma"),                             # row 2: fine
        _row("Sans Courriel", "pas-une-adresse"),                              # row 3: bad email
        [""] * 9,                                                              # row 4: blank, still counted
        _row("Nadia Alaoui", "nadia@example.ma", secteur="Pêche"),             # row 5: unknown sector
        _row("Amine Bis", "AMINE@example.ma"),                                 # row 6: email already on row 2
        _row("", "sans.nom@example.ma", région="Atlantide", nom_ar=""),        # row 7: three faults
    ])
    response = api(content, dry_run="true")
    assert response.status_code == 200
    body = response.json
    assert (body["created"], body["updated"], body["error_count"]) == (1, 0, 6)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [
        (3, "courriel"), (5, "secteur"), (6, "courriel"), (7, "nom"), (7, "région"), (7, "nom_ar")]
    messages = {(e["row"], e["column"]): e["message"] for e in body["errors"]}
    assert messages[(3, "courriel")] != "This is not a valid email address."  # in French
    assert "Pêche" in messages[(5, "secteur")] and "inconnue" in messages[(5, "secteur")]
    assert "2" in messages[(6, "courriel")]
    assert messages[(7, "nom")] == "Ce champ est obligatoire."


def test_messages_follow_the_readers_language(client, admin, token_for):
    content = csv_file([ENGLISH_HEADER, ["A", "bad", "engineer", "health", "oriental", "ا", "", "", ""]], sep=",")
    response = upload(client, "/api/v1/imports/trainees", {**token_for(admin), "Accept-Language": "en"}, content)
    assert response.json["errors"] == [{"row": 2, "column": "email", "message": "This is not a valid email address.",
                                        "value": "bad"}]
    response = upload(client, "/api/v1/imports/trainees", {**token_for(admin), "Accept-Language": "ar"}, content)
    assert re.search(r"[\u0620-\u064a]", response.json["errors"][0]["message"])


def test_xlsx_with_english_headers_numbers_and_a_blank_row(api):
    content = xlsx_file([
        ["Name", "E-mail", "Category", "Sector", "Region", "Name_AR", "Gender", "Employer", "Notes"],
        ["Youssef Amrani", "youssef@example.ma", "official", "justice", "Fès-Meknès", "يوسف العمراني", "m", 212600, "x"],
        [None] * 9,
        ["Hind Chraibi", "hind@example.ma", "Researcher", "Agriculture", "souss-massa", "هند الشرايبي", None, "INRA", None],
        ["Bad", "bad@example.ma", "astronaut", "justice", "oriental", "سيء", "x", None, None],
    ])
    response = api(content, "stagiaires.xlsx", dry_run=True)
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["created"], body["ignored_columns"]) == (2, ["Notes"])
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(5, "Category"), (5, "Gender")]


# --- trainees: commit ---------------------------------------------------------------------------------

def test_a_commit_with_any_bad_row_answers_422_and_writes_nothing(api, make_trainee, make_cohort):
    make_trainee(email="known@example.ma")
    cohort = make_cohort()
    content = csv_file([FRENCH_HEADER, _row("Good One", "good@example.ma"),
                        _row("Known", "known@example.ma", employeur="Nouveau"), _row("Bad", "bad@example.ma", genre="?")])
    before = table_counts()
    response = api(content, dry_run=False, cohort=cohort.code)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"] == [{"row": 4, "column": "genre", "message": response.json["errors"][0]["message"],
                                        "value": "?"}]
    assert response.json["created"] == 1 and response.json["updated"] == 1
    assert table_counts() == before


def test_commit_creates_updates_by_email_enrols_and_audits_once(api, admin, make_trainee, make_cohort):
    old = make_trainee(email="rachid@example.ma", name="Rachid B.", employer="Old employer")
    already = make_trainee(email="enrolled@example.ma")
    cohort = make_cohort(trainees=[already])
    content = xlsx_file([
        ENGLISH_HEADER,
        ["Rachid Bennani", "RACHID@example.ma", "engineer", "health", "oriental", "رشيد بناني", "", "m", "ANRT"],
        ["Kenza Tahiri", "kenza@example.ma", "researcher", "education", "casablanca-settat", "كنزة الطاهري",
         "ⴽⵏⵣⴰ", "f", "UM5"],
        [already.name, already.email, already.category, already.sector, already.region, already.name_ar, None,
         already.gender, already.employer],
    ])
    response = api(content, "people.xlsx", dry_run=False, cohort=cohort.code)
    assert response.status_code == 200, response.json
    assert {k: response.json[k] for k in ("created", "updated", "unchanged", "enrolled")} == {
        "created": 1, "updated": 1, "unchanged": 1, "enrolled": 2}
    db.session.expire_all()
    rachid = db.session.get(Trainee, old.id)
    assert (rachid.name, rachid.name_ar, rachid.employer, rachid.region) == ("Rachid Bennani", "رشيد بناني", "ANRT",
                                                                             "oriental")
    kenza = db.session.scalar(sa.select(Trainee).where(Trainee.email == "kenza@example.ma"))
    assert (kenza.name_ar, kenza.name_tfng, kenza.gender) == ("كنزة الطاهري", "ⴽⵏⵣⴰ", "f")
    enrolled = set(db.session.scalars(sa.select(Enrollment.trainee_id).where(Enrollment.cohort_id == cohort.id)))
    assert enrolled == {old.id, kenza.id, already.id}
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "trainee.import")).all()
    assert len(entries) == 1 and entries[0].actor_id == admin.id
    assert entries[0].after["created"] == [kenza.id]
    assert entries[0].after["updated"] == {str(old.id): {"name": "Rachid Bennani", "name_ar": "رشيد بناني",
                                                         "region": "oriental", "gender": "m", "employer": "ANRT"}}
    assert entries[0].before[str(old.id)]["employer"] == "Old employer"


def test_an_update_keeps_what_the_file_does_not_say(api, make_trainee):
    trainee = make_trainee(email="partial@example.ma", employer="Before", gender="f", name_tfng="ⵜ")
    content = csv_file([["courriel", "employeur"], ["partial@example.ma", "After"], ["new@example.ma", "X"]])
    response = api(content, dry_run=True)
    assert [(e["row"], e["column"]) for e in response.json["errors"]] == [
        (3, "nom"), (3, "catégorie"), (3, "secteur"), (3, "région"), (3, "nom_ar")]
    content = csv_file([["courriel", "employeur"], ["partial@example.ma", "After"]])
    assert api(content, dry_run=False).json["updated"] == 1
    db.session.expire_all()
    trainee = db.session.get(Trainee, trainee.id)
    assert (trainee.employer, trainee.gender, trainee.name_tfng) == ("After", "f", "ⵜ")


def test_a_cell_quoted_by_an_export_imports_without_its_quote(api):
    content = csv_file([ENGLISH_HEADER, ["Quoted", "quoted@example.ma", "engineer", "health", "oriental", "اسم", "",
                                         "", "'+212 600 000 000"]], sep=",", bom=False)
    assert api(content, dry_run=False).status_code == 200
    assert db.session.scalar(sa.select(Trainee.employer).where(Trainee.email == "quoted@example.ma")) == "+212 600 000 000"


@pytest.mark.parametrize("content, fragment", [
    (b"", "empty"),
    ("\ufeffnom;courriel\r\n;\r\n".encode(), "no row"),
    ("nom;courriel\r\nH\xe9l\xe8ne;h@example.ma\r\n".encode("latin-1"), "UTF-8"),
    (b"nom;employeur\r\nA;B\r\n", "courriel"),
    (bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 100, ".xls"),
    (b"PK\x03\x04not really a workbook", "XLSX"),
    ("nom;courriel;nom\r\na;b;c\r\n".encode(), "same thing"),
])
def test_a_file_that_cannot_be_read_is_refused_even_in_a_dry_run(api, content, fragment):
    before = table_counts()
    response = api(content, lang="en", dry_run=True)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert fragment in response.json["detail"] and fragment in response.json["errors"][0]["message"]
    assert table_counts() == before


def test_not_utf8_says_which_row(api):
    response = api("courriel;nom\r\na@example.ma;A\r\nb@example.ma;H\xe9l\xe8ne\r\n".encode("latin-1"))
    assert response.json["errors"][0]["row"] == 3


def test_missing_file_bad_flag_unknown_cohort_and_too_many_rows(api, monkeypatch, client, admin, token_for):
    response = client.post("/api/v1/imports/trainees", headers=token_for(admin), json={})
    assert response.status_code == 422 and response.json["errors"][0]["column"] == "file"
    content = csv_file([FRENCH_HEADER, _row("A", "a@example.ma")])
    assert api(content, dry_run="maybe").json["errors"][0]["column"] == "dry_run"
    response = api(content, dry_run=True, cohort="NOPE")
    assert response.status_code == 422 and "NOPE" in response.json["detail"]
    from exchange.imports import readers as imports
    monkeypatch.setattr(imports, "MAX_TRAINEE_ROWS", 2)
    content = csv_file([FRENCH_HEADER] + [_row(f"P{i}", f"p{i}@example.ma") for i in range(3)])
    response = api(content, dry_run=True)
    assert response.status_code == 422
    assert response.json["errors"][0]["row"] == 4 and "2" in response.json["detail"]


def test_only_admins_import_trainees(client, make_user, token_for):
    content = csv_file([FRENCH_HEADER, _row("A", "a@example.ma")])
    assert upload(client, "/api/v1/imports/trainees", {}, content).status_code == 401
    for role in ("trainer", "governance", "trainee"):
        assert upload(client, "/api/v1/imports/trainees", token_for(make_user(role)), content).status_code == 403


# --- attendance -----------------------------------------------------------------------------------------

@pytest.fixture
def session_world(make_user, make_trainee, make_cohort, make_session):
    trainer, other = make_user("trainer"), make_user("trainer")
    people = [make_trainee(name=f"P{i}", email=f"p{i}@example.ma", name_ar="متدرب") for i in range(4)]
    outsider = make_trainee(email="outsider@example.ma")
    cohort = make_cohort(trainers=[trainer], trainees=people)
    make_cohort(trainers=[other])
    return trainer, other, people, outsider, make_session(cohort)


def _attendance_url(session):
    return f"/api/v1/imports/sessions/{session.id}/attendance"


def test_attendance_from_a_french_csv_dry_run_then_commit(client, token_for, session_world):
    trainer, _, people, _, session = session_world
    headers = {**token_for(trainer), "Accept-Language": "fr"}
    content = csv_file([
        ["n°", "nom", "courriel", "statut"],
        [str(people[0].id), "P0", "", "Présent"],
        ["", "P1", "P1@example.ma", "en retard"],
        ["", "P2", "p2@example.ma", "A"],
        ["", "P3", "p3@example.ma", ""],  # no status yet: skipped
    ])
    before = table_counts()
    response = upload(client, _attendance_url(session), headers, content, "presence.csv", dry_run=True)
    assert response.status_code == 200, response.json
    assert response.json == {"dry_run": True, "file": "presence.csv", "session_id": session.id, "rows": 4,
                             "changed": 3, "skipped": 1, "ignored_columns": ["nom"], "errors": [], "error_count": 0}
    assert table_counts() == before
    response = upload(client, _attendance_url(session), headers, content, "presence.csv", dry_run=False)
    assert response.status_code == 200 and response.json["changed"] == 3
    statuses = dict(db.session.execute(sa.select(Attendance.trainee_id, Attendance.status)
                                       .where(Attendance.session_id == session.id)).all())
    assert statuses == {people[0].id: "present", people[1].id: "late", people[2].id: "absent"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "attendance.record")) == 1


def test_attendance_xlsx_with_bad_rows_is_refused_whole(client, token_for, session_world):
    trainer, _, people, outsider, session = session_world
    headers = {**token_for(trainer), "Accept-Language": "en"}
    content = xlsx_file([
        ["trainee_id", "email", "status"],
        [people[0].id, None, "present"],
        [None, outsider.email, "late"],          # row 3: not enrolled in this cohort
        [None, "nobody@example.ma", "absent"],   # row 4: unknown email
        [people[1].id, None, "sleeping"],        # row 5: unknown status
        [people[0].id, None, "absent"],          # row 6: twice
        [people[2].id, people[3].email, "p"],    # row 7: number and email disagree
    ])
    before = table_counts()
    response = upload(client, _attendance_url(session), headers, content, "att.xlsx", dry_run=False)
    assert response.status_code == 422, response.json
    assert [(e["row"], e["column"]) for e in response.json["errors"]] == [
        (3, "email"), (4, "email"), (5, "status"), (6, "trainee_id"), (7, "email")]
    assert "not enrolled" in response.json["errors"][0]["message"]
    assert table_counts() == before


def test_attendance_file_without_any_status_is_refused(client, token_for, session_world):
    trainer, _, people, _, session = session_world
    content = csv_file([["email", "status"], [people[0].email, ""]], sep=",")
    response = upload(client, _attendance_url(session), {**token_for(trainer), "Accept-Language": "en"}, content)
    assert response.status_code == 422 and "nothing to record" in response.json["detail"]


def test_attendance_import_is_for_the_cohorts_trainers_and_admins(client, token_for, make_user, session_world):
    trainer, other, people, _, session = session_world
    content = csv_file([["email", "status"], [people[0].email, "present"]], sep=",")
    assert upload(client, _attendance_url(session), token_for(other), content).status_code == 403
    assert upload(client, _attendance_url(session), token_for(make_user("governance")), content).status_code == 403
    assert upload(client, _attendance_url(session), token_for(make_user("trainee")), content).status_code == 403
    assert upload(client, _attendance_url(session), {}, content).status_code == 401
    assert upload(client, "/api/v1/imports/sessions/999999/attendance", token_for(trainer), content).status_code == 404
    admin_headers = token_for(make_user("admin"))
    assert upload(client, _attendance_url(session), admin_headers, content, dry_run=False).status_code == 200


# --- web pages ------------------------------------------------------------------------------------------

def _token(html: str) -> str:
    return re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)


def test_import_page_checks_then_imports_the_kept_file(client, admin, login, make_cohort):
    cohort = make_cohort()
    login(admin)
    page = client.get("/imports")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.get_data(as_text=True)
    content = csv_file([FRENCH_HEADER, _row("Web One", "web1@example.ma"), _row("Web Two", "web2@example.ma")])
    before = table_counts()
    response = client.post("/imports/trainees", data={"file": (io.BytesIO(content), "web.csv"),
                                                      "cohort": cohort.code}, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "web.csv" in html
    assert table_counts() == before
    response = client.post("/imports/trainees/commit", data={"token": _token(html)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/imports/")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Trainee)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)
                             .where(Enrollment.cohort_id == cohort.id)) == 2
    again = client.post("/imports/trainees/commit", data={"token": _token(html)})  # the file was used up
    assert again.status_code == 302 and again.headers["Location"].endswith("/imports")


def test_import_page_lists_errors_by_row_and_column(client, admin, login):
    login(admin)
    content = csv_file([FRENCH_HEADER, _row("Ok", "ok@example.ma"), _row("Bad", "bad@example.ma", secteur="Pêche")])
    response = client.post("/imports/trainees", data={"file": (io.BytesIO(content), "bad.csv")},
                           content_type="multipart/form-data", headers={"Accept-Language": "fr"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'<td>3</td><td><bdi>secteur</bdi></td><td class="value"><bdi><code>Pêche</code></bdi></td>'
                     r"<td>[^<]*Pêche", html)
    assert 'name="token"' not in html  # nothing to confirm


def test_a_big_file_runs_as_a_job_with_progress(app, client, admin, login):
    app.config["IMPORT_ASYNC_ABOVE_ROWS"] = 2
    login(admin)
    content = csv_file([FRENCH_HEADER] + [_row(f"Big {i}", f"big{i}@example.ma") for i in range(3)])
    response = client.post("/imports/trainees", data={"file": (io.BytesIO(content), "big.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and "/imports?job=" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "big.csv" in page and db.session.scalar(sa.select(sa.func.count()).select_from(Trainee)) == 0
    response = client.post("/imports/trainees/commit", data={"token": _token(page)})
    assert response.status_code == 302 and "/imports?job=" in response.headers["Location"]
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Trainee)) == 3
    entry = db.session.scalar(sa.select(AuditEntry.id).where(AuditEntry.action == "trainee.import"))
    assert f'href="/imports/{entry}"' in done  # the job's report leads to what it imported
    assert len(re.findall(r'href="/trainees/\d+"', client.get(f"/imports/{entry}").get_data(as_text=True))) == 3


def test_attendance_import_page_for_the_cohorts_trainer(client, login, session_world):
    trainer, other, people, _, session = session_world
    url = f"/cohorts/{session.cohort.code}/sessions/{session.id}/import"
    login(other)
    assert client.get(url).status_code == 403
    login(trainer)
    assert client.get(url).status_code == 200
    content = csv_file([["courriel", "statut"], [people[0].email, "excusé"]])
    response = client.post(url, data={"file": (io.BytesIO(content), "p.csv")}, content_type="multipart/form-data")
    assert response.status_code == 200
    response = client.post(url + "/commit", data={"token": _token(response.get_data(as_text=True))})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Attendance.status).where(Attendance.session_id == session.id)) == "excused"


# --- files to fill in, offending values, what was imported ----------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_sample_file_has_french_headings_and_dry_runs_clean(client, admin, login, api, fmt):
    login(admin)
    assert 'href="/imports/sample.xlsx"' in client.get("/imports").get_data(as_text=True)
    response = client.get(f"/imports/sample.{fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="kafaa-trainees-sample.{fmt}"'
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    else:
        from openpyxl import load_workbook
        rows = [list(r) for r in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)]
    assert rows[0] == ["Nom", "Nom en arabe", "Nom en tifinagh", "Adresse électronique", "Catégorie", "Secteur",
                       "Région", "Genre", "Employeur"]
    assert len(rows) == 3 and rows[1][4:8] == ["Ingénieur", "Santé", "Rabat-Salé-Kénitra", "Femme"]
    before = table_counts()
    body = api(response.data, f"exemple.{fmt}", dry_run=True).json
    assert (body["created"], body["error_count"], body["ignored_columns"]) == (2, 0, [])
    assert table_counts() == before


def test_the_sample_is_for_admins(client, login, make_user):
    login(make_user("trainer"))
    assert client.get("/imports/sample.csv").status_code == 403


def test_each_error_shows_its_value_shortened_and_defused(api, client, admin, login):
    long_name = "N" * 300
    content = csv_file([FRENCH_HEADER, _row(long_name, "long@example.ma"),
                        _row("Formule", "=HYPERLINK(\"http://evil.example\")"),
                        _row("Balise", "b@example.ma", secteur="<script>alert(1)</script>")])
    errors = {e["row"]: e for e in api(content, dry_run=True).json["errors"]}
    assert errors[2]["column"] == "nom" and errors[2]["value"] == "N" * 59 + "…"
    assert errors[3]["column"] == "courriel" and errors[3]["value"] == "'=HYPERLINK(\"http://evil.example\")"
    assert errors[4]["value"] == "<script>alert(1)</script>"
    login(admin)
    html = client.post("/imports/trainees", data={"file": (io.BytesIO(content), "x.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "<bdi><code>&lt;script&gt;alert(1)&lt;/script&gt;</code></bdi>" in html
    assert "<script>alert(1)" not in html
    assert f"<code>{'N' * 59}…</code>" in html


def test_an_attendance_error_shows_its_value(client, token_for, session_world):
    trainer, _, people, outsider, session = session_world
    content = csv_file([["courriel", "statut"], ["personne@example.ma", "P"], [people[0].email, "peut-être"]])
    body = upload(client, _attendance_url(session), token_for(trainer), content).json
    assert [(e["row"], e["column"], e["value"]) for e in body["errors"]] == [
        (2, "courriel", "personne@example.ma"), (3, "statut", "peut-être")]


def test_after_the_commit_the_page_lists_the_imported_trainees(client, admin, login, make_trainee, make_cohort):
    old = make_trainee(email="old@example.ma", employer="Ancien")
    same = make_trainee(email="same@example.ma")
    cohort = make_cohort()
    login(admin)
    rows = [_row(f"Nouveau {i:02}", f"new{i:02}@example.ma") for i in range(55)]
    rows.append([old.name, old.email, "Ingénieur", "Santé", "Rabat-Salé-Kénitra", old.name_ar, "", "F", "Nouveau"])
    rows.append([same.name, same.email, "Ingénieur", "Santé", "Rabat-Salé-Kénitra", same.name_ar, "", "F",
                 same.employer])
    response = client.post("/imports/trainees", data={"file": (io.BytesIO(csv_file([FRENCH_HEADER] + rows)), "w.csv"),
                                                      "cohort": cohort.code}, content_type="multipart/form-data")
    response = client.post("/imports/trainees/commit", data={"token": _token(response.get_data(as_text=True))})
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "trainee.import"))
    assert response.headers["Location"] == f"/imports/{entry.id}"
    first = client.get(f"/imports/{entry.id}").get_data(as_text=True)
    created = db.session.scalars(sa.select(Trainee.id).where(Trainee.email.like("new%")).order_by(Trainee.id)).all()
    linked = [int(i) for i in re.findall(r'href="/trainees/(\d+)"', first)]
    assert linked == created[:50]  # new ones first, 50 a page
    assert "Page 1 sur 2" in first and f'href="/cohorts/{cohort.code}"' in first
    second = client.get(f"/imports/{entry.id}?page=2").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'href="/trainees/(\d+)"', second)] == created[50:] + [old.id]
    assert "Mis à jour : Employeur" in second.replace("\u202f", " ")
    assert f'href="/trainees/{same.id}"' not in first + second  # unchanged: not listed, counted
    arabic = client.get(f"/imports/{entry.id}?lang=ar&page=2").get_data(as_text=True)
    assert "المتدربون المستوردون" in arabic and "حُدِّث: الجهة المشغِّلة" in arabic and "Updated" not in arabic
    assert client.get(f"/imports/{entry.id + 1000}").status_code == 404
    other = db.session.scalar(sa.select(AuditEntry.id).where(AuditEntry.action != "trainee.import"))
    assert client.get(f"/imports/{other}").status_code == 404


def test_the_imported_page_is_for_admins(client, login, make_user, api):
    body = api(csv_file([FRENCH_HEADER, _row("Un", "un@example.ma")]), dry_run=False).json
    login(make_user("trainer"))
    assert client.get(f"/imports/{body['import_id']}").status_code == 403
    login(make_user("governance"))
    assert client.get(f"/imports/{body['import_id']}").status_code == 403


def test_the_roster_of_a_session_to_fill_in(client, login, session_world):
    trainer, other, people, _, session = session_world
    base = f"/cohorts/{session.cohort.code}/sessions/{session.id}/import"
    login(other)
    assert client.get(base + "/roster.csv").status_code == 403
    login(trainer)
    assert f'href="{base}/roster.xlsx"' in client.get(base).get_data(as_text=True)
    response = client.get(base + "/roster.csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["N° du stagiaire", "Nom", "Adresse électronique", "Statut"]
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(p.id for p in people) and {r[3] for r in rows[1:]} == {""}
    # Untouched, it records nothing and says so; filled in, it checks clean.
    untouched = client.post(base, data={"file": (io.BytesIO(response.data), "r.csv")},
                            content_type="multipart/form-data")
    assert untouched.status_code == 422 and "rien à enregistrer" in untouched.get_data(as_text=True)
    filled = [rows[0]] + [r[:3] + [status] for r, status in zip(rows[1:], ("Présent", "En retard", "A", "E"))]
    checked = client.post(base, data={"file": (io.BytesIO(csv_file(filled)), "r.csv")},
                          content_type="multipart/form-data").get_data(as_text=True)
    assert "Import now" in checked or "Importer maintenant" in checked
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(client.get(base + "/roster.xlsx").data)).active
    assert [c.value for c in sheet[1]] == rows[0]


@pytest.mark.parametrize("lang, health, rabat", [("fr", "Santé", "Rabat-Salé-Kénitra"),
                                                  ("ar", "الصحة", "الرباط سلا القنيطرة"),
                                                  ("en", "Health", "Rabat-Salé-Kénitra")])
def test_an_unknown_value_is_told_with_the_names_a_spreadsheet_uses(api, make_trainee, lang, health, rabat):
    """A spreadsheet shows names, not codes: the error lists the values in the reader's language, for a new
    trainee and for an existing one alike, and nothing is written."""
    make_trainee(email="existe@example.ma")
    content = csv_file([FRENCH_HEADER, _row("Nouveau", "nouveau@example.ma", secteur="Pêche"),
                        _row("Existe", "existe@example.ma", région="Atlantide")])
    before = table_counts()
    errors = api(content, lang=lang, dry_run="false").json["errors"]
    assert table_counts() == before
    assert [(e["row"], e["column"], e["value"]) for e in errors] == [(2, "secteur", "Pêche"), (3, "région", "Atlantide")]
    sector, region = errors[0]["message"], errors[1]["message"]
    assert "Pêche" in sector and health in sector and "health" not in sector
    assert "Atlantide" in region and rabat in region and "rabat-sale-kenitra" not in region
