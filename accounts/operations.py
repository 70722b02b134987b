"""Writes about accounts: creation, invitations, passwords, API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from accounts.mail import send_mail
from accounts.models import ApiToken, PasswordReset, User
from accounts.notice import NOTICE_VERSION, check_accepted
from accounts.passwords import MIN_PASSWORD_LENGTH, check_password, hash_password
from accounts.roles import ROLES
from audit.operations import record as audit
from common import validation as v
from common.errors import Conflict, FieldErrors, ValidationFailed
from common.extensions import db
from common.types import utcnow

WRONG_CREDENTIALS = _l("Wrong email or password.")


def trainee_model() -> type:
    """The trainee record's class. It belongs to the registry (skills), a layer above accounts, so it is
    reached through the User.trainee relationship's mapper rather than imported."""
    return sa.inspect(User).relationships["trainee"].mapper.class_


def _validate_password(errors: FieldErrors, name: str, password: Any) -> str | None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        errors.add(name, _l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH))
        return None
    if len(password) > 1024:
        errors.add(name, _l("At most %(max)d characters.", max=1024))
        return None
    return password


def create_user(actor: User | None, email: Any, role: Any, *, password: Any = None,
                trainee_id: Any = None) -> User:
    """Create an account; without a password it can only be entered through an invitation."""
    errors = FieldErrors()
    email = v.email(errors, "email", email)
    role = v.choice(errors, "role", role, ROLES)
    if password is not None:
        password = _validate_password(errors, "password", password)
    trainee = None
    if trainee_id not in (None, ""):
        trainee_id = v.row_id(errors, "trainee_id", trainee_id)
        trainee = db.session.get(trainee_model(), trainee_id) if trainee_id else None
        if trainee_id and trainee is None:
            errors.add("trainee_id", _l("Unknown trainee %(id)s.", id=trainee_id))
        elif trainee is not None and role != "trainee":
            errors.add("trainee_id", _l("Only a trainee account can be linked to a trainee record."))
        elif trainee is not None and db.session.scalar(sa.select(User.id).where(User.trainee_id == trainee.id)):
            errors.add("trainee_id", _l("This trainee already has an account."))
    errors.raise_if_any()
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise Conflict(fields={"email": [_l("“%(value)s” is already taken.", value=email)]})
    user = User(email=email, role=role, trainee=trainee,
                password_hash=hash_password(password) if password else None)
    db.session.add(user)
    db.session.flush()
    audit(actor, "user.create", "user", user.id, after={"email": email, "role": role, "trainee_id": user.trainee_id})
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kafaa.invitation")


def _password_fingerprint(user: User) -> str:
    """Changes whenever the password does, so an invitation link works once."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def invitation_token(user: User) -> str:
    return _serializer().dumps({"uid": user.id, "pw": _password_fingerprint(user)})


def invite(actor: User, user: User) -> str:
    """Mail an invitation link to set a password, in the person's language. Returns the link."""
    link = f"{current_app.config['BASE_URL']}/invitation/{invitation_token(user)}"
    with force_locale(user.locale or "fr"):
        subject = _("Your Kafaa account")
        body = render_template("accounts/mail/invitation.txt", user=user, link=link,
                               days=current_app.config["INVITATION_MAX_AGE_DAYS"])
    send_mail(user.email, subject, body)
    audit(actor, "user.invite", "user", user.id)
    return link


def user_for_invitation(token: str) -> User:
    max_age = current_app.config["INVITATION_MAX_AGE_DAYS"] * 86400
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise ValidationFailed(message=_l("This invitation has expired. Ask an administrator for a new one."))
    except BadSignature:
        raise ValidationFailed(message=_l("This invitation link is not valid."))
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("pw") != _password_fingerprint(user):
        raise ValidationFailed(message=_l("This invitation link has already been used or is no longer valid."))
    return user


