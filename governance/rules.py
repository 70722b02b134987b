"""Quarters in Morocco's time zone, and who counts as trained. Pure functions, no I/O. The small-count
rule lives in governance.disclosure (re-exported here for older callers)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from common.clock import MOROCCO
from governance.disclosure import SMALL as SMALL_COUNT, shown  # noqa: F401  (one rule, one place)

QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        match = QUARTER_RE.match(text or "")
        if not match:
            raise ValueError(f"not a quarter: {text!r} (expected e.g. 2026-Q4)")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def next(self) -> "Quarter":
        return Quarter(self.year + (self.number == 4), self.number % 4 + 1)

    def previous(self) -> "Quarter":
        return Quarter(self.year - (self.number == 1), (self.number - 2) % 4 + 1)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) of the quarter as UTC instants: midnight in Morocco, not in UTC."""
        start = datetime.combine(self.first_day, time.min, MOROCCO)
        end = datetime.combine(self.next().first_day, time.min, MOROCCO)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def quarters_between(first: Quarter, last: Quarter) -> list[Quarter]:
    quarters, current = [], first
    while current <= last:
        quarters.append(current)
        current = current.next()
    return quarters


# --- who counts as trained, as periods of days ----------------------------------------------------------

@dataclass(frozen=True)
class CountingCertificate:
    """A certificate of a track that counts toward the target, as the figures see it."""
    track_id: int
    issued_on: date
    expires_on: date | None
    revoked_at: datetime | None  # aware instants
    superseded_at: datetime | None
    language: str | None  # the training language of the cohort it was earned in

    @property
    def last_day(self) -> date | None:
        """The last day it counts (None: no end): its expiry day, or the day before the one (in Morocco)
        on which it was revoked or replaced. It may fall before the issue day: then it never counts."""
        ends = [self.expires_on] if self.expires_on is not None else []
        ends += [moment.astimezone(MOROCCO).date() - timedelta(days=1)
                 for moment in (self.revoked_at, self.superseded_at) if moment is not None]
        return min(ends) if ends else None


@dataclass(frozen=True)
class CountedPeriod:
    """Days during which a person counts as trained (stored as governance.models.TrainedPeriod)."""
    track_id: int | None  # None: any counting track (the programme figure)
    first_day: date
    last_day: date | None  # None: no end
    language: str | None


def trained_periods(certificates: list[CountingCertificate]) -> list[CountedPeriod]:
    """One person's periods of being trained: for the programme (any of the certificates) and for each
    track. Periods of one scope never overlap; within one, the language is the smallest of the
    certificates counting then, as the figures define it."""
    scopes: dict[int | None, list[CountingCertificate]] = {None: certificates}
    for certificate in certificates:
        scopes.setdefault(certificate.track_id, []).append(certificate)
    return [CountedPeriod(scope, *period) for scope, chosen in scopes.items() for period in _periods(chosen)]


def _periods(certificates: list[CountingCertificate]) -> list[tuple[date, date | None, str | None]]:
    spans = [(c.issued_on, c.last_day, c.language) for c in certificates
             if c.last_day is None or c.last_day >= c.issued_on]
    # Between two consecutive boundaries the same certificates count every day.
    bounds = sorted({first for first, _last, _language in spans}
                    | {last + timedelta(days=1) for _first, last, _language in spans if last is not None})
    periods: list[tuple[date, date | None, str | None]] = []
    for start, following in zip(bounds, bounds[1:] + [None]):
        counting = [s for s in spans if s[0] <= start and (s[1] is None or s[1] >= start)]
        if not counting:
            continue
        languages = [language for _first, _last, language in counting if language is not None]
        language = min(languages) if languages else None
        end = None if following is None else following - timedelta(days=1)
        if periods and periods[-1][2] == language and periods[-1][1] == start - timedelta(days=1):
            periods[-1] = (periods[-1][0], end, language)
        else:
            periods.append((start, end, language))
    return periods


# --- the pathway: tracks that build on tracks -----------------------------------------------------------
