"""What a verifier learns: exactly one status, and the few facts printed on the certificate.

Verification is the public, hot path (every scan of a QR code), so it reads the registry with one Core
SELECT of the columns it shows — the certificate with the content certified at issue, and its replacement's
serial — into plain frozen records, without building ORM objects. What it shows of the track, its modules
and the issuer is that certified content, never today's catalogue. Nothing is cached: a revocation or a
replacement shows on the very next check, on every instance.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from certificates import keys
from certificates.models import Certificate, token_issued
from certificates.operations import count_verification
from certificates.rules import SERIAL_RE, Certified, certificate_status
from certificates.signing import InvalidToken, codes_match, read_token
from common import clock
from common.extensions import db

# "mismatch": a typed serial exists but the code typed with it is not its code (most likely a typing slip).
STATUSES = ("valid", "revoked", "expired", "superseded", "invalid", "mismatch", "not_found")


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
    track: Certified  # what it states: track, modules, hours, issuer, as certified at issue

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
        return {"invalid": 400, "mismatch": 404, "not_found": 404}.get(self.status, 200)


_certificates = Certificate.__table__
_replacements = _certificates.alias("replacement")
# Built once: SQLAlchemy then finds its compiled form by cache key on every call.
_FACTS = (
    sa.select(_certificates.c.id, _certificates.c.serial, _certificates.c.token,
              _certificates.c.verification_code, _certificates.c.holder, _certificates.c.holder_ar,
              _certificates.c.holder_tfng, _certificates.c.issued_on, _certificates.c.expires_on,
              _certificates.c.revoked_at, _certificates.c.superseded_at, _certificates.c.purged_at,
              _certificates.c.certified, _replacements.c.serial.label("superseded_by"))
    .select_from(_certificates)
    .outerjoin(_replacements, _replacements.c.id == _certificates.c.superseded_by_id)
)
_BY_SERIAL = _FACTS.where(_certificates.c.serial == sa.bindparam("serial"))
# An uploaded file: the signed original, or the REVOKED copy served after a revocation.
_BY_PDF_DIGEST = _FACTS.where(sa.or_(_certificates.c.pdf_sha256 == sa.bindparam("digest"),
                                     _certificates.c.revoked_pdf_sha256 == sa.bindparam("digest")))


def _facts(statement: sa.Select, **params: str) -> CertificateFacts | None:
    # A connection of its own rather than the ORM session: a read that needs no unit of work, and
    # about half the cost per call.
    with db.engine.connect() as connection:
        row = connection.execute(statement, params).first()
    if row is None:
        return None
    return CertificateFacts(
        id=row.id, serial=row.serial, token=row.token, verification_code=row.verification_code,
        holder=row.holder, holder_ar=row.holder_ar, holder_tfng=row.holder_tfng, issued_on=row.issued_on,
        expires_on=row.expires_on, revoked_at=row.revoked_at, superseded_at=row.superseded_at,
        superseded_by=row.superseded_by, purged_at=row.purged_at, track=Certified.from_record(row.certified))


def certificate_facts(serial: str) -> CertificateFacts | None:
    return _facts(_BY_SERIAL, serial=serial)


def _judge(certificate: CertificateFacts | None, counted: bool) -> Verdict:
    if certificate is None:
        return Verdict("not_found")
    flushed = count_verification(certificate.id) if counted else False
    return Verdict(certificate.status_on(clock.today()), certificate, counts_to_commit=flushed)


def verify_token(token: str, *, counted: bool = True) -> Verdict:
    """Check the signature offline first, then the registry for revocation and replacement. A token
    that verifies but differs from the one recorded for its serial is not ours: invalid. `counted`: the
    check adds to the certificate's count of checks (a HEAD request, which reads no verdict, does not)."""
    try:
        claims = read_token(token, keys.keystore().public_keys())
    except InvalidToken:
        return Verdict("invalid")
    certificate = certificate_facts(claims.serial)
    if certificate is not None and not certificate.issued_with(token):
        return Verdict("invalid")
    return _judge(certificate, counted)


def verify_code(serial: str, code: str, *, counted: bool = True) -> Verdict:
    """The serial and short code printed under the QR code, typed by a person (`counted`: as verify_token)."""
    serial = (serial or "").strip().upper()
    if not SERIAL_RE.match(serial):
        return Verdict("not_found")
    certificate = certificate_facts(serial)
    if certificate is not None and not codes_match(certificate.verification_code, code or ""):
        return Verdict("mismatch")
    return _judge(certificate, counted)


def verify_original_pdf(content: bytes) -> Verdict | None:
    """The verdict on the certificate whose signed original is exactly this file; None if there is none.
    Checking a file is not counted as a verification of the certificate."""
    certificate = _facts(_BY_PDF_DIGEST, digest=hashlib.sha256(content).hexdigest())
    return Verdict(certificate.status_on(clock.today()), certificate) if certificate else None
