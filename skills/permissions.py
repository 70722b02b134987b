"""Who may do what with the registry's objects: plain functions of (user, object), shared by views, API and
CLI. Who the user is and what role they have is accounts.permissions's job."""
from __future__ import annotations

import sqlalchemy as sa

from accounts.models import User
from common.errors import Forbidden
from common.extensions import db
from skills.models import Cohort, Enrollment, Trainee, cohort_trainers


def teaches(user: User, cohort: Cohort) -> bool:
    return user.role == "trainer" and db.session.scalar(
        sa.select(sa.literal(True)).select_from(cohort_trainers).where(
            cohort_trainers.c.cohort_id == cohort.id, cohort_trainers.c.user_id == user.id)) is True


def can_manage_cohort(user: User, cohort: Cohort) -> bool:
    """Write sessions, attendance and results: admins, and the cohort's own trainers."""
    return user.role == "admin" or teaches(user, cohort)


def can_view_cohort(user: User, cohort: Cohort) -> bool:
    return user.role in ("admin", "governance") or teaches(user, cohort)


def can_view_trainee(user: User, trainee: Trainee) -> bool:
    """Admins; a trainer who teaches one of the trainee's cohorts; the trainee themself.
    The governance role sees counts only, never a person."""
    if user.role == "admin":
        return True
    if user.role == "trainee":
        return user.trainee_id == trainee.id
    if user.role == "trainer":
        return db.session.scalar(
            sa.select(sa.literal(True)).select_from(Enrollment)
            .join(cohort_trainers, cohort_trainers.c.cohort_id == Enrollment.cohort_id)
            .where(Enrollment.trainee_id == trainee.id, cohort_trainers.c.user_id == user.id).limit(1)) is True
    return False


def progress_scope(user: User) -> list[int] | None:
    """The cohorts whose attendance and results this user may see a trainee's progress in: every cohort
    (None) for admins and for the trainee themself, only the cohorts they teach for a trainer. A trainee
    shared with another trainer's cohort shows the trainer nothing of that cohort."""
    if user.role != "trainer":
        return None
    return list(db.session.scalars(sa.select(cohort_trainers.c.cohort_id).where(cohort_trainers.c.user_id == user.id)))


def check(allowed: bool) -> None:
    if not allowed:
        raise Forbidden()
