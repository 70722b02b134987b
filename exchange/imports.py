"""Imports from spreadsheets: trainees (and, optionally, their enrollment in a cohort) and a session's
attendance, from CSV or XLSX files as people really save them.

Reading a file is done here: UTF-8 with or without a BOM (or UTF-16, Excel's "Unicode text"), comma,
semicolon or tab separated (the separator is read from the header line), blank rows skipped wherever they
are, headers in English or French matched without regard to case, accents or spacing, vocabulary values
given as codes or as their labels in French, Arabic or English. Rows are numbered as a spreadsheet shows
them, the header being row 1.

Every rule on a value lives in skills.operations and is called from here: `trainee_values` for each row,
`enrol_trainees` and `record_attendance` as they are. Trainees are then written in bulk (existing emails are
found by IN queries of 900, new rows inserted 900 at a time, updates in one executemany), with one audit entry
summarising the import.
An import is all or nothing: a commit with any bad row raises ImportRefused and writes nothing.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import secrets
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session
from flask_babel import force_locale, lazy_gettext as _l

from accounts.models import User
from audit.operations import record as audit
from common.errors import Conflict, DomainError, FieldErrors, ValidationFailed
from common.extensions import db
from common.i18n import LANGUAGES
from common.types import utcnow
from exchange.exports import FORMULA_START
from governance import trained
from skills import operations
from skills.models import Cohort, Enrollment, Trainee, TrainingSession
from skills.operations import MAX_BATCH, TRAINEE_FIELDS, trainee_values
from skills.vocab import ATTENDANCE_STATUSES, CATEGORIES, GENDERS, REGIONS, SECTORS

MAX_TRAINEE_ROWS = 20_000  # the programme trains hundreds: a bigger file is a mistake, or several files
MAX_ATTENDANCE_ROWS = MAX_BATCH  # what record_attendance accepts at once (a session's roster is far smaller)
MAX_LISTED_ERRORS = 1000  # `error_count` gives the total
ASYNC_ABOVE_ROWS = 1000  # the web page runs bigger trainee files as a job with a progress bar


def upload_max_age_seconds() -> int:
    """How long a kept upload lives (RETENTION_UPLOADS_HOURS): it holds the people of the file."""
    return current_app.config["RETENTION_UPLOADS_HOURS"] * 3600
MAX_XLSX_UNPACKED = 256 * 1024 * 1024  # a 16 MB upload that unpacks to more is a zip bomb, not a roster
IN_CHUNK = 900  # values per SQL IN (...): well under every backend's parameter limit
PROGRESS_EVERY = 500

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # the pre-2007 binary format (and other OLE files)
_EDGES = "\ufeff\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u00a0 \t\r\n"
_NOT_WORD = re.compile(r"[\W_]+")
NO_FILE = _l("Send the file as multipart/form-data, in the field “file”.")


class ImportRefused(DomainError):
    """A file, or a commit with bad rows, that was not imported. The problem document lists every fault as
    {"row", "column", "message"} under `errors`, beside the counts of the dry run."""

    status = 422
    title = _l("Nothing was imported.")

    def __init__(self, errors: list[dict[str, Any]], report: dict[str, Any] | None = None, message: Any = None):
        self.errors = errors
        self.report = {**(report or {}), "errors": errors[:MAX_LISTED_ERRORS],
                       "error_count": (report or {}).get("error_count", len(errors))}
        if message is None:
            message = _l("Some rows have errors: nothing was imported. Correct them and send the file again.")
        super().__init__(message, extra=self.report)


def fault(row: int | None, column: str | None, message: Any) -> dict[str, Any]:
    """One error of an import, its message in the reader's language."""
    return {"row": row, "column": column, "message": str(message)}


def refuse(message: Any, row: int | None = None, column: str | None = None) -> ImportRefused:
    """A file refused as a whole, for one reason."""
    return ImportRefused([fault(row, column, message)], message=message)


