"""Working-day arithmetic on the national holiday calendar (holidays and adjusted working weekends).

A year with its State Council notice in holidays_cn.json uses the notice. A later year listed in the
file's "statutory" section is provisional: the statutory days of 全国年节及纪念日放假办法 plus the
补假 of its 第六条, without adjusted working weekends (调休), which only the year's notice sets.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_DAY = dt.timedelta(days=1)


class Coverage(enum.Enum):
    NOTICE = "notice"  # the year's State Council notice
    PROVISIONAL = "provisional"  # statutory days and 补假 only
    NONE = "none"  # weekends only


def _dates(values: Iterable[str]) -> set[dt.date]:
    return {dt.date.fromisoformat(v) for v in values}


def consecutive_runs(days: Iterable[dt.date]) -> list[list[dt.date]]:
    """Runs of consecutive days, in date order."""
    blocks: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if blocks and blocks[-1][-1] + _DAY == day:
            blocks[-1].append(day)
        else:
            blocks.append([day])
    return blocks


def with_make_up_days(statutory: Iterable[dt.date]) -> frozenset[dt.date]:
    """The statutory days plus their 补假: each one on a Saturday or Sunday gives a day off on the
    first weekday after its holiday block that is not already off (第六条)."""
    off = set(statutory)
    for block in consecutive_runs(off):
        owed = sum(day.weekday() >= 5 for day in block)
        day = block[-1]
        while owed:
            day += _DAY
            if day.weekday() < 5 and day not in off:
                off.add(day)
                owed -= 1
    return frozenset(off)


def _statutory_days(festivals: Mapping[str, list[str]]) -> set[dt.date]:
    return set().union(*(_dates(days) for days in festivals.values()))


@dataclass(frozen=True)
class HolidayCalendar:
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]  # weekend days worked in exchange for a holiday (调休)
    years: frozenset[int]  # years whose State Council notice is in the data
    provisional_years: frozenset[int] = frozenset()  # statutory days and 补假 only

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HolidayCalendar:
        holidays: set[dt.date] = set()
        workdays: set[dt.date] = set()
        for year in data["years"].values():
            holidays |= _dates(year["holidays"])
            workdays |= _dates(year.get("workdays", []))
        years = frozenset(int(y) for y in data["years"])
        statutory = data.get("statutory", {}).get("years", {})
        provisional = frozenset(int(y) for y in statutory) - years  # a notice takes precedence
        for year in provisional:
            holidays |= with_make_up_days(_statutory_days(statutory[str(year)]))
        return cls(frozenset(holidays), frozenset(workdays), years, provisional)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        return day.weekday() < 5

    def coverage(self, day: dt.date) -> Coverage:
        if day.year in self.years:
            return Coverage.NOTICE
        if day.year in self.provisional_years:
            return Coverage.PROVISIONAL
        return Coverage.NONE

    def covers(self, day: dt.date) -> bool:
        """Whether the day's year is set by its State Council notice."""
        return self.coverage(day) is Coverage.NOTICE

    def gap(self, day: dt.date) -> str | None:
        """What the calendar lacks for the day's year, for a warning; None when the notice is in."""
        coverage = self.coverage(day)
        if coverage is Coverage.PROVISIONAL:
            return (
                f"statutory days and 补假 only; the State Council notice for {day.year} "
                "is not in holidays_cn.json"
            )
        if coverage is Coverage.NONE:
            return f"holiday calendar has no year {day.year}; counting weekends only"
        return None

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after `start` (the day itself does not count)."""
        day = start
        remaining = n
        while remaining > 0:
            day += _DAY
            if self.is_working_day(day):
                remaining -= 1
        return day
