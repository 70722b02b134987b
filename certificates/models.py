"""Certificates as issued: what was signed, the signed PDF, status changes and verification counts."""
from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from certificates.rules import Certified, certificate_status
from common.extensions import db
from common.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from skills.models import Track, Trainee

CURRENT = sa.text("revoked_at IS NULL AND superseded_at IS NULL")


def purged_token(token: str) -> str:
    """What a purged certificate keeps of its signed token (which carries the names): its SHA-256, enough
    to recognise the token on a scanned QR code, not to read it."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def token_issued(stored: str, purged_at: datetime | None, token: str) -> bool:
    """The token presented is the one a certificate was issued with (kept whole, or hashed once its
    holder's data was purged)."""
    return stored == (purged_token(token) if purged_at is not None else token)


# A frozen record that names a recognised module (rules.Certified.record writes `"recognised": true` on it):
# a test on the text, so that it can define the partial index below; readers check the JSON itself after.
NAMES_RECOGNITION = "CAST(certified AS TEXT) LIKE '%\"recognised\"%'"


class Certificate(db.Model):
    """A certificate of a track. Its holder names and dates are the ones signed into its token, kept as
    they were at issue even if the trainee record changes later (a correction reissues)."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(20), unique=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("trainees.id", ondelete="RESTRICT"), index=True)
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("tracks.id", ondelete="RESTRICT"), index=True)
    # The cohort the track was completed in (the latest one, for a trainee who took it twice): its training
    # language and dates feed the governance figures.
    cohort_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="SET NULL"), index=True)
    holder: Mapped[str] = mapped_column(sa.String(200))
    holder_ar: Mapped[str] = mapped_column(sa.String(200))
    holder_tfng: Mapped[Optional[str]] = mapped_column(sa.String(200))
    issued_on: Mapped[date]
    expires_on: Mapped[Optional[date]]
    kid: Mapped[str] = mapped_column(sa.String(16))
    token: Mapped[str] = mapped_column(sa.Text)
    verification_code: Mapped[str] = mapped_column(sa.String(9))
    pdf_sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    issued_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[Optional[str]] = mapped_column(sa.String(500))  # internal: admins only
    # What the holder is told (mail, "My certificates"), as the admin chose to word it; None: a neutral wording.
    revocation_message: Mapped[Optional[str]] = mapped_column(sa.String(500))
    revoked_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # Set before the replacement is inserted, so the one-current-certificate index never sees two.
    superseded_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    superseded_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("certificates.id", ondelete="SET NULL"))
    # Set when the holder's personal data was purged: the names and the PDF are gone, and `token` holds
    # only the SHA-256 of the signed token (see maintenance.retention), which still identifies a scanned QR code.
    purged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # What the certificate states, frozen at issue (see rules.Certified): the track's titles, its modules with
    # their titles and hours, the total, the issuer's name as printed. Pages, credentials and re-rendered PDFs
    # read this, never today's catalogue.
    certified: Mapped[dict] = mapped_column(sa.JSON)
    # Its entry in the Bitstring Status Lists: drawn at random, never reused (see openbadges.draw_status_index).
    status_index: Mapped[int] = mapped_column(unique=True)
    # The REVOKED copy, rendered once at revocation and kept (certificate_files.revoked_content), so that an
    # uploaded copy is recognised like the original.
    revoked_pdf_sha256: Mapped[Optional[str]] = mapped_column(sa.String(64), index=True)

    trainee: Mapped["Trainee"] = relationship()
    track: Mapped["Track"] = relationship()
    superseded_by: Mapped[Optional["Certificate"]] = relationship(remote_side=[id])
    pdf: Mapped["CertificateFile"] = relationship(uselist=False, cascade="all, delete-orphan", lazy="raise")

    __table_args__ = (
        # At most one current (not revoked, not superseded) certificate per trainee and track, enforced by
        # the database so that concurrent issuers cannot both win.
        sa.Index("uq_certificates_current", "trainee_id", "track_id", unique=True,
                 sqlite_where=CURRENT, postgresql_where=CURRENT),
        # Covers every "who counts as trained" figure, so they read the index, not the table.
        sa.Index("ix_certificates_counting", "trainee_id", "track_id", "issued_on", "expires_on", "revoked_at",
                 "superseded_at", "cohort_id"),
        sa.Index("ix_certificates_issued_on", "issued_on"),
        sa.Index("ix_certificates_revoked_at", "revoked_at"),
        # Certificates expiring in a quarter and not revoked, counted from the index alone.
        sa.Index("ix_certificates_expires_on", "expires_on", "revoked_at"),
        # The few certificates that count a module through recognition, for the governance figure of people
        # trained that way: it reads these instead of parsing every record.
        sa.Index("ix_certificates_recognised", "trainee_id", "track_id", "issued_on", "expires_on", "revoked_at",
                 "superseded_at", sqlite_where=sa.text(NAMES_RECOGNITION), postgresql_where=sa.text(NAMES_RECOGNITION)),
    )

    def issued_with(self, token: str) -> bool:
        return token_issued(self.token, self.purged_at, token)

    def status_on(self, day: date) -> str:
        return certificate_status(self.revoked_at, self.superseded_at, self.expires_on, day)

    @property
    def content(self) -> Certified:
        """What this certificate states, as certified at issue."""
        return Certified.from_record(self.certified)


class CertificateFile(db.Model):
    """The signed original PDF, kept so a holder downloads exactly the file whose hash was recorded."""

    __tablename__ = "certificate_files"

    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id", ondelete="CASCADE"),
                                                primary_key=True)
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary))
    revoked_content: Mapped[Optional[bytes]] = deferred(mapped_column(sa.LargeBinary))


class RetiredStatusIndex(db.Model):
    """A status list index no certificate uses any more (its revocation was lifted and the certificate got a
    new one): its revocation bit stays set for ever, and it is never drawn again."""

    __tablename__ = "retired_status_indexes"

    status_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class SerialCounter(db.Model):
    """The last serial number handed out in a year, incremented atomically in the database."""

    __tablename__ = "serial_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class VerificationCount(db.Model):
    """How many times a certificate was checked on a day. No address or visitor detail is kept."""

    __tablename__ = "verification_counts"

    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id", ondelete="CASCADE"),
                                                primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)

    # A quarter's checks summed from the index alone.
    __table_args__ = (sa.Index("ix_verification_counts_day", "day", "count"),)
