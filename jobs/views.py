"""A job's progress page, its JSON twin, its result download, and starting a failed job again."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from accounts.bearer import api_blueprint
from accounts.permissions import require_role
from common.errors import DomainError
from common.extensions import db
from common.openapi import INTEGER, STRING, documented, enum, nullable, obj, schema
from jobs import runner
from jobs.forms import RetryForm
from jobs.loaders import get_job_or_404
from jobs.models import WORKER_STOPPED, Job

bp = Blueprint("jobs", __name__)
api_bp = api_blueprint("jobs_api", __name__)


JOB = schema("Job", obj({"id": INTEGER, "kind": STRING, "status": enum(["queued", "running", "done", "failed"]),
                         "done": INTEGER, "total": INTEGER, "percent": INTEGER, "summary": nullable({"type": "object"}),
                         "error": nullable(STRING), "error_message": nullable(STRING),
                         "download_url": nullable(STRING)}))

WORKER_STOPPED_MESSAGE = _l("The worker stopped before the job finished (it was killed or restarted). Nothing "
                            "it left half done was kept: an admin can start it again safely.")
FAILED_MESSAGE = _l("Failed. The error has been logged; you can start it again safely.")


def error_message(job: Job) -> str | None:
    if job.status != "failed":
        return None
    return str(WORKER_STOPPED_MESSAGE if job.error == WORKER_STOPPED else FAILED_MESSAGE)


def job_json(job: Job) -> dict:
    return {"id": job.id, "kind": job.kind, "status": job.status, "done": job.done, "total": job.total,
            "percent": job.percent, "summary": job.summary, "error": job.error, "error_message": error_message(job),
            "download_url": f"/jobs/{job.id}/download" if job.result_path else None}


@bp.get("/jobs/<int:job_id>")
@require_role()
def show(job_id: int):
    job = get_job_or_404(job_id)
    return render_template("jobs/job.html", job=job, error_message=error_message(job))


@bp.get("/jobs/<int:job_id>/download")
@require_role()
def download(job_id: int):
    job = get_job_or_404(job_id)
    if job.status != "done" or not job.result_path or not Path(job.result_path).exists():
        abort(404)
    return send_file(job.result_path, as_attachment=True, download_name=Path(job.result_path).name)


@bp.route("/jobs/<int:job_id>/retry", methods=["GET", "POST"])
@require_role("admin")
def retry(job_id: int):
    """Confirm, then start a failed job again."""
    job = get_job_or_404(job_id)
    form = RetryForm()
    if form.validate_on_submit():
        try:
            runner.retry(job)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            flash(_("The job was started again."), "success")
        return redirect(url_for("jobs.show", job_id=job_id))
    return render_template("confirm.html", form=form, back=url_for("jobs.show", job_id=job_id),
                           question=_("Start this job again from the start? What the failed run finished is "
                                      "not done twice."))


@api_bp.get("/jobs/<int:job_id>")
@require_role()
@documented("A background job's progress", tag="Jobs", responses={200: JOB})
def show_json(job_id: int):
    return job_json(get_job_or_404(job_id))


@api_bp.post("/jobs/<int:job_id>/retry")
@require_role("admin")
@documented("Start a failed job again", tag="Jobs", responses={202: JOB}, errors=(409,),
            description="Only a failed job (its worker stopped, or its task raised an error) can be started "
                        "again; every task is safe to run twice. 409 when the job is not failed.")
def retry_json(job_id: int):
    job = runner.retry(get_job_or_404(job_id))
    return job_json(job), 202
