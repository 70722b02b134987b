"""Planning a trainee file: every row validated with skills' trainee_values, existing trainees matched by
email (found by IN queries of IN_CHUNK), and the rows sorted into creations, updates and unchanged ones.
Reads only: nothing here writes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from common.errors import FieldErrors
from common.extensions import db
from exchange.imports.columns import (TRAINEE_COLUMNS, VOCABULARIES, map_columns, normalise, sorted_faults,
                                      value_aliases)
from exchange.imports.faults import fault, refuse
from exchange.imports.readers import Table
from skills.models import Cohort, Enrollment, Trainee
from skills.operations import TRAINEE_FIELDS, trainee_values

IN_CHUNK = 900  # values per SQL IN (...): well under every backend's parameter limit
PROGRESS_EVERY = 500


def chunks(items: list, size: int = IN_CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass
class TraineePlan:
    """What a trainee file would do, found without writing anything."""

    rows: int
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[int, dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # id, before, after
    unchanged_ids: list[int] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def matched_ids(self) -> list[int]:
        return [trainee_id for trainee_id, _, _ in self.updates] + self.unchanged_ids


def _existing_trainees(emails: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Trainees by email, as plain values (id and every field), in a few queries."""
    found: dict[str, dict[str, Any]] = {}
    columns = [Trainee.id, *(getattr(Trainee, name) for name in TRAINEE_FIELDS)]
    for chunk in chunks(sorted(set(emails))):
        for row in db.session.execute(sa.select(*columns).where(Trainee.email.in_(chunk))):
            found[row.email] = row._asdict()
    return found


def plan_trainees(table: Table, progress: Callable[[int], None] | None = None) -> TraineePlan:
    """Validate every row with trainee_values, match existing trainees by email, and sort the rows into
    creations, updates and unchanged ones. A column the file does not have keeps its value on an update."""
    columns = map_columns(table, TRAINEE_COLUMNS)
    if "email" not in columns.index:
        raise refuse(_l("The file needs an email column (“email” or “courriel”) to tell trainees apart."),
                     row=table.header_row)
    aliases = {name: value_aliases(name) for name in ("category", "sector", "region", "gender")}
    plan = TraineePlan(rows=len(table.rows), ignored=columns.ignored)

    datas: list[tuple[int, dict[str, Any]]] = []
    unknown: dict[int, dict[str, str]] = {}  # row -> field -> a value that is no code and no label
    for number, cells in table.rows:
        data = {}
        for name in columns.index:
            value = columns.value(cells, name)
            if value is not None and name in aliases:
                code = aliases[name].get(normalise(value))
                if code is None:
                    unknown.setdefault(number, {})[name] = value
                value = code or value
            data[name] = value
        datas.append((number, data))

    def faults(number: int, errors: FieldErrors, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The row's errors; a value that is no code and no label is told with the labels the reader knows
        (the validator would list codes, which a spreadsheet never shows)."""
        found = []
        for name in [*TRAINEE_FIELDS, *(other for other in errors.fields if other not in TRAINEE_FIELDS)]:
            messages = errors.fields.get(name, ())
            if messages and name in unknown.get(number, {}):
                messages = [_unknown_value(name, unknown[number][name])]
            found.extend(fault(number, columns.names.get(name, name), m, data.get(name)) for m in messages)
        return found

    existing = _existing_trainees((data.get("email") or "").lower() for _, data in datas if data.get("email"))

    def validate(data: dict[str, Any], current: dict[str, Any] | None) -> tuple[FieldErrors, dict[str, Any]]:
        errors = FieldErrors()
        merged = {**{name: current[name] for name in TRAINEE_FIELDS}, **data} if current else data
        return errors, trainee_values(errors, merged)

    seen: dict[str, int] = {}
    pending_new: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    for done, (number, data) in enumerate(datas, start=1):
        current = existing.get((data.get("email") or "").lower())
        errors, values = validate(data, current)
        if errors.fields:
            plan.errors.extend(faults(number, errors, data))
        elif values["email"] in seen:
            plan.errors.append(fault(number, columns.names["email"],
                                     _l("This email is already on row %(row)d.", row=seen[values["email"]]),
                                     data.get("email")))
        else:
            seen[values["email"]] = number
            if current is None:
                pending_new.append((number, data, values))
            else:
                _sort_match(plan, current, values)
        if progress and done % PROGRESS_EVERY == 0:
            progress(done)

    # An address the validator normalised (Unicode forms, say) may still name an existing trainee.
    late = _existing_trainees(values["email"] for _, _, values in pending_new if values["email"] not in existing)
    for number, data, values in pending_new:
        current = late.get(values["email"])
        if current is None:
            plan.creates.append(values)
            continue
        errors, values = validate(data, current)
        if errors.fields:
            plan.errors.extend(faults(number, errors, data))
        else:
            _sort_match(plan, current, values)
    plan.errors = sorted_faults(plan.errors, columns, TRAINEE_COLUMNS)
    return plan


def _unknown_value(name: str, value: str):
    labels = ", ".join(str(label) for label in VOCABULARIES[name].values())
    return _l("Unknown value “%(value)s”. Write one of: %(allowed)s.", value=value[:40], allowed=labels)


def _sort_match(plan: TraineePlan, current: dict[str, Any], values: dict[str, Any]) -> None:
    before = {name: current[name] for name in TRAINEE_FIELDS}
    if before == values:
        plan.unchanged_ids.append(current["id"])
    else:
        plan.updates.append((current["id"], before, values))


def already_enrolled(cohort: Cohort, trainee_ids: list[int]) -> set[int]:
    enrolled: set[int] = set()
    for chunk in chunks(trainee_ids):
        enrolled.update(db.session.scalars(sa.select(Enrollment.trainee_id).where(
            Enrollment.cohort_id == cohort.id, Enrollment.trainee_id.in_(chunk))))
    return enrolled
