"""Figures as the API and the screens show them: small counts in breakdowns become "<5"."""
from __future__ import annotations

from typing import Any

from common.openapi import BOOLEAN, DATE, INTEGER, NUMBER, STRING, nullable, obj, schema
from governance.figures import BREAKDOWNS, Figures
from governance.rules import shown, shown_breakdown


SHOWN_COUNT = {"anyOf": [{"type": "integer", "minimum": 0}, {"const": "<5"}],
               "description": "A count; from 1 to 4 it reads \"<5\" so nobody can be singled out."}
TARGETS = schema("Targets", {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
                             "description": "The target in people: `total`, and one per category."})
QUARTER_FIGURES = schema("QuarterFigures", obj({
    "quarter": STRING, "as_of": DATE, "closed": BOOLEAN, "target": INTEGER, "targets": TARGETS,
    "trained": SHOWN_COUNT,
    **{f"by_{name}": {"type": "object", "additionalProperties": SHOWN_COUNT} for name in BREAKDOWNS},
    "trend": {"type": "array", "items": obj({"quarter": STRING, "trained": SHOWN_COUNT})},
    "certificates": {"type": "object", "additionalProperties": INTEGER}}))
COHORT_RATE = schema("CohortRate", obj({
    "code": STRING, "sector": STRING, "region": STRING, "language": STRING, "attended": INTEGER,
    "counted": INTEGER, "enrolled": INTEGER, "completed": INTEGER, "attendance_rate": nullable(NUMBER),
    "completion_rate": nullable(NUMBER)}))
CLOSED_QUARTER = schema("ClosedQuarter", obj({"quarter": STRING, "closed_at": {"type": "string", "format": "date-time"},
                                               "trained": INTEGER}))


def progress_json(figures: Figures, *, filtered: bool, closed: bool) -> dict[str, Any]:
    """The trained total is exact for the whole programme; once filtered it is a cell of a breakdown
    and follows the same rule."""
    return {
        "quarter": str(figures.quarter), "as_of": figures.as_of.isoformat(), "closed": closed,
        "target": figures.target, "targets": dict(figures.targets),
        "trained": shown(figures.trained) if filtered else figures.trained,
        **{f"by_{name}": shown_breakdown(figures.by(name)) for name in BREAKDOWNS},
        "trend": [{"quarter": str(t.quarter), "trained": shown(t.trained) if filtered else t.trained}
                  for t in figures.trend],
        "certificates": figures.certificates.to_json(),
    }


def cohort_row_json(row) -> dict[str, Any]:
    values = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    return {**values,
            "attendance_rate": round(values["attended"] / values["counted"], 4) if values["counted"] else None,
            "completion_rate": round(values["completed"] / values["enrolled"], 4) if values["enrolled"] else None}
