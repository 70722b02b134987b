"""The dashboard's arguments, read from the query string and checked: shared by the page and the API."""
from __future__ import annotations

from flask import request

from common import clock
from governance import operations, queries
from governance.rules import Quarter
from skills.filters import list_filters

FIGURE_FILTERS = ("sector", "region", "track")


def filters_from_request() -> queries.Filters:
    """Filters from the query string (sector, region, track code), parsed as every list parses them
    (skills.filters): an unknown value is a 422 naming its field."""
    f = list_filters(request.args, *FIGURE_FILTERS)
    return queries.Filters(sector=f.sector, region=f.region, track_id=f.track.id if f.track else None)


def quarter_from_request() -> Quarter:
    """The ?quarter= argument (checked), or the current quarter."""
    text = request.args.get("quarter")
    return operations.parse_quarter(text) if text else Quarter.of(clock.today())
