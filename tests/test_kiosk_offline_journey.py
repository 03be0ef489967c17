"""The offline path of the session state machine (docs/offline.md), with behavioural fakes:
platform unreachable → USCC keypad → scope → queued before any paper → pickup receipt → QUEUED,
and pickup of a queued report at any kiosk."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from identifiers import uscc_check_char
from kiosk.api_models import Catalog, Enterprise, Login
from kiosk.errors import ApiError, IntegrityFailure, KioskError, PlatformUnavailable
from kiosk.journey import Journey
from kiosk.login_qr import LoginQrRefused
from kiosk.offline import OfflineIdentity, Queued, QueueRefused
from kiosk.periods import Period
from kiosk.ports import FetchedReport, PrintFailure
from kiosk.steps import Snapshot, Step

from .kiosk_fakes import ACME, CATALOG, TODAY, Card, FakeServices, login, report

CST = dt.timezone(dt.timedelta(hours=8))
VALID = "91620100MA7" + "ABCDEF"  # 17 characters; the check character is appended below
VALID += uscc_check_char(VALID)
TICKET = "QT-7K3M-9Q2P-4X8A-BCDE"
LOGIN_QR = "KQR1.eyJ2IjoxfQ.c2ln"


@dataclass
class FakeOffline:
    """The queue side: scripted answers, and one event list shared with the services' prints."""

    events: list[str]
    catalog: Catalog | None = CATALOG
    qr_answer: OfflineIdentity | KioskError = field(
        default_factory=lambda: OfflineIdentity.from_qr(LOGIN_QR, "李*")
    )
    enqueue_error: KioskError | None = None
    print_failures: list[PrintFailure] = field(default_factory=list)
    pickup_answer: tuple[FetchedReport, Enterprise] | KioskError = field(
        default_factory=lambda: (report(records=1), ACME)
    )
    states: dict[str, str] = field(default_factory=dict)
    queued: list[tuple[OfflineIdentity, str, Sequence[str] | None, Period]] = field(
        default_factory=list
    )
    remembered: list[Catalog] = field(default_factory=list)
    pickups: list[str] = field(default_factory=list)

    def cached_catalog(self) -> Catalog | None:
        return self.catalog

    def remember_catalog(self, catalog: Catalog) -> None:
        self.remembered.append(catalog)

    def check_login_qr(self, payload: str) -> OfflineIdentity:
        if isinstance(self.qr_answer, KioskError):
            raise self.qr_answer
        return self.qr_answer

    def enqueue(
        self,
        identity: OfflineIdentity,
        uscc: str,
        domains: Sequence[str] | None,
        period: Period,
        ticket: str | None = None,
    ) -> Queued:
        if self.enqueue_error is not None:
            raise self.enqueue_error
        self.queued.append((identity, uscc, domains, period))
        self.events.append("enqueue")
        at = dt.datetime(2026, 11, 22, 10, 0, tzinfo=CST)
        return Queued(ticket or TICKET, at, at + dt.timedelta(hours=1))

    async def print_pickup(self, queued: Queued, uscc: str) -> None:
        self.events.append("pickup_receipt")
        if self.print_failures:
            raise self.print_failures.pop(0)

    async def pickup(self, login: Login, ticket: str) -> tuple[FetchedReport, Enterprise]:
        self.pickups.append(ticket)
        if isinstance(self.pickup_answer, KioskError):
            raise self.pickup_answer
        return self.pickup_answer

    def ticket_state(self, ticket: str) -> str | None:
        return self.states.get(ticket)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(
    services: FakeServices | None = None, **offline: object
) -> tuple[Journey, FakeServices, FakeOffline, Clock, list[Snapshot]]:
    services = services or FakeServices(login_answer=PlatformUnavailable("connect refused"))
    desk = FakeOffline(events=[], **offline)  # type: ignore[arg-type]
    clock = Clock()
    journey = Journey(services, offline=desk, idle_timeout_s=60, countdown_s=10, clock=clock)
    seen: list[Snapshot] = []
    journey.subscribe(seen.append)
    return journey, services, desk, clock, seen


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def to_confirm(journey: Journey) -> None:
    run(journey.card_presented(Card()))
    journey.enter_uscc(VALID)
    journey.scope_done()


# --- taking a request offline -----------------------------------------------------------------
def test_unreachable_platform_with_a_card_offers_the_offline_request() -> None:
    journey, services, _, _, _ = make()
    run(journey.card_presented(Card()))
    snap = journey.snapshot
    assert snap.step is Step.ENTER_USCC
    assert snap.message_id == "offline_mode.notice"  # said plainly, before anything else
    assert snap.offline and snap.person == "张*"  # the card's name, masked
    assert ("offline_started", {"method": "card"}) in services.audits


