"""Issuing, reissuing, renewing and revoking certificates. Like every operation, these flush and never
commit; the caller commits once."""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import Counter
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from accounts.models import User
from audit.operations import record as audit
from certificates import keys, notifications
from certificates.models import Certificate, CertificateFile, RetiredStatusIndex, SerialCounter, VerificationCount
from certificates.pdf import CertificateContent, render_certificate
from certificates.rules import SERIAL_PREFIX, Certified, expiry, format_serial, status_list_size
from certificates.signing import make_token, verification_code, verify_url
from common import clock, validation as v
from common.database import insert_or_update, lock_row
from common.errors import Conflict, DomainError, FieldErrors, NotFound, ValidationFailed
from common.extensions import db
from common.types import utcnow
from skills import queries as skill_queries
from skills.models import Track, Trainee
from skills.rules import Eligibility
from skills.serializers import missing_requirements


class NotEligible(DomainError):
    status = 422
    title = _l("The trainee does not meet the track's requirements yet.")

    def __init__(self, missing: list[dict[str, Any]]):
        self.missing = missing
        super().__init__(fields={"requirements": [m["message"] for m in missing]},
                         extra={"missing": [{**m, "message": str(m["message"])} for m in missing]})


def standing(trainee: Trainee, track: Track) -> Eligibility:
    """Where the trainee stands for the track: the registry's one eligibility rule."""
    return skill_queries.track_eligibility(track, [trainee.id])[trainee.id]


def unmet_requirements(trainee: Trainee, track: Track, known: Eligibility | None = None) -> list[dict[str, Any]]:
    """What the trainee still lacks (prerequisites, modules, attendance), each with its message."""
    return missing_requirements(known or standing(trainee, track))


def unreplaced_certificates(trainee_id: int, track_id: int) -> tuple[Certificate | None, Certificate | None]:
    """(current, revoked) of the trainee's certificates of the track that nothing replaced, in one statement:
    the current one (not revoked), and the latest revoked one, which blocks routine issues."""
    unreplaced = db.session.scalars(sa.select(Certificate).where(
        Certificate.trainee_id == trainee_id, Certificate.track_id == track_id, Certificate.superseded_at.is_(None))
        .order_by(Certificate.id.desc())).all()
    return (next((c for c in unreplaced if c.revoked_at is None), None),
            next((c for c in unreplaced if c.revoked_at is not None), None))


def current_certificate(trainee_id: int, track_id: int) -> Certificate | None:
    return unreplaced_certificates(trainee_id, track_id)[0]


def allocate_serial(year: int, counter: type = SerialCounter, prefix: str = SERIAL_PREFIX) -> str:
    """The next serial of the year (`counter` and `prefix`: another series, such as transcripts'). The UPDATE
    ... RETURNING holds the counter row until commit, so concurrent issuers on PostgreSQL queue up instead of
    sharing a number; a rollback gives it back. The year's row is made by its first serial only: every
    later one takes a single statement."""
    take = sa.update(counter).where(counter.year == year).values(last=counter.last + 1).returning(counter.last)
    number = db.session.execute(take).scalar_one_or_none()
    if number is None:  # the year's first serial (a concurrent first one inserts nothing and queues behind it)
        db.session.execute(insert_or_update(counter).values(year=year, last=0).on_conflict_do_nothing())
        number = db.session.execute(take).scalar_one()
    return format_serial(year, number, prefix)


class RevokedCertificate(Conflict):
    """A routine issue (single, bulk, command, job) met a revoked certificate of the same trainee and track."""

    title = _l("This trainee's certificate of this track was revoked.")

    def __init__(self, certificate: Certificate):
        self.serial = certificate.serial
        super().__init__(_l("Certificate %(serial)s of this trainee and track was revoked: no new certificate is "
                            "issued over it. If the revocation was a mistake, an admin can lift it, giving a reason.",
                            serial=certificate.serial), extra={"revoked": certificate.serial})


def _titles(obj) -> dict[str, str]:
    return {"fr": obj.title_fr, "ar": obj.title_ar, "en": obj.title_en}


def certified_record(track: Track, recognised: tuple[str, ...] = ()) -> dict[str, Any]:
    """What a certificate of this track states if issued now, from today's catalogue and configuration:
    `recognised` are the modules the holder has through a recognition of prior learning (said as such), and
    the tracks it requires are named ("builds on")."""
    config = current_app.config
    return Certified.record(
        code=track.code, titles={**_titles(track), "zgh": track.title_zgh},
        modules=[(m.code, _titles(m), m.hours) for m in track.modules],
        min_attendance=track.min_attendance,
        issuer={"fr": config["ISSUER_NAME"], "ar": config.get("ISSUER_NAME_AR") or ""},
        recognised=recognised, builds_on=[(t.code, _titles(t)) for t in track.requires])


