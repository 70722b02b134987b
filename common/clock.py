"""Morocco's calendar. Every "today" in the application comes from here (tests move this clock)."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

MOROCCO = ZoneInfo("Africa/Casablanca")


def today() -> date:
    return datetime.now(MOROCCO).date()
