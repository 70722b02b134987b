"""What both files of the report print, with the small-count rule applied once, here: breakdown and
certificate rows with their changes since the previous quarter, corrections, cohort rates, and how a
count, a change or a rate is written."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from governance.figures import CERTIFICATE_EVENTS, Figures
from governance.report.labels import Labels, Pair, label
from governance.rules import SMALL_COUNT, shown

SUPPRESSED_BAR = 2.5  # height of a "<5" bar, in counts
HIDDEN_CHANGE = "—"  # a change that would reveal a suppressed count


@dataclass(frozen=True)
class Row:
    """One printed line of a breakdown: the shown count and the shown change (None: no previous)."""
    code: str
    label: Pair
    count: int | str
    change: int | str | None
    exact: int  # kept for the bar height only; never printed when suppressed


def shown_change(now: int, before: int | None, *, suppress: bool = True) -> int | str | None:
    """The change since the previous quarter, unless it would reveal a count of 1 to 4."""
    if before is None:
        return None
    if suppress and (shown(now) == SMALL_COUNT or shown(before) == SMALL_COUNT):
        return HIDDEN_CHANGE
    return now - before


def breakdown_rows(name: str, figures: Figures, previous: Figures | None, labels: Labels) -> list[Row]:
    current = figures.by(name)
    before = previous.by(name) if previous is not None else None
    codes = list(current) + [code for code in (before or {}) if code not in current]
    rows = []
    for code in codes:
        now = int(current.get(code, 0))
        rows.append(Row(code, label(labels, name, code), shown(now),
                        shown_change(now, None if before is None else int(before.get(code, 0))), now))
    return rows


def certificate_rows(figures: Figures, previous: Figures | None, labels: Labels) -> list[Row]:
    """Certificate events are exact, as on the dashboard: no small-count rule."""
    current = figures.certificates.to_json()
    before = previous.certificates.to_json() if previous is not None else None
    rows = []
    for code in CERTIFICATE_EVENTS:
        now = current[code]
        rows.append(Row(code, label(labels, "certificates", code), now,
                        shown_change(now, None if before is None else before[code], suppress=False), now))
    return rows


def figure_label(figure: str, labels: Labels) -> Pair:
    """'by_region.oriental' -> ('Région — L'Oriental', 'الجهة — الشرق'); 'trained' -> its label."""
    name, _, code = figure.partition(".")
    if not code:
        return labels["text"].get(name, (figure, figure))
    if name.startswith("by_") and name[3:] in labels:
        dim, item = labels["text"].get(name[3:], (name, name)), label(labels, name[3:], code)
    elif name == "certificates":
        dim, item = labels["text"]["certificates"], label(labels, "certificates", code)
    else:
        return (figure, figure)
    return (f"{dim[0]} — {item[0]}", f"{dim[1]} — {item[1]}")


def correction_rows(corrections: Iterable[Mapping[str, Any]],
                    labels: Labels) -> list[dict[str, Any]]:
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


def cohort_rows(figures: Figures) -> list[dict[str, Any]]:
    return [{"code": c.code, "sector": c.sector, "region": c.region, "language": c.language,
             "attendance": c.attendance_rate, "completion": c.completion_rate}
            for c in figures.cohorts or ()]


def fmt_count(value: int | str | None) -> str:
    return "" if value is None else str(value)


def fmt_change(value: int | str | None) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    return f"{value:+d}" if value else "0"


def fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}".replace(".", ",") + " %"