def test_a_platform_lost_after_a_card_login_queues_the_request_under_the_key_sent() -> None:
    services = FakeServices(report_answer=PlatformUnavailable("read timeout"))
    journey, services, desk, _, _ = make(services)
    run(journey.card_presented(Card()))  # online: the platform answered the login
    assert journey.step is Step.CHOOSE_SCOPE and not journey.snapshot.offline
    journey.scope_done()
    run(journey.confirm())
    assert desk.events == ["enqueue", "pickup_receipt"]
    identity, uscc, _, _ = desk.queued[0]
    assert identity.method == "id_card" and uscc == ACME.uscc
    sent_key = services.fetches[0][3]
    assert journey.step is Step.QUEUED and journey.snapshot.ticket == sent_key  # one request
    assert ("offline_started", {"method": "card_after_login"}) in services.audits


def test_a_platform_lost_after_a_qr_login_is_only_a_message() -> None:
    services = FakeServices(report_answer=PlatformUnavailable("read timeout"))
    journey, services, desk, _, _ = make(services)
    run(journey.qr_presented(LOGIN_QR))  # the platform has spent this single-use QR
    journey.scope_done()
    run(journey.confirm())
    assert desk.queued == []
    assert journey.step is Step.CONFIRM
    assert journey.snapshot.message_id == "error.platform_unavailable"


def test_the_whole_offline_request_is_queued_before_the_receipt_prints() -> None:
    journey, _, desk, _, _ = make()
    to_confirm(journey)
    assert journey.step is Step.CONFIRM and journey.snapshot.offline
    run(journey.confirm())
    assert desk.events == ["enqueue", "pickup_receipt"]
    identity, uscc, domains, period = desk.queued[0]
    assert identity.method == "id_card"
    assert identity.credentials == {
        "id_number": Card().id_number,
        "name": Card().name,
        "valid_until": "2030-01-01",
    }
    assert (uscc, domains) == (VALID, None)
    assert period == Period(dt.date(2023, 11, 22), TODAY)
    snap = journey.snapshot
    assert snap.step is Step.QUEUED and snap.message_id == ""
    assert snap.ticket == TICKET and snap.pickup_after == "2026-11-22 11:00"
    assert not snap.show_back
    assert "Card" not in repr(identity) and Card().id_number not in repr(identity)


def test_chosen_domains_and_period_are_queued_as_chosen() -> None:
    journey, _, desk, _, _ = make()
    run(journey.card_presented(Card()))
    journey.enter_uscc(VALID)
    journey.open_domain_picker()
    journey.toggle_domain("D03")
    journey.toggle_domain("D01")
    journey.finish_domains()
    journey.choose_period_preset("last_1_year")
    journey.scope_done()
    run(journey.confirm())
    assert desk.queued[0][2] == ["D01", "D03"]
    assert desk.queued[0][3] == Period(dt.date(2025, 11, 22), TODAY)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        (VALID[:17], "uscc.wrong_length"),
        (VALID + "1", "uscc.wrong_length"),
        ("91620100MAI" + VALID[11:], "uscc.bad_character"),  # I is not in the alphabet
        ("9162A100MA7" + VALID[11:], "uscc.bad_check"),  # the check character covers it
        (VALID[:17] + ("0" if VALID[17] != "0" else "1"), "uscc.bad_check"),
    ],
)
def test_a_mistyped_credit_code_is_refused_on_the_kiosk(typed: str, problem: str) -> None:
    journey, _, _, _, _ = make()
    run(journey.card_presented(Card()))
    journey.enter_uscc(typed)
    assert journey.step is Step.ENTER_USCC
    assert journey.snapshot.message_id == problem


def test_a_code_typed_with_spaces_and_lower_case_is_accepted() -> None:
    journey, _, _, _, _ = make()
    run(journey.card_presented(Card()))
    journey.enter_uscc(" " + VALID[:8].lower() + " " + VALID[8:])
    assert journey.step is Step.CHOOSE_SCOPE
    assert journey.snapshot.enterprise is not None
    assert journey.snapshot.enterprise.uscc == VALID


def test_back_from_the_scope_goes_to_the_keypad_and_back_again_leaves() -> None:
    journey, _, _, _, _ = make()
    run(journey.card_presented(Card()))
    journey.enter_uscc(VALID)
    journey.back()
    assert journey.step is Step.ENTER_USCC
    journey.back()
    assert journey.step is Step.ATTRACT and not journey.snapshot.offline


