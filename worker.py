"""The RQ worker's entry point: `rq worker kafaa` (same environment as the app) runs `worker.run_job`,
which builds an application and runs the job inside it. Like the WSGI target `app:create_app()`, it sits
above every package, so it may import the factory."""
from __future__ import annotations

from app import create_app
from jobs.runner import run_with_app


def run_job(job_id: int) -> None:
    run_with_app(create_app(), job_id)


def deliver_mail(ids: list[int]) -> None:
    """Send mail from the outbox once its transaction has committed (accounts.mail.hand_over queues this)."""
    from accounts.mail import deliver

    with create_app().app_context():
        deliver(ids)
