"""The RQ worker's entry point: `rq worker kafaa` (same environment as the app) runs `worker.run_job`,
which builds an application and runs the job inside it. Like the WSGI target `app:create_app()`, it sits
above every package, so it may import the factory."""
from __future__ import annotations

from app import create_app
from jobs.runner import run_with_app


def run_job(job_id: int) -> None:
    run_with_app(create_app(), job_id)