# --- reading a file -------------------------------------------------------------------------------------

@dataclass
class Table:
    filename: str
    sha256: str
    header_row: int
    headers: list[str | None]
    rows: list[tuple[int, list[str | None]]]  # (row number as a spreadsheet shows it, cells); no blank row


def normalise(value: str) -> str:
    """A key for lenient matching: no accents or case, any run of spaces and punctuation as one dash."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub("-", bare.casefold()).strip("-")


def _cell(value: Any) -> str | None:
    """A cell as text, or None when blank. A leading quote that an export put before = + - @ is dropped."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    text = text.strip(_EDGES)
    if text.startswith("'") and text[1:2] in FORMULA_START:
        text = text[1:]
    return text or None


def _separator(text: str) -> str:
    """The separator of the first non-blank line: the one of ; , or tab found most often outside quotes."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: 0 for sep in (";", ",", "\t")}
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _csv_records(data: bytes) -> Iterator[tuple[int, list[str | None]]]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise refuse(_l("This file cannot be read as text. Save it as “CSV UTF-8” or XLSX and send it "
                            "again.")) from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            row = data[:error.start].count(b"\n") + 1
            raise refuse(_l("Row %(row)d is not UTF-8 text. Save the file as “CSV UTF-8” (or XLSX) and send "
                            "it again.", row=row), row=row) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text))
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            yield number, [_cell(value) for value in record]
    except csv.Error:
        raise refuse(_l("Row %(row)d cannot be read: check its quotes.", row=number + 1), row=number + 1) from None


def _xlsx_records(data: bytes) -> Iterator[tuple[int, list[str | None]]]:
    import openpyxl  # loaded only when a workbook comes in

    unreadable = _l("This file cannot be read as an XLSX workbook. Save it again as XLSX or “CSV UTF-8”.")
    try:
        unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise refuse(unreadable) from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise refuse(_l("This workbook is too large once unpacked. Save it as “CSV UTF-8” and send that."))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (zip, XML, key errors) for a damaged or foreign file
        raise refuse(unreadable) from None
    try:
        sheet = workbook.active
        if not hasattr(sheet, "iter_rows"):  # the active sheet is a chart: take the first worksheet
            sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record a wrong size: read the rows as they are
        rows = sheet.iter_rows(values_only=True)
        number = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception:
                raise refuse(unreadable) from None
            number += 1
            yield number, [_cell(value) for value in values]
    finally:
        workbook.close()


def more_rows_than(data: bytes, limit: int) -> bool:
    """Whether a file has more than about `limit` rows, found without parsing it: the line ends of a CSV,
    the <row> elements of a workbook's sheets (read as a stream). An unreadable file answers False, for
    read_table to say what is wrong with it."""
    if not data.startswith(_XLSX_MAGIC):
        return data.count(b"\n") > limit
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        for info in archive.infolist():
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                continue
            count = 0
            with archive.open(info) as sheet:
                while chunk := sheet.read(1 << 20):
                    count += chunk.count(b"<row") + chunk.count(b":row ")
                    if count > limit:
                        return True
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return False


def read_table(filename: str, data: bytes, *, max_rows: int) -> Table:
    """The header and the non-blank rows of a CSV or XLSX file (told apart by content, not by name)."""
    if not data:
        raise refuse(_l("The file is empty."))
    if data.startswith(_XLS_MAGIC):
        raise refuse(_l("Old .xls workbooks cannot be read. Save the file as XLSX or “CSV UTF-8”."))
    records = _xlsx_records(data) if data.startswith(_XLSX_MAGIC) else _csv_records(data)
    header_row, headers, rows = 0, [], []
    for number, cells in records:
        if all(cell is None for cell in cells):
            continue
        if not header_row:
            header_row, headers = number, cells
            continue
        if len(rows) == max_rows:
            raise refuse(_l("The file has more than %(max)d rows. Split it into files of at most %(max)d rows.",
                            max=max_rows), row=number)
        rows.append((number, cells))
    if not header_row:
        raise refuse(_l("The file is empty."))
    if not rows:
        raise refuse(_l("The file has a header row but no row under it."), row=header_row + 1)
    return Table(filename=filename or "", sha256=hashlib.sha256(data).hexdigest(), header_row=header_row,
                 headers=headers, rows=rows)


# --- columns and vocabularies ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    field: str
    english: str
    french: str
    aliases: tuple[str, ...] = ()


TRAINEE_COLUMNS = (
    Column("name", "name", "nom"),
    Column("email", "email", "courriel", ("e-mail", "mail", "adresse email", "adresse électronique")),
    Column("category", "category", "catégorie"),
    Column("sector", "sector", "secteur"),
    Column("region", "region", "région"),
    Column("name_ar", "name_ar", "nom_ar", ("nom arabe",)),
    Column("name_tfng", "name_tfng", "nom_tfng", ("nom tifinagh",)),
    Column("gender", "gender", "genre", ("sexe",)),
    Column("employer", "employer", "employeur"),
)

ATTENDANCE_COLUMNS = (
    Column("trainee_id", "trainee_id", "n°", ("id", "no", "numéro", "n° stagiaire")),
    Column("email", "email", "courriel", ("e-mail", "mail", "adresse email", "adresse électronique")),
    Column("status", "status", "statut", ("présence",)),
    Column("session_id", "session_id", "séance", ("session",)),
)

# Spellings accepted beside each code and its labels in French, Arabic and English (from the catalogs).
EXTRA_VALUES = {
    "category": {"engineer": ("ingénieure",), "researcher": ("chercheuse",)},
    "gender": {"f": ("féminin", "female", "w", "أنثى"), "m": ("h", "masculin", "male", "ذكر")},
    "status": {"present": ("p", "présente"), "late": ("retard", "r", "l"), "excused": ("excusée", "e"),
               "absent": ("absente", "a")},
}
VOCABULARIES = {"category": CATEGORIES, "sector": SECTORS, "region": REGIONS, "gender": GENDERS,
                "status": ATTENDANCE_STATUSES}


def value_aliases(name: str) -> dict[str, str]:
    """normalised spelling -> code, for one vocabulary: its codes, its labels in every language, and the
    extra spellings above. A value found nowhere is passed on as written, for the operation to refuse."""
    vocabulary = VOCABULARIES[name]
    aliases: dict[str, str] = {}
    for code in vocabulary:
        aliases[normalise(code)] = code
    for lang in LANGUAGES:
        with force_locale(lang):
            for code, label in vocabulary.items():
                aliases.setdefault(normalise(str(label)), code)
    for code, spellings in EXTRA_VALUES.get(name, {}).items():
        for spelling in spellings:
            aliases.setdefault(normalise(spelling), code)
    return aliases


def _header_key(text: str) -> str:
    return normalise(text).replace("-", "_")


@dataclass
class Columns:
    index: dict[str, int]  # field -> position in a row
    names: dict[str, str]  # field -> its header as written in the file (or as it would be, when missing)
    ignored: list[str]

    def value(self, cells: list[str | None], name: str) -> str | None:
        position = self.index.get(name)
        return cells[position] if position is not None and position < len(cells) else None


def map_columns(table: Table, spec: Iterable[Column]) -> Columns:
    spec = list(spec)
    lookup = {_header_key(spelling): column for column in spec
              for spelling in (column.english, column.french, *column.aliases)}
    french_only = {_header_key(column.french) for column in spec} - {_header_key(column.english) for column in spec}
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    ignored: list[str] = []
    french = False
    for position, header in enumerate(table.headers):
        if header is None:
            continue
        column = lookup.get(_header_key(header))
        if column is None:
            ignored.append(header)
            continue
        if column.field in index:
            raise refuse(_l("The columns “%(first)s” and “%(second)s” say the same thing: keep one of them.",
                            first=names[column.field], second=header), row=table.header_row, column=header)
        index[column.field], names[column.field] = position, header
        french = french or _header_key(header) in french_only
    for column in spec:
        names.setdefault(column.field, column.french if french else column.english)
    return Columns(index=index, names=names, ignored=ignored)


def _chunks(items: list, size: int = IN_CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _sorted(errors: list[dict[str, Any]], columns: Columns, spec: Iterable[Column]) -> list[dict[str, Any]]:
    """By row, then by column as the file orders them (columns it lacks last, in the spec's order)."""
    order = {columns.names[c.field]: columns.index.get(c.field, 1000 + i) for i, c in enumerate(spec)}
    return sorted(errors, key=lambda e: (e["row"] or 0, order.get(e["column"], 2000)))


# --- trainees -------------------------------------------------------------------------------------------

@dataclass
class TraineePlan:
    """What a trainee file would do, found without writing anything."""

    rows: int
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[int, dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # id, before, after
    unchanged_ids: list[int] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def matched_ids(self) -> list[int]:
        return [trainee_id for trainee_id, _, _ in self.updates] + self.unchanged_ids


def _existing_trainees(emails: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Trainees by email, as plain values (id and every field), in a few queries."""
    found: dict[str, dict[str, Any]] = {}
    columns = [Trainee.id, *(getattr(Trainee, name) for name in TRAINEE_FIELDS)]
    for chunk in _chunks(sorted(set(emails))):
        for row in db.session.execute(sa.select(*columns).where(Trainee.email.in_(chunk))):
            found[row.email] = row._asdict()
    return found


def plan_trainees(table: Table, progress: Callable[[int], None] | None = None) -> TraineePlan:
    """Validate every row with trainee_values, match existing trainees by email, and sort the rows into
    creations, updates and unchanged ones. A column the file does not have keeps its value on an update."""
    columns = map_columns(table, TRAINEE_COLUMNS)
    if "email" not in columns.index:
        raise refuse(_l("The file needs an email column (“email” or “courriel”) to tell trainees apart."),
                     row=table.header_row)
    aliases = {name: value_aliases(name) for name in ("category", "sector", "region", "gender")}
    plan = TraineePlan(rows=len(table.rows), ignored=columns.ignored)

    datas: list[tuple[int, dict[str, Any]]] = []
    for number, cells in table.rows:
        data = {}
        for name in columns.index:
            value = columns.value(cells, name)
            if value is not None and name in aliases:
                value = aliases[name].get(normalise(value), value)
            data[name] = value
        datas.append((number, data))

    existing = _existing_trainees((data.get("email") or "").lower() for _, data in datas if data.get("email"))

    def validate(data: dict[str, Any], current: dict[str, Any] | None) -> tuple[FieldErrors, dict[str, Any]]:
        errors = FieldErrors()
        merged = {**{name: current[name] for name in TRAINEE_FIELDS}, **data} if current else data
        return errors, trainee_values(errors, merged)

    seen: dict[str, int] = {}
    pending_new: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    for done, (number, data) in enumerate(datas, start=1):
        current = existing.get((data.get("email") or "").lower())
        errors, values = validate(data, current)
        if errors.fields:
            for name in TRAINEE_FIELDS:
                for message in errors.fields.get(name, ()):
                    plan.errors.append(fault(number, columns.names[name], message))
        elif values["email"] in seen:
            plan.errors.append(fault(number, columns.names["email"],
                                     _l("This email is already on row %(row)d.", row=seen[values["email"]])))
        else:
            seen[values["email"]] = number
            if current is None:
                pending_new.append((number, data, values))
            else:
                _sort_match(plan, current, values)
        if progress and done % PROGRESS_EVERY == 0:
            progress(done)

    # An address the validator normalised (Unicode forms, say) may still name an existing trainee.
    late = _existing_trainees(values["email"] for _, _, values in pending_new if values["email"] not in existing)
    for number, data, values in pending_new:
        current = late.get(values["email"])
        if current is None:
            plan.creates.append(values)
            continue
        errors, values = validate(data, current)
        if errors.fields:
            for name, messages in errors.fields.items():
                plan.errors.extend(fault(number, columns.names.get(name, name), m) for m in messages)
        else:
            _sort_match(plan, current, values)
    plan.errors = _sorted(plan.errors, columns, TRAINEE_COLUMNS)
    return plan


def _sort_match(plan: TraineePlan, current: dict[str, Any], values: dict[str, Any]) -> None:
    before = {name: current[name] for name in TRAINEE_FIELDS}
    if before == values:
        plan.unchanged_ids.append(current["id"])
    else:
        plan.updates.append((current["id"], before, values))


def _already_enrolled(cohort: Cohort, trainee_ids: list[int]) -> set[int]:
    enrolled: set[int] = set()
    for chunk in _chunks(trainee_ids):
        enrolled.update(db.session.scalars(sa.select(Enrollment.trainee_id).where(
            Enrollment.cohort_id == cohort.id, Enrollment.trainee_id.in_(chunk))))
    return enrolled


def _write_trainees(actor: User, plan: TraineePlan, table: Table, cohort: Cohort | None) -> tuple[list[int], int]:
    """Insert and update in bulk, enrol through enrol_trainees, and audit the import once."""
    new_ids: list[int] = []
    try:
        for chunk in _chunks(plan.creates):
            # A plain executemany, then the new ids by email: INSERT ... RETURNING in parameter order falls
            # back to a row at a time on SQLite, ten times slower.
            db.session.execute(sa.insert(Trainee), chunk)
            ids = dict(db.session.execute(sa.select(Trainee.email, Trainee.id).where(
                Trainee.email.in_([values["email"] for values in chunk]))).all())
            new_ids.extend(ids[values["email"]] for values in chunk)
        if plan.updates:
            now = utcnow()
            db.session.execute(sa.update(Trainee), [{"id": trainee_id, **values, "updated_at": now}
                                                    for trainee_id, _, values in plan.updates])
            # a bulk UPDATE bypasses the unit of work, so the governance figures' copy is refreshed here
            trained.refresh(db.session.connection(), [trainee_id for trainee_id, _, _ in plan.updates])
        db.session.flush()
    except sa.exc.IntegrityError:  # the caller rolls back, as on any DomainError
        raise Conflict(_l("Some of these trainees were saved by someone else meanwhile. Check the file "
                          "again.")) from None
    enrolled = 0
    if cohort is not None:
        for chunk in _chunks(new_ids + plan.matched_ids, MAX_BATCH):
            enrolled += operations.enrol_trainees(actor, cohort, chunk)
    changed = {trainee_id: [name for name in TRAINEE_FIELDS if before[name] != after[name]]
               for trainee_id, before, after in plan.updates}
    audit(actor, "trainee.import", "import", table.sha256[:16],
          before={str(tid): {name: before[name] for name in changed[tid]} for tid, before, _ in plan.updates} or None,
          after={"file": table.filename[:200], "sha256": table.sha256, "rows": plan.rows,
                 "cohort": cohort.code if cohort else None, "created": new_ids,
                 "updated": {str(tid): {name: after[name] for name in changed[tid]} for tid, _, after in plan.updates},
                 "unchanged": len(plan.unchanged_ids), "enrolled": enrolled})
    db.session.flush()
    return new_ids, enrolled


def import_trainees(actor: User, table: Table, *, dry_run: bool, cohort: Cohort | None = None,
                    progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Check (dry run) or import a trainee file; optionally enrol every trainee of it in a cohort.

    Returns the report {"dry_run", "file", "rows", "created", "updated", "unchanged", "cohort", "enrolled",
    "ignored_columns", "errors", "error_count"}. A commit with any bad row raises ImportRefused carrying that
    report, having written nothing. Flushes, never commits. `progress(done, total)` is called while rows are
    checked, never once writing has begun (a job's progress commits)."""
    total = len(table.rows) if dry_run else len(table.rows) * 3 // 2
    plan = plan_trainees(table, (lambda done: progress(done, total)) if progress else None)
    report: dict[str, Any] = {
        "dry_run": dry_run, "file": table.filename, "rows": plan.rows, "created": len(plan.creates),
        "updated": len(plan.updates), "unchanged": len(plan.unchanged_ids),
        "cohort": cohort.code if cohort else None, "enrolled": 0, "ignored_columns": plan.ignored,
        "errors": plan.errors[:MAX_LISTED_ERRORS], "error_count": len(plan.errors)}
    if cohort is not None:
        matched = plan.matched_ids
        report["enrolled"] = len(plan.creates) + len(set(matched) - _already_enrolled(cohort, matched))
    if progress:
        progress(plan.rows, total)
    if dry_run:
        return report
    if plan.errors:
        raise ImportRefused(plan.errors, report)
    _, report["enrolled"] = _write_trainees(actor, plan, table, cohort)
    return report


# --- attendance -----------------------------------------------------------------------------------------

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
                                   id=session.id)))
            continue
        wanted.append((number, columns.value(cells, "trainee_id"), columns.value(cells, "email"),
                       statuses.get(normalise(status), status)))

    emails = {email.lower() for _, _, email, _ in wanted if email}
    by_email: dict[str, int] = {}
    for chunk in _chunks(sorted(emails)):
        by_email.update(db.session.execute(sa.select(Trainee.email, Trainee.id).where(Trainee.email.in_(chunk))).all())
    ids = sorted({int(ref) for _, ref, _, _ in wanted if ref and ref.isdigit()})
    email_of: dict[int, str] = {}
    if "email" in columns.index:
        for chunk in _chunks(ids):
            email_of.update(db.session.execute(sa.select(Trainee.id, Trainee.email).where(Trainee.id.in_(chunk))).all())

    records: list[dict[str, Any]] = []
    origin: list[tuple[int, str]] = []  # for each record: its row, and the column that named the trainee
    for number, ref, email, status in wanted:
        if ref is not None:
            if email and ref.isdigit() and int(ref) in email_of and email_of[int(ref)] != email.lower():
                errors.append(fault(number, names["email"],
                                    _l("Trainee %(id)s has another email address.", id=ref)))
                continue
            records.append({"trainee_id": ref, "status": status})
            origin.append((number, names["trainee_id"]))
        elif email is not None:
            if email.lower() not in by_email:
                errors.append(fault(number, names["email"], _l("No trainee has this email address.")))
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
            errors.extend(_record_faults(error, origin, names))
        else:
            if dry_run or errors:
                savepoint.rollback()
            else:
                savepoint.commit()
    errors = _sorted(errors, columns, ATTENDANCE_COLUMNS)
    report = {"dry_run": dry_run, "file": table.filename, "session_id": session.id, "rows": len(table.rows),
              "changed": changed, "skipped": skipped, "ignored_columns": columns.ignored,
              "errors": errors[:MAX_LISTED_ERRORS], "error_count": len(errors)}
    if not records and not errors:
        raise refuse(_l("No row has a status: there is nothing to record."))
    if errors and not dry_run:
        raise ImportRefused(errors, report)
    return report


