"""Writes about privacy: asking for a correction, approving or rejecting one (accepting the notice is
accounts.operations.accept_notice).
Like every operation, these validate first, flush, and never commit."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale, gettext as _, lazy_gettext as _l

from accounts.mail import send_mail
from accounts.models import User
from audit.operations import record as audit
from certificates.models import Certificate
from certificates.operations import reissue_certificate
from common import clock, validation as v
from common.database import lock_row
from common.errors import Conflict, FieldErrors, NotFound
from common.extensions import db
from common.types import utcnow
from privacy.models import CORRECTION_FIELDS, NAME_FIELDS, CorrectionRequest
from skills import operations as skill_operations
from skills.models import Trainee

NOT_A_TRAINEE = _l("Your account is not linked to a trainee record yet.")


# --- correction requests ------------------------------------------------------------------------------

def _requested_value(errors: FieldErrors, field: str | None, value: Any) -> str | None:
    if field == "email":
        return v.email(errors, "value", value)
    if field == "other":
        return v.text(errors, "value", value, max_length=500)
    if field in NAME_FIELDS:
        return v.person_name(errors, "value", value, max_length=200)
    return v.text(errors, "value", value, max_length=200)


def _email_taken(email: str, trainee: Trainee, user: User | None) -> bool:
    """Whether another trainee or another account already uses this address."""
    other_trainee = db.session.scalar(sa.select(Trainee.id).where(Trainee.email == email, Trainee.id != trainee.id))
    other_user = db.session.scalar(sa.select(User.id).where(
        User.email == email, User.id != (user.id if user is not None else -1)))
    return bool(other_trainee or other_user)


EMAIL_TAKEN = _l("This address is already used by another person.")


def request_correction(user: User, data: dict[str, Any]) -> CorrectionRequest:
    """A trainee asks for one field of their record to be corrected."""
    trainee = user.trainee
    if trainee is None:
        raise NotFound(NOT_A_TRAINEE)
    errors = FieldErrors()
    field = v.choice(errors, "field", data.get("field"), CORRECTION_FIELDS)
    value = _requested_value(errors, field, data.get("value"))
    reason = v.text(errors, "reason", data.get("reason"), required=False, max_length=1000) or ""
    if field and field != "other" and value is not None:
        if value == (getattr(trainee, field) or ""):
            errors.add("value", _l("This is already the value on your record."))
        elif field == "email" and _email_taken(value, trainee, user):
            errors.add("value", EMAIL_TAKEN)
    errors.raise_if_any()
    if db.session.scalar(sa.select(CorrectionRequest.id).where(
            CorrectionRequest.trainee_id == trainee.id, CorrectionRequest.field == field,
            CorrectionRequest.status == "pending")):
        raise Conflict(fields={"field": [_l("You already asked for a correction of this field. Wait for the "
                                            "answer before asking again.")]})
    correction = CorrectionRequest(user=user, trainee=trainee, field=field, requested_value=value, reason=reason,
                                current_value=None if field == "other" else getattr(trainee, field))
    db.session.add(correction)
    db.session.flush()
    audit(user, "correction.request", "correction_request", correction.id,
          after={"trainee_id": trainee.id, "field": field, "value": value, "reason": reason})
    return correction


def _note(errors: FieldErrors, value: Any, *, required: bool) -> str:
    if required and (not isinstance(value, str) or not value.strip()):
        errors.add("note", _l("Say why the request is rejected: the trainee will read it."))
        return ""
    return v.text(errors, "note", value, required=False, max_length=1000) or ""


def _ensure_pending(correction: CorrectionRequest) -> None:
    """Decide once: lock the request, read it again, and refuse it if another decision came first. Of two
    admins (or two instances) deciding at once, the later one waits here, then finds it handled (409)."""
    lock_row(correction)
    if correction.status != "pending":
        raise Conflict(_l("This request has already been handled."))


def current_valid_certificates(trainee_id: int) -> list[Certificate]:
    """The certificates a name correction must reissue: current and valid today."""
    current = db.session.scalars(sa.select(Certificate).where(
        Certificate.trainee_id == trainee_id, Certificate.revoked_at.is_(None),
        Certificate.superseded_at.is_(None)).order_by(Certificate.id)).all()
    today = clock.today()
    return [c for c in current if c.status_on(today) == "valid"]


def _apply(actor: User, correction: CorrectionRequest) -> list[str]:
    """Write the requested value onto the record; return the serials of the certificates reissued."""
    trainee = correction.trainee
    if correction.field == "other":
        return []  # a free correction: the admin has made the change by hand
    data = {name: getattr(trainee, name) for name in skill_operations.TRAINEE_FIELDS}
    data[correction.field] = correction.requested_value
    if correction.field == "email":
        account = correction.user
        if _email_taken(correction.requested_value, trainee, account):
            raise Conflict(fields={"value": [EMAIL_TAKEN]})
        skill_operations.update_trainee(actor, trainee, data)
        if account is not None and account.email != correction.requested_value:
            audit(actor, "user.email", "user", account.id, before={"email": account.email},
                  after={"email": correction.requested_value})
            account.email = correction.requested_value
        return []
    skill_operations.update_trainee(actor, trainee, data)
    return [reissue_certificate(actor, certificate, correction=True).serial for certificate in current_valid_certificates(trainee.id)]


def approve_correction(actor: User, correction: CorrectionRequest, note: Any = None) -> list[str]:
    """Apply the correction (a name reissues every valid certificate), mark the request approved and tell
    the trainee. Returns the new certificates' serials."""
    errors = FieldErrors()
    note = _note(errors, note, required=False)
    errors.raise_if_any()
    _ensure_pending(correction)
    reissued = _apply(actor, correction)
    _decide(actor, correction, "approved", note, reissued=reissued)
    return reissued


def reject_correction(actor: User, correction: CorrectionRequest, note: Any) -> None:
    errors = FieldErrors()
    note = _note(errors, note, required=True)
    errors.raise_if_any()
    _ensure_pending(correction)
    _decide(actor, correction, "rejected", note)


def _decide(actor: User, correction: CorrectionRequest, status: str, note: str, *, reissued: list[str] = ()) -> None:
    correction.status, correction.admin_note = status, note
    correction.handled_by_id, correction.handled_at = actor.id, utcnow()
    db.session.flush()
    audit(actor, f"correction.{'approve' if status == 'approved' else 'reject'}", "correction_request", correction.id,
          before={"status": "pending"}, after={"status": status, "note": note, "reissued": list(reissued)})
    _notify(correction, list(reissued))


def _notify(correction: CorrectionRequest, reissued: list[str]) -> None:
    account = correction.user
    if account is None:
        return  # the account was deleted; the decision stays on the record
    with force_locale(account.locale or "fr"):
        subject = (_("Your correction request was approved") if correction.status == "approved"
                   else _("Your correction request was declined"))
        body = render_template("privacy/mail/correction_decided.txt", correction=correction, reissued=reissued,
                               field=CORRECTION_FIELDS[correction.field])
    send_mail(account.email, subject, body)
