"""Working-day arithmetic on the national holiday calendar (holidays and adjusted working weekends)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class HolidayCalendar:
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]  # weekend days worked in exchange for a holiday (调休)
    years: frozenset[int]

    @classmethod
    def from_json(cls, data: dict) -> HolidayCalendar:  # type: ignore[type-arg]
        holidays: set[dt.date] = set()
        workdays: set[dt.date] = set()
        for year in data["years"].values():
            holidays.update(dt.date.fromisoformat(d) for d in year["holidays"])
            workdays.update(dt.date.fromisoformat(d) for d in year.get("workdays", []))
        years = frozenset(int(y) for y in data["years"])
        return cls(frozenset(holidays), frozenset(workdays), years)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        return day.weekday() < 5

    def covers(self, day: dt.date) -> bool:
        return day.year in self.years

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after `start` (the day itself does not count)."""
        day = start
        remaining = n
        while remaining > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day
