"""The trainee import: a file's plan reported (a dry run), or written in bulk through skills'
`write_trainees` (new rows inserted BULK_CHUNK at a time, updates in one executemany), its trainees enrolled
in a cohort if one is asked, with one audit entry summarising the import. All or nothing."""
from __future__ import annotations

from typing import Any, Callable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import User
from audit.operations import record as audit
from common.errors import Conflict
from common.extensions import db
from exchange.imports.faults import MAX_LISTED_ERRORS, ImportRefused, refuse
from exchange.imports.plan import TraineePlan, already_enrolled, chunks, plan_trainees
from exchange.imports.readers import Table
from skills import operations
from skills.models import Cohort
from skills.operations import MAX_BATCH, TRAINEE_FIELDS

IMPORT_ACTION = "trainee.import"  # the audit action that records an import (and what it wrote)


def cohort_by_code(code: str | None) -> Cohort | None:
    """The cohort to enrol into, or None when none is asked; an unknown code is refused (422)."""
    if not code or not code.strip():
        return None
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.code == code.strip()))
    if cohort is None:
        raise refuse(_l("Unknown cohort “%(code)s”.", code=code.strip()[:40]))
    return cohort


def _write_trainees(actor: User, plan: TraineePlan, table: Table, cohort: Cohort | None) -> tuple[int, int]:
    """Insert and update in bulk through write_trainees, enrol through enrol_trainees, and audit the import
    once. Returns the audit entry's id (the import's record: exchange.queries lists its trainees) and the
    number enrolled."""
    try:
        new_ids = operations.write_trainees(plan.creates, [(trainee_id, values)
                                                           for trainee_id, _, values in plan.updates])
    except sa.exc.IntegrityError:  # the caller rolls back, as on any DomainError
        raise Conflict(_l("Some of these trainees were saved by someone else meanwhile. Check the file "
                          "again.")) from None
    enrolled = 0
    if cohort is not None:
        for chunk in chunks(new_ids + plan.matched_ids, MAX_BATCH):
            enrolled += operations.enrol_trainees(actor, cohort, chunk)
    changed = {trainee_id: [name for name in TRAINEE_FIELDS if before[name] != after[name]]
               for trainee_id, before, after in plan.updates}
    entry = audit(actor, IMPORT_ACTION, "import", table.sha256[:16],
          before={str(tid): {name: before[name] for name in changed[tid]} for tid, before, _ in plan.updates} or None,
          after={"file": table.filename[:200], "sha256": table.sha256, "rows": plan.rows,
                 "cohort": cohort.code if cohort else None, "created": new_ids,
                 "updated": {str(tid): {name: after[name] for name in changed[tid]} for tid, _, after in plan.updates},
                 "unchanged": len(plan.unchanged_ids), "enrolled": enrolled})
    db.session.flush()
    return entry.id, enrolled


def import_trainees(actor: User, table: Table, *, dry_run: bool, cohort: Cohort | None = None,
                    progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Check (dry run) or import a trainee file; optionally enrol every trainee of it in a cohort.

    Returns the report {"dry_run", "file", "rows", "created", "updated", "unchanged", "cohort", "enrolled",
    "ignored_columns", "errors", "error_count"}, and once committed "import_id" (its audit entry). A commit with any bad row raises ImportRefused carrying that
    report, having written nothing. Flushes, never commits. `progress(done, total)` is called while rows are
    checked, never once writing has begun (a job's progress commits)."""
    total = len(table.rows) if dry_run else len(table.rows) * 3 // 2
    plan = plan_trainees(table, (lambda done: progress(done, total)) if progress else None)
    report: dict[str, Any] = {
        "dry_run": dry_run, "file": table.filename, "rows": plan.rows, "created": len(plan.creates),
        "updated": len(plan.updates), "unchanged": len(plan.unchanged_ids),
        "cohort": cohort.code if cohort else None, "enrolled": 0, "ignored_columns": plan.ignored,
        "errors": plan.errors[:MAX_LISTED_ERRORS], "error_count": len(plan.errors)}
    if cohort is not None:
        matched = plan.matched_ids
        report["enrolled"] = len(plan.creates) + len(set(matched) - already_enrolled(cohort, matched))
    if progress:
        progress(plan.rows, total)
    if dry_run:
        return report
    if plan.errors:
        raise ImportRefused(plan.errors, report)
    report["import_id"], report["enrolled"] = _write_trainees(actor, plan, table, cohort)
    return report
