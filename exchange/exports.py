"""Exports of the registry as CSV or XLSX: trainees, attendance, results and certificates.

Rows are read in chunks (yield_per) and CSV is streamed, so a 100,000-row export never sits in memory;
XLSX is written by openpyxl's write-only workbook, row by row, into a temporary file.

Who may export what: admins everything; a trainer the trainees, attendance and results of the cohorts they
teach (certificates: admins only); the governance cell and trainees nothing personal (403).

CSV is UTF-8 with a BOM (so Excel reads Arabic names correctly) and comma-separated by default, as RFC 4180
and every program reading CSV expect; `?sep=;` gives the semicolon (and decimal comma) that Excel in a
French locale opens in columns on a double click. Columns are headed, and codes (category, sector, region,
status…) written, in the reader's language (exchange.labels); `?headers=codes` writes the codes alone, as
scripts expect them. Either way an exported file imports back: the imports read headings and labels in every
language. Times are in Morocco's time zone.

A text cell that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) is
written as text: in CSV behind a single quote, in XLSX as a string cell with the quote prefix.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import sqlalchemy as sa
from flask import Response
from sqlalchemy.orm import Session, aliased

from accounts.models import User
from common import clock, validation as v
from common.clock import MOROCCO
from common.errors import FieldErrors, Forbidden
from common.extensions import db
from exchange.labels import headings, values_of
from skills import queries
from skills.filters import ListFilters, list_filters
from skills.models import Attendance, Cohort, Module, ModuleResult, Track, Trainee, TrainingSession, cohort_trainers

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 1000
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
SEPARATORS = {",": ",", "comma": ",", ";": ";", "semicolon": ";"}
HEADERS = ("labels", "codes")  # ?headers=: in the reader's language (the default), or codes for scripts


def neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, made plain text by a leading single quote (for CSV)."""
    return "'" + text if text.startswith(FORMULA_START) else text


@dataclass(frozen=True)
class Export:
    roles: tuple[str, ...]
    columns: tuple[str, ...]
    widths: tuple[int, ...]
    select: Callable[[User, ListFilters], sa.Select]
    row: Callable[[Any], Sequence[Any]]
    entity: bool  # the select returns model objects (scalars) rather than rows


def _taught_by(actor: User):
    return sa.select(cohort_trainers.c.cohort_id).where(cohort_trainers.c.user_id == actor.id)


def _person_filters(query: sa.Select, f: ListFilters) -> sa.Select:
    """Sector and region are the trainee's, as on the trainees list."""
    if f.sector:
        query = query.where(Trainee.sector == f.sector)
    if f.region:
        query = query.where(Trainee.region == f.region)
    return query


def _cohort_scope(query: sa.Select, actor: User, f: ListFilters, cohort_id, recorded_at) -> sa.Select:
    """Records of a cohort: a trainer's own cohorts only, then the filters."""
    if actor.role == "trainer":
        query = query.where(cohort_id.in_(_taught_by(actor)))
    if f.cohort:
        query = query.where(cohort_id == f.cohort.id)
    if f.updated_since:
        query = query.where(recorded_at >= f.updated_since)
    return _person_filters(query, f)


# --- trainees -------------------------------------------------------------------------------------------

def trainees_select(actor: User, f: ListFilters) -> sa.Select:
    return queries.trainees(f.q, sector=f.sector, region=f.region, category=f.category,
                            cohort_id=f.cohort.id if f.cohort else None, updated_since=f.updated_since,
                            visible_to=actor)


def trainee_row(t: Trainee) -> list[Any]:
    return [t.id, t.name, t.name_ar, t.name_tfng, t.email, t.category, t.sector, t.region, t.gender, t.employer,
            t.updated_at]


# --- attendance -----------------------------------------------------------------------------------------

def attendance_select(actor: User, f: ListFilters) -> sa.Select:
    query = (sa.select(Attendance.session_id, Cohort.code.label("cohort"), Module.code.label("module"),
                       TrainingSession.starts_at, Attendance.trainee_id, Trainee.name, Trainee.name_ar,
                       Trainee.email, Attendance.status, Attendance.source, Attendance.recorded_at)
             .join(TrainingSession, TrainingSession.id == Attendance.session_id)
             .join(Cohort, Cohort.id == TrainingSession.cohort_id)
             .join(Module, Module.id == TrainingSession.module_id)
             .join(Trainee, Trainee.id == Attendance.trainee_id)
             .order_by(TrainingSession.starts_at, Attendance.session_id, Attendance.trainee_id))
    if f.session:
        query = query.where(Attendance.session_id == f.session.id)
    return _cohort_scope(query, actor, f, TrainingSession.cohort_id, Attendance.recorded_at)


# --- results --------------------------------------------------------------------------------------------

