"""`report-service holidays check YEAR`, and adding a year's State Council notice as data only
(issue 18).

国务院办公厅关于2026年部分节假日安排的通知 (2025年11月4日): 春节 2月15日至23日放假调休，共9天，2月14日
（星期六）、2月28日（星期六）上班. A year without its notice is counted from 全国年节及纪念日放假办法's
statutory days (第二条) and their 补假 (第六条), 以官方公布为准.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path

from report_service.workdays import Coverage, HolidayCalendar

from .calendar_support import data_as_of, file_as_of
from .platform_client import cli


def test_a_notice_year_shows_each_holiday_with_its_working_weekends() -> None:
    run = cli("holidays", "check", "2026")
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert lines[0] == "2026: 国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）"
    assert (
        "  假期 2026-02-15 ~ 2026-02-23（9天）: 02-12四班 02-13五班 02-14六调休上班 | 02-15日休 "
        "02-16一休 02-17二休 02-18三休 02-19四休 02-20五休 02-21六休 02-22日休 02-23一休 | "
        "02-24二班 02-25三班 02-26四班 … 02-28六调休上班"
    ) in lines
    assert "  调休上班 (6): 01-04日、02-14六、02-28六、05-09六、09-20日、10-10六" in lines
    assert lines[-1] == "no problems found"


def test_a_year_without_its_notice_is_provisional_and_says_so(tmp_path: Path) -> None:
    as_of = str(file_as_of(tmp_path))  # 2027's notice not in, whenever it is added to the data
    run = cli("holidays", "check", "2027", "--file", as_of)
    assert run.returncode == 0
    assert "2027: provisional" in run.stdout and "以官方公布为准" in run.stdout
    # 劳动节 on Sat 05-01 and Sun 05-02: 补假 on Mon 05-03 and Tue 05-04 (第六条), no 调休
    assert "  劳动节 2027-05-01 ~ 2027-05-04（4天）" in run.stdout
    none = cli("holidays", "check", "2031", "--file", as_of)
    assert "no notice and no statutory days" in none.stdout and "weekends only" in none.stdout


def with_year(tmp_path: Path, year: str, entry: Mapping[str, object]) -> Path:
    data = data_as_of()
    data["years"][year] = entry
    path = tmp_path / "holidays_cn.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


# Made-up test data in the shape of a notice, NOT the State Council's 2027 notice.
TEST_2027 = {
    "notice": "（测试数据）国务院办公厅关于2027年部分节假日安排的通知",
    "holidays": ["2027-01-01", "2027-01-02", "2027-01-03"]
    + [f"2027-02-{d:02d}" for d in range(5, 14)]
    + ["2027-04-03", "2027-04-04", "2027-04-05"]
    + [f"2027-05-{d:02d}" for d in range(1, 6)]
    + ["2027-06-09"]
    + ["2027-09-15"]
    + [f"2027-10-{d:02d}" for d in range(1, 8)],
    "workdays": ["2027-02-20", "2027-09-26", "2027-10-09"],
}


def test_adding_a_years_notice_is_a_data_change_checked_by_the_command(tmp_path: Path) -> None:
    path = with_year(tmp_path, "2027", TEST_2027)
    run = cli("holidays", "check", "2027", "--file", str(path))
    assert run.returncode == 0, run.stdout
    assert (
        run.stdout.splitlines()[0] == "2027: （测试数据）国务院办公厅关于2027年部分节假日安排的通知"
    )
    assert "  调休上班 (3): 02-20六、09-26日、10-09六" in run.stdout
    calendar = HolidayCalendar.from_json(json.loads(path.read_text(encoding="utf-8")))
    assert calendar.coverage(dt.date(2027, 6, 1)) is Coverage.NOTICE  # the notice, not 补假
    assert calendar.is_working_day(dt.date(2027, 2, 20))  # a Saturday worked by the notice
    # Wed 02-17: 18, 19, the Saturday 20 worked, 22, 23 (weekends only would give 02-24)
    assert calendar.add_working_days(dt.date(2027, 2, 17), 5) == dt.date(2027, 2, 23)


def test_a_mistyped_entry_is_caught(tmp_path: Path) -> None:
    wrong = dict(TEST_2027, workdays=["2027-02-10"], holidays=TEST_2027["holidays"][:-5])
    del wrong["notice"]
    path = with_year(tmp_path, "2027", wrong)
    run = cli("holidays", "check", "2027", "--file", str(path), check=False)
    assert run.returncode == 1
    assert "  - years.2027.notice: name the State Council notice the entry is from" in run.stdout
    assert "  - 2027-02-10 is listed both as a holiday and as an adjusted working day" in run.stdout
    assert (
        "  - 2027-02-10 (星期三) is an adjusted working day on a weekday: 调休上班 days are "
        "Saturdays or Sundays"
    ) in run.stdout
    assert "  - 2027-10-03 (国庆节, a statutory day) is not a holiday in the entry" in run.stdout
