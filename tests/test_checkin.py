"""Self check-in with a rotating code."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from checkin import rules
from common import clock
from common.extensions import db
from skills.models import Attendance, CohortAttendanceTotal
from tests.helpers import PASSWORD, table_counts

START = datetime(2026, 11, 16, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def moment(monkeypatch):
    """A movable clock, starting five minutes after the session begins."""
    state = {"now": START + timedelta(minutes=5)}
    monkeypatch.setattr(clock, "now", lambda: state["now"])
    return state


@pytest.fixture
def room(client, moment, make_user, make_trainee, make_cohort, make_session, token_for):
    """A session with check-in opened by its trainer (late after 10 minutes), two enrolled trainees."""
    trainer = make_user("trainer")
    alice, bilal = make_trainee(name="Alice"), make_trainee(name="Bilal")
    cohort = make_cohort(trainers=[trainer], trainees=[alice, bilal])
    session = make_session(cohort, starts_at=START, hours=3)
    trainer_headers = token_for(trainer)
    opened = client.post(f"/api/v1/sessions/{session.id}/checkin/open", headers=trainer_headers,
                         json={"late_after_minutes": 10})
    assert opened.status_code == 201, opened.json
    accounts = {t: make_user("trainee", trainee_id=t.id) for t in (alice, bilal)}
    return {"session": session, "cohort": cohort, "trainer": trainer, "trainer_headers": trainer_headers,
            "alice": alice, "bilal": bilal, "tokens": {t: token_for(u) for t, u in accounts.items()},
            "accounts": accounts}


def _code(client, room):
    response = client.get(f"/api/v1/sessions/{room['session'].id}/checkin", headers=room["trainer_headers"])
    assert response.status_code == 200
    return response.json


def _check_in(client, room, who, code):
    return client.post("/api/v1/checkin", headers={**room["tokens"][room[who]], "Accept-Language": "en"},
                       json={"code": code})


def test_current_code_is_accepted_and_counts_as_attendance(client, room):
    current = _code(client, room)
    assert current["url"].endswith(f"/checkin/{room['session'].id}/{current['code']}")
    response = _check_in(client, room, "alice", current["code"].lower())
    assert response.status_code == 201 and response.json == {"status": "present", "recorded": True}
    row = db.session.scalars(sa.select(Attendance)).one()
    assert (row.trainee_id, row.status, row.source) == (room["alice"].id, "present", "checkin")
    totals = db.session.get(CohortAttendanceTotal, room["cohort"].id)
    assert (totals.attended, totals.counted) == (1, 1)


def test_expired_code_is_refused(client, room, moment):
    old = _code(client, room)["code"]
    moment["now"] += timedelta(seconds=rules.STEP_SECONDS + rules.GRACE_SECONDS + 1)
    before = table_counts()
    response = _check_in(client, room, "alice", old)
    assert response.status_code == 422 and "code" in response.json["errors"]
    assert table_counts() == before


def test_code_just_replaced_still_works_for_a_few_seconds(client, room, moment):
    moment["now"] = datetime.fromtimestamp((rules.step_of(moment["now"]) + 1) * rules.STEP_SECONDS - 1, timezone.utc)
    old = _code(client, room)["code"]
    moment["now"] += timedelta(seconds=3)
    assert _code(client, room)["code"] != old
    assert _check_in(client, room, "alice", old).status_code == 201


def test_code_of_another_session_is_refused(client, room, make_session):
    other = make_session(room["cohort"], starts_at=START + timedelta(minutes=1), hours=2)
    client.post(f"/api/v1/sessions/{other.id}/checkin/open", headers=room["trainer_headers"], json={})
    other_code = client.get(f"/api/v1/sessions/{other.id}/checkin", headers=room["trainer_headers"]).json["code"]
    response = client.post("/api/v1/checkin", headers=room["tokens"][room["alice"]],
                           json={"code": other_code, "session_id": room["session"].id})
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0


def test_trainee_of_another_cohort_is_refused(client, room, make_trainee, make_cohort, make_user, token_for):
    stranger = make_trainee()
    make_cohort(trainees=[stranger])
    headers = token_for(make_user("trainee", trainee_id=stranger.id))
    response = client.post("/api/v1/checkin", headers={**headers, "Accept-Language": "en"},
                           json={"code": _code(client, room)["code"]})
    assert response.status_code == 422 and "not enrolled" in response.json["detail"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0


def test_checking_in_twice_is_harmless(client, room):
    code = _code(client, room)["code"]
    assert _check_in(client, room, "alice", code).status_code == 201
    again = _check_in(client, room, "alice", code)
    assert again.status_code == 200 and again.json == {"status": "present", "recorded": False}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 1
    totals = db.session.get(CohortAttendanceTotal, room["cohort"].id)
    assert (totals.attended, totals.counted) == (1, 1)


def test_late_after_the_grace_period(client, room, moment):
    moment["now"] = START + timedelta(minutes=11)
    assert _check_in(client, room, "bilal", _code(client, room)["code"]).json["status"] == "late"


def test_outside_the_session_window_is_refused(client, room, moment):
    moment["now"] = START + timedelta(hours=3, minutes=1)
    response = _check_in(client, room, "alice", _code(client, room)["code"])
    assert response.status_code == 422 and "during the session" in response.json["detail"]


def test_a_trainers_manual_status_is_kept(client, room):
    marked = client.put(f"/api/v1/sessions/{room['session'].id}/attendance", headers=room["trainer_headers"],
                        json={"records": [{"trainee_id": room["bilal"].id, "status": "excused"}]})
    assert marked.status_code == 200
    response = _check_in(client, room, "bilal", _code(client, room)["code"])
    assert response.json == {"status": "excused", "recorded": False}
    # And the trainer can still correct a check-in by hand.
    _check_in(client, room, "alice", _code(client, room)["code"])
    client.put(f"/api/v1/sessions/{room['session'].id}/attendance", headers=room["trainer_headers"],
               json={"records": [{"trainee_id": room["alice"].id, "status": "late"}]})
    row = db.session.scalar(sa.select(Attendance).where(Attendance.trainee_id == room["alice"].id))
    assert (row.status, row.source) == ("late", "manual")


def test_closed_or_never_opened_check_in_is_refused(client, room, make_session):
    closed = make_session(room["cohort"], starts_at=START, hours=2)
    assert client.get(f"/api/v1/sessions/{closed.id}/checkin", headers=room["trainer_headers"]).status_code == 409
    response = client.post("/api/v1/checkin", headers=room["tokens"][room["alice"]],
                           json={"code": "ABC123", "session_id": closed.id})
    assert response.status_code == 422


def test_only_the_cohorts_trainers_see_the_code(client, room, make_user, token_for):
    url = f"/api/v1/sessions/{room['session'].id}/checkin"
    assert client.get(url, headers=token_for(make_user("trainer"))).status_code == 403
    assert client.get(url, headers=room["tokens"][room["alice"]]).status_code == 403
    assert client.get(url).status_code == 401


def test_roster_and_phone_flow(client, room, login):
    """The projector's roster shows who checked in; a phone scans, signs in, taps once."""
    code = _code(client, room)["code"]
    url = f"/checkin/{room['session'].id}/{code}"
    assert "/login" in client.get(url).headers["Location"]  # signing in first
    login(room["accounts"][room["alice"]])
    confirm = client.get(url, headers={"Accept-Language": "en"})
    assert confirm.status_code == 200 and "Confirm that you are in the room." in confirm.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0  # GET changed nothing
    done = client.post(url, data={"code": code}, headers={"Accept-Language": "en"})
    assert done.status_code == 200 and "You are checked in" in done.get_data(as_text=True)
    login(room["trainer"])
    state = client.get(f"/cohorts/{room['cohort'].code}/sessions/{room['session'].id}/checkin/state").json
    assert state["present"] == 1 and state["enrolled"] == 2
    assert {p["name"]: p["status"] for p in state["roster"]} == {"Alice": "present", "Bilal": None}
    page = client.get(f"/cohorts/{room['cohort'].code}/sessions/{room['session'].id}/checkin").get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in page and state["code"] in page


