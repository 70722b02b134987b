"""The governance figures as typed values: what governance.queries computes, a closed quarter's snapshot
holds, and the API, the dashboard and the quarterly report show. Exact counts; the small-count rule is
applied where they are shown (governance.serializers, governance.report). No database, no request.

A snapshot stores a quarter's figures as JSON (`to_json`), and `from_json` reads them back: the JSON keeps
the shape snapshots have always had, so snapshots closed before these types existed read the same (and
those closed before the pathway funnel existed have no "pathway").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

from governance.rules import Quarter

BREAKDOWNS = ("category", "sector", "region", "gender", "language")
CERTIFICATE_EVENTS = ("issued", "revoked", "expired", "verifications")


def _counts(value: Any) -> dict[str, int]:
    return {str(key): int(count) for key, count in (value or {}).items()}


@dataclass(frozen=True)
class Breakdowns:
    """People trained on a day, and the same total broken down by each attribute (code -> count)."""
    trained: int
    by_category: dict[str, int]
    by_sector: dict[str, int]
    by_region: dict[str, int]
    by_gender: dict[str, int]
    by_language: dict[str, int]

    def by(self, name: str) -> dict[str, int]:
        """The breakdown by one of BREAKDOWNS."""
        if name not in BREAKDOWNS:
            raise KeyError(name)
        return getattr(self, f"by_{name}")

    def breakdowns_json(self) -> dict[str, Any]:
        return {"trained": self.trained, **{f"by_{name}": dict(self.by(name)) for name in BREAKDOWNS}}

    @staticmethod
    def breakdowns_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
        return {"trained": int(data.get("trained") or 0),
                **{f"by_{name}": _counts(data.get(f"by_{name}")) for name in BREAKDOWNS}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Breakdowns:
        return cls(**cls.breakdowns_from_json(data))


@dataclass(frozen=True)
class TrendPoint:
    quarter: Quarter
    trained: int


@dataclass(frozen=True)
class CertificateEvents:
    """Certificates issued, revoked and expired during a quarter, and checks by verifiers."""
    issued: int = 0
    revoked: int = 0
    expired: int = 0
    verifications: int = 0

    def to_json(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in CERTIFICATE_EVENTS}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> CertificateEvents:
        return cls(**{name: int((data or {}).get(name) or 0) for name in CERTIFICATE_EVENTS})


@dataclass(frozen=True)
class CohortRate:
    """A cohort running during the quarter, with the totals behind its attendance and completion rates."""
    code: str
    sector: str | None
    region: str | None
    language: str | None
    attended: int
    counted: int
    enrolled: int
    completed: int

    @property
    def attendance_rate(self) -> float | None:
        return self.attended / self.counted if self.counted else None

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.enrolled if self.enrolled else None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "sector": self.sector, "region": self.region, "language": self.language,
                "attended": self.attended, "counted": self.counted, "enrolled": self.enrolled,
                "completed": self.completed}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CohortRate:
        return cls(code=str(data.get("code", "")), sector=data.get("sector"), region=data.get("region"),
                   language=data.get("language"),
                   **{name: int(data.get(name) or 0) for name in ("attended", "counted", "enrolled", "completed")})


@dataclass(frozen=True)
class PathwayLevel:
    """One level of the pathway on the as-of day (docs/rules.md, "The pathway funnel"). `holding`: people
    holding a valid certificate of a track at this level; `moved_in`: people who moved up into it during
    the quarter (their first certificate of this level, having held the level below; 0 for level 1);
    `moved_holding`: those of them who still hold it on the as-of day, which the small-count rule needs
    (governance.funnel) and nobody is shown; `tracks`: the codes of its tracks, as they were."""
    level: int
    tracks: tuple[str, ...]
    holding: int
    moved_in: int = 0
    moved_holding: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "tracks": list(self.tracks), "holding": self.holding,
                "moved_in": self.moved_in, "moved_holding": self.moved_holding}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PathwayLevel:
        return cls(level=int(data["level"]), tracks=tuple(str(t) for t in data.get("tracks") or ()),
                   **{name: int(data.get(name) or 0) for name in ("holding", "moved_in", "moved_holding")})


@dataclass(frozen=True)
class Pathway:
    """The pathway funnel of a quarter on its as-of day, exact: `trained` (the people holding any level,
    who are the programme's trained people), of whom `recognised` were trained through recognition of
    prior learning, and each level in order."""
    trained: int
    recognised: int
    levels: tuple[PathwayLevel, ...]

    def to_json(self) -> dict[str, Any]:
        return {"trained": self.trained, "recognised": self.recognised,
                "levels": [level.to_json() for level in self.levels]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Pathway:
        return cls(trained=int(data.get("trained") or 0), recognised=int(data.get("recognised") or 0),
                   levels=tuple(PathwayLevel.from_json(level) for level in data.get("levels") or ()))


@dataclass(frozen=True)
class Figures(Breakdowns):
    """Everything the dashboard and the report show for a quarter, taken on `as_of` (its last day, or
    today while it runs). `previous`: the previous quarter's breakdowns, when asked for with the live
    figures; `cohorts`: the quarter's cohort table, held by snapshots and reports."""
    quarter: Quarter
    as_of: date
    targets: dict[str, int]
    trend: tuple[TrendPoint, ...]
    certificates: CertificateEvents
    previous: Breakdowns | None = None
    cohorts: tuple[CohortRate, ...] | None = field(default=None)
    pathway: Pathway | None = None  # held by snapshots closed since the funnel exists, and by reports

    @property
    def target(self) -> int:
        return int(self.targets.get("total", 0))

    def to_json(self) -> dict[str, Any]:
        """As a snapshot stores it."""
        data: dict[str, Any] = {"quarter": str(self.quarter), "as_of": self.as_of.isoformat(),
                                "targets": dict(self.targets), **self.breakdowns_json(),
                                "trend": [{"quarter": str(t.quarter), "trained": t.trained} for t in self.trend],
                                "certificates": self.certificates.to_json()}
        if self.previous is not None:
            data["previous"] = self.previous.breakdowns_json()
        if self.cohorts is not None:
            data["cohorts"] = [cohort.to_json() for cohort in self.cohorts]
        if self.pathway is not None:
            data["pathway"] = self.pathway.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Figures:
        """Figures read back from their JSON (a snapshot's); a quarter that is not one raises ValueError."""
        quarter = Quarter.parse(str(data.get("quarter")))
        as_of = data.get("as_of")
        return cls(
            quarter=quarter,
            as_of=as_of if isinstance(as_of, date) else date.fromisoformat(str(as_of)),
            targets=_counts(data.get("targets")),
            **cls.breakdowns_from_json(data),
            trend=tuple(TrendPoint(Quarter.parse(str(t["quarter"])), int(t["trained"]))
                        for t in data.get("trend") or ()),
            certificates=CertificateEvents.from_json(data.get("certificates")),
            previous=Breakdowns.from_json(data["previous"]) if data.get("previous") is not None else None,
            cohorts=(tuple(CohortRate.from_json(c) for c in data["cohorts"]) if data.get("cohorts") is not None
                     else None),
            # snapshots closed before the funnel existed have none
            pathway=Pathway.from_json(data["pathway"]) if data.get("pathway") is not None else None,
        )
