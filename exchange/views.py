"""The import pages and the export downloads of the web interface.

An import is two steps: the upload is checked (a dry run) and its report shown, rows and columns of every
error included; the file is kept on the server under a random token, so "Import now" re-posts the same
file without asking for it again. A trainee file of more than ASYNC_ABOVE_ROWS rows runs as a job, shown
with a progress bar on the import page (`/imports?job=ID`). A committed trainee import leads to its page
(`/imports/ID`, ID its audit entry), which lists the trainees it created and updated; an attendance import
leads back to its session. Each import page offers a file to fill in (exchange.samples).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from accounts.permissions import require_role
from common.errors import DomainError
from common.extensions import db
from common.forms import choices
from common.templating import current_language
from exchange import queries as import_queries
from exchange.labels import HEADINGS
from exchange.exports import EXPORTS, FORMATS, export_response, small_file_response
from exchange.forms import AttendanceImportForm, ConfirmImportForm, TraineeImportForm
from exchange.imports import attendance, faults, jobs as import_jobs, readers, trainees, uploads
from exchange.samples import (ATTENDANCE_TEMPLATE_WIDTHS, TRAINEE_SAMPLE_WIDTHS, attendance_template,
                              trainee_sample)
from jobs import runner
from jobs.loaders import get_job_or_404
from skills import queries
from skills.loaders import get_cohort_or_404, get_session_or_404

bp = Blueprint("exchange", __name__)

IMPORT_JOB = "exchange.import_trainees"


@bp.app_template_filter("heading")
def heading(column: str) -> str:
    """A column's heading in the reader's language, as the exports write it."""
    return str(HEADINGS[column]) if column in HEADINGS else column


def _async_above() -> int:
    return int(current_app.config.get("IMPORT_ASYNC_ABOVE_ROWS", import_jobs.ASYNC_ABOVE_ROWS))


# --- trainees -------------------------------------------------------------------------------------------

def _trainee_form() -> TraineeImportForm:
    form = TraineeImportForm()
    form.cohort.choices = choices(((c.code, c.code) for c in db.session.scalars(queries.cohorts())),
                                  blank=_("No enrollment"))
    return form


def _render_trainees(form: TraineeImportForm, *, report=None, token=None, job=None, status: int = 200):
    return render_template("exchange/trainees.html", form=form, report=report, job=job,
                           confirm=ConfirmImportForm(token=token) if token else None,
                           confirm_action=url_for("exchange.commit_trainees")), status


def _start_job(token: str, filename: str, dry_run: bool):
    job = runner.start(IMPORT_JOB, {"token": token, "dry_run": dry_run, "locale": current_language(),
                                    "file": filename}, current_user)
    return redirect(url_for("exchange.imports_page", job=job.id))


@bp.get("/imports")
@require_role("admin")
def imports_page():
    """The trainee import form; with ?job=ID, that import's progress, then its report."""
    job = report = token = None
    if "job" in request.args:
        job_id = request.args.get("job", type=int)
        job = get_job_or_404(job_id) if job_id else abort(404)
        if job.kind != IMPORT_JOB:
            abort(404)
        if job.status == "done" and job.summary:
            report, token = job.summary, job.summary.get("token")
    return _render_trainees(_trainee_form(), report=report, token=token, job=job)


@bp.post("/imports/trainees")
@require_role("admin")
def upload_trainees():
    form = _trainee_form()
    if not form.validate_on_submit():
        return _render_trainees(form, status=422)
    upload = form.file.data
    filename, data = upload.filename or "", upload.read()
    try:
        cohort = trainees.cohort_by_code(form.cohort.data)
        # A big file is not even parsed here: the job does it once, under the progress bar.
        large = readers.more_rows_than(data, _async_above())
        table = None if large else readers.read_table(filename, data, max_rows=readers.MAX_TRAINEE_ROWS)
    except DomainError as error:
        return _render_trainees(form, report=faults.refused_report(error, True), status=422)
    token = uploads.keep_upload(current_user, "trainees", filename, data, cohort=cohort.code if cohort else None,
                                large=large)
    if large:
        return _start_job(token, filename, dry_run=True)
    report = trainees.import_trainees(current_user, table, dry_run=True, cohort=cohort)
    db.session.rollback()
    if report["errors"]:
        uploads.drop_upload(token)
        token = None
    return _render_trainees(form, report=report, token=token)


@bp.post("/imports/trainees/commit")
@require_role("admin")
def commit_trainees():
    form = ConfirmImportForm()
    upload = uploads.take_upload(form.token.data, current_user, "trainees") if form.validate_on_submit() else None
    if upload is None:
        flash(_("This file has expired or was imported already. Send it again."), "warning")
        return redirect(url_for("exchange.imports_page"))
    if upload.meta.get("large"):
        return _start_job(upload.token, upload.filename, dry_run=False)
    try:
        table = readers.read_table(upload.filename, upload.data, max_rows=readers.MAX_TRAINEE_ROWS)
        cohort = trainees.cohort_by_code(upload.meta.get("cohort"))
        report = trainees.import_trainees(current_user, table, dry_run=False, cohort=cohort)
    except DomainError as error:
        db.session.rollback()
        uploads.drop_upload(upload.token)
        return _render_trainees(_trainee_form(), report=faults.refused_report(error, False), status=422)
    db.session.commit()
    uploads.drop_upload(upload.token)
    # Label and number, so no language's plural rules apply (Arabic has six forms).
    flash(_("Import done. Created: %(created)d · updated: %(updated)d · enrolled: %(enrolled)d.",
            created=report["created"], updated=report["updated"], enrolled=report["enrolled"]), "success")
    return redirect(url_for("exchange.imported", import_id=report["import_id"]))


