"""The pathway, seen: tracks as levels and where a trainee stands on them ("My progress"), and the prerequisites a
trainer sees on a cohort's page when enrolling. The pure rules, then the pages and the API on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from common import clock
from common.extensions import db
from skills.models import Enrollment
from skills.rules import PathwayStep, PrerequisiteGap, pathway_levels, pathway_steps
from tests.helpers import table_counts

# --- the pure rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("requires, levels", [
    ({"F": []}, {"F": 1}),
    ({"F": [], "S": ["F"], "T": ["S"]}, {"F": 1, "S": 2, "T": 3}),
    ({"F": [], "S": ["F"], "D": ["F", "S"]}, {"F": 1, "S": 2, "D": 3}),  # a diamond takes its longest branch
    ({"S": ["F"]}, {"F": 1, "S": 2}),  # a required track missing from the keys requires none
    ({"A": [], "B": []}, {"A": 1, "B": 1}),
])
def test_levels(requires, levels):
    assert pathway_levels(requires) == levels


def test_levels_refuse_a_cycle_and_a_long_chain_does_not_recurse():
    with pytest.raises(ValueError):
        pathway_levels({"A": ["B"], "B": ["A"]})
    chain = {i: [i - 1] if i else [] for i in range(5000)}
    assert pathway_levels(chain)[4999] == 5000


CATALOGUE = {"requires": {1: [], 2: [1], 3: [2], 4: [], 5: [1, 4]}, "codes": {1: "F", 2: "S", 3: "T", 4: "G", 5: "X"}}


def steps(held=None, enrolled=()):
    return {s.track: s for s in pathway_steps(CATALOGUE["requires"], CATALOGUE["codes"], held or {}, enrolled)}


def test_nothing_held_nor_enrolled_shows_nothing():
    assert steps() == {}


def test_certified_at_level_1_opens_level_2_and_names_what_level_2_still_needs():
    seen = steps(held={1: ["valid"]})
    # F certified; S comes next (every prerequisite held); X too, but it still needs G, which is shown.
    assert seen == {1: PathwayStep(1, 1, "certified"), 2: PathwayStep(2, 2, "not_started"),
                    5: PathwayStep(5, 2, "locked", (PrerequisiteGap("G", "missing"),)),
                    4: PathwayStep(4, 1, "not_started")}
    assert 3 not in seen  # T follows S, not held yet: not the whole catalogue
    assert [s.track for s in pathway_steps(CATALOGUE["requires"], CATALOGUE["codes"], {1: ["valid"]}, ())] == [1, 4, 2, 5]


def test_enrolled_without_the_prerequisite_is_in_progress_and_names_it():
    seen = steps(enrolled=[2])
    assert seen[2] == PathwayStep(2, 2, "in_progress", (PrerequisiteGap("F", "missing"),))
    assert seen[1] == PathwayStep(1, 1, "not_started")  # the prerequisite is shown as a step
    assert set(seen) == {1, 2}


@pytest.mark.parametrize("statuses, state, gap", [
    (["expired"], "expired", "expired"), (["revoked"], "not_started", "revoked"),
    (["superseded", "valid"], "certified", None), (["revoked", "valid"], "certified", None),
])
def test_held_certificates_by_status(statuses, state, gap):
    seen = steps(held={1: statuses}, enrolled=[2])
    assert seen[1].state == state
    assert seen[2] == PathwayStep(2, 2, "in_progress", (PrerequisiteGap("F", gap),) if gap else ())


def test_an_expired_certificate_comes_before_an_old_enrolment():
    assert steps(held={1: ["expired"]}, enrolled=[1, 2])[1].state == "expired"


def test_certified_level_2_and_level_3_next():
    seen = steps(held={1: ["valid"], 2: ["valid"]})
    assert seen[2].state == "certified" and seen[3] == PathwayStep(3, 3, "not_started")


# --- "My progress" --------------------------------------------------------------------------------------------

@pytest.fixture
def path(admin, make_module, make_track, make_trainee, make_cohort, make_session, make_user):
    """Foundations F (modules A, B; level 1) and a sector track S (modules B, C) requiring F (level 2); a trainee
    who completed F and holds its certificate, enrolled in a cohort of S, with C recognised."""
    from certificates.operations import issue_certificate
    from skills import operations

    a, b, c = (make_module(code).code for code in ("PA", "PB", "PC"))
    f = make_track("F", modules=[a, b], validity_months=12)
    s = operations.create_track(admin, {"code": "S", "modules": [b, c], "requires": ["F"], "title": {
        "fr": "Secteur santé", "ar": "قطاع الصحة", "en": "Health sector"}})
    db.session.commit()
    trainee = make_trainee(name="Amina Tazi", name_ar="أمينة التازي")
    f_cohort = make_cohort(track=f, trainees=[trainee])
    for module in (a, b):
        session = make_session(f_cohort, module=module)
        operations.record_attendance(admin, session, [{"trainee_id": trainee.id, "status": "present"}])
    operations.record_results(admin, f_cohort, [{"trainee_id": trainee.id, "module": m, "passed": True} for m in (a, b)])
    issue_certificate(admin, trainee, f)
    s_cohort = make_cohort(track=s, trainees=[trainee])
    operations.recognise_module(admin, trainee, {"module": c, "reason": "Master's course"})
    db.session.commit()
    user = make_user("trainee", trainee_id=trainee.id)
    return {"F": f, "S": s, "trainee": trainee, "user": user, "s_cohort": s_cohort, "f_cohort": f_cohort,
            "modules": (a, b, c)}


def _teacher_of(cohort, admin, make_user):
    """A new trainer, made the only one of the cohort."""
    from skills import operations

    trainer = make_user("trainer")
    operations.update_cohort(admin, cohort, {"code": cohort.code, "track": cohort.track.code, "sector": "health",
                                             "region": "rabat-sale-kenitra", "language": "fr",
                                             "starts_on": "2026-10-01", "ends_on": "2026-12-20",
                                             "trainers": [trainer.email]})
    db.session.commit()
    return trainer


def _steps(html):
    """(level, code, state) of each step shown on the pathway, in order."""
    return re.findall(r'<li class="step step-\w+" data-track="([^"]+)" data-state="(\w+)">\s*'
                      r'<span class="level">[^<]*?(\d+)', html)


@pytest.mark.parametrize("lang, heading, level, certified, in_progress, first", [
    ("en", "Your pathway", "Level 2", "Certified", "In progress", "Requires a valid certificate of track"),
    ("fr", "Votre parcours", "Niveau 2", "Certifié", "En cours", "certificat valide du parcours"),
    ("ar", "مساري", "المستوى 2", "حاصل على الشهادة", "في طور الإنجاز", "شهادة صالحة"),
])
def test_my_progress_shows_the_levels_states_and_what_comes_next(client, login, path, lang, heading, level,
                                                                  certified, in_progress, first):
    login(path["user"])
    html = client.get(f"/me/progress?lang={lang}").get_data(as_text=True)
    assert heading in html and level in html and certified in html and in_progress in html
    assert _steps(html) == [("F", "certified", "1"), ("S", "in_progress", "2")]
    # The recognised module is marked in S's progress; S is ready except for nothing: F is held.
    assert html.count('class="badge">') >= 1
    next_steps = html.split('class="next-steps"')[1].split("</ul>")[0]
    assert "<bdi>S</bdi>" in next_steps and "F" not in re.sub(r"<[^>]+>", "", next_steps).replace("S", "")
    assert first not in next_steps  # F is held: nothing to do first


def test_a_missing_prerequisite_is_named_and_a_revoked_one_too(client, login, path, admin):
    from certificates.models import Certificate
    from certificates.operations import revoke_certificate

    login(path["user"])
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.trainee_id == path["trainee"].id))
    revoke_certificate(admin, certificate, "error")
    db.session.commit()
    html = client.get("/me/progress?lang=en").get_data(as_text=True)
    assert _steps(html) == [("F", "in_progress", "1"), ("S", "in_progress", "2")]  # still enrolled in F's cohort
    assert "For <bdi>S</bdi>, first: The certificate of track F, required first, was revoked." in html


def test_an_expired_foundations_certificate_asks_to_renew(client, login, path, monkeypatch):
    login(path["user"])
    today = clock.today()
    monkeypatch.setattr(clock, "today", lambda: today + timedelta(days=400))
    html = client.get("/me/progress?lang=en").get_data(as_text=True)
    assert _steps(html) == [("F", "expired", "1"), ("S", "in_progress", "2")]
    assert "<bdi>F</bdi>: the certificate has expired and must be renewed." in html
    assert "For <bdi>S</bdi>, first: The certificate of track F, required first, has expired" in html


def test_what_comes_next_after_level_1_only(client, login, path, admin):
    from skills import operations

    trainee = path["trainee"]
    operations.unenrol_trainee(admin, path["s_cohort"], trainee)
    db.session.commit()
    login(path["user"])
    html = client.get("/me/progress?lang=en").get_data(as_text=True)
    assert _steps(html) == [("F", "certified", "1"), ("S", "not_started", "2")]
    assert "<bdi>S</bdi> can be started: every certificate it requires is held." in html


def test_the_pathway_is_not_the_whole_catalogue(client, login, path, make_track):
    for _ in range(3):
        make_track()  # unrelated level-1 tracks
    login(path["user"])
    assert [code for code, _, _ in _steps(client.get("/me/progress").get_data(as_text=True))] == ["F", "S"]


def test_who_sees_the_pathway(client, login, path, admin, make_user):
    login(admin)
    html = client.get(f"/trainees/{path['trainee'].id}?lang=en").get_data(as_text=True)
    assert ">Pathway</h2>" in html and len(_steps(html)) == 2
    # A trainer sees progress over the cohorts they teach only: the pathway spans them all, so it is left out.
    trainer = _teacher_of(path["s_cohort"], admin, make_user)
    login(trainer)
    html = client.get(f"/trainees/{path['trainee'].id}?lang=en").get_data(as_text=True)
    assert "pathway-steps" not in html and "Health sector" in html


def test_no_pathway_for_someone_enrolled_nowhere(client, login, make_trainee, make_user):
    trainee = make_trainee()
    login(make_user("trainee", trainee_id=trainee.id))
    html = client.get("/me/progress?lang=en").get_data(as_text=True)
    assert "pathway-steps" not in html and "Not enrolled in any track yet." in html


# --- prerequisites when enrolling --------------------------------------------------------------------------

def test_the_cohort_page_shows_the_prerequisites_and_who_meets_them(client, login, path, admin, make_trainee,
                                                                   make_user):
    newcomer = make_trainee(name="Omar Alaoui")
    from skills import operations
    operations.enrol_trainees(admin, path["s_cohort"], [newcomer.id])
    cohort = path["s_cohort"]
    trainer = _teacher_of(cohort, admin, make_user)
    for user in (trainer, admin):
        login(user)
        for lang, title, missing in (("en", "Prerequisites", "prerequisite missing"), ("fr", "Prérequis", "prérequis manquant"),
                                     ("ar", "المتطلبات السابقة", "متطلب سابق ناقص")):
            html = client.get(f"/cohorts/{cohort.code}?lang={lang}").get_data(as_text=True)
            assert title in html and "<bdi>F</bdi>" in html and missing in html
            cells = dict(re.findall(r'href="/trainees/(\d+)"[^§]*?<td class="prerequisites" data-met="(\w+)"',
                                    html.replace("</tr>", "§")))
            cells = {int(k): v for k, v in cells.items()}
            assert cells == {path["trainee"].id: "yes", newcomer.id: "no"}, cells
    # A track without prerequisites: no column, no note.
    html = client.get(f"/cohorts/{path['f_cohort'].code}?lang=en").get_data(as_text=True)
    assert 'class="prerequisites"' not in html and "prerequisites-note" not in html


def test_enrolling_someone_without_the_prerequisite_is_allowed_and_flagged(client, login, path, admin, make_trainee):
    newcomer, holder = make_trainee(), path["trainee"]
    cohort = path["s_cohort"]
    login(admin)
    before = table_counts()
    answer = client.post(f"/cohorts/{cohort.code}/enrollments?lang=fr", data={"enrol-trainee_id": newcomer.id})
    assert answer.status_code == 302
    assert table_counts()["enrollments"] == before["enrollments"] + 1
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "flash-warning" in page and "Attention" in page and "<bdi>S</bdi>" in page and "parcours F" in page
    assert "Requires" not in page  # said in French

    # Someone who holds it: enrolled, no warning (F's other cohort, whose track has no prerequisite, neither).
    other = db.session.scalar(sa.select(Enrollment).where(Enrollment.cohort_id == cohort.id,
                                                          Enrollment.trainee_id == holder.id))
    db.session.delete(other)
    db.session.commit()
    answer = client.post(f"/cohorts/{cohort.code}/enrollments?lang=en", data={"enrol-trainee_id": holder.id})
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Trainee enrolled." in page and "flash-warning" not in page

    # A refused enrolment writes nothing and warns of nothing.
    before = table_counts()
    refused = client.post(f"/cohorts/{cohort.code}/enrollments?lang=en", data={"enrol-trainee_id": 999999})
    assert refused.status_code == 422 and "flash-warning" not in refused.get_data(as_text=True)
    assert table_counts() == before


def test_the_enrolment_api_lists_the_missing_prerequisites(client, path, token_for, admin, make_trainee):
    newcomer = make_trainee()
    headers = {**token_for(admin), "Accept-Language": "ar"}
    url = f"/api/v1/cohorts/{path['s_cohort'].code}/enrollments"
    answer = client.post(url, headers=headers, json={"trainee_ids": [newcomer.id, path["trainee"].id]})
    assert answer.status_code == 201
    (gap,) = answer.json["prerequisites_missing"]
    assert gap["trainee_id"] == newcomer.id and gap["track"] == "F" and gap["reason"] == "missing"
    assert "Requires" not in gap["message"] and "F" in gap["message"]
    again = client.post(url, headers=headers, json={"trainee_ids": [newcomer.id]})
    assert again.status_code == 200 and again.json["added"] == 0 and len(again.json["prerequisites_missing"]) == 1
    plain = client.post(f"/api/v1/cohorts/{path['f_cohort'].code}/enrollments", headers=headers,
                        json={"trainee_ids": [newcomer.id]})
    assert plain.status_code == 201 and plain.json["prerequisites_missing"] == []
    before = table_counts()
    bad = client.post(url, headers=headers, json={"trainee_ids": ["x"]})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json" and table_counts() == before
