"""Starting jobs and running them. A task is a function (job, progress) -> (summary, result_path).

A running job carries the process running it (`worker`, "host:pid") and a heartbeat (`heartbeat_at`),
written by every progress report and every JOB_HEARTBEAT_SECONDS by a small thread. A job whose process
is gone (checked on the same host) or silent for JOB_STALE_SECONDS is marked failed, "the worker stopped":
when a worker starts a job (`recover_stopped_jobs`) and when the job's page or API is read (`check_alive`).
An admin can then start it again (`retry`); every task is safe to run twice. A run that was declared
stopped but was only slow finds out at its next progress report and stops there, writing nothing more."""
from __future__ import annotations

import os
import socket
import threading
from datetime import datetime, timedelta
from typing import Callable

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from common.database import lock_row
from common.errors import Conflict
from common.extensions import db
from common.types import utcnow
from jobs.models import WORKER_STOPPED, Job

TASKS: dict[str, Callable] = {}


class Abandoned(Exception):
    """This run was declared stopped (and perhaps started again): it must write nothing more."""


def register_task(kind: str, function: Callable) -> None:
    """Run this function for jobs of this kind. The factory (app.py) registers every package's tasks."""
    TASKS[kind] = function


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def start(kind: str, params: dict, actor) -> Job:
    """Record a job and hand it to a worker. Commits, since the worker must see the row."""
    if kind not in TASKS:
        raise KeyError(kind)
    job = Job(kind=kind, params=params, created_by_id=getattr(actor, "id", None))
    db.session.add(job)
    db.session.commit()
    _hand_over(job)
    return job


def retry(job: Job) -> Job:
    """Start a failed job again, from the start (its task skips what the first run finished). Of two
    retries at once, one starts it; the other gets a 409. Commits."""
    lock_row(job)
    if job.status != "failed":
        raise Conflict(_l("Only a failed job can be started again; this one is %(status)s.",
                          status=str(STATUSES.get(job.status, job.status))))
    job.status, job.done, job.total, job.error = "queued", 0, 0, None
    job.summary, job.result_path, job.finished_at, job.worker, job.heartbeat_at = None, None, None, None, None
    db.session.commit()
    _hand_over(job)
    return job


STATUSES = {"queued": _l("waiting to start"), "running": _l("running"), "done": _l("finished"),
            "failed": _l("failed")}


def _hand_over(job: Job) -> None:
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


def run_with_app(app: Flask, job_id: int) -> None:
    with app.app_context():
        run(job_id)


# --- liveness -----------------------------------------------------------------------------------------

def _process_gone(worker: str | None) -> bool:
    """Whether the process named "host:pid" is known to be gone: only a process of this host can be asked."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def is_stopped(job: Job, now: datetime) -> bool:
    """A running job whose process is gone, or that has not said it was alive for JOB_STALE_SECONDS."""
    if job.status != "running":
        return False
    last = job.heartbeat_at or job.created_at
    stale = now - last > timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])
    return stale or _process_gone(job.worker)


def check_alive(job: Job) -> bool:
    """Mark the job failed ("the worker stopped") if its worker is gone; True when it was. Commits then."""
    if not is_stopped(job, utcnow()):
        return False
    lock_row(job)  # read again under the lock: the worker may have finished or reported meanwhile
    if not is_stopped(job, utcnow()):
        db.session.commit()
        return False
    job.status, job.error, job.finished_at = "failed", WORKER_STOPPED, utcnow()
    db.session.commit()
    current_app.logger.warning("Job %s (%s) marked failed: its worker %s stopped", job.id, job.kind, job.worker)
    return True


def recover_stopped_jobs() -> int:
    """When a worker starts: mark failed every running job whose worker is gone. Returns how many."""
    running = db.session.scalars(sa.select(Job).where(Job.status == "running").order_by(Job.id)).all()
    return sum(check_alive(job) for job in running)


class Heartbeat:
    """Writes the job's heartbeat every JOB_HEARTBEAT_SECONDS on a connection of its own, so a long step
    without progress reports (a report's rendering, an import's final writes) is not taken for a dead
    worker, and so the job's own transaction is never committed by it."""

    def __init__(self, job_id: int, worker: str, seconds: float) -> None:
        self.job_id, self.worker, self.seconds = job_id, worker, seconds
        self.engine = db.engine
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True, name=f"job-{job_id}-heartbeat")

    def __enter__(self) -> "Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=self.seconds + 15)

    def _beat(self) -> None:
        while not self.stopped.wait(self.seconds):
            try:
                with self.engine.begin() as connection:
                    connection.execute(sa.update(Job.__table__).where(
                        Job.id == self.job_id, Job.worker == self.worker, Job.status == "running")
                        .values(heartbeat_at=utcnow()))
            except sa.exc.SQLAlchemyError:  # the database busy or away: the next beat tries again
                pass


# --- running ------------------------------------------------------------------------------------------

def _claim(job_id: int, worker: str) -> Job | None:
    """Take a queued job for this process, once: of two workers handed the same job, one runs it."""
    job = db.session.get(Job, job_id)
    if job is None:
        return None
    lock_row(job)
    if job.status != "queued":
        db.session.rollback()
        return None
    job.status, job.worker, job.heartbeat_at = "running", worker, utcnow()
    db.session.commit()
    return job


def run(job_id: int) -> None:
    worker = this_process()
    try:
        recover_stopped_jobs()
    except sa.exc.SQLAlchemyError:  # never let the housekeeping keep this job from running
        db.session.rollback()
    job = _claim(job_id, worker)
    if job is None:
        db.session.remove()
        return

    def progress(done: int, total: int) -> None:
        # One statement that also proves the job is still this run's: a run declared stopped stops here.
        changed = db.session.execute(sa.update(Job.__table__).where(
            Job.id == job_id, Job.worker == worker, Job.status == "running")
            .values(done=done, total=total, heartbeat_at=utcnow())).rowcount
        if not changed:
            raise Abandoned()
        db.session.commit()

    summary, result_path, error = None, None, None
    try:
        with Heartbeat(job_id, worker, current_app.config["JOB_HEARTBEAT_SECONDS"]):
            summary, result_path = TASKS[job.kind](job, progress)
    except Abandoned:
        db.session.rollback()
        current_app.logger.warning("Job %s (%s) was declared stopped while this run went on: it stops here",
                                   job_id, job.kind)
        db.session.remove()
        return
    except Exception as failure:  # a failed job must say so on its page, whatever the cause
        db.session.rollback()
        current_app.logger.exception("Job %s (%s) failed", job_id, job.kind)
        error = type(failure).__name__
    job = db.session.get(Job, job_id)
    lock_row(job)  # the task's writes (an import's rows) commit with the outcome, if the job is still ours
    if job.status != "running" or job.worker != worker:
        db.session.rollback()
        current_app.logger.warning("Job %s was declared stopped before it finished: its outcome is dropped", job_id)
        db.session.remove()
        return
    if error is None:
        job.summary, job.result_path, job.status = summary, result_path, "done"
    else:
        job.status, job.error = "failed", error
    job.finished_at = utcnow()
    db.session.commit()
    db.session.remove()
