from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app import db
from common.types import UTCDateTime, utcnow

# The programme's targets, used until an admin changes them.
DEFAULT_TARGETS = {"total": 500, "engineer": 200, "researcher": 100, "official": 200}


class Target(db.Model):
    """How many people the programme means to train: in all ("total") and per category."""

    __tablename__ = "targets"

    key: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    value: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.CheckConstraint("value >= 0", name="value_not_negative"),)


class QuarterSnapshot(db.Model):
    """A closed quarter's figures, frozen: later edits to attendance or certificates never rewrite them;
    the next report lists the differences as corrections."""

    __tablename__ = "quarter_snapshots"

    quarter: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    figures: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
