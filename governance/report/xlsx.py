"""The report's XLSX workbook: one sheet per table, each titled and headed in French and Arabic, with
numbers as numbers (rates as percentages, changes signed). Text is always stored as text, never as a
formula."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from certificates import fonts
from governance.disclosure import AT_LEAST, MARKERS, SMALL, WITHHELD, written_difference
from governance.figures import Figures
from governance.report.labels import Labels, Pair, label, quarter_ar
from governance.report.rows import (
    HIDDEN_CHANGE,
    breakdown_rows,
    certificate_rows,
    cohort_rows,
    correction_rows,
    pathway_rows,
    rate,
    trend_points,
    written_total,
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_HEADER_FILL = PatternFill("solid", fgColor="EEF5F2")
_HEADER_FONT = Font(bold=True, color="0B6E4F")
_TITLE_FONT = Font(bold=True, size=13, color="0B6E4F")
_RIGHT = Alignment(horizontal="right")
CHANGE_FORMAT = "+0;-0;0"
RATE_FORMAT = "0.0%"


def put(ws: Worksheet, row: int, column: int, value: Any, *, number_format: str | None = None) -> Cell:
    """Write one cell. Text is always text: a value starting with = + - @ is stored as a string with
    the quote prefix (so Excel never evaluates it as a formula, even after an edit)."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters would make openpyxl raise
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # assigning "=..." made it "f": undo that
        if value.startswith(_FORMULA_START):
            cell.quotePrefix = True
        if value in (*MARKERS, HIDDEN_CHANGE) or fonts.has_arabic(value):
            cell.alignment = _RIGHT
    if number_format:
        cell.number_format = number_format
    return cell


def _sheet(wb: Workbook, name: str, title: Pair, headers: Sequence[Pair], widths: Sequence[int]) -> Worksheet:
    """A sheet with its title (rows 1–2, French then Arabic) and two header rows (4: French, 5: Arabic).
    Data starts on row 6."""
    ws = wb.create_sheet(name)
    put(ws, 1, 1, title[0]).font = _TITLE_FONT
    put(ws, 2, 1, title[1]).font = _TITLE_FONT
    ws["A2"].alignment = Alignment(horizontal="left")
    for index, (fr, ar) in enumerate(headers, start=1):
        for row, text in ((4, fr), (5, ar)):
            cell = put(ws, row, index, text)
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A6"
    return ws


FIRST_DATA_ROW = 6


def _label_headers(pair: Pair) -> tuple[Pair, Pair]:
    """Headers of a French-label column and an Arabic-label column, each named in both languages."""
    return (pair[0], f"{pair[1]} بالفرنسية"), (f"{pair[0]} en arabe", pair[1])