def certificate_content(certificate: Certificate, url: str) -> CertificateContent:
    """What the PDF draws: the holder's names and dates, and the content certified at issue."""
    config = current_app.config
    content = Certified.from_record(certificate.certified)
    return CertificateContent(
        serial=certificate.serial, holder=certificate.holder, holder_ar=certificate.holder_ar,
        holder_tfng=certificate.holder_tfng, track_title_fr=content.title("fr"), track_title_ar=content.title("ar"),
        track_title_zgh=content.titles.get("zgh"),
        modules=[(m.title("fr"), m.title("ar"), float(m.hours)) for m in content.modules],
        recognised=[m.recognised for m in content.modules],
        builds_on=[(titles.get("fr") or code, titles.get("ar") or code) for code, titles in content.builds_on],
        issued_on=certificate.issued_on, expires_on=certificate.expires_on, verify_url=url,
        verification_code=certificate.verification_code, issuer_name=content.issuer_name("fr"),
        issuer_name_ar=content.issuer.get("ar", ""), domain=urlsplit(config["BASE_URL"]).netloc)


def draw_status_index() -> int:
    """A random status list index never used before (by a certificate, or retired by a reinstatement)."""
    # The highest id bounds how many certificates exist (one index lookup, where a count would scan).
    taken = db.session.scalar(sa.select(  # one statement: the two subqueries
        sa.func.coalesce(sa.select(sa.func.max(Certificate.id)).scalar_subquery(), 0)
        + sa.select(sa.func.count()).select_from(RetiredStatusIndex).scalar_subquery()))
    size = status_list_size(taken + 1)
    while True:
        index = secrets.randbelow(size)
        used = db.session.scalar(sa.select(
            sa.exists().where(Certificate.status_index == index)
            | sa.exists().where(RetiredStatusIndex.status_index == index)))
        if not used:
            return index


def revoked_certificate(trainee_id: int, track_id: int) -> Certificate | None:
    """The trainee's revoked certificate of the track that nothing replaced, if any: it blocks routine issues."""
    return unreplaced_certificates(trainee_id, track_id)[1]


def render_pdf(certificate: Certificate, *, revoked: bool = False) -> bytes:
    """A freshly rendered and signed PDF (the revoked copy carries a visible mark)."""
    url = verify_url(current_app.config["BASE_URL"], certificate.token)
    return keys.pdf_signer().sign(render_certificate(certificate_content(certificate, url), revoked=revoked))


def downloadable_pdf(certificate: Certificate) -> bytes:
    """The signed original as issued; a revoked certificate comes as its REVOKED copy instead, rendered once
    at revocation and kept, so the copy someone uploads to /verify is recognised. (A certificate revoked
    before copies were kept gets a fresh one each time, until `flask certificates keep-revoked-copies`.)"""
    if certificate.purged_at is not None:
        raise NotFound(_l("This certificate's file was deleted with its holder's personal data, at the end "
                          "of the retention period."))
    if certificate.revoked_at is not None:
        kept = db.session.scalar(sa.select(CertificateFile.revoked_content).where(
            CertificateFile.certificate_id == certificate.id))
        return kept if kept is not None else render_pdf(certificate, revoked=True)
    return db.session.scalar(sa.select(CertificateFile.content).where(
        CertificateFile.certificate_id == certificate.id))


def keep_revoked_copy(certificate: Certificate) -> None:
    """Render the certificate's REVOKED copy once, keep it and record its SHA-256 (at revocation)."""
    pdf = render_pdf(certificate, revoked=True)
    db.session.execute(sa.update(CertificateFile).where(CertificateFile.certificate_id == certificate.id)
                       .values(revoked_content=pdf))
    certificate.revoked_pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    db.session.flush()


def keep_missing_revoked_copies() -> int:
    """Keep a REVOKED copy for every revoked certificate that has none (revoked before copies were kept)."""
    missing = db.session.scalars(sa.select(Certificate).where(
        Certificate.revoked_at.is_not(None), Certificate.revoked_pdf_sha256.is_(None),
        Certificate.purged_at.is_(None))).all()
    for certificate in missing:
        keep_revoked_copy(certificate)
    return len(missing)


