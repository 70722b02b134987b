"""Reads of past imports: a trainee import is recorded by its audit entry, which names the trainees it
created and updated (exchange.imports.trainees)."""
from __future__ import annotations

import sqlalchemy as sa

from audit.models import AuditEntry
from common.extensions import db
from common.pagination import RowPage
from exchange.imports.trainees import IMPORT_ACTION
from skills.models import Trainee


def trainee_import(entry_id: int) -> AuditEntry | None:
    """The audit entry of a committed trainee import, or None."""
    entry = db.session.get(AuditEntry, entry_id)
    return entry if entry is not None and entry.action == IMPORT_ACTION else None


def imported_trainees(entry: AuditEntry, page: int, per_page: int) -> RowPage:
    """A page of (trainee, "created" or "updated", fields changed) for the import: the new trainees first, then
    the updated ones, each in order of number. Trainees erased since then are left out of the page."""
    after = entry.after or {}
    updated = after.get("updated") or {}
    changes = [(int(tid), "created", []) for tid in sorted(after.get("created") or [])]
    changes += [(int(tid), "updated", sorted(fields)) for tid, fields in sorted(updated.items(), key=lambda i: int(i[0]))]
    total = len(changes)
    page = max(1, min(page, -(-total // per_page) or 1))
    chosen = changes[(page - 1) * per_page:page * per_page]
    found = {t.id: t for t in db.session.scalars(sa.select(Trainee).where(Trainee.id.in_([c[0] for c in chosen])))}
    items = [(found[tid], change, fields) for tid, change, fields in chosen if tid in found]
    return RowPage(items=items, page=page, per_page=per_page, total=total)