def _checked_password(errors: FieldErrors, password: Any, confirm: Any) -> str | None:
    password = _validate_password(errors, "password", password)
    if confirm is not None and password is not None and confirm != password:
        errors.add("confirm", _l("The two passwords differ."))
    return password


def _store_password(actor: User | None, user: User, password: str, action: str = "user.password") -> None:
    """A new password ends every session and every API token of the account: whoever held the old one
    (or a copied cookie, or a stolen token) is out, and so does every "forgot password" link still
    pending. The caller starts a fresh session if it signs in."""
    user.password_hash = hash_password(password)
    ended = _end_everything(user)
    db.session.execute(sa.update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                       .values(used_at=utcnow()).execution_options(synchronize_session=False))
    audit(actor or user, action, "user", user.id, after={"tokens_revoked": ended})


def set_password(actor: User | None, user: User, password: Any, confirm: Any = None) -> None:
    errors = FieldErrors()
    password = _checked_password(errors, password, confirm)
    errors.raise_if_any()
    _store_password(actor, user, password)


# --- "forgot password" --------------------------------------------------------------------------------

class ResetLinkUnusable(ValidationFailed):
    """The link is unknown, used, expired, or its account is disabled: all say the same, so a link tells
    nothing about the account behind it."""

    status = 400

    def __init__(self) -> None:
        super().__init__(message=_l("This link has already been used or has expired. Ask for a new one."))


MAX_RESET_MINUTES = 60  # a reset link sits in a mailbox: it works an hour at most, whatever the configuration


def reset_minutes() -> int:
    return max(1, min(int(current_app.config["PASSWORD_RESET_MINUTES"]), MAX_RESET_MINUTES))


def reset_link(raw: str) -> str:
    return f"{current_app.config['BASE_URL']}/password/reset/{raw}"


def request_password_reset(email: Any) -> None:
    """Mail a single-use link to choose a new password, valid PASSWORD_RESET_MINUTES, to the account using
    this address, if there is one and it is active. The caller answers the same either way: the token is
    drawn and hashed and the mail written whether or not the account exists, so the answer's content does
    not tell (only the writes that follow are skipped)."""
    errors = FieldErrors()
    email = v.email(errors, "email", email)
    errors.raise_if_any()
    raw = secrets.token_urlsafe(32)
    token_hash = _token_hash(raw)
    minutes = reset_minutes()
    subject = _("Choose a new Kafaa password")
    body = render_template("accounts/mail/password_reset.txt", link=reset_link(raw), minutes=minutes)
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None or not user.active:  # a disabled account gets no mail: it could not sign in anyway
        return
    db.session.add(PasswordReset(user_id=user.id, token_hash=token_hash,
                                 expires_at=utcnow() + timedelta(minutes=minutes)))
    db.session.flush()
    send_mail(user.email, subject, body)
    audit(None, "user.password_reset_request", "user", user.id)  # never the token


def password_reset_for(raw: Any) -> PasswordReset:
    """The pending reset behind a link, or ResetLinkUnusable."""
    if not isinstance(raw, str) or len(raw) > 200:
        raise ResetLinkUnusable()
    reset = db.session.scalar(sa.select(PasswordReset).where(PasswordReset.token_hash == _token_hash(raw)))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow() or not reset.user.active:
        raise ResetLinkUnusable()
    return reset


def reset_password(reset: PasswordReset, password: Any, confirm: Any) -> User:
    """Set the new password chosen through a reset link (the invitation's rules), end every other session
    and API token of the account, and spend the link."""
    errors = FieldErrors()
    password = _checked_password(errors, password, confirm)
    errors.raise_if_any()
    now = utcnow()
    # One atomic claim: of two uses of the link at once, exactly one sets the password.
    claimed = db.session.execute(
        sa.update(PasswordReset).where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None),
                                       PasswordReset.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if not claimed:
        raise ResetLinkUnusable()
    user = reset.user
    _store_password(user, user, password, action="user.password_reset")
    return user


