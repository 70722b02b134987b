"""The quarterly report (governance/report/): pure, from hand-made figures, no database.

The privacy rule is checked in both files: every breakdown count from 1 to 4 reads "<5", and no such
count (nor a change that would reveal one) is printed on its label's line. On the PDF side a "line" is
found from the drawn text objects' positions rather than from pdfium's text lines: pdfium reorders a
line that holds Arabic as a whole (Latin words may come out reversed and "<5" mirrored as "> 5"),
while each object is one draw_text call, so its position and tokens are reliable.
"""
from __future__ import annotations

import copy
import re
import unicodedata
import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from openpyxl import load_workbook

from certificates import fonts
from governance.disclosure import protect
from governance.report import rows as report, write_quarterly_report
from governance.report.labels import LABELS

FIGURES = {
    "quarter": "2026-Q4", "as_of": "2026-11-26",
    "targets": {"total": 500, "engineer": 200, "researcher": 100, "official": 200},
    "trained": 83,
    "by_category": {"engineer": 3, "researcher": 0, "official": 80},
    "by_sector": {"health": 61, "education": 2, "justice": 0, "agriculture": 20, "administration": 0, "other": 0},
    "by_region": {"tanger-tetouan-al-hoceima": 0, "oriental": 4, "fes-meknes": 0, "rabat-sale-kenitra": 57,
                  "beni-mellal-khenifra": 0, "casablanca-settat": 13, "marrakech-safi": 1, "draa-tafilalet": 0,
                  "souss-massa": 8, "guelmim-oued-noun": 0, "laayoune-sakia-el-hamra": 0,
                  "dakhla-oued-ed-dahab": 0},
    "by_gender": {"f": 36, "m": 44, "unknown": 3},
    "by_language": {"fr": 70, "ar": 9, "ary": 4, "zgh": 0, "en": 0},
    "trend": [{"quarter": "2026-Q2", "trained": 0}, {"quarter": "2026-Q3", "trained": 41},
              {"quarter": "2026-Q4", "trained": 83}],
    "certificates": {"issued": 45, "revoked": 2, "expired": 1, "verifications": 317},
    "cohorts": [{"code": f"SANTE-RABAT-{n:02d}", "sector": "health", "region": "rabat-sale-kenitra",
                 "language": "fr", "attended": 159, "counted": 167, "enrolled": 22, "completed": 10}
                for n in range(1, 46)]  # long enough to run over several pages
               + [{"code": "AGRI-SOUSS-01", "sector": "agriculture", "region": "souss-massa", "language": "ar",
                   "attended": 0, "counted": 0, "enrolled": 0, "completed": 0}],
}

PREVIOUS = {
    **copy.deepcopy(FIGURES), "quarter": "2026-Q3", "as_of": "2026-09-30", "trained": 41,
    "by_category": {"engineer": 0, "researcher": 0, "official": 41},
    "by_sector": {"health": 30, "education": 0, "justice": 0, "agriculture": 11, "administration": 0, "other": 0},
    "by_region": {**FIGURES["by_region"], "rabat-sale-kenitra": 30, "casablanca-settat": 0, "souss-massa": 11,
                  "oriental": 0, "marrakech-safi": 0},
    "by_gender": {"f": 17, "m": 21, "unknown": 3},
    # "ar" was 2 (hidden) and is 9 now: printing "+7" would give the 2 away.
    "by_language": {"fr": 39, "ar": 2},
    "certificates": {"issued": 41, "revoked": 0, "expired": 0, "verifications": 90},
}

CORRECTIONS = [
    {"quarter": "2026-Q3", "figure": "trained", "closed": 39, "now": 41},
    {"quarter": "2026-Q3", "figure": "by_region.oriental", "closed": 0, "now": 2},
    {"quarter": "2026-Q3", "figure": "by_sector.agriculture", "closed": 9, "now": 11},
    {"quarter": "2026-Q3", "figure": "certificates.revoked", "closed": 0, "now": 1},
]

SHEETS = {"category": "Catégories", "sector": "Secteurs", "region": "Régions", "gender": "Genre",
          "language": "Langues"}
FIRST_ROW = 6  # rows 1-2: title (FR, AR); 4-5: headers (FR, AR)

# How many times a suppressed count's label is drawn with its "<5": progress bar, chart, table.
DRAWN = {"category": 3, "sector": 2, "region": 2, "gender": 1, "language": 1}