@require_role("admin")
def trainee_sample_file(fmt: str):
    """A trainee file to start from: the French headings and two example rows that import cleanly."""
    columns, rows = trainee_sample()
    return small_file_response(f"kafaa-trainees-sample.{fmt}", "stagiaires", fmt, columns, TRAINEE_SAMPLE_WIDTHS,
                               rows)


@bp.get("/imports/<int:import_id>")
@require_role("admin")
def imported(import_id: int):
    """What a committed trainee import wrote: its counts, and its new and updated trainees, 50 a page."""
    entry = import_queries.trainee_import(import_id)
    if entry is None:
        abort(404)
    page = import_queries.imported_trainees(entry, request.args.get("page", 1, type=int) or 1, 50)
    return render_template("exchange/imported.html", entry=entry, summary=entry.after or {}, page=page)


# --- attendance of a session ----------------------------------------------------------------------------

def _session(code: str, session_id: int):
    cohort = get_cohort_or_404(code, manage=True)
    return cohort, get_session_or_404(session_id, manage=True, cohort=cohort)


def _render_attendance(cohort, session, form, *, report=None, token=None, status: int = 200):
    return render_template(
        "exchange/attendance.html", cohort=cohort, session=session, form=form, report=report,
        confirm=ConfirmImportForm(token=token) if token else None,
        confirm_action=url_for("exchange.commit_attendance", code=cohort.code, session_id=session.id)), status


@bp.get("/cohorts/<code>/sessions/<int:session_id>/import")
@require_role("admin", "trainer")
def attendance_page(code: str, session_id: int):
    cohort, session = _session(code, session_id)
    return _render_attendance(cohort, session, AttendanceImportForm())


@require_role("admin", "trainer")
def attendance_roster_file(code: str, session_id: int, fmt: str):
    """The session's roster with an empty status column: fill it in, then import it."""
    cohort, session = _session(code, session_id)
    columns, rows = attendance_template(session)
    return small_file_response(f"kafaa-attendance-{cohort.code}-session{session.id}.{fmt}", "presence", fmt,
                               columns, ATTENDANCE_TEMPLATE_WIDTHS, rows)


@bp.post("/cohorts/<code>/sessions/<int:session_id>/import")
@require_role("admin", "trainer")
def upload_attendance(code: str, session_id: int):
    cohort, session = _session(code, session_id)
    form = AttendanceImportForm()
    if not form.validate_on_submit():
        return _render_attendance(cohort, session, form, status=422)
    upload = form.file.data
    filename, data = upload.filename or "", upload.read()
    try:
        table = readers.read_table(filename, data, max_rows=readers.MAX_ATTENDANCE_ROWS)
        report = attendance.import_attendance(current_user, session, table, dry_run=True)
    except DomainError as error:
        db.session.rollback()
        return _render_attendance(cohort, session, form, report=faults.refused_report(error, True), status=422)
    db.session.rollback()
    token = None
    if not report["errors"]:
        token = uploads.keep_upload(current_user, "attendance", filename, data, session_id=session.id)
    return _render_attendance(cohort, session, form, report=report, token=token)


@bp.post("/cohorts/<code>/sessions/<int:session_id>/import/commit")
@require_role("admin", "trainer")
def commit_attendance(code: str, session_id: int):
    cohort, session = _session(code, session_id)
    form = ConfirmImportForm()
    upload = uploads.take_upload(form.token.data, current_user, "attendance") if form.validate_on_submit() else None
    if upload is None or upload.meta.get("session_id") != session.id:
        flash(_("This file has expired or was imported already. Send it again."), "warning")
        return redirect(url_for("exchange.attendance_page", code=cohort.code, session_id=session.id))
    try:
        table = readers.read_table(upload.filename, upload.data, max_rows=readers.MAX_ATTENDANCE_ROWS)
        report = attendance.import_attendance(current_user, session, table, dry_run=False)
    except DomainError as error:
        db.session.rollback()
        uploads.drop_upload(upload.token)
        return _render_attendance(cohort, session, AttendanceImportForm(),
                                  report=faults.refused_report(error, False), status=422)
    db.session.commit()
    uploads.drop_upload(upload.token)
    flash(ngettext("Attendance imported: %(num)d row changed.", "Attendance imported: %(num)d rows changed.",
                   report["changed"]), "success")
    return redirect(url_for("skills.attendance", code=cohort.code, session_id=session.id))


# --- exports --------------------------------------------------------------------------------------------

@require_role("admin", "trainer")
def export(kind: str, fmt: str):
    return export_response(kind, fmt, current_user, request.args)


for _fmt in FORMATS:
    for _kind in EXPORTS:
        bp.add_url_rule(f"/exports/{_kind}.{_fmt}", endpoint="export", view_func=export, methods=["GET"],
                        defaults={"kind": _kind, "fmt": _fmt})
    bp.add_url_rule(f"/imports/sample.{_fmt}", view_func=trainee_sample_file, methods=["GET"],
                    defaults={"fmt": _fmt})
    bp.add_url_rule(f"/cohorts/<code>/sessions/<int:session_id>/import/roster.{_fmt}",
                    view_func=attendance_roster_file, methods=["GET"], defaults={"fmt": _fmt})