def test_typed_code_page(client, room, login):
    login(room["accounts"][room["bilal"]])
    wrong = client.post("/checkin", data={"code": "ZZZZZZ"}, headers={"Accept-Language": "en"})
    assert wrong.status_code == 422 and "not valid or has expired" in wrong.get_data(as_text=True)
    right = client.post("/checkin", data={"code": _code(client, room)["code"]})
    assert right.status_code == 200


# --- a scan remembered through sign-in --------------------------------------------------------------------

def _scan_signed_out(client, room):
    """A phone opens the projector's QR code while signed out: sent to sign in, the scan kept in a ticket."""
    code = _code(client, room)["code"]
    response = client.get(f"/checkin/{room['session'].id}/{code}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    return code, response.headers["Location"]


def _sign_in_at(client, login_url, user):
    """Sign in through the form the redirect led to; returns where sign-in sends the person next."""
    response = client.post(login_url, data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def test_a_scan_made_signed_out_counts_after_signing_in(client, room, moment):
    """Scanned at minute 9 (late after 10), signed in and accepted the notice by minute 13: the code on
    screen has rotated eight times, yet the check-in is recorded, as present, because the scan counts."""
    moment["now"] = START + timedelta(minutes=9)
    user = room["accounts"][room["alice"]]
    user.privacy_notice_version = None  # asked to accept the notice on the way
    db.session.commit()
    code, login_url = _scan_signed_out(client, room)
    moment["now"] = START + timedelta(minutes=12)
    next_url = _sign_in_at(client, login_url, user)
    assert next_url.startswith(f"/checkin/{room['session'].id}/{code}?ticket=")
    notice = client.get(next_url)
    assert notice.status_code == 302 and "/privacy/accept" in notice.headers["Location"]
    accepted = client.post(notice.headers["Location"], data={"accept_privacy": "y"})
    assert accepted.headers["Location"] == next_url
    moment["now"] = START + timedelta(minutes=13)
    assert _code(client, room)["code"] != code  # rotated long ago
    page = client.get(next_url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Confirm that you are in the room." in page and f"Module {room['session'].module.code}" in page
    ticket = next_url.split("ticket=", 1)[1]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0  # GETs wrote nothing
    done = client.post(next_url, data={"code": code, "ticket": ticket}, headers={"Accept-Language": "fr"})
    assert done.status_code == 200, done.get_data(as_text=True)
    text = done.get_data(as_text=True)
    # The confirmation names the session, its date in words and its time in Morocco's time zone, and leads
    # back to the trainee's progress.
    assert "Votre présence est enregistrée" in text and f"Module {room['session'].module.code}" in text
    local = START.astimezone(clock.MOROCCO)
    assert f"<bdi>lundi 16 novembre 2026</bdi> · <bdi>{local:%H:%M}</bdi>" in text and "+00:00" not in text
    assert 'href="/me/progress"' in text
    row = db.session.scalars(sa.select(Attendance)).one()
    assert (row.trainee_id, row.status, row.source) == (room["alice"].id, "present", "checkin")


def test_a_ticket_lasts_a_few_minutes_only(client, room, moment):
    code, login_url = _scan_signed_out(client, room)
    next_url = _sign_in_at(client, login_url, room["accounts"][room["alice"]])
    ticket = next_url.split("ticket=", 1)[1]
    moment["now"] += timedelta(minutes=5, seconds=1)
    before = table_counts()
    page = client.get(next_url, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "This code has expired" in page.get_data(as_text=True)
    refused = client.post(next_url, data={"code": code, "ticket": ticket}, headers={"Accept-Language": "en"})
    assert refused.status_code == 422 and "not valid or has expired" in refused.get_data(as_text=True)
    assert table_counts() == before


def test_a_ticket_is_bound_to_its_session_and_cannot_be_forged(client, room, make_session, login):
    other = make_session(room["cohort"], starts_at=START, hours=3)
    client.post(f"/api/v1/sessions/{other.id}/checkin/open", headers=room["trainer_headers"], json={})
    code, login_url = _scan_signed_out(client, room)
    ticket = _sign_in_at(client, login_url, room["accounts"][room["alice"]]).split("ticket=", 1)[1]
    before = table_counts()
    elsewhere = client.post(f"/checkin/{other.id}/{code}", data={"code": code, "ticket": ticket})
    assert elsewhere.status_code == 422
    forged = client.post(f"/checkin/{room['session'].id}/{code}", data={"code": "ZZZZZZ", "ticket": ticket[:-2] + "xx"})
    assert forged.status_code == 422
    assert table_counts() == before


def test_a_stale_code_scanned_signed_out_gets_no_ticket(client, room, moment):
    old = _code(client, room)["code"]
    moment["now"] += timedelta(minutes=2)
    response = client.get(f"/checkin/{room['session'].id}/{old}")
    assert response.status_code == 302 and "ticket" not in response.headers["Location"]


@pytest.mark.parametrize("language, expected", [("fr", "Veuillez vous connecter"), ("ar", "يرجى تسجيل الدخول")])
def test_signed_out_check_in_asks_to_sign_in_in_the_readers_language(client, room, language, expected):
    response = client.get("/checkin", headers={"Accept-Language": language})
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers={"Accept-Language": language}).get_data(as_text=True)
    assert expected in page and "Please log in" not in page and "Please sign in" not in page


def test_trainees_find_check_in_in_the_menu(client, room, login):
    login(room["accounts"][room["alice"]])
    page = client.get("/me/progress", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'href="/checkin"' in page


# --- the projector -------------------------------------------------------------------------------------

def test_projector_counts_and_names_only_those_in_the_room(client, room, login, make_trainee, make_user):
    """Alice checks in; Bilal is marked absent by hand, Chadia excused, Driss not yet: the room sees 1 / 4
    and only Alice's name. The trainer's own screen still lists everyone with their status."""
    chadia, driss = make_trainee(name="Chadia"), make_trainee(name="Driss")
    from skills import operations as skill_operations
    skill_operations.enrol_trainees(room["trainer"], room["cohort"], [chadia.id, driss.id])
    db.session.commit()
    assert _check_in(client, room, "alice", _code(client, room)["code"]).status_code == 201
    marked = client.put(f"/api/v1/sessions/{room['session'].id}/attendance", headers=room["trainer_headers"],
                        json={"records": [{"trainee_id": room["bilal"].id, "status": "absent"},
                                          {"trainee_id": chadia.id, "status": "excused"}]})
    assert marked.status_code == 200
    login(room["trainer"])
    base = f"/cohorts/{room['cohort'].code}/sessions/{room['session'].id}/checkin"
    state = client.get(f"{base}/room/state").json
    assert (state["present"], state["enrolled"], state["names"]) == (1, 4, ["Alice"])
    assert "roster" not in state
    projected = client.get(f"{base}/room", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Alice" in projected
    for hidden in ("Bilal", "Chadia", "Driss", "Absent", "Excused", room["trainer"].email, 'class="topbar"'):
        assert hidden not in projected
    assert "<bdi" in projected and ">1</span> / 4" in projected
    assert 'id="room-fullscreen"' in projected and "checkin.js" in projected
    assert 'src="data:image/svg+xml;base64,' in projected and state["code"] in projected
    own = client.get(base, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert all(name in own for name in ("Alice", "Bilal", "Chadia", "Driss"))
    assert ">1</span> / 4" in own and "Absent" in own
    trainer_state = client.get(f"{base}/state").json
    assert trainer_state["present"] == 1
    assert {p["name"]: p["in"] for p in trainer_state["roster"]} == {"Alice": True, "Bilal": False, "Chadia": False,
                                                                     "Driss": False}


def test_projector_mode_is_for_the_cohorts_trainers_only(client, room, login, make_user):
    base = f"/cohorts/{room['cohort'].code}/sessions/{room['session'].id}/checkin/room"
    login(make_user("trainer"))
    assert client.get(base).status_code == 403 and client.get(f"{base}/state").status_code == 403
    login(room["accounts"][room["alice"]])
    assert client.get(base).status_code == 403
