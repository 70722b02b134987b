"""Opening check-in for a session, and a trainee checking in with a code."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import User
from audit.operations import record as audit
from checkin import rules
from common import clock, validation as v
from common.errors import Conflict, DomainError, FieldErrors, Forbidden, ValidationFailed
from common.extensions import db
from skills import operations as skill_operations
from skills.models import Enrollment, TrainingSession


class CheckinRefused(DomainError):
    status = 422
    title = _l("Check-in refused.")


def open_checkin(actor: User, session: TrainingSession, late_after_minutes: Any = 15) -> TrainingSession:
    errors = FieldErrors()
    minutes = v.integer(errors, "late_after_minutes", late_after_minutes, minimum=0, maximum=240)
    errors.raise_if_any()
    session.checkin_secret = session.checkin_secret or secrets.token_hex(32)
    session.checkin_opened_at = clock.now()
    session.checkin_late_after_minutes = minutes
    db.session.flush()
    audit(actor, "checkin.open", "session", session.id, after={"late_after_minutes": minutes})
    return session


def close_checkin(actor: User, session: TrainingSession) -> None:
    session.checkin_opened_at = None
    db.session.flush()
    audit(actor, "checkin.close", "session", session.id)


def current(session: TrainingSession) -> tuple[str, Any]:
    """The code to show now and when it changes. Refused while check-in is closed."""
    if session.checkin_opened_at is None:
        raise Conflict(_l("Check-in is not open for this session. Open it first."))
    return rules.current_code(session.checkin_secret, clock.now())


def _open_sessions_accepting(code: str, now) -> list[TrainingSession]:
    """Open sessions whose current code is this one (few sessions are open at any moment)."""
    opened = db.session.scalars(sa.select(TrainingSession).where(TrainingSession.checkin_opened_at.is_not(None)))
    return [s for s in opened if rules.accepts(s.checkin_secret, code, now)]


class CheckIn(NamedTuple):
    status: str
    created: bool  # False when already checked in (or set by hand): nothing changed
    session: TrainingSession


def code_is_current(session: TrainingSession, code: Any) -> bool:
    """Whether this code is the one on this session's screen now (for a ticket to remember the scan)."""
    return (session.checkin_opened_at is not None and isinstance(code, str) and bool(rules.normalise(code))
            and rules.accepts(session.checkin_secret, code, clock.now()))


def check_in(user: User, code: Any, session: TrainingSession | None = None, *,
             scanned_at: datetime | None = None) -> CheckIn:
    """Check the trainee in with a code seen on the projector.

    scanned_at: the moment the code was scanned, from a ticket that vouches for it (checkin.tickets); the
    code, the session's window and the late/present status are then judged at that moment, so the minutes
    spent signing in do not count. Check-in must still be open."""
    if user.role != "trainee" or user.trainee_id is None:
        raise Forbidden(_l("Only a trainee account can check in."))
    if not isinstance(code, str) or not rules.normalise(code):
        raise ValidationFailed.single("code", _l("Type the code shown on the screen."))
    now = scanned_at or clock.now()
    if session is None:
        matches = _open_sessions_accepting(code, now)
        if not matches:
            raise CheckinRefused(fields={"code": [_l("This code is not valid or has expired. Type the code "
                                                     "shown on the screen now.")]})
        enrolled = [s for s in matches if _enrolled(user.trainee_id, s.cohort_id)]
        session = (enrolled or matches)[0]
    else:
        if session.checkin_opened_at is None:
            raise CheckinRefused(_l("Check-in is not open for this session."))
        if not rules.accepts(session.checkin_secret, code, now):
            raise CheckinRefused(fields={"code": [_l("This code is not valid or has expired. Scan the code "
                                                     "shown on the screen now.")]})
    if not _enrolled(user.trainee_id, session.cohort_id):
        raise CheckinRefused(_l("You are not enrolled in this cohort."))
    opens, closes = rules.window(session.starts_at, session.hours)
    if not opens <= now <= closes:
        raise CheckinRefused(_l("Check-in is only possible during the session."))
    status = rules.status_at(session.starts_at, session.checkin_late_after_minutes, now)
    record, created = skill_operations.record_checkin(user, session, user.trainee_id, status)
    return CheckIn(record.status, created, session)


def _enrolled(trainee_id: int, cohort_id: int) -> bool:
    return db.session.scalar(sa.select(Enrollment.id).where(
        Enrollment.trainee_id == trainee_id, Enrollment.cohort_id == cohort_id)) is not None
