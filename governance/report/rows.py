"""What both files of the report print, under the disclosure rule applied once, here (through
governance.disclosure, the one rule): breakdown and certificate rows with their changes since the
previous quarter, the trained total and trend, corrections, cohort rates, and how a count, a change or a
rate is written. Nothing in here carries a true count behind a marker: bars are drawn from what is
written (`Row.bar`)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from governance.disclosure import (
    MARKERS,
    bar_value,
    protect,
    share,
    shown,
    split,
    written_difference,
)
from governance.figures import CERTIFICATE_EVENTS, Breakdowns, Figures
from governance.funnel import written_pathway
from governance.report.labels import Labels, Pair, label

HIDDEN_CHANGE = "—"  # a change that would reveal a suppressed count


@dataclass(frozen=True)
class Row:
    """One printed line of a breakdown: the written count and the written change (None: no previous)."""
    code: str
    label: Pair
    count: int | str
    change: int | str | None

    @property
    def bar(self) -> float:
        """The bar's height, from the written count only."""
        return bar_value(self.count)

    @property
    def hidden(self) -> bool:
        return isinstance(self.count, str) and self.count in MARKERS


def shown_change(now: int | str, before: int | str | None) -> int | str | None:
    """The change between two written counts: None without a previous quarter, "—" when either is hidden."""
    if before is None:
        return None
    difference = written_difference(before, now)
    return HIDDEN_CHANGE if difference is None else difference


def written_total(figures: Breakdowns | None) -> int | str | None:
    return None if figures is None else shown(figures.trained)


def written_breakdown(name: str, figures: Breakdowns) -> dict[str, int | str]:
    return protect(figures.by(name), figures.trained, total_shown=shown(figures.trained))


def breakdown_rows(name: str, figures: Figures, previous: Figures | None, labels: Labels) -> list[Row]:
    current = written_breakdown(name, figures)
    before = written_breakdown(name, previous) if previous is not None else None
    codes = list(current) + [code for code in (before or {}) if code not in current]
    return [Row(code, label(labels, name, code), current.get(code, 0),
                shown_change(current.get(code, 0), None if before is None else before.get(code, 0)))
            for code in codes]


def written_events(figures: Figures) -> dict[str, int | str]:
    return {name: value if name == "verifications" else shown(value)
            for name, value in figures.certificates.to_json().items()}


def certificate_rows(figures: Figures, previous: Figures | None, labels: Labels) -> list[Row]:
    """Certificate events of people (issued, revoked, expired) follow the "<5" rule; verifications are
    checks, not people, and are exact."""
    current = written_events(figures)
    before = written_events(previous) if previous is not None else None
    return [Row(code, label(labels, "certificates", code), current[code],
                shown_change(current[code], None if before is None else before[code]))
            for code in CERTIFICATE_EVENTS]


def trend_points(figures: Figures) -> list[tuple[str, int | str]]:
    return [(str(point.quarter), shown(point.trained)) for point in figures.trend]


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
    """Corrections as printed: each value as written in its own protected table (`closed_written`,
    `now_written`, from governance.queries.corrections; else by the "<5" rule); a difference only between
    two values written exactly."""
    rows = []
    for item in corrections:
        figure = str(item["figure"])
        closed = item.get("closed_written", _written(item.get("closed")))
        now = item.get("now_written", _written(item.get("now")))
        numeric = all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in (closed, now))
        rows.append({
            "quarter": str(item["quarter"]), "figure": figure, "label": figure_label(figure, labels),
            "closed": closed, "now": now, "difference": shown_change(now, closed) if numeric else None,
        })
    return rows


def _written(value: Any) -> Any:
    return shown(value) if isinstance(value, int) and not isinstance(value, bool) else value


def rate(numerator: Any, denominator: Any) -> float | None:
    return numerator / denominator if denominator else None


def cohort_rows(figures: Figures) -> list[dict[str, Any]]:
    """Rates only, and only when the counts behind them could be written exactly (else "—")."""
    rows = []
    for c in figures.cohorts or ():
        attended, counted = split(c.attended, c.counted)
        completed, enrolled = split(c.completed, c.enrolled)
        rows.append({"code": c.code, "sector": c.sector, "region": c.region, "language": c.language,
                     "attendance": share(attended, counted, c.attended, c.counted),
                     "completion": share(completed, enrolled, c.completed, c.enrolled)})
    return rows


def pathway_rows(figures: Figures) -> dict[str, Any] | None:
    """The funnel as written under the rule (governance.funnel): "levels", a row per level (level,
    tracks, holding, moved_in: None for level 1), "trained" and "recognised" (people trained through
    recognition). None for figures without a funnel (snapshots closed before it existed)."""
    if figures.pathway is None:
        return None
    written = written_pathway(figures.pathway)
    tracks = {level.level: ", ".join(level.tracks) for level in figures.pathway.levels}
    return {**written, "levels": [{**level, "tracks": tracks[level["level"]]} for level in written["levels"]]}


def fmt_count(value: int | str | None) -> str:
    return "" if value is None else str(value)


def fmt_change(value: int | str | None) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    return f"{value:+d}" if value else "0"


def fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}".replace(".", ",") + " %"
