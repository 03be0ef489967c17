"""Time in the platform's zone (China Standard Time, no daylight saving)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

CST = dt.timezone(dt.timedelta(hours=8), "CST")

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(CST)
