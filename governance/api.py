"""Governance figures on the JSON API, for the admin and governance roles."""
from __future__ import annotations

from accounts.bearer import api_blueprint
from accounts.permissions import current_actor, require_role
from common.api import json_body, paginated
from common.extensions import db
from common.openapi import Body, Param, documented, page_of
from governance import loaders, operations, queries
from governance.loaders import filters_from_request, parse_quarter, quarter_from_request
from governance.serializers import (
    CLOSED_QUARTER,
    COHORT_RATE,
    PATHWAY_FUNNEL,
    QUARTER_FIGURES,
    TARGETS,
    cohort_row_json,
    pathway_json,
    progress_json,
)
from skills.filters import params as filter_params

bp = api_blueprint("governance_api", __name__)
FIGURE_FILTERS = (Param("quarter", {"type": "string", "pattern": "^[0-9]{4}-Q[1-4]$"}, "Default: the current quarter."),
                  *filter_params(*loaders.FIGURE_FILTERS))


@bp.get("/stats/progress")
@require_role("admin", "governance")
@documented("Progress toward the targets in a quarter", tag="Statistics", query=FIGURE_FILTERS,
            responses={200: QUARTER_FIGURES})
def progress():
    quarter, filters = quarter_from_request(), filters_from_request()
    figures, closed = queries.quarter_figures(quarter, filters)
    exact = current_actor().role == "admin"
    written = None if exact else queries.filtered_written(quarter, filters)
    return progress_json(figures, closed=closed, exact=exact, written=written)


@bp.get("/stats/cohorts")
@require_role("admin", "governance")
@documented("Attendance and completion rates of the quarter's cohorts", tag="Statistics",
            query=FIGURE_FILTERS, paginated=True, responses={200: page_of(COHORT_RATE)})
def cohorts():
    exact = current_actor().role == "admin"
    return paginated(queries.cohort_rates(quarter_from_request(), filters_from_request()),
                     lambda row: cohort_row_json(row, exact=exact), rows=True)


@bp.get("/stats/pathway")
@require_role("admin", "governance")
@documented("The pathway funnel of a quarter", tag="Statistics", query=FIGURE_FILTERS[:1],
            responses={200: PATHWAY_FUNNEL},
            description="For each pathway level, the people holding it at the quarter's end and those who moved "
                        "up into it during the quarter; of the people trained, those trained through recognition "
                        "of prior learning. Only tracks that count toward the target. A closed quarter answers "
                        "with its frozen figures.")
def pathway():
    quarter = quarter_from_request()
    funnel, closed = queries.quarter_pathway(quarter)
    exact = current_actor().role == "admin"
    return pathway_json(funnel, quarter=quarter, as_of=queries.as_of_day(quarter), closed=closed, exact=exact,
                        tracks=None if exact else queries.pathway_track_totals(quarter, funnel))


@bp.get("/stats/targets")
@require_role("admin", "governance")
@documented("The targets", tag="Statistics", responses={200: TARGETS})
def get_targets():
    return queries.targets()


@bp.put("/stats/targets")
@require_role("admin")
@documented("Change some targets", tag="Statistics", body=Body(TARGETS), responses={200: TARGETS})
def put_targets():
    values = operations.set_targets(current_actor(), json_body())
    db.session.commit()
    return values


@bp.post("/stats/quarters/<quarter>/close")
@require_role("admin")
@documented("Close a finished quarter", tag="Statistics", responses={201: CLOSED_QUARTER}, errors=(409, 422),
            description="Freezes the quarter's figures; later changes are reported as corrections.")
def close(quarter: str):
    snapshot = operations.close_quarter(current_actor(), parse_quarter(quarter))
    db.session.commit()
    return {"quarter": snapshot.quarter, "closed_at": snapshot.closed_at.isoformat(),
            "trained": snapshot.figures["trained"]}, 201
