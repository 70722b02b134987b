"""Two real instances side by side, as in the README's production section: two gunicorn processes on the
same PostgreSQL and Redis, hit at once from many client threads. Certificates issued, attendance recorded
and certificates revoked through both must give no duplicate serial, no lost or doubled write, an intact
audit chain, and rate limits counted across both.

The instances are separate processes configured only through their environment; the test process sets
the data up through the factories and reads the outcome from the database afterwards."""
from __future__ import annotations

import json
import os
import random
import uuid
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from audit.models import AuditEntry
from bench.servers import gunicorn, http_request, log_errors
from certificates.models import Certificate
from common.extensions import db
from skills.models import Attendance, CohortAttendanceTotal
from skills.rules import ATTENDED_STATUSES, COUNTED_STATUSES

REDIS_URL = os.environ.get("REDIS_URL")
TRAINEES = 10
VERIFY_LIMIT = 4
CLIENT_THREADS = 8

pytestmark = [pytest.mark.multiprocess,
              pytest.mark.skipif(not (os.environ.get("TEST_DATABASE_URL") and REDIS_URL),
                                 reason="two instances need a shared server database and a shared Redis: set "
                                        "TEST_DATABASE_URL (PostgreSQL) and REDIS_URL (.ci/run does)")]


def visitor() -> dict[str, str]:
    """A verifier at an address of its own (behind the one trusted proxy), so earlier runs' counts in Redis
    never touch this run's."""
    address = uuid.uuid4().bytes
    return {"X-Forwarded-For": f"10.{address[0]}.{address[1]}.{address[2]}", "Accept": "application/json"}


