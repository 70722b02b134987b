"""Decide once: simultaneous decisions on one shared row, sent at the same moment to two real gunicorn
instances (2 sync workers each) on PostgreSQL, give one effect and clear answers for the rest (409 or the
idempotent 200), never a 500. And a deadlock or serialization failure is retried once, then a 409.

The instances are separate processes configured only through their environment; the test process sets the
data up through the factories and reads the outcome from the database afterwards."""
from __future__ import annotations

import json
import threading
from collections import Counter as Tally

import pytest
import sqlalchemy as sa

from accounts.models import OutboxMessage
from app import create_app
from audit.models import AuditEntry
from bench.servers import gunicorn, http_request, log_errors
from certificates.models import Certificate
from certificates.operations import issue_certificate
from common.extensions import db
from privacy.models import CorrectionRequest
from skills import operations as skills
from skills.models import ModuleResult
from tests.helpers import TEST_CONFIG

EN = {"Accept-Language": "en"}


@pytest.fixture(scope="module")
def instances(database_url, keys_dir, tmp_path_factory):
    """Two gunicorn instances (2 sync workers each) on the test's PostgreSQL database, for the whole module."""
    if not database_url.startswith("postgresql"):
        pytest.skip("instances share a server database and PostgreSQL locks rows: this runs on PostgreSQL only")
    from certificates.keys import keystore, pdf_signer

    made = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "KEYS_DIR": keys_dir})
    with made.app_context():
        keystore(), pdf_signer()  # the keys every instance loads, made before they start (shared KEYS_DIR)
        db.engine.dispose()
    workdir = tmp_path_factory.mktemp("races")
    env = {"DATABASE_URL": database_url, "KEYS_DIR": keys_dir, "SECRET_KEY": TEST_CONFIG["SECRET_KEY"],
           "BASE_URL": TEST_CONFIG["BASE_URL"], "PDF_SIGNER_DEVELOPMENT": "1", "EXPORTS_DIR": str(workdir / "exports"),
           "RATELIMIT_ENABLED": "0"}
    with gunicorn(env, workdir, name="first") as first, gunicorn(env, workdir, name="second") as second:
        yield first, second
    for name in ("first", "second"):
        assert log_errors(workdir / f"{name}.log") == [], (workdir / f"{name}.log").read_text()


