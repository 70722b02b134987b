"""Reading a file: the header and the non-blank rows of a CSV or XLSX file, told apart by content.

UTF-8 with or without a BOM (or UTF-16, Excel's "Unicode text"), comma, semicolon or tab separated (the
separator is read from the header line), blank rows skipped wherever they are. Rows are numbered as a
spreadsheet shows them, the header being row 1. Callers pass the row limit of their kind of file.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from typing import Any, Iterator

from flask_babel import lazy_gettext as _l

from common import validation as v
from exchange.exports import FORMULA_START
from exchange.imports.faults import refuse
from skills.operations import MAX_BATCH

MAX_TRAINEE_ROWS = 20_000  # the programme trains hundreds: a bigger file is a mistake, or several files
MAX_ATTENDANCE_ROWS = MAX_BATCH  # what record_attendance accepts at once (a session's roster is far smaller)
MAX_XLSX_UNPACKED = 256 * 1024 * 1024  # a 16 MB upload that unpacks to more is a zip bomb, not a roster

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # the pre-2007 binary format (and other OLE files)
_EDGES = "\ufeff\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u00a0 \t\r\n"


@dataclass
class Table:
    filename: str
    sha256: str
    header_row: int
    headers: list[str | None]
    rows: list[tuple[int, list[str | None]]]  # (row number as a spreadsheet shows it, cells); no blank row



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
        for index, cell in enumerate(cells):
            if v.has_control(cell):  # the one input-cleaning rule (common.validation), dry run and commit alike
                heading = headers[index] if header_row and index < len(headers) else None
                raise refuse(v.CONTROL_MESSAGE, row=number, column=v.CONTROL_RE.sub("", heading or "")[:40] or None)
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