def _record_faults(error: ValidationFailed, origin: list[tuple[int, str]], names: dict[str, str]) -> list[dict]:
    """record_attendance names faults records.<index>.<field>: put them back on the file's rows."""
    faults = []
    for key, messages in error.fields.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "records" and parts[1].isdigit() and int(parts[1]) < len(origin):
            row, trainee_column = origin[int(parts[1])]
            column = trainee_column if parts[2] == "trainee_id" else names.get(parts[2], parts[2])
        else:
            row, column = None, None
        faults.extend(fault(row, column, message) for message in messages)
    if not error.fields:
        faults.append(fault(None, None, error.message))
    return faults


# --- an uploaded file kept between the dry run and the commit (web pages) ------------------------------

@dataclass
class Upload:
    token: str
    filename: str
    data: bytes
    meta: dict[str, Any]


_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _uploads_dir() -> Path:
    path = Path(current_app.config["EXPORTS_DIR"]) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep_upload(user: User, kind: str, filename: str, data: bytes, **meta: Any) -> str:
    """Keep an uploaded file for its owner's confirmation step; returns the random token naming it.
    Files older than a day are removed on the way."""
    folder = _uploads_dir()
    cutoff = time.time() - upload_max_age_seconds()
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:  # another request removed it first
            pass
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.data").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps({"user_id": user.id, "kind": kind, "filename": filename,
                                                      **meta}))
    return token


