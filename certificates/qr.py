"""QR codes for verify URLs: vector squares for the PDF, PNG or SVG for web pages.

The URL's trailing run of digits (the token) goes into a numeric segment (3.33 bits a digit) and
the rest into a byte segment; segno does not split modes by itself. Error correction M: a printed
certificate gets folded and scuffed.

The data mask is fixed rather than chosen by scoring all eight (ISO/IEC 18004 7.8.3): segno's scoring is
pure Python and took three quarters of the time of making the symbol, on every certificate. Readers
accept any of the eight masks; the checkerboard mask keeps dark and light modules balanced over the
data, and the tests read every rendered QR code back.
"""

from __future__ import annotations

import io
import re

import segno
from reportlab.pdfgen.canvas import Canvas
from segno import consts

ERROR = "M"
QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 asks
MASK = 0  # (row + column) mod 2 == 0: a checkerboard
_DIGIT_TAIL = re.compile(r"^(.*?)(\d+)$", re.S)


def qr_segments(url: str) -> str | list[tuple[str, int]]:
    """The URL as segno's content: its prefix in byte mode and the trailing token in numeric mode."""
    m = _DIGIT_TAIL.match(url)
    if m and m.group(1):
        return [(m.group(1), consts.MODE_BYTE), (m.group(2), consts.MODE_NUMERIC)]
    return url


def make_qr(url: str) -> segno.QRCode:
    # boost_error=False: keep the smallest version for M rather than a bigger one with more ECC.
    return segno.make(qr_segments(url), error=ERROR, micro=False, boost_error=False, mask=MASK)


def draw_qr(canvas: Canvas, qr: segno.QRCode | str, x: float, y: float, size: float) -> None:
    """Draw the symbol (without quiet zone) as vector squares with its lower-left corner at x, y.

    Leave QUIET_ZONE modules of white around it. Dark modules are merged into horizontal runs and
    filled as one path, written in module units under a scaling transform: integer coordinates
    format much faster than reportlab's per-rect float formatting.
    """
    if isinstance(qr, str):
        qr = make_qr(qr)
    matrix = qr.matrix  # rows of 0/1 bytes, no border, top row first
    n = len(matrix)
    ops: list[str] = []
    for row_index, row in enumerate(matrix):
        top = n - 1 - row_index  # PDF y grows upwards
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                ops.append(f"{start} {top} {col - start} 1 re")
            else:
                col += 1
    module = size / n
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    canvas.transform(module, 0, 0, module, x, y)
    canvas.addLiteral("\n".join(ops) + "\nf")
    canvas.restoreState()


def qr_png(url: str, scale: int = 8) -> bytes:
    buf = io.BytesIO()
    make_qr(url).save(buf, kind="png", scale=scale, border=QUIET_ZONE)
    return buf.getvalue()


def qr_svg(url: str, scale: int = 4) -> str:
    """Inline SVG (no XML declaration) for a page; crisper than a PNG at any zoom."""
    buf = io.BytesIO()
    make_qr(url).save(buf, kind="svg", scale=scale, border=QUIET_ZONE, xmldecl=False, svgns=True)
    return buf.getvalue().decode("utf-8")
