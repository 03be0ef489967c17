"""The session state machine, step by step, with a behavioural fake of the outside world."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from kiosk.errors import ApiError, PlatformUnavailable
from kiosk.i18n import Translator
from kiosk.journey import Journey
from kiosk.periods import Period
from kiosk.ports import PrintFailure
from kiosk.steps import Snapshot, Step

from .kiosk_fakes import ACME, BETA, TODAY, Card, FakeServices, login, report


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(
    services: FakeServices | None = None,
) -> tuple[Journey, FakeServices, Clock, list[Snapshot]]:
    services = services or FakeServices()
    clock = Clock()
    journey = Journey(services, idle_timeout_s=60, countdown_s=10, clock=clock)
    seen: list[Snapshot] = []
    journey.subscribe(seen.append)
    return journey, services, clock, seen


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def to_summary(journey: Journey) -> None:
    run(journey.card_presented(Card()))
    journey.scope_done()
    run(journey.confirm())


def test_default_path_from_card_to_paper_takes_three_taps() -> None:
    journey, services, _, seen = make()
    run(journey.card_presented(Card()))  # not a tap: the card on the reader
    assert journey.step is Step.CHOOSE_SCOPE  # one enterprise: its choice is skipped
    assert journey.snapshot.enterprise == ACME
    assert journey.snapshot.period == Period(dt.date(2023, 11, 22), TODAY)  # last three years
    assert journey.snapshot.selected_domains is None  # all domains
    journey.scope_done()  # tap 1
    run(journey.confirm())  # tap 2
    assert journey.step is Step.SUMMARY
    run(journey.print_report())  # tap 3
    assert journey.step is Step.DONE
    assert services.fetches == [
        (ACME.uscc, None, Period(dt.date(2023, 11, 22), TODAY), services.fetches[0][3])
    ]
    assert [s.print_phase for s in seen if s.step is Step.PRINTING] == ["a4", "a4", "receipt"]
    assert "张三" not in str(services.audits) and Card().id_number not in str(services.audits)


def test_several_enterprises_are_offered_and_the_chosen_one_is_used() -> None:
    journey, services, _, _ = make(FakeServices(login_answer=login(ACME, BETA)))
    run(journey.card_presented(Card()))
    assert journey.step is Step.CHOOSE_ENTERPRISE
    assert journey.snapshot.enterprises == (ACME, BETA)
    journey.choose_enterprise("91620100MA00000999")  # not one of theirs: ignored
    assert journey.step is Step.CHOOSE_ENTERPRISE
    journey.choose_enterprise(BETA.uscc)
    journey.scope_done()
    run(journey.confirm())
    assert services.fetches[0][0] == BETA.uscc
    journey.back()  # summary -> confirm -> scope -> enterprise list
    journey.back()
    journey.back()
    assert journey.step is Step.CHOOSE_ENTERPRISE


def test_a_login_qr_logs_in_and_other_codes_get_a_message() -> None:
    journey, _, _, _ = make()
    run(journey.qr_presented("https://example.com/some/page"))
    assert journey.step is Step.ATTRACT
    assert journey.snapshot.message_id == "attract.not_a_login_qr"
    run(journey.qr_presented("KQR1.eyJ2IjoxfQ.c2ln"))
    assert journey.step is Step.CHOOSE_SCOPE


def test_a_person_without_enterprises_is_told_and_forgotten() -> None:
    journey, _, _, _ = make(FakeServices(login_answer=login()))
    run(journey.card_presented(Card()))
    assert journey.step is Step.ERROR
    assert journey.snapshot.message_id == "error.no_enterprise"
    assert journey.snapshot.person == ""


@pytest.mark.parametrize(
    ("error", "step", "message"),
    [
        (ApiError(404, "person_not_found", ""), Step.ERROR, "error.person_not_found"),
        (ApiError(422, "id_card_expired", ""), Step.ERROR, "error.card_expired"),
        (ApiError(401, "unknown_terminal", ""), Step.OUT_OF_SERVICE, "error.out_of_service"),
        (PlatformUnavailable("down"), Step.ERROR, "error.platform_unavailable"),
    ],
)
def test_login_failures_show_a_message_and_keep_nothing(
    error: Exception, step: Step, message: str
) -> None:
    journey, _, _, _ = make(FakeServices(login_answer=error))  # type: ignore[arg-type]
    run(journey.card_presented(Card()))
    assert journey.step is step
    assert journey.snapshot.message_id == message
    assert journey.snapshot.person == "" and journey.snapshot.enterprises == ()


def test_domain_picker_needs_one_domain_and_sends_the_chosen_codes() -> None:
    journey, services, _, _ = make()
    run(journey.card_presented(Card()))
    journey.open_domain_picker()
    assert journey.step is Step.CHOOSE_DOMAINS
    journey.finish_domains()
    assert journey.snapshot.message_id == "scope.pick_one_domain"
    journey.toggle_domain("D03")
    journey.toggle_domain("NOPE")  # not in the catalog: ignored
    journey.toggle_domain("D01")
    journey.toggle_domain("D03")  # off again
    journey.toggle_domain("D02")
    journey.finish_domains()
    assert journey.snapshot.selected_domains == frozenset({"D01", "D02"})
    journey.scope_done()
    run(journey.confirm())
    assert services.fetches[0][1] == ["D01", "D02"]


def test_period_presets_and_custom_bounds() -> None:
    journey, _, _, _ = make()
    run(journey.card_presented(Card()))
    journey.choose_period_preset("last_1_year")
    assert journey.snapshot.period == Period(dt.date(2025, 11, 22), TODAY)
    journey.choose_period_preset("since_floor")
    assert journey.snapshot.period == Period(dt.date(2021, 11, 22), TODAY)  # five years is the cap
    cases = {
        (dt.date(2024, 1, 1), dt.date(2023, 1, 1)): "period.reversed",
        (dt.date(2024, 1, 1), dt.date(2026, 11, 23)): "period.future",
        (dt.date(2020, 12, 31), dt.date(2022, 1, 1)): "period.before_floor",
    }
    for (start, end), message in cases.items():
        journey.choose_custom_period(start, end)
        assert journey.snapshot.message_id == message
        assert journey.snapshot.period == Period(dt.date(2021, 11, 22), TODAY)  # unchanged
    journey.choose_custom_period(dt.date(2022, 3, 1), dt.date(2024, 2, 29))
    assert journey.snapshot.period == Period(dt.date(2022, 3, 1), dt.date(2024, 2, 29))
    assert journey.snapshot.period_preset is None


def test_fetch_failure_returns_to_confirm_and_a_retry_reuses_the_idempotency_key() -> None:
    services = FakeServices(report_answer=PlatformUnavailable("timeout"))
    journey, services, _, _ = make(services)
    run(journey.card_presented(Card()))
    journey.scope_done()
    run(journey.confirm())
    assert journey.step is Step.CONFIRM
    assert journey.snapshot.message_id == "error.platform_unavailable"
    services.report_answer = report()
    run(journey.confirm())
    assert journey.step is Step.SUMMARY
    assert services.fetches[0][3] == services.fetches[1][3]
    journey.back()  # a changed request gets a new key
    journey.back()
    journey.choose_period_preset("last_1_year")
    journey.scope_done()
    run(journey.confirm())
    assert services.fetches[2][3] != services.fetches[0][3]


def test_a_request_changed_after_a_failure_gets_a_key_of_its_own() -> None:
    services = FakeServices(report_answer=PlatformUnavailable("timeout"))
    journey, services, _, _ = make(services)
    run(journey.card_presented(Card()))
    journey.scope_done()
    run(journey.confirm())  # failed: back at CONFIRM
    journey.back()  # to the scope: the person narrows the period
    journey.choose_period_preset("last_1_year")
    journey.scope_done()
    services.report_answer = report()
    run(journey.confirm())
    assert journey.step is Step.SUMMARY
    assert services.fetches[0][2] != services.fetches[1][2]  # another period...
    assert services.fetches[0][3] != services.fetches[1][3]  # ...so not the old key


def test_an_expired_session_ends_the_session() -> None:
    journey, _, _, _ = make(FakeServices(report_answer=ApiError(401, "session_expired", "")))
    to_summary(journey)
    assert journey.step is Step.ERROR
    assert journey.snapshot.message_id == "error.session_expired"
    assert journey.snapshot.enterprise is None


def test_a_refusal_no_choice_can_change_goes_to_the_error_screen_with_its_next_step() -> None:
    """A social organisation where the region's lists have none: choosing another period or other
    domains would be refused again, so the person is not sent round scope and confirm."""
    refused = ApiError(422, "entity_kind_not_eligible", "")
    journey, _, _, _ = make(FakeServices(report_answer=refused))
    to_summary(journey)
    assert journey.step is Step.ERROR
    assert journey.snapshot.message_id == "error.entity_not_eligible"


def test_cancel_during_fetch_drops_the_late_answer() -> None:
    async def scenario() -> None:
        gate = asyncio.Event()
        services = FakeServices(hold=gate.wait)
        journey, _, _, _ = make(services)
        services.hold = None
        await journey.card_presented(Card())
        journey.scope_done()
        services.hold = gate.wait
        task = asyncio.create_task(journey.confirm())
        await asyncio.sleep(0)
        assert journey.step is Step.FETCHING
        journey.cancel()
        assert journey.step is Step.ATTRACT
        gate.set()
        await task
        assert journey.step is Step.ATTRACT  # the report of the wiped session is not shown
        assert journey.snapshot.results == ()

    run(scenario())


def test_idle_countdown_is_shown_then_the_session_is_wiped() -> None:
    journey, services, clock, _ = make()
    run(journey.card_presented(Card()))
    clock.now += 49
    journey.tick()
    assert journey.snapshot.countdown is None
    clock.now += 2  # 9 s left
    journey.tick()
    assert journey.snapshot.countdown == 9
    journey.activity()  # a touch: start again
    assert journey.snapshot.countdown is None
    clock.now += 60
    journey.tick()
    assert journey.step is Step.ATTRACT
    assert journey.snapshot.person == "" and journey.snapshot.enterprise is None
    assert ("session_timeout", {"step": "choose_scope"}) in services.audits


def test_no_countdown_on_the_attract_screen() -> None:
    journey, _, clock, _ = make()
    clock.now += 1000
    journey.tick()
    assert journey.step is Step.ATTRACT and journey.snapshot.countdown is None


def test_paper_out_on_the_receipt_offers_a_reprint_of_the_receipt_only() -> None:
    services = FakeServices(
        print_failures=[
            PrintFailure("paper out", phase="receipt", message_id="error.receipt_paper_out")
        ]
    )
    journey, services, _, _ = make(services)
    to_summary(journey)
    run(journey.print_report())
    assert journey.step is Step.PRINT_FAILED
    assert journey.snapshot.message_id == "error.receipt_paper_out"
    run(journey.print_report())
    assert journey.step is Step.DONE
    assert services.prints == ["a4", "receipt"]


async def printing_held() -> tuple[Journey, Clock, asyncio.Event, asyncio.Task[None]]:
    """A session whose report is in the printer until the returned event is set."""
    gate = asyncio.Event()
    services = FakeServices()
    journey, _, clock, _ = make(services)
    await journey.card_presented(Card())
    journey.scope_done()
    await journey.confirm()

    async def slow_print(*args: object, **kwargs: object) -> None:
        await gate.wait()

    services.print_report = slow_print  # type: ignore[method-assign]
    task = asyncio.create_task(journey.print_report())
    await asyncio.sleep(0)
    return journey, clock, gate, task


def test_cancel_is_refused_while_a_job_is_printing() -> None:
    async def scenario() -> None:
        journey, _, gate, task = await printing_held()
        journey.cancel()
        assert journey.step is Step.PRINTING
        gate.set()
        await task
        assert journey.step is Step.DONE

    run(scenario())


def test_help_and_home_during_printing_keep_the_session_until_the_paper_is_out() -> None:
    async def scenario() -> None:
        journey, clock, gate, task = await printing_held()
        await journey.call_help()
        assert journey.step is Step.HELP
        journey.cancel()  # home from the help screen
        clock.now += 3600  # and nobody touches the screen for an hour
        journey.tick()
        assert journey.step is Step.HELP and journey.snapshot.enterprise == ACME
        gate.set()
        await task
        assert journey.step is Step.DONE

    run(scenario())


def test_verify_a_report_qr() -> None:
    journey, _, _, _ = make()
    journey.start_verify()
    run(journey.qr_presented("KQR1.not-a-report"))
    assert journey.snapshot.message_id == "verify.not_a_report_qr"
    run(journey.qr_presented("https://credit.example.cn/v1/verify/ABCDEFGHJK12"))
    assert journey.step is Step.VERIFY_RESULT
    assert journey.snapshot.verification is not None
    assert journey.snapshot.verification.status == "valid"
    journey.back()
    assert journey.step is Step.VERIFY_SCAN
    journey.back()
    assert journey.step is Step.ATTRACT


def test_a_locked_staff_pin_says_for_how_long() -> None:
    journey, _, _, _ = make(FakeServices(staff_locked=True))
    journey.open_staff()
    journey.enter_staff_pin("246810")  # the right PIN, during the lockout
    assert journey.step is Step.STAFF_PIN
    assert journey.snapshot.message_id == "staff.locked"
    assert journey.snapshot.message_args == {"minutes": "5"}
    assert Translator("zh_CN")("staff.locked", **journey.snapshot.message_args) == (
        "尝试次数过多，请5分钟后再试。"
    )


def test_objection_against_a_record_with_a_phone_number() -> None:
    journey, services, _, _ = make(FakeServices(report_answer=report(records=2)))
    to_summary(journey)
    journey.start_objection("NOT-IN-REPORT")
    assert journey.step is Step.SUMMARY
    journey.start_objection("REC1")
    assert journey.step is Step.OBJECTION
    run(journey.submit_objection("made_up", "13912345678"))
    assert journey.snapshot.message_id == "objection.pick_reason"
    run(journey.submit_objection("record_wrong", "1391234"))
    assert journey.snapshot.message_id == "objection.bad_phone"
    run(journey.submit_objection("record_wrong", "139 1234 5678"))
    assert journey.step is Step.OBJECTION_DONE
    assert journey.snapshot.objection_due == "2026-11-27"
    assert services.objections == [("REC1", "记录内容有误", "13912345678")]
    journey.back_to_summary()
    assert journey.step is Step.SUMMARY


@pytest.mark.parametrize("contact", ["+86 139 1234 5678", "(0931)8888888", "0931-8888-888"])
def test_a_phone_number_is_taken_as_the_platform_takes_it(contact: str) -> None:
    journey, services, _, _ = make(FakeServices(report_answer=report(records=2)))
    to_summary(journey)
    journey.start_objection("REC1")
    run(journey.submit_objection("record_wrong", contact))
    assert journey.step is Step.OBJECTION_DONE, journey.snapshot.message_id
    assert services.objections == [("REC1", "记录内容有误", contact.replace(" ", ""))]


def test_help_from_any_step_returns_there() -> None:
    journey, services, _, _ = make()
    run(journey.card_presented(Card()))
    run(journey.call_help())
    assert journey.step is Step.HELP
    assert services.help_calls == ["choose_scope"]
    journey.close_help()
    assert journey.step is Step.CHOOSE_SCOPE


def test_staff_screen_needs_the_pin() -> None:
    journey, _, _, _ = make()
    journey.open_staff()
    journey.enter_staff_pin("000000")
    assert journey.step is Step.STAFF_PIN
    assert journey.snapshot.message_id == "staff.pin_refused"
    journey.enter_staff_pin("246810")
    assert journey.step is Step.STAFF
    assert journey.snapshot.staff_status == {"a4_printer": "online"}
    journey.back()
    assert journey.step is Step.ATTRACT


def test_late_taps_for_other_steps_are_ignored() -> None:
    journey, services, _, _ = make()
    journey.scope_done()
    journey.choose_enterprise(ACME.uscc)
    run(journey.confirm())
    run(journey.print_report())
    assert journey.step is Step.ATTRACT
    assert services.fetches == [] and services.prints == []


def test_language_and_elderly_mode_last_one_session() -> None:
    journey, _, clock, _ = make()
    journey.toggle_language()
    journey.toggle_elderly()
    run(journey.card_presented(Card()))
    assert journey.snapshot.language == "en" and journey.snapshot.elderly is True
    clock.now += 61
    journey.tick()
    assert journey.snapshot.language == "zh_CN" and journey.snapshot.elderly is False


def test_a4_job_names_never_hold_eleven_digits_in_a_row() -> None:
    import re

    from kiosk.printing import job_name

    assert job_name("R202611220123456789") == "report-R-20261122-0123456789"
    assert not re.search(r"\d{11}", job_name("R202611229999999999"))