def expected(name: str, code: str, figures: dict = FIGURES) -> int | str:
    """As the disclosure rule writes a breakdown cell: "<5", or "5+" when hidden so that a "<5" cannot be
    worked out from the total (governance.disclosure.protect, tested in tests/test_disclosure.py)."""
    return protect(figures[f"by_{name}"], figures["trained"]).get(code, 0)


def expected_change(name: str, code: str) -> int | str:
    """Both counts written exactly, and the change 0 or at least 5 either way (1 to 4 is a small count)."""
    now, before = expected(name, code), expected(name, code, PREVIOUS)
    if not (isinstance(now, int) and isinstance(before, int)) or 1 <= abs(now - before) <= 4:
        return "—"
    return now - before


@pytest.fixture
def written(tmp_path):
    return write_quarterly_report(FIGURES, PREVIOUS, CORRECTIONS, tmp_path / "reports" / "2026")


def data_rows(ws):
    return {row[0]: row for row in ws.iter_rows(min_row=FIRST_ROW, values_only=True) if row[0] is not None}


# ---------------------------------------------------------------------------------------------------
# Files


def test_writes_both_files_named_by_quarter(written, tmp_path):
    pdf, xlsx = written
    assert (pdf, xlsx) == (tmp_path / "reports/2026/kafaa-report-2026-Q4.pdf",
                           tmp_path / "reports/2026/kafaa-report-2026-Q4.xlsx")
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert zipfile.is_zipfile(xlsx)
    assert sorted(p.name for p in pdf.parent.iterdir()) == [pdf.name, xlsx.name]  # no temporary left behind


