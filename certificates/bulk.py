"""Issuing for a whole cohort: every eligible trainee, safely repeatable, ending with a ZIP of PDFs."""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from accounts.mail import handed_over_at_the_end
from accounts.models import User
from certificates.models import Certificate, CertificateFile
from certificates.operations import RevokedCertificate, certified_record, issue_certificate
from common.errors import DomainError
from common.extensions import db
from skills import queries as skill_queries
from skills.models import Cohort, Trainee
from skills.serializers import missing_requirements


OUTCOMES = ("issued", "already_held", "revoked", "not_eligible", "failed")


def issue_for_cohort(actor: User | None, cohort: Cohort,
                     progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Issue to every eligible trainee of the cohort; safely repeatable. Each person is issued in a transaction
    of their own, committed at once, so one failure never stops the others and an interruption keeps what
    was done. The catalogue is read once a run (per set of recognised modules). Returns counts per outcome
    — issued, already held, skipped because revoked, not eligible, failed — and `people`: one row per trainee
    who was not issued a new certificate, with why (the serial held or revoked, or the error)."""
    # One mail per certificate issued, written with it; handed to the mail server once, at the end.
    with handed_over_at_the_end():
        return _issue_each(actor, cohort, progress)


def _issue_each(actor: User | None, cohort: Cohort, progress: Callable[[int, int], None] | None) -> dict[str, Any]:
    # The roster as ids, each person loaded at their turn: ORM objects of the whole roster held in the session
    # would all be expired again at each person's commit, a cost that grows with the cohort (quadratic).
    roster = db.session.execute(skill_queries.cohort_roster(cohort.id)
                                .with_only_columns(Trainee.id, Trainee.purged_at)).all()
    eligible = skill_queries.track_eligibility(cohort.track, [trainee_id for trainee_id, _ in roster])
    track = cohort.track
    # What the certificates state: one record for each set of modules recognised (most people have none), made
    # the first time the run needs it, rather than the track's modules read again for each person.
    records: dict[tuple[str, ...], dict[str, Any]] = {}
    summary: dict[str, Any] = {outcome: 0 for outcome in OUTCOMES}
    people: list[dict[str, Any]] = []
    for done, (trainee_id, purged_at) in enumerate(roster, start=1):
        known = eligible[trainee_id]
        if not known.eligible or purged_at is not None:
            # Why: the reasons as data (the job page words them in its reader's language), and as text in
            # the run's language for the command line.
            missing = missing_requirements(known)
            outcome, detail = "not_eligible", " ".join(str(m["message"]) for m in missing)
            reasons = [{k: v for k, v in m.items() if k != "message"} for m in missing]
        else:
            reasons = None
            # Each person is a transaction of their own: a failure rolls back only theirs.
            try:
                if known.modules_recognised not in records:
                    records[known.modules_recognised] = certified_record(track, known.modules_recognised)
                trainee = db.session.get_one(Trainee, trainee_id)
                certificate, created = issue_certificate(actor, trainee, track, known_eligible=True, known=known,
                                                         certified=records[known.modules_recognised])
                outcome, detail = ("issued" if created else "already_held"), certificate.serial
                db.session.commit()
            except RevokedCertificate as error:
                db.session.rollback()
                outcome, detail = "revoked", error.serial
            except Exception as error:  # noqa: BLE001 - one person's failure is reported, the run goes on
                db.session.rollback()
                current_app.logger.exception("certificate for trainee %s in cohort %s failed", trainee_id, cohort.code)
                outcome, detail = "failed", str(error.message) if isinstance(error, DomainError) else str(error)
        summary[outcome] += 1
        if outcome != "issued":
            people.append({"trainee_id": trainee_id, "outcome": outcome, "detail": detail,
                           **({"missing": reasons} if reasons is not None else {})})
        if progress:
            progress(done, len(roster))
    summary["people"] = people
    return summary


def cohort_zip(cohort: Cohort, path: Path) -> Path:
    """The signed original PDF of every current certificate of the cohort's trainees, for printing."""
    rows = db.session.execute(
        sa.select(Certificate.serial, Certificate.holder, CertificateFile.content)
        .join(CertificateFile, CertificateFile.certificate_id == Certificate.id)
        .where(Certificate.track_id == cohort.track_id, Certificate.revoked_at.is_(None),
               Certificate.superseded_at.is_(None),
               Certificate.trainee_id.in_(sa.select(skill_queries.cohort_roster(cohort.id).subquery().c.id)))
        .order_by(Certificate.serial))
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:  # PDFs are compressed already
        for serial, holder, content in rows:
            safe = "".join(c if c.isalnum() else "-" for c in holder)[:60]
            archive.writestr(f"{serial}_{safe}.pdf", content)
    return path


def issue_cohort_job(job, progress):
    cohort = db.session.get(Cohort, job.params["cohort_id"])
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    with force_locale(job.params.get("locale") or "fr"):
        summary = issue_for_cohort(actor, cohort, progress)
    exports = Path(current_app.config["EXPORTS_DIR"])
    path = cohort_zip(cohort, exports / f"certificates-{cohort.code}-job{job.id}.zip")
    return summary, str(path)
