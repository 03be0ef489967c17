"""The holiday calendar past the State Council notices: statutory days, 补假, and coverage."""

from __future__ import annotations

import datetime as dt

import pytest

from report_service.workdays import Coverage, HolidayCalendar, with_make_up_days

from .calendar_support import calendar_as_of

D = dt.date


@pytest.fixture(scope="module")
def calendar() -> HolidayCalendar:
    return calendar_as_of()  # 2027-2030 provisional, even once their notices are in the data


def test_coverage_of_notice_provisional_and_missing_years(calendar: HolidayCalendar) -> None:
    assert calendar.coverage(D(2026, 6, 1)) is Coverage.NOTICE and calendar.covers(D(2026, 6, 1))
    for year in (2027, 2028, 2029, 2030):
        assert calendar.coverage(D(year, 6, 1)) is Coverage.PROVISIONAL
        assert not calendar.covers(D(year, 6, 1))
    assert calendar.coverage(D(2031, 1, 1)) is Coverage.NONE
    assert calendar.gap(D(2026, 6, 1)) is None
    assert calendar.gap(D(2028, 6, 1)) == (
        "statutory days and 补假 only; the State Council notice for 2028 is not in holidays_cn.json"
    )
    assert calendar.gap(D(2031, 1, 1)) == (
        "holiday calendar has no year 2031; counting weekends only"
    )


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (D(2026, 12, 25), D(2027, 1, 4)),  # Fri 2027-01-01 元旦
        (D(2027, 2, 4), D(2027, 2, 17)),  # 春节 02-05..08 and 补假 02-09, 02-10
        (D(2027, 4, 30), D(2027, 5, 11)),  # 劳动节 Sat 05-01, Sun 05-02: 补假 Mon 05-03, Tue 05-04
        (D(2029, 6, 15), D(2029, 6, 25)),  # 端午 Sat 06-16: 补假 Mon 06-18
        (D(2027, 6, 8), D(2027, 6, 16)),  # 端午 Wed 06-09: no 补假
    ],
)
def test_five_working_days_in_provisional_years(
    calendar: HolidayCalendar, start: dt.date, due: dt.date
) -> None:
    assert calendar.add_working_days(start, 5) == due


def test_make_up_day_follows_the_whole_holiday_block(calendar: HolidayCalendar) -> None:
    # 2028: 国庆 Sun 10-01 .. Tue 10-03, with 中秋 on 10-03: one 补假, Wed 10-04
    off = [D(2028, 9, 30) + dt.timedelta(days=i) for i in range(8)]
    assert [calendar.is_working_day(d) for d in off] == [
        False,  # Sat 09-30, an ordinary weekend: no 调休 without the 2028 notice
        False,
        False,
        False,
        False,  # Wed 10-04 补假
        True,
        True,
        False,  # Sat 10-07
    ]
    assert not calendar.is_working_day(D(2028, 1, 3))  # 元旦 on Sat 2028-01-01


def test_make_up_day_skips_days_already_off() -> None:
    sat, mon = D(2027, 5, 1), D(2027, 5, 3)  # two blocks: the Saturday's 补假 cannot be Monday
    assert with_make_up_days([sat, mon]) == {sat, mon, D(2027, 5, 4)}
    assert with_make_up_days([D(2027, 6, 9)]) == {D(2027, 6, 9)}  # a Wednesday owes nothing


def test_provisional_years_have_no_adjusted_working_weekends(calendar: HolidayCalendar) -> None:
    weekends = [
        d
        for d in (D(2027, 1, 1) + dt.timedelta(days=i) for i in range(4 * 365 + 1))
        if d.weekday() >= 5
    ]
    assert not any(calendar.is_working_day(d) for d in weekends)


def test_notice_takes_precedence_over_the_statutory_section() -> None:
    data = {
        "years": {"2026": {"holidays": ["2026-01-01", "2026-01-02"], "workdays": ["2026-01-04"]}},
        "statutory": {"years": {"2026": {"元旦": ["2026-01-01"], "端午节": ["2026-06-20"]}}},
    }
    calendar = HolidayCalendar.from_json(data)
    assert calendar.coverage(D(2026, 6, 19)) is Coverage.NOTICE
    assert calendar.is_working_day(D(2026, 6, 22))  # no 补假 for the statutory Saturday
    assert calendar.is_working_day(D(2026, 1, 4)) and not calendar.is_working_day(D(2026, 1, 2))