def test_a_quarter_that_is_not_one_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError):
        write_quarterly_report({**FIGURES, "quarter": "../../etc/x"}, None, [], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unknown_label_vocabulary_is_refused(tmp_path):
    with pytest.raises(ValueError):
        write_quarterly_report(FIGURES, None, [], tmp_path, labels={"regions": {"oriental": ("a", "b")}})
    with pytest.raises(ValueError):
        write_quarterly_report(FIGURES, None, [], tmp_path, labels={"region": {"oriental": "Oriental"}})


# ---------------------------------------------------------------------------------------------------
# XLSX


def test_xlsx_has_every_sheet_with_french_and_arabic_headers(written):
    wb = load_workbook(written[1])
    assert wb.sheetnames == ["Résumé", "Catégories", "Secteurs", "Régions", "Genre", "Langues", "Tendance",
                             "Certificats", "Cohortes", "Corrections"]
    for ws in wb:
        french = [c.value for c in ws[4] if c.value]
        arabic = [c.value for c in ws[5] if c.value]
        assert french and len(french) == len(arabic), ws.title
        assert all(fonts.has_arabic(value) for value in arabic), ws.title


def test_xlsx_breakdowns_follow_the_small_count_rule(written):
    wb = load_workbook(written[1])
    small = 0
    for name, sheet in SHEETS.items():
        rows = data_rows(wb[sheet])
        counts, before = FIGURES[f"by_{name}"], PREVIOUS[f"by_{name}"]
        assert list(rows) == list(counts), sheet
        for code, count in counts.items():
            _, french, arabic, shown_count, change, *_ = rows[code]
            assert (french, arabic) == LABELS[name][code]
            assert shown_count == expected(name, code), (sheet, code)
            assert change == expected_change(name, code), (sheet, code)
            small += shown_count == "<5"
    assert small == 6  # engineer, education, oriental, marrakech-safi, unknown gender, darija
    categories = data_rows(wb["Catégories"])
    assert [categories[code][5] for code in ("engineer", "researcher", "official")] == [200, 100, 200]
    assert data_rows(wb["Langues"])["ar"][4] == "—"  # 2 -> 9 would give the 2 away


def test_xlsx_summary_trend_certificates(written):
    wb = load_workbook(written[1])
    summary = {row[0]: row[1] for row in wb["Résumé"].iter_rows(min_row=FIRST_ROW, values_only=True)}
    assert summary["Trimestre"] == "2026-Q4"
    assert summary["Situation au"].date().isoformat() == "2026-11-26"
    assert summary["Objectif"] == 500
    assert summary["Personnes formées"] == 83  # the grand total is exact
    assert summary["Évolution"] == 42
    assert summary["Trimestre précédent"] == "2026-Q3"
    assert summary["Taux d'atteinte"] == pytest.approx(83 / 500)
    trend = data_rows(wb["Tendance"])
    assert trend == {"2026-Q2": ("2026-Q2", 0), "2026-Q3": ("2026-Q3", 41), "2026-Q4": ("2026-Q4", 83)}
    certificates = data_rows(wb["Certificats"])
    # Events of people follow the "<5" rule (disclosure control); checks by verifiers are exact.
    assert {code: row[3] for code, row in certificates.items()} == {
        "issued": 45, "revoked": "<5", "expired": "<5", "verifications": 317}
    assert {code: row[4] for code, row in certificates.items()} == {
        "issued": "—", "revoked": "—", "expired": "—", "verifications": 227}  # +4: a change of 1 to 4 is hidden


def test_xlsx_cohort_rates_are_numbers_formatted_as_percentages(written):
    ws = load_workbook(written[1])["Cohortes"]
    rows = {ws.cell(row, 1).value: row for row in range(FIRST_ROW, ws.max_row + 1)}
    assert len(rows) == len(FIGURES["cohorts"])
    first = rows["SANTE-RABAT-01"]
    assert ws.cell(first, 8).value == pytest.approx(159 / 167)
    assert ws.cell(first, 9).value == pytest.approx(10 / 22)
    assert ws.cell(first, 8).number_format == ws.cell(first, 9).number_format == "0.0%"
    empty = rows["AGRI-SOUSS-01"]
    assert ws.cell(empty, 8).value is None and ws.cell(empty, 9).value is None  # no sessions counted yet
    assert [ws.cell(first, col).value for col in range(2, 8)] == [
        "Santé", "الصحة", "Rabat-Salé-Kénitra", "الرباط سلا القنيطرة", "Français", "الفرنسية"]


def test_xlsx_corrections(written):
    rows = list(load_workbook(written[1])["Corrections"].iter_rows(min_row=FIRST_ROW, values_only=True))
    assert rows == [
        ("2026-Q3", "trained", "Personnes formées", "الأشخاص المكوَّنون", 39, 41, "—"),  # +2: hidden
        ("2026-Q3", "by_region.oriental", "Région — L'Oriental", "الجهة — الشرق", 0, "<5", "—"),
        ("2026-Q3", "by_sector.agriculture", "Secteur — Agriculture", "القطاع — الفلاحة", 9, 11, "—"),
        ("2026-Q3", "certificates.revoked", "Certificats — Révoqués", "الشهادات — الملغاة", 0, "<5", "—"),
    ]


def test_xlsx_without_previous_or_corrections(tmp_path):
    _, xlsx = write_quarterly_report(FIGURES, None, [], tmp_path)
    wb = load_workbook(xlsx)
    assert all(row[4] is None for row in data_rows(wb["Régions"]).values())
    assert data_rows(wb["Corrections"])["Aucune correction"]


def test_text_that_looks_like_a_formula_is_stored_as_text(tmp_path):
    codes = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2", "@SUM(A1)"]
    figures = {**FIGURES, "cohorts": [{**FIGURES["cohorts"][0], "code": code} for code in codes]}
    _, xlsx = write_quarterly_report(figures, None, [], tmp_path)
    with zipfile.ZipFile(xlsx) as archive:
        sheets = [archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/")]
    assert sheets and not any(b"<f>" in sheet or b"<f " in sheet for sheet in sheets)
    ws = load_workbook(xlsx)["Cohortes"]
    cells = [ws.cell(row, 1) for row in range(FIRST_ROW, FIRST_ROW + len(codes))]
    assert [cell.value for cell in cells] == codes
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in cells)


# ---------------------------------------------------------------------------------------------------
# PDF


def page_texts(pdf: Path) -> list[str]:
    document = pdfium.PdfDocument(pdf.read_bytes())
    return [document[i].get_textpage().get_text_range() for i in range(len(document))]


def numbers(text: str) -> list[str]:
    """Standalone numbers, signed or not (95,2 is one; no digits of 2026-Q4 or SANTE-01 count)."""
    return re.findall(r"(?<![\w,.\-])[+\-−]?\d+(?:,\d+)?(?![\w,\-])", text)


def drawn_lines(pdf: Path) -> list[list[str]]:
    """Every text object of the PDF grouped by line (same page, same vertical centre within 3.5 pt),
    each line as its objects' texts, left to right."""
    document = pdfium.PdfDocument(pdf.read_bytes())
    lines: list[list[str]] = []
    for index in range(len(document)):
        page = document[index]
        textpage = page.get_textpage()
        placed = []
        for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT]):
            obj.textpage = textpage
            left, bottom, right, top = obj.get_bounds()
            placed.append(((bottom + top) / 2, left, unicodedata.normalize("NFKC", obj.extract()).strip()))
        placed.sort()
        current: list[tuple[float, float, str]] = []
        for item in placed:
            if current and item[0] - current[0][0] > 3.5:
                lines.append([text for _, _, text in sorted(current, key=lambda t: t[1])])
                current = []
            current.append(item)
        if current:
            lines.append([text for _, _, text in sorted(current, key=lambda t: t[1])])
    return lines