def accept_invitation(user: User, password: Any, confirm: Any, accepted_notice: Any) -> None:
    """Account creation: the password chosen and the privacy notice accepted (law 09-08), checked
    together so every error shows at once, and saved together."""
    errors = FieldErrors()
    password = _checked_password(errors, password, confirm)
    check_accepted(errors, accepted_notice)
    errors.raise_if_any()
    _store_password(None, user, password)
    accept_notice(user, accepted_notice)


def accept_notice(user: User, accepted: Any) -> None:
    """Record that this person accepted the current privacy notice."""
    errors = FieldErrors()
    check_accepted(errors, accepted)
    errors.raise_if_any()
    user.privacy_accepted_at = utcnow()
    user.privacy_notice_version = NOTICE_VERSION
    db.session.flush()
    audit(user, "user.privacy_accept", "user", user.id, after={"version": NOTICE_VERSION})


def authenticate(email: Any, password: Any) -> User | None:
    """The account for these credentials, or None. Unknown email and wrong password look the same."""
    if not isinstance(email, str) or not isinstance(password, str):
        return None
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    ok = check_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_api_token(user: User) -> str:
    raw = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_token_hash(raw),
                            expires_at=utcnow() + timedelta(days=current_app.config["API_TOKEN_DAYS"])))
    db.session.flush()
    return raw


def token_for(raw: str) -> ApiToken | None:
    """The live token behind a raw bearer value: not expired, not revoked, of an active account."""
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _token_hash(raw)))
    if token is None or token.expires_at <= utcnow() or not token.user.active:
        return None
    return token


def user_for_token(raw: str) -> User | None:
    token = token_for(raw)
    return None if token is None else token.user


def live_tokens(user: User) -> sa.Select:
    """The account's API tokens that still work, newest first (expired ones wait for purge)."""
    return (sa.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.expires_at > utcnow())
            .order_by(ApiToken.id.desc()))


def revoke_token(actor: User | None, token: ApiToken) -> None:
    """The token stops working at once: its row is deleted (only its hash was ever stored)."""
    user_id, token_id = token.user_id, token.id
    db.session.delete(token)
    db.session.flush()
    audit(actor, "token.revoke", "user", user_id, before={"token_id": token_id})


def _end_everything(user: User) -> int:
    """Every web session (the session token changes) and every API token of the account ends.
    Returns how many tokens were revoked."""
    user.session_token = secrets.token_hex(16)
    ended = db.session.execute(sa.delete(ApiToken).where(ApiToken.user_id == user.id)).rowcount or 0
    db.session.flush()
    return ended


def sign_out_everywhere(actor: User | None, user: User) -> int:
    """An admin's answer to a lost laptop or a leaked token: every session and token of the account ends."""
    ended = _end_everything(user)
    audit(actor, "user.sign_out_everywhere", "user", user.id, after={"tokens_revoked": ended})
    return ended


CANNOT_DISABLE_SELF = _l("You cannot disable your own account: ask another administrator.")


def disable_user(actor: User | None, user: User) -> None:
    """The account can no longer sign in; its sessions and tokens stop at their next request (and stay
    ended if it is enabled again)."""
    if actor is not None and actor.id == user.id:
        raise Conflict(CANNOT_DISABLE_SELF)
    if not user.active:
        return
    user.active = False
    ended = _end_everything(user)
    audit(actor, "user.disable", "user", user.id, before={"active": True},
          after={"active": False, "tokens_revoked": ended})


def enable_user(actor: User | None, user: User) -> None:
    if user.active:
        return
    user.active = True
    db.session.flush()
    audit(actor, "user.enable", "user", user.id, before={"active": False}, after={"active": True})


def user_by_email(email: Any) -> User | None:
    if not isinstance(email, str) or v.has_control(email):
        return None
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def start_web_session(user: User) -> None:
    if not user.session_token:
        user.session_token = secrets.token_hex(16)


def end_web_sessions(user: User) -> None:
    """Sign out: every session cookie of this account stops working, including copies of it."""
    user.session_token = secrets.token_hex(16)


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