@pytest.fixture
def instances(app, keys_dir, tmp_path):
    """Two gunicorn instances (2 sync workers each) on the test's PostgreSQL database and Redis."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two instances share a server database: this runs on PostgreSQL only")
    from certificates.keys import keystore, pdf_signer

    keystore(), pdf_signer()  # the keys every instance loads, made before they start (shared KEYS_DIR)
    env = {"DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": REDIS_URL, "KEYS_DIR": keys_dir,
           "SECRET_KEY": "instances-secret", "BASE_URL": app.config["BASE_URL"], "PDF_SIGNER_DEVELOPMENT": "1",
           "EXPORTS_DIR": str(tmp_path / "exports"), "VERIFY_RATE_LIMIT": f"{VERIFY_LIMIT} per minute",
           "TRUSTED_PROXIES": "1", "RATELIMIT_ENABLED": "1"}
    with gunicorn(env, tmp_path, name="first") as first, gunicorn(env, tmp_path, name="second") as second:
        yield first, second
    for name in ("first", "second"):
        assert log_errors(tmp_path / f"{name}.log") == [], (tmp_path / f"{name}.log").read_text()


def call(base: str, method: str, path: str, headers: dict[str, str], body=None) -> tuple[int, dict]:
    status, _, raw = http_request(method, base + path, headers, body, timeout=60)
    return status, json.loads(raw) if raw else {}


def race(tasks) -> list:
    """Run (function, args...) tasks from many client threads at once, in random order; results in order."""
    order = list(range(len(tasks)))
    random.shuffle(order)
    results: list = [None] * len(tasks)

    def run(index: int) -> None:
        function, *args = tasks[index]
        results[index] = function(*args)
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        list(pool.map(run, order))
    return results


def test_two_instances_issue_record_and_revoke_at_once(app, client, admin, token_for, instances, make_track,
                                                       make_trainee, make_cohort, make_session):
    first, second = instances
    both = (first, second)
    headers = {**token_for(admin), "Accept-Language": "en"}
    track = make_track(min_attendance=0)  # eligibility must not hang on the attendance raced below
    trainees = [make_trainee() for _ in range(TRAINEES)]
    cohort = make_cohort(track=track, trainees=trainees)
    distinct, same, disputed = (make_session(cohort).id for _ in range(3))  # ids: the threads have no db session
    trainee_ids, track_code, cohort_id = [t.id for t in trainees], track.code, cohort.id
    assert client.put(f"/api/v1/cohorts/{cohort.code}/results", headers=headers, json={"records": [
        {"trainee_id": t, "module": m.code, "passed": True, "score": 80} for t in trainee_ids
        for m in track.modules]}).status_code == 200
    statuses = ["present", "late", "absent", "excused"]
    wanted = {t: statuses[i % len(statuses)] for i, t in enumerate(trainee_ids)}

    def attendance(base, session, trainee_id, status):
        return call(base, "PUT", f"/api/v1/sessions/{session}/attendance", headers,
                    {"records": [{"trainee_id": trainee_id, "status": status}]})

    def issue(base, trainee_id):
        return call(base, "POST", "/api/v1/certificates", headers, {"trainee_id": trainee_id, "track": track_code})

    # Each trainee: a certificate asked for through both instances at once; one attendance write to
    # `distinct`; the same write to `same` through both; two different statuses to `disputed`, one each.
    tasks = []
    for i, trainee in enumerate(trainee_ids):
        tasks += [(issue, first, trainee), (issue, second, trainee),
                  (attendance, both[i % 2], distinct, trainee, wanted[trainee]),
                  (attendance, first, same, trainee, "present"), (attendance, second, same, trainee, "present"),
                  (attendance, first, disputed, trainee, "present"), (attendance, second, disputed, trainee, "absent")]
    results = race(tasks)
    assert sorted({status for status, _ in results}) == [200, 201], [(t[0].__name__, t[2:], r) for t, r in zip(tasks, results) if r[0] not in (200, 201)]
    issued = [body for (function, *_), (status, body) in zip(tasks, results) if function is issue]
    assert Tally(status for (function, *_), (status, _) in zip(tasks, results) if function is issue) \
        == {201: TRAINEES, 200: TRAINEES}  # one issued per trainee, the other request got that same one back
    serials = {body["trainee_id"]: body["serial"] for body in issued}
    assert all(serials[body["trainee_id"]] == body["serial"] for body in issued)
    numbers = sorted(int(serial.rsplit("-", 1)[1]) for serial in serials.values())
    assert numbers == list(range(1, TRAINEES + 1))  # no serial shared, none skipped

    # Revoke every other certificate, each through both instances at once: one revocation each.
    to_revoke = sorted(serials.values())[::2]
    revoked = race([(call, base, "POST", f"/api/v1/certificates/{serial}/revoke", headers, {"reason": "Test."})
                    for serial in to_revoke for base in both])
    assert Tally(status for status, _ in revoked) == {200: len(to_revoke), 409: len(to_revoke)}, revoked

    db.session.rollback()  # read what the instances wrote
    rows = {(a.session_id, a.trainee_id): a.status for a in db.session.scalars(sa.select(Attendance))}
    assert {t: rows[(distinct, t)] for t in wanted} == wanted
    assert all(rows[(same, t)] == "present" for t in trainee_ids)
    assert all(rows[(disputed, t)] in ("present", "absent") for t in trainee_ids)
    assert len(rows) == 3 * TRAINEES  # one row per trainee and session, whatever the interleaving
    totals = db.session.get(CohortAttendanceTotal, cohort_id)
    assert (totals.attended, totals.counted) == (sum(s in ATTENDED_STATUSES for s in rows.values()),
                                                 sum(s in COUNTED_STATUSES for s in rows.values()))
    actions = Tally(db.session.scalars(sa.select(AuditEntry.action)))
    assert actions["certificate.issue"] == TRAINEES and actions["certificate.revoke"] == len(to_revoke)
    certificates = db.session.scalars(sa.select(Certificate)).all()
    assert len(certificates) == TRAINEES and {c.serial for c in certificates if c.revoked_at} == set(to_revoke)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output

    # Every instance tells the same status; the verification limit is counted across both.
    paths = {c.serial: "/v/" + c.token for c in certificates}
    for serial, path in paths.items():
        for base in both:
            status, body = call(base, "GET", path, visitor())
            assert body["status"] == ("revoked" if serial in to_revoke else "valid"), (serial, status, body)
    one_visitor = visitor()
    path = paths[sorted(paths)[1]]
    statuses = [call(both[i % 2], "GET", path, one_visitor)[0] for i in range(VERIFY_LIMIT + 2)]
    assert statuses == [200] * VERIFY_LIMIT + [429, 429]
