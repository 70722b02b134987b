"""The RQ worker's entry point: `rq worker --worker-class worker.Worker kafaa` (same environment as the app)
runs `worker.run_job`, which builds an application and runs the job inside it. Like the WSGI target
`app:create_app()`, it sits above every package, so it may import the factory."""
from __future__ import annotations

from rq import Worker as RQWorker

from accounts.mail import deliver
from app import create_app
from common.extensions import db
from jobs.runner import recover_stopped_jobs, run_with_app


def run_job(job_id: int) -> None:
    run_with_app(create_app(), job_id)


def deliver_mail(ids: list[int]) -> None:
    """Send mail from the outbox once its transaction has committed (accounts.mail.hand_over queues this)."""
    with create_app().app_context():
        deliver(ids)


class Worker(RQWorker):
    """RQ's worker, which first marks failed the jobs left "running" by a worker that died (kill -9, a
    crash, a restart), so their pages say so and an admin can start them again. Each job run does the same
    check for its host (jobs.runner.run); jobs of other hosts are caught by their heartbeat's timeout."""

    def work(self, *args, **kwargs):
        app = create_app()
        with app.app_context():
            stopped = recover_stopped_jobs()
            if stopped:
                app.logger.warning("%d jobs left running by a stopped worker were marked failed", stopped)
            db.session.remove()
        return super().work(*args, **kwargs)