def test_a_full_disk_refuses_the_request_and_prints_nothing() -> None:
    refused = QueueRefused("disk full", code="offline_cache.disk_full")
    journey, services, desk, _, _ = make(enqueue_error=refused)
    to_confirm(journey)
    run(journey.confirm())
    assert desk.events == []  # no receipt promising a report that was never stored
    snap = journey.snapshot
    assert snap.step is Step.ERROR and snap.message_id == "offline_mode.queue_full"
    assert snap.person == "" and not snap.offline  # the session is over
    assert ("queue_refused", {"code": "offline_cache.disk_full"}) in services.audits


def test_any_other_refusal_of_the_queue_has_its_own_message() -> None:
    refused = QueueRefused("locked", code="offline_cache.unavailable")
    journey, _, desk, _, _ = make(enqueue_error=refused)
    to_confirm(journey)
    run(journey.confirm())
    assert journey.snapshot.message_id == "offline_mode.queue_refused"
    assert desk.events == []


def test_a_failed_pickup_receipt_keeps_the_request_and_can_be_printed_again() -> None:
    jam = PrintFailure("out", phase="pickup", message_id="error.receipt_paper_out")
    journey, _, desk, _, _ = make(print_failures=[jam])
    to_confirm(journey)
    run(journey.confirm())
    snap = journey.snapshot
    assert snap.step is Step.QUEUED and snap.message_id == "offline_mode.receipt_failed"
    assert snap.ticket == TICKET  # on screen, to be written down
    run(journey.reprint_pickup())
    assert journey.step is Step.QUEUED and journey.snapshot.message_id == ""
    assert desk.events == ["enqueue", "pickup_receipt", "pickup_receipt"]
    assert len(desk.queued) == 1  # printed twice, queued once


def test_a_verified_login_qr_goes_offline_too() -> None:
    journey, services, desk, _, _ = make()
    run(journey.qr_presented(LOGIN_QR))
    assert journey.step is Step.ENTER_USCC and journey.snapshot.person == "李*"
    journey.enter_uscc(VALID)
    journey.scope_done()
    run(journey.confirm())
    assert desk.queued[0][0].method == "qr"
    assert desk.queued[0][0].credentials == {"payload": LOGIN_QR}
    assert ("offline_started", {"method": "qr"}) in services.audits


@pytest.mark.parametrize(
    ("reason", "message"),
    [("expired", "error.login_qr_expired"), ("bad_signature", "error.login_qr_invalid")],
)
def test_a_login_qr_that_fails_the_offline_check_is_refused(reason: str, message: str) -> None:
    journey, _, desk, _, _ = make(qr_answer=LoginQrRefused(reason))
    run(journey.qr_presented(LOGIN_QR))
    assert journey.step is Step.ERROR and journey.snapshot.message_id == message
    assert desk.queued == []


class CatalogDown(FakeServices):
    async def catalog(self) -> Catalog:
        raise PlatformUnavailable("connect refused")


def test_without_a_cached_catalog_the_kiosk_cannot_take_requests_offline() -> None:
    journey, _, _, _, _ = make(CatalogDown(), catalog=None)
    run(journey.card_presented(Card()))
    assert journey.step is Step.ERROR
    assert journey.snapshot.message_id == "error.platform_unavailable"


def test_a_refusal_from_a_reachable_platform_is_not_taken_offline() -> None:
    services = FakeServices(login_answer=ApiError(404, "person_not_found", "unknown"))
    journey, _, _, _, _ = make(services)
    run(journey.card_presented(Card()))
    assert journey.step is Step.ERROR
    assert journey.snapshot.message_id == "error.person_not_found"


def test_the_cached_catalog_serves_when_the_platform_was_never_reached() -> None:
    journey, _, _, _, _ = make(CatalogDown())
    run(journey.card_presented(Card()))
    assert journey.step is Step.ENTER_USCC
    assert journey.snapshot.domains == tuple((d.code, d.name) for d in CATALOG.domains)


def test_the_catalog_is_remembered_whenever_it_is_fetched_online() -> None:
    journey, _, desk, _, _ = make(FakeServices())
    run(journey.card_presented(Card()))
    assert journey.step is Step.CHOOSE_SCOPE and not journey.snapshot.offline
    assert desk.remembered == [CATALOG]


def test_the_idle_timeout_wipes_an_offline_session() -> None:
    journey, _, desk, clock, _ = make()
    run(journey.card_presented(Card()))
    journey.enter_uscc(VALID)
    clock.now += 61
    journey.tick()
    snap = journey.snapshot
    assert snap.step is Step.ATTRACT and snap.person == "" and not snap.offline
    assert snap.enterprise is None
    journey.scope_done()
    run(journey.confirm())  # late taps of the wiped session do nothing
    assert desk.queued == []


