"""Load-and-authorise helpers: one call finds the object (404) and checks the actor may use it (403)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from accounts.permissions import current_actor
from common.extensions import db
from skills.models import Cohort, Module, Recognition, Track, Trainee, TrainingSession
from skills.permissions import can_manage_cohort, can_view_cohort, can_view_trainee, check


def _by_code(model, code: str):
    obj = db.session.scalar(sa.select(model).where(model.code == code))
    if obj is None:
        abort(404)
    return obj


def get_module_or_404(code: str) -> Module:
    return _by_code(Module, code)


def get_track_or_404(code: str) -> Track:
    return _by_code(Track, code)


def get_cohort_or_404(code: str, *, manage: bool = False) -> Cohort:
    cohort = _by_code(Cohort, code)
    actor = current_actor()
    check(can_manage_cohort(actor, cohort) if manage else can_view_cohort(actor, cohort))
    return cohort


def get_session_or_404(session_id: int, *, manage: bool = False, cohort: Cohort | None = None) -> TrainingSession:
    """A session; when `cohort` is given, a session of another cohort is not found."""
    session = db.get_or_404(TrainingSession, session_id)
    if cohort is not None and session.cohort_id != cohort.id:
        abort(404)
    actor = current_actor()
    check(can_manage_cohort(actor, session.cohort) if manage else can_view_cohort(actor, session.cohort))
    return session


def get_trainee_or_404(trainee_id: int) -> Trainee:
    trainee = db.get_or_404(Trainee, trainee_id)
    check(can_view_trainee(current_actor(), trainee))
    return trainee


def get_recognition_or_404(trainee: Trainee, recognition_id: int) -> Recognition:
    """A recognition of this trainee (the trainee already loaded and authorised); another's is not found."""
    recognition = db.session.get(Recognition, recognition_id)
    if recognition is None or recognition.trainee_id != trainee.id:
        abort(404)
    return recognition
