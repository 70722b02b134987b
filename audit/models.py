from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app import db
from common.types import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One write, appended in the same transaction as the write itself."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(40))
    target_id: Mapped[str] = mapped_column(sa.String(60))
    before: Mapped[Optional[dict[str, Any]]] = mapped_column(sa.JSON)
    after: Mapped[Optional[dict[str, Any]]] = mapped_column(sa.JSON)

    __table_args__ = (sa.Index("ix_audit_entries_target", "target_type", "target_id"),)
