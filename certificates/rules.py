"""Pure rules about certificates: serial numbers and validity periods."""
from __future__ import annotations

import calendar
import re
from datetime import date

SERIAL_PREFIX = "KF"
SERIAL_RE = re.compile(r"^KF-(\d{4})-(\d{6})$")


def format_serial(year: int, number: int) -> str:
    return f"{SERIAL_PREFIX}-{year}-{number:06d}"


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 January + 1 month = 28/29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry(issued_on: date, validity_months: int | None) -> date | None:
    return None if validity_months is None else add_months(issued_on, validity_months)


def certificate_status(revoked_at: object, superseded_at: object, expires_on: date | None, day: date) -> str:
    """The one status a certificate has on a day; revocation and replacement win over expiry."""
    if revoked_at is not None:
        return "revoked"
    if superseded_at is not None:
        return "superseded"
    if expires_on is not None and day > expires_on:
        return "expired"
    return "valid"
