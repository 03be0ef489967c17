"""The session state machine: from attract to printed report, and the side trips (DESIGN §1, §6).

It runs on one asyncio loop; the screens call its intents and render the Snapshots it publishes.
An intent that does not fit the current step is ignored (a late tap on a screen already gone).
Every slow call carries the session's generation: a result that comes back after cancel, back or the
idle timeout belongs to a wiped session and is dropped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from .api_models import Catalog, Enterprise, Login, Objection, ReportMeta, Verification
from .errors import ApiError, KioskError, PlatformUnavailable
from .messages import TERMINAL_FAULT_CODES
from .offline import OfflineIdentity, Queued
from .periods import DEFAULT_PRESET, PRESETS, Bounds, Period, custom_period_error, preset_period
from .scanned import classify, verification_code
from .steps import IDLE_EXEMPT, Snapshot, Step
from .tickets import new_ticket
from .uscc import normalize_uscc, uscc_problem

log = logging.getLogger(__name__)

# reason category -> the text the platform's staff read (always Chinese, whatever the UI language)
OBJECTION_REASONS = {
    "record_wrong": "记录内容有误",
    "not_our_record": "该记录不属于本企业",
    "already_repaired": "已完成信用修复或整改",
    "publicity_ended": "记录已超过公示期限",
    "other": "其他原因，请与本企业联系",
}
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")  # the platform's own rule


class CardLike(Protocol):
    """What the journey needs from an ID card read by the reader."""

    @property
    def id_number(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def valid_until(self) -> dt.date | None: ...


class PrintFailure(KioskError):
    """A4 or receipt failed; `phase` says which, so a reprint starts at the right place."""

    code = "print.failed"
    message_id = "error.print_failed"

    def __init__(self, detail: str, *, phase: str, message_id: str | None = None) -> None:
        super().__init__(detail)
        self.phase = phase
        if message_id is not None:
            self.message_id = message_id


@dataclasses.dataclass(frozen=True)
class FetchedReport:
    meta: ReportMeta
    pdf: bytes = dataclasses.field(repr=False)  # already checked: sha256 and platform signature


class Services(Protocol):
    """The journey's outside world; the composition root wires the API client and the devices."""

    def today(self) -> dt.date: ...
    def audit(self, event: str, **fields: str) -> None: ...
    async def catalog(self) -> Catalog: ...
    async def login_card(self, card: CardLike) -> Login: ...
    async def login_qr(self, payload: str) -> Login: ...
    async def fetch_report(
        self, login: Login, uscc: str, domains: Sequence[str] | None, period: Period, key: str
    ) -> FetchedReport: ...
    async def print_report(
        self,
        report: FetchedReport,
        enterprise: Enterprise,
        start_at: str,
        on_phase: Callable[[str], None],
    ) -> None: ...
    async def verify(self, code: str) -> Verification: ...
    async def file_objection(
        self, login: Login, report_id: str, record_id: str, reason: str, contact: str
    ) -> Objection: ...
    async def call_help(self, step: str) -> None: ...
    def check_staff_pin(self, pin: str) -> bool: ...
    def staff_locked_minutes(self) -> int: ...
    def staff_status(self) -> dict[str, str]: ...


class Offline(Protocol):
    """The offline path's outside world: the encrypted queue, cached catalog, pickup (docs/offline.md).

    Without one (None) an unreachable platform is only an error message, as before.
    """

    def cached_catalog(self) -> Catalog | None: ...
    def remember_catalog(self, catalog: Catalog) -> None: ...
    def check_login_qr(self, payload: str) -> OfflineIdentity: ...  # raises KioskError
    def enqueue(
        self,
        identity: OfflineIdentity,
        uscc: str,
        domains: Sequence[str] | None,
        period: Period,
        ticket: str | None = None,  # the request's key when an online attempt used one already
    ) -> Queued: ...  # on disk when it returns; raises QueueRefused
    async def print_pickup(self, queued: Queued, uscc: str) -> None: ...  # raises PrintFailure
    async def pickup(self, login: Login, ticket: str) -> tuple[FetchedReport, Enterprise]: ...
    def ticket_state(self, ticket: str) -> str | None: ...  # "waiting", "refused", "delivered"


