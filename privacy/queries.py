"""Reads about privacy: correction requests, and each section of a person's data export."""
from __future__ import annotations

import sqlalchemy as sa

from certificates.models import Certificate, VerificationCount
from privacy.models import CORRECTION_STATUSES, CorrectionRequest
from skills.models import Attendance, Cohort, Enrollment, Module, ModuleResult, Track, TrainingSession


def corrections(status: str | None = None, *, trainee_id: int | None = None) -> sa.Select:
    """Correction requests, newest first; pending ones first of all when no status is chosen."""
    query = sa.select(CorrectionRequest).order_by(
        (CorrectionRequest.status != "pending"), CorrectionRequest.created_at.desc(), CorrectionRequest.id.desc())
    if status in CORRECTION_STATUSES:
        query = query.where(CorrectionRequest.status == status)
    if trainee_id is not None:
        query = query.where(CorrectionRequest.trainee_id == trainee_id)
    return query


def enrollments_of(trainee_id: int) -> sa.Select:
    return (sa.select(Enrollment.enrolled_at, Cohort.code, Track.code.label("track"), Cohort.sector, Cohort.region,
                      Cohort.language, Cohort.starts_on, Cohort.ends_on)
            .join(Cohort, Cohort.id == Enrollment.cohort_id).join(Track, Track.id == Cohort.track_id)
            .where(Enrollment.trainee_id == trainee_id).order_by(Cohort.starts_on, Cohort.code))


def attendance_of(trainee_id: int) -> sa.Select:
    """Every attendance record, check-ins included (source "checkin")."""
    return (sa.select(Attendance.status, Attendance.source, Attendance.recorded_at, TrainingSession.id.label("session"),
                      TrainingSession.starts_at, TrainingSession.hours, Cohort.code.label("cohort"),
                      Module.code.label("module"))
            .join(TrainingSession, TrainingSession.id == Attendance.session_id)
            .join(Cohort, Cohort.id == TrainingSession.cohort_id).join(Module, Module.id == TrainingSession.module_id)
            .where(Attendance.trainee_id == trainee_id).order_by(TrainingSession.starts_at, TrainingSession.id))


def results_of(trainee_id: int) -> sa.Select:
    return (sa.select(ModuleResult.passed, ModuleResult.score, ModuleResult.recorded_at, Cohort.code.label("cohort"),
                      Module.code.label("module"))
            .join(Cohort, Cohort.id == ModuleResult.cohort_id).join(Module, Module.id == ModuleResult.module_id)
            .where(ModuleResult.trainee_id == trainee_id).order_by(Cohort.code, Module.code))


def certificates_with_checks_of(trainee_id: int) -> sa.Select:
    """Each certificate with how many times employers checked it (summed in SQL)."""
    checks = (sa.select(VerificationCount.certificate_id, sa.func.sum(VerificationCount.count).label("checks"))
              .group_by(VerificationCount.certificate_id).subquery())
    return (sa.select(Certificate, sa.func.coalesce(checks.c.checks, 0))
            .outerjoin(checks, checks.c.certificate_id == Certificate.id)
            .where(Certificate.trainee_id == trainee_id).order_by(Certificate.issued_at, Certificate.id))
