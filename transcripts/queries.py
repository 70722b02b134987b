"""Reads behind a transcript: passing results, recognitions in force, certificates, transcripts issued."""
from __future__ import annotations

import sqlalchemy as sa

from certificates.models import Certificate
from common.extensions import db
from skills.models import Cohort, Module, ModuleResult, Recognition, Track
from transcripts.models import Transcript


def passing_results(trainee_id: int) -> sa.Select:
    """Every passing result of the trainee, with its module, cohort and the cohort's track."""
    return (sa.select(ModuleResult.recorded_at, Module, Cohort.code.label("cohort"), Track.code.label("track"))
            .join(Module, Module.id == ModuleResult.module_id)
            .join(Cohort, Cohort.id == ModuleResult.cohort_id)
            .join(Track, Track.id == Cohort.track_id)
            .where(ModuleResult.trainee_id == trainee_id, ModuleResult.passed.is_(True)))


def recognitions_in_force(trainee_id: int) -> sa.Select:
    """The trainee's recognitions not withdrawn, with their module (read directly: their API is skills')."""
    return (sa.select(Recognition.recorded_at, Module).join(Module, Module.id == Recognition.module_id)
            .where(Recognition.trainee_id == trainee_id, Recognition.withdrawn_at.is_(None)))


def certificates_of(trainee_id: int) -> sa.Select:
    """Every certificate of the trainee, oldest first (as a transcript lists them)."""
    return (sa.select(Certificate).where(Certificate.trainee_id == trainee_id)
            .order_by(Certificate.issued_on, Certificate.id))


def issued_today(trainee_id: int, day, content_sha256: str) -> Transcript | None:
    """The transcript issued to the trainee on `day` with exactly this content, if any."""
    return db.session.scalar(sa.select(Transcript).where(
        Transcript.trainee_id == trainee_id, Transcript.issued_on == day,
        Transcript.content_sha256 == content_sha256, Transcript.purged_at.is_(None)).limit(1))


def transcript_by_serial(serial: str) -> Transcript | None:
    return db.session.scalar(sa.select(Transcript).where(Transcript.serial == serial))