class Journey:
    def __init__(
        self,
        services: Services,
        *,
        offline: Offline | None = None,
        idle_timeout_s: float = 60.0,
        countdown_s: float = 10.0,
        clock: Callable[[], float],
        language: str = "zh_CN",
        elderly: bool = False,
    ) -> None:
        self._default_language = language
        self._default_elderly = elderly
        self._language = language
        self._elderly = elderly
        self.services = services
        self.offline = offline
        self.idle_timeout_s = idle_timeout_s
        self.countdown_s = countdown_s
        self._clock = clock
        self._listeners: list[Callable[[Snapshot], None]] = []
        self._generation = 0
        self._catalog: Catalog | None = None
        self._login_result: Login | None = None
        self._enterprise: Enterprise | None = None
        self._selected: set[str] | None = None
        self._period: Period | None = None
        self._period_preset: str | None = DEFAULT_PRESET
        self._report: FetchedReport | None = None
        self._idempotency_key: str | None = None
        self._keyed_request: tuple[object, ...] | None = None  # what the key was minted for
        self._printing = False
        self._fallback_identity: Callable[[], OfflineIdentity] | None = None
        self._objection_record = ""
        self._reprint_from = "a4"
        self._return_to: Step | None = None
        self._offline_identity: OfflineIdentity | None = None  # set only on the offline path
        self._queued: Queued | None = None
        self._pickup_ticket: str | None = None
        self._held_message = ""  # set: the kiosk stays out of service until restarted
        self._last_activity = clock()
        self._snapshot = Snapshot(step=Step.ATTRACT)

    # --- observation -------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Snapshot], None]) -> None:
        self._listeners.append(listener)
        listener(self._snapshot)

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def step(self) -> Step:
        return self._snapshot.step

    # --- authentication ------------------------------------------------------------------------
    async def card_presented(self, card: CardLike) -> None:
        if self.step not in (Step.ATTRACT, Step.PICKUP_AUTH):
            return
        # the reader has checked the card (check digit, expiry): it may stand in for the platform
        await self._login(
            "card",
            lambda: self.services.login_card(card),
            lambda: OfflineIdentity.from_card(card),
        )

    def notice(self, message_id: str) -> None:
        """A device-level problem to show where the user waits (expired card, unreadable QR)."""
        if self.step in (Step.ATTRACT, Step.VERIFY_SCAN, Step.PICKUP_AUTH):
            self._show(self.step, message_id=message_id)

    async def qr_presented(self, text: str) -> None:
        """A QR at the camera: a login QR logs in; on the verify screen, a report's verify QR."""
        scanned = classify(text)
        if self.step is Step.VERIFY_SCAN:
            code = verification_code(text)
            if code is None:
                self._show(Step.VERIFY_SCAN, message_id="verify.not_a_report_qr")
                return
            await self._verify(code)
        elif self.step is Step.ATTRACT and scanned.kind == "pickup" and self.offline is not None:
            self._pickup_ticket = scanned.value
            self.services.audit("pickup_started")
            self._show(Step.PICKUP_AUTH)
        elif self.step in (Step.ATTRACT, Step.PICKUP_AUTH):
            if scanned.kind == "pickup" and self.step is Step.PICKUP_AUTH:
                return  # the receipt is still held up to the camera: wait for the login
            if scanned.kind != "login":
                self._show(self.step, message_id="attract.not_a_login_qr")
                return
            offline = self.offline
            await self._login(
                "qr",
                lambda: self.services.login_qr(scanned.value),
                None if offline is None else lambda: offline.check_login_qr(scanned.value),
            )

    async def _login(
        self,
        method: str,
        call: Callable[[], Awaitable[Login]],
        offline_identity: Callable[[], OfflineIdentity] | None = None,
    ) -> None:
        gen = self._begin(Step.AUTHENTICATING)
        self.services.audit("login_started", method=method)
        try:
            catalog = await self._load_catalog()
            login = await call()
        except PlatformUnavailable as exc:
            if self._current(gen):
                self._go_offline(exc, method, offline_identity)
            return
        except KioskError as exc:
            if self._current(gen):
                self._fail(exc, back_to=Step.ATTRACT)
            return
        if not self._current(gen):
            return
        self._login_result = login
        self._catalog = catalog
        # a card the reader checked can still stand in for the platform if it drops before the
        # report is in (a login QR cannot: the platform has spent it)
        self._fallback_identity = offline_identity if method == "card" else None
        self.services.audit("login_ok", method=method, enterprises=str(len(login.enterprises)))
        if self._pickup_ticket is not None:
            await self._pickup(gen, login, self._pickup_ticket)
            return
        if not login.enterprises:
            self._wipe()
            self._show(Step.ERROR, message_id="error.no_enterprise")
            return
        if len(login.enterprises) == 1:
            self._enterprise = login.enterprises[0]
            self._enter_scope()
        else:
            self._show(Step.CHOOSE_ENTERPRISE)

    async def _load_catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = await self.services.catalog()
            if self.offline is not None:  # the screens need it when the platform is gone
                self.offline.remember_catalog(self._catalog)
        return self._catalog

    # --- offline: the platform is unreachable ----------------------------------------------------
    def _go_offline(
        self,
        exc: PlatformUnavailable,
        method: str,
        offline_identity: Callable[[], OfflineIdentity] | None,
    ) -> None:
        """A person the kiosk can verify itself may leave a request in the queue (DESIGN §5)."""
        offline = self.offline
        if self._pickup_ticket is not None:  # picking up needs the platform: come back later
            log.warning("pickup: platform unreachable (%s)", exc.detail)
            self.services.audit("pickup_failed", code=exc.code)
            self._wipe()
            self._show(Step.ERROR, message_id="pickup.platform_unavailable")
            return
        if offline is None or offline_identity is None:
            self._fail(exc, back_to=Step.ATTRACT)
            return
        catalog = self._catalog or offline.cached_catalog()
        if catalog is None:
            log.warning("offline: no cached catalog yet, cannot accept requests")
            self._fail(exc, back_to=Step.ATTRACT)
            return
        try:
            identity = offline_identity()
        except KioskError as refused:
            self._fail(refused, back_to=Step.ATTRACT)
            return
        log.warning("platform unreachable (%s): offline mode for this session", exc.detail)
        self._catalog = catalog
        self._offline_identity = identity
        self.services.audit("offline_started", method=method)
        self._show(Step.ENTER_USCC, message_id="offline_mode.notice")

    def enter_uscc(self, text: str) -> None:
        """Offline: the enterprise as typed on the keypad, checked here (GB 32100 check char)."""
        if self.step is not Step.ENTER_USCC or self._offline_identity is None:
            return
        uscc = normalize_uscc(text)
        problem = uscc_problem(uscc)
        if problem is not None:
            self._show(Step.ENTER_USCC, message_id=problem)
            return
        self._enterprise = Enterprise(uscc=uscc, name="", role="")
        self.services.audit("uscc_entered")
        self._enter_scope()

    async def _queue_instead(self, exc: PlatformUnavailable) -> bool:
        """The platform went away after a card login: the request goes to the queue under the
        key already sent, so a report the platform did make is the one picked up (DESIGN §5)."""
        if self.offline is None or self._fallback_identity is None:
            return False
        try:
            identity = self._fallback_identity()
        except KioskError:
            return False
        log.warning("platform unreachable at the report (%s): request queued", exc.detail)
        self._offline_identity = identity
        self.services.audit("offline_started", method="card_after_login")
        await self._queue(ticket=self._idempotency_key)
        return True

    async def _queue(self, ticket: str | None = None) -> None:
        offline, identity = self.offline, self._offline_identity
        assert offline is not None and identity is not None
        assert self._enterprise is not None and self._period is not None
        domains = None if self._selected is None else sorted(self._selected)
        self._show(Step.QUEUING)
        try:
            queued = offline.enqueue(
                identity, self._enterprise.uscc, domains, self._period, ticket=ticket
            )
        except KioskError as exc:  # nothing stored: no receipt may promise a report
            log.error("offline queue refused a request: %s %s", exc.code, exc.detail)
            self.services.audit("queue_refused", code=exc.code)
            self._wipe()
            self._show(Step.ERROR, message_id=exc.message_id)
            return
        self._queued = queued
        self.services.audit("request_queued")
        await self._print_pickup()

    async def _print_pickup(self) -> None:
        assert self.offline is not None and self._queued is not None
        assert self._enterprise is not None
        gen = self._begin(Step.PRINTING, print_phase="pickup")
        try:
            await self.offline.print_pickup(self._queued, self._enterprise.uscc)
        except (
            PrintFailure
        ) as exc:  # the request is queued all the same; the screen shows the ticket
            self.services.audit("print_failed", phase="pickup", code=exc.code)
            if self._current(gen):
                self._show(Step.QUEUED, message_id="offline_mode.receipt_failed")
            return
        self.services.audit("pickup_receipt_printed")
        if self._current(gen):
            self._show(Step.QUEUED)

    async def reprint_pickup(self) -> None:
        if self.step is Step.QUEUED and self._queued is not None:
            await self._print_pickup()

    async def _pickup(self, gen: int, login: Login, ticket: str) -> None:
        assert self.offline is not None
        self._show(Step.FETCHING)
        try:
            report, enterprise = await self.offline.pickup(login, ticket)
        except KioskError as exc:
            if not self._current(gen):
                return
            if isinstance(exc, ApiError) and exc.code in TERMINAL_FAULT_CODES:
                self._fail(exc, back_to=Step.ATTRACT)
                return
            message = self._pickup_message(ticket, exc)
            log.warning("pickup failed: %s %s", exc.code, exc.detail)
            self.services.audit("pickup_failed", code=exc.code)
            self._wipe()
            self._show(Step.ERROR, message_id=message)
            return
        if not self._current(gen):
            return
        self._report = report
        self._enterprise = enterprise
        self.services.audit("pickup_fetched", records=str(report.meta.total_records))
        self._show(Step.SUMMARY)

    def _pickup_message(self, ticket: str, exc: KioskError) -> str:
        assert self.offline is not None
        if isinstance(exc, PlatformUnavailable):
            return "pickup.platform_unavailable"
        if isinstance(exc, ApiError) and exc.code == "ticket_not_found":
            # this kiosk may know the request: still waiting in its queue, or refused for good
            state = self.offline.ticket_state(ticket)
            if state == "waiting":
                return "pickup.not_ready"
            if state == "refused":
                return "pickup.refused"
            return "pickup.not_found"
        return exc.message_id

    def hold_out_of_service(self, message_id: str = "error.out_of_service") -> None:
        """Out of service until a technician restarts the kiosk (the offline store is unusable)."""
        self._held_message = message_id
        self.reset(Step.OUT_OF_SERVICE, message_id=message_id)

    # --- choices -------------------------------------------------------------------------------
    def choose_enterprise(self, uscc: str) -> None:
        if self.step is not Step.CHOOSE_ENTERPRISE or self._login_result is None:
            return
        match = [e for e in self._login_result.enterprises if e.uscc == uscc]
        if not match:
            return
        self._enterprise = match[0]
        self.services.audit("enterprise_chosen")
        self._enter_scope()

    def _enter_scope(self) -> None:
        self._period_preset = DEFAULT_PRESET
        self._period = preset_period(DEFAULT_PRESET, self._bounds())
        self._selected = None
        self._show(Step.CHOOSE_SCOPE)

    def choose_all_domains(self) -> None:
        if self.step in (Step.CHOOSE_SCOPE, Step.CHOOSE_DOMAINS):
            self._selected = None
            self._show(Step.CHOOSE_SCOPE)

    def open_domain_picker(self) -> None:
        if self.step is Step.CHOOSE_SCOPE:
            self._selected = set(self._selected or ())
            self._show(Step.CHOOSE_DOMAINS)

    def toggle_domain(self, code: str) -> None:
        if self.step is not Step.CHOOSE_DOMAINS or self._catalog is None:
            return
        if code not in {d.code for d in self._catalog.domains}:
            return
        selected = set(self._selected or ())
        selected.symmetric_difference_update({code})
        self._selected = selected
        self._show(Step.CHOOSE_DOMAINS)

    def finish_domains(self) -> None:
        if self.step is not Step.CHOOSE_DOMAINS:
            return
        if not self._selected:
            self._show(Step.CHOOSE_DOMAINS, message_id="scope.pick_one_domain")
            return
        self._show(Step.CHOOSE_SCOPE)

    def choose_period_preset(self, preset: str) -> None:
        if self.step is not Step.CHOOSE_SCOPE or preset not in PRESETS:
            return
        self._period_preset = preset
        self._period = preset_period(preset, self._bounds())
        self._show(Step.CHOOSE_SCOPE)

    def choose_custom_period(self, start: dt.date, end: dt.date) -> None:
        if self.step is not Step.CHOOSE_SCOPE:
            return
        bounds = self._bounds()
        problem = custom_period_error(start, end, bounds)
        if problem is not None:
            args = {"years": str(bounds.max_years), "floor": str(bounds.floor or "")}
            self._show(Step.CHOOSE_SCOPE, message_id=problem, message_args=args)
            return
        self._period_preset = None
        self._period = Period(start, end)
        self._show(Step.CHOOSE_SCOPE)

    def scope_done(self) -> None:
        if self.step is Step.CHOOSE_SCOPE:
            self.services.audit(
                "scope_chosen",
                domains="all" if self._selected is None else str(len(self._selected)),
                preset=self._period_preset or "custom",
            )
            self._show(Step.CONFIRM)

    # --- the report ----------------------------------------------------------------------------
    async def confirm(self) -> None:
        if self.step is Step.CONFIRM and self._offline_identity is not None:
            await self._queue()
            return
        if self.step is not Step.CONFIRM or self._login_result is None:
            return
        assert self._enterprise is not None and self._period is not None
        domains = None if self._selected is None else sorted(self._selected)
        # one key per request: a retry after a timeout gets the same report back, and a request
        # changed after a failure (another enterprise, domains or period) gets a key of its own
        request = (self._enterprise.uscc, None if domains is None else tuple(domains), self._period)
        if self._idempotency_key is None or request != self._keyed_request:
            self._idempotency_key = new_ticket()  # a ticket, should the request be queued
            self._keyed_request = request
        gen = self._begin(Step.FETCHING)
        try:
            report = await self.services.fetch_report(
                self._login_result,
                self._enterprise.uscc,
                domains,
                self._period,
                self._idempotency_key,
            )
        except PlatformUnavailable as exc:
            if self._current(gen) and not await self._queue_instead(exc):
                self._fail(exc, back_to=Step.CONFIRM)
            return
        except KioskError as exc:
            if self._current(gen):
                self._fail(exc, back_to=Step.CONFIRM)
            return
        if not self._current(gen):
            return
        self._report = report
        self.services.audit("report_fetched", records=str(report.meta.total_records))
        self._show(Step.SUMMARY)

    async def print_report(self) -> None:
        if self.step not in (Step.SUMMARY, Step.PRINT_FAILED) or self._report is None:
            return
        assert self._enterprise is not None
        start_at = self._reprint_from
        gen = self._begin(Step.PRINTING, print_phase=start_at)

        def on_phase(phase: str) -> None:
            if self._current(gen):
                self._show(Step.PRINTING, print_phase=phase)

        self._printing = True  # the session stays until the paper is out, whatever is tapped
        try:
            await self.services.print_report(self._report, self._enterprise, start_at, on_phase)
        except PrintFailure as exc:
            self._reprint_from = exc.phase
            self.services.audit("print_failed", phase=exc.phase, code=exc.code)
            if self._current(gen):
                self._show(Step.PRINT_FAILED, message_id=exc.message_id)
            return
        finally:
            self._printing = False
        self._reprint_from = "a4"
        self.services.audit("print_done")
        if self._current(gen):
            self._show(Step.DONE)

    # --- verification, objection, help, staff ---------------------------------------------------
    def start_verify(self) -> None:
        if self.step in (Step.ATTRACT, Step.VERIFY_RESULT):
            self._show(Step.VERIFY_SCAN)

    async def _verify(self, code: str) -> None:
        gen = self._begin(Step.VERIFY_SCAN)
        try:
            result = await self.services.verify(code)
        except KioskError as exc:
            if self._current(gen):
                self._fail(exc, back_to=Step.VERIFY_SCAN)
            return
        if self._current(gen):
            self.services.audit("verify_done", status=result.status)
            self._show(Step.VERIFY_RESULT, verification=result)

    def start_objection(self, record_id: str) -> None:
        if self.step is not Step.SUMMARY or self._report is None:
            return
        ids = {r.record_id for d in self._report.meta.domains for r in d.records}
        if record_id in ids:
            self._objection_record = record_id
            self._show(Step.OBJECTION)

    async def submit_objection(self, reason: str, contact: str) -> None:
        if self.step is not Step.OBJECTION or self._report is None or self._login_result is None:
            return
        if reason not in OBJECTION_REASONS:
            self._show(Step.OBJECTION, message_id="objection.pick_reason")
            return
        contact = contact.replace(" ", "")
        if not _PHONE.match(contact):
            self._show(Step.OBJECTION, message_id="objection.bad_phone")
            return
        gen = self._generation
        try:
            result = await self.services.file_objection(
                self._login_result,
                self._report.meta.report_id,
                self._objection_record,
                OBJECTION_REASONS[reason],
                contact,
            )
        except KioskError as exc:
            if self._current(gen):
                self._fail(exc, back_to=Step.OBJECTION)
            return
        if self._current(gen):
            self.services.audit("objection_filed")
            self._show(Step.OBJECTION_DONE, objection_due=result.due_by.isoformat())

    def back_to_summary(self) -> None:
        if self.step in (Step.OBJECTION, Step.OBJECTION_DONE) and self._report is not None:
            self._show(Step.SUMMARY)

    async def call_help(self) -> None:
        step = self.step.value
        self.services.audit("help_called", step=step)
        self._return_to = self.step if self.step is not Step.HELP else self._return_to
        self._show(Step.HELP)
        try:
            await self.services.call_help(step)
        except KioskError as exc:  # the page still tells the user to wave at staff
            log.warning("help call not delivered: %s", exc.code)

    def close_help(self) -> None:
        if self.step is Step.HELP:
            self._show(self._return_to or Step.ATTRACT)

    def open_staff(self) -> None:
        if self.step is Step.ATTRACT or self.step is Step.OUT_OF_SERVICE:
            self._pin_failures_shown = False
            self._show(Step.STAFF_PIN)

    def enter_staff_pin(self, pin: str) -> None:
        if self.step is not Step.STAFF_PIN:
            return
        if self.services.check_staff_pin(pin):
            self.services.audit("staff_unlocked")
            self._show(Step.STAFF, staff_status=self.services.staff_status())
        elif (
            minutes := self.services.staff_locked_minutes()
        ):  # too many wrong PINs: say for how long
            self.services.audit("staff_pin_locked")
            self._show(
                Step.STAFF_PIN, message_id="staff.locked", message_args={"minutes": str(minutes)}
            )
        else:
            self.services.audit("staff_pin_refused")
            self._show(Step.STAFF_PIN, message_id="staff.pin_refused")

    def out_of_service(self, message_id: str = "error.out_of_service") -> None:
        self.reset(Step.OUT_OF_SERVICE, message_id=message_id)

    def toggle_language(self) -> None:
        self._language = "en" if self._language == "zh_CN" else "zh_CN"
        self._publish(dataclasses.replace(self._snapshot, language=self._language))

    def toggle_elderly(self) -> None:
        self._elderly = not self._elderly
        self.services.audit("elderly_mode", on=str(self._elderly).lower())
        self._publish(dataclasses.replace(self._snapshot, elderly=self._elderly))

    # --- navigation ----------------------------------------------------------------------------
    def back(self) -> None:
        if self._offline_identity is not None:
            scope_back: Step | None = Step.ENTER_USCC
        elif self._login_result is not None and len(self._login_result.enterprises) > 1:
            scope_back = Step.CHOOSE_ENTERPRISE
        else:
            scope_back = None
        previous = {
            Step.CHOOSE_SCOPE: scope_back,
            Step.ENTER_USCC: None,
            Step.PICKUP_AUTH: None,
            Step.CHOOSE_DOMAINS: Step.CHOOSE_SCOPE,
            Step.CONFIRM: Step.CHOOSE_SCOPE,
            Step.SUMMARY: None if self._pickup_ticket is not None else Step.CONFIRM,
            Step.VERIFY_SCAN: None,
            Step.VERIFY_RESULT: Step.VERIFY_SCAN,
            Step.OBJECTION: Step.SUMMARY,
            Step.HELP: self._return_to,
            Step.STAFF_PIN: None,
            Step.STAFF: None,
            Step.ERROR: None,
        }
        if self.step not in previous:
            return
        target = previous[self.step]
        if target is None:
            self.cancel()
        else:
            if self.step is Step.SUMMARY:
                self._report = None
                self._idempotency_key = None  # a changed request must not replay the old one
            self._show(target)

    def cancel(self) -> None:
        """Leave the session from any step: everything of this user is forgotten."""
        if self.step in (Step.PRINTING, Step.OUT_OF_SERVICE) or self._printing:
            return  # a job is in the printer; the done screen follows
        self.services.audit("session_cancelled", step=self.step.value)
        self.reset()

    def reset(self, step: Step = Step.ATTRACT, message_id: str = "") -> None:
        if self._held_message and step is Step.ATTRACT:
            step, message_id = Step.OUT_OF_SERVICE, self._held_message
        self._generation += 1
        self._wipe()
        self._language = self._default_language  # the next person starts from the hall's defaults
        self._elderly = self._default_elderly
        self._show(step, message_id=message_id)

    def activity(self) -> None:
        """Any touch: the idle clock starts again."""
        self._last_activity = self._clock()
        if self._snapshot.countdown is not None:
            self._publish(dataclasses.replace(self._snapshot, countdown=None))

    def tick(self) -> None:
        """Called about once a second: the visible countdown, then the wipe."""
        if self.step in IDLE_EXEMPT or self._printing:
            return
        idle = self._clock() - self._last_activity
        left = self.idle_timeout_s - idle
        if left <= 0:
            self.services.audit("session_timeout", step=self.step.value)
            self.reset()
        elif left <= self.countdown_s:
            shown = int(left + 0.999)
            if shown != self._snapshot.countdown:
                self._publish(dataclasses.replace(self._snapshot, countdown=shown))

    # --- internals ---------------------------------------------------------------------------
    def _wipe(self) -> None:
        self._login_result = None
        self._enterprise = None
        self._selected = None
        self._period = None
        self._period_preset = DEFAULT_PRESET
        self._report = None
        self._idempotency_key = None
        self._keyed_request = None
        self._objection_record = ""
        self._reprint_from = "a4"
        self._return_to = None
        self._offline_identity = None
        self._fallback_identity = None
        self._queued = None
        self._pickup_ticket = None
        self._last_activity = self._clock()

    def _bounds(self) -> Bounds:
        assert self._catalog is not None
        return Bounds(
            self._catalog.earliest_date, self._catalog.max_period_years, self.services.today()
        )

    def _begin(self, step: Step, **extra: object) -> int:
        self._show(step, **extra)
        return self._generation

    def _current(self, generation: int) -> bool:
        return generation == self._generation

    def _fail(self, exc: KioskError, back_to: Step) -> None:
        log.warning("step %s failed: %s %s", self.step.value, exc.code, exc.detail)
        self.services.audit("error", step=self.step.value, code=exc.code)
        if isinstance(exc, ApiError) and exc.code in TERMINAL_FAULT_CODES:
            self.out_of_service(exc.message_id)
            return
        if isinstance(exc, ApiError) and exc.message_id == "error.session_expired":
            self.reset(Step.ERROR, message_id=exc.message_id)
            return
        if back_to is Step.ATTRACT:
            self._wipe()
            self._show(Step.ERROR, message_id=exc.message_id)
            return
        self._show(back_to, message_id=exc.message_id)

    def _show(self, step: Step, **extra: object) -> None:
        self._last_activity = self._clock()
        catalog = self._catalog
        login = self._login_result
        report = self._report
        identity = self._offline_identity
        queued = self._queued
        person = login.person_name_masked if login else identity.masked_name if identity else ""
        snapshot = Snapshot(
            step=step,
            person=person,
            enterprises=login.enterprises if login else (),
            enterprise=self._enterprise,
            domains=tuple((d.code, d.name) for d in catalog.domains) if catalog else (),
            selected_domains=None if self._selected is None else frozenset(self._selected),
            period_preset=self._period_preset,
            period=self._period,
            floor=catalog.earliest_date.isoformat() if catalog and catalog.earliest_date else None,
            report_title=catalog.report_title if catalog else "",
            results=report.meta.domains if report else (),
            total_records=report.meta.total_records if report else 0,
            report_id=report.meta.report_id if report else "",
            verification_code=report.meta.verification_code if report else "",
            valid_until=report.meta.valid_until.isoformat() if report else "",
            objection_record=self._objection_record,
            offline=identity is not None,
            ticket=queued.ticket if queued else self._pickup_ticket or "",
            pickup_after=queued.pickup_after.strftime("%Y-%m-%d %H:%M") if queued else "",
            can_go_back=step
            not in (
                Step.ATTRACT,
                Step.PRINTING,
                Step.DONE,
                Step.OUT_OF_SERVICE,
                Step.QUEUING,
                Step.QUEUED,
            )
            and not (step is Step.SUMMARY and self._pickup_ticket is not None),
            language=self._language,
            elderly=self._elderly,
        )
        self._publish(dataclasses.replace(snapshot, **extra))  # type: ignore[arg-type]

    def _publish(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        for listener in self._listeners:
            listener(snapshot)
