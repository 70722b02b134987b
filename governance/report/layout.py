"""Drawing the report's PDF pages with reportlab: the page geometry and colours, a line of text shrunk to
fit, pages with a running header and footer, and tables that break across pages. French is drawn on the
left, Arabic on the right (shaped by certificates.fonts)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from certificates import fonts
from governance.report.labels import Labels, Pair

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


def fit(c: Canvas, text: str, x: float, y: float, size: float, width: float, *,
        align: str = "left", bold: bool = False) -> float:
    """Draw one line, shrunk to fit `width` (down to 5 pt); return the width drawn."""
    if not text:
        return 0.0
    natural = fonts.text_width(text, size, bold=bold)
    if natural > width:
        size = max(5.0, size * width / natural)
    return fonts.draw_text(c, text, x, y, size, align=align, bold=bold)


class Pages:
    """A top-down cursor over pages, with a running header and footer on each page."""

    def __init__(self, c: Canvas, header: Pair, labels: Labels):
        self.c, self.header, self.labels = c, header, labels
        self.page = 1
        self.y = TOP
        self._decorate()

    def _decorate(self) -> None:
        c = self.c
        c.setFillColor(GREY)
        fit(c, self.header[0], LEFT, PAGE_H - 28, 7.5, WIDTH / 2 - 10)
        fit(c, self.header[1], RIGHT, PAGE_H - 28, 7.5, WIDTH / 2 - 10, align="right")
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
        fit(c, pair[0], LEFT, self.y, size, WIDTH / 2 - 10, bold=True)
        fit(c, pair[1], RIGHT, self.y, size, WIDTH / 2 - 10, align="right")
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
        fit(c, french, LEFT, self.y, size, WIDTH)
        if not one_line:
            self.y -= size + 3
        if symbol:
            width = fonts.draw_text(c, symbol, RIGHT, self.y, size, align="right")
            fonts.draw_text(c, ":", RIGHT - width - 3, self.y, size, align="right")
        fit(c, pair[1], RIGHT - lead, self.y, size, WIDTH - lead, align="right")
        c.setFillColor(BLACK)
        self.y -= 2


@dataclass(frozen=True)
class Column:
    header: Pair | str  # a pair is written on two lines (French over Arabic)
    width: float
    align: str = "left"


def table(p: Pages, columns: Sequence[Column], rows: Sequence[Sequence[str | Pair]], *,
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
                fit(c, col.header[0], x, p.y + line_h + 4, size, width, align=col.align, bold=True)
                fit(c, col.header[1], x, p.y + 4, size, width, align=col.align)
            else:
                fit(c, col.header, x, p.y + line_h / 2 + 4, size, width, align=col.align,
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
                fit(c, cell[0], x, p.y + line_h + 3, size, width, align=columns[index].align)
                c.setFillColor(GREY)
                fit(c, cell[1], x, p.y + 3, size, width, align=columns[index].align)
                c.setFillColor(BLACK)
            else:  # on the French line of a two-line row: read along with the first label
                baseline = p.y + line_h + 3 if lines == 2 else p.y + row_h / 2 - size * 0.35
                fit(c, cell, x, baseline, size, width, align=columns[index].align)
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.line(LEFT, p.y, RIGHT, p.y)
    p.y -= 6


def table_height(rows: int, size: float = 8.0) -> float:
    """Height of a table of single-line rows, as _table draws it."""
    line_h = size + 3.5
    return 2 * line_h + 4 + rows * (line_h + 3) + 6

