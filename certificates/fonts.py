"""Fonts for certificates: embedded TrueType files, with per-character fallback.

No single common font covers Latin with diacritics, Arabic presentation forms and Tifinagh, so:
- DejaVu Sans (regular and bold, shipped inside the `matplotlib` wheel) sets Latin and is the last
  resort for anything;
- Noto Sans Arabic (`fontpkg-noto-sans-arabic`) sets Arabic: it has every presentation form that
  arabic-reshaper produces, and zero-width marks (harakat, shadda) drawn over the letter before them;
- Noto Sans Tifinagh sets Tifinagh: all 59 code points (DejaVu lacks U+2D66, U+2D67, U+2D70, U+2D7F).
  No PyPI package carries it, so the file ships in certificates/typefaces/ with its OFL licence.
Text is cut into runs, each drawn in the first font of a chain that has a glyph for it. Every font is
a TrueType subset embedded in the PDF; nothing falls back to the viewer's own fonts.

reportlab does not shape Arabic (its experimental HarfBuzz path reverses mixed runs and drops joins),
so Arabic goes through arabic-reshaper with harakat kept, then python-bidi. Digit runs are isolated
(LRI LRO ... PDF PDI) first: plain Unicode bidi turns "القانون 09-08" into "08-09" on paper, since digits
after Arabic letters become Arabic numbers and the hyphen between them a neutral.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from arabic_reshaper import ArabicReshaper
from bidi import get_display
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

LATIN = "KafaaSans"
LATIN_BOLD = "KafaaSans-Bold"
ARABIC = "KafaaArabic"
TIFINAGH = "KafaaTifinagh"
TYPEFACES = Path(__file__).with_name("typefaces")


def _matplotlib_font(name: str) -> Path:
    # find_spec locates the package without importing it (importing matplotlib takes ~0.3 s).
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib is required for the DejaVu fonts: pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf" / name


def font_files() -> dict[str, Path]:
    arabic = importlib.resources.files("fontpkg_noto_sans_arabic") / "files" / "NotoSansArabic[wdth,wght].ttf"
    return {
        LATIN: _matplotlib_font("DejaVuSans.ttf"),
        LATIN_BOLD: _matplotlib_font("DejaVuSans-Bold.ttf"),
        ARABIC: Path(str(arabic)),
        TIFINAGH: TYPEFACES / "NotoSansTifinagh-Regular.ttf",
    }


@dataclass(frozen=True)
class Fonts:
    coverage: dict[str, frozenset[int]]
    reshaper: ArabicReshaper  # with the Allah ligature when the font has it
    reshaper_marked: ArabicReshaper  # without it: the ligature would draw its shadda twice over marks


@cache
def register_fonts() -> Fonts:
    """Register the fonts with reportlab once per process (idempotent, cheap after the first call)."""
    coverage: dict[str, frozenset[int]] = {}
    for name, path in font_files().items():
        font = TTFont(name, str(path))
        pdfmetrics.registerFont(font)
        coverage[name] = frozenset(font.face.charToGlyph)
    # Only ask for ligatures the Arabic font can draw (e.g. the Allah ligature in عبد الله).
    # Harakat (vowel marks, shadda, tanwin) are kept: "مُحمّد" is not "محمد".
    allah = 0xFDF2 in coverage[ARABIC]
    reshaper = ArabicReshaper(configuration={"delete_harakat": False, "arabic ligature allah": allah})
    marked = ArabicReshaper(configuration={"delete_harakat": False, "arabic ligature allah": False})
    return Fonts(coverage=coverage, reshaper=reshaper, reshaper_marked=marked)


_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f]")
_TIFINAGH = re.compile("[\u2d30-\u2d7f]")


def has_arabic(text: str) -> bool:
    return _ARABIC.search(text) is not None


def has_tifinagh(text: str) -> bool:
    return _TIFINAGH.search(text) is not None


# A number as typed: digits (Western, Arabic-Indic or Eastern) joined by - / . : , (dates, laws, hours).
_NUMBER = re.compile(r"[0-9\u0660-\u0669\u06f0-\u06f9]+(?:[-/.:,][0-9\u0660-\u0669\u06f0-\u06f9]+)*")
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed]")
_LRI, _PDI, _LRO, _POP = "\u2066", "\u2069", "\u202d", "\u202c"
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                        "\u2066\u2067\u2068\u2069"))


@lru_cache(maxsize=4096)  # labels repeat on every certificate; shaping is pure Python
def visual(text: str) -> str:
    """Shape Arabic and reorder to visual (left-to-right drawing) order; other text passes through.

    Numbers keep the order they were typed in ("09-08" stays 09-08), and no bidi control character
    reaches the page: they have no glyph, and isolation has done its work once reordered.
    """
    if not has_arabic(text):
        return text
    loaded = register_fonts()
    marked = _ARABIC_MARKS.search(text) is not None
    shaped = (loaded.reshaper_marked if marked else loaded.reshaper).reshape(text)
    # Isolated, so the number does not reorder its neighbours; overridden left to right, so Arabic-Indic
    # digits (bidi class AN, where "-" between them stays a neutral) keep their typed order as well.
    isolated = _NUMBER.sub(lambda m: _LRI + _LRO + m.group(0) + _POP + _PDI, shaped)
    # Base direction from the first strong character: "Heures · الساعات" stays French first.
    return get_display(isolated).translate(_BIDI_CONTROLS)


@lru_cache(maxsize=4096)
def runs(text: str, chain: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Split text into (font, substring) runs using the first font of the chain with each glyph."""
    coverage = register_fonts().coverage
    out: list[tuple[str, str]] = []
    for ch in text:
        cp = ord(ch)
        font = next((f for f in chain if cp in coverage[f]), chain[-1])
        if out and (out[-1][0] == font or ch == " "):  # spaces never start a new run
            out[-1] = (out[-1][0], out[-1][1] + ch)
        else:
            out.append((font, ch))
    return tuple(out)


