"""The objection deadline is a field of each profile, with its source (issue 18).

Only Wuhai's seed states a number of days: “相关单位应在5个工作日内核实所提供信息的真实性、准确性，并按照
规定予以说明”. The others ask for speed without a number — Gansu “相关部门要建立申诉快速办理机制，对专用信用
报告中有关信息的异议、更正、更新、修复等事项进行快速处理”, Lanzhou “相关部门应及时受理并第一时间进行反馈”,
Huzhou “涉及部门和单位对相关异议和诉求应当及时处理”, Heihe “及时处理异议申诉、信用修复等诉求” — so their
5 working days are a deployment default, and the catalog and the objection answer say which.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kiosk.api_models import Catalog
from report_service import objections
from report_service.bootstrap import open_platform
from report_service.clock import CST
from report_service.importer import import_lines
from report_service.profiles import load_profile
from report_service.service import Caller, ReportRequest

from .calendar_support import profiles_as_of
from .casebook import company_and_person, id_number, penalty, uscc
from .conftest import enroll
from .platform_client import ServiceProcess

WUHAI_WORDS = "相关单位应在5个工作日内核实所提供信息的真实性、准确性，并按照规定予以说明"
SAYS = {
    "gansu": "相关部门要建立申诉快速办理机制，对专用信用报告中有关信息的异议、更正、更新、修复等事项进行快速处理",
    "lanzhou": "经营主体认为专用信用报告中信息有误的，可按照有关规定提出异议，相关部门应及时受理并第一时间进行反馈",
    "huzhou": "对市场主体认为信息存在错误或遗漏的，涉及部门和单位对相关异议和诉求应当及时处理",
    "heihe": "畅通企业申诉渠道，及时处理异议申诉、信用修复等诉求",
}


@pytest.mark.parametrize("region", ["gansu", "lanzhou", "huzhou", "wuhai", "heihe"])
def test_the_catalog_says_the_deadline_and_where_it_comes_from(
    platform: ServiceProcess, region: str
) -> None:
    catalog = enroll(platform, region).request("GET", "/v1/catalog").json()
    deadline = catalog["objection_deadline"]
    if region == "wuhai":
        assert deadline == {"working_days": 5, "basis": "seed", "source": WUHAI_WORDS}
    else:
        assert deadline == {
            "working_days": 5,
            "basis": "deployment_default",
            "source": SAYS[region],
        }
        assert "objection_deadline_working_days" in catalog["deployment_defaults"]
    kiosk = Catalog.from_json(catalog)  # what the kiosk reads, and keeps in its offline cache
    assert (
        kiosk.objection_deadline is not None
        and kiosk.objection_deadline.basis == (deadline["basis"])
    )
    assert Catalog.from_json(kiosk.to_json()) == kiosk
    # a region whose periods may start anywhere from its floor says so; Heihe has no floor
    assert kiosk.max_period_from_floor is (region != "heihe")
    # a basis this kiosk does not know hides the deadline, never the whole catalog (every login)
    odd = {**catalog, "objection_deadline": {**deadline, "basis": "ministry_rule"}}
    assert Catalog.from_json(odd).objection_deadline is None
    assert Catalog.from_json(odd).domains == kiosk.domains


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 20, 9, 0, tzinfo=CST)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture()
def file_objection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, dt.date], dict[str, Any]]:
    """Files an objection against a one-record report of `region` issued on a given day (on the
    calendar as the notices up to 2026 left it)."""
    monkeypatch.setattr(objections, "load_profile", profiles_as_of())
    clock = Clock()
    service = open_platform(str(tmp_path / "p.db"), clock=clock)

    def file(region: str, day: dt.date) -> dict[str, Any]:
        company, person = uscc(region, 7401), id_number(region, 741)
        lines = company_and_person(region, company, "期限测试有限公司", person, "周九", "agent")
        record = penalty(f"DL-{region}", company, "市场监管", "2025-06-01")
        import_lines(service, [*lines, json.dumps(record, ensure_ascii=False)])
        clock.now = dt.datetime.combine(day, dt.time(15, 0), CST)
        caller = Caller("T1", "hall", region)
        token = service.logins.session_from_id_card(caller, person, "周九", None)["session_token"]
        pid = service.logins.person_for(caller, token)
        request = ReportRequest(company, "all", dt.date(2025, 1, 1), dt.date(2025, 12, 31))
        report = service.reports.create_report(caller, pid, f"dl-{day}", request)
        person_session = service.logins.session_for(caller, token)
        return service.objections.file(
            caller, person_session, report["report_id"], f"DL-{region}", "处罚已撤销", "13912345678"
        )

    return file


def test_the_answer_says_the_deadline_is_the_schemes_or_the_default(
    file_objection: Callable[[str, dt.date], dict[str, Any]],
) -> None:
    wuhai = file_objection("wuhai", dt.date(2026, 11, 20))  # a Friday in a notice year
    assert wuhai["due_by"] == "2026-11-27"
    assert (wuhai["working_days"], wuhai["deadline_basis"], wuhai["calendar"]) == (
        5,
        "seed",
        "notice",
    )
    assert "calendar_note" not in wuhai
    gansu = file_objection("gansu", dt.date(2026, 11, 20))
    assert gansu["deadline_basis"] == "deployment_default"


def test_a_due_date_in_a_year_without_its_notice_says_the_official_schedule_prevails(
    file_objection: Callable[[str, dt.date], dict[str, Any]],
) -> None:
    answer = file_objection("wuhai", dt.date(2026, 12, 25))  # due 2027-01-04: no 2027 notice
    assert answer["due_by"] == "2027-01-04" and answer["calendar"] == "provisional"
    assert answer["calendar_note"] == (
        "2027年的节假日安排尚未公布，答复日期按法定节假日推算，以官方公布为准。"
    )


def test_the_number_of_days_is_the_profiles(
    file_objection: Callable[[str, dt.date], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A province that sets another deadline changes the profile, not the code."""
    ten = dataclasses.replace(load_profile("gansu"), objection_days=10)
    monkeypatch.setattr(objections, "load_profile", lambda region: ten)
    answer = file_objection("gansu", dt.date(2026, 11, 20))
    assert answer["due_by"] == "2026-12-04" and answer["working_days"] == 10
