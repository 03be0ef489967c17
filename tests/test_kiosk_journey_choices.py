"""What the journey gives every person (issue 17): all or none of the domains in one tap and never
an empty choice, quick periods and the allowed range, the objection's number and slip, a step
bar without the steps this person skips, the hall and one title from the first screen, and
words that fit how the person signed in."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

from kiosk.api_models import Catalog
from kiosk.errors import ApiError
from kiosk.journey import Journey
from kiosk.periods import PRESETS, Bounds, Period, preset_period
from kiosk.ports import PrintFailure
from kiosk.steps import PROGRESS, Step

from .kiosk_fakes import ACME, BETA, CATALOG, TODAY, Card, FakeServices, login, report


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(services: FakeServices | None = None, **kwargs: Any) -> tuple[Journey, FakeServices]:
    services = services or FakeServices()
    journey = Journey(services, idle_timeout_s=60, countdown_s=10, clock=Clock(), **kwargs)
    return journey, services


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_all_or_no_domains_in_one_tap_and_never_an_empty_choice() -> None:
    journey, services = make()
    run(journey.card_presented(Card()))
    journey.open_domain_picker()
    journey.tick_all_domains(True)
    assert journey.snapshot.selected_domains == {d.code for d in CATALOG.domains}
    journey.tick_all_domains(False)
    assert journey.snapshot.selected_domains == frozenset()
    journey.finish_domains()  # a late tap on the greyed-out button
    assert journey.step is Step.CHOOSE_DOMAINS
    assert journey.snapshot.message_id == "scope.pick_one_domain"
    journey.tick_all_domains(True)
    journey.finish_domains()  # every domain ticked is the whole report: "all"
    assert journey.step is Step.CHOOSE_SCOPE
    assert journey.snapshot.selected_domains is None
    journey.tick_all_domains(True)  # not on the picker: ignored
    assert journey.snapshot.selected_domains is None
    journey.scope_done()
    run(journey.confirm())
    assert services.fetches[0][1] is None


def test_quick_periods_this_year_last_year_and_the_last_one_two_three_years() -> None:
    bounds = Bounds(dt.date(2021, 1, 1), 5, TODAY)  # today: 2026-11-22
    expected = {
        "this_year": Period(dt.date(2026, 1, 1), TODAY),
        "last_year": Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        "last_1_year": Period(dt.date(2025, 11, 22), TODAY),
        "last_2_years": Period(dt.date(2024, 11, 22), TODAY),
        "last_3_years": Period(dt.date(2023, 11, 22), TODAY),
        "since_floor": Period(dt.date(2021, 11, 22), TODAY),  # five years is the longest
    }
    assert {preset: preset_period(preset, bounds) for preset in PRESETS} == expected
    journey, _ = make()
    run(journey.card_presented(Card()))
    assert journey.snapshot.period_bounds == bounds  # the allowed range, for the screen to show
    journey.choose_period_preset("last_year")
    assert journey.snapshot.period == expected["last_year"]
    assert journey.snapshot.period_preset == "last_year"


def test_a_quick_period_wholly_before_the_floor_is_refused() -> None:
    recent = dataclasses.replace(CATALOG, earliest_date=dt.date(2026, 3, 1))

    class Services(FakeServices):
        async def catalog(self) -> Catalog:
            return recent

    journey, _ = make(Services())
    run(journey.card_presented(Card()))
    before = journey.snapshot.period
    journey.choose_period_preset("last_year")  # 2025 lies wholly before 2026-03-01
    assert journey.snapshot.message_id == "period.reversed"
    assert journey.snapshot.period == before
    journey.choose_period_preset("this_year")  # starts at the floor instead of 1 January
    assert journey.snapshot.period == Period(dt.date(2026, 3, 1), TODAY)


def test_the_step_bar_lists_only_the_steps_this_person_goes_through() -> None:
    journey, _ = make(FakeServices(login_answer=login(ACME, BETA)))
    assert journey.snapshot.progress_groups == PROGRESS  # before anyone signs in: all of them
    run(journey.card_presented(Card()))
    assert journey.snapshot.progress_groups == PROGRESS  # two enterprises: a choice to make
    journey, _ = make()
    run(journey.card_presented(Card()))
    snapshot = journey.snapshot
    assert "progress.enterprise" not in snapshot.progress_groups  # one enterprise: no choice
    assert snapshot.progress_groups[snapshot.progress or 0] == "progress.scope"
    assert snapshot.progress == 1  # the second step of four


def test_the_hall_and_one_title_from_the_first_screen() -> None:
    journey, _ = make(hall_name="兰州新区政务服务中心", report_title="专用信用报告")
    first = journey.snapshot  # the attract screen, before the catalog is loaded
    assert (first.hall_name, first.report_title) == ("兰州新区政务服务中心", "专用信用报告")
    run(journey.card_presented(Card()))
    assert journey.snapshot.hall_name == "兰州新区政务服务中心"
    assert journey.snapshot.report_title == CATALOG.report_title  # the catalog's, once loaded


def test_the_login_method_reaches_the_screens_and_ends_with_the_session() -> None:
    journey, _ = make()
    run(journey.card_presented(Card()))
    assert journey.snapshot.login_method == "card"
    journey.cancel()
    assert journey.snapshot.login_method == ""
    run(journey.qr_presented("KQR1.payload"))
    assert journey.snapshot.login_method == "qr"  # the done screen says nothing of a card


def to_objection(services: FakeServices) -> Journey:
    journey, _ = make(services)
    run(journey.card_presented(Card()))
    journey.scope_done()
    run(journey.confirm())
    journey.start_objection("REC1")
    return journey


def test_a_filed_objection_shows_its_number_and_due_date_and_prints_a_slip() -> None:
    services = FakeServices(report_answer=report(records=2))
    journey = to_objection(services)
    run(journey.submit_objection("record_wrong", "13912345678"))
    snapshot = journey.snapshot
    assert snapshot.step is Step.OBJECTION_DONE and snapshot.message_id == ""
    assert (snapshot.objection_id, snapshot.objection_due) == ("OB1", "2026-11-27")
    assert services.slips == [("OB1", "R20261122ABCDEFGHJK", "文号1 处罚")]
    run(journey.reprint_objection_slip())  # a second slip on request
    assert len(services.slips) == 2


def test_a_slip_that_did_not_print_says_so_and_prints_again() -> None:
    failure = PrintFailure("no paper", phase="objection_slip", message_id="error.paper_out")
    services = FakeServices(report_answer=report(records=2), slip_failures=[failure])
    journey = to_objection(services)
    run(journey.submit_objection("record_wrong", "13912345678"))
    assert journey.step is Step.OBJECTION_DONE
    assert journey.snapshot.message_id == "objection_done.slip_failed"
    assert journey.snapshot.objection_id == "OB1"  # the number stays on screen
    assert services.objections == [("REC1", "记录内容有误", "13912345678")]  # filed once
    run(journey.reprint_objection_slip())
    assert journey.snapshot.message_id == ""
    assert len(services.slips) == 2 and len(services.objections) == 1
    journey.back_to_summary()
    run(journey.reprint_objection_slip())  # not on the objection screens: ignored
    assert journey.step is Step.SUMMARY and len(services.slips) == 2


def test_a_card_number_the_platform_refuses_leaves_the_person_at_the_qr_reader() -> None:
    refusal = ApiError(422, "invalid_id_number", "证件号码校验不通过")
    journey, _ = make(FakeServices(login_answer=refusal))
    run(journey.card_presented(Card(id_number="USA620180010100")))
    assert journey.step is Step.ATTRACT  # a login QR shown now logs in at once
    assert journey.snapshot.message_id == "error.card_not_accepted"
    assert journey.snapshot.person == ""  # nothing of the card kept
