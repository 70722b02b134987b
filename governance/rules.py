"""Quarters in Morocco's time zone, and the small-count rule. Pure functions, no I/O."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from common.clock import MOROCCO

QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")
SMALL_COUNT = "<5"


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


def shown(count: int) -> int | str:
    """Counts from 1 to 4 are shown as "<5" so that nobody can be singled out; 0 and 5+ as they are."""
    return SMALL_COUNT if 1 <= count <= 4 else count


def shown_breakdown(counts: dict[str, int]) -> dict[str, int | str]:
    return {key: shown(value) for key, value in counts.items()}
