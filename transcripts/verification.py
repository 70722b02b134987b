"""What the public page says about a transcript: issued as shown, removed (holder purged), or not found."""
from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature

from certificates import keys
from certificates.signing import codes_match
from transcripts import queries, rules
from transcripts.models import Transcript


@dataclass(frozen=True)
class Verdict:
    status: str  # "issued", "removed", "altered" or "not_found"
    transcript: Transcript | None = None

    @property
    def http_status(self) -> int:
        return {"issued": 200, "removed": 410, "altered": 409}.get(self.status, 404)


def _signature_holds(transcript: Transcript) -> bool:
    """The stored content is the one signed at issue (a row edited in the database would not be)."""
    key = keys.keystore().public_keys().get(transcript.kid)
    if key is None:
        return False
    try:
        key.verify(base64.urlsafe_b64decode(transcript.signature),
                   rules.signed_payload(transcript.serial, rules.digest(transcript.content)))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify(serial: str, code: str) -> Verdict:
    """A wrong code answers exactly as an unknown serial, so the page says nothing about which serials exist."""
    transcript = queries.transcript_by_serial(serial) if rules.SERIAL_RE.match(serial) else None
    if transcript is None or not codes_match(transcript.verification_code, code[:20]):
        return Verdict("not_found")
    if transcript.purged_at is not None:
        return Verdict("removed", transcript)
    if not _signature_holds(transcript):
        return Verdict("altered", transcript)
    return Verdict("issued", transcript)