def issue_certificate(actor: User | None, trainee: Trainee, track: Track, *,
                      replacing: Certificate | None = None, known_eligible: bool = False,
                      dates: tuple[date, date | None] | None = None,
                      certified: dict[str, Any] | None = None,
                      known: Eligibility | None = None, notify: bool = True) -> tuple[Certificate, bool]:
    """Issue the trainee's certificate of a track. Returns (certificate, created).

    A trainee who already holds a valid one gets it back (created False), so bulk runs can be repeated.
    An expired one is renewed. `replacing` reissues (a corrected name, a renewal): the old certificate
    then verifies as superseded by the new serial. `known_eligible` skips the check for a caller that
    has just made it for many trainees at once (bulk issuance), which passes what it found as `known` (the
    record then names the recognised modules without asking again). `dates` (issued, expires) keeps those of
    the certificate a correction replaces; by default it is issued today. `certified` is the content it
    states (a correction carries the replaced certificate's over); by default, today's catalogue. A new
    certificate is mailed to its holder (notifications) unless `notify` is False (a correction: its
    approval's own mail tells).

    A revoked certificate of the same trainee and track that nothing replaced stops every routine issue
    (RevokedCertificate): only an admin lifting the revocation (reinstate_certificate) undoes it.
    """
    # Requests for the same trainee (two instances, a double click) queue here, so the later one finds the
    # certificate the earlier one issued instead of tripping the one-current-certificate index (a 500).
    lock_row(trainee)
    if trainee.purged_at is not None:
        raise Conflict(_l("The personal data of trainee %(id)s was deleted at the end of its retention period: "
                          "no certificate can be issued to them.", id=trainee.id))
    current, revoked = unreplaced_certificates(trainee.id, track.id)
    if replacing is None and current is not None:
        if current.status_on(clock.today()) == "valid":
            return current, False
        replacing = current  # expired: renewal
    if replacing is None and revoked is not None:
        raise RevokedCertificate(revoked)
    if certified is None and known is None:
        known = standing(trainee, track)  # what the record states: the modules recognised
    missing = [] if known_eligible else unmet_requirements(trainee, track, known)
    if missing:
        raise NotEligible(missing)

    today = clock.today()
    issued_on, expires_on = dates or (today, expiry(today, track.validity_months))
    if replacing is not None:
        replacing.superseded_at = utcnow()
        db.session.flush()
    serial = allocate_serial(today.year)
    token, claims = make_token(keys.keystore(), serial=serial, holder=trainee.name, holder_ar=trainee.name_ar,
                               holder_tfng=trainee.name_tfng, track=track.code, issued_on=issued_on,
                               expires_on=expires_on)
    cohort_id = db.session.scalar(skill_queries.latest_cohort_of(trainee.id, track.id))
    certificate = Certificate(
        serial=serial, trainee=trainee, track=track, cohort_id=cohort_id, holder=claims.holder, holder_ar=claims.holder_ar,
        holder_tfng=claims.holder_tfng, issued_on=claims.issued_on, expires_on=claims.expires_on, kid=claims.kid,
        token=token, verification_code=verification_code(token), issued_by_id=getattr(actor, "id", None),
        pdf_sha256="", status_index=draw_status_index(),
        certified=certified or certified_record(track, known.modules_recognised if known else ()))
    pdf = render_pdf(certificate)
    certificate.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    certificate.pdf = CertificateFile(content=pdf)
    db.session.add(certificate)
    db.session.flush()
    if replacing is not None:
        replacing.superseded_by_id = certificate.id
    audit(actor, "certificate.issue", "certificate", serial, after={
        "trainee_id": trainee.id, "track": track.code, "expires_on": claims.expires_on and claims.expires_on.isoformat(),
        "replaces": replacing.serial if replacing else None})
    if notify:
        notifications.issued(certificate, replacing)
    return certificate, True


def lock_current(certificate: Certificate) -> None:
    """Decide once about a current certificate (reissue): lock its holder, then the certificate itself, read
    it again and refuse it once revoked or superseded. Of eight reissues at once, the first makes the new
    certificate; the others wait here, then find this one superseded (409), never a second current one.
    The holder comes first, as in issue_certificate and a correction's approval (which updates the trainee
    before reissuing), so two decisions never wait on each other in opposite orders."""
    lock_row(certificate.trainee)
    lock_row(certificate)
    if certificate.revoked_at is not None or certificate.superseded_at is not None:
        raise Conflict(_l("Only the current certificate can be reissued; %(serial)s is not.",
                          serial=certificate.serial))


def lock_unrevoked(certificate: Certificate) -> None:
    """Decide once about revoking: lock the certificate, read it again, refuse it when already revoked. Of
    two revocations at once, the later one sees the first and is refused, rather than overwrite its reason
    and audit a second revocation."""
    lock_row(certificate)
    if certificate.revoked_at is not None:
        raise Conflict(_l("Certificate %(serial)s is already revoked.", serial=certificate.serial))


