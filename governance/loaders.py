"""The governance arguments, read from the query string, a form or the command line and checked: shared by
the dashboard, the API and the CLI."""
from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from common import clock
from common.errors import ValidationFailed
from governance import queries
from governance.rules import Quarter
from skills.filters import list_filters

FIGURE_FILTERS = ("sector", "region", "track")


def filters_from_request() -> queries.Filters:
    """Filters from the query string (sector, region, track code), parsed as every list parses them
    (skills.filters): an unknown value is a 422 naming its field."""
    f = list_filters(request.args, *FIGURE_FILTERS)
    return queries.Filters(sector=f.sector, region=f.region, track_id=f.track.id if f.track else None)


def parse_quarter(text: Any, *, field: str = "quarter") -> Quarter:
    """A quarter written like 2026-Q4 that has begun (422 otherwise)."""
    try:
        quarter = Quarter.parse(text if isinstance(text, str) else "")
    except ValueError:
        raise ValidationFailed.single(field, _l("Use a quarter like 2026-Q4."))
    if quarter > Quarter.of(clock.today()):
        raise ValidationFailed.single(field, _l("Quarter %(quarter)s has not begun.", quarter=str(quarter)))
    return quarter


def quarter_from_request() -> Quarter:
    """The ?quarter= argument (checked), or the current quarter."""
    text = request.args.get("quarter")
    return parse_quarter(text) if text else Quarter.of(clock.today())
