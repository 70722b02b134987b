"""Domain rules with no I/O. Eligibility lives here and only here: every screen, the API, certificate
issuance and the dashboard ask this module."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable

# Present and late count as attended; excused sessions are left out of the count entirely.
ATTENDED_STATUSES = frozenset({"present", "late"})
COUNTED_STATUSES = frozenset({"present", "late", "absent"})
DEFAULT_MIN_ATTENDANCE = Decimal("0.8")


def attendance_rate(attended: int, counted: int) -> Decimal | None:
    """Share of counted sessions attended, or None when nothing has been counted yet."""
    if counted == 0:
        return None
    return Decimal(attended) / Decimal(counted)


def meets_attendance(attended: int, counted: int, minimum: Decimal) -> bool:
    """Exact comparison (no float rounding): 4 of 5 meets a minimum of 0.8.

    With nothing counted yet the minimum is met only when it is zero: no evidence is not attendance.
    """
    if counted == 0:
        return minimum == 0
    return Decimal(attended) >= minimum * Decimal(counted)


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    attended: int
    counted: int
    min_attendance: Decimal
    modules_passed: tuple[str, ...]
    modules_missing: tuple[str, ...]
    attendance_met: bool
    rate: Decimal | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", attendance_rate(self.attended, self.counted))


def eligibility(required_modules: Iterable[str], passed_modules: Iterable[str], attended: int, counted: int,
                min_attendance: Decimal) -> Eligibility:
    """A trainee is eligible for a track when every required module is passed and attendance is at or
    above the track's minimum."""
    required = sorted(set(required_modules))
    passed = set(passed_modules)
    missing = tuple(code for code in required if code not in passed)
    attendance_met = meets_attendance(attended, counted, min_attendance)
    return Eligibility(
        eligible=not missing and attendance_met,
        attended=attended,
        counted=counted,
        min_attendance=min_attendance,
        modules_passed=tuple(code for code in required if code in passed),
        modules_missing=missing,
        attendance_met=attendance_met,
    )