def reissue_certificate(actor: User, certificate: Certificate, *, correction: bool = False) -> Certificate:
    """Reissue from the trainee's current record. A renewal checks eligibility again and gives new dates.
    A correction (an admin approved a corrected name) certifies the same achievement: it keeps the dates,
    so it can never extend a certificate, and needs no new eligibility check."""
    lock_current(certificate)
    dates = (certificate.issued_on, certificate.expires_on) if correction else None
    new, _ = issue_certificate(actor, certificate.trainee, certificate.track, replacing=certificate,
                               known_eligible=correction, dates=dates,
                               certified=certificate.certified if correction else None, notify=not correction)
    return new


def revoke_certificate(actor: User, certificate: Certificate, reason: Any, message: Any = None) -> Certificate:
    """Revoke, for `reason` (internal: admins see it) and tell the holder, in `message` as the admin words it
    for them (optional: else a neutral wording, notifications.NEUTRAL_REVOCATION_MESSAGE)."""
    errors = FieldErrors()
    if not isinstance(reason, str) or not reason.strip():
        errors.add("reason", _l("Say why the certificate is revoked."))
    elif len(reason) > 500:
        errors.add("reason", _l("At most %(max)d characters.", max=500))
    message = v.text(errors, "message", message, max_length=500, required=False)
    errors.raise_if_any()
    lock_unrevoked(certificate)
    certificate.revoked_at = utcnow()
    certificate.revocation_reason = reason.strip()
    certificate.revocation_message = message or None
    certificate.revoked_by_id = actor.id
    db.session.flush()
    if certificate.purged_at is None and certificate.revoked_pdf_sha256 is None:
        keep_revoked_copy(certificate)
    audit(actor, "certificate.revoke", "certificate", certificate.serial,
          after={"reason": certificate.revocation_reason, "message": certificate.revocation_message})
    notifications.revoked(certificate)
    return certificate


def reinstate_certificate(actor: User, certificate: Certificate, reason: Any) -> Certificate:
    """Lift a revocation (a mistaken one): an explicit admin act with its reason, audited. The certificate is
    current again. Its status list index keeps its revocation bit for ever (Bitstring Status List: a revocation
    is not reversible) and the certificate gets a new one: credentials fetched from now on carry it."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed.single("reason", _l("Say why the revocation is lifted."))
    if len(reason) > 500:
        raise ValidationFailed.single("reason", _l("At most %(max)d characters.", max=500))
    db.session.refresh(certificate, with_for_update=True)
    if certificate.revoked_at is None:
        raise Conflict(_l("Certificate %(serial)s is not revoked.", serial=certificate.serial))
    if certificate.superseded_at is not None:
        raise Conflict(_l("Certificate %(serial)s was replaced: only the current certificate can be reinstated.",
                          serial=certificate.serial))
    other = current_certificate(certificate.trainee_id, certificate.track_id)
    if other is not None:
        raise Conflict(_l("The trainee holds certificate %(serial)s of this track already.", serial=other.serial))
    before = {"revoked_at": certificate.revoked_at.isoformat(), "revocation_reason": certificate.revocation_reason,
              "revocation_message": certificate.revocation_message}
    db.session.add(RetiredStatusIndex(status_index=certificate.status_index))
    db.session.flush()
    certificate.status_index = draw_status_index()
    certificate.revoked_at = None
    certificate.revocation_reason = None
    certificate.revocation_message = None
    certificate.revoked_by_id = None
    db.session.flush()
    audit(actor, "certificate.reinstate", "certificate", certificate.serial, before=before,
          after={"reason": reason.strip()})
    return certificate


class VerificationCounter:
    """Verification counts, buffered per process and written at most every VERIFICATION_FLUSH_SECONDS:
    a check is a read, and a write per read would make verification as slow as the disk. Pending counts
    are written at exit; a crash loses at most those few seconds of counts, never a verdict."""

    def __init__(self) -> None:
        self._pending: Counter[tuple[int, date]] = Counter()
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()

    def add(self, certificate_id: int) -> bool:
        """Count one check; True when the pending counts were just added to the session (commit them)."""
        with self._lock:
            self._pending[(certificate_id, clock.today())] += 1
        if time.monotonic() - self._last_flush >= current_app.config["VERIFICATION_FLUSH_SECONDS"]:
            self.flush()
            return True
        return False

    def flush(self) -> None:
        """Add the pending counts to the current transaction (the caller commits)."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
            self._last_flush = time.monotonic()
        for (certificate_id, day), count in pending.items():
            statement = insert_or_update(VerificationCount).values(certificate_id=certificate_id, day=day, count=count)
            db.session.execute(statement.on_conflict_do_update(
                index_elements=["certificate_id", "day"], set_={"count": VerificationCount.count + count}))


verification_counter = VerificationCounter()


def count_verification(certificate_id: int) -> bool:
    """One more check of this certificate today (nothing about the visitor is kept); True when counts
    were added to the session and the caller must commit."""
    return verification_counter.add(certificate_id)
