"""Imports and exports on the JSON API under /api/v1.

POST /imports/trainees                        admin; multipart: file, dry_run (default true), cohort
POST /imports/sessions/ID/attendance          admins and the session's cohort's trainers; file, dry_run
GET  /exports/{trainees,attendance,results,certificates}.{csv,xlsx}   see exchange.exports for who sees what

A dry run answers 200 with the report, errors included; a commit answers 200 with the same report, or 422
(problem+json, the report's `errors` list) having written nothing. A file that cannot be read at all answers
422 in both modes.
"""
from __future__ import annotations

from typing import Any

from flask import request

from app import db
from common.api import api_blueprint
from common.errors import FieldErrors
from exchange import imports
from exchange.exports import EXPORTS, FORMATS, export_response
from skills import validation as v
from skills.loaders import get_session_or_404
from skills.permissions import current_actor, require_role

bp = api_blueprint("exchange_api", __name__)


def _upload(max_rows: int) -> tuple[imports.Table, bool]:
    """The multipart file, read, and the dry_run flag (true unless said otherwise)."""
    errors = FieldErrors()
    dry_run = v.boolean(errors, "dry_run", request.values.get("dry_run", "true"))
    if errors.fields:
        raise imports.refuse(errors.fields["dry_run"][0], column="dry_run")
    upload = request.files.get("file")
    if upload is None:
        raise imports.refuse(imports.NO_FILE, column="file")
    return imports.read_table(upload.filename or "", upload.read(), max_rows=max_rows), bool(dry_run)


def _answer(report: dict[str, Any]) -> dict[str, Any]:
    if report["dry_run"]:
        db.session.rollback()  # nothing was written; end the transaction all the same
    else:
        db.session.commit()
    return report


@bp.post("/imports/trainees")
@require_role("admin")
def import_trainees():
    table, dry_run = _upload(imports.MAX_TRAINEE_ROWS)
    cohort = imports.cohort_by_code(request.values.get("cohort"))
    return _answer(imports.import_trainees(current_actor(), table, dry_run=dry_run, cohort=cohort))


@bp.post("/imports/sessions/<int:session_id>/attendance")
@require_role("admin", "trainer")
def import_attendance(session_id: int):
    session = get_session_or_404(session_id, manage=True)
    table, dry_run = _upload(imports.MAX_ATTENDANCE_ROWS)
    return _answer(imports.import_attendance(current_actor(), session, table, dry_run=dry_run))


@require_role("admin", "trainer")
def export(kind: str, fmt: str):
    return export_response(kind, fmt, current_actor(), request.args)


for _kind in EXPORTS:
    for _fmt in FORMATS:
        bp.add_url_rule(f"/exports/{_kind}.{_fmt}", endpoint="export", view_func=export, methods=["GET"],
                        defaults={"kind": _kind, "fmt": _fmt})