def test_a_wiped_session_forgets_the_queued_ticket() -> None:
    journey, _, _, _, _ = make()
    to_confirm(journey)
    run(journey.confirm())
    journey.cancel()  # 完成
    assert journey.step is Step.ATTRACT and journey.snapshot.ticket == ""


# --- pickup ------------------------------------------------------------------------------------
def pickup_make(**offline: object) -> tuple[Journey, FakeServices, FakeOffline]:
    services = FakeServices(login_answer=login(ACME))
    journey, _, desk, _, _ = make(services, **offline)
    return journey, services, desk


def test_a_scanned_pickup_receipt_asks_the_same_person_to_sign_in_then_prints() -> None:
    journey, services, desk = pickup_make()
    run(journey.qr_presented(TICKET.lower()))
    snap = journey.snapshot
    assert snap.step is Step.PICKUP_AUTH and snap.ticket == TICKET
    run(journey.card_presented(Card()))
    assert desk.pickups == [TICKET]
    snap = journey.snapshot
    assert snap.step is Step.SUMMARY and snap.enterprise == ACME
    assert snap.verification_code == report().meta.verification_code
    assert not snap.show_back  # nothing to go back to: Home ends the pickup
    run(journey.print_report())
    assert journey.step is Step.DONE and services.prints == ["a4"]
    assert services.fetches == []  # nothing new was requested from the platform


def test_pickup_by_login_qr_and_the_receipt_still_held_up_is_ignored() -> None:
    journey, _, desk = pickup_make()
    run(journey.qr_presented(TICKET))
    run(journey.qr_presented(TICKET))  # the camera sees the receipt again
    assert journey.step is Step.PICKUP_AUTH and journey.snapshot.message_id == ""
    run(journey.qr_presented("hello"))
    assert journey.snapshot.message_id == "attract.not_a_login_qr"
    run(journey.qr_presented(LOGIN_QR))
    assert journey.step is Step.SUMMARY and desk.pickups == [TICKET]


@pytest.mark.parametrize(
    ("error", "state", "message"),
    [
        (ApiError(404, "ticket_not_found", "x"), "waiting", "pickup.not_ready"),
        (ApiError(404, "ticket_not_found", "x"), "refused", "pickup.refused"),
        (ApiError(404, "ticket_not_found", "x"), None, "pickup.not_found"),
        (PlatformUnavailable("timeout"), None, "pickup.platform_unavailable"),
        (IntegrityFailure("sha256 mismatch"), None, "error.report_integrity"),
    ],
)
def test_pickup_that_cannot_print_says_what_to_do(
    error: KioskError, state: str | None, message: str
) -> None:
    states = {} if state is None else {TICKET: state}
    journey, services, _ = pickup_make(pickup_answer=error, states=states)
    run(journey.qr_presented(TICKET))
    run(journey.card_presented(Card()))
    snap = journey.snapshot
    assert snap.step is Step.ERROR and snap.message_id == message
    assert snap.person == "" and snap.ticket == ""
    assert services.prints == []


def test_pickup_while_the_platform_is_down_is_not_queued() -> None:
    journey, _, desk, _, _ = make()  # login answers PlatformUnavailable
    run(journey.qr_presented(TICKET))
    run(journey.card_presented(Card()))
    assert journey.step is Step.ERROR
    assert journey.snapshot.message_id == "pickup.platform_unavailable"
    assert desk.queued == [] and desk.pickups == []


def test_cancel_during_pickup_forgets_the_ticket() -> None:
    journey, _, desk = pickup_make()
    run(journey.qr_presented(TICKET))
    journey.cancel()
    assert journey.step is Step.ATTRACT and journey.snapshot.ticket == ""
    run(journey.card_presented(Card()))  # the next person: an ordinary session
    assert journey.step is Step.CHOOSE_SCOPE and desk.pickups == []


def test_without_offline_mode_a_pickup_receipt_is_not_a_login() -> None:
    journey = Journey(FakeServices(), clock=Clock())
    run(journey.qr_presented(TICKET))
    assert journey.step is Step.ATTRACT
    assert journey.snapshot.message_id == "attract.not_a_login_qr"


# --- an unusable store ---------------------------------------------------------------------------
def test_a_held_out_of_service_kiosk_stays_out_of_service_after_staff_leave() -> None:
    journey, _, _, _, _ = make()
    journey.out_of_service(until_restart=True)
    assert journey.step is Step.OUT_OF_SERVICE
    assert journey.snapshot.message_id == "error.out_of_service"
    run(journey.card_presented(Card()))
    assert journey.step is Step.OUT_OF_SERVICE
    journey.open_staff()
    journey.enter_staff_pin("246810")
    assert journey.step is Step.STAFF
    journey.cancel()
    assert journey.step is Step.OUT_OF_SERVICE
