"""Morocco's calendar. Every "today" in the application comes from here (tests move this clock)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from importlib import resources
from zoneinfo import ZoneInfo


def _pinned_zone(name: str) -> ZoneInfo:
    """A zone from the pinned `tzdata` package, not the operating system's copy: Morocco's rules change
    (2026), and dates shown (Babel reads the same release through pytz) must match dates stored."""
    area, city = name.split("/")
    with resources.files(f"tzdata.zoneinfo.{area}").joinpath(city).open("rb") as data:
        return ZoneInfo.from_file(data, key=name)


MOROCCO = _pinned_zone("Africa/Casablanca")


def today() -> date:
    return datetime.now(MOROCCO).date()


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(timezone.utc)
