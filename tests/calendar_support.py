"""The holiday calendar as the notices up to 2026 left it. Tests about a year whose notice is not
out (2027 and later here) use it, so that adding the next year's notice to holidays_cn.json — a
data-only change (report_service/profiles/README.md) — breaks none of them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from report_service.profiles import Profile, load_profile
from report_service.workdays import HolidayCalendar

LAST_NOTICE = 2026
CALENDAR = Path(__file__).resolve().parents[1] / "report_service" / "profiles" / "holidays_cn.json"


def data_as_of() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CALENDAR.read_text(encoding="utf-8"))
    data["years"] = {y: v for y, v in data["years"].items() if int(y) <= LAST_NOTICE}
    return data


def calendar_as_of() -> HolidayCalendar:
    return HolidayCalendar.from_json(data_as_of())


def file_as_of(folder: Path) -> Path:
    """holidays_cn.json as of LAST_NOTICE, for `holidays check --file`."""
    path = folder / "holidays_cn.json"
    path.write_text(json.dumps(data_as_of(), ensure_ascii=False), encoding="utf-8")
    return path


def profiles_as_of() -> Callable[[str], Profile]:
    """load_profile, with the calendar as of LAST_NOTICE (monkeypatch it where it is used)."""
    calendar = calendar_as_of()
    return lambda region: dataclasses.replace(load_profile(region), calendar=calendar)
