"""Writes of the governance domain: targets and closing a quarter (its snapshot). Reads are in queries."""
from __future__ import annotations

from typing import Any

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


def close_quarter(actor: User | None, quarter: Quarter) -> QuarterSnapshot:
    """Freeze a finished quarter's figures. Later edits change live figures, never this snapshot."""
    if quarter.last_day >= clock.today():
        raise ValidationFailed.single("quarter", _l("Quarter %(quarter)s is not over yet.", quarter=str(quarter)))
    if db.session.get(QuarterSnapshot, str(quarter)) is not None:
        raise Conflict(_l("Quarter %(quarter)s is already closed.", quarter=str(quarter)))
    snapshot = QuarterSnapshot(quarter=str(quarter), closed_by_id=getattr(actor, "id", None),
                               figures=queries.full_figures(quarter).to_json())
    db.session.add(snapshot)
    db.session.flush()
    audit(actor, "quarter.close", "quarter", str(quarter), after={"trained": snapshot.figures["trained"]})
    return snapshot
