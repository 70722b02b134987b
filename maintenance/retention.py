"""Retention: personal data past its period is deleted, anonymous statistics stay.

Kinds of data, each with its period in the configuration:
- outbox mails (RETENTION_OUTBOX_DAYS after they were written): addresses and invitation links;
- API tokens (RETENTION_API_TOKENS_DAYS after they expired): only hashes, but tied to a person;
- people (RETENTION_PERSON_YEARS after their last activity and after their last certificate expired):
  the trainee row is anonymised, not deleted, so every governance figure stays the same. Names, email
  and employer are blanked, and so are the reason and evidence of their recognitions of prior learning; category, sector, region, gender, enrolments, attendance, results and
  certificate rows stay. Their transcripts lose their content and PDF (their public page then says they no
  longer exist). Their correction requests (names and addresses asked for) are deleted. Certificates lose their names and PDF; the signed token (it carries the names)
  is replaced by its SHA-256, so a scanned QR code still finds its certificate, which verifies as
  expired (or revoked, superseded) without names. A linked account is blanked and disabled, not deleted:
  audit entries name it as actor. The before/after values of the audit entries about these people, their
  accounts, certificates and correction requests are erased; the chain links a digest of those values,
  so it still verifies (audit.chain).

- files in EXPORTS_DIR: an uploaded import file (RETENTION_UPLOADS_HOURS after it was kept), anything a
  job wrote, such as a cohort's ZIP of certificate PDFs or a quarterly report (RETENTION_JOB_FILES_DAYS
  after it was written). Their jobs then say the file is gone. Purging people also deletes every ZIP that
  holds one of their certificates, and every kept upload (a file of names, at most a day old: its owner
  sends it again).

Invitation links are not stored (they are signed and expire after INVITATION_MAX_AGE_DAYS): they survive
only in the outbox mails that carried them.
"""
from __future__ import annotations

import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import sqlalchemy as sa
from flask import current_app

from accounts.models import ApiToken, OutboxMessage, User
from audit.operations import erase_personal_values, record as audit
from certificates.models import CURRENT, Certificate, CertificateFile, purged_token
from common import clock
from common.extensions import db
from jobs.models import Job
from privacy.models import CorrectionRequest
from skills.models import Attendance, Cohort, Enrollment, ModuleResult, Recognition, Trainee
from transcripts.models import Transcript

KINDS = ("outbox", "api_tokens", "people", "files")
UPLOADS = "uploads"  # EXPORTS_DIR/uploads: files kept between an import's dry run and the import
BATCH = 500


def person_cutoff(now: datetime) -> datetime:
    years = current_app.config["RETENTION_PERSON_YEARS"]
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def active_since(cutoff: datetime) -> sa.Select:
    """Trainees with any activity at or after the cutoff, or a certificate valid then or still valid."""
    day = cutoff.astimezone(clock.MOROCCO).date()
    return sa.union(
        sa.select(Trainee.id).where(Trainee.updated_at >= cutoff),
        sa.select(Enrollment.trainee_id).where(Enrollment.enrolled_at >= cutoff),
        sa.select(Enrollment.trainee_id).join(Cohort, Cohort.id == Enrollment.cohort_id).where(Cohort.ends_on >= day),
        sa.select(Attendance.trainee_id).where(Attendance.recorded_at >= cutoff),
        sa.select(ModuleResult.trainee_id).where(ModuleResult.recorded_at >= cutoff),
        sa.select(Recognition.trainee_id).where(sa.or_(Recognition.recorded_at >= cutoff,
                                                       Recognition.withdrawn_at >= cutoff)),
        sa.select(User.trainee_id).where(User.trainee_id.is_not(None), User.last_login_at >= cutoff),
        sa.select(CorrectionRequest.trainee_id).where(CorrectionRequest.created_at >= cutoff),
        sa.select(Certificate.trainee_id).where(sa.or_(
            Certificate.issued_on >= day, Certificate.revoked_at >= cutoff,
            sa.and_(CURRENT, sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= day)))),
    )


def expired_people(now: datetime) -> sa.Select:
    """Ids of the trainees whose personal data is past its retention period, not purged yet."""
    return (sa.select(Trainee.id)
            .where(Trainee.purged_at.is_(None), Trainee.id.not_in(active_since(person_cutoff(now))))
            .order_by(Trainee.id))


def _expired_outbox(now: datetime):
    return OutboxMessage.created_at < now - timedelta(days=current_app.config["RETENTION_OUTBOX_DAYS"])


def _expired_tokens(now: datetime):
    return ApiToken.expires_at < now - timedelta(days=current_app.config["RETENTION_API_TOKENS_DAYS"])


def _count(query: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))


def _exports() -> Path:
    return Path(current_app.config["EXPORTS_DIR"])


def _files() -> list[Path]:
    root = _exports()
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def _is_upload(path: Path) -> bool:
    return path.parent == _exports() / UPLOADS


def expired_files(now: datetime) -> list[Path]:
    """Files of EXPORTS_DIR past their retention period (by when they were written)."""
    uploads = (now - timedelta(hours=current_app.config["RETENTION_UPLOADS_HOURS"])).timestamp()
    others = (now - timedelta(days=current_app.config["RETENTION_JOB_FILES_DAYS"])).timestamp()
    return [p for p in _files() if p.stat().st_mtime < (uploads if _is_upload(p) else others)]


