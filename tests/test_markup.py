"""Markup rules the browser tests' axe-core checks cannot reach on pages they never open."""
from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def test_every_scrolling_table_can_be_scrolled_by_keyboard():
    """A table wider than a phone scrolls inside .table-wrap; without tabindex a keyboard user cannot
    scroll it (axe: scrollable-region-focusable, seen on the dashboard and the progress page)."""
    unreachable = [f"{path.relative_to(TEMPLATES)}:{text[:match.start()].count(chr(10)) + 1}"
                   for path in sorted(TEMPLATES.rglob("*.html"))
                   for text in [path.read_text(encoding="utf-8")]
                   for match in re.finditer(r'<div class="table-wrap"[^>]*>', text)
                   if 'tabindex="0"' not in match.group(0)]
    assert not unreachable, unreachable
