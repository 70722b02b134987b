"""Writes of the governance domain: targets and closing a quarter."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import User
from audit.operations import record as audit
from common import clock, validation as v
from common.errors import Conflict, FieldErrors, ValidationFailed
from common.extensions import db
from governance import queries
from governance.models import DEFAULT_TARGETS, QuarterSnapshot, Target
from governance.rules import Quarter


def set_targets(actor: User, data: dict[str, Any]) -> dict[str, int]:
    """Change some targets (total and per category); all or nothing."""
    errors = FieldErrors()
    unknown = sorted(set(data) - set(DEFAULT_TARGETS))
    if unknown:
        errors.add(unknown[0], _l("Unknown target. Allowed: %(allowed)s.", allowed=", ".join(DEFAULT_TARGETS)))
    values = {key: v.integer(errors, key, value, minimum=0, maximum=1_000_000)
              for key, value in data.items() if key in DEFAULT_TARGETS}
    errors.raise_if_any()
    if not values:
        raise ValidationFailed(message=_l("Give at least one target."))
    before = queries.targets()
    for key, value in values.items():
        target = db.session.get(Target, key)
        if target is None:
            db.session.add(Target(key=key, value=value))
        else:
            target.value = value
    db.session.flush()
    audit(actor, "targets.update", "targets", "programme", before=before, after=queries.targets())
    return queries.targets()


def parse_quarter(text: Any, *, field: str = "quarter") -> Quarter:
    try:
        quarter = Quarter.parse(text if isinstance(text, str) else "")
    except ValueError:
        raise ValidationFailed.single(field, _l("Use a quarter like 2026-Q4."))
    if quarter > Quarter.of(clock.today()):
        raise ValidationFailed.single(field, _l("Quarter %(quarter)s has not begun.", quarter=str(quarter)))
    return quarter


def close_quarter(actor: User | None, quarter: Quarter) -> QuarterSnapshot:
    """Freeze a finished quarter's figures. Later edits change live figures, never this snapshot."""
    if quarter.last_day >= clock.today():
        raise ValidationFailed.single("quarter", _l("Quarter %(quarter)s is not over yet.", quarter=str(quarter)))
    if db.session.get(QuarterSnapshot, str(quarter)) is not None:
        raise Conflict(_l("Quarter %(quarter)s is already closed.", quarter=str(quarter)))
    snapshot = QuarterSnapshot(quarter=str(quarter), closed_by_id=getattr(actor, "id", None),
                               figures=full_figures(quarter))
    db.session.add(snapshot)
    db.session.flush()
    audit(actor, "quarter.close", "quarter", str(quarter), after={"trained": snapshot.figures["trained"]})
    return snapshot


def full_figures(quarter: Quarter) -> dict[str, Any]:
    """The unfiltered figures of a quarter with its cohort table: what a snapshot and a report hold."""
    figures = queries.figures(quarter)
    figures["cohorts"] = [dict(row._mapping) for row in db.session.execute(queries.cohort_rates(quarter))]
    return figures


def closed_figures(quarter: Quarter) -> dict[str, Any] | None:
    snapshot = db.session.get(QuarterSnapshot, str(quarter))
    return snapshot.figures if snapshot else None


def quarter_figures(quarter: Quarter, filters: queries.Filters = queries.Filters(), *,
                    with_previous: bool = False) -> tuple[dict[str, Any], bool]:
    """A quarter's figures and whether they come from its closed snapshot (only unfiltered ones can).
    Live figures `with_previous` also hold the previous quarter's breakdowns (see previous_breakdowns)."""
    if not filters.any:
        frozen = closed_figures(quarter)
        if frozen is not None:
            return frozen, True
    return queries.figures(quarter, filters, with_previous=with_previous), False


def previous_breakdowns(quarter: Quarter, filters: queries.Filters = queries.Filters(),
                        live: dict[str, Any] | None = None) -> dict[str, Any]:
    """The previous quarter's total and breakdowns, for the changes shown beside this quarter's: its
    snapshot when closed, else `live` (computed with this quarter's figures) or only the breakdowns (no
    trend, no event counts: they are not shown)."""
    frozen = None if filters.any else closed_figures(quarter.previous())
    return frozen or live or queries.breakdowns(queries.as_of_day(quarter.previous()), filters)


def corrections(quarter: Quarter) -> list[dict[str, Any]]:
    """For every closed quarter before this one: figures that changed since it was closed."""
    rows = db.session.scalars(sa.select(QuarterSnapshot).where(QuarterSnapshot.quarter < str(quarter))
                              .order_by(QuarterSnapshot.quarter)).all()
    changes = []
    for snapshot in rows:
        live = queries.figures(Quarter.parse(snapshot.quarter))
        for name, old, new in _differences(snapshot.figures, live):
            changes.append({"quarter": snapshot.quarter, "figure": name, "closed": old, "now": new})
    return changes


def _differences(frozen: dict[str, Any], live: dict[str, Any]):
    for key in ("trained", "by_category", "by_sector", "by_region", "by_gender", "by_language", "certificates"):
        old, new = frozen.get(key), live.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            for sub in sorted(set(old) | set(new)):
                if old.get(sub, 0) != new.get(sub, 0):
                    yield f"{key}.{sub}", old.get(sub, 0), new.get(sub, 0)
        elif old != new:
            yield key, old, new