def words(text: str) -> list[str]:
    return sorted(re.split(r"[\s\-]+", text.strip()))


def label_lines(lines: list[list[str]], label: str, *, headed: bool = False) -> list[list[str]]:
    """Lines where the French label is drawn as its own object (in whatever word order pdfium gives);
    `headed`: only those it starts, as in charts, progress bars and breakdown tables (not cohort rows)."""
    return [line for line in lines
            if any(words(text) == words(label) for text in (line[:1] if headed else line))]


def leaks(pdf: Path, figures: dict) -> list[tuple[str, str, list[str]]]:
    """Small counts printed next to their label: any line of a suppressed label holding a number 1-4
    (or a signed one, a change that would reveal it)."""
    found = []
    lines = drawn_lines(pdf)
    for name in SHEETS:
        for code, count in figures[f"by_{name}"].items():
            if 1 <= count <= 4:
                for line in label_lines(lines, LABELS[name][code][0]):
                    small = [n for n in numbers(" ".join(line)) if re.fullmatch(r"[+\-−]?[1-4]", n)]
                    if small:
                        found.append((name, code, line))
    return found


def marked(line: list[str]) -> bool:
    # pdfium mirrors "<5" into "> 5" (or reverses it into "5>") when it reads the line as right-to-left.
    return bool(re.search(r"<\s*5|>\s*5|5\s*>", "".join(line)))


def test_pdf_is_a4_portrait_and_runs_over_several_pages(written):
    document = pdfium.PdfDocument(written[0].read_bytes())
    assert len(document) >= 3
    assert all(tuple(round(v) for v in document[i].get_size()) == (595, 842) for i in range(len(document)))


def test_pdf_prints_the_total_target_and_every_large_count(written):
    texts = page_texts(written[0])
    first = numbers(texts[0])
    assert "83" in first and "500" in first  # trained and target on the first page
    lines = drawn_lines(written[0])
    for name in SHEETS:
        for code, count in FIGURES[f"by_{name}"].items():
            rows = label_lines(lines, LABELS[name][code][0], headed=True)
            assert len(rows) >= DRAWN[name], (name, code, rows)
            if isinstance(expected(name, code), int):
                assert all(str(count) in numbers(" ".join(row)) for row in rows), (name, code, rows)
            elif count >= 5:  # hidden as "5+": its true count is never printed on its lines
                assert all(str(count) not in numbers(" ".join(row)) and "5+" in " ".join(row)
                           for row in rows), (name, code, rows)
    for code, value in FIGURES["certificates"].items():  # events of people: "<5" from 1 to 4
        (row,) = label_lines(lines, LABELS["certificates"][code][0], headed=True)
        if 1 <= value <= 4 and code != "verifications":
            assert marked(row) and str(value) not in numbers(" ".join(row)), (code, row)
        else:
            assert str(value) in numbers(" ".join(row)), (code, row)


def test_pdf_never_prints_a_small_count_next_to_its_label(written):
    assert leaks(written[0], FIGURES) == []
    lines = drawn_lines(written[0])
    for name in SHEETS:
        for code, count in FIGURES[f"by_{name}"].items():
            if 1 <= count <= 4:
                rows = label_lines(lines, LABELS[name][code][0], headed=True)
                assert sum(marked(row) for row in rows) >= DRAWN[name], (name, code, rows)
    assert any("<5" in text for text in page_texts(written[0]))


