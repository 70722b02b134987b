"""The registry's data model: modules, tracks, cohorts, trainees, sessions, attendance and results."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from common.database import one_of
from common.extensions import db
from common.types import UTCDateTime, utcnow
from skills.vocab import ATTENDANCE_STATUSES, CATEGORIES, GENDERS, REGIONS, SECTORS, TRAINING_LANGUAGES

if TYPE_CHECKING:
    from accounts.models import User


track_modules = sa.Table(
    "track_modules",
    db.metadata,
    sa.Column("track_id", sa.ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("module_id", sa.ForeignKey("modules.id", ondelete="RESTRICT"), primary_key=True),
)

# A track may require valid certificates of other tracks (the pathway). Cycles are refused by
# skills.rules.prerequisite_cycle before anything is written.
track_prerequisites = sa.Table(
    "track_prerequisites",
    db.metadata,
    sa.Column("track_id", sa.ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("required_track_id", sa.ForeignKey("tracks.id", ondelete="RESTRICT"), primary_key=True, index=True),
    sa.CheckConstraint("track_id <> required_track_id", name="not_self"),
)

cohort_trainers = sa.Table(
    "cohort_trainers",
    db.metadata,
    sa.Column("cohort_id", sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Module(db.Model):
    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    title_fr: Mapped[str] = mapped_column(sa.String(200))
    title_ar: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("hours > 0", name="hours_positive"),)

    def title(self, locale: str) -> str:
        return {"ar": self.title_ar, "en": self.title_en}.get(locale, self.title_fr)

    def __repr__(self) -> str:
        return f"<Module {self.code}>"


class Track(db.Model):
    """A certification track: the modules to pass and the attendance to reach."""

    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    title_fr: Mapped[str] = mapped_column(sa.String(200))
    title_ar: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    title_zgh: Mapped[Optional[str]] = mapped_column(sa.String(200))  # Tamazight in Tifinagh, for certificates
    min_attendance: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4), default=Decimal("0.8"))
    validity_months: Mapped[Optional[int]]
    counts_toward_target: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    modules: Mapped[list[Module]] = relationship(secondary=track_modules, order_by=Module.code)
    requires: Mapped[list["Track"]] = relationship(
        secondary=track_prerequisites, primaryjoin=lambda: Track.id == track_prerequisites.c.track_id,
        secondaryjoin=lambda: Track.id == track_prerequisites.c.required_track_id, order_by=lambda: Track.code)

    __table_args__ = (
        sa.CheckConstraint("min_attendance >= 0 AND min_attendance <= 1", name="min_attendance_range"),
        sa.CheckConstraint("validity_months IS NULL OR validity_months > 0", name="validity_positive"),
    )

    def title(self, locale: str) -> str:
        return {"ar": self.title_ar, "en": self.title_en}.get(locale, self.title_fr)

    def __repr__(self) -> str:
        return f"<Track {self.code}>"


class Trainee(db.Model):
    __tablename__ = "trainees"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_ar: Mapped[str] = mapped_column(sa.String(200))
    name_tfng: Mapped[Optional[str]] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    category: Mapped[str] = mapped_column(sa.String(20))
    sector: Mapped[str] = mapped_column(sa.String(20))
    region: Mapped[str] = mapped_column(sa.String(40))
    gender: Mapped[Optional[str]] = mapped_column(sa.String(1))
    employer: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)
    # Set when the retention period ran out: names, email and employer were blanked; what the anonymous
    # statistics need (category, sector, region, gender, enrolments, attendance, results) stays.
    purged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    enrollments: WriteOnlyMapped["Enrollment"] = relationship(back_populates="trainee", passive_deletes=True)

    __table_args__ = (
        one_of("category", CATEGORIES, "category_known"),
        one_of("sector", SECTORS, "sector_known"),
        one_of("region", REGIONS, "region_known"),
        sa.CheckConstraint(f"gender IS NULL OR gender IN ({', '.join(repr(g) for g in GENDERS)})",
                           name="gender_known"),
    )

    def __repr__(self) -> str:
        return f"<Trainee {self.id} {self.email}>"


class Cohort(db.Model):
    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("tracks.id", ondelete="RESTRICT"), index=True)
    sector: Mapped[str] = mapped_column(sa.String(20))
    region: Mapped[str] = mapped_column(sa.String(40))
    language: Mapped[str] = mapped_column(sa.String(3))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    track: Mapped[Track] = relationship()
    trainers: Mapped[list["User"]] = relationship(secondary=cohort_trainers, order_by="User.email")
    enrollments: WriteOnlyMapped["Enrollment"] = relationship(back_populates="cohort", passive_deletes=True)
    sessions: WriteOnlyMapped["TrainingSession"] = relationship(back_populates="cohort", passive_deletes=True)

    __table_args__ = (
        one_of("sector", SECTORS, "sector_known"),
        one_of("region", REGIONS, "region_known"),
        one_of("language", TRAINING_LANGUAGES, "language_known"),
        sa.CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
    )

    def __repr__(self) -> str:
        return f"<Cohort {self.code}>"


class Enrollment(db.Model):
    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("trainees.id", ondelete="CASCADE"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enrolled_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    cohort: Mapped[Cohort] = relationship(back_populates="enrollments")
    trainee: Mapped[Trainee] = relationship(back_populates="enrollments")

    __table_args__ = (sa.UniqueConstraint("cohort_id", "trainee_id"),)


class TrainingSession(db.Model):
    """One planned class of a cohort on one module. Named so as not to be confused with db.session."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # Self check-in: opened by a trainer; codes rotate from this secret (see checkin.rules).
    checkin_secret: Mapped[Optional[str]] = mapped_column(sa.String(64))
    checkin_opened_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    checkin_late_after_minutes: Mapped[int] = mapped_column(default=15, server_default="15")

    cohort: Mapped[Cohort] = relationship(back_populates="sessions")
    module: Mapped[Module] = relationship()
    attendance: WriteOnlyMapped["Attendance"] = relationship(back_populates="session", passive_deletes=True)

    __table_args__ = (
        sa.CheckConstraint("hours > 0", name="hours_positive"),
        # Lets a join from attendance find each session's cohort from the index alone (PostgreSQL
        # otherwise scans every session to compute one trainee's progress).
        sa.Index("ix_sessions_id_cohort_id", "id", "cohort_id"),
    )


