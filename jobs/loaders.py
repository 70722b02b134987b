"""Load a job for a request, with the check of who may see it."""
from __future__ import annotations

from flask import abort

from accounts.permissions import current_actor
from common.extensions import db
from jobs import runner
from jobs.models import Job


def get_job_or_404(job_id: int) -> Job:
    """Its creator and admins see a job; to others it does not exist. A running job whose worker stopped
    is marked failed as it is read, so nobody waits on it forever."""
    job = db.get_or_404(Job, job_id)
    actor = current_actor()
    if actor is None or (actor.role != "admin" and job.created_by_id != actor.id):
        abort(404)
    runner.check_alive(job)
    return job
