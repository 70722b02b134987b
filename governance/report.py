"""The quarterly report of the governance cell: one PDF and one XLSX, French and Arabic side by side.

Plain data in, two files out: no Flask, no database. `figures` is what
`governance.operations.full_figures(quarter)` returns (exact counts); this module applies the
small-count rule itself (`governance.rules.shown`) wherever a breakdown count is printed:

- every breakdown count (category, sector, region, gender, language) from 1 to 4 is written "<5",
  in tables and chart labels alike, in both files; so are those counts in the corrections table;
- a change since the previous quarter is printed only when neither quarter's count is suppressed
  (from "<5" to 7, "+4" would give the hidden count away); otherwise it is written "—";
- in charts a suppressed bar is drawn at height 2.5 (half-way to 5), in a lighter colour, labelled "<5";
- the grand total "trained", the quarterly trend of that total and the certificate event counts are
  exact, as in the API (governance.serializers.progress_json, unfiltered);
- cohort rows show rates only (attendance and completion), never the people counts behind them.

Labels: LABELS holds French and Arabic labels for each vocabulary and for the report's own texts;
`labels` overrides some of them with the same shape, e.g.
    {"region": {"oriental": ("Oriental", "الشرق")}, "text": {"title": ("Rapport", "تقرير")}}
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from certificates import fonts
from common.printed_dates import date_ar, date_fr
from governance.rules import SMALL_COUNT, Quarter, shown

Pair = tuple[str, str]  # (French, Arabic)

BREAKDOWNS = ("category", "sector", "region", "gender", "language")
SUPPRESSED_BAR = 2.5  # height of a "<5" bar, in counts
HIDDEN_CHANGE = "—"  # a change that would reveal a suppressed count

LABELS: dict[str, dict[str, Pair]] = {
    "category": {
        "engineer": ("Ingénieur", "مهندس"),
        "researcher": ("Chercheur", "باحث"),
        "official": ("Fonctionnaire", "موظف"),
    },
    "sector": {
        "health": ("Santé", "الصحة"),
        "education": ("Éducation", "التعليم"),
        "justice": ("Justice", "العدل"),
        "agriculture": ("Agriculture", "الفلاحة"),
        "administration": ("Administration", "الإدارة"),
        "other": ("Autre", "أخرى"),
    },
    # The twelve regions of 2015, by their official French and Arabic names.
    "region": {
        "tanger-tetouan-al-hoceima": ("Tanger-Tétouan-Al Hoceïma", "طنجة تطوان الحسيمة"),
        "oriental": ("L'Oriental", "الشرق"),
        "fes-meknes": ("Fès-Meknès", "فاس مكناس"),
        "rabat-sale-kenitra": ("Rabat-Salé-Kénitra", "الرباط سلا القنيطرة"),
        "beni-mellal-khenifra": ("Béni Mellal-Khénifra", "بني ملال خنيفرة"),
        "casablanca-settat": ("Casablanca-Settat", "الدار البيضاء سطات"),
        "marrakech-safi": ("Marrakech-Safi", "مراكش آسفي"),
        "draa-tafilalet": ("Drâa-Tafilalet", "درعة تافيلالت"),
        "souss-massa": ("Souss-Massa", "سوس ماسة"),
        "guelmim-oued-noun": ("Guelmim-Oued Noun", "كلميم واد نون"),
        "laayoune-sakia-el-hamra": ("Laâyoune-Sakia El Hamra", "العيون الساقية الحمراء"),
        "dakhla-oued-ed-dahab": ("Dakhla-Oued Ed-Dahab", "الداخلة وادي الذهب"),
    },
    "gender": {
        "f": ("Femme", "امرأة"),
        "m": ("Homme", "رجل"),
        "unknown": ("Non renseigné", "غير محدد"),
    },
    "language": {
        "fr": ("Français", "الفرنسية"),
        "ar": ("Arabe", "العربية"),
        "ary": ("Darija", "الدارجة"),
        "zgh": ("Amazigh", "الأمازيغية"),
        "en": ("Anglais", "الإنجليزية"),
        "unknown": ("Non renseignée", "غير محددة"),
    },
    "certificates": {
        "issued": ("Délivrés", "المسلَّمة"),
        "revoked": ("Révoqués", "الملغاة"),
        "expired": ("Expirés", "المنتهية صلاحيتها"),
        "verifications": ("Vérifications", "عمليات التحقق"),
    },
    "text": {
        "programme": ("Kafaa · Registre national de la formation à l'IA",
                      "كفاءة · السجل الوطني للتكوين في الذكاء الاصطناعي"),
        "title": ("Rapport trimestriel", "التقرير الفصلي"),
        "quarter": ("Trimestre", "الفصل"),
        "as_of": ("Situation au", "الوضعية بتاريخ"),
        "trained": ("Personnes formées", "الأشخاص المكوَّنون"),
        "target": ("Objectif", "الهدف"),
        "rate": ("Taux d'atteinte", "نسبة الإنجاز"),
        "change": ("Évolution", "التغير"),
        "since": ("depuis", "منذ"),
        "previous": ("Trimestre précédent", "الفصل السابق"),
        "progress": ("Progression vers l'objectif", "التقدم نحو الهدف"),
        "by_category": ("Par catégorie", "حسب الفئة"),
        "by_sector": ("Par secteur", "حسب القطاع"),
        "by_region": ("Par région", "حسب الجهة"),
        "by_gender": ("Par genre", "حسب الجنس"),
        "by_language": ("Par langue de formation", "حسب لغة التكوين"),
        "category": ("Catégorie", "الفئة"),
        "sector": ("Secteur", "القطاع"),
        "region": ("Région", "الجهة"),
        "gender": ("Genre", "الجنس"),
        "language": ("Langue", "اللغة"),
        "count": ("Effectif", "العدد"),
        "code": ("Code", "الرمز"),
        "label": ("Libellé", "التسمية"),
        "trend": ("Personnes formées par trimestre", "الأشخاص المكوَّنون حسب الفصل"),
        "certificates": ("Certificats", "الشهادات"),
        "number": ("Nombre", "العدد"),
        "value": ("Valeur", "القيمة"),
        "cohorts": ("Cohortes", "الأفواج"),
        "attendance": ("Assiduité", "نسبة الحضور"),
        "completion": ("Achèvement", "نسبة الإتمام"),
        "corrections": ("Corrections", "التصحيحات"),
        "corrections_note": ("Chiffres de trimestres clôturés modifiés depuis leur clôture",
                             "أرقام فصول مختتمة تغيرت بعد اختتامها"),
        "no_corrections": ("Aucune correction", "لا توجد تصحيحات"),
        "figure": ("Indicateur", "المؤشر"),
        "closed": ("À la clôture", "عند الاختتام"),
        "now": ("Actuel", "حاليا"),
        "difference": ("Écart", "الفرق"),
        "no_cohorts": ("Aucune cohorte ce trimestre", "لا توجد أفواج خلال هذا الفصل"),
        # Notes are printed after their symbol ("<5 : ...", "— : ..."), which is drawn apart from the
        # Arabic so that bidi reordering cannot turn "<5" around; keep brackets out of Arabic texts.
        "small_note": ("effectif de 1 à 4, masqué pour protéger les personnes",
                       "عدد من 1 إلى 4، محجوب حمايةً للأشخاص"),
        "bar_note": ("Barre claire : effectif <5, tracée à 2,5", "العمود الفاتح: عدد أقل من 5، مرسوم عند 2,5"),
        "change_note": ("évolution masquée, effectif <5 à l'un des deux trimestres",
                        "تغير محجوب: عدد أقل من 5 في أحد الفصلين"),
        "trend_note": ("Derniers trimestres seulement ; la feuille Tendance du classeur les donne tous",
                       "آخر الفصول فقط، وكلها في ورقة Tendance"),
        "page": ("page", "صفحة"),
    },
}

_QUARTER_AR = ("الأول", "الثاني", "الثالث", "الرابع")


# ---------------------------------------------------------------------------------------------------
# Data preparation: everything both files print, with the small-count rule applied once, here.


def merge_labels(overrides: Mapping[str, Mapping[str, Sequence[str]]] | None) -> dict[str, dict[str, Pair]]:
    """The built-in labels with some replaced: {vocabulary: {code: (french, arabic)}}."""
    merged = {name: dict(entries) for name, entries in LABELS.items()}
    for name, entries in (overrides or {}).items():
        if name not in merged:
            raise ValueError(f"unknown label vocabulary {name!r}: use one of {', '.join(merged)}")
        for code, pair in entries.items():
            if isinstance(pair, str) or len(pair) != 2 or not all(isinstance(p, str) for p in pair):
                raise ValueError(f"label {name}.{code} must be a (french, arabic) pair")
            if name == "text" and code not in merged["text"]:
                raise ValueError(f"unknown report text {code!r}")
            merged[name][code] = (pair[0], pair[1])
    return merged


@dataclass(frozen=True)
class Row:
    """One printed line of a breakdown: the shown count and the shown change (None: no previous)."""
    code: str
    label: Pair
    count: int | str
    change: int | str | None
    exact: int  # kept for the bar height only; never printed when suppressed


def _label(labels: dict[str, dict[str, Pair]], vocabulary: str, code: str | None) -> Pair:
    """A code's (French, Arabic) labels; an unknown code stands for itself, a missing one is "—"."""
    if code is None or code == "":
        return ("—", "—")
    return labels.get(vocabulary, {}).get(str(code), (str(code), str(code)))