class Attendance(db.Model):
    """One trainee's status at one session. A second save updates this row; it never adds one."""

    __tablename__ = "attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("sessions.id", ondelete="CASCADE"))
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("trainees.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10))
    # "manual" when a trainer set it, "checkin" when the trainee checked in: a check-in never
    # overwrites a status a trainer set by hand.
    source: Mapped[str] = mapped_column(sa.String(10), default="manual", server_default="manual")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    session: Mapped[TrainingSession] = relationship(back_populates="attendance")
    recorded_by: Mapped[Optional["User"]] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("session_id", "trainee_id"),
        one_of("status", ATTENDANCE_STATUSES, "status_known"),
    )


class ModuleResult(db.Model):
    """A trainee's result in one module within a cohort. Recording it again updates it."""

    __tablename__ = "module_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("trainees.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id", ondelete="RESTRICT"))
    passed: Mapped[bool]
    score: Mapped[Optional[Decimal]] = mapped_column(sa.Numeric(5, 2))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    module: Mapped[Module] = relationship()
    recorded_by: Mapped[Optional["User"]] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("cohort_id", "trainee_id", "module_id"),
        sa.CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
    )


class CohortAttendanceTotal(db.Model):
    """A cohort's attendance totals, kept up to date as attendance is written, so that figures over
    many cohorts never scan raw attendance. skills.operations is the only writer; a test proves the
    totals equal a sum over the raw rows after any sequence of writes."""

    __tablename__ = "cohort_attendance_totals"

    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True)
    attended: Mapped[int] = mapped_column(default=0)
    counted: Mapped[int] = mapped_column(default=0)


class Recognition(db.Model):
    """Recognition of prior learning: an admin records that a trainee has a module's learning from elsewhere
    (another programme, a university course). While not withdrawn, the module counts as passed, and its
    attendance as met, for every track that contains it. Withdrawing keeps the row (certificates issued on
    it say so); only one recognition per trainee and module is in force at a time."""

    __tablename__ = "recognitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("trainees.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id", ondelete="RESTRICT"))
    reason: Mapped[str] = mapped_column(sa.String(500))
    evidence: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    module: Mapped[Module] = relationship()
    recorded_by: Mapped[Optional["User"]] = relationship(foreign_keys=[recorded_by_id])

    __table_args__ = (
        # One recognition in force per trainee and module (withdrawn ones stay as history).
        sa.Index("uq_recognitions_in_force", "trainee_id", "module_id", unique=True,
                 sqlite_where=sa.text("withdrawn_at IS NULL"), postgresql_where=sa.text("withdrawn_at IS NULL")),
    )
