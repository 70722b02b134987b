"""Pure rules of the transcript: which occurrence of a module counts, the total hours, and the record frozen
at issue. No database, no request: transcripts.queries reads the rows, this assembles them."""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from certificates.rules import LANGUAGES, hours_text
from common.clock import MOROCCO

SERIAL_PREFIX = "KT"
SERIAL_RE = re.compile(r"^KT-\d{4}-\d{6}$")
RECORD_VERSION = 1
SIGNATURE_CONTEXT = b"kafaa-transcript-v1\x00"  # these signatures mean nothing elsewhere
COHORT, RECOGNITION = "cohort", "recognition"


@dataclass(frozen=True)
class Passed:
    """One way a module was passed: a passing result in a cohort, or a recognition in force."""

    code: str
    titles: dict[str, str]
    hours: Decimal
    at: datetime  # when the result or the recognition was recorded
    how: str  # COHORT or RECOGNITION
    cohort: str | None = None
    track: str | None = None

    @property
    def on(self) -> date:
        """The day it was recorded, in Morocco."""
        return self.at.astimezone(MOROCCO).date()


def _rank(passed: Passed) -> tuple:
    # A module attended and passed in a cohort wins over a recognition of it (what was attended is shown as
    # attended); among passes of the same kind, the earliest wins (then the cohort code, so ties are stable).
    return (passed.how != COHORT, passed.at, passed.cohort or "")


def modules_passed(occurrences: Iterable[Passed]) -> list[Passed]:
    """Each module once, by the occurrence that counts (see _rank), in the order they were passed."""
    best: dict[str, Passed] = {}
    for passed in occurrences:
        if passed.code not in best or _rank(passed) < _rank(best[passed.code]):
            best[passed.code] = passed
    return sorted(best.values(), key=lambda p: (p.at, p.code))


def total_hours(modules: Iterable[Passed]) -> Decimal:
    """The hours of distinct modules, summed exactly (decimal, never float)."""
    return sum((Decimal(m.hours) for m in modules), Decimal(0))


def _titles(titles: dict[str, str]) -> dict[str, str]:
    return {k: titles.get(k) or "" for k in LANGUAGES}


def record(*, holder: tuple[str, str, str | None], occurrences: Iterable[Passed],
           certificates: Iterable[dict[str, Any]], issuer: dict[str, str]) -> dict[str, Any]:
    """What a transcript states (the API's answer, and the JSON frozen at issue). Hours are decimal text and
    dates ISO text, so nothing is rounded or shifted on the way. `certificates`: each one's serial, track, titles,
    status (today), issued_on and expires_on, as certificate_line gives them."""
    modules = modules_passed(occurrences)
    name, name_ar, name_tfng = holder
    return {
        "version": RECORD_VERSION,
        "holder": {"name": name, "name_ar": name_ar, "name_tfng": name_tfng},
        "modules": [{"code": m.code, "title": _titles(m.titles), "hours": hours_text(m.hours),
                     "passed_on": m.on.isoformat(), "how": m.how, "cohort": m.cohort, "track": m.track}
                    for m in modules],
        "certificates": list(certificates),
        "total_hours": hours_text(total_hours(modules)),
        "issuer": {k: v for k, v in issuer.items() if v},
    }


def certificate_line(*, serial: str, track: str, titles: dict[str, str], status: str, issued_on: date,
                     expires_on: date | None) -> dict[str, Any]:
    return {"serial": serial, "track": track, "title": _titles(titles), "status": status,
            "issued_on": issued_on.isoformat(), "expires_on": expires_on.isoformat() if expires_on else None}


def digest(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a record: keys sorted, no spaces, UTF-8."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def signed_payload(serial: str, content_sha256: str) -> bytes:
    """What the issuer key signs: the serial and the content's digest."""
    return SIGNATURE_CONTEXT + serial.encode("ascii") + b"\x00" + bytes.fromhex(content_sha256)
