"""Starting jobs and running them. A task is a function (job, progress) -> (summary, result_path)."""
from __future__ import annotations

import threading
from typing import Callable

from flask import Flask, current_app

from common.extensions import db
from common.types import utcnow
from jobs.models import Job

TASKS: dict[str, Callable] = {}


def register_task(kind: str, function: Callable) -> None:
    """Run this function for jobs of this kind. The factory (app.py) registers every package's tasks."""
    TASKS[kind] = function


def start(kind: str, params: dict, actor) -> Job:
    """Record a job and hand it to a worker. Commits, since the worker must see the row."""
    if kind not in TASKS:
        raise KeyError(kind)
    job = Job(kind=kind, params=params, created_by_id=getattr(actor, "id", None))
    db.session.add(job)
    db.session.commit()
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url and not current_app.config.get("JOBS_IN_PROCESS"):
        from redis import Redis
        from rq import Queue

        # Named, not imported: the worker process builds its own app (worker.py, at the top floor).
        Queue("kafaa", connection=Redis.from_url(redis_url)).enqueue("worker.run_job", job.id, job_timeout=3600)
    else:
        app = current_app._get_current_object()
        thread = threading.Thread(target=run_with_app, args=(app, job.id), daemon=True, name=f"job-{job.id}")
        thread.start()
        if current_app.config.get("JOBS_SYNCHRONOUS"):  # tests: wait, so assertions see the outcome
            thread.join()
    return job


def run_with_app(app: Flask, job_id: int) -> None:
    with app.app_context():
        run(job_id)


def run(job_id: int) -> None:
    job = db.session.get(Job, job_id)
    if job is None or job.status not in ("queued",):
        return
    job.status = "running"
    db.session.commit()

    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total
        db.session.commit()

    try:
        job.summary, job.result_path = TASKS[job.kind](job, progress)
        job.status = "done"
    except Exception as error:  # a failed job must say so on its page, whatever the cause
        db.session.rollback()
        current_app.logger.exception("Job %s (%s) failed", job.id, job.kind)
        job = db.session.get(Job, job_id)
        job.status, job.error = "failed", type(error).__name__
    job.finished_at = utcnow()
    db.session.commit()
    db.session.remove()