def take_upload(token: str | None, user: User | None, kind: str) -> Upload | None:
    """The kept file, if the token is well formed, not expired, of this kind and this user's."""
    if not token or user is None or not _TOKEN.match(token):
        return None
    folder = _uploads_dir()
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        if time.time() - (folder / f"{token}.json").stat().st_mtime > upload_max_age_seconds():
            return None
        data = (folder / f"{token}.data").read_bytes()
    except (FileNotFoundError, ValueError):
        return None
    if meta.get("user_id") != user.id or meta.get("kind") != kind:
        return None
    return Upload(token=token, filename=meta.get("filename") or "", data=data, meta=meta)


def drop_upload(token: str) -> None:
    if _TOKEN.match(token or ""):
        for suffix in (".data", ".json"):
            (_uploads_dir() / f"{token}{suffix}").unlink(missing_ok=True)


def _after_commit(callback: Callable[[], None]) -> None:
    """Run this once the current transaction commits; forget it if it rolls back. The import job's rows
    commit with the job's outcome (jobs.runner), so its file is dropped only then: a run whose outcome is
    dropped (its worker declared stopped) leaves the file for the retry."""
    db.session().info.setdefault("after_commit", []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session) -> None:
    for callback in session.info.pop("after_commit", []):
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_commit(session, _transaction) -> None:
    session.info.pop("after_commit", None)


