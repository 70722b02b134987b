"""Helpers shared by every JSON blueprint under /api/v1: request bodies and pagination. The blueprints
themselves, with bearer authentication, come from accounts.bearer."""
from __future__ import annotations

from typing import Any, Callable

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import lazy_gettext as _l

from common import validation as v
from common.errors import FieldErrors, ValidationFailed
from common.extensions import db

API_PREFIX = "/api/v1"


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 422 saying what is wrong with it."""
    data = request.get_json(silent=True)
    if data is None:
        raise ValidationFailed(message=_l("Send a JSON object with Content-Type: application/json."))
    if not isinstance(data, dict):
        raise ValidationFailed(message=_l("The body must be a JSON object."))
    return data


def page_args() -> tuple[int, int]:
    errors = FieldErrors()
    page = v.integer(errors, "page", request.args.get("page", "1"), minimum=1, maximum=10**6)
    per_page = v.integer(errors, "per_page", request.args.get("per_page", str(current_app.config["PER_PAGE"])),
                         minimum=1, maximum=current_app.config["API_MAX_PER_PAGE"])
    errors.raise_if_any()
    return page, per_page


def paginated(query: sa.Select, serialize: Callable[[Any], dict], *, rows: bool = False) -> dict[str, Any]:
    """A page of a select: of model objects, or with rows=True of rows of several columns."""
    from common.pagination import paginate_rows

    page, per_page = page_args()
    result = (paginate_rows(query, page, per_page) if rows
              else db.paginate(query, page=page, per_page=per_page, error_out=False, count=True))
    return {"items": [serialize(item) for item in result.items], "page": page, "per_page": per_page,
            "total": result.total, "pages": result.pages}
