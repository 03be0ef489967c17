"""Time in the platform's zone (China Standard Time, no daylight saving)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

CST = dt.timezone(dt.timedelta(hours=8), "CST")

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(CST)


def aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes (stored in platform time); PostgreSQL aware ones in UTC."""
    return value.replace(tzinfo=CST) if value.tzinfo is None else value.astimezone(CST)
