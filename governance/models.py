from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from common.extensions import db
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


class TrainedPeriod(db.Model):
    """Days during which a person counts as trained, kept as certificates, tracks, cohorts and trainees
    change (governance.trained), so that the figures read these few rows instead of every certificate.

    Per person: the periods of the programme figure (track_id NULL: any counting track) and, for the
    track filter, those of each counting track. A person's periods of one scope never overlap, so a
    count of the rows covering a day counts each person once. The person's category, sector, region and
    gender are copied here so that every breakdown is one indexed GROUP BY over this table."""

    __tablename__ = "trained_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("trainees.id", ondelete="CASCADE"), index=True)
    track_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("tracks.id", ondelete="CASCADE"))
    first_day: Mapped[date]
    last_day: Mapped[Optional[date]]  # the last day counted; NULL: no end (yet)
    # the smallest training language of the cohorts of the certificates counting in the period (NULL: none known)
    language: Mapped[Optional[str]] = mapped_column(sa.String(3))
    category: Mapped[str] = mapped_column(sa.String(20))
    sector: Mapped[str] = mapped_column(sa.String(20))
    region: Mapped[str] = mapped_column(sa.String(40))
    gender: Mapped[Optional[str]] = mapped_column(sa.String(1))

    __table_args__ = (
        # Covers the figures: a scope is one range of it, read in the order of their GROUP BY (no sort).
        sa.Index("ix_trained_periods_figures", "track_id", "category", "sector", "region", "gender", "language",
                 "first_day", "last_day"),
    )
