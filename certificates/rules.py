"""Pure rules about certificates: serial numbers, validity periods and what a certificate states."""
from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Iterable
from urllib.parse import quote, urlencode

SERIAL_PREFIX = "KF"
SERIAL_RE = re.compile(r"^KF-(\d{4})-(\d{6})$")


def format_serial(year: int, number: int, prefix: str = SERIAL_PREFIX) -> str:
    return f"{prefix}-{year}-{number:06d}"


# Dashes a search may hold between the parts of a serial (an Arabic keyboard or a word processor types others).
_DASHES = dict.fromkeys(map(ord, "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), None)


def serial_search(text: str | None) -> str | None:
    """The serial, or the start of one, that a typed search stands for, written as serials are stored:
    case, spaces, dashes and the script of the digits do not matter ("kf 2026 00012", "٢٠٢٦-٠٠٠١٢٣"); the
    prefix may be left out once the year is whole. None when the text cannot begin a serial (a name)."""
    if not text:
        return None
    compact = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text if not ch.isspace())
    compact = compact.translate(_DASHES).upper()
    prefixed = compact.startswith(SERIAL_PREFIX)
    digits = compact[len(SERIAL_PREFIX):] if prefixed else compact
    if not re.fullmatch(r"[0-9]{0,10}", digits) or (not prefixed and len(digits) < 4):
        return None
    return "-".join(part for part in (SERIAL_PREFIX, digits[:4], digits[4:]) if part)


def is_whole_serial(text: str) -> bool:
    return SERIAL_RE.match(text) is not None


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
    recognised: bool = False  # counted through a recognition of prior learning rather than attended

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
    # The tracks this one requires, as (code, titles) when issued: the pathway level ("builds on").
    builds_on: tuple[tuple[str, dict[str, str]], ...] = ()

    def title(self, locale: str) -> str:
        return self.titles.get(locale) or self.titles["fr"]

    def builds_on_titles(self, locale: str) -> list[str]:
        return [titles.get(locale) or titles.get("fr") or code for code, titles in self.builds_on]

    @property
    def any_recognised(self) -> bool:
        return any(m.recognised for m in self.modules)

    def issuer_name(self, locale: str) -> str:
        return self.issuer.get(locale) or self.issuer["fr"]

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "Certified":
        track = record["track"]
        # "recognised" and "builds_on" came with the pathway: records issued before have neither.
        modules = tuple(CertifiedModule(m["code"], dict(m["title"]), Decimal(m["hours"]), bool(m.get("recognised")))
                        for m in record["modules"])
        minimum = track.get("min_attendance")
        return cls(code=track["code"], titles=dict(track["title"]), modules=modules,
                   total_hours=Decimal(record["total_hours"]),
                   min_attendance=None if minimum is None else Decimal(minimum), issuer=dict(record["issuer"]),
                   builds_on=tuple((t["code"], dict(t["title"])) for t in track.get("builds_on", ())))

    @staticmethod
    def record(*, code: str, titles: dict[str, str | None], modules: list[tuple[str, dict[str, str], Decimal]],
               min_attendance: Decimal | None, issuer: dict[str, str], recognised: Iterable[str] = (),
               builds_on: Iterable[tuple[str, dict[str, str]]] = ()) -> dict[str, Any]:
        """The JSON stored at issue. Hours and ratios are decimal text, so nothing is rounded on the way.
        `recognised`: codes of the modules counted through a recognition of prior learning; `builds_on`: the
        required tracks (code, titles), written only when there are any. The Tamazight title is written only
        when the track has one: records without it read as before."""
        total = sum((Decimal(hours) for _, _, hours in modules), Decimal(0))
        recognised = set(recognised)
        track: dict[str, Any] = {"code": code, "title": {**{k: titles.get(k) or "" for k in LANGUAGES},
                                                         **({"zgh": titles["zgh"]} if titles.get("zgh") else {})},
                                 "min_attendance": None if min_attendance is None else hours_text(min_attendance)}
        required = [{"code": rcode, "title": {k: rtitles.get(k) or "" for k in LANGUAGES}} for rcode, rtitles in builds_on]
        if required:
            track["builds_on"] = required
        return {
            "version": 1,
            "track": track,
            "modules": [{"code": mcode, "title": {k: mtitles.get(k) or "" for k in LANGUAGES},
                         "hours": hours_text(hours), **({"recognised": True} if mcode in recognised else {})}
                        for mcode, mtitles, hours in modules],
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


# --- sharing ---------------------------------------------------------------------------------------------

LINKEDIN_ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


def linkedin_add_url(*, name: str, organization: str, issued_on: date, expires_on: date | None, cert_url: str,
                     cert_id: str) -> str:
    """LinkedIn's "Add to profile" link for a certification, prefilled with the parameters LinkedIn documents
    (addtoprofile.linkedin.com): the certification's name, the issuer, the month and year of issue and of
    expiry, the verification URL and the serial. A certificate that never expires carries no expiry."""
    params: dict[str, Any] = {"startTask": "CERTIFICATION_NAME", "name": name, "organizationName": organization,
                              "issueYear": issued_on.year, "issueMonth": issued_on.month}
    if expires_on is not None:
        params |= {"expirationYear": expires_on.year, "expirationMonth": expires_on.month}
    params |= {"certUrl": cert_url, "certId": cert_id}
    return f"{LINKEDIN_ADD_TO_PROFILE}?{urlencode(params, quote_via=quote)}"


# --- status lists ------------------------------------------------------------------------------------------

# W3C Bitstring Status List v1.0 advises at least 131,072 entries (16 KB) so a list says little about how many
# credentials exist, and random, never reused indexes so an index says nothing about when, or to whom.
STATUS_LIST_MIN_BITS = 131_072


def status_list_size(entries: int) -> int:
    """Entries in the status lists when `entries` indexes are taken: whole 16 KB blocks, at most half full,
    so a random draw finds a free index in two tries on average. Indexes only ever grow the list."""
    return STATUS_LIST_MIN_BITS * max(1, -(-2 * entries // STATUS_LIST_MIN_BITS))
