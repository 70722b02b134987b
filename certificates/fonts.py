"""Fonts for certificates: embedded TrueType files from PyPI packages, with per-character fallback.

No single common font covers Latin with diacritics, Arabic presentation forms and Tifinagh, so:
- DejaVu Sans (regular and bold, shipped inside the `matplotlib` wheel) sets Latin and Tifinagh
  (55 of 59 Tifinagh code points: all of the IRCAM alphabet) and is the last resort for anything;
- Noto Sans Arabic (`fontpkg-noto-sans-arabic`) sets Arabic: it has every presentation form that
  arabic-reshaper produces.
Text is cut into runs, each drawn in the first font of a chain that has a glyph for it.
reportlab does not shape Arabic, so Arabic goes through arabic-reshaper and python-bidi first.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
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
    }


@dataclass(frozen=True)
class Fonts:
    coverage: dict[str, frozenset[int]]
    reshaper: ArabicReshaper


@cache
def register_fonts() -> Fonts:
    """Register the fonts with reportlab once per process (idempotent, cheap after the first call)."""
    coverage: dict[str, frozenset[int]] = {}
    for name, path in font_files().items():
        font = TTFont(name, str(path))
        pdfmetrics.registerFont(font)
        coverage[name] = frozenset(font.face.charToGlyph)
    # Only ask for ligatures the Arabic font can draw (e.g. the Allah ligature in عبد الله).
    ligatures = {"arabic ligature allah": 0xFDF2 in coverage[ARABIC]}
    reshaper = ArabicReshaper(configuration={"delete_harakat": True, **ligatures})
    return Fonts(coverage=coverage, reshaper=reshaper)


def has_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" for ch in text)


@lru_cache(maxsize=4096)  # labels repeat on every certificate; shaping is pure Python
def visual(text: str) -> str:
    """Shape Arabic and reorder to visual (left-to-right drawing) order; other text passes through."""
    if not has_arabic(text):
        return text
    # Base direction from the first strong character: "Heures · الساعات" stays French first.
    return get_display(register_fonts().reshaper.reshape(text))


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
    return (ARABIC, latin) if has_arabic(text) else (latin, ARABIC)


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
