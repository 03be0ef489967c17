"""Report periods: the presets a user taps and the bounds a custom period must respect, in the
calendar of the halls and the platform (China Standard Time)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

CST = dt.timezone(dt.timedelta(hours=8))  # China has one time zone and no daylight saving
# the quick choices, in the order the scope screen offers them
PRESETS = ("this_year", "last_year", "last_1_year", "last_2_years", "last_3_years", "since_floor")
DEFAULT_PRESET = "last_3_years"


@dataclass(frozen=True, slots=True)
class Period:
    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class Bounds:
    floor: dt.date | None  # the region's earliest date, None when it has none
    max_years: int
    today: dt.date
    # the region lets a period start anywhere from its floor: max_years only covers that span
    from_floor: bool = False

    @property
    def earliest(self) -> dt.date:
        """The earliest start any period may have today."""
        by_length = _years_before(self.today, self.max_years)
        if _years_after(by_length, self.max_years) < self.today:  # today is 29 February
            by_length += dt.timedelta(days=1)
        return by_length if self.floor is None else max(self.floor, by_length)


def today_in_china() -> dt.date:
    return dt.datetime.now(CST).date()


def _years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier: the platform accepts [result, day] as `years` long."""
    try:
        earlier = day.replace(year=day.year - years)
    except ValueError:  # 29 February
        earlier = day.replace(year=day.year - years, day=28)
    return earlier


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def preset_period(preset: str, bounds: Bounds) -> Period:
    """The period a quick choice stands for today, never starting before the earliest allowed
    start (the journey still checks it: last year can lie wholly before a recent floor)."""
    today, end = bounds.today, bounds.today
    if preset == "this_year":
        start = dt.date(today.year, 1, 1)
    elif preset == "last_year":
        start, end = dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
    elif preset in ("last_1_year", "last_2_years", "last_3_years"):
        start = _years_before(today, int(preset.split("_")[1]))
    elif preset == "since_floor":
        start = bounds.earliest
    else:
        raise ValueError(f"unknown period preset {preset!r}")
    return Period(max(start, bounds.earliest), end)


def custom_period_error(start: dt.date, end: dt.date, bounds: Bounds) -> str | None:
    """Why a custom period is refused (a message id), or None when it is fine."""
    if start > end:
        return "period.reversed"
    if end > bounds.today:
        return "period.future"
    if bounds.floor is not None and start < bounds.floor:
        return "period.before_floor"
    if end > _years_after(start, bounds.max_years):  # the platform's own rule, to the day
        return "period.too_long"
    return None
