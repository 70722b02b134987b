"""Issuing for a whole cohort: every eligible trainee, safely repeatable, ending with a ZIP of PDFs."""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Callable

import sqlalchemy as sa
from flask import current_app

from accounts.models import User
from certificates.models import Certificate, CertificateFile
from certificates.operations import issue_certificate
from common.extensions import db
from skills import queries as skill_queries
from skills.models import Cohort


def issue_for_cohort(actor: User | None, cohort: Cohort,
                     progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Issue to every eligible trainee of the cohort, committing one certificate at a time so an
    interruption keeps what was done; a second run issues nothing twice."""
    trainees = db.session.scalars(skill_queries.cohort_roster(cohort.id)).all()
    eligible = skill_queries.track_eligibility(cohort.track, [t.id for t in trainees])
    summary = {"issued": 0, "already_held": 0, "not_eligible": 0}
    for done, trainee in enumerate(trainees, start=1):
        if not eligible[trainee.id].eligible or trainee.purged_at is not None:
            summary["not_eligible"] += 1
        else:
            _, created = issue_certificate(actor, trainee, cohort.track, known_eligible=True)
            summary["issued" if created else "already_held"] += 1
            db.session.commit()
        if progress:
            progress(done, len(trainees))
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
    summary = issue_for_cohort(actor, cohort, progress)
    exports = Path(current_app.config["EXPORTS_DIR"])
    path = cohort_zip(cohort, exports / f"certificates-{cohort.code}-job{job.id}.zip")
    return summary, str(path)
