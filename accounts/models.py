from __future__ import annotations

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.roles import ROLES
from common.database import one_of
from common.extensions import db
from common.types import UTCDateTime, utcnow

class User(UserMixin, db.Model):
    """Someone who signs in. A trainee's account points at its trainee record."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[Optional[str]] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(12))
    trainee_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("trainees.id", ondelete="SET NULL"), unique=True)
    locale: Mapped[Optional[str]] = mapped_column(sa.String(5))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Part of the id kept in the session cookie; replaced at sign-out, so a copied cookie dies with it.
    session_token: Mapped[Optional[str]] = mapped_column(sa.String(32))
    # Law 09-08: when this person accepted the privacy notice, and which version (privacy.notice).
    privacy_accepted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    privacy_notice_version: Mapped[Optional[str]] = mapped_column(sa.String(20))

    # "Trainee" is the registry's model (skills), a layer above: SQLAlchemy finds it by name, nothing imports it.
    trainee: Mapped[Optional["Trainee"]] = relationship()  # noqa: F821

    __table_args__ = (one_of("role", ROLES, "role_known"),)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def get_id(self) -> str:
        return f"{self.id}-{self.session_token or ''}"

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(db.Model):
    """A bearer token. Only its SHA-256 is stored, so a leaked database leaks no usable token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class OutboxMessage(db.Model):
    """Every mail the application sends, kept so admins can read it when no mail server is set. It is
    written in the transaction of what it tells, and sent after that transaction commits (accounts.mail);
    a failed attempt leaves it here with the time of the next one."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # When to try (again); None once sent, when no mail server is set, or after the last attempt.
    next_attempt_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[Optional[str]] = mapped_column(sa.String(300))


class PasswordReset(db.Model):
    """A "forgot password" link sent by mail. Only the SHA-256 of its token is stored (a leaked database
    gives no usable link); it works once (used_at), until expires_at, and dies when the password changes."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
