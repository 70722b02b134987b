"""What a verifier learns: exactly one status, and the few facts printed on the certificate.

Verification is the public, hot path (every scan of a QR code), so it reads the registry with one Core
SELECT of the columns it shows — certificate, replacement serial, track and modules joined, one row per
module — into plain frozen records, without building ORM objects. Nothing is cached: a revocation or a
replacement shows on the very next check, on every instance.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from certificates import keys
from certificates.models import Certificate, token_issued
from certificates.operations import count_verification
from certificates.rules import SERIAL_RE, certificate_status
from certificates.signing import InvalidToken, codes_match, read_token
from common import clock
from common.extensions import db
from skills.models import Module, Track, track_modules

STATUSES = ("valid", "revoked", "expired", "superseded", "invalid", "not_found")


def _title(titles: tuple[str, str, str], locale: str) -> str:
    title_fr, title_ar, title_en = titles
    return {"ar": title_ar, "en": title_en}.get(locale, title_fr)


@dataclass(frozen=True)
class ModuleFacts:
    code: str
    titles: tuple[str, str, str]  # fr, ar, en
    hours: Decimal

    def title(self, locale: str) -> str:
        return _title(self.titles, locale)


@dataclass(frozen=True)
class TrackFacts:
    code: str
    titles: tuple[str, str, str]  # fr, ar, en
    modules: tuple[ModuleFacts, ...]

    def title(self, locale: str) -> str:
        return _title(self.titles, locale)


@dataclass(frozen=True)
class CertificateFacts:
    """A certificate as a verifier sees it (no email, employer, identifier or score)."""

    id: int
    serial: str
    token: str
    verification_code: str
    holder: str
    holder_ar: str
    holder_tfng: str | None
    issued_on: date
    expires_on: date | None
    revoked_at: datetime | None
    superseded_at: datetime | None
    superseded_by: str | None  # the replacement's serial
    purged_at: datetime | None  # the holder's personal data was deleted at the end of its retention period
    track: TrackFacts

    def issued_with(self, token: str) -> bool:
        return token_issued(self.token, self.purged_at, token)

    def status_on(self, day: date) -> str:
        return certificate_status(self.revoked_at, self.superseded_at, self.expires_on, day)


@dataclass(frozen=True)
class Verdict:
    status: str
    certificate: CertificateFacts | None = None
    counts_to_commit: bool = False  # buffered verification counts were added to the session

    @property
    def http_status(self) -> int:
        return {"invalid": 400, "not_found": 404}.get(self.status, 200)


_certificates = Certificate.__table__
_replacements = _certificates.alias("replacement")
_tracks, _modules = Track.__table__, Module.__table__
# Built once: SQLAlchemy then finds its compiled form by cache key on every call.
_FACTS = (
    sa.select(_certificates.c.id, _certificates.c.serial, _certificates.c.token,
              _certificates.c.verification_code, _certificates.c.holder, _certificates.c.holder_ar,
              _certificates.c.holder_tfng, _certificates.c.issued_on, _certificates.c.expires_on,
              _certificates.c.revoked_at, _certificates.c.superseded_at, _certificates.c.purged_at,
              _replacements.c.serial.label("superseded_by"),
              _tracks.c.code.label("track_code"), _tracks.c.title_fr.label("track_fr"),
              _tracks.c.title_ar.label("track_ar"), _tracks.c.title_en.label("track_en"),
              _modules.c.code.label("module_code"), _modules.c.title_fr.label("module_fr"),
              _modules.c.title_ar.label("module_ar"), _modules.c.title_en.label("module_en"),
              _modules.c.hours.label("module_hours"))
    .select_from(_certificates)
    .join(_tracks, _tracks.c.id == _certificates.c.track_id)
    .outerjoin(_replacements, _replacements.c.id == _certificates.c.superseded_by_id)
    .outerjoin(track_modules, track_modules.c.track_id == _tracks.c.id)
    .outerjoin(_modules, _modules.c.id == track_modules.c.module_id)
    .order_by(_modules.c.code)
)
_BY_SERIAL = _FACTS.where(_certificates.c.serial == sa.bindparam("serial"))
_BY_PDF_DIGEST = _FACTS.where(_certificates.c.pdf_sha256 == sa.bindparam("digest"))


def _facts(statement: sa.Select, **params: str) -> CertificateFacts | None:
    # A connection of its own rather than the ORM session: a read that needs no unit of work, and
    # about half the cost per call.
    with db.engine.connect() as connection:
        rows = connection.execute(statement, params).all()
    if not rows:
        return None
    first = rows[0]
    modules = tuple(ModuleFacts(r.module_code, (r.module_fr, r.module_ar, r.module_en), r.module_hours)
                    for r in rows if r.module_code is not None and r.id == first.id)
    return CertificateFacts(
        id=first.id, serial=first.serial, token=first.token, verification_code=first.verification_code,
        holder=first.holder, holder_ar=first.holder_ar, holder_tfng=first.holder_tfng, issued_on=first.issued_on,
        expires_on=first.expires_on, revoked_at=first.revoked_at, superseded_at=first.superseded_at,
        superseded_by=first.superseded_by, purged_at=first.purged_at,
        track=TrackFacts(first.track_code, (first.track_fr, first.track_ar, first.track_en), modules))


def certificate_facts(serial: str) -> CertificateFacts | None:
    return _facts(_BY_SERIAL, serial=serial)


def _judge(certificate: CertificateFacts | None) -> Verdict:
    if certificate is None:
        return Verdict("not_found")
    flushed = count_verification(certificate.id)
    return Verdict(certificate.status_on(clock.today()), certificate, counts_to_commit=flushed)


def verify_token(token: str) -> Verdict:
    """Check the signature offline first, then the registry for revocation and replacement. A token
    that verifies but differs from the one recorded for its serial is not ours: invalid."""
    try:
        claims = read_token(token, keys.keystore().public_keys())
    except InvalidToken:
        return Verdict("invalid")
    certificate = certificate_facts(claims.serial)
    if certificate is not None and not certificate.issued_with(token):
        return Verdict("invalid")
    return _judge(certificate)


def verify_code(serial: str, code: str) -> Verdict:
    """The serial and short code printed under the QR code, typed by a person."""
    serial = (serial or "").strip().upper()
    if not SERIAL_RE.match(serial):
        return Verdict("not_found")
    certificate = certificate_facts(serial)
    if certificate is not None and not codes_match(certificate.verification_code, code or ""):
        return Verdict("invalid")
    return _judge(certificate)


def verify_original_pdf(content: bytes) -> Verdict | None:
    """The verdict on the certificate whose signed original is exactly this file; None if there is none.
    Checking a file is not counted as a verification of the certificate."""
    certificate = _facts(_BY_PDF_DIGEST, digest=hashlib.sha256(content).hexdigest())
    return Verdict(certificate.status_on(clock.today()), certificate) if certificate else None
