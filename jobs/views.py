"""A job's progress page, its JSON twin, and its result download."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, render_template, send_file

from accounts.bearer import api_blueprint
from accounts.permissions import require_role
from common.openapi import INTEGER, STRING, documented, enum, nullable, obj, schema
from jobs.loaders import get_job_or_404
from jobs.models import Job

bp = Blueprint("jobs", __name__)
api_bp = api_blueprint("jobs_api", __name__)


JOB = schema("Job", obj({"id": INTEGER, "kind": STRING, "status": enum(["queued", "running", "done", "failed"]),
                         "done": INTEGER, "total": INTEGER, "percent": INTEGER, "summary": nullable({"type": "object"}),
                         "error": nullable(STRING), "download_url": nullable(STRING)}))


def job_json(job: Job) -> dict:
    return {"id": job.id, "kind": job.kind, "status": job.status, "done": job.done, "total": job.total,
            "percent": job.percent, "summary": job.summary, "error": job.error,
            "download_url": f"/jobs/{job.id}/download" if job.result_path else None}


@bp.get("/jobs/<int:job_id>")
@require_role()
def show(job_id: int):
    return render_template("jobs/job.html", job=get_job_or_404(job_id))


@bp.get("/jobs/<int:job_id>/download")
@require_role()
def download(job_id: int):
    job = get_job_or_404(job_id)
    if job.status != "done" or not job.result_path or not Path(job.result_path).exists():
        abort(404)
    return send_file(job.result_path, as_attachment=True, download_name=Path(job.result_path).name)


@api_bp.get("/jobs/<int:job_id>")
@require_role()
@documented("A background job's progress", tag="Jobs", responses={200: JOB})
def show_json(job_id: int):
    return job_json(get_job_or_404(job_id))
