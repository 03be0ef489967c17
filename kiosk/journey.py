"""The session state machine: from attract to printed report, and the side trips (DESIGN §1, §6).

It runs on one asyncio loop; the screens call its intents (the methods marked `@intent`) and render
the Snapshots it publishes. An intent that does not fit the current step is ignored (a late tap on
a screen already gone). Every slow call carries the session's generation: a result that comes back
after cancel, back or the idle timeout belongs to a wiped session and is dropped. Where Back leads,
what the idle clock skips and where a session ends is the table in `steps.py`; the shared mechanics
(session, generation, snapshots) are `stage.Stage`; the offline branch is `offline_flow.OfflineFlow`
and the side trips (verify, objection, help, staff) `side_trips.SideTrips` (docs/architecture.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from .api_models import Catalog, Login
from .errors import KioskError, PlatformUnavailable
from .i18n import DEFAULT_LANGUAGE, LANGUAGES
from .intents import intent, intents_of
from .offline import OfflineIdentity
from .offline_flow import OfflineFlow
from .periods import DEFAULT_PRESET, PRESETS, Bounds, Period, custom_period_error, preset_period
from .ports import CardLike, Offline, PrintFailure, Services
from .scanned import classify, verification_code
from .side_trips import SideTrips
from .stage import Stage
from .steps import STEPS, Back, Device, Snapshot, Step
from .terminal_state import TerminalState
from .tickets import new_ticket

log = logging.getLogger(__name__)
# the help call a failed print raises, by what the screen says: staff bring paper, or come to a
# printer that needs opening up (DESIGN §8's reasons); anything else is a print that failed
CALL_FOR_FAILURE = {
    "error.paper_out": "paper_out",
    "error.receipt_paper_out": "paper_out",
    "error.paper_jam": "device_fault",
    "error.printer_offline": "device_fault",
}


class Journey:
    def __init__(
        self,
        services: Services,
        *,
        offline: Offline | None = None,
        idle_timeout_s: float = 60.0,
        countdown_s: float = 10.0,
        clock: Callable[[], float],
        language: str = DEFAULT_LANGUAGE,
        elderly: bool = False,
        service_desk: str = "",
        hall_name: str = "",
        report_title: str = "",
    ) -> None:
        self.services = services
        self.offline = offline
        self._stage = Stage(
            services.audit,
            clock=clock,
            language=language,
            elderly=elderly,
            idle_timeout_s=idle_timeout_s,
            countdown_s=countdown_s,
            service_desk=service_desk,
            today=services.today,
            hall_name=hall_name,
            report_title=report_title,
        )
        # without an offline side an unreachable platform is only an error message
        self._offline = (
            None if offline is None else OfflineFlow(self._stage, offline, services.audit)
        )
        self._trips = SideTrips(self._stage, services)
        # the terminal between sessions: its devices, the staff lock, its help calls
        self.terminal = TerminalState(self._stage, services.audit)

    # --- observation -------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Snapshot], None]) -> None:
        self._stage.subscribe(listener)

    @property
    def snapshot(self) -> Snapshot:
        return self._stage.snapshot

    @property
    def step(self) -> Step:
        return self._stage.step

    # --- devices ---------------------------------------------------------------------------------
    async def card_presented(self, card: CardLike) -> None:
        if Device.CARD not in STEPS[self.step].listens:
            return
        # the reader has checked the card (check digit, expiry): it may stand in for the platform
        await self._login(
            "card",
            lambda: self.services.login_card(card),
            lambda: OfflineIdentity.from_card(card),
        )

    async def notice(self, message_id: str) -> None:
        """A device-level problem to show where the user waits (expired card, unreadable QR); a
        card the reader cannot read also calls staff."""
        if STEPS[self.step].listens:
            self._stage.show(self.step, message_id=message_id)
            if message_id == "error.card_unreadable":
                await self._trips.raise_call("card_unreadable")

    async def qr_presented(self, text: str) -> None:
        """A QR at the camera: a login QR logs in; on the verify screen, a report's verify QR."""
        scanned, stage = classify(text), self._stage
        if self.step is Step.VERIFY_SCAN:
            code = verification_code(text)
            if code is None:
                stage.show(Step.VERIFY_SCAN, message_id="verify.not_a_report_qr")
                return
            await self._trips.verify(code)
        elif self.step is Step.ATTRACT and scanned.kind == "pickup" and self._offline is not None:
            self._offline.start_pickup(scanned.value)
        elif self.step in (Step.ATTRACT, Step.PICKUP_AUTH):
            if scanned.kind == "pickup" and self.step is Step.PICKUP_AUTH:
                return  # the receipt is still held up to the camera: wait for the login
            if scanned.kind != "login":
                stage.show(self.step, message_id="attract.not_a_login_qr")
                return
            offline = self.offline
            await self._login(
                "qr",
                lambda: self.services.login_qr(scanned.value),
                None if offline is None else lambda: offline.check_login_qr(scanned.value),
            )

    # --- authentication ------------------------------------------------------------------------
    async def _login(
        self,
        method: str,
        call: Callable[[], Awaitable[Login]],
        offline_identity: Callable[[], OfflineIdentity] | None = None,
    ) -> None:
        stage = self._stage
        gen = stage.begin(Step.AUTHENTICATING)
        stage.session.login_method = method  # after a QR login there is no card to take away
        self.services.audit("login_started", method=method)
        try:
            catalog = await self._load_catalog()
            login = await call()
        except PlatformUnavailable as exc:
            if stage.current(gen):
                if self._offline is None:
                    stage.fail(exc, back_to=Step.ATTRACT)
                else:
                    self._offline.take_over(exc, method, offline_identity)
            return
        except KioskError as exc:
            if stage.current(gen):
                stage.fail(exc, back_to=Step.ATTRACT)
            return
        if not stage.current(gen):
            return
        session = stage.session
        session.login = login
        stage.catalog = catalog
        # a card the reader checked can still stand in for the platform if it drops before the
        # report is in (a login QR cannot: the platform has spent it)
        session.fallback_identity = offline_identity if method == "card" else None
        self.services.audit("login_ok", method=method, enterprises=str(len(login.enterprises)))
        if session.pickup_ticket is not None and self._offline is not None:
            await self._offline.pickup(gen, login, session.pickup_ticket)
            return
        if not login.enterprises:
            stage.show(Step.ERROR, message_id="error.no_enterprise")
            return
        if len(login.enterprises) == 1:
            session.enterprise = login.enterprises[0]
            self._enter_scope()
        else:
            stage.show(Step.CHOOSE_ENTERPRISE)

    async def _load_catalog(self) -> Catalog:
        if self._stage.catalog is None:
            self._stage.catalog = await self.services.catalog()
            if self.offline is not None:  # the screens need it when the platform is gone
                self.offline.remember_catalog(self._stage.catalog)
        return self._stage.catalog

    # --- offline ---------------------------------------------------------------------------------
    @intent
    def enter_uscc(self, text: str) -> None:
        """Offline: the enterprise as typed on the keypad (checked by the offline flow)."""
        if self._offline is not None and self._offline.enter_uscc(text):
            self._enter_scope()

    @intent
    async def reprint_pickup(self) -> None:
        offline, queued = self._offline, self._stage.session.queued
        if self.step is Step.QUEUED and queued is not None and offline is not None:
            await offline.print_pickup()

    # --- choices -------------------------------------------------------------------------------
    @intent
    def choose_enterprise(self, uscc: str) -> None:
        session = self._stage.session
        if self.step is not Step.CHOOSE_ENTERPRISE or session.login is None:
            return
        match = [e for e in session.login.enterprises if e.uscc == uscc]
        if not match:
            return
        session.enterprise = match[0]
        self.services.audit("enterprise_chosen")
        self._enter_scope()

    def _enter_scope(self) -> None:
        session = self._stage.session
        session.period_preset = DEFAULT_PRESET
        session.period = preset_period(DEFAULT_PRESET, self._bounds())
        session.selected = None
        self._stage.show(Step.CHOOSE_SCOPE)

    @intent
    def choose_all_domains(self) -> None:
        if self.step in (Step.CHOOSE_SCOPE, Step.CHOOSE_DOMAINS):
            self._stage.session.selected = None
            self._stage.show(Step.CHOOSE_SCOPE)

    @intent
    def open_domain_picker(self) -> None:
        if self.step is Step.CHOOSE_SCOPE:
            session = self._stage.session
            session.selected = set(session.selected or ())
            self._stage.show(Step.CHOOSE_DOMAINS)

    @intent
    def toggle_domain(self, code: str) -> None:
        catalog = self._stage.catalog
        if self.step is not Step.CHOOSE_DOMAINS or catalog is None:
            return
        if code not in {d.code for d in catalog.domains}:
            return
        session = self._stage.session
        selected = set(session.selected or ())
        selected.symmetric_difference_update({code})
        session.selected = selected
        self._stage.show(Step.CHOOSE_DOMAINS)

    @intent
    def tick_all_domains(self, ticked: bool) -> None:
        """On the picker, every domain ticked or none, in one tap."""
        catalog = self._stage.catalog
        if self.step is Step.CHOOSE_DOMAINS and catalog is not None:
            self._stage.session.selected = {d.code for d in catalog.domains} if ticked else set()
            self._stage.show(Step.CHOOSE_DOMAINS)

    @intent
    def finish_domains(self) -> None:
        if self.step is not Step.CHOOSE_DOMAINS:
            return
        session, catalog = self._stage.session, self._stage.catalog
        if not session.selected:  # the screen greys the button out; a late tap still ends here
            self._stage.show(Step.CHOOSE_DOMAINS, message_id="scope.pick_one_domain")
            return
        if catalog is not None and session.selected == {d.code for d in catalog.domains}:
            session.selected = None  # every domain ticked is the whole report: ask for "all"
        self._stage.show(Step.CHOOSE_SCOPE)

    @intent
    def choose_period_preset(self, preset: str) -> None:
        if self.step is not Step.CHOOSE_SCOPE or preset not in PRESETS:
            return
        bounds = self._bounds()
        period = preset_period(preset, bounds)
        problem = custom_period_error(period.start, period.end, bounds)
        if problem is not None:  # last year, wholly before a recent floor
            args = {"years": str(bounds.max_years), "floor": str(bounds.floor or "")}
            self._stage.show(Step.CHOOSE_SCOPE, message_id=problem, message_args=args)
            return
        session = self._stage.session
        session.period_preset = preset
        session.period = period
        self._stage.show(Step.CHOOSE_SCOPE)

    @intent
    def choose_custom_period(self, start: dt.date, end: dt.date) -> None:
        if self.step is not Step.CHOOSE_SCOPE:
            return
        bounds = self._bounds()
        problem = custom_period_error(start, end, bounds)
        if problem is not None:
            args = {"years": str(bounds.max_years), "floor": str(bounds.floor or "")}
            self._stage.show(Step.CHOOSE_SCOPE, message_id=problem, message_args=args)
            return
        session = self._stage.session
        session.period_preset = None
        session.period = Period(start, end)
        self._stage.show(Step.CHOOSE_SCOPE)

    @intent
    def scope_done(self) -> None:
        if self.step is Step.CHOOSE_SCOPE:
            session = self._stage.session
            self.services.audit(
                "scope_chosen",
                domains="all" if session.selected is None else str(len(session.selected)),
                preset=session.period_preset or "custom",
            )
            self._stage.show(Step.CONFIRM)

    def _bounds(self) -> Bounds:
        return self._stage.bounds()

    # --- the report ----------------------------------------------------------------------------
    @intent
    async def confirm(self) -> None:
        stage, session = self._stage, self._stage.session
        offline = self._offline
        if self.step is Step.CONFIRM and session.offline_identity is not None and offline:
            await offline.queue()
            return
        if self.step is not Step.CONFIRM or session.login is None:
            return
        assert session.enterprise is not None and session.period is not None
        domains = None if session.selected is None else sorted(session.selected)
        # one key per request: a retry after a timeout gets the same report back, and a request
        # changed after a failure (another enterprise, domains or period) gets a key of its own
        request = (
            session.enterprise.uscc,
            None if domains is None else tuple(domains),
            session.period,
        )
        if session.idempotency_key is None or request != session.keyed_request:
            session.idempotency_key = new_ticket()  # a ticket, should the request be queued
            session.keyed_request = request
        gen = stage.begin(Step.FETCHING)
        try:
            report = await self.services.fetch_report(
                session.login,
                session.enterprise.uscc,
                domains,
                session.period,
                session.idempotency_key,
            )
        except PlatformUnavailable as exc:
            if stage.current(gen):
                queued = self._offline is not None and await self._offline.queue_instead(exc)
                if not queued:
                    stage.fail(exc, back_to=Step.CONFIRM)
            return
        except KioskError as exc:
            if stage.current(gen):
                stage.fail(exc, back_to=Step.CONFIRM)
            return
        if not stage.current(gen):
            return
        session.report = report
        self.services.audit("report_fetched", records=str(report.meta.total_records))
        stage.show(Step.SUMMARY)

    @intent
    async def print_report(self) -> None:
        stage, session = self._stage, self._stage.session
        if self.step not in (Step.SUMMARY, Step.PRINT_FAILED) or session.report is None:
            return
        assert session.enterprise is not None
        start_at = session.reprint_from
        gen = stage.begin(Step.PRINTING, print_phase=start_at)

        def on_phase(phase: str) -> None:
            if stage.current(gen):
                stage.show(Step.PRINTING, print_phase=phase)

        session.printing = True  # the session stays until the paper is out, whatever is tapped
        try:
            await self.services.print_report(session.report, session.enterprise, start_at, on_phase)
        except PrintFailure as exc:
            session.reprint_from = exc.phase
            self.services.audit("print_failed", phase=exc.phase, code=exc.code)
            if stage.current(gen):
                stage.show(Step.PRINT_FAILED, message_id=exc.message_id)
                await self._trips.raise_call(CALL_FOR_FAILURE.get(exc.message_id, "print_failed"))
            return
        finally:
            session.printing = False
        session.reprint_from = "a4"
        self.services.audit("print_done")
        if stage.current(gen):
            stage.show(Step.DONE)

    # --- verification, objection, help, staff (side_trips.py) ----------------------------------
    @intent
    def start_verify(self) -> None:
        self._trips.start_verify()

    @intent
    def start_objection(self, record_id: str) -> None:
        self._trips.start_objection(record_id)

    @intent
    async def submit_objection(self, reason: str, contact: str) -> None:
        await self._trips.submit_objection(reason, contact)

    @intent
    async def reprint_objection_slip(self) -> None:
        await self._trips.print_objection_slip()

    @intent
    def back_to_summary(self) -> None:
        self._trips.back_to_summary()

    @intent
    async def call_help(self) -> None:
        await self._trips.call_help()

    @intent
    def close_help(self) -> None:
        self._trips.close_help()

    @intent
    def open_staff(self) -> None:
        self._trips.open_staff()

    @intent
    def enter_staff_pin(self, pin: str) -> None:
        self._trips.enter_staff_pin(pin)

    def out_of_service(
        self, message_id: str = "error.out_of_service", *, until_restart: bool = False
    ) -> None:
        """Nobody can be served until a technician acts; with `until_restart` (the offline store
        is unusable) leaving the staff screen returns here rather than to the attract screen."""
        self._stage.out_of_service(message_id, until_restart=until_restart)

    @intent
    def toggle_language(self) -> None:
        stage = self._stage
        stage.language = LANGUAGES[(LANGUAGES.index(stage.language) + 1) % len(LANGUAGES)]
        stage.publish(dataclasses.replace(stage.snapshot, language=stage.language))

    @intent
    def toggle_elderly(self) -> None:
        stage = self._stage
        stage.elderly = not stage.elderly
        self.services.audit("elderly_mode", on=str(stage.elderly).lower())
        stage.publish(dataclasses.replace(stage.snapshot, elderly=stage.elderly))

    # --- navigation ----------------------------------------------------------------------------
    @intent
    def back(self) -> None:
        target = self._stage.back_target(self.step)
        if target is None:
            return
        if target is Back.CANCEL:
            self.cancel()
            return
        assert isinstance(target, Step)
        if self.step is Step.SUMMARY:
            self._stage.session.report = None
            # a changed request must not replay the old one
            self._stage.session.idempotency_key = None
        self._stage.show(target)

    @intent
    def cancel(self) -> None:
        """Leave the session from any step: everything of this user is forgotten."""
        if not STEPS[self.step].leave or self._stage.session.printing:
            return  # a job is in the printer; the done screen follows
        self.services.audit("session_cancelled", step=self.step.value)
        self.reset()

    def reset(self, step: Step = Step.ATTRACT, message_id: str = "") -> None:
        self._stage.reset(step, message_id)

    @intent
    def activity(self) -> None:
        """Any touch: the idle clock starts again."""
        self._stage.activity()

    def tick(self) -> None:
        """Called about once a second: the visible countdown, then the wipe."""
        self._stage.tick()


# the names a screen may pass to `app.intent`, derived from the marks above
INTENTS: frozenset[str] = intents_of(Journey)
