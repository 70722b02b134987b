"""One input-cleaning point: control characters (NUL first) refused with a translated 422 wherever they come
in, direction marks refused in names through every entry point, page numbers bounded, and every name
isolated on the pages that print it."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from common.extensions import db
from skills.models import Trainee
from tests.helpers import PASSWORD, table_counts

SPOOF = "Amine\u202e 9102-FK :laireS ,DILAV"
NUL = "Amina\x00 El Idrissi"


def _trainee(**fields) -> dict:
    return {"name": "Nadia Benali", "name_ar": "نادية بنعلي", "email": "nadia@example.ma", "category": "official",
            "sector": "justice", "region": "oriental", **fields}


@pytest.mark.parametrize("lang, words", [("fr", "caractères de contrôle"), ("en", "control characters"),
                                         ("ar", "التحكم")])
def test_nul_at_the_unauthenticated_doors_is_a_translated_422(client, admin, lang, words):
    headers = {"Accept-Language": lang}
    api = client.post("/api/v1/tokens", json={"email": "admin@kafaa.ma\x00", "password": PASSWORD}, headers=headers)
    assert api.status_code == 422 and api.mimetype == "application/problem+json"
    assert words in api.json["errors"]["email"][0]
    form = client.post("/login", data={"email": admin.email, "password": "x\x00y"}, headers=headers)
    assert form.status_code == 422 and words in form.get_data(as_text=True)


def test_nul_and_other_controls_are_refused_in_every_kind_of_input(client, login, admin, token_for):
    headers = token_for(admin)
    before = table_counts()
    # JSON bodies, nested values and keys included.
    for body in (_trainee(name=NUL), _trainee(employer="ONEE\x07"), _trainee(**{"x\x00": "y"})):
        answer = client.post("/api/v1/trainees", json=body, headers=headers)
        assert answer.status_code == 422, answer.json
    assert client.put("/api/v1/stats/targets", json={"total": "5\x00"}, headers=headers).status_code == 422
    # Query parameters, on the API and on web pages, and path segments.
    assert client.get("/api/v1/trainees?q=a%00b", headers=headers).status_code == 422
    login(admin)
    for path in ("/trainees?q=a%00b", "/cohorts?q=%1b[31m", "/modules?q=%00", "/admin/users?q=%00"):
        assert client.get(path).status_code == 422, path
    assert client.get("/cohorts/C%00").status_code == 404  # a path naming nothing
    assert client.get("/api/v1/cohorts/C%00", headers=headers).status_code == 404
    # Form fields.
    answer = client.post("/trainees/new", data={**_trainee(), "name": NUL, "gender": ""})
    assert answer.status_code == 422 and "caractères de contrôle" in answer.get_data(as_text=True)
    assert table_counts() == before
    # Tabs and new lines are text, not controls.
    assert client.get("/trainees?q=a%09b").status_code == 200


def test_a_spoofing_name_is_refused_through_every_entry_point(client, login, admin, token_for, make_trainee,
                                                               make_user):
    headers = {**token_for(admin), "Accept-Language": "en"}
    # API, each name field, and every direction control.
    for field in ("name", "name_ar", "name_tfng"):
        answer = client.post("/api/v1/trainees", json=_trainee(**{field: SPOOF}), headers=headers)
        assert answer.status_code == 422 and "direction marks" in answer.json["errors"][field][0]
    for mark in ("\u202a", "\u202b", "\u202c", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e",
                 "\u200f", "\u061c"):
        assert client.post("/api/v1/trainees", json=_trainee(name=f"Ali{mark}Ben"),
                           headers=headers).status_code == 422
    existing = make_trainee()
    assert client.put(f"/api/v1/trainees/{existing.id}", json=_trainee(name=SPOOF),
                      headers=headers).status_code == 422
    # A correction request, by the trainee.
    trainee = make_trainee()
    account = make_user("trainee", trainee_id=trainee.id)
    answer = client.post("/api/v1/me/corrections", json={"field": "name", "value": SPOOF},
                         headers={**token_for(account), "Accept-Language": "en"})
    assert answer.status_code == 422 and "direction marks" in answer.json["errors"]["value"][0]
    # The web form.
    login(admin)
    page = client.post("/trainees/new", data={**_trainee(), "name": SPOOF, "gender": ""})
    assert page.status_code == 200 and "marques de direction" in page.get_data(as_text=True)  # the form again
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Trainee).where(Trainee.name.like("Amine%"))) == 0


def test_an_import_refuses_spoofing_names_and_control_characters_in_the_dry_run_and_the_commit(client, admin,
                                                                                               token_for):
    headers = {**token_for(admin), "Accept-Language": "en"}
    header = "name,email,category,sector,region,name_ar\r\n"

    def send(rows: str, dry_run: bool):
        data = {"file": (io.BytesIO((header + rows).encode()), "people.csv"), "dry_run": str(dry_run).lower()}
        return client.post("/api/v1/imports/trainees", data=data, headers=headers, content_type="multipart/form-data")
    good = "Ali Benali,ali@example.ma,official,justice,oriental,علي\r\n"
    before = table_counts()
    for dry_run in (True, False):
        spoof = send(good + f"\"{SPOOF}\",amine@example.ma,official,justice,oriental,أمين\r\n", dry_run)
        assert spoof.status_code == (200 if dry_run else 422)  # a dry run lists the faults; a commit refuses
        assert [(e["row"], e["column"]) for e in spoof.json["errors"]] == [(3, "name")]
        assert "direction marks" in spoof.json["errors"][0]["message"]
        nul = send(good + "Sara,sara@example.ma,official,justice,oriental,سارة\x00\r\n", dry_run)
        assert nul.status_code == 422, nul.json
        assert nul.json["errors"][0]["row"] == 3 and "control characters" in nul.json["errors"][0]["message"]
    assert table_counts() == before


def test_huge_page_numbers_never_answer_500(client, login, admin, token_for, make_module):
    make_module()
    login(admin)
    for path in ("/modules", "/trainees", "/cohorts", "/admin/users", "/admin/audit", "/admin/outbox"):
        assert client.get(f"{path}?page=99999999999999999999").status_code == 404, path
        assert client.get(f"{path}?page=0").status_code == 404, path
    assert client.get("/cohorts/unknown?spage=99999999999999999999").status_code == 404
    # Within bounds but past the end: Flask-SQLAlchemy's lists say 404, the audit trail shows its last page.
    assert client.get("/modules?page=999999").status_code == 404
    audit = client.get("/admin/audit?page=999999")
    assert audit.status_code == 200
    answer = client.get("/api/v1/modules?page=99999999999999999999", headers=token_for(admin))
    assert answer.status_code == 422 and "page" in answer.json["errors"]
    assert client.get("/api/v1/modules?page=999999", headers=token_for(admin)).json["items"] == []


def test_a_stored_spoofing_name_is_isolated_on_the_verification_page(client, admin, make_track, make_cohort):
    """A row written before the rule (here with SQL) cannot reorder the verdict around it."""
    from certificates.operations import issue_certificate

    db.session.execute(sa.insert(Trainee).values(
        name=SPOOF, name_ar="أمين", email="amine@example.ma", category="official", sector="justice",
        region="oriental", employer=""))
    db.session.commit()
    trainee = db.session.scalar(sa.select(Trainee).where(Trainee.email == "amine@example.ma"))
    track = make_track()
    make_cohort(track=track, trainees=[trainee])
    certificate = issue_certificate(admin, trainee, track, known_eligible=True)[0]
    db.session.commit()
    html = client.get(f"/v/{certificate.token}").get_data(as_text=True)
    assert f'<bdi lang="fr">{SPOOF}</bdi>' in html
    # Every other place the name shows is isolated too.
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    for path in (f"/trainees/{trainee.id}", "/trainees"):
        page = client.get(path).get_data(as_text=True)
        assert SPOOF in page
        assert all(re.search(r"<bdi[^>]*>\s*$", page[:m.start()]) for m in re.finditer(re.escape(SPOOF), page)
                   if "<title>" not in page[max(0, m.start() - 40):m.start()]), path
        assert f"<title>\u2068" in page or path == "/trainees"
