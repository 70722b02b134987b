"""Transcripts as issued: the content frozen at issue, its signature and the signed PDF."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from common.extensions import db
from common.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from skills.models import Trainee


class Transcript(db.Model):
    """A transcript as issued. `content` is what it states (transcripts.rules.record), never recomputed: a later
    result, recognition or catalogue edit changes only transcripts issued afterwards."""

    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(20), unique=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("trainees.id", ondelete="RESTRICT"), index=True)
    issued_on: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    content: Mapped[dict] = mapped_column(sa.JSON)
    # SHA-256 of the canonical content: issuing the same content again the same day returns this transcript.
    content_sha256: Mapped[str] = mapped_column(sa.String(64))
    # Ed25519 (issuer key `kid`) over the serial and content_sha256; the verification code derives from it.
    kid: Mapped[str] = mapped_column(sa.String(16))
    signature: Mapped[str] = mapped_column(sa.String(128))
    verification_code: Mapped[str] = mapped_column(sa.String(9))
    pdf: Mapped[Optional[bytes]] = deferred(mapped_column(sa.LargeBinary))
    pdf_sha256: Mapped[str] = mapped_column(sa.String(64))
    # Set when the holder's personal data was purged: content and PDF are gone, the page says so.
    purged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    trainee: Mapped["Trainee"] = relationship()

    __table_args__ = (sa.Index("ix_transcripts_trainee_day", "trainee_id", "issued_on", "content_sha256"),)


class TranscriptSerialCounter(db.Model):
    """The last transcript serial number of a year (KT-YEAR-NNNNNN), apart from the certificates' numbers."""

    __tablename__ = "transcript_serial_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)
