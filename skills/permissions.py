"""Who may do what. Object checks are plain functions of (user, object), shared by views, API and CLI."""
from __future__ import annotations

from functools import wraps
from typing import Callable

import sqlalchemy as sa
from flask import g, request
from flask_login import current_user

from accounts.models import User
from app import db, login
from common.errors import Forbidden, Unauthorized
from skills.models import Cohort, Enrollment, Trainee, cohort_trainers

STAFF = ("admin", "trainer", "governance")


def current_actor() -> User | None:
    """The user behind this request: the bearer token's on the API, the session's on web pages."""
    if request.path.startswith("/api/"):
        return g.get("api_user")
    return current_user if current_user.is_authenticated else None


def require_role(*roles: str) -> Callable:
    """Refuse anonymous users (401 on the API, the login page on the web) and other roles (403).
    With no roles given, any signed-in user passes."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            actor = current_actor()
            if actor is None:
                if request.path.startswith("/api/"):
                    raise Unauthorized()
                return login.unauthorized()
            if roles and actor.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)
        wrapped.required_roles = roles  # read by the API description (common.openapi)
        return wrapped
    return decorator


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


def check(allowed: bool) -> None:
    if not allowed:
        raise Forbidden()
