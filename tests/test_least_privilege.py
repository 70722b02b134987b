"""Least privilege beyond the route matrix: trainers see only the cohorts they teach, the governance cell
sees no person. (Apart from test_permissions.py, whose module-wide worlds would share these rows.)"""
from __future__ import annotations

from common.extensions import db


def test_a_trainer_sees_progress_only_in_the_cohorts_they_teach(client, login, token_for, make_user, make_track,
                                                                make_trainee, make_cohort, make_session):
    """A trainee shared by two cohorts of two tracks: each trainer sees the progress of their own cohort."""
    from skills import operations

    mine, theirs = make_user("trainer"), make_user("trainer")
    shared = make_trainee()
    own_track, other_track = make_track(code="OWN"), make_track(code="OTHER")
    own = make_cohort(track=own_track, code="MINE", trainers=[mine], trainees=[shared])
    other = make_cohort(track=other_track, code="THEIRS", trainers=[theirs], trainees=[shared])
    session = make_session(other)
    admin = make_user("admin")
    operations.record_attendance(admin, session, [{"trainee_id": shared.id, "status": "present"}])
    operations.record_results(admin, other, [{"trainee_id": shared.id, "module": m.code, "passed": True}
                                             for m in other_track.modules])
    db.session.commit()
    tracks = client.get(f"/api/v1/trainees/{shared.id}/progress", headers=token_for(mine)).json["tracks"]
    assert [t["track"] for t in tracks] == ["OWN"]
    assert {t["track"] for t in client.get(f"/api/v1/trainees/{shared.id}/progress",
                                           headers=token_for(admin)).json["tracks"]} == {"OWN", "OTHER"}
    login(mine)
    page = client.get(f"/trainees/{shared.id}").get_data(as_text=True)
    assert own.code in page and other.code not in page
    assert other_track.modules[0].code not in page  # nothing of the other track's modules or results
    login(theirs)
    page = client.get(f"/trainees/{shared.id}").get_data(as_text=True)
    assert other.code in page and own.code not in page


def test_the_governance_cell_sees_no_trainer_address(client, login, token_for, make_user, make_cohort):
    trainer = make_user("trainer", email="trainer.secret@example.ma")
    cohort = make_cohort(trainers=[trainer])
    governance = make_user("governance")
    headers = token_for(governance)
    for answer in (client.get(f"/api/v1/cohorts/{cohort.code}", headers=headers).json,
                   client.get("/api/v1/cohorts", headers=headers).json["items"][0]):
        assert answer["trainers"] == [] and answer["trainer_count"] == 1
    login(governance)
    page = client.get(f"/cohorts/{cohort.code}").get_data(as_text=True)
    assert "trainer.secret" not in page and "1 formateur" in page
    assert "trainer.secret" not in client.get("/cohorts").get_data(as_text=True)
    # Admins still see who teaches.
    assert client.get(f"/api/v1/cohorts/{cohort.code}", headers=token_for(make_user("admin"))).json["trainers"] == [
        trainer.email]
