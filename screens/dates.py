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


def _clamped(day: dt.date, low: dt.date, high: dt.date) -> dt.date:
    return min(max(day, low), high)


def with_year(day: dt.date, year: int, low: dt.date, high: dt.date) -> dt.date:
    """`day` in another year (29 February becomes the 28th), kept within [low, high]."""
    last = calendar.monthrange(year, day.month)[1]
    return _clamped(dt.date(year, day.month, min(day.day, last)), low, high)


def with_month(day: dt.date, month: int, end: bool, low: dt.date, high: dt.date) -> dt.date:
    """The first day of `month` in `day`'s year for a start date, its last day for an end date (a
    whole month in two taps), kept within [low, high]."""
    last = calendar.monthrange(day.year, month)[1]
    return _clamped(dt.date(day.year, month, last if end else 1), low, high)


def month_open(year: int, month: int, low: dt.date, high: dt.date) -> bool:
    """Whether any day of that month lies within [low, high]."""
    first = dt.date(year, month, 1)
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return last >= low and first <= high


def year_choices(low: dt.date, high: dt.date, longest: int) -> list[int]:
    """The years a period may touch: from the floor's year, and no more than `longest` + 1 of them
    (a period is at most `longest` years long), up to this year."""
    return list(range(max(low.year, high.year - longest), high.year + 1))