def files_naming(serials: set[str]) -> list[Path]:
    """The ZIPs of EXPORTS_DIR holding a PDF of one of these certificates (named SERIAL_holder.pdf), and
    every kept upload."""
    found = []
    for path in _files():
        if _is_upload(path):
            found.append(path)
        elif path.suffix == ".zip" and serials:
            try:
                with zipfile.ZipFile(path) as archive:
                    if any(name.split("_", 1)[0] in serials for name in archive.namelist()):
                        found.append(path)
            except zipfile.BadZipFile:
                continue
    return found


def _delete_files(paths: list[Path]) -> int:
    """Delete the files, forget them on their jobs, and remove the folders left empty."""
    deleted = 0
    for path in paths:
        try:
            path.unlink()
            deleted += 1
        except FileNotFoundError:  # gone already
            continue
    if paths:
        db.session.execute(sa.update(Job).where(Job.result_path.in_([str(p) for p in paths]))
                           .values(result_path=None).execution_options(synchronize_session=False))
    root = _exports()
    for folder in sorted({p.parent for p in paths}, key=lambda p: len(p.parts), reverse=True):
        if folder != root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return deleted


def plan(now: datetime) -> dict[str, int]:
    """What a purge would delete or anonymise now, per kind."""
    return {"outbox": _count(sa.select(OutboxMessage.id).where(_expired_outbox(now))),
            "api_tokens": _count(sa.select(ApiToken.id).where(_expired_tokens(now))),
            "people": _count(expired_people(now)), "files": len(expired_files(now))}


def _anonymise_people(ids: list[int], now: datetime) -> None:
    """Blank the personal data of these trainees, their certificates and their accounts."""
    users = db.session.execute(sa.select(User.id, User.email).where(User.trainee_id.in_(ids))).all()
    emails = [row.email for row in users] + list(db.session.scalars(sa.select(Trainee.email).where(Trainee.id.in_(ids))))
    db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.recipient.in_(emails)))
    corrections = list(db.session.scalars(sa.select(CorrectionRequest.id).where(CorrectionRequest.trainee_id.in_(ids))))
    db.session.execute(sa.delete(CorrectionRequest).where(CorrectionRequest.trainee_id.in_(ids)))
    user_ids = [row.id for row in users]
    if user_ids:
        db.session.execute(sa.delete(ApiToken).where(ApiToken.user_id.in_(user_ids)))
        db.session.execute(sa.update(User).where(User.id.in_(user_ids)).values(
            email=sa.literal("purged-user-") + sa.cast(User.id, sa.String) + "@purged.invalid",
            password_hash=None, active=False, locale=None, last_login_at=None, session_token=None, trainee_id=None)
            .execution_options(synchronize_session=False))
    certificates = db.session.execute(
        sa.select(Certificate.id, Certificate.serial, Certificate.token).where(Certificate.trainee_id.in_(ids))).all()
    # Their PDFs must not stay downloadable from a bulk issuance's job page.
    _delete_files(files_naming({c.serial for c in certificates}))
    transcripts = list(db.session.scalars(sa.select(Transcript.serial).where(Transcript.trainee_id.in_(ids))))
    # Entries about them recorded names and addresses (before/after of edits): erased, the chain kept.
    erase_personal_values({"trainee": [str(i) for i in ids], "user": [str(i) for i in user_ids],
                           "certificate": [c.serial for c in certificates], "transcript": transcripts,
                           "correction_request": [str(i) for i in corrections]}, ids, now)
    db.session.execute(sa.delete(CertificateFile).where(CertificateFile.certificate_id.in_([c.id for c in certificates])))
    for certificate in certificates:  # a hash per row: no portable SQL for it
        db.session.execute(sa.update(Certificate).where(Certificate.id == certificate.id).values(
            holder="", holder_ar="", holder_tfng=None, token=purged_token(certificate.token), purged_at=now)
            .execution_options(synchronize_session=False))
    # What a recognition says of the person (why, on what evidence) is free text about them: blanked; which
    # module was recognised, and when, stays with the other anonymous results.
    db.session.execute(sa.update(Recognition).where(Recognition.trainee_id.in_(ids)).values(reason="", evidence="")
                       .execution_options(synchronize_session=False))
    # A transcript states the names: its content and PDF go; the row stays, so its page says it no longer exists.
    db.session.execute(sa.update(Transcript).where(Transcript.trainee_id.in_(ids)).values(
        content={}, pdf=None, purged_at=now).execution_options(synchronize_session=False))
    db.session.execute(sa.update(Trainee).where(Trainee.id.in_(ids)).values(
        name="", name_ar="", name_tfng=None, employer="", purged_at=now,
        email=sa.literal("purged-") + sa.cast(Trainee.id, sa.String) + "@purged.invalid")
        .execution_options(synchronize_session=False))


def purge(now: datetime, progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Delete or anonymise everything past its retention period; audited with the counts only.
    Flushes; the caller commits."""
    counts = {"outbox": db.session.execute(sa.delete(OutboxMessage).where(_expired_outbox(now))).rowcount,
              "api_tokens": db.session.execute(sa.delete(ApiToken).where(_expired_tokens(now))).rowcount}
    people = list(db.session.scalars(expired_people(now)))
    for start in range(0, len(people), BATCH):
        _anonymise_people(people[start:start + BATCH], now)
        if progress:
            progress(min(start + BATCH, len(people)), len(people))
    counts["people"] = len(people)
    counts["files"] = _delete_files(expired_files(now))
    db.session.expire_all()  # the bulk updates bypassed the objects loaded in this session
    audit(None, "retention.purge", "retention", now.date().isoformat(), after=counts)
    return counts
