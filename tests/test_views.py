"""The web screens, as a trainer, an admin and a trainee use them."""
import sqlalchemy as sa

from audit.models import AuditEntry
from common.extensions import db
from skills.models import Attendance, ModuleResult, TrainingSession
from tests.helpers import table_counts


def test_trainer_takes_attendance_on_one_screen(client, login, make_user, make_trainee, make_cohort, make_session):
    trainer = make_user("trainer")
    a, b, c = make_trainee(name="Amine Tazi"), make_trainee(name="Hajar Lahlou"), make_trainee(name="Omar Naciri")
    cohort = make_cohort(trainers=[trainer], trainees=[a, b, c])
    session = make_session(cohort)
    login(trainer)
    url = f"/cohorts/{cohort.code}/sessions/{session.id}"
    page = client.get(url).get_data(as_text=True)
    assert all(name in page for name in ("Amine Tazi", "Hajar Lahlou", "Omar Naciri"))
    form = {f"status-{a.id}": "present", f"status-{b.id}": "late", f"status-{c.id}": "absent"}
    assert client.post(url, data=form).status_code == 302
    assert client.post(url, data=form).status_code == 302  # saving twice: same state, no duplicates
    rows = db.session.execute(sa.select(Attendance.trainee_id, Attendance.status, Attendance.recorded_by_id)
                              .order_by(Attendance.trainee_id)).all()
    assert rows == [(a.id, "present", trainer.id), (b.id, "late", trainer.id), (c.id, "absent", trainer.id)]
    # The saved statuses come back checked, with who-saved-when shown.
    page = client.get(url).get_data(as_text=True)
    assert f'name="status-{b.id}" value="late" checked' in page


