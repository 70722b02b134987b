"""The attendance import: a session's attendance from a file, recorded through skills' record_attendance.
A dry run records inside a savepoint and rolls it back, so it reports exactly what a commit would change."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import User
from common.errors import ValidationFailed
from common.extensions import db
from exchange.imports.columns import ATTENDANCE_COLUMNS, map_columns, normalise, sorted_faults, value_aliases
from exchange.imports.faults import MAX_LISTED_ERRORS, ImportRefused, fault, refuse
from exchange.imports.plan import chunks
from exchange.imports.readers import Table
from skills import operations
from skills.models import Trainee, TrainingSession


def import_attendance(actor: User, session: TrainingSession, table: Table, *, dry_run: bool) -> dict[str, Any]:
    """Check (dry run) or record a session's attendance from a file, through record_attendance.

    Each row names a trainee by number (trainee_id) or email, and gives a status: a code (present, late,
    excused, absent), its label in French, Arabic or English, or one letter (P, R or L, E, A). A row with a
    blank status is skipped. A dry run records inside a savepoint and rolls it back, so it reports exactly
    what a commit would change. Returns {"dry_run", "file", "session_id", "rows", "changed", "skipped",
    "ignored_columns", "errors", "error_count"}; a commit with any bad row raises ImportRefused."""
    columns = map_columns(table, ATTENDANCE_COLUMNS)
    if "status" not in columns.index or not ({"trainee_id", "email"} & columns.index.keys()):
        raise refuse(_l("The file needs a status column (“status” or “statut”) and a column naming the trainee "
                        "(“trainee_id” or “email”)."), row=table.header_row)
    statuses = value_aliases("status")
    errors: list[dict[str, Any]] = []
    names = columns.names
    wanted: list[tuple[int, str | None, str | None, str | None]] = []  # row, trainee id, email, status
    skipped = 0
    for number, cells in table.rows:
        status = columns.value(cells, "status")
        if status is None:
            skipped += 1
            continue
        session_ref = columns.value(cells, "session_id")
        if session_ref is not None and session_ref != str(session.id):
            errors.append(fault(number, names["session_id"],
                                _l("This row is for session %(other)s, not %(id)d.", other=session_ref,
                                   id=session.id), session_ref))
            continue
        wanted.append((number, columns.value(cells, "trainee_id"), columns.value(cells, "email"),
                       statuses.get(normalise(status), status)))

    emails = {email.lower() for _, _, email, _ in wanted if email}
    by_email: dict[str, int] = {}
    for chunk in chunks(sorted(emails)):
        by_email.update(db.session.execute(sa.select(Trainee.email, Trainee.id).where(Trainee.email.in_(chunk))).all())
    ids = sorted({int(ref) for _, ref, _, _ in wanted if ref and ref.isdigit()})
    email_of: dict[int, str] = {}
    if "email" in columns.index:
        for chunk in chunks(ids):
            email_of.update(db.session.execute(sa.select(Trainee.id, Trainee.email).where(Trainee.id.in_(chunk))).all())

    records: list[dict[str, Any]] = []
    origin: list[tuple[int, str]] = []  # for each record: its row, and the column that named the trainee
    for number, ref, email, status in wanted:
        if ref is not None:
            if email and ref.isdigit() and int(ref) in email_of and email_of[int(ref)] != email.lower():
                errors.append(fault(number, names["email"],
                                    _l("Trainee %(id)s has another email address.", id=ref), email))
                continue
            records.append({"trainee_id": ref, "status": status})
            origin.append((number, names["trainee_id"]))
        elif email is not None:
            if email.lower() not in by_email:
                errors.append(fault(number, names["email"], _l("No trainee has this email address."), email))
                continue
            records.append({"trainee_id": by_email[email.lower()], "status": status})
            origin.append((number, names["email"]))
        else:
            column = names["trainee_id"] if "trainee_id" in columns.index else names["email"]
            errors.append(fault(number, column, _l("Say which trainee: give a number or an email address.")))

    changed = 0
    if records:
        savepoint = db.session.begin_nested()
        try:
            changed = operations.record_attendance(actor, session, records)
        except ValidationFailed as error:
            savepoint.rollback()
            errors.extend(_record_faults(error, origin, names, records))
        else:
            if dry_run or errors:
                savepoint.rollback()
            else:
                savepoint.commit()
    errors = sorted_faults(errors, columns, ATTENDANCE_COLUMNS)
    report = {"dry_run": dry_run, "file": table.filename, "session_id": session.id, "rows": len(table.rows),
              "changed": changed, "skipped": skipped, "ignored_columns": columns.ignored,
              "errors": errors[:MAX_LISTED_ERRORS], "error_count": len(errors)}
    if not records and not errors:
        raise refuse(_l("No row has a status: there is nothing to record."))
    if errors and not dry_run:
        raise ImportRefused(errors, report)
    return report


def _record_faults(error: ValidationFailed, origin: list[tuple[int, str]], names: dict[str, str],
                   records: list[dict[str, Any]]) -> list[dict]:
    """record_attendance names faults records.<index>.<field>: put them back on the file's rows."""
    faults = []
    for key, messages in error.fields.items():
        parts = key.split(".")
        value = None
        if len(parts) == 3 and parts[0] == "records" and parts[1].isdigit() and int(parts[1]) < len(origin):
            row, trainee_column = origin[int(parts[1])]
            column = trainee_column if parts[2] == "trainee_id" else names.get(parts[2], parts[2])
            value = records[int(parts[1])].get(parts[2])
        else:
            row, column = None, None
        faults.extend(fault(row, column, message, value) for message in messages)
    if not error.fields:
        faults.append(fault(None, None, error.message))
    return faults