def at_once(requests: list[tuple[str, str, str, dict, object]]) -> list[tuple[int, dict]]:
    """Send every (base, method, path, headers, body) from its own thread, released together."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def send(index: int) -> None:
        base, method, path, headers, body = requests[index]
        barrier.wait()
        status, _, raw = http_request(method, base + path, headers, body, timeout=60)
        results[index] = (status, json.loads(raw) if raw else {})
    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _actions() -> Tally:
    db.session.rollback()  # read what the instances wrote
    return Tally(db.session.scalars(sa.select(AuditEntry.action)))


@pytest.fixture
def holder(admin, make_user, make_trainee, make_track, make_cohort):
    """A trainee with an account and a valid certificate."""
    track = make_track(min_attendance=0)
    trainee = make_trainee(name="Salma Bennani")
    cohort = make_cohort(track=track, trainees=[trainee])
    skills.record_results(admin, cohort, [{"trainee_id": trainee.id, "module": m.code, "passed": True}
                                          for m in track.modules])
    db.session.commit()
    certificate, _ = issue_certificate(admin, trainee, track)
    db.session.commit()
    return make_user("trainee", trainee_id=trainee.id), certificate


@pytest.mark.multiprocess
def test_four_approvals_of_one_correction_give_one_reissue_one_entry_one_mail(instances, holder, token_for, admin):
    user, certificate = holder
    first, second = instances
    asked = http_request("POST", first + "/api/v1/me/corrections", token_for(user),
                         {"field": "name", "value": "Salma Bennani Alaoui"})
    assert asked[0] == 201, asked
    correction_id = json.loads(asked[2])["id"]
    headers = {**token_for(admin), **EN}
    results = at_once([(base, "POST", f"/api/v1/corrections/{correction_id}/approve", headers, {"note": "ok"})
                       for base in (first, second, first, second)])
    assert sorted(status for status, _ in results) == [200, 409, 409, 409], results
    assert all(body["detail"] == "This request has already been handled." for status, body in results if status == 409)
    actions = _actions()
    assert actions["correction.approve"] == 1 and actions["certificate.issue"] == 2  # the first issue, one reissue
    certificates = db.session.scalars(sa.select(Certificate).order_by(Certificate.id)).all()
    assert len(certificates) == 2 and certificates[0].superseded_by_id == certificates[1].id
    assert certificates[1].holder == "Salma Bennani Alaoui" and certificates[1].superseded_at is None
    (winner,) = [body for status, body in results if status == 200]
    assert winner["reissued"] == [certificates[1].serial]
    mails = db.session.scalars(sa.select(OutboxMessage.subject).where(OutboxMessage.recipient == user.email)).all()
    assert mails == ["Votre demande de correction a été approuvée"]  # one mail, in the trainee's language
    assert len(_holder_mails(certificate)) == 1  # the first issue's: the correction's reissue is told above


@pytest.mark.multiprocess
def test_approve_and_reject_at_once_one_decision_wins(instances, holder, token_for, admin):
    user, _ = holder
    first, second = instances
    headers = {**token_for(admin), **EN}
    trainee_headers = token_for(user)
    outcomes = Tally()
    for round_ in range(3):
        asked = http_request("POST", first + "/api/v1/me/corrections", trainee_headers,
                             {"field": "other", "value": f"My employer is now number {round_}"})
        assert asked[0] == 201, asked
        correction_id = json.loads(asked[2])["id"]
        approve, reject = at_once([
            (first, "POST", f"/api/v1/corrections/{correction_id}/approve", headers, {}),
            (second, "POST", f"/api/v1/corrections/{correction_id}/reject", headers, {"note": "No proof."})])
        assert sorted([approve[0], reject[0]]) == [200, 409], (approve, reject)
        db.session.rollback()
        status = db.session.get(CorrectionRequest, correction_id).status
        assert status == ("approved" if approve[0] == 200 else "rejected")
        outcomes[status] += 1
    actions = _actions()
    assert actions["correction.approve"] + actions["correction.reject"] == 3
    assert actions["correction.approve"] == outcomes["approved"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.recipient == user.email)) == 3  # one mail per decision


@pytest.mark.multiprocess
def test_eight_reissues_at_once_make_one_certificate(instances, holder, token_for, admin):
    _, certificate = holder
    first, second = instances
    headers = {**token_for(admin), **EN}
    results = at_once([(base, "POST", f"/api/v1/certificates/{certificate.serial}/reissue", headers, None)
                       for base in (first, second) * 4])
    assert Tally(status for status, _ in results) == {201: 1, 409: 7}, results
    assert all("is not" in body["detail"] for status, body in results if status == 409)
    db.session.rollback()
    current = db.session.scalars(sa.select(Certificate).where(Certificate.superseded_at.is_(None))).all()
    assert len(current) == 1 and db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 2
    assert _actions()["certificate.issue"] == 2
    issue, reissue = _holder_mails(certificate)  # the holder is told of the one reissue, once
    assert current[0].serial in reissue.body and certificate.serial in reissue.body


@pytest.mark.multiprocess
def test_four_revocations_at_once_revoke_once_and_mail_once(instances, holder, token_for, admin):
    _, certificate = holder
    first, second = instances
    headers = {**token_for(admin), **EN}
    results = at_once([(base, "POST", f"/api/v1/certificates/{certificate.serial}/revoke", headers,
                        {"reason": f"reason {n}", "message": f"message {n}"})
                       for n, base in enumerate((first, second) * 2)])
    assert sorted(status for status, _ in results) == [200, 409, 409, 409], results
    (winner,) = [body for status, body in results if status == 200]
    assert _actions()["certificate.revoke"] == 1
    issue, revoked = _holder_mails(certificate)
    assert winner["revocation_reason"].replace("reason", "message") in revoked.body


def _holder_mails(certificate: Certificate) -> list[OutboxMessage]:
    db.session.rollback()
    email = db.session.get(Certificate, certificate.id).trainee.email
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == email)
                                   .order_by(OutboxMessage.id)))


@pytest.mark.multiprocess
def test_two_results_saves_with_new_rows_at_once(instances, token_for, admin, make_trainee, make_track, make_cohort):
    first, second = instances
    track = make_track(min_attendance=0)
    trainees = [make_trainee() for _ in range(6)]
    cohort = make_cohort(track=track, trainees=trainees)
    headers = {**token_for(admin), **EN}
    modules = [m.code for m in track.modules]
    for round_ in range(3):  # each round: rows no save has written yet, sent twice at once
        pair = [t.id for t in trainees[2 * round_:2 * round_ + 2]]
        body = {"records": [{"trainee_id": t, "module": m, "passed": True, "score": 70 + round_}
                            for t in pair for m in modules]}
        other = {"records": [{"trainee_id": t, "module": m, "passed": False, "score": 20}
                             for t in pair for m in modules]}
        results = at_once([(first, "PUT", f"/api/v1/cohorts/{cohort.code}/results", headers, body),
                           (second, "PUT", f"/api/v1/cohorts/{cohort.code}/results", headers,
                            body if round_ < 2 else other)])
        assert [status for status, _ in results] == [200, 200], results
    db.session.rollback()
    rows = db.session.scalars(sa.select(ModuleResult).where(ModuleResult.cohort_id == cohort.id)).all()
    assert len(rows) == 6 * len(modules)  # one row per trainee and module, whatever the interleaving
    assert all(r.passed and r.score == 70 + i // 2 for i, t in enumerate(trainees[:4])
               for r in rows if r.trainee_id == t.id)
    last = {(r.passed, int(r.score)) for r in rows if r.trainee_id in (trainees[4].id, trainees[5].id)}
    assert last in ({(True, 72)}, {(False, 20)})  # one save or the other, whole: never a mix
    assert _actions()["results.record"] == 4  # rounds 1 and 2: the second save of the same rows changed nothing


# --- a deadlock or serialization failure: retried once, then a clear 409 --------------------------------

RAISE = "DO $$ BEGIN RAISE EXCEPTION 'raced' USING ERRCODE = '{code}'; END $$"


@pytest.fixture
def flaky_route(app):
    """A route that writes a row, then meets PostgreSQL's own deadlock error (SQLSTATE 40P01) or
    serialization failure (40001) on its first `failures` calls."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("deadlocks and serialization failures are PostgreSQL's")
    state = {"calls": 0, "failures": 1, "code": "40P01"}

    def view():
        state["calls"] += 1
        db.session.add(OutboxMessage(recipient="race@example.ma", subject=f"call {state['calls']}", body="-"))
        db.session.flush()
        if state["calls"] <= state["failures"]:
            db.session.execute(sa.text(RAISE.format(code=state["code"])))
        db.session.commit()
        return {"calls": state["calls"]}
    app.add_url_rule("/api/v1/test-race", "test_race", view, methods=["POST"])
    return state


# These add a route, so they take an app of their own (multiprocess), never the worker's shared one.
@pytest.mark.multiprocess
@pytest.mark.parametrize("code", ["40P01", "40001"])
def test_a_deadlock_is_retried_once(client, flaky_route, code):
    flaky_route["code"] = code
    response = client.post("/api/v1/test-race")
    assert response.status_code == 200 and response.json == {"calls": 2}
    assert db.session.scalars(sa.select(OutboxMessage.subject)).all() == ["call 2"]  # the first try left nothing


@pytest.mark.multiprocess
def test_a_second_deadlock_is_a_clear_409_and_saves_nothing(client, flaky_route):
    flaky_route["failures"] = 5
    response = client.post("/api/v1/test-race", headers=EN)
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert "nothing was saved" in response.json["detail"] and flaky_route["calls"] == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    page = client.post("/api/v1/test-race", headers={**EN, "Accept": "text/html"})
    assert page.status_code == 409
