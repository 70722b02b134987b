"""Background jobs through RQ on Redis, as several instances run them."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from common.extensions import db
from jobs.models import Job

# The RQ worker builds its own app (worker.py), on its own connection.
pytestmark = [pytest.mark.multiprocess,
              pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set: the RQ test needs Redis")]


def test_bulk_issuance_runs_through_an_rq_worker(app, client, login, admin, make_trainee, make_cohort, monkeypatch):
    from redis import Redis
    from rq import Queue, SimpleWorker

    app.config.update(REDIS_URL=os.environ["REDIS_URL"], JOBS_IN_PROCESS=False)
    connection = Redis.from_url(os.environ["REDIS_URL"])
    queue = Queue("kafaa", connection=connection)
    queue.empty()
    # A worker builds its own app from the environment: point it at the test's database and folders.
    for key, value in (("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"]), ("KEYS_DIR", app.config["KEYS_DIR"]),
                       ("EXPORTS_DIR", app.config["EXPORTS_DIR"]), ("SECRET_KEY", app.config["SECRET_KEY"])):
        monkeypatch.setenv(key, value)
    cohort = make_cohort(trainees=[make_trainee()])
    login(admin)
    response = client.post(f"/cohorts/{cohort.code}/certificates")
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert db.session.get(Job, job_id).status == "queued" and queue.count == 1
    SimpleWorker([queue], connection=connection).work(burst=True)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    counts = {key: job.summary[key] for key in ("issued", "already_held", "not_eligible")}
    assert job.status == "done" and counts == {"issued": 0, "already_held": 0, "not_eligible": 1}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1
