"""Objection due dates across the end of the State Council notices, in process with a set clock."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from report_service import objections
from report_service.bootstrap import open_platform
from report_service.clock import CST
from report_service.importer import import_lines
from report_service.service import Caller, ReportRequest

from .api_people import text_of
from .calendar_support import profiles_as_of
from .casebook import company_and_person, id_number, penalty, uscc

PROVISIONAL = (
    "statutory days and 补假 only; the State Council notice for {} is not in holidays_cn.json"
)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=CST)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture()
def file_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.date], str]:
    """Files an objection against a one-record Gansu report issued on the given day, on the
    calendar as the notices up to 2026 left it."""
    monkeypatch.setattr(objections, "load_profile", profiles_as_of())
    clock = Clock()
    service = open_platform(str(tmp_path / "p.db"), clock=clock)
    company, person = uscc("gansu", 7301), id_number("gansu", 731)
    lines = company_and_person("gansu", company, "甘肃期限测试有限公司", person, "孙八", "agent")
    record = penalty("DUE-1", company, "市场监管", "2025-06-01")
    import_lines(service, [*lines, json.dumps(record, ensure_ascii=False)])
    caller = Caller("T1", "hall", "gansu")

    def file(day: dt.date) -> str:
        clock.now = dt.datetime.combine(day, dt.time(15, 0), CST)
        token = service.logins.session_from_id_card(caller, person, "孙八", None)["session_token"]
        pid = service.logins.person_for(caller, token)
        request = ReportRequest(company, "all", dt.date(2025, 1, 1), dt.date(2025, 12, 31))
        report = service.reports.create_report(caller, pid, f"due-{day.isoformat()}", request)
        filed = service.objections.file(
            caller,
            service.logins.session_for(caller, token),
            report["report_id"],
            "DUE-1",
            "处罚已撤销",
            "13912345678",
        )
        return text_of(filed, "due_by")

    return file


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_filing_before_new_year_2027_skips_new_years_day(
    file_on: Callable[[dt.date], str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="report_service")
    # Fri 12-25: Mon 12-28, 12-29, 12-30, Thu 12-31; Fri 2027-01-01 元旦 off; Mon 01-04
    assert file_on(dt.date(2026, 12, 25)) == "2027-01-04"
    assert any(PROVISIONAL.format(2027) in w for w in warnings(caplog))


def test_filing_before_spring_festival_2027_skips_it_and_its_make_up_days(
    file_on: Callable[[dt.date], str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="report_service")
    # Thu 02-04; 02-05..02-08 春节, Sat 02-06 and Sun 02-07 give 补假 Tue 02-09 and Wed 02-10;
    # no 调休 working weekend without the 2027 notice: Thu 02-11, 02-12, Mon 02-15, 02-16, 02-17
    assert file_on(dt.date(2027, 2, 4)) == "2027-02-17"
    assert any(PROVISIONAL.format(2027) in w for w in warnings(caplog))


def test_filing_within_the_notices_gives_no_warning(
    file_on: Callable[[dt.date], str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="report_service")
    assert file_on(dt.date(2026, 11, 20)) == "2026-11-27"
    assert warnings(caplog) == []


def test_filing_past_the_statutory_years_warns_of_weekends_only(
    file_on: Callable[[dt.date], str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="report_service")
    # Fri 2030-12-27: Mon 12-30, Tue 12-31, then 2031 has no data, so 01-01 counts: 01-01..01-03
    assert file_on(dt.date(2030, 12, 27)) == "2031-01-03"
    assert any(
        "holiday calendar has no year 2031; counting weekends only" in w for w in warnings(caplog)
    )