def shown_change(now: int, before: int | None, *, suppress: bool = True) -> int | str | None:
    """The change since the previous quarter, unless it would reveal a count of 1 to 4."""
    if before is None:
        return None
    if suppress and (shown(now) == SMALL_COUNT or shown(before) == SMALL_COUNT):
        return HIDDEN_CHANGE
    return now - before


def breakdown_rows(name: str, figures: Mapping[str, Any], previous: Mapping[str, Any] | None,
                   labels: dict[str, dict[str, Pair]]) -> list[Row]:
    current = figures.get(f"by_{name}") or {}
    before = (previous.get(f"by_{name}") or {}) if previous is not None else None
    codes = list(current) + [code for code in (before or {}) if code not in current]
    rows = []
    for code in codes:
        now = int(current.get(code, 0))
        rows.append(Row(code, _label(labels, name, code), shown(now),
                        shown_change(now, None if before is None else int(before.get(code, 0))), now))
    return rows


def certificate_rows(figures: Mapping[str, Any], previous: Mapping[str, Any] | None,
                     labels: dict[str, dict[str, Pair]]) -> list[Row]:
    current = figures.get("certificates") or {}
    before = (previous.get("certificates") or {}) if previous is not None else None
    rows = []
    for code in list(LABELS["certificates"]) + [c for c in current if c not in LABELS["certificates"]]:
        now = int(current.get(code, 0))
        rows.append(Row(code, _label(labels, "certificates", code), now,
                        shown_change(now, None if before is None else int(before.get(code, 0)), suppress=False),
                        now))
    return rows


