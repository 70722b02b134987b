"""Pure rules about certificates: serial numbers, validity periods and what a certificate states."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

SERIAL_PREFIX = "KF"
SERIAL_RE = re.compile(r"^KF-(\d{4})-(\d{6})$")


def format_serial(year: int, number: int, prefix: str = SERIAL_PREFIX) -> str:
    return f"{prefix}-{year}-{number:06d}"


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


# --- what a certificate states, frozen at issue ----------------------------------------------------------

LANGUAGES = ("fr", "ar", "en")


def hours_text(value: Decimal) -> str:
    """Hours as stored in the record: exact decimal text without trailing zeros ("6", "1.5")."""
    text = format(Decimal(value).normalize(), "f")
    return text


@dataclass(frozen=True)
class CertifiedModule:
    code: str
    titles: dict[str, str]
    hours: Decimal

    def title(self, locale: str) -> str:
        return self.titles.get(locale) or self.titles["fr"]


@dataclass(frozen=True)
class Certified:
    """What a certificate states, as certified at issue: the track's titles in every language, its modules
    with their titles and hours, the total hours, the attendance required and the issuer's name as printed.
    Stored as JSON on the certificate (Certificate.certified); built by `record` from the catalogue."""

    code: str
    titles: dict[str, str]
    modules: tuple[CertifiedModule, ...]
    total_hours: Decimal
    min_attendance: Decimal | None
    issuer: dict[str, str]

    def title(self, locale: str) -> str:
        return self.titles.get(locale) or self.titles["fr"]

    def issuer_name(self, locale: str) -> str:
        return self.issuer.get(locale) or self.issuer["fr"]

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "Certified":
        track = record["track"]
        modules = tuple(CertifiedModule(m["code"], dict(m["title"]), Decimal(m["hours"])) for m in record["modules"])
        minimum = track.get("min_attendance")
        return cls(code=track["code"], titles=dict(track["title"]), modules=modules,
                   total_hours=Decimal(record["total_hours"]),
                   min_attendance=None if minimum is None else Decimal(minimum), issuer=dict(record["issuer"]))

    @staticmethod
    def record(*, code: str, titles: dict[str, str], modules: list[tuple[str, dict[str, str], Decimal]],
               min_attendance: Decimal | None, issuer: dict[str, str]) -> dict[str, Any]:
        """The JSON stored at issue. Hours and ratios are decimal text, so nothing is rounded on the way."""
        total = sum((Decimal(hours) for _, _, hours in modules), Decimal(0))
        return {
            "version": 1,
            "track": {"code": code, "title": {k: titles.get(k) or "" for k in LANGUAGES},
                      "min_attendance": None if min_attendance is None else hours_text(min_attendance)},
            "modules": [{"code": mcode, "title": {k: mtitles.get(k) or "" for k in LANGUAGES},
                         "hours": hours_text(hours)} for mcode, mtitles, hours in modules],
            "total_hours": hours_text(total),
            "issuer": {k: v for k, v in issuer.items() if v},
        }


def expiry_phase(expires_on: date | None, day: date) -> str | None:
    """How to word a certificate's expiry on `day`: "none", "later", "today" (its last valid day) or "past"."""
    if expires_on is None:
        return "none"
    if day < expires_on:
        return "later"
    return "today" if day == expires_on else "past"


# --- status lists ------------------------------------------------------------------------------------------

# W3C Bitstring Status List v1.0 advises at least 131,072 entries (16 KB) so a list says little about how many
# credentials exist, and random, never reused indexes so an index says nothing about when, or to whom.
STATUS_LIST_MIN_BITS = 131_072


def status_list_size(entries: int) -> int:
    """Entries in the status lists when `entries` indexes are taken: whole 16 KB blocks, at most half full,
    so a random draw finds a free index in two tries on average. Indexes only ever grow the list."""
    return STATUS_LIST_MIN_BITS * max(1, -(-2 * entries // STATUS_LIST_MIN_BITS))
