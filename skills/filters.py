"""The one parser of the filters that lists, exports and the dashboard take from the query string.

Used by the API lists (skills, certificates), the CSV/XLSX exports (exchange) and the governance dashboard
and statistics (governance): one rule for all of them. A value outside its vocabulary, a date that is not
one, or a cohort, track or session that does not exist is refused with 422, naming the field with a
translated message ("Unknown track “X”."); every fault of a request is reported at once. A cohort or
session that exists but that the actor may not see is refused as on its own page (403).

`params(...)` describes the same filters for the API description, so what is parsed and what is documented
are written side by side.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Collection, Mapping

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.permissions import current_actor
from common import validation as v
from common.errors import FieldErrors
from common.extensions import db
from common.openapi import STRING, UPDATED_SINCE, Param, enum
from skills.models import Cohort, Track, TrainingSession
from skills.permissions import can_view_cohort, check
from skills.vocab import CATEGORIES, REGIONS, SECTORS

COHORT_STATUSES = ("upcoming", "running", "finished")  # on today's date in Morocco (queries.cohorts)


@dataclass(frozen=True)
class ListFilters:
    q: str | None = None
    cohort: Cohort | None = None
    track: Track | None = None
    session: TrainingSession | None = None
    sector: str | None = None
    region: str | None = None
    category: str | None = None
    status: str | None = None
    updated_since: datetime | None = None


def _params(statuses: Collection[str] | None) -> dict[str, Param]:
    return {
        "q": Param("q", {"type": "string", "maxLength": 200}, "Case-insensitive search."),
        "cohort": Param("cohort", STRING, "A cohort's code."),
        "track": Param("track", STRING, "A track's code."),
        "session": Param("session", {"type": "integer", "minimum": 1}, "A session's id."),
        "sector": Param("sector", enum(SECTORS)),
        "region": Param("region", enum(REGIONS)),
        "category": Param("category", enum(CATEGORIES)),
        "status": Param("status", enum(statuses or ())),
        "updated_since": UPDATED_SINCE,
    }


def params(*names: str, statuses: Collection[str] | None = None) -> tuple[Param, ...]:
    """The OpenAPI query parameters of these filters."""
    described = _params(statuses)
    return tuple(described[name] for name in names)


def _by_code(model, code: str) -> Any:
    return db.session.scalar(sa.select(model).where(model.code == code))


def list_filters(args: Mapping[str, str], *names: str, statuses: Collection[str] | None = None,
                 errors: FieldErrors | None = None) -> ListFilters:
    """The filters among `names` found in `args`; the others stay None. Every fault is reported at once,
    with those a caller already collected in `errors` (its own arguments, e.g. an export's separator)."""
    wanted = set(names)
    errors = errors if errors is not None else FieldErrors()
    values: dict[str, Any] = {}
    for name, vocabulary in (("sector", SECTORS), ("region", REGIONS), ("category", CATEGORIES),
                             ("status", statuses or {})):
        if name in wanted:
            values[name] = v.choice(errors, name, args.get(name) or None, vocabulary, required=False)
    if "updated_since" in wanted and args.get("updated_since"):
        values["updated_since"] = v.local_datetime(errors, "updated_since", args["updated_since"])
    if "q" in wanted:
        values["q"] = v.text(errors, "q", args.get("q"), required=False)
    if "cohort" in wanted and args.get("cohort"):
        values["cohort"] = _by_code(Cohort, args["cohort"])
        if values["cohort"] is None:
            errors.add("cohort", _l("Unknown cohort “%(code)s”.", code=args["cohort"][:40]))
    if "track" in wanted and args.get("track"):
        values["track"] = _by_code(Track, args["track"])
        if values["track"] is None:
            errors.add("track", _l("Unknown track “%(code)s”.", code=args["track"][:40]))
    if "session" in wanted and args.get("session"):
        session_id = v.row_id(errors, "session", args["session"])
        if session_id is not None:
            values["session"] = db.session.get(TrainingSession, session_id)
            if values["session"] is None:
                errors.add("session", _l("Unknown session “%(id)s”.", id=session_id))
    errors.raise_if_any()
    for cohort in (values.get("cohort"), getattr(values.get("session"), "cohort", None)):
        if cohort is not None:
            check(can_view_cohort(current_actor(), cohort))
    return ListFilters(**values)
