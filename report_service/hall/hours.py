"""A hall's opening hours, with the State Council holiday calendar: when is a terminal `closed`?

Written by `report-service halls set-hours --hours "mon-fri 08:30-17:30; sat 09:00-12:00"`. A public
holiday is closed whatever the weekly hours say; a weekend day worked in exchange for a holiday
(调休上班) keeps Monday's hours, as halls open on such days like on any working day.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Iterator

from ..workdays import HolidayCalendar

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(
    r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?(?:,[a-z]{3}(?:-[a-z]{3})?)*)\s+(?P<spans>.+)$"
)
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")

Weekly = dict[int, list[tuple[dt.time, dt.time]]]


class HoursError(ValueError):
    """An opening-hours text that cannot be read; the message says which part and why."""


def parse_hours(text: str) -> Weekly:
    """`mon-fri 08:30-12:00,13:30-17:30; sat 09:00-12:00` -> spans per weekday (0 = Monday)."""
    weekly: Weekly = {}
    for part in (p.strip() for p in text.lower().split(";")):
        if not part:
            continue
        match = _PART.match(part)
        if match is None:
            raise HoursError(f"{part!r}: expected days and times, e.g. 'mon-fri 08:30-17:30'")
        days = _days(match["days"], part)
        spans = [_span(s.strip(), part) for s in match["spans"].split(",")]
        for day in days:
            if day in weekly:
                raise HoursError(f"{part!r}: {DAYS[day]} is given twice")
            weekly[day] = sorted(spans)
    if not weekly:
        raise HoursError("no opening hours given")
    for day, spans in weekly.items():
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                raise HoursError(f"{DAYS[day]}: opening times overlap")
    return weekly


def _days(text: str, part: str) -> list[int]:
    days: list[int] = []
    for chunk in text.split(","):
        first, _, last = chunk.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise HoursError(f"{part!r}: days are mon, tue, wed, thu, fri, sat, sun")
        a, b = DAYS.index(first), DAYS.index(last or first)
        if b < a:
            raise HoursError(f"{part!r}: {chunk} runs backwards")
        days.extend(range(a, b + 1))
    return days


def _span(text: str, part: str) -> tuple[dt.time, dt.time]:
    match = _SPAN.match(text)
    if match is None:
        raise HoursError(f"{part!r}: {text!r} is not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start = dt.time(h1, m1)
    end = dt.time.max if (h2, m2) >= (24, 0) else dt.time(h2, m2)
    if (h2, m2) > (24, 0) or end <= start:
        raise HoursError(f"{part!r}: {text} ends before it starts")
    return start, end


def dump_hours(weekly: Weekly) -> str:
    return json.dumps(
        {DAYS[d]: [[a.strftime("%H:%M"), _end(b)] for a, b in spans] for d, spans in weekly.items()}
    )


def load_hours(stored: str) -> Weekly | None:
    """The stored hours, or None when the hall has none (then it is never `closed`)."""
    if not stored:
        return None
    data = json.loads(stored)
    return {
        DAYS.index(day): [
            (dt.time.fromisoformat(a), dt.time.max if b == "24:00" else dt.time.fromisoformat(b))
            for a, b in spans
        ]
        for day, spans in data.items()
    }


def describe(weekly: Weekly | None) -> str:
    if weekly is None:
        return "未设置营业时间"
    names = "一二三四五六日"
    return "；".join(
        f"周{names[d]} " + "、".join(f"{a.strftime('%H:%M')}-{_end(b)}" for a, b in spans)
        for d, spans in sorted(weekly.items())
    )


def _end(t: dt.time) -> str:
    return "24:00" if t == dt.time.max else t.strftime("%H:%M")


def spans_on(
    weekly: Weekly, calendar: HolidayCalendar, day: dt.date
) -> list[tuple[dt.time, dt.time]]:
    if day in calendar.holidays:
        return []
    if day in calendar.workdays and day.weekday() >= 5:  # 调休上班: a working day's hours
        return weekly.get(0, [])
    return weekly.get(day.weekday(), [])


def is_open(weekly: Weekly | None, calendar: HolidayCalendar, when: dt.datetime) -> bool:
    """Whether the hall is open at `when` (a time in the hall's zone, CST)."""
    if weekly is None:
        return True
    moment = when.time()
    return any(a <= moment < b for a, b in spans_on(weekly, calendar, when.date()))


def open_intervals(
    weekly: Weekly | None, calendar: HolidayCalendar, start: dt.datetime, end: dt.datetime
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The opening hours between `start` and `end` as (from, to) pairs, in their time zone."""
    day = start.date()
    while day <= end.date():
        spans = [(dt.time.min, dt.time.max)] if weekly is None else spans_on(weekly, calendar, day)
        for a, b in spans:
            lo = dt.datetime.combine(day, a, start.tzinfo)
            hi = (
                dt.datetime.combine(day, b, start.tzinfo)
                if b != dt.time.max
                else (dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, start.tzinfo))
            )
            lo, hi = max(lo, start), min(hi, end)
            if lo < hi:
                yield lo, hi
        day += dt.timedelta(days=1)
