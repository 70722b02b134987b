"""Figures as the API and the screens show them. For the governance role every count of people goes
through governance.disclosure (one rule: "<5", complementary "5+", withheld "…"); admins get exact counts."""
from __future__ import annotations

from datetime import date
from typing import Any

from common.openapi import BOOLEAN, DATE, INTEGER, NUMBER, STRING, nullable, obj, schema
from governance.disclosure import (
    AT_LEAST,
    SMALL,
    WITHHELD,
    protect,
    share,
    shown,
    split,
    written_difference,
)
from governance.figures import BREAKDOWNS, Breakdowns, Figures, Pathway
from governance.funnel import exact_pathway, written_pathway
from governance.rules import Quarter

SHOWN_COUNT = {"anyOf": [{"type": "integer", "minimum": 0}, {"enum": [SMALL, AT_LEAST, WITHHELD]}],
               "description": "A count of people. For the governance role, from 1 to 4 it reads \"<5\"; a count "
                              "of 5 or more hidden so that a small one cannot be worked out by subtraction reads "
                              "\"5+\"; a breakdown that cannot be protected otherwise reads \"…\" in every cell."}
TARGETS = schema("Targets", {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
                             "description": "The target in people: `total`, and one per category."})
QUARTER_FIGURES = schema("QuarterFigures", obj({
    "quarter": STRING, "as_of": DATE, "closed": BOOLEAN, "target": INTEGER, "targets": TARGETS,
    "trained": SHOWN_COUNT,
    **{f"by_{name}": {"type": "object", "additionalProperties": SHOWN_COUNT} for name in BREAKDOWNS},
    "trend": {"type": "array", "items": obj({"quarter": STRING, "trained": SHOWN_COUNT})},
    "certificates": {"type": "object", "additionalProperties": SHOWN_COUNT}}))
COHORT_RATE = schema("CohortRate", obj({
    "code": STRING, "sector": STRING, "region": STRING, "language": STRING, "attended": SHOWN_COUNT,
    "counted": SHOWN_COUNT, "enrolled": SHOWN_COUNT, "completed": SHOWN_COUNT, "attendance_rate": nullable(NUMBER),
    "completion_rate": nullable(NUMBER)}))
CLOSED_QUARTER = schema("ClosedQuarter", obj({"quarter": STRING, "closed_at": {"type": "string", "format": "date-time"},
                                               "trained": INTEGER}))


def progress_json(figures: Figures, *, closed: bool, exact: bool = False,
                  written: dict[str, Any] | None = None) -> dict[str, Any]:
    """The quarter's figures as shown: exact for admins (`exact`), else under the disclosure rule: the
    trained total and every trend point by the "<5" rule, each breakdown protected against the total
    it adds up to, certificate events by the "<5" rule (verifications are checks, not people). The rule
    is the same filtered or not; a view filtered by sector or region passes `written`
    (governance.queries.filtered_written): its figures as the cells they are in the unfiltered tables, and
    its certificate events withheld."""
    data = {"quarter": str(figures.quarter), "as_of": figures.as_of.isoformat(), "closed": closed,
            "target": figures.target, "targets": dict(figures.targets)}
    if exact:
        return {**data, **figures.breakdowns_json(),
                "trend": [{"quarter": str(t.quarter), "trained": t.trained} for t in figures.trend],
                "certificates": figures.certificates.to_json()}
    total = shown(figures.trained)
    events = figures.certificates.to_json()
    if written is not None:
        # Certificate events are counted for the whole programme only: a filtered view's, beside the
        # programme's and its complement's, would give a small count away by subtraction (10 = 7 + <5 + <5).
        return {**data, "trained": written["trained"], **{f"by_{name}": written[f"by_{name}"] for name in BREAKDOWNS},
                "trend": written["trend"],
                "certificates": {name: value if name == "verifications" else WITHHELD
                                 for name, value in events.items()}}
    return {
        **data, "trained": total,
        **{f"by_{name}": protect(figures.by(name), figures.trained, total_shown=total) for name in BREAKDOWNS},
        "trend": [{"quarter": str(t.quarter), "trained": shown(t.trained)} for t in figures.trend],
        "certificates": {name: value if name == "verifications" else shown(value) for name, value in events.items()},
    }