def results_select(actor: User, f: ListFilters) -> sa.Select:
    query = (sa.select(Cohort.code.label("cohort"), Module.code.label("module"), ModuleResult.trainee_id,
                       Trainee.name, Trainee.name_ar, Trainee.email, ModuleResult.passed, ModuleResult.score,
                       ModuleResult.recorded_at)
             .join(Cohort, Cohort.id == ModuleResult.cohort_id)
             .join(Module, Module.id == ModuleResult.module_id)
             .join(Trainee, Trainee.id == ModuleResult.trainee_id)
             .order_by(Cohort.code, ModuleResult.trainee_id, Module.code))
    return _cohort_scope(query, actor, f, ModuleResult.cohort_id, ModuleResult.recorded_at)


# --- certificates ---------------------------------------------------------------------------------------

def certificates_select(actor: User, f: ListFilters) -> sa.Select:
    from certificates.models import Certificate

    successor = aliased(Certificate)
    query = (sa.select(Certificate, Trainee.email, Track.code.label("track"), Cohort.code.label("cohort"),
                       successor.serial.label("successor"))
             .join(Trainee, Trainee.id == Certificate.trainee_id)
             .join(Track, Track.id == Certificate.track_id)
             .outerjoin(Cohort, Cohort.id == Certificate.cohort_id)
             .outerjoin(successor, successor.id == Certificate.superseded_by_id)
             .order_by(Certificate.issued_at, Certificate.id))
    if f.cohort:
        query = query.where(Certificate.cohort_id == f.cohort.id)
    if f.updated_since:
        query = query.where(sa.or_(Certificate.issued_at >= f.updated_since,
                                   Certificate.revoked_at >= f.updated_since,
                                   Certificate.superseded_at >= f.updated_since))
    return _person_filters(query, f)


def certificate_row(row) -> list[Any]:
    c = row[0]
    return [c.serial, c.status_on(clock.today()), c.trainee_id, c.holder, c.holder_ar, c.holder_tfng, row.email,
            row.track, row.cohort, c.issued_on, c.expires_on, c.revoked_at, c.revocation_reason, row.successor]


EXPORTS: dict[str, Export] = {
    "trainees": Export(
        roles=("admin", "trainer"),
        columns=("id", "name", "name_ar", "name_tfng", "email", "category", "sector", "region", "gender",
                 "employer", "updated_at"),
        widths=(8, 28, 28, 20, 32, 12, 15, 26, 8, 30, 18), select=trainees_select, row=trainee_row, entity=True),
    "attendance": Export(
        roles=("admin", "trainer"),
        columns=("session_id", "cohort", "module", "starts_at", "trainee_id", "name", "name_ar", "email", "status",
                 "source", "recorded_at"),
        widths=(10, 12, 12, 18, 10, 28, 28, 32, 10, 9, 18), select=attendance_select, row=list, entity=False),
    "results": Export(
        roles=("admin", "trainer"),
        columns=("cohort", "module", "trainee_id", "name", "name_ar", "email", "passed", "score", "recorded_at"),
        widths=(12, 12, 10, 28, 28, 32, 8, 8, 18), select=results_select, row=list, entity=False),
    "certificates": Export(
        roles=("admin",),
        columns=("serial", "status", "trainee_id", "holder", "holder_ar", "holder_tfng", "email", "track",
                 "cohort", "issued_on", "expires_on", "revoked_at", "revocation_reason", "superseded_by"),
        widths=(16, 11, 10, 28, 28, 20, 32, 10, 12, 12, 12, 18, 30, 16), select=certificates_select,
        row=certificate_row, entity=False),
}


# --- request arguments ----------------------------------------------------------------------------------

# What each export takes, as the lists take it (skills.filters parses them all, by one rule).
FILTERS = {"trainees": ("cohort", "sector", "region", "updated_since", "q", "category"),
           "attendance": ("cohort", "sector", "region", "updated_since", "session"),
           "results": ("cohort", "sector", "region", "updated_since"),
           "certificates": ("cohort", "sector", "region", "updated_since")}


def parse_filters(kind: str, args: Mapping[str, str], default_headers: str = "labels"
                  ) -> tuple[ListFilters, str, bool]:
    """The export's filters (see FILTERS), the CSV separator and whether codes were asked for
    (`headers=codes`, or `default_headers` when not said); every fault reported at once."""
    errors = FieldErrors()
    sep = SEPARATORS.get(v.choice(errors, "sep", args.get("sep") or ",", SEPARATORS) or ",")
    codes = v.choice(errors, "headers", args.get("headers") or default_headers, HEADERS) == "codes"
    return list_filters(args, *FILTERS[kind], errors=errors), sep, codes


# --- writing --------------------------------------------------------------------------------------------