def test_a_bad_attendance_post_saves_nothing_and_says_why(client, login, make_user, make_trainee, make_cohort,
                                                          make_session):
    trainer = make_user("trainer")
    a, outsider = make_trainee(), make_trainee()
    cohort = make_cohort(trainers=[trainer], trainees=[a])
    session = make_session(cohort)
    login(trainer)
    before = table_counts()
    url = f"/cohorts/{cohort.code}/sessions/{session.id}"
    response = client.post(url, data={f"status-{a.id}": "present", f"status-{outsider.id}": "present"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert f"Trainee {outsider.id} is not enrolled in this cohort." in response.get_data(as_text=True)
    response = client.post(url, data={f"status-{a.id}": "sleeping"})
    assert response.status_code == 422
    assert table_counts() == before


def test_cohort_page_warns_below_the_minimum(client, login, make_user, make_trainee, make_cohort, make_session,
                                             admin, token_for):
    trainer = make_user("trainer")
    good, weak = make_trainee(name="Good Attender"), make_trainee(name="Weak Attender")
    cohort = make_cohort(trainers=[trainer], trainees=[good, weak])
    headers = token_for(admin)
    for status in ("present", "absent", "absent"):
        session = make_session(cohort)
        client.put(f"/api/v1/sessions/{session.id}/attendance", headers=headers, json={"records": [
            {"trainee_id": good.id, "status": "present"}, {"trainee_id": weak.id, "status": status}]})
    login(trainer)
    page = client.get(f"/cohorts/{cohort.code}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    def row(name):
        start = page.index(name)
        return page[start:page.index("</tr>", start)]
    weak_row, good_row = row("Weak Attender"), row("Good Attender")
    assert "below minimum" in weak_row and "33.3%" in weak_row
    assert "below minimum" not in good_row and "100%" in good_row


def test_trainer_sees_only_their_cohorts(client, login, make_user, make_cohort):
    mine, theirs = make_user("trainer"), make_user("trainer")
    make_cohort(code="MINE-01", trainers=[mine])
    make_cohort(code="THEIRS-01", trainers=[theirs])
    login(mine)
    page = client.get("/cohorts").get_data(as_text=True)
    assert "MINE-01" in page and "THEIRS-01" not in page
    assert client.get("/cohorts/THEIRS-01").status_code == 403


def test_results_screen_records_and_updates(client, login, make_user, make_trainee, make_cohort):
    trainer = make_user("trainer")
    a = make_trainee()
    cohort = make_cohort(trainers=[trainer], trainees=[a])
    m1, m2 = (m.code for m in cohort.track.modules)
    login(trainer)
    url = f"/cohorts/{cohort.code}/results"
    assert client.post(url, data={f"result-{a.id}-{m1}": "failed", f"score-{a.id}-{m1}": "40",
                                  f"result-{a.id}-{m2}": ""}).status_code == 302
    assert client.post(url, data={f"result-{a.id}-{m1}": "passed", f"score-{a.id}-{m1}": "72.5"}).status_code == 302
    rows = db.session.execute(sa.select(ModuleResult.passed, ModuleResult.score)).all()
    assert len(rows) == 1 and rows[0].passed and float(rows[0].score) == 72.5
    bad = client.post(url, data={f"result-{a.id}-{m1}": "passed", f"score-{a.id}-{m1}": "250"})
    assert bad.status_code == 422


def test_trainee_sees_progress_and_what_is_missing(client, login, make_user, make_trainee, make_cohort,
                                                  make_session, admin, token_for):
    trainee = make_trainee(name="Zineb Alaoui")
    cohort = make_cohort(trainees=[trainee])
    m1, m2 = (m.code for m in cohort.track.modules)
    session = make_session(cohort)
    headers = token_for(admin)
    client.put(f"/api/v1/sessions/{session.id}/attendance", headers=headers,
               json={"records": [{"trainee_id": trainee.id, "status": "present"}]})
    client.put(f"/api/v1/cohorts/{cohort.code}/results", headers=headers,
               json={"records": [{"trainee_id": trainee.id, "module": m1, "passed": True}]})
    account = make_user("trainee", trainee_id=trainee.id)
    login(account)
    page = client.get("/me/progress", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Zineb Alaoui" in page
    assert "In progress" in page and f"Module {m2} not yet passed." in page
    assert "100%" in page  # attendance so far


def test_admin_forms_show_domain_errors_beside_fields(client, login, admin, make_module):
    make_module("AIR-1")
    login(admin)
    before = table_counts()
    page = client.post("/modules", data={"code": "AIR-1", "title_fr": "a", "title_ar": "ب", "title_en": "c",
                                         "hours": "3"}, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "“AIR-1” is already taken." in page
    page = client.post("/trainees/new", data={"name": "X", "name_ar": "س", "email": "bad@", "category": "engineer",
                                              "sector": "health", "region": "oriental", "gender": ""},
                       headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "This is not a valid email address." in page
    assert table_counts() == before


def test_cohort_form_refuses_dates_in_the_wrong_order(client, login, admin, make_track):
    track = make_track()
    login(admin)
    before = table_counts()
    page = client.post("/cohorts/new", data={"code": "BAD-DATES", "track": track.code, "sector": "health",
                                             "region": "oriental", "language": "fr", "starts_on": "2026-12-01",
                                             "ends_on": "2026-11-01"}, headers={"Accept-Language": "en"})
    assert "The end date must not be before the start date." in page.get_data(as_text=True)
    assert table_counts() == before


def test_deleting_a_session_asks_first_and_is_audited(client, login, make_user, make_trainee, make_cohort,
                                                       make_session):
    trainer = make_user("trainer")
    a = make_trainee()
    cohort = make_cohort(trainers=[trainer], trainees=[a])
    session = make_session(cohort)
    login(trainer)
    client.post(f"/cohorts/{cohort.code}/sessions/{session.id}", data={f"status-{a.id}": "present"})
    url = f"/cohorts/{cohort.code}/sessions/{session.id}/delete"
    assert "Please confirm" in client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert db.session.get(TrainingSession, session.id) is not None  # the GET deleted nothing
    assert client.post(url).status_code == 302
    db.session.expire_all()
    assert db.session.get(TrainingSession, session.id) is None
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "session.delete")).one()
    assert entry.actor_id == trainer.id and entry.before["attendance_records"] == 1


def test_session_of_another_cohort_is_not_found(client, login, make_user, make_cohort, make_session):
    trainer = make_user("trainer")
    mine = make_cohort(trainers=[trainer])
    other = make_cohort(trainers=[trainer])
    foreign = make_session(other)
    login(trainer)
    assert client.get(f"/cohorts/{mine.code}/sessions/{foreign.id}").status_code == 404


def test_planning_a_session_with_a_module_outside_the_track(client, login, make_user, make_cohort, make_module):
    trainer = make_user("trainer")
    cohort = make_cohort(trainers=[trainer])
    stray = make_module()
    login(trainer)
    before = table_counts()
    response = client.post(f"/cohorts/{cohort.code}/sessions", data={
        "session-module": stray.code, "session-starts_at": "2026-11-03T09:00", "session-hours": "2"})
    assert response.status_code == 422  # not a choice of this cohort's modules
    assert table_counts() == before


def test_unknown_pages_answer_in_html_and_json(client):
    assert client.get("/nowhere").status_code == 404
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