def figure_label(figure: str, labels: dict[str, dict[str, Pair]]) -> Pair:
    """'by_region.oriental' -> ('Région — L'Oriental', 'الجهة — الشرق'); 'trained' -> its label."""
    name, _, code = figure.partition(".")
    if not code:
        return labels["text"].get(name, (figure, figure))
    if name.startswith("by_") and name[3:] in labels:
        dim, item = labels["text"].get(name[3:], (name, name)), _label(labels, name[3:], code)
    elif name == "certificates":
        dim, item = labels["text"]["certificates"], _label(labels, "certificates", code)
    else:
        return (figure, figure)
    return (f"{dim[0]} — {item[0]}", f"{dim[1]} — {item[1]}")


def correction_rows(corrections: Iterable[Mapping[str, Any]],
                    labels: dict[str, dict[str, Pair]]) -> list[dict[str, Any]]:
    """Corrections as printed: breakdown values follow the small-count rule, totals are exact."""
    rows = []
    for item in corrections:
        figure = str(item["figure"])
        closed, now = item.get("closed"), item.get("now")
        breakdown = figure.startswith("by_")
        numeric = isinstance(closed, int) and isinstance(now, int)
        rows.append({
            "quarter": str(item["quarter"]), "figure": figure, "label": figure_label(figure, labels),
            "closed": shown(closed) if breakdown and isinstance(closed, int) else closed,
            "now": shown(now) if breakdown and isinstance(now, int) else now,
            "difference": shown_change(now, closed, suppress=breakdown) if numeric else None,
        })
    return rows


def rate(numerator: Any, denominator: Any) -> float | None:
    return numerator / denominator if denominator else None


def cohort_rows(figures: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"code": str(c.get("code", "")), "sector": c.get("sector"), "region": c.get("region"),
             "language": c.get("language"),
             "attendance": rate(c.get("attended", 0), c.get("counted", 0)),
             "completion": rate(c.get("completed", 0), c.get("enrolled", 0))}
            for c in figures.get("cohorts") or []]


def fmt_count(value: int | str | None) -> str:
    return "" if value is None else str(value)


def fmt_change(value: int | str | None) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    return f"{value:+d}" if value else "0"


def fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}".replace(".", ",") + " %"


def quarter_ar(quarter: Quarter) -> str:
    return f"{_QUARTER_AR[quarter.number - 1]} من سنة {quarter.year}"




# ---------------------------------------------------------------------------------------------------
# PDF

PAGE_W, PAGE_H = A4
MARGIN = 40.0
LEFT, RIGHT = MARGIN, PAGE_W - MARGIN
WIDTH = RIGHT - LEFT
TOP, BOTTOM = PAGE_H - 52.0, 50.0
GREEN = HexColor("#0B6E4F")
LIGHT_GREEN = HexColor("#9CCFBE")
PALE = HexColor("#EEF5F2")
GREY = HexColor("#555555")
RULE = HexColor("#BBBBBB")
BLACK = Color(0, 0, 0)


