"""Governance figures on the JSON API, for the admin and governance roles."""
from __future__ import annotations

from app import db
from common.api import api_blueprint, json_body, paginated
from governance import operations, queries
from governance.serializers import cohort_row_json, progress_json
from governance.views import filters_from_request, quarter_from_request
from skills.permissions import current_actor, require_role

bp = api_blueprint("governance_api", __name__)


@bp.get("/stats/progress")
@require_role("admin", "governance")
def progress():
    quarter, filters = quarter_from_request(), filters_from_request()
    figures, closed = operations.quarter_figures(quarter, filters)
    return progress_json(figures, filtered=filters.any, closed=closed)


@bp.get("/stats/cohorts")
@require_role("admin", "governance")
def cohorts():
    return paginated(queries.cohort_rates(quarter_from_request(), filters_from_request()), cohort_row_json, rows=True)


@bp.get("/stats/targets")
@require_role("admin", "governance")
def get_targets():
    return queries.targets()


@bp.put("/stats/targets")
@require_role("admin")
def put_targets():
    values = operations.set_targets(current_actor(), json_body())
    db.session.commit()
    return values


@bp.post("/stats/quarters/<quarter>/close")
@require_role("admin")
def close(quarter: str):
    snapshot = operations.close_quarter(current_actor(), operations.parse_quarter(quarter))
    db.session.commit()
    return {"quarter": snapshot.quarter, "closed_at": snapshot.closed_at.isoformat(),
            "trained": snapshot.figures["trained"]}, 201