def chain_for(text: str, *, bold: bool = False) -> tuple[str, ...]:
    latin = LATIN_BOLD if bold else LATIN
    if has_arabic(text):
        return (ARABIC, latin, TIFINAGH)
    if has_tifinagh(text):
        return (latin, TIFINAGH, ARABIC) if bold else (TIFINAGH, latin, ARABIC)
    return (latin, TIFINAGH, ARABIC)


def layout(text: str, size: float, *, bold: bool = False) -> tuple[tuple[tuple[str, str], ...], float]:
    """Shaped runs in drawing order and their total width at `size`."""
    parts = runs(visual(text), chain_for(text, bold=bold))
    return parts, sum(pdfmetrics.stringWidth(s, f, size) for f, s in parts)


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    return layout(text, size, bold=bold)[1]


def draw_text(
    canvas: Canvas,
    text: str,
    x: float,
    y: float,
    size: float,
    *,
    align: str = "left",
    bold: bool = False,
) -> float:
    """Draw text (any mix of scripts) anchored at x by `align` (left, center, right); return width."""
    parts, total = layout(text, size, bold=bold)
    start = {"left": x, "center": x - total / 2, "right": x - total}[align]
    # One text object for all runs: fewer PDF operators than one drawString per run.
    obj = canvas.beginText(start, y)
    for font, s in parts:
        obj.setFont(font, size)
        obj.textOut(s)
    canvas.drawText(obj)
    return total


def draw_fitted(canvas: Canvas, text: str, x: float, y: float, size: float, max_width: float, *,
                align: str = "left", bold: bool = False) -> None:
    """Draw one line, shrunk to fit max_width if need be (width is linear in font size), never below 6 pt."""
    width = text_width(text, size, bold=bold)
    if width > max_width:
        size = max(6.0, size * max_width / width)
    draw_text(canvas, text, x, y, size, align=align, bold=bold)