def previous_json(previous: Breakdowns, *, exact: bool = False, written: dict[str, Any] | None = None
                  ) -> dict[str, Any]:
    """The previous quarter's total and breakdowns as written, for the changes beside this quarter's."""
    if exact:
        return previous.breakdowns_json()
    if written is not None and written.get("previous") is not None:
        return written["previous"]
    total = shown(previous.trained)
    return {"trained": total,
            **{f"by_{name}": protect(previous.by(name), previous.trained, total_shown=total) for name in BREAKDOWNS}}


def change(now: Any, before: Any, *, exact: bool = False) -> int | None:
    """A change between two written counts as shown: exact for admins, else by the disclosure rule
    (governance.disclosure.written_difference: both counts written exactly, the change 0 or 5+)."""
    if exact:
        return now - before if isinstance(now, int) and isinstance(before, int) else None
    return written_difference(before, now)


def cohort_row_json(row, *, exact: bool = False) -> dict[str, Any]:
    """A cohort's counts and rates. For governance, completed is protected with the not-completed rest
    against enrolled, attended with the absences against counted, and a rate is given only when both of
    its counts are written exactly."""
    values = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    if exact:
        return {**values,
                "attendance_rate": round(values["attended"] / values["counted"], 4) if values["counted"] else None,
                "completion_rate": round(values["completed"] / values["enrolled"], 4) if values["enrolled"] else None}
    completed, enrolled = split(values["completed"], values["enrolled"])
    attended, counted = split(values["attended"], values["counted"])
    attendance = share(attended, counted, values["attended"], values["counted"])
    completion = share(completed, enrolled, values["completed"], values["enrolled"])
    return {**values, "attended": attended, "counted": counted, "enrolled": enrolled, "completed": completed,
            "attendance_rate": None if attendance is None else round(attendance, 4),
            "completion_rate": None if completion is None else round(completion, 4)}


PATHWAY_FUNNEL = schema("PathwayFunnel", obj({
    "quarter": STRING, "as_of": DATE, "closed": BOOLEAN,
    "trained": SHOWN_COUNT,
    "recognised": {**SHOWN_COUNT, "description": "Of the people trained, those whose certificate counts at least "
                                                 "one module through recognition of prior learning."},
    "levels": {"type": "array", "items": obj({
        "level": {"type": "integer", "minimum": 1},
        "tracks": {"type": "array", "items": STRING, "description": "Codes of the level's tracks that count "
                                                                      "toward the target."},
        "holding": {**SHOWN_COUNT, "description": "People holding a valid certificate of a track of this level "
                                                  "on the as-of day."},
        "moved_in": {"anyOf": [SHOWN_COUNT, {"type": "null"}],
                     "description": "People who moved up from the level below during the quarter (null for "
                                    "level 1)."}})}}))


def pathway_json(pathway: Pathway, *, quarter: Quarter, as_of: date, closed: bool, exact: bool = False,
                 tracks: dict[int, list[tuple[int, Any]]] | None = None) -> dict[str, Any]:
    """The quarter's pathway funnel: exact for admins, else under the rule (governance.funnel), protected
    together with the track totals governance reads in the track views (`tracks`,
    governance.queries.pathway_track_totals)."""
    shown_figures = exact_pathway(pathway) if exact else written_pathway(pathway, tracks)
    tracks = {level.level: list(level.tracks) for level in pathway.levels}
    return {"quarter": str(quarter), "as_of": as_of.isoformat(), "closed": closed,
            "trained": shown_figures["trained"], "recognised": shown_figures["recognised"],
            "levels": [{"level": level["level"], "tracks": tracks[level["level"]], "holding": level["holding"],
                        "moved_in": level["moved_in"]} for level in shown_figures["levels"]]}
