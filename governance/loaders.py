"""The dashboard's arguments, read from the query string and checked: shared by the page and the API."""
from __future__ import annotations

import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _

from common import clock, validation as v
from common.errors import FieldErrors
from common.extensions import db
from governance import operations, queries
from governance.rules import Quarter
from skills.models import Track
from skills.vocab import REGIONS, SECTORS


def filters_from_request() -> queries.Filters:
    """Filters from the query string (sector, region, track code), each checked against its vocabulary."""
    errors = FieldErrors()
    sector = v.choice(errors, "sector", request.args.get("sector"), SECTORS, required=False)
    region = v.choice(errors, "region", request.args.get("region"), REGIONS, required=False)
    track_id = None
    if request.args.get("track"):
        track_id = db.session.scalar(sa.select(Track.id).where(Track.code == request.args["track"]))
        if track_id is None:
            errors.add("track", _("Unknown track “%(code)s”.", code=request.args["track"][:40]))
    errors.raise_if_any()
    return queries.Filters(sector=sector, region=region, track_id=track_id)


def quarter_from_request() -> Quarter:
    """The ?quarter= argument (checked), or the current quarter."""
    text = request.args.get("quarter")
    return operations.parse_quarter(text) if text else Quarter.of(clock.today())

