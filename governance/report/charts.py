"""The report's charts, drawn on its PDF pages: progress bars toward the targets, horizontal bars of a
breakdown and vertical bars of the quarterly trend. Bars and scales come from written counts only
(governance.disclosure.bar_value): "<5" at 2.5, "5+" at 5, "…" at 0, hidden ones in a lighter colour."""
from __future__ import annotations

from collections.abc import Sequence

from certificates import fonts
from governance.disclosure import bar_value, is_hidden, scale
from governance.report.labels import Pair
from governance.report.layout import (
    BLACK,
    GREEN,
    GREY,
    LEFT,
    LIGHT_GREEN,
    PALE,
    RIGHT,
    RULE,
    WIDTH,
    Pages,
    fit,
)
from governance.report.rows import Row, fmt_count, fmt_rate


def progress_bar(p: Pages, label: Pair, value: int | str, target: int, *,
                 height: float = 10.0, size: float = 8.5, bold: bool = False) -> None:
    """label (FR left, AR right of the label column) | bar trained/target | 'value / target'."""
    c = p.c
    p.need(height + 8)
    p.y -= height + 6
    label_w, text_w = 190.0, 96.0
    bar_x, bar_w = LEFT + label_w + 8, WIDTH - label_w - text_w - 16
    baseline = p.y + height / 2 - size * 0.35
    fit(c, label[0], LEFT, baseline, size, label_w * 0.55, bold=bold)
    fit(c, label[1], LEFT + label_w, baseline, size, label_w * 0.42, align="right")
    c.setFillColor(PALE)
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.rect(bar_x, p.y, bar_w, height, fill=1, stroke=1)
    suppressed = is_hidden(value)
    drawn = bar_value(value)
    if target > 0 and drawn > 0:
        c.setFillColor(LIGHT_GREEN if suppressed else GREEN)
        c.rect(bar_x, p.y, bar_w * min(drawn / target, 1.0), height, fill=1, stroke=0)
    c.setFillColor(BLACK)
    text = f"{value} / {target}"
    if not suppressed and target > 0:
        text += f"  ({fmt_rate(drawn / target)})"
    fit(c, text, RIGHT, baseline, size, text_w + 8, align="right", bold=bold)


def hbar_chart(p: Pages, title: Pair, rows: Sequence[Row]) -> None:
    """Horizontal bars, one per row; a suppressed bar is drawn at 2.5 in a lighter colour."""
    row_h, size = 13.0, 7.5
    p.heading(title, keep=row_h * min(len(rows), 4))
    c = p.c
    label_w, value_w = 230.0, 36.0
    bar_x, bar_w = LEFT + label_w + 8, WIDTH - label_w - value_w - 12
    top = max(scale(r.count for r in rows), 5.0)
    for row in rows:
        p.need(row_h)
        p.y -= row_h
        baseline = p.y + 3
        fit(c, row.label[0], LEFT, baseline, size, label_w * 0.56)
        fit(c, row.label[1], LEFT + label_w, baseline, size, label_w * 0.42, align="right")
        suppressed = row.hidden
        length = bar_w * row.bar / top
        if length > 0:
            c.setFillColor(LIGHT_GREEN if suppressed else GREEN)
            c.rect(bar_x, p.y + 1, length, row_h - 4, fill=1, stroke=0)
            c.setFillColor(BLACK)
        c.setStrokeColor(RULE)
        c.setLineWidth(0.5)
        c.line(bar_x, p.y, bar_x, p.y + row_h - 2)
        fonts.draw_text(c, fmt_count(row.count), bar_x + length + 4, baseline, size)
    p.y -= 4


def trend_chart(p: Pages, title: Pair, trend: Sequence[tuple[str, int | str]], note: Pair) -> None:
    """Vertical bars of the written trained total at the end of each quarter (at most the last 12)."""
    shown_points = list(trend)[-12:]
    height = 110.0
    p.heading(title, keep=height + 30)
    if not shown_points:
        return
    c = p.c
    top = scale(value for _quarter, value in shown_points)
    floor = p.y - height - 14  # axis line; quarter labels under it, values above the bars
    slot = WIDTH / max(len(shown_points), 4)
    bar_w = min(36.0, slot * 0.6)
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.line(LEFT, floor, RIGHT, floor)
    for index, (quarter, value) in enumerate(shown_points):
        centre = LEFT + slot * (index + 0.5)
        bar_h = (height - 12) * bar_value(value) / top
        if bar_h > 0:
            c.setFillColor(GREEN)
            c.rect(centre - bar_w / 2, floor, bar_w, bar_h, fill=1, stroke=0)
        c.setFillColor(BLACK)
        fonts.draw_text(c, str(value), centre, floor + bar_h + 3, 7.5, align="center")
        c.setFillColor(GREY)
        fit(c, quarter, centre, floor - 10, 7, slot - 2, align="center")
    c.setFillColor(BLACK)
    p.y = floor - 16
    if len(trend) > len(shown_points):
        p.note(note)

