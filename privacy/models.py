"""Correction requests: a trainee asks for a field of their record to be corrected; an admin decides."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.database import one_of
from common.extensions import db
from common.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from accounts.models import User
    from skills.models import Trainee

# The fields a trainee may ask to correct. Names and email are applied on approval; "other" is a free
# request that the admin carries out by hand (category, employer ...).
CORRECTION_FIELDS = {
    "name": _l("Name (Latin letters)"),
    "name_ar": _l("Name in Arabic"),
    "name_tfng": _l("Name in Tifinagh"),
    "email": _l("Email"),
    "other": _l("Something else"),
}
NAME_FIELDS = ("name", "name_ar", "name_tfng")  # printed on certificates: a correction reissues them
CORRECTION_STATUSES = {"pending": _l("Pending"), "approved": _l("Approved"), "rejected": _l("Rejected")}
PENDING = sa.text("status = 'pending'")


class CorrectionRequest(db.Model):
    __tablename__ = "correction_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("trainees.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(sa.String(12))
    current_value: Mapped[Optional[str]] = mapped_column(sa.String(254))  # as it was when asked
    requested_value: Mapped[str] = mapped_column(sa.String(500))
    reason: Mapped[str] = mapped_column(sa.String(1000), default="")
    status: Mapped[str] = mapped_column(sa.String(10), default="pending", server_default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    handled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    admin_note: Mapped[str] = mapped_column(sa.String(1000), default="")

    user: Mapped[Optional["User"]] = relationship(foreign_keys=[user_id])
    trainee: Mapped["Trainee"] = relationship()
    handled_by: Mapped[Optional["User"]] = relationship(foreign_keys=[handled_by_id])

    __table_args__ = (
        one_of("field", CORRECTION_FIELDS, "field_known"),
        one_of("status", CORRECTION_STATUSES, "status_known"),
        # One pending request per trainee and field, even for two requests sent at the same moment.
        sa.Index("uq_correction_requests_pending", "trainee_id", "field", unique=True,
                 sqlite_where=PENDING, postgresql_where=PENDING),
    )