def _fit(c: Canvas, text: str, x: float, y: float, size: float, width: float, *,
         align: str = "left", bold: bool = False) -> float:
    """Draw one line, shrunk to fit `width` (down to 5 pt); return the width drawn."""
    if not text:
        return 0.0
    natural = fonts.text_width(text, size, bold=bold)
    if natural > width:
        size = max(5.0, size * width / natural)
    return fonts.draw_text(c, text, x, y, size, align=align, bold=bold)


class _Pages:
    """A top-down cursor over pages, with a running header and footer on each page."""

    def __init__(self, c: Canvas, header: Pair, labels: dict[str, dict[str, Pair]]):
        self.c, self.header, self.labels = c, header, labels
        self.page = 1
        self.y = TOP
        self._decorate()

    def _decorate(self) -> None:
        c = self.c
        c.setFillColor(GREY)
        _fit(c, self.header[0], LEFT, PAGE_H - 28, 7.5, WIDTH / 2 - 10)
        _fit(c, self.header[1], RIGHT, PAGE_H - 28, 7.5, WIDTH / 2 - 10, align="right")
        c.setStrokeColor(RULE)
        c.setLineWidth(0.5)
        c.line(LEFT, PAGE_H - 34, RIGHT, PAGE_H - 34)
        c.line(LEFT, 34, RIGHT, 34)
        page_fr, page_ar = self.labels["text"]["page"]
        fonts.draw_text(c, f"{page_fr} {self.page}", LEFT, 22, 7.5)
        # The number is drawn apart from the Arabic word so bidi cannot move it.
        width = fonts.draw_text(c, str(self.page), RIGHT, 22, 7.5, align="right")
        fonts.draw_text(c, page_ar, RIGHT - width - 3, 22, 7.5, align="right")
        c.setFillColor(BLACK)

    def new_page(self) -> None:
        self.c.showPage()
        self.page += 1
        self.y = TOP
        self._decorate()

    def need(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.new_page()

    def heading(self, pair: Pair, *, keep: float = 40.0, size: float = 12.0) -> None:
        """A section heading, French left and Arabic right, kept with `keep` points of what follows."""
        self.need(size + 12 + keep)
        self.y -= size + 4
        c = self.c
        c.setFillColor(GREEN)
        _fit(c, pair[0], LEFT, self.y, size, WIDTH / 2 - 10, bold=True)
        _fit(c, pair[1], RIGHT, self.y, size, WIDTH / 2 - 10, align="right")
        c.setStrokeColor(GREEN)
        c.setLineWidth(0.8)
        c.line(LEFT, self.y - 4, RIGHT, self.y - 4)
        c.setFillColor(BLACK)
        self.y -= 12

    def note(self, pair: Pair, *, symbol: str = "", size: float = 7.0) -> None:
        """A note, French left and Arabic right: on one line when both fit, else on two.
        The symbol it explains is drawn on its own, at the start of each language's reading order."""
        c = self.c
        french = f"{symbol} : {pair[0]}" if symbol else pair[0]
        lead = fonts.text_width(f"{symbol} :", size) + 3 if symbol else 0.0
        widths = fonts.text_width(french, size), fonts.text_width(pair[1], size) + lead
        one_line = sum(widths) + 24 <= WIDTH
        self.need(size * (1 if one_line else 2) + 8)
        self.y -= size + 2
        c.setFillColor(GREY)
        _fit(c, french, LEFT, self.y, size, WIDTH)
        if not one_line:
            self.y -= size + 3
        if symbol:
            width = fonts.draw_text(c, symbol, RIGHT, self.y, size, align="right")
            fonts.draw_text(c, ":", RIGHT - width - 3, self.y, size, align="right")
        _fit(c, pair[1], RIGHT - lead, self.y, size, WIDTH - lead, align="right")
        c.setFillColor(BLACK)
        self.y -= 2


def _progress_bar(p: _Pages, label: Pair, value: int | str, exact: int, target: int, *,
                  height: float = 10.0, size: float = 8.5, bold: bool = False) -> None:
    """label (FR left, AR right of the label column) | bar trained/target | 'value / target'."""
    c = p.c
    p.need(height + 8)
    p.y -= height + 6
    label_w, text_w = 190.0, 96.0
    bar_x, bar_w = LEFT + label_w + 8, WIDTH - label_w - text_w - 16
    baseline = p.y + height / 2 - size * 0.35
    _fit(c, label[0], LEFT, baseline, size, label_w * 0.55, bold=bold)
    _fit(c, label[1], LEFT + label_w, baseline, size, label_w * 0.42, align="right")
    c.setFillColor(PALE)
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.rect(bar_x, p.y, bar_w, height, fill=1, stroke=1)
    suppressed = value == SMALL_COUNT
    drawn = SUPPRESSED_BAR if suppressed else exact
    if target > 0 and drawn > 0:
        c.setFillColor(LIGHT_GREEN if suppressed else GREEN)
        c.rect(bar_x, p.y, bar_w * min(drawn / target, 1.0), height, fill=1, stroke=0)
    c.setFillColor(BLACK)
    text = f"{value} / {target}"
    if not suppressed and target > 0:
        text += f"  ({fmt_rate(exact / target)})"
    _fit(c, text, RIGHT, baseline, size, text_w + 8, align="right", bold=bold)


def _hbar_chart(p: _Pages, title: Pair, rows: Sequence[Row]) -> None:
    """Horizontal bars, one per row; a suppressed bar is drawn at 2.5 in a lighter colour."""
    row_h, size = 13.0, 7.5
    p.heading(title, keep=row_h * min(len(rows), 4))
    c = p.c
    label_w, value_w = 230.0, 36.0
    bar_x, bar_w = LEFT + label_w + 8, WIDTH - label_w - value_w - 12
    top = max([SUPPRESSED_BAR * 2] + [r.exact for r in rows if r.count != SMALL_COUNT])
    for row in rows:
        p.need(row_h)
        p.y -= row_h
        baseline = p.y + 3
        _fit(c, row.label[0], LEFT, baseline, size, label_w * 0.56)
        _fit(c, row.label[1], LEFT + label_w, baseline, size, label_w * 0.42, align="right")
        suppressed = row.count == SMALL_COUNT
        length = bar_w * (SUPPRESSED_BAR if suppressed else row.exact) / top
        if length > 0:
            c.setFillColor(LIGHT_GREEN if suppressed else GREEN)
            c.rect(bar_x, p.y + 1, length, row_h - 4, fill=1, stroke=0)
            c.setFillColor(BLACK)
        c.setStrokeColor(RULE)
        c.setLineWidth(0.5)
        c.line(bar_x, p.y, bar_x, p.y + row_h - 2)
        fonts.draw_text(c, fmt_count(row.count), bar_x + length + 4, baseline, size)
    p.y -= 4


def _trend_chart(p: _Pages, title: Pair, trend: Sequence[Mapping[str, Any]], note: Pair) -> None:
    """Vertical bars of the exact trained total at the end of each quarter (at most the last 12)."""
    shown_points = list(trend)[-12:]
    height = 110.0
    p.heading(title, keep=height + 30)
    if not shown_points:
        return
    c = p.c
    top = max([1] + [int(t["trained"]) for t in shown_points])
    floor = p.y - height - 14  # axis line; quarter labels under it, values above the bars
    slot = WIDTH / max(len(shown_points), 4)
    bar_w = min(36.0, slot * 0.6)
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.line(LEFT, floor, RIGHT, floor)
    for index, point in enumerate(shown_points):
        value = int(point["trained"])
        centre = LEFT + slot * (index + 0.5)
        bar_h = (height - 12) * value / top
        if bar_h > 0:
            c.setFillColor(GREEN)
            c.rect(centre - bar_w / 2, floor, bar_w, bar_h, fill=1, stroke=0)
        c.setFillColor(BLACK)
        fonts.draw_text(c, str(value), centre, floor + bar_h + 3, 7.5, align="center")
        c.setFillColor(GREY)
        _fit(c, str(point["quarter"]), centre, floor - 10, 7, slot - 2, align="center")
    c.setFillColor(BLACK)
    p.y = floor - 16
    if len(trend) > len(shown_points):
        p.note(note)


@dataclass(frozen=True)
class Column:
    header: Pair | str  # a pair is written on two lines (French over Arabic)
    width: float
    align: str = "left"


def _table(p: _Pages, columns: Sequence[Column], rows: Sequence[Sequence[str | Pair]], *,
           size: float = 8.0, stripe: bool = True) -> None:
    """A table that breaks across pages, repeating its header on each new page.
    A cell that is a pair is written on two lines; a row with any such cell is twice as tall."""
    c = p.c
    line_h = size + 3.5
    header_h = 2 * line_h + 4

    def x_of(index: int) -> tuple[float, float]:
        start = LEFT + sum(col.width for col in columns[:index])
        width = columns[index].width
        anchor = {"left": start + 2, "right": start + width - 2, "center": start + width / 2}[columns[index].align]
        return anchor, width - 4

    def header() -> None:
        p.y -= header_h
        c.setFillColor(PALE)
        c.rect(LEFT, p.y, WIDTH, header_h, fill=1, stroke=0)
        c.setFillColor(GREEN)
        for index, col in enumerate(columns):
            x, width = x_of(index)
            if isinstance(col.header, tuple):
                _fit(c, col.header[0], x, p.y + line_h + 4, size, width, align=col.align, bold=True)
                _fit(c, col.header[1], x, p.y + 4, size, width, align=col.align)
            else:
                _fit(c, col.header, x, p.y + line_h / 2 + 4, size, width, align=col.align,
                     bold=not fonts.has_arabic(col.header))
        c.setFillColor(BLACK)

    p.need(header_h + line_h * 2 + 4)
    header()
    for number, row in enumerate(rows):
        lines = 2 if any(isinstance(cell, tuple) for cell in row) else 1
        row_h = lines * line_h + 3
        if p.y - row_h < BOTTOM:
            p.new_page()
            header()
        p.y -= row_h
        if stripe and number % 2:
            c.setFillColor(PALE)
            c.rect(LEFT, p.y, WIDTH, row_h, fill=1, stroke=0)
            c.setFillColor(BLACK)
        for index, cell in enumerate(row):
            x, width = x_of(index)
            if isinstance(cell, tuple):
                _fit(c, cell[0], x, p.y + line_h + 3, size, width, align=columns[index].align)
                c.setFillColor(GREY)
                _fit(c, cell[1], x, p.y + 3, size, width, align=columns[index].align)
                c.setFillColor(BLACK)
            else:  # on the French line of a two-line row: read along with the first label
                baseline = p.y + line_h + 3 if lines == 2 else p.y + row_h / 2 - size * 0.35
                _fit(c, cell, x, baseline, size, width, align=columns[index].align)
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.line(LEFT, p.y, RIGHT, p.y)
    p.y -= 6


def _table_height(rows: int, size: float = 8.0) -> float:
    """Height of a table of single-line rows, as _table draws it."""
    line_h = size + 3.5
    return 2 * line_h + 4 + rows * (line_h + 3) + 6


def _breakdown_table(p: _Pages, name: str, rows: Sequence[Row], labels: dict[str, dict[str, Pair]],
                     with_change: bool, extra: Sequence[tuple[Column, Callable[[Row], str]]] = ()) -> None:
    """French label | count | [change] | Arabic label: each row on one line, so the count sits next
    to both labels."""
    text = labels["text"]
    dimension = text[name]
    numbers = [Column(text["count"], 70, "right"), *(col for col, _ in extra)]
    if with_change:
        numbers.append(Column(text["change"], 70, "right"))
    label_w = (WIDTH - sum(col.width for col in numbers)) / 2
    columns = [Column(dimension[0], label_w), *numbers, Column(dimension[1], label_w, "right")]
    body = []
    for row in rows:
        cells = [row.label[0], fmt_count(row.count), *(get(row) for _, get in extra)]
        if with_change:
            cells.append(fmt_change(row.change))
        body.append([*cells, row.label[1]])
    # Keep a short table whole with its heading; a long one may break (its header is then repeated).
    p.heading(text[f"by_{name}"], keep=min(_table_height(len(body)), 300))
    _table(p, columns, body)


def write_pdf(path: Path, figures: Mapping[str, Any], previous: Mapping[str, Any] | None,
              corrections: Sequence[Mapping[str, Any]], labels: dict[str, dict[str, Pair]]) -> None:
    fonts.register_fonts()
    text = labels["text"]
    quarter = Quarter.parse(str(figures["quarter"]))
    as_of = date.fromisoformat(str(figures["as_of"]))
    targets = figures.get("targets") or {}
    target = int(targets.get("total", 0))
    trained = int(figures.get("trained", 0))
    breakdowns = {name: breakdown_rows(name, figures, previous, labels) for name in BREAKDOWNS}
    with_change = previous is not None

    c = Canvas(str(path), pagesize=A4, pageCompression=1, invariant=1)
    c.setTitle(f"{text['title'][0]} {quarter}")
    c.setAuthor("Kafaa")
    c.setSubject(f"{text['programme'][0]} — {quarter}")
    p = _Pages(c, (f"{text['title'][0]} {quarter}", text["programme"][1]), labels)

    # Title block.
    block_h = 96.0
    p.y -= block_h
    c.setFillColor(GREEN)
    c.rect(LEFT, p.y, WIDTH, block_h, fill=1, stroke=0)
    c.setFillColorRGB(1, 1, 1)
    half = WIDTH / 2 - 16
    _fit(c, text["programme"][0], LEFT + 12, p.y + block_h - 20, 9, half)
    _fit(c, text["programme"][1], RIGHT - 12, p.y + block_h - 20, 9, half, align="right")
    _fit(c, text["title"][0], LEFT + 12, p.y + block_h - 46, 20, half, bold=True)
    _fit(c, text["title"][1], RIGHT - 12, p.y + block_h - 46, 20, half, align="right")
    _fit(c, f"{text['quarter'][0]} {quarter}", LEFT + 12, p.y + 30, 12, half, bold=True)
    _fit(c, f"{text['quarter'][1]} {quarter_ar(quarter)}", RIGHT - 12, p.y + 30, 12, half, align="right")
    _fit(c, f"{text['as_of'][0]} {date_fr(as_of)}", LEFT + 12, p.y + 12, 10, half)
    _fit(c, f"{text['as_of'][1]} {date_ar(as_of)}", RIGHT - 12, p.y + 12, 10, half, align="right")
    c.setFillColor(BLACK)
    p.y -= 10

    # Key figures: trained, target, change, side by side in three boxes.
    box_h, gap = 58.0, 10.0
    box_w = (WIDTH - 2 * gap) / 3
    p.y -= box_h
    change = trained - int(previous.get("trained", 0)) if previous is not None else None
    boxes = [(text["trained"], str(trained), None), (text["target"], str(target), None),
             (text["change"], fmt_change(change) if change is not None else "—",
              (f"{text['since'][0]} {previous['quarter']}", f"{text['since'][1]} {text['previous'][1]}")
             if previous is not None else None)]
    for index, (pair, value, sub) in enumerate(boxes):
        x = LEFT + index * (box_w + gap)
        c.setFillColor(PALE)
        c.rect(x, p.y, box_w, box_h, fill=1, stroke=0)
        c.setFillColor(GREY)
        _fit(c, pair[0], x + 8, p.y + box_h - 14, 8, box_w / 2 - 10)
        _fit(c, pair[1], x + box_w - 8, p.y + box_h - 14, 8, box_w / 2 - 10, align="right")
        c.setFillColor(GREEN)
        fonts.draw_text(c, value, x + box_w / 2, p.y + 16, 22, align="center", bold=True)
        if sub:
            c.setFillColor(GREY)
            _fit(c, sub[0], x + 8, p.y + 5, 7, box_w / 2 - 10)
            _fit(c, sub[1], x + box_w - 8, p.y + 5, 7, box_w / 2 - 10, align="right")
    c.setFillColor(BLACK)
    p.y -= 6

    # Progress toward the targets.
    p.heading(text["progress"], keep=70)
    _progress_bar(p, text["trained"], trained, trained, target, height=14, size=9.5, bold=True)
    for row in breakdowns["category"]:
        if row.code in targets:
            _progress_bar(p, row.label, row.count, row.exact, int(targets[row.code]))
    p.y -= 4
    p.note(text["small_note"], symbol=SMALL_COUNT)
    p.note(text["bar_note"])
    p.y -= 6

    # Charts.
    _hbar_chart(p, text["by_category"], breakdowns["category"])
    _hbar_chart(p, text["by_sector"], breakdowns["sector"])
    _hbar_chart(p, text["by_region"], breakdowns["region"])
    _trend_chart(p, text["trend"], figures.get("trend") or [], text["trend_note"])

    # Tables.
    target_col = (Column(text["target"], 60, "right"),
                  lambda row: str(targets.get(row.code, "")))
    for name in BREAKDOWNS:
        _breakdown_table(p, name, breakdowns[name], labels, with_change,
                         extra=(target_col,) if name == "category" else ())
    if with_change:
        p.note(text["change_note"], symbol=HIDDEN_CHANGE)
    p.note(text["small_note"], symbol=SMALL_COUNT)

    cert_rows = certificate_rows(figures, previous, labels)
    p.heading(text["certificates"], keep=60)
    columns = [Column(text["figure"][0], 0), Column(text["number"], 70, "right")]
    if with_change:
        columns.append(Column(text["change"], 70, "right"))
    columns.append(Column(text["figure"][1], 0, "right"))
    label_w = (WIDTH - sum(col.width for col in columns)) / 2
    columns[0] = Column(columns[0].header, label_w)
    columns[-1] = Column(columns[-1].header, label_w, "right")
    _table(p, columns, [[row.label[0], fmt_count(row.count),
                         *([fmt_change(row.change)] if with_change else []), row.label[1]] for row in cert_rows])

    cohorts = cohort_rows(figures)
    p.heading(text["cohorts"], keep=60)
    if cohorts:
        columns = [Column(text["code"], 110), Column(text["sector"], 85), Column(text["region"], 132),
                   Column(text["language"], 70), Column(text["attendance"], 59, "right"),
                   Column(text["completion"], WIDTH - 456, "right")]
        _table(p, columns, [[row["code"], _label(labels, "sector", row["sector"]),
                             _label(labels, "region", row["region"]),
                             _label(labels, "language", row["language"]),
                             fmt_rate(row["attendance"]), fmt_rate(row["completion"])] for row in cohorts],
               size=7.5)
    else:
        p.note(text["no_cohorts"], size=8)

    fixes = correction_rows(corrections, labels)
    if fixes:
        p.heading(text["corrections"], keep=60)
        p.note(text["corrections_note"])
        p.y -= 4
        columns = [Column(text["quarter"], 60), Column(text["figure"], WIDTH - 240),
                   Column(text["closed"], 60, "right"), Column(text["now"], 60, "right"),
                   Column(text["difference"], 60, "right")]
        _table(p, columns, [[row["quarter"], row["label"], fmt_count(row["closed"]), fmt_count(row["now"]),
                             fmt_change(row["difference"])] for row in fixes])
    c.showPage()
    c.save()


# ---------------------------------------------------------------------------------------------------
# XLSX

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
        if value in (SMALL_COUNT, HIDDEN_CHANGE) or fonts.has_arabic(value):
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


def write_xlsx(path: Path, figures: Mapping[str, Any], previous: Mapping[str, Any] | None,
               corrections: Sequence[Mapping[str, Any]], labels: dict[str, dict[str, Pair]]) -> None:
    text = labels["text"]
    quarter = Quarter.parse(str(figures["quarter"]))
    targets = figures.get("targets") or {}
    target = int(targets.get("total", 0))
    trained = int(figures.get("trained", 0))
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = f"{text['title'][0]} {quarter}"
    wb.properties.creator = "Kafaa"

    # Résumé: one figure per row.
    figure_fr, figure_ar = _label_headers(text["figure"])
    ws = _sheet(wb, "Résumé", (f"{text['title'][0]} {quarter}",
                               f"{text['title'][1]} — {text['quarter'][1]} {quarter_ar(quarter)}"),
                [figure_fr, text["value"], figure_ar], [44, 18, 44])
    change = trained - int(previous.get("trained", 0)) if previous is not None else None
    summary: list[tuple[Pair, Any, str | None]] = [
        (text["quarter"], str(quarter), None),
        (text["as_of"], date.fromisoformat(str(figures["as_of"])), "yyyy-mm-dd"),
        (text["target"], target, None),
        (text["trained"], trained, None),
        (text["rate"], rate(trained, target), RATE_FORMAT),
        (text["previous"], str(previous["quarter"]) if previous is not None else None, None),
        (text["change"], change, CHANGE_FORMAT),
    ]
    for offset, (pair, value, number_format) in enumerate(summary):
        row = FIRST_DATA_ROW + offset
        put(ws, row, 1, pair[0])
        put(ws, row, 2, value, number_format=number_format)
        put(ws, row, 3, pair[1])
    row = FIRST_DATA_ROW + len(summary) + 1
    for symbol, pair in ((SMALL_COUNT, text["small_note"]), (HIDDEN_CHANGE, text["change_note"])):
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
    for offset, point in enumerate(figures.get("trend") or []):
        put(ws, FIRST_DATA_ROW + offset, 1, str(point["quarter"]))
        put(ws, FIRST_DATA_ROW + offset, 2, int(point["trained"]))

    ws = _sheet(wb, "Certificats", text["certificates"],
                [text["code"], *_label_headers(text["figure"]), text["number"], text["change"]],
                [16, 20, 22, 12, 12])
    for offset, item in enumerate(certificate_rows(figures, previous, labels)):
        row = FIRST_DATA_ROW + offset
        for column, value in enumerate((item.code, item.label[0], item.label[1], item.count), start=1):
            put(ws, row, column, value)
        put(ws, row, 5, item.change, number_format=CHANGE_FORMAT)

    ws = _sheet(wb, "Cohortes", text["cohorts"],
                [text["code"], *_label_headers(text["sector"]), *_label_headers(text["region"]),
                 *_label_headers(text["language"]), text["attendance"], text["completion"]],
                [22, 16, 14, 26, 24, 12, 12, 14, 14])
    for offset, item in enumerate(cohort_rows(figures)):
        row = FIRST_DATA_ROW + offset
        sector = _label(labels, "sector", item["sector"])
        region = _label(labels, "region", item["region"])
        language = _label(labels, "language", item["language"])
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


# ---------------------------------------------------------------------------------------------------


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, so a reader never sees half a report."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_quarterly_report(figures: dict, previous: dict | None, corrections: list[dict], out_dir: Path, *,
                           labels: dict | None = None) -> tuple[Path, Path]:
    """Write kafaa-report-<quarter>.pdf and .xlsx into out_dir (created if need be); return both paths."""
    quarter = Quarter.parse(str(figures.get("quarter")))  # also keeps the file name a plain quarter
    merged = merge_labels(labels)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf_path = out_dir / f"kafaa-report-{quarter}.pdf"
    xlsx_path = out_dir / f"kafaa-report-{quarter}.xlsx"
    _atomic(pdf_path, lambda path: write_pdf(path, figures, previous, corrections or [], merged))
    _atomic(xlsx_path, lambda path: write_xlsx(path, figures, previous, corrections or [], merged))
    return pdf_path, xlsx_path
