"""Time-dependent behaviour, in process with a controllable clock: expiry of sessions and reports."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from report_service import sessions
from report_service.bootstrap import open_platform
from report_service.clock import CST
from report_service.errors import ApiError
from report_service.importer import import_lines
from report_service.service import Caller, PlatformService, ReportRequest

from .casebook import company_and_person, id_number, uscc


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=CST)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


# the platform, its clock, a terminal's caller, an enterprise and its representative
World = tuple[PlatformService, Clock, Caller, str, str]


@pytest.fixture()
def world(tmp_path: Path) -> World:
    clock = Clock()
    service = open_platform(str(tmp_path / "p.db"), clock=clock)
    company, person = uscc("wuhai", 7001), id_number("wuhai", 701)
    import_lines(
        service,
        company_and_person(
            "wuhai", company, "乌海时钟测试有限公司", person, "钱七", "legal_representative"
        ),
    )
    caller = Caller("T1", "hall", "wuhai")
    return service, clock, caller, company, person


def code(exc: pytest.ExceptionInfo[ApiError]) -> str:
    return exc.value.code


def test_session_lives_ten_minutes(world: World) -> None:
    service, clock, caller, _, person = world
    token = service.logins.session_from_id_card(caller, person, "钱七", None)["session_token"]
    clock.advance(minutes=9, seconds=59)
    assert service.logins.person_for(caller, token) > 0
    clock.advance(seconds=1)
    with pytest.raises(ApiError) as exc:
        service.logins.person_for(caller, token)
    assert code(exc) == "session_expired"


def test_a_session_is_forgotten_a_day_after_it_expired(world: World, tmp_path: Path) -> None:
    """The sessions table must not become a record of every login, kept for ever: a login
    clears the sessions expired over a day before (each process looks at most hourly)."""
    service, clock, caller, _, person = world

    def stored() -> int:
        with sqlite3.connect(tmp_path / "p.db") as conn:
            return int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])

    first = service.logins.session_from_id_card(caller, person, "钱七", None)["session_token"]
    clock.advance(hours=23)
    service.logins.session_from_id_card(caller, person, "钱七", None)
    with pytest.raises(ApiError) as exc:  # expired under a day ago: still told apart
        service.logins.person_for(caller, first)
    assert code(exc) == "session_expired"
    assert stored() == 2
    clock.advance(hours=2)  # the first expired over a day ago; the second still under one
    latest = service.logins.session_from_id_card(caller, person, "钱七", None)["session_token"]
    assert stored() == 2
    with pytest.raises(ApiError) as exc:
        service.logins.person_for(caller, first)
    assert code(exc) == "session_invalid"
    assert service.logins.person_for(caller, latest) > 0


def test_a_backlog_of_old_sessions_goes_in_batches_and_then_hourly(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database from before the purge holds every session ever opened: logins delete them a
    batch at a time (one long delete would hold SQLite's write lock against every terminal),
    one after another until done, then only once an hour."""
    service, clock, caller, _, person = world
    monkeypatch.setattr(sessions, "SESSION_SWEEP_BATCH", 2)

    def login_then_count() -> int:
        service.logins.session_from_id_card(caller, person, "钱七", None)
        with sqlite3.connect(tmp_path / "p.db") as conn:
            return int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])

    assert [login_then_count() for _ in range(5)] == [1, 2, 3, 4, 5]
    clock.advance(days=2)
    assert [login_then_count() for _ in range(4)] == [4, 3, 3, 4]  # 2, 2, the last 1, none
    clock.advance(minutes=59)
    assert login_then_count() == 5  # within the hour: not looked for
    clock.advance(days=1, minutes=2)  # four of the five now expired over a day ago
    assert login_then_count() == 5 - 2 + 1  # due again: a batch of them goes, the login adds one


def test_card_expiring_today_is_still_valid(world: World) -> None:
    service, clock, caller, _, person = world
    assert service.logins.session_from_id_card(caller, person, "钱七", clock.now.date())[
        "session_token"
    ]
    with pytest.raises(ApiError) as exc:
        service.logins.session_from_id_card(
            caller, person, "钱七", clock.now.date() - dt.timedelta(days=1)
        )
    assert code(exc) == "id_card_expired"


def test_report_expires_after_its_validity(world: World) -> None:
    service, clock, caller, company, person = world
    token = service.logins.session_from_id_card(caller, person, "钱七", None)["session_token"]
    report = service.reports.create_report(
        caller,
        service.logins.person_for(caller, token),
        "clock-ticket-1",
        ReportRequest(company, "all", dt.date(2025, 1, 1), dt.date(2026, 3, 1)),
    )
    assert report["valid_until"] == "2026-04-01"  # 30 days, the profile's validity
    assert service.verify(report["verification_code"])["status"] == "valid"
    clock.advance(days=30)
    assert service.verify(report["verification_code"])["status"] == "valid"
    clock.advance(days=1)
    assert service.verify(report["verification_code"])["status"] == "expired"


def test_enrollment_token_expires_after_a_week(world: World) -> None:
    service, clock, _, _, _ = world
    token = service.terminals.add_enrollment_token("hall-9", "wuhai")
    clock.advance(days=7, seconds=1)
    with pytest.raises(ApiError) as exc:
        service.terminals.enroll(token, "A" * 43 + "=", {})
    assert code(exc) == "invalid_enrollment_token"


def test_objection_over_labour_day(world: World) -> None:
    service, clock, caller, company, person = world
    clock.now = dt.datetime(2026, 4, 30, 15, 0, tzinfo=CST)
    token = service.logins.session_from_id_card(caller, person, "钱七", None)["session_token"]
    pid = service.logins.person_for(caller, token)
    import_lines(
        service,
        [
            json.dumps(
                {
                    "type": "record",
                    "record_id": "CLK-1",
                    "uscc": company,
                    "domain": "市场监管",
                    "kind": "administrative_penalty",
                    "date": "2025-06-01",
                    "agency": "乌海市市场监督管理局",
                    "document_no": "乌市监罚〔2025〕9号",
                    "title": "虚假宣传",
                    "procedure": "general",
                    "decision": "punish",
                    "repaired_on": None,
                    "list_name": None,
                    "classified": False,
                },
                ensure_ascii=False,
            )
        ],
    )
    report = service.reports.create_report(
        caller,
        pid,
        "clock-ticket-2",
        ReportRequest(company, "all", dt.date(2025, 1, 1), dt.date(2026, 4, 30)),
    )
    filed = service.objections.file(
        caller,
        service.logins.session_for(caller, token),
        report["report_id"],
        "CLK-1",
        "处罚已撤销",
        "0473-1234567",
    )
    # May 1-5 off, Sat May 9 worked: May 6, 7, 8, 9, 11
    assert filed["due_by"] == "2026-05-11"
