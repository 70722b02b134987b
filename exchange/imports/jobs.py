"""The background job that runs a big trainee file with a progress bar (the web page starts it for files of
more than ASYNC_ABOVE_ROWS rows). app.py registers it under the kind "exchange.import_trainees"."""
from __future__ import annotations

from functools import partial
from typing import Any

from flask_babel import force_locale, lazy_gettext as _l

from accounts.models import User
from common.database import after_commit
from common.errors import DomainError
from common.extensions import db
from exchange.imports import readers
from exchange.imports.faults import fault, refused_report
from exchange.imports.trainees import cohort_by_code, import_trainees
from exchange.imports.uploads import drop_upload, take_upload

ASYNC_ABOVE_ROWS = 1000  # the web page runs bigger trainee files as a job with a progress bar


def import_trainees_job(job, progress) -> tuple[dict[str, Any], None]:
    """params: token (the kept upload), dry_run, locale (of the messages). The commit writes only after the
    last progress report (each report commits), so it stays all or nothing."""
    params = job.params
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    dry_run = bool(params.get("dry_run", True))
    with force_locale(params.get("locale") or "fr"):
        upload = take_upload(params.get("token"), actor, "trainees")
        if upload is None:
            fault_ = fault(None, None, _l("The uploaded file has expired. Send it again."))
            return {"dry_run": dry_run, "errors": [fault_], "error_count": 1}, None
        try:
            table = readers.read_table(upload.filename, upload.data, max_rows=readers.MAX_TRAINEE_ROWS)
            cohort = cohort_by_code(upload.meta.get("cohort"))
            report = import_trainees(actor, table, dry_run=dry_run, cohort=cohort,
                                     progress=lambda done, total: progress(done, total))
        except DomainError as error:
            db.session.rollback()
            report = refused_report(error, dry_run)
    if not dry_run and not report.get("errors"):
        # The rows commit with the job's outcome (jobs.runner): drop the file only then, so a run whose outcome
        # is dropped (its worker declared stopped) leaves the file for the retry.
        after_commit(partial(drop_upload, upload.token))
    return {**report, "token": upload.token if dry_run and not report.get("errors") else None}, None

