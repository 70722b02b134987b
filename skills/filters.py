"""The filters list endpoints take from the query string, parsed in one place: each checked against its
vocabulary (422 naming the field, in the reader's language), a cohort or track looked up by code (404, as on
its own page; a trainer asking for another's cohort gets 403). `params(...)` describes the same filters for
the API description, so what is parsed and what is documented are written side by side."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Collection, Mapping

from common import validation as v
from common.errors import FieldErrors
from common.openapi import STRING, UPDATED_SINCE, Param, enum
from skills.models import Cohort, Track
from skills.vocab import CATEGORIES, REGIONS, SECTORS

COHORT_STATUSES = ("upcoming", "running", "finished")  # on today's date in Morocco (queries.cohorts)


@dataclass(frozen=True)
class ListFilters:
    q: str | None = None
    cohort: Cohort | None = None
    track: Track | None = None
    sector: str | None = None
    region: str | None = None
    category: str | None = None
    status: str | None = None
    updated_since: datetime | None = None


def _params(statuses: Collection[str] | None) -> dict[str, Param]:
    return {
        "q": Param("q", {"type": "string", "maxLength": 200}, "Case-insensitive search."),
        "cohort": Param("cohort", STRING, "A cohort's code.", lookup=True),
        "track": Param("track", STRING, "A track's code.", lookup=True),
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


def list_filters(args: Mapping[str, str], *names: str, statuses: Collection[str] | None = None) -> ListFilters:
    """The filters among `names` found in `args`; the others stay None. Every fault is reported at once."""
    from skills.loaders import get_cohort_or_404, get_track_or_404

    wanted = set(names)
    errors = FieldErrors()
    values: dict[str, Any] = {}
    for name, vocabulary in (("sector", SECTORS), ("region", REGIONS), ("category", CATEGORIES),
                             ("status", statuses or {})):
        if name in wanted:
            values[name] = v.choice(errors, name, args.get(name) or None, vocabulary, required=False)
    if "updated_since" in wanted and args.get("updated_since"):
        values["updated_since"] = v.local_datetime(errors, "updated_since", args["updated_since"])
    if "q" in wanted:
        values["q"] = v.text(errors, "q", args.get("q"), required=False)
    errors.raise_if_any()
    if "cohort" in wanted and args.get("cohort"):
        values["cohort"] = get_cohort_or_404(args["cohort"])
    if "track" in wanted and args.get("track"):
        values["track"] = get_track_or_404(args["track"])
    return ListFilters(**values)
