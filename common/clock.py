"""Morocco's calendar. Every "today" in the application comes from here (tests move this clock)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

MOROCCO = ZoneInfo("Africa/Casablanca")


def today() -> date:
    return datetime.now(MOROCCO).date()


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(timezone.utc)