def test_the_leak_check_catches_a_report_without_the_rule(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "protect", lambda counts, *args, **kwargs: dict(counts))
    pdf, _ = write_quarterly_report(FIGURES, PREVIOUS, CORRECTIONS, tmp_path)
    found = {(name, code) for name, code, _ in leaks(pdf, FIGURES)}
    assert found == {(name, code) for name in SHEETS for code, count in FIGURES[f"by_{name}"].items()
                     if 1 <= count <= 4}


def test_pdf_shows_changes_since_the_previous_quarter(written):
    lines = drawn_lines(written[0])
    assert "+42" in numbers(" ".join(" ".join(line) for line in lines))  # trained: 41 -> 83
    (table,) = [row for row in label_lines(lines, "Santé", headed=True) if "+31" in numbers(" ".join(row))]
    assert "61" in numbers(" ".join(table))  # health: 30 -> 61
    # Officials (80, beside 3 engineers "<5" in a total of 83) are hidden as "5+": neither 80 nor +39.
    officials = label_lines(lines, "Fonctionnaire", headed=True)
    assert officials and all("80" not in numbers(" ".join(row)) and "+39" not in numbers(" ".join(row))
                             for row in officials)
    (arabic,) = [row for row in label_lines(lines, "Arabe", headed=True) if "—" in row]
    assert "+7" not in numbers(" ".join(arabic)) and "9" not in numbers(" ".join(arabic))  # 2 -> 9: hidden


def test_pdf_prints_the_corrections(written):
    text = unicodedata.normalize("NFKC", "\n".join(page_texts(written[0])))
    assert "Corrections" in text and "التصحيحات" in text
    lines = drawn_lines(written[0])
    (trained,) = [line for line in lines if "Personnes formées" in line and "2026-Q3" in line]
    assert ["39", "41"] == numbers(" ".join(trained)) and trained[-1] == "—"  # a change of 1 to 4: hidden
    (oriental,) = [line for line in lines if "Région — L'Oriental" in line]
    assert oriental == ["2026-Q3", "Région — L'Oriental", "0", "<5", "—"]  # 2 now: hidden, and so is +2


def test_pdf_without_corrections_has_no_corrections_section(tmp_path):
    pdf, _ = write_quarterly_report(FIGURES, None, [], tmp_path)
    text = unicodedata.normalize("NFKC", "\n".join(page_texts(pdf)))
    assert "Corrections" not in text and "Évolution" in text  # the key-figure box stays, with "—"


def test_pdf_arabic_reads_back(written):
    text = unicodedata.normalize("NFKC", "\n".join(page_texts(written[0])))
    for word in ("مهندس", "باحث", "موظف", "الفرنسية", "الجهة", "الأفواج"):
        assert word in text
    # A label of several words: its words come back (pdfium may order them visually on a mixed line).
    assert any(sorted(line.split()) == sorted("الرباط سلا القنيطرة".split()) for line in
               [t for row in drawn_lines(written[0]) for t in row])


def test_pdf_cohort_table_breaks_across_pages_without_losing_a_row(written):
    texts = [unicodedata.normalize("NFKC", t) for t in page_texts(written[0])]
    for cohort in FIGURES["cohorts"]:
        assert sum(t.count(cohort["code"]) for t in texts) == 1, cohort["code"]
    pages_with_cohorts = [t for t in texts if "SANTE-RABAT-" in t]
    assert len(pages_with_cohorts) >= 2
    assert all("Assiduité" in t for t in pages_with_cohorts)  # the header is repeated
    assert "95,2 %" in texts[-1] or any("95,2 %" in t for t in texts)
    assert "45,5 %" in "".join(texts)


def test_labels_can_be_overridden(tmp_path):
    labels = {"region": {"souss-massa": ("Région Souss-Massa", "جهة سوس ماسة")},
              "text": {"title": ("Bilan trimestriel", "الحصيلة الفصلية")}}
    pdf, xlsx = write_quarterly_report(FIGURES, None, [], tmp_path, labels=labels)
    row = data_rows(load_workbook(xlsx)["Régions"])["souss-massa"]
    assert row[1:4] == ("Région Souss-Massa", "جهة سوس ماسة", 8)
    assert data_rows(load_workbook(xlsx)["Régions"])["oriental"][1] == "L'Oriental"  # the others stay
    assert label_lines(drawn_lines(pdf), "Région Souss-Massa")
    assert "Bilan trimestriel" in page_texts(pdf)[0]
