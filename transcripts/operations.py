"""Issuing a transcript: freeze what it states, sign it, render and sign its PDF. Flushes, never commits."""
from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

from accounts.models import User
from audit.operations import record as audit
from certificates import keys
from certificates.operations import allocate_serial
from certificates.signing import verification_code
from common import clock
from common.database import lock_row
from common.errors import Conflict
from common.extensions import db
from skills.models import Trainee
from transcripts import queries, rules
from transcripts.models import Transcript, TranscriptSerialCounter
from transcripts.pdf import Issue, render_transcript


# What the PDF signature states (the certificates' signer would say "Certificat délivré…").
SIGNATURE_REASON = "Relevé de formation délivré par le programme national Kafaa"


def current_record(trainee: Trainee) -> dict[str, Any]:
    """What the trainee's transcript states today, from the registry as it is now."""
    occurrences = [
        rules.Passed(m.code, {"fr": m.title_fr, "ar": m.title_ar, "en": m.title_en}, m.hours, at, rules.COHORT,
                     cohort, track)
        for at, m, cohort, track in db.session.execute(queries.passing_results(trainee.id))]
    occurrences += [
        rules.Passed(m.code, {"fr": m.title_fr, "ar": m.title_ar, "en": m.title_en}, m.hours, at, rules.RECOGNITION)
        for at, m in db.session.execute(queries.recognitions_in_force(trainee.id))]
    today = clock.today()
    # A certificate states its track as certified at issue, so a later catalogue edit does not show here either.
    certificates = [
        rules.certificate_line(serial=c.serial, track=c.content.code, titles=c.content.titles,
                               status=c.status_on(today), issued_on=c.issued_on, expires_on=c.expires_on)
        for c in db.session.scalars(queries.certificates_of(trainee.id))]
    config = current_app.config
    return rules.record(holder=(trainee.name, trainee.name_ar, trainee.name_tfng), occurrences=occurrences,
                        certificates=certificates,
                        issuer={"fr": config["ISSUER_NAME"], "ar": config.get("ISSUER_NAME_AR") or ""})


def transcript_url(serial: str, code: str) -> str:
    """The public page a transcript's QR code opens."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}/t/{serial}/{code}"


def issue_transcript(actor: User | None, trainee: Trainee) -> tuple[Transcript, bool]:
    """Issue the trainee's transcript as it stands now; returns (transcript, created).

    Idempotent per day and content: asking again the same day, with nothing changed, returns the one issued,
    so a trainee clicking the button again and again adds no row. A new result, recognition, certificate
    status or name changes the content, and the next request issues a new transcript; earlier ones keep
    what they stated."""
    lock_row(trainee)  # two clicks at once: the second waits, then finds the first's transcript
    if trainee.purged_at is not None:
        raise Conflict(_l("The personal data of trainee %(id)s was deleted at the end of its retention period: "
                          "no transcript can be issued.", id=trainee.id))
    content = current_record(trainee)
    content_sha256 = rules.digest(content)
    today = clock.today()
    existing = queries.issued_today(trainee.id, today, content_sha256)
    if existing is not None:
        return existing, False
    serial = allocate_serial(today.year, TranscriptSerialCounter, rules.SERIAL_PREFIX)
    kid, signature = keys.keystore().sign(rules.signed_payload(serial, content_sha256))
    code = verification_code(signature)
    pdf = keys.pdf_signer().sign(render_transcript(content, Issue(
        serial=serial, issued_on=today, verify_url=transcript_url(serial, code), verification_code=code,
        domain=urlsplit(current_app.config["BASE_URL"]).netloc)), reason=SIGNATURE_REASON)
    transcript = Transcript(
        serial=serial, trainee_id=trainee.id, issued_on=today, issued_by_id=getattr(actor, "id", None),
        content=content, content_sha256=content_sha256, kid=kid,
        signature=base64.urlsafe_b64encode(signature).decode("ascii"), verification_code=code, pdf=pdf,
        pdf_sha256=hashlib.sha256(pdf).hexdigest())
    db.session.add(transcript)
    db.session.flush()
    audit(actor, "transcript.issue", "transcript", serial, after={
        "trainee_id": trainee.id, "modules": len(content["modules"]), "total_hours": content["total_hours"]})
    return transcript, True