def _rows(spec: Export, query: sa.Select, session, labels: Sequence[Mapping[Any, str] | None] = ()
          ) -> Iterator[Sequence[Any]]:
    """The export's rows, fetched CHUNK_ROWS at a time (a server-side cursor on PostgreSQL); with `labels`
    (one mapping or None per column), codes written as their labels."""
    query = query.execution_options(yield_per=CHUNK_ROWS)
    result = session.scalars(query) if spec.entity else session.execute(query)
    translated = [(index, mapping) for index, mapping in enumerate(labels) if mapping]
    for item in result:
        row = spec.row(item)
        if translated:
            row = list(row)
            for index, mapping in translated:
                row[index] = mapping.get(row[index], row[index])
        yield row


def _labels(kind: str, columns: Sequence[str]) -> list[dict[Any, str] | None]:
    """Each column's code-to-label mapping in the reader's language, as plain text: the CSV is written
    after the request (and its language) is gone."""
    return [{code: str(label) for code, label in mapping.items()} if (mapping := values_of(kind, column)) else None
            for column in columns]


def _local(value: datetime) -> datetime:
    return value.astimezone(MOROCCO)


def csv_value(value: Any, sep: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _local(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text.replace(".", ",") if sep == ";" else text
    return str(value)


def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence[Any]], sep: str) -> Iterator[bytes]:
    """UTF-8 with BOM, CRLF line ends, a header line; about 500 rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(columns)
    for count, row in enumerate(rows, start=1):
        writer.writerow([csv_value(value, sep) for value in row])
        if count % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_xlsx(out, sheet_name: str, columns: Sequence[str], widths: Sequence[int],
               rows: Iterable[Sequence[Any]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)

    def header(text: str):
        cell = WriteOnlyCell(sheet, text)
        cell.font = bold
        return cell

    def value(item: Any) -> Any:
        if isinstance(item, str):
            item = ILLEGAL_CHARACTERS_RE.sub("", item)  # control characters would make openpyxl raise
            if item.startswith(FORMULA_START):
                cell = WriteOnlyCell(sheet, item)
                cell.data_type = "s"  # the constructor took "=..." for a formula: it is text
                cell.quotePrefix = True  # and stays text when someone edits the cell
                return cell
            return item
        if isinstance(item, Decimal):
            return float(item)
        if isinstance(item, datetime):
            return _local(item).replace(tzinfo=None)  # Excel has no time zones: Morocco's local time
        return item

    sheet.append([header(c) for c in columns])
    for row in rows:
        sheet.append([value(item) for item in row])
    workbook.save(out)


DOWNLOAD_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _attachment(response: Response, filename: str) -> Response:
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers.update(DOWNLOAD_HEADERS)
    return response


def small_file_response(filename: str, sheet_name: str, fmt: str, columns: Sequence[str], widths: Sequence[int],
                        rows: Iterable[Sequence[Any]]) -> Response:
    """A few rows (a sample file, a roster) as a CSV or XLSX download, written as the exports write theirs."""
    if fmt == "csv":
        return _attachment(Response(b"".join(csv_chunks(columns, rows, ",")), mimetype="text/csv"), filename)
    out = io.BytesIO()
    write_xlsx(out, sheet_name, columns, widths, rows)
    return _attachment(Response(out.getvalue(), mimetype=XLSX_MIMETYPE), filename)


def export_response(kind: str, fmt: str, actor: User, args: Mapping[str, str], *,
                    default_headers: str = "labels") -> Response:
    """The whole export as a download: role check, filters, then CSV streamed or XLSX written. A person
    downloading from a page reads labels; the API, read by scripts, writes codes unless `headers=labels`."""
    spec = EXPORTS[kind]
    if actor.role not in spec.roles:
        raise Forbidden()
    filters, sep, codes = parse_filters(kind, args, default_headers)
    query = spec.select(actor, filters)
    columns = list(spec.columns) if codes else headings(spec.columns)
    labels = () if codes else _labels(kind, spec.columns)
    scope = f"-{filters.cohort.code}" if filters.cohort else (f"-session{filters.session.id}" if filters.session else "")
    filename = f"kafaa-{kind}{scope}-{clock.today().isoformat()}.{fmt}"
    if fmt == "csv":
        engine = db.engine

        def body() -> Iterator[bytes]:
            # Runs as the server sends the response, after the request and its context are gone: the query,
            # built and authorised above, runs in a session of its own, opened for the first chunk and closed
            # as soon as the last row is read (or when the client goes away), before the last chunk is sent.
            session = Session(engine)
            try:
                chunks = csv_chunks(columns, _rows(spec, query, session, labels), sep)
                pending = next(chunks)
                for chunk in chunks:
                    yield pending
                    pending = chunk
            finally:
                session.close()
            yield pending

        return _attachment(Response(body(), mimetype="text/csv"), filename)
    # The rows stream through openpyxl's write-only sheet (kept in a temporary file); the zipped workbook,
    # a few MB for 100,000 rows, is sent whole.
    out = io.BytesIO()
    write_xlsx(out, kind, columns, spec.widths, _rows(spec, query, db.session, labels))
    return _attachment(Response(out.getvalue(), mimetype=XLSX_MIMETYPE), filename)
