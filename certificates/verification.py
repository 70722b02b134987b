"""What a verifier learns: exactly one status, and the few facts printed on the certificate."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app import db
from certificates import keys
from certificates.models import Certificate
from skills.models import Track
from certificates.operations import count_verification
from common import clock
from certificates.signing import InvalidToken, codes_match, read_token
from certificates.rules import SERIAL_RE

STATUSES = ("valid", "revoked", "expired", "superseded", "invalid", "not_found")


@dataclass(frozen=True)
class Verdict:
    status: str
    certificate: Certificate | None = None

    @property
    def http_status(self) -> int:
        return {"invalid": 400, "not_found": 404}.get(self.status, 200)


def _with_facts(query: sa.Select) -> sa.Select:
    """Load what the answer shows (track, modules, replacement) in the same round trips."""
    return query.options(joinedload(Certificate.track).selectinload(Track.modules),
                         joinedload(Certificate.superseded_by))


def _judge(certificate: Certificate | None) -> Verdict:
    if certificate is None:
        return Verdict("not_found")
    count_verification(certificate)
    return Verdict(certificate.status_on(clock.today()), certificate)


def verify_token(token: str) -> Verdict:
    """Check the signature offline first, then the registry for revocation and replacement. A token
    that verifies but differs from the one recorded for its serial is not ours: invalid."""
    try:
        claims = read_token(token, keys.keystore().public_keys())
    except InvalidToken:
        return Verdict("invalid")
    certificate = db.session.scalar(_with_facts(sa.select(Certificate).where(Certificate.serial == claims.serial)))
    if certificate is not None and not certificate.issued_with(token):
        return Verdict("invalid")
    return _judge(certificate)


def verify_code(serial: str, code: str) -> Verdict:
    """The serial and short code printed under the QR code, typed by a person."""
    serial = (serial or "").strip().upper()
    if not SERIAL_RE.match(serial):
        return Verdict("not_found")
    certificate = db.session.scalar(_with_facts(sa.select(Certificate).where(Certificate.serial == serial)))
    if certificate is not None and not codes_match(certificate.verification_code, code or ""):
        return Verdict("invalid")
    return _judge(certificate)


def original_pdf(content: bytes) -> Certificate | None:
    """The certificate whose signed original is exactly this file, if any."""
    digest = hashlib.sha256(content).hexdigest()
    return db.session.scalar(sa.select(Certificate).where(Certificate.pdf_sha256 == digest))
