"""`report-service holidays check YEAR`: the working-day pattern around each holiday of a year, as
the calendar in holidays_cn.json gives it, and what looks wrong in that year's data.

Adding a year's State Council notice is adding its entry to `years` (profiles/README.md); this
command is how a person checks the entry against the notice before it is used for due dates.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .workdays import Coverage, HolidayCalendar, consecutive_runs, with_make_up_days

_DAY = dt.timedelta(days=1)
WEEKDAYS = "一二三四五六日"
CONTEXT_DAYS = 3  # days shown either side of a holiday block
SWAP_REACH = 14  # an adjusted working day lies this close to a holiday block, or it is a typo
# Fixed-date days of 全国年节及纪念日放假办法 第二条 (2024 revision): 元旦, 劳动节, 国庆节
FIXED_STATUTORY = {(1, 1): "元旦", (5, 1): "劳动节", (5, 2): "劳动节", (10, 1): "国庆节",
                   (10, 2): "国庆节", (10, 3): "国庆节"}  # fmt: skip


@dataclass
class YearCheck:
    year: int
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def load_calendar_data(path: str | None) -> dict[str, Any]:
    """holidays_cn.json: the installed one, or a copy being edited (`--file`)."""
    if path is not None:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    else:
        from .profiles import _read_json  # the package's own file, as the platform reads it

        data = _read_json("holidays_cn.json")
    if not isinstance(data, dict):
        raise ValueError("holidays_cn.json is not a JSON object")
    return data


def _cell(calendar: HolidayCalendar, day: dt.date) -> str:
    """One day: date, weekday and 休 (off), 班 (working) or 调休上班 (a weekend worked)."""
    if day in calendar.workdays:
        state = "调休上班"
    elif calendar.is_working_day(day):
        state = "班"
    else:
        state = "休"
    return f"{day:%m-%d}{WEEKDAYS[day.weekday()]}{state}"


def _festivals(data: dict[str, Any], year: int) -> dict[dt.date, str]:
    """The statutory days of `year` the data can name: the fixed-date ones from the 办法's first
    year on, and the lunar ones where the statutory section lists the year."""
    statutory = data.get("statutory", {})
    names: dict[dt.date, str] = {}
    if year >= int(statutory.get("first_year", 0)):
        names.update({dt.date(year, m, d): name for (m, d), name in FIXED_STATUTORY.items()})
    for name, days in statutory.get("years", {}).get(str(year), {}).items():
        names.update((dt.date.fromisoformat(day), name) for day in days)
    return names


def check_year(data: dict[str, Any], year: int) -> YearCheck:
    calendar = HolidayCalendar.from_json(data)
    out = YearCheck(year)
    coverage = calendar.coverage(dt.date(year, 6, 1))
    festivals = _festivals(data, year)
    if coverage is Coverage.NONE:
        out.lines.append(
            f"{year}: no notice and no statutory days in holidays_cn.json: due dates count "
            "weekends only (以官方公布为准)"
        )
        return out
    if coverage is Coverage.NOTICE:
        entry = data["years"][str(year)]
        out.lines.append(f"{year}: {entry.get('notice') or '(notice not named)'}")
        off = {dt.date.fromisoformat(d) for d in entry.get("holidays", [])}
        worked = {dt.date.fromisoformat(d) for d in entry.get("workdays", [])}
        out.problems += _notice_problems(year, off, worked, festivals, bool(entry.get("notice")))
    else:
        out.lines.append(
            f"{year}: provisional — statutory days and their 补假 only, no 调休 until the "
            "State Council notice is in holidays_cn.json (以官方公布为准)"
        )
        off = set(with_make_up_days(festivals))
        worked = set()
    for block in consecutive_runs(off):
        out.lines.append(_block_line(calendar, block, worked, festivals))
    swaps = "、".join(f"{d:%m-%d}{WEEKDAYS[d.weekday()]}" for d in sorted(worked))
    out.lines.append(f"  调休上班 ({len(worked)}): {swaps or 'none'}")
    return out


def _block_line(
    calendar: HolidayCalendar, block: list[dt.date], worked: set[dt.date], names: dict[dt.date, str]
) -> str:
    first, last = block[0], block[-1]
    before = [first - _DAY * i for i in range(CONTEXT_DAYS, 0, -1)]
    after = [last + _DAY * i for i in range(1, CONTEXT_DAYS + 1)]
    near = sorted(
        d for d in worked if first - _DAY * SWAP_REACH <= d <= last + _DAY * SWAP_REACH
    )  # the weekends worked for this block, shown even beyond the context days
    early = [d for d in near if d < before[0]]
    late = [d for d in near if d > after[-1]]
    festival = "、".join(dict.fromkeys(names[d] for d in block if d in names)) or "假期"
    cells = [
        *(f"{_cell(calendar, d)} …" for d in early),
        " ".join(_cell(calendar, d) for d in before),
        "| " + " ".join(_cell(calendar, d) for d in block) + " |",
        " ".join(_cell(calendar, d) for d in after),
        *(f"… {_cell(calendar, d)}" for d in late),
    ]
    return f"  {festival} {first} ~ {last}（{len(block)}天）: " + " ".join(cells)


def _notice_problems(
    year: int,
    off: set[dt.date],
    worked: set[dt.date],
    festivals: dict[dt.date, str],
    named: bool,
) -> list[str]:
    problems = []
    if not named:
        problems.append(f"years.{year}.notice: name the State Council notice the entry is from")
    for day in sorted(off & worked):
        problems.append(f"{day} is listed both as a holiday and as an adjusted working day")
    for day in sorted(worked):
        if day.weekday() < 5:
            problems.append(
                f"{day} (星期{WEEKDAYS[day.weekday()]}) is an adjusted working day on a weekday: "
                "调休上班 days are Saturdays or Sundays"
            )
        if day.year != year:
            problems.append(f"{day} is an adjusted working day outside {year}")
        if not any(abs((day - h).days) <= SWAP_REACH for h in off):
            problems.append(f"{day} is an adjusted working day far from every holiday")
    blocks = consecutive_runs(off)
    for block in blocks:
        outside = [d for d in block if d.year != year]
        if outside and dt.date(year, 1, 1) not in block:  # only 元旦's period reaches back
            problems += [f"{d} is a holiday outside {year}" for d in outside]
    for day, name in sorted(festivals.items()):
        if day.year == year and day not in off:
            problems.append(f"{day} ({name}, a statutory day) is not a holiday in the entry")
    return problems


def run(year: int, path: str | None = None) -> tuple[int, str]:
    """Exit status (0 fine, 1 problems) and the text to print."""
    result = check_year(load_calendar_data(path), year)
    lines = list(result.lines)
    if result.problems:
        lines.append(f"problems ({len(result.problems)}):")
        lines += [f"  - {p}" for p in result.problems]
        return 1, "\n".join(lines)
    lines.append("no problems found")
    return 0, "\n".join(lines)