def write_xlsx(path: Path, figures: Figures, previous: Figures | None,
               corrections: Sequence[Mapping[str, Any]], labels: Labels) -> None:
    text = labels["text"]
    quarter, targets = figures.quarter, figures.targets
    target = figures.target
    trained = written_total(figures)
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = f"{text['title'][0]} {quarter}"
    wb.properties.creator = "Kafaa"

    # Résumé: one figure per row.
    figure_fr, figure_ar = _label_headers(text["figure"])
    ws = _sheet(wb, "Résumé", (f"{text['title'][0]} {quarter}",
                               f"{text['title'][1]} — {text['quarter'][1]} {quarter_ar(quarter)}"),
                [figure_fr, text["value"], figure_ar], [44, 18, 44])
    change = written_difference(written_total(previous), trained) if previous is not None else None
    summary: list[tuple[Pair, Any, str | None]] = [
        (text["quarter"], str(quarter), None),
        (text["as_of"], figures.as_of, "yyyy-mm-dd"),
        (text["target"], target, None),
        (text["trained"], trained, None),
        (text["rate"], rate(trained, target) if isinstance(trained, int) else None, RATE_FORMAT),
        (text["previous"], str(previous.quarter) if previous is not None else None, None),
        (text["change"], change, CHANGE_FORMAT),
    ]
    for offset, (pair, value, number_format) in enumerate(summary):
        row = FIRST_DATA_ROW + offset
        put(ws, row, 1, pair[0])
        put(ws, row, 2, value, number_format=number_format)
        put(ws, row, 3, pair[1])
    row = FIRST_DATA_ROW + len(summary) + 1
    for symbol, pair in ((SMALL, text["small_note"]), (AT_LEAST, text["complementary_note"]),
                         (WITHHELD, text["withheld_note"]), (HIDDEN_CHANGE, text["change_note"])):
        for offset, note in enumerate(pair):  # the symbol in its own cell: no bidi in one cell
            put(ws, row + offset, 1, symbol).alignment = Alignment(horizontal="left")
            put(ws, row + offset, 2, note).alignment = Alignment(horizontal="left")
        row += 2

    # Breakdowns: code | French | Arabic | count (or "<5") | change (number, "—", or empty) [| target].
    sheets = {"category": "Catégories", "sector": "Secteurs", "region": "Régions", "gender": "Genre",
              "language": "Langues"}
    for name, sheet_name in sheets.items():
        headers = [text["code"], *_label_headers(text[name]), text["count"], text["change"]]
        if name == "category":
            headers.append(text["target"])
        ws = _sheet(wb, sheet_name, text[f"by_{name}"], headers, [26, 28, 28, 12, 12, 12])
        for offset, item in enumerate(breakdown_rows(name, figures, previous, labels)):
            row = FIRST_DATA_ROW + offset
            put(ws, row, 1, item.code)
            put(ws, row, 2, item.label[0])
            put(ws, row, 3, item.label[1])
            put(ws, row, 4, item.count)
            put(ws, row, 5, item.change, number_format=CHANGE_FORMAT)
            if name == "category":
                put(ws, row, 6, targets.get(item.code))

    ws = _sheet(wb, "Tendance", text["trend"], [text["quarter"], text["trained"]], [14, 18])
    for offset, (quarter_code, value) in enumerate(trend_points(figures)):
        put(ws, FIRST_DATA_ROW + offset, 1, quarter_code)
        put(ws, FIRST_DATA_ROW + offset, 2, value)

    ws = _sheet(wb, "Certificats", text["certificates"],
                [text["code"], *_label_headers(text["figure"]), text["number"], text["change"]],
                [16, 20, 22, 12, 12])
    for offset, item in enumerate(certificate_rows(figures, previous, labels)):
        row = FIRST_DATA_ROW + offset
        for column, value in enumerate((item.code, item.label[0], item.label[1], item.count), start=1):
            put(ws, row, column, value)
        put(ws, row, 5, item.change, number_format=CHANGE_FORMAT)

    funnel = pathway_rows(figures)
    if funnel is not None:  # snapshots closed before the funnel existed have none
        ws = _sheet(wb, "Parcours", text["pathway"], [text["level"], text["tracks"], text["holding"], text["moved_in"]],
                    [30, 30, 16, 22])
        for offset, item in enumerate(funnel["levels"]):
            for column, value in enumerate((item["level"], item["tracks"], item["holding"], item["moved_in"]), start=1):
                put(ws, FIRST_DATA_ROW + offset, column, value)
        row = FIRST_DATA_ROW + len(funnel["levels"]) + 1
        for key in ("trained", "recognised"):  # French, then Arabic, each beside the count
            for offset, name in enumerate(text[key]):
                put(ws, row + offset, 1, name).alignment = Alignment(horizontal="left")
                put(ws, row + offset, 3, funnel[key])
            row += 2
        for offset, note in enumerate(text["pathway_note"]):
            put(ws, row + offset, 1, note).alignment = Alignment(horizontal="left")

    ws = _sheet(wb, "Cohortes", text["cohorts"],
                [text["code"], *_label_headers(text["sector"]), *_label_headers(text["region"]),
                 *_label_headers(text["language"]), text["attendance"], text["completion"]],
                [22, 16, 14, 26, 24, 12, 12, 14, 14])
    for offset, item in enumerate(cohort_rows(figures)):
        row = FIRST_DATA_ROW + offset
        sector = label(labels, "sector", item["sector"])
        region = label(labels, "region", item["region"])
        language = label(labels, "language", item["language"])
        values = (item["code"], sector[0], sector[1], region[0], region[1], language[0], language[1])
        for column, value in enumerate(values, start=1):
            put(ws, row, column, value)
        put(ws, row, 8, item["attendance"], number_format=RATE_FORMAT)
        put(ws, row, 9, item["completion"], number_format=RATE_FORMAT)

    ws = _sheet(wb, "Corrections", text["corrections"],
                [text["quarter"], text["code"], *_label_headers(text["figure"]), text["closed"], text["now"],
                 text["difference"]],
                [12, 30, 36, 30, 14, 12, 12])
    fixes = correction_rows(corrections, labels)
    for offset, item in enumerate(fixes):
        row = FIRST_DATA_ROW + offset
        values = (item["quarter"], item["figure"], item["label"][0], item["label"][1], item["closed"], item["now"])
        for column, value in enumerate(values, start=1):
            put(ws, row, column, value)
        put(ws, row, 7, item["difference"], number_format=CHANGE_FORMAT)
    if not fixes:
        put(ws, FIRST_DATA_ROW, 1, text["no_corrections"][0])
        put(ws, FIRST_DATA_ROW + 1, 1, text["no_corrections"][1])
    wb.save(path)

