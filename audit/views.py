"""Admins browse the audit trail."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from accounts.models import User
from accounts.permissions import require_role
from audit.models import AuditEntry
from common.pagination import paginate_rows

bp = Blueprint("audit", __name__)


@bp.get("/admin/audit")
@require_role("admin")
def trail():
    query = (sa.select(AuditEntry, User.email).outerjoin(User, User.id == AuditEntry.actor_id)
             .order_by(AuditEntry.seq.desc()))
    filters = {k: request.args.get(k, "").strip() for k in ("action", "target_type", "target_id", "actor")}
    if filters["action"]:
        query = query.where(AuditEntry.action.like(f"{filters['action']}%"))
    if filters["target_type"]:
        query = query.where(AuditEntry.target_type == filters["target_type"])
    if filters["target_id"]:
        query = query.where(AuditEntry.target_id == filters["target_id"])
    if filters["actor"]:
        query = query.where(User.email.like(f"%{filters['actor'].lower()}%"))
    page = paginate_rows(query, request.args.get("page", 1, type=int) or 1, 50)
    return render_template("audit/trail.html", page=page, filters=filters)
