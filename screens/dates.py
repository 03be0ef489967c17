"""Date steppers for the custom period: year, month and day buttons instead of a keyboard."""

from __future__ import annotations

import calendar
import datetime as dt

PARTS = ("year", "month", "day")


def step_date(day: dt.date, part: str, delta: int) -> dt.date:
    """`day` moved by `delta` years, months or days; the day of month is clamped (31 Jan + 1 month
    is 28/29 Feb), and the result stays within the years a date can have."""
    if part == "day":
        try:
            return day + dt.timedelta(days=delta)
        except OverflowError:
            return day
    if part == "month":
        index = day.year * 12 + (day.month - 1) + delta
        year, month = divmod(index, 12)
        month += 1
    elif part == "year":
        year, month = day.year + delta, day.month
    else:
        raise ValueError(f"unknown date part {part!r}; choose one of {PARTS}")
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        return day
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))