def cohort_by_code(code: str | None) -> Cohort | None:
    """The cohort to enrol into, or None when none is asked; an unknown code is refused (422)."""
    if not code or not code.strip():
        return None
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.code == code.strip()))
    if cohort is None:
        raise refuse(_l("Unknown cohort “%(code)s”.", code=code.strip()[:40]))
    return cohort


def refused_report(error: DomainError, dry_run: bool) -> dict[str, Any]:
    """The report of an import that stopped on an error, for a page or a job's summary."""
    if isinstance(error, ImportRefused):
        return {"dry_run": dry_run, **error.report}
    faults = [fault(None, name, message) for name, messages in error.fields.items() for message in messages]
    faults = faults or [fault(None, None, error.message)]
    return {"dry_run": dry_run, "errors": faults, "error_count": len(faults)}


# --- the job that runs a big trainee file with a progress bar ------------------------------------------

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
            table = read_table(upload.filename, upload.data, max_rows=MAX_TRAINEE_ROWS)
            cohort = cohort_by_code(upload.meta.get("cohort"))
            report = import_trainees(actor, table, dry_run=dry_run, cohort=cohort,
                                     progress=lambda done, total: progress(done, total))
        except DomainError as error:
            db.session.rollback()
            report = refused_report(error, dry_run)
    if not dry_run and not report.get("errors"):
        _after_commit(lambda: drop_upload(upload.token))
    return {**report, "token": upload.token if dry_run and not report.get("errors") else None}, None
