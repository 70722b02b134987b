from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from common.extensions import db
from common.types import UTCDateTime, utcnow

GENESIS = "0" * 64


class AuditEntry(db.Model):
    """One write, appended in the same transaction as the write itself. Entries form a hash chain:
    each hash covers the entry (its values through content_hash) and the previous hash, so altering,
    removing or reordering any entry breaks every later link (`flask audit verify`)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(40))
    target_id: Mapped[str] = mapped_column(sa.String(60))
    before: Mapped[Optional[dict[str, Any]]] = mapped_column(sa.JSON)
    after: Mapped[Optional[dict[str, Any]]] = mapped_column(sa.JSON)
    content_hash: Mapped[str] = mapped_column(sa.String(64))  # of before and after, as written
    # Set when the purge erased personal data from before/after: content_hash is then kept, not re-checked.
    redacted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    __table_args__ = (sa.Index("ix_audit_entries_target", "target_type", "target_id"),)


class AuditHead(db.Model):
    """The chain's last link. Locked while appending, so concurrent writers append one after another,
    and compared with the last entry, so removing entries from the end is noticed too."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(sa.String(64), default=GENESIS)
