"""Domain rules with no I/O. Eligibility lives here and only here: every screen, the API, certificate
issuance and the dashboard ask this module."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, Hashable, Iterable, Mapping, TypeVar

# Present and late count as attended; excused sessions are left out of the count entirely.
ATTENDED_STATUSES = frozenset({"present", "late"})
COUNTED_STATUSES = frozenset({"present", "late", "absent"})
DEFAULT_MIN_ATTENDANCE = Decimal("0.8")

K = TypeVar("K", bound=Hashable)  # a track's key: its id or its code


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


# Why a required track's certificate does not count (yet): none held, the held one expired, or it was revoked.
PREREQUISITE_REASONS = ("missing", "expired", "revoked")


@dataclass(frozen=True)
class PrerequisiteGap:
    track: str  # the required track's code
    reason: str  # one of PREREQUISITE_REASONS


def prerequisite_gap(track_code: str, statuses: Iterable[str]) -> PrerequisiteGap | None:
    """Whether the certificates a trainee holds of a required track meet it. `statuses` are those
    certificates' statuses today (certificates.rules.certificate_status). A valid one meets it; a
    superseded one says nothing (its replacement is in the list); otherwise an expired one is named
    before a revoked one (renewing it is the way forward), and with neither it is missing."""
    held = set(statuses)
    if "valid" in held:
        return None
    for reason in ("expired", "revoked"):
        if reason in held:
            return PrerequisiteGap(track_code, reason)
    return PrerequisiteGap(track_code, "missing")


def prerequisite_cycle(code: str, requires: Iterable[str], graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """The cycle that giving track `code` the prerequisites `requires` would close, as a path of codes
    from `code` back to it (["A", "A"] for a track requiring itself, ["A", "B", "A"] for A→B→A), or None.
    `graph` holds every other track's prerequisites (track code -> codes it requires); this track's own
    current ones are replaced by `requires`."""
    edges = {track: list(required) for track, required in graph.items()}
    edges[code] = list(requires)
    # Depth first from `code`, in code order so the cycle reported is the same every time.
    stack: list[tuple[str, list[str]]] = [(code, [code])]
    seen: set[str] = set()
    while stack:
        track, path = stack.pop()
        for required in sorted(edges.get(track, ()), reverse=True):
            if required == code:
                return path + [code]
            if required not in seen:
                seen.add(required)
                stack.append((required, path + [required]))
    return None


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    attended: int
    counted: int
    min_attendance: Decimal
    modules_passed: tuple[str, ...]
    modules_missing: tuple[str, ...]
    attendance_met: bool
    # Required modules that count through a recognition of prior learning (and not a result in a cohort).
    modules_recognised: tuple[str, ...] = ()
    prerequisites_missing: tuple[PrerequisiteGap, ...] = ()
    rate: Decimal | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", attendance_rate(self.attended, self.counted))


def eligibility(required_modules: Iterable[str], passed_modules: Iterable[str], attended: int, counted: int,
                min_attendance: Decimal, *, recognised_modules: Iterable[str] = (),
                prerequisites: Iterable[PrerequisiteGap | None] = ()) -> Eligibility:
    """A trainee is eligible for a track when every required module is passed, attendance is at or above
    the track's minimum and every prerequisite track's certificate is valid.

    A module passed in a cohort counts as attended there; a recognised module not passed in any cohort
    counts as passed and its attendance as met: it is left out of `attended` and `counted`, which the
    caller measured over the other modules. When every required module is recognised, attendance is met."""
    required = sorted(set(required_modules))
    passed = set(passed_modules)
    recognised = tuple(code for code in required if code not in passed and code in set(recognised_modules))
    missing = tuple(code for code in required if code not in passed and code not in recognised)
    attendance_met = meets_attendance(attended, counted, min_attendance) or (
        counted == 0 and bool(required) and len(recognised) == len(required))
    gaps = tuple(gap for gap in prerequisites if gap is not None)
    return Eligibility(
        eligible=not missing and attendance_met and not gaps,
        attended=attended,
        counted=counted,
        min_attendance=min_attendance,
        modules_passed=tuple(code for code in required if code in passed or code in recognised),
        modules_missing=missing,
        attendance_met=attendance_met,
        modules_recognised=recognised,
        prerequisites_missing=gaps,
    )


# --- the pathway: tracks as levels, and where a trainee stands on them ----------------------------------------

def pathway_levels(requires: Mapping[K, Iterable[K]]) -> dict[K, int]:
    """Each track's pathway level: 1 for a track that requires none, else 1 + the highest level among the
    tracks it requires (a diamond takes its longest branch). `requires`: track -> the tracks it requires; a
    required track missing from the keys requires none. A cycle (refused before it is saved) raises
    ValueError rather than looping."""
    levels: dict[K, int] = {}
    for start in requires:
        # Depth first without recursion: a long chain must not reach Python's recursion limit.
        stack: list[K] = [start]
        on_path: set[K] = {start}
        while stack:
            track = stack[-1]
            waiting = [t for t in requires.get(track, ()) if t not in levels]
            if not waiting:
                levels[track] = 1 + max((levels[t] for t in requires.get(track, ())), default=0)
                on_path.discard(stack.pop())
                continue
            if waiting[0] in on_path:
                raise ValueError(f"prerequisites form a cycle through {waiting[0]!r}")
            on_path.add(waiting[0])
            stack.append(waiting[0])
    return levels


# A track's state for one trainee on the pathway: a valid certificate held; enrolled in one of its cohorts;
# its certificate expired (to renew); a prerequisite not held; or open to them (every prerequisite held).
PATHWAY_STATES = ("certified", "in_progress", "expired", "locked", "not_started")


@dataclass(frozen=True)
class PathwayStep(Generic[K]):
    track: K
    level: int
    state: str  # one of PATHWAY_STATES
    # The prerequisites not held (each with why), for any track not certified: named on the page.
    missing: tuple[PrerequisiteGap, ...] = ()


def pathway_steps(requires: Mapping[K, Iterable[K]], codes: Mapping[K, str], held: Mapping[K, Iterable[str]],
                  enrolled: Iterable[K]) -> list[PathwayStep]:
    """Where a trainee stands on the pathway, over the tracks that concern them only: those they are enrolled
    in or hold a certificate of (valid or expired), those that come next (requiring a track they are
    certified in), and the prerequisites of these. Ordered by level, then code.

    `requires`: every track's prerequisites; `codes`: every track's code; `held`: the statuses today of the
    certificates the trainee holds, per track (certificates.rules.certificate_status); `enrolled`: the tracks
    of the cohorts they are enrolled in. A prerequisite is met exactly as eligibility says (prerequisite_gap)."""
    levels = pathway_levels(requires)
    enrolled = set(enrolled)
    statuses = {track: set(held.get(track, ())) for track in codes}
    certified = {track for track in codes if prerequisite_gap(codes[track], statuses[track]) is None}
    following = {track for track in codes if track not in certified | enrolled
                 and any(required in certified for required in requires.get(track, ()))}
    concerned = enrolled | following | {t for t in codes if statuses[t] & {"valid", "expired"}}
    concerned |= {required for track in enrolled | following for required in requires.get(track, ())}

    steps = []
    for track in concerned:
        gaps = () if track in certified else tuple(
            gap for gap in (prerequisite_gap(codes[r], statuses.get(r, ())) for r in requires.get(track, ()))
            if gap is not None)
        if track in certified:
            state = "certified"
        elif "expired" in statuses[track]:  # renewing it comes first, even if still enrolled in its cohort
            state = "expired"
        elif track in enrolled:
            state = "in_progress"
        else:
            state = "locked" if gaps else "not_started"
        steps.append(PathwayStep(track, levels[track], state, gaps))
    return sorted(steps, key=lambda step: (step.level, codes[step.track]))
