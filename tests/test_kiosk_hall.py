"""The kiosk's side of hall operations with behavioural fakes: help calls and their state on the
screen, staff locks and device faults at rest, availability, commands run once, counters."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from pathlib import Path
from typing import Any, cast

from kiosk.api_models import Command, HeartbeatAnswer, HelpCallState
from kiosk.availability import Availability, Fault, availability, first_fault
from kiosk.commands import WAIT, CommandRunner, Outcome
from kiosk.errors import ApiError, PlatformUnavailable
from kiosk.hall_link import HallLink, HallSettings, device_report
from kiosk.ports import PrintFailure
from kiosk.steps import Step
from kiosk.telemetry import ASSISTANCE, AUDIT, Counters, EventShipper
from offline_cache import FileKeyProvider, OfflineStore
from report_service.hall.vocabulary import CODE

from .kiosk_fakes import Card, FakeServices
from .test_kiosk_journey import make, run, to_summary

PAPER_OUT = Fault("a4_printer", "paper_out")


def test_help_shows_the_call_as_staff_answer_it() -> None:
    journey, services, _, _ = make()
    run(journey.card_presented(Card()))
    run(journey.call_help())
    assert journey.step is Step.HELP and journey.snapshot.help_state == "open"
    assert services.help_reasons == ["user_request"]
    call_id = next(iter(journey.terminal.calls()))
    journey.terminal.help_calls_update([HelpCallState(call_id, "acknowledged", "王工")])
    assert (journey.snapshot.help_state, journey.snapshot.help_staff) == ("acknowledged", "王工")
    journey.terminal.help_calls_update([])  # no longer listed: resolved
    assert journey.snapshot.help_state == "resolved"
    journey.close_help()
    assert journey.step is Step.CHOOSE_SCOPE


def test_a_call_the_platform_cannot_take_says_where_the_desk_is() -> None:
    services = FakeServices(help_answer="undelivered")
    journey, _, _, _ = make(services)
    run(journey.card_presented(Card()))
    run(journey.call_help())
    assert journey.snapshot.help_state == "undelivered"
    services = FakeServices(help_answer=PlatformUnavailable("down, and no queue"))
    journey, _, _, _ = make(services)
    run(journey.card_presented(Card()))
    run(journey.call_help())
    assert journey.snapshot.help_state == "undelivered"


def test_paper_out_calls_staff_once_while_that_call_is_open() -> None:
    services = FakeServices(
        print_failures=[
            PrintFailure("out", phase="a4", message_id="error.paper_out"),
            PrintFailure("out", phase="a4", message_id="error.paper_out"),
        ]
    )
    journey, _, _, _ = make(services)
    to_summary(journey)
    run(journey.print_report())
    assert journey.step is Step.PRINT_FAILED
    assert journey.snapshot.help_state == "open" and services.help_reasons == ["paper_out"]
    run(journey.print_report())  # fails again: the same call, still open
    assert services.help_reasons == ["paper_out"]
    assert journey.snapshot.help_state == "open"


def test_a_jammed_or_stopped_printer_calls_staff_to_the_device() -> None:
    services = FakeServices(
        print_failures=[
            PrintFailure("jam", phase="a4", message_id="error.paper_jam"),
            PrintFailure("cover", phase="receipt", message_id="error.printer_offline"),
            PrintFailure("cups", phase="a4", message_id="error.print_failed"),
        ]
    )
    journey, _, _, _ = make(services)
    to_summary(journey)
    for _ in range(3):
        run(journey.print_report())
        assert journey.step is Step.PRINT_FAILED
    # one open call per reason: the stopped printer joins the jam's call
    assert services.help_reasons == ["device_fault", "print_failed"]


def test_a_lock_waits_for_the_session_and_unlock_comes_back() -> None:
    journey, _, _, _ = make()
    journey.terminal.lock("午休，14:00恢复")
    assert journey.step is Step.LOCKED
    assert journey.snapshot.message_args["message"] == "午休，14:00恢复"
    run(journey.card_presented(Card()))  # a card on a locked terminal starts nothing
    assert journey.step is Step.LOCKED
    journey.terminal.unlock()
    assert journey.step is Step.ATTRACT
    run(journey.card_presented(Card()))
    journey.terminal.lock()
    assert journey.step is Step.CHOOSE_SCOPE  # the person in front of it finishes
    journey.cancel()
    assert journey.step is Step.LOCKED


def test_a_required_device_in_error_rests_out_of_service_until_it_recovers() -> None:
    journey, services, _, _ = make()
    journey.terminal.set_fault(PAPER_OUT)
    assert journey.step is Step.OUT_OF_SERVICE
    assert journey.snapshot.message_id == "out_of_service.a4_printer"
    journey.terminal.lock()  # locked too: the fault shows first, the lock when it recovers
    journey.terminal.set_fault(None)
    assert journey.step is Step.LOCKED
    journey.terminal.unlock()
    assert journey.step is Step.ATTRACT
    assert ("availability", {"fault": "a4_printer.paper_out"}) in services.audits


def test_a_broken_offline_store_is_not_cleared_by_a_device_recovering() -> None:
    journey, _, _, _ = make()
    journey.out_of_service("error.out_of_service", until_restart=True)
    journey.terminal.set_fault(PAPER_OUT)
    journey.terminal.set_fault(None)
    assert journey.step is Step.OUT_OF_SERVICE
    assert journey.snapshot.message_id == "error.out_of_service"


def test_availability_comes_from_required_devices_then_the_lock_then_the_queue() -> None:
    devices = {
        "a4_printer": {"state": "online", "paper": "jammed"},
        "id_card": {"state": "offline"},
        "receipt_printer": {"state": "hardware_error"},
    }
    assert first_fault(devices, ("a4_printer", "id_card")) == Fault("a4_printer", "paper_jammed")
    assert first_fault(devices, ("id_card",)) == Fault("id_card", "offline")
    assert first_fault(devices, ("qr_camera",)) == Fault("qr_camera", "offline")  # not there
    assert first_fault({"a4_printer": {"state": "busy", "paper": "low"}}, ("a4_printer",)) is None
    assert availability(None, locked=False, queueing=False) == (Availability.IN_SERVICE, None)
    assert availability(None, locked=True, queueing=True)[0] is Availability.LOCKED
    assert availability(None, locked=False, queueing=True)[0] is Availability.OFFLINE_QUEUEING
    fault = Fault("a4_printer", "paper_out")
    assert availability(fault, locked=True, queueing=False) == (
        Availability.OUT_OF_SERVICE, "a4_printer.paper_out"
    )  # fmt: skip


def command(command_id: str, kind: str) -> Command:
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    return Command(command_id, kind, {}, expires)


def test_a_command_runs_once_and_its_result_survives_a_restart(tmp_path: Path) -> None:
    ran: list[str] = []

    async def lock(c: Command) -> Outcome:
        ran.append(c.command_id)
        return Outcome("executed", "locked")

    store = OfflineStore.open(tmp_path / "o.db", FileKeyProvider(tmp_path / "o.key", create=True))
    runner = CommandRunner({"lock": lock}, store)
    asyncio.run(runner.run([command("C0000000001", "lock"), command("C0000000002", "reboot")]))
    results = runner.results()
    assert [(r["command_id"], r["status"]) for r in results] == [
        ("C0000000001", "executed"), ("C0000000002", "failed")
    ]  # fmt: skip
    store.close()
    store = OfflineStore.open(tmp_path / "o.db", FileKeyProvider(tmp_path / "o.key"))
    again = CommandRunner({"lock": lock}, store)  # the app restarted before a heartbeat got out
    assert again.results() == []  # sent when the platform delivers the command again
    asyncio.run(again.run([command("C0000000001", "lock")]))  # delivered again: not run again
    assert ran == ["C0000000001"]
    assert [r["command_id"] for r in again.results()] == ["C0000000001"]
    again.delivered(again.results())
    assert again.results() == []
    store.close()


def test_a_heartbeat_carries_at_most_the_50_results_the_platform_takes() -> None:
    async def lock(c: Command) -> Outcome:
        return Outcome("executed", "locked")

    runner = CommandRunner({"lock": lock}, None)
    asyncio.run(runner.run([command(f"C{n:010d}", "lock") for n in range(120)]))
    sent = []
    while runner.results():
        batch = runner.results()
        assert len(batch) <= 50
        sent += [r["command_id"] for r in batch]
        runner.delivered(batch)
    assert sorted(sent) == [f"C{n:010d}" for n in range(120)]


def test_error_counters_stay_within_what_the_platform_takes() -> None:
    counters = Counters()
    for n in range(100):
        counters({"event": "error", "code": f"device.fault_{n}"})
    snapshot = counters.snapshot()
    assert len(snapshot) <= 64 and sum(snapshot.values()) == 100
    assert snapshot["errors.other"] == 60


def test_a_command_that_must_wait_is_asked_again_later() -> None:
    answers = [WAIT, Outcome("executed", "restarting")]

    async def restart(c: Command) -> Outcome:
        return answers.pop(0)

    runner = CommandRunner({"restart_app": restart}, None)
    asyncio.run(runner.run([command("C0000000003", "restart_app")]))
    assert runner.results() == []
    asyncio.run(runner.run([command("C0000000003", "restart_app")]))
    assert runner.results()[0]["detail"] == "restarting"


def test_counters_count_what_the_hall_reports_and_the_last_error() -> None:
    counters = Counters()
    for event in ("print_done", "print_done", "verify_done", "help_called", "login_ok",
                  "pickup_receipt_printed", "objection_slip_printed"):  # fmt: skip
        counters({"event": event})
    counters({"event": "error", "code": "api.Unavailable!", "step": "confirm"})
    assert counters.snapshot() == {
        "reports_printed": 2, "receipts": 4, "pickup_receipts": 1, "verifications": 1,
        "help_calls": 1, "errors.api.unavailable_": 1,
    }  # fmt: skip
    assert counters.last_error == "error: api.unavailable_ at confirm"


def test_the_staff_screen_lists_help_calls_and_alerts_with_details() -> None:
    journey, services, _, _ = make()
    run(journey.card_presented(Card()))
    run(journey.call_help())
    journey.cancel()
    journey.open_staff()
    journey.enter_staff_pin(services.staff_pin)
    assert journey.step is Step.STAFF
    lines = journey.snapshot.staff_lines
    assert lines[0][0] == "call" and lines[0][2:] == ("user_request", "open", "")
    assert ("alert", "10:00:00", "a4.paper_out", "KioskA4") in lines


def test_help_from_the_attract_screen_follows_its_call_and_leaves_nothing_behind() -> None:
    journey, _, _, _ = make()
    run(journey.call_help())
    assert journey.step is Step.HELP and journey.snapshot.help_state == "open"
    journey.close_help()
    assert journey.step is Step.ATTRACT
    run(journey.card_presented(Card()))
    assert journey.snapshot.help_state == ""  # the next person's session has no call of its own


class RefusingPlatform:
    """The platform's terminal calls as far as these tests go: it refuses for good an events
    batch holding a `bad` event, and a heartbeat carrying results, as it does a result for a
    command it does not know; `down` makes every call fail as an unreachable platform does."""

    def __init__(self) -> None:
        self.events_taken: list[str] = []
        self.beats: list[dict[str, Any]] = []
        self.down = False
        self.gateway = 0  # a status a proxy in between answers (404, 403) or 409 events_racing

    async def events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        if self.down:
            raise PlatformUnavailable("connection refused")
        if self.gateway:
            raise ApiError(self.gateway, "http_" + str(self.gateway), "from a proxy")
        if any(e["kind"] == "bad" for e in events):
            raise ApiError(422, "invalid_request", "event kind")
        self.events_taken += [e["kind"] for e in events]
        return {"accepted": len(events), "duplicates": 0}

    async def assistance(self, call_id: str, reason: str, step: str) -> HelpCallState:
        if self.gateway:
            raise ApiError(self.gateway, "call_refused", "refused")
        return HelpCallState(call_id, "open", None)

    async def heartbeat(self, body: dict[str, Any]) -> HeartbeatAnswer:
        if self.gateway:
            raise ApiError(self.gateway, "invalid_request", "a counter it does not take")
        if body["command_results"]:
            raise ApiError(422, "unknown_command", "命令结果对应的命令不存在。")
        self.beats.append(body)
        return HeartbeatAnswer((), (), None)


def test_an_event_the_platform_refuses_for_good_does_not_hold_up_the_rest(
    tmp_path: Path,
) -> None:
    store = OfflineStore.open(tmp_path / "o.db", FileKeyProvider(tmp_path / "o.key", create=True))
    platform = RefusingPlatform()
    shipper = EventShipper(store, cast(Any, platform), base=0.001, cap=0.001)  # retries due at once
    for kind in ("login_ok", "print_done", "bad", "verify_done", "help_called"):
        shipper({"event": kind, "at": "2026-12-06T10:00:00+08:00"})
    platform.down = True  # away: nothing is given up
    asyncio.run(shipper.ship())
    assert platform.events_taken == [] and store.outbox.counts(kind=AUDIT).dead_letter == 0
    platform.down = False
    for status in (404, 403, 409):  # not the platform refusing the events: tried again later
        platform.gateway = status
        time.sleep(0.01)
        asyncio.run(shipper.ship())
        assert store.outbox.counts(kind=AUDIT).dead_letter == 0
    platform.gateway = 0
    time.sleep(0.01)
    asyncio.run(shipper.ship())
    assert platform.events_taken == ["login_ok", "print_done", "verify_done", "help_called"]
    assert store.outbox.counts(kind=AUDIT).dead_letter == 1
    store.close()


def test_results_the_platform_refuses_do_not_refuse_every_later_heartbeat() -> None:
    journey, *_ = make()
    platform = RefusingPlatform()

    async def unknown(c: Command) -> Outcome:
        return Outcome("executed", "done")

    commands = CommandRunner({"print_test_page": unknown}, None)
    asyncio.run(commands.run([command("C0000000009", "print_test_page")]))
    link = HallLink(cast(Any, platform), journey.terminal, commands, Counters(),
                    device_status=dict, queue=lambda: {"pending": 0}, settings=HallSettings())  # fmt: skip
    platform.gateway = 422  # refused for something else: the results are kept for the next beat
    asyncio.run(link.beat())
    assert link.failures == 1 and len(commands.results()) == 1
    platform.gateway = 0
    asyncio.run(link.beat())
    assert (link.failures, commands.results()) == (2, [])
    asyncio.run(link.beat())
    assert link.beats == 1 and platform.beats[0]["command_results"] == []


def test_device_reasons_are_words_the_platform_takes_and_the_kiosk_s_own_come_through() -> None:
    taken = re.compile(f"^{CODE.pattern}$")  # the platform's own rule for a reason
    junk = ["Vendor Thing-error", "5v-rail-warning", "", "  ", *[f"media-x{n}" for n in range(30)]]
    report = device_report({"state": "hardware_error", "paper": "out", "cover_open": True,
                            "error_code": "a4.paper_out", "reasons": junk})  # fmt: skip
    reasons = report["reasons"]
    assert all(taken.match(r) for r in reasons), reasons
    assert len(reasons) <= 16 and reasons[-3:] == ["media-empty", "cover-open", "a4.paper_out"]
    assert "vendor_thing-error" in reasons and "x5v-rail-warning" in reasons


def test_a_queued_help_call_is_given_up_only_when_the_platform_refuses_it_for_good(
    tmp_path: Path,
) -> None:
    store = OfflineStore.open(tmp_path / "o.db", FileKeyProvider(tmp_path / "o.key", create=True))
    platform = RefusingPlatform()
    shipper = EventShipper(store, cast(Any, platform), base=0.001, cap=0.001)
    delivered: list[bool] = []
    shipper.call_delivered = lambda: delivered.append(True)
    shipper.queue_call("c-1", "user_request", "summary")
    for status in (401, 403, 404, 408):  # a clock, a proxy, a timeout: tried again
        platform.gateway = status
        time.sleep(0.01)
        asyncio.run(shipper.ship())
        assert store.outbox.counts(kind=ASSISTANCE).dead_letter == 0, status
    platform.gateway = 0
    time.sleep(0.01)
    asyncio.run(shipper.ship())
    assert store.outbox.counts(kind=ASSISTANCE).delivered == 1 and delivered == [True]
    shipper.queue_call("c-2", "paper_out", "summary")
    platform.gateway = 409  # call_id_reused: the same id with another reason, never taken
    asyncio.run(shipper.ship())
    assert store.outbox.counts(kind=ASSISTANCE).dead_letter == 1
    store.close()
