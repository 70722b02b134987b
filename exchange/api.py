"""Imports and exports on the JSON API under /api/v1.

POST /imports/trainees                        admin; multipart: file, dry_run (default true), cohort
POST /imports/sessions/ID/attendance          admins and the session's cohort's trainers; file, dry_run
GET  /exports/{trainees,attendance,results,certificates}.{csv,xlsx}   see exchange.exports for who sees what;
                                              codes and English column names (scripts), ?headers=labels
                                              for the reader's language

A dry run answers 200 with the report, errors included; a commit answers 200 with the same report, or 422
(problem+json, the report's `errors` list) having written nothing. A file that cannot be read at all answers
422 in both modes.
"""
from __future__ import annotations

from typing import Any

from flask import request

from accounts.bearer import api_blueprint
from accounts.permissions import current_actor, require_role
from common import validation as v
from common.errors import FieldErrors
from common.extensions import db
from common.openapi import (
    BINARY,
    BOOLEAN,
    ERROR_DESCRIPTIONS,
    INTEGER,
    PROBLEM,
    STRING,
    UPDATED_SINCE,
    Answer,
    Body,
    Param,
    array,
    documented,
    enum,
    nullable,
    obj,
    schema,
)
from exchange.exports import EXPORTS, FORMATS, HEADERS, SEPARATORS, XLSX_MIMETYPE, export_response
from exchange.imports import attendance, faults, readers, trainees
from skills.loaders import get_session_or_404
from skills.vocab import CATEGORIES, REGIONS, SECTORS

bp = api_blueprint("exchange_api", __name__)

# `import_id` (a committed trainee import): its audit entry; the web page /imports/ID lists what it wrote.
# `value`: the offending cell as written (at most 60 characters; a formula-like one behind a quote), or null.
FAULT = obj({"row": nullable(INTEGER), "column": nullable(STRING), "message": STRING, "value": nullable(STRING)})
IMPORT_REPORT = schema("ImportReport", obj({
    "dry_run": BOOLEAN, "file": STRING, "rows": INTEGER, "created": INTEGER, "updated": INTEGER,
    "unchanged": INTEGER, "cohort": nullable(STRING), "enrolled": INTEGER, "session_id": INTEGER,
    "changed": INTEGER, "skipped": INTEGER, "ignored_columns": array(STRING), "errors": array(FAULT),
    "error_count": INTEGER, "import_id": INTEGER}, required=("dry_run", "errors", "error_count")))
# A refused import is a problem document whose `errors` lists every fault by row and column (ImportRefused).
IMPORT_REFUSED = Answer(ERROR_DESCRIPTIONS[422], {PROBLEM: schema("ImportRefused", {
    "type": "object", "required": ["type", "status", "title", "errors", "error_count"],
    "properties": {"type": STRING, "status": INTEGER, "title": STRING, "detail": STRING, "errors": array(FAULT),
                   "error_count": INTEGER}})})


def _upload_body(**fields) -> Body:
    return Body(obj({"file": BINARY, "dry_run": {"type": "string", "enum": ["true", "false"], "default": "true"},
                     **fields}, required=("file",)), media_type="multipart/form-data")


EXPORT_FILTERS = (Param("cohort", STRING, "A cohort's code."), Param("sector", enum(SECTORS)),
                  Param("region", enum(REGIONS)), UPDATED_SINCE,
                  Param("q", STRING, "Trainees only: search in names and emails."),
                  Param("category", enum(CATEGORIES), "Trainees only."),
                  Param("session", {"type": "integer", "minimum": 1}, "Attendance only: one session."),
                  Param("sep", enum(SEPARATORS), "The CSV separator; `;` for Excel in French."),
                  Param("headers", enum(HEADERS),
                        "`codes` (the default here): the stable English column names and codes, for scripts. "
                        "`labels`: column headings and codes (category, sector, region, status…) in the reader's "
                        "language (`lang`, the account's, else Accept-Language), as the web pages export."))
EXPORT_MEDIA = {"csv": "text/csv", "xlsx": XLSX_MIMETYPE}


def _upload(max_rows: int) -> tuple[readers.Table, bool]:
    """The multipart file, read, and the dry_run flag (true unless said otherwise)."""
    errors = FieldErrors()
    dry_run = v.boolean(errors, "dry_run", request.values.get("dry_run", "true"))
    if errors.fields:
        raise faults.refuse(errors.fields["dry_run"][0], column="dry_run")
    upload = request.files.get("file")
    if upload is None:
        raise faults.refuse(faults.NO_FILE, column="file")
    return readers.read_table(upload.filename or "", upload.read(), max_rows=max_rows), bool(dry_run)


def _answer(report: dict[str, Any]) -> dict[str, Any]:
    if report["dry_run"]:
        db.session.rollback()  # nothing was written; end the transaction all the same
    else:
        db.session.commit()
    return report


@bp.post("/imports/trainees")
@require_role("admin")
@documented("Import trainees from CSV or XLSX", tag="Imports", body=_upload_body(cohort=STRING),
            responses={200: IMPORT_REPORT, 422: IMPORT_REFUSED}, errors=(413,),
            description="A dry run (the default) reports what would change; a commit is all or nothing, and answers "
                        "422 with the report's `errors` having written nothing.")
def import_trainees():
    table, dry_run = _upload(readers.MAX_TRAINEE_ROWS)
    cohort = trainees.cohort_by_code(request.values.get("cohort"))
    return _answer(trainees.import_trainees(current_actor(), table, dry_run=dry_run, cohort=cohort))


@bp.post("/imports/sessions/<int:session_id>/attendance")
@require_role("admin", "trainer")
@documented("Import a session's attendance from CSV or XLSX", tag="Imports", body=_upload_body(),
            responses={200: IMPORT_REPORT, 422: IMPORT_REFUSED}, errors=(413,))
def import_attendance(session_id: int):
    session = get_session_or_404(session_id, manage=True)
    table, dry_run = _upload(readers.MAX_ATTENDANCE_ROWS)
    return _answer(attendance.import_attendance(current_actor(), session, table, dry_run=dry_run))


@require_role("admin", "trainer")
@documented("Export {kind} as {fmt}", tag="Exports", query=EXPORT_FILTERS,
            responses=lambda rule: {200: Answer("The file, as an attachment.", {EXPORT_MEDIA[rule["fmt"]]: BINARY})})
def export(kind: str, fmt: str):
    return export_response(kind, fmt, current_actor(), request.args, default_headers="codes")


for _kind in EXPORTS:
    for _fmt in FORMATS:
        bp.add_url_rule(f"/exports/{_kind}.{_fmt}", endpoint="export", view_func=export, methods=["GET"],
                        defaults={"kind": _kind, "fmt": _fmt})
