"""A job whose worker died is marked failed ("the worker stopped") when a worker starts and when the job is
read after its heartbeat's timeout; an admin starts it again, and running it again does nothing twice."""
from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.models import OutboxMessage
from certificates.models import Certificate
from common.extensions import db
from common.types import utcnow
from jobs import runner
from jobs.models import WORKER_STOPPED, Job
from skills import operations as skills
from skills.models import Trainee
from tests.test_imports import FRENCH_HEADER, _row, _token, csv_file

# Jobs, their heartbeat and the recovery of stopped ones write on connections of their own.
pytestmark = pytest.mark.multiprocess

EN = {"Accept-Language": "en"}
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def dead_pid() -> int:
    """The pid of a process of this host that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def running_job(admin, *, worker: str, heartbeat_age: float = 0) -> Job:
    job = Job(kind="certificates.issue_cohort", params={"cohort_id": 0, "cohort": "X"}, status="running", done=72,
              total=300, worker=worker, heartbeat_at=utcnow() - timedelta(seconds=heartbeat_age),
              created_by_id=admin.id)
    db.session.add(job)
    db.session.commit()
    return job


def test_a_job_whose_process_is_gone_is_marked_failed_when_read(client, admin, token_for, login):
    job = running_job(admin, worker=f"{socket.gethostname()}:{dead_pid()}")
    body = client.get(f"/api/v1/jobs/{job.id}", headers={**token_for(admin), **EN}).json
    assert (body["status"], body["error"], body["done"]) == ("failed", WORKER_STOPPED, 72)
    assert body["error_message"].startswith("The worker stopped before the job finished")
    login(admin)
    page = client.get(f"/jobs/{job.id}", headers=EN).get_data(as_text=True)
    assert "The worker stopped before the job finished" in page and f"/jobs/{job.id}/retry" in page
    fr = client.get(f"/jobs/{job.id}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Le processus" in fr


def test_a_silent_job_is_marked_failed_after_the_timeout_and_a_live_one_is_not(app, client, admin, token_for):
    headers = token_for(admin)
    elsewhere = "another-host:1"  # its process cannot be asked from here: only the heartbeat tells
    silent = running_job(admin, worker=elsewhere, heartbeat_age=app.config["JOB_STALE_SECONDS"] + 5)
    alive = running_job(admin, worker=elsewhere, heartbeat_age=app.config["JOB_STALE_SECONDS"] - 30)
    mine = running_job(admin, worker=runner.this_process(), heartbeat_age=5)
    assert client.get(f"/api/v1/jobs/{silent.id}", headers=headers).json["status"] == "failed"
    assert client.get(f"/api/v1/jobs/{alive.id}", headers=headers).json["status"] == "running"
    assert client.get(f"/api/v1/jobs/{mine.id}", headers=headers).json["status"] == "running"


def test_only_admins_retry_and_only_a_failed_job(client, admin, make_user, token_for, make_trainee, make_cohort, login):
    cohort = make_cohort(trainees=[make_trainee()])
    trainer = make_user("trainer")
    job = runner.start("certificates.issue_cohort", {"cohort_id": cohort.id, "cohort": cohort.code}, admin)
    db.session.expire_all()
    assert job.status == "done"
    refused = client.post(f"/api/v1/jobs/{job.id}/retry", headers={**token_for(admin), **EN})
    assert refused.status_code == 409 and "Only a failed job" in refused.json["detail"]
    assert client.post(f"/api/v1/jobs/{job.id}/retry", headers=token_for(trainer)).status_code in (403, 404)
    login(trainer)
    assert client.post(f"/jobs/{job.id}/retry").status_code in (403, 404)


def test_kill_9_in_the_middle_of_a_bulk_issuance_then_retry_issues_nobody_twice(
        app, client, admin, token_for, login, make_track, make_trainee, make_cohort, monkeypatch):
    """A real worker process, killed with SIGKILL once it has issued a few certificates."""
    track = make_track(min_attendance=0)
    trainees = [make_trainee() for _ in range(12)]
    cohort = make_cohort(track=track, trainees=trainees)
    skills.record_results(admin, cohort, [{"trainee_id": t.id, "module": m.code, "passed": True}
                                          for t in trainees for m in track.modules])
    job = Job(kind="certificates.issue_cohort", params={"cohort_id": cohort.id, "cohort": cohort.code},
              created_by_id=admin.id)
    db.session.add(job)
    db.session.commit()
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "KEYS_DIR": app.config["KEYS_DIR"],
           "EXPORTS_DIR": app.config["EXPORTS_DIR"], "SECRET_KEY": app.config["SECRET_KEY"],
           "BASE_URL": app.config["BASE_URL"], "PDF_SIGNER_DEVELOPMENT": "1"}
    worker = subprocess.Popen([sys.executable, "-c", f"import worker; worker.run_job({job.id})"], cwd=PROJECT_ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            db.session.rollback()
            done = db.session.scalar(sa.select(Job.done).where(Job.id == job.id))
            if done >= 3 or worker.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert worker.poll() is None, "the worker finished before it could be killed"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    db.session.rollback()
    left = db.session.get(Job, job.id)
    issued_before = db.session.scalar(sa.select(sa.func.count()).select_from(Certificate))
    assert left.status == "running" and 3 <= left.done < 12 and issued_before >= 3  # what kill -9 leaves

    assert runner.recover_stopped_jobs() == 1  # as a worker starting does
    db.session.expire_all()
    assert (db.session.get(Job, job.id).status, db.session.get(Job, job.id).error) == ("failed", WORKER_STOPPED)

    retried = client.post(f"/api/v1/jobs/{job.id}/retry", headers={**token_for(admin), **EN})
    assert retried.status_code == 202, retried.json
    db.session.expire_all()
    again = db.session.get(Job, job.id)
    counts = {key: again.summary[key] for key in ("issued", "already_held", "not_eligible", "failed")}
    assert again.status == "done" and counts == {"issued": 12 - issued_before, "already_held": issued_before,
                                                 "not_eligible": 0, "failed": 0}
    certificates = db.session.scalars(sa.select(Certificate)).all()
    assert len(certificates) == 12 and len({c.trainee_id for c in certificates}) == 12  # nobody got two


def test_the_worker_marks_stopped_jobs_failed_when_it_starts(app, admin, monkeypatch):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set: an RQ worker needs Redis")
    from redis import Redis
    from rq import Queue

    import worker

    for key, value in (("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"]), ("KEYS_DIR", app.config["KEYS_DIR"]),
                       ("EXPORTS_DIR", app.config["EXPORTS_DIR"]), ("SECRET_KEY", app.config["SECRET_KEY"])):
        monkeypatch.setenv(key, value)
    job = running_job(admin, worker=f"{socket.gethostname()}:{dead_pid()}")
    connection = Redis.from_url(os.environ["REDIS_URL"])
    queue = Queue("kafaa-recovery-test", connection=connection)
    queue.empty()
    worker.Worker([queue], connection=connection).work(burst=True)
    db.session.expire_all()
    assert (db.session.get(Job, job.id).status, db.session.get(Job, job.id).error) == ("failed", WORKER_STOPPED)


def _declared_stopped(job_id: int) -> None:
    """What a reader does when it finds the worker silent: from another connection, mark the job failed."""
    with db.engine.begin() as connection:
        connection.execute(sa.update(Job.__table__).where(Job.id == job_id)
                           .values(status="failed", error=WORKER_STOPPED, finished_at=utcnow()))


@pytest.fixture
def test_task(app):
    yield runner.TASKS.__setitem__
    runner.TASKS.pop("test.slow", None)


def test_a_run_declared_stopped_writes_nothing_more(app, admin, test_task):
    def slow(job, progress):
        _declared_stopped(job.id)  # the worker was silent too long; then it carries on, writes and reports
        db.session.add(OutboxMessage(recipient="a@example.ma", subject="written by the run", body="-"))
        db.session.flush()
        progress(1, 2)
        raise AssertionError("progress must stop a run declared stopped")
    test_task("test.slow", slow)
    job = runner.start("test.slow", {}, admin)
    db.session.expire_all()
    assert (db.session.get(Job, job.id).status, db.session.get(Job, job.id).error) == ("failed", WORKER_STOPPED)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_a_run_declared_stopped_after_its_last_report_keeps_none_of_its_writes(app, admin, test_task):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: the run's open transaction would hold off the reader's mark")

    def slow(job, progress):
        db.session.add(OutboxMessage(recipient="a@example.ma", subject="written by the run", body="-"))
        db.session.flush()
        _declared_stopped(job.id)  # the reader marks it while the run's writes wait for the final commit
        return {"written": 1}, None
    test_task("test.slow", slow)
    job = runner.start("test.slow", {}, admin)
    db.session.expire_all()
    assert (db.session.get(Job, job.id).status, db.session.get(Job, job.id).error) == ("failed", WORKER_STOPPED)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_an_import_declared_stopped_before_its_commit_imports_once_when_retried(app, client, admin, login,
                                                                               token_for):
    """The import's rows commit with the job's outcome: a run declared stopped keeps none, the retry all."""
    app.config["IMPORT_ASYNC_ABOVE_ROWS"] = 2
    real = runner.TASKS["exchange.import_trainees"]

    def killed_at_the_end(job, progress):
        def last_report_then_silence(done, total):
            if not job.params.get("dry_run", True):
                _declared_stopped(job.id)  # silent too long while checking the rows
            progress(done, total)
        return real(job, last_report_then_silence)
    login(admin)
    content = csv_file([FRENCH_HEADER] + [_row(f"Big {i}", f"big{i}@example.ma") for i in range(3)])
    response = client.post("/imports/trainees", data={"file": (io.BytesIO(content), "big.csv")},
                           content_type="multipart/form-data")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    runner.TASKS["exchange.import_trainees"] = killed_at_the_end
    try:
        response = client.post("/imports/trainees/commit", data={"token": _token(page)})
    finally:
        runner.TASKS["exchange.import_trainees"] = real
    job_id = int(response.headers["Location"].rsplit("=", 1)[1])
    db.session.expire_all()
    assert db.session.get(Job, job_id).status == "failed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Trainee)) == 0
    assert client.post(f"/api/v1/jobs/{job_id}/retry", headers=token_for(admin)).status_code == 202
    db.session.expire_all()
    assert db.session.get(Job, job_id).status == "done"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Trainee)) == 3
    assert client.post(f"/api/v1/jobs/{job_id}/retry", headers=token_for(admin)).status_code == 409
