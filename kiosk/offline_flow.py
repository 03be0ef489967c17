"""The journey's branch for an unreachable platform, and for picking up a queued report
(DESIGN §5, docs/offline.md).

A person the kiosk verified itself (a card the reader checked, a login QR whose signature it
checked) types the enterprise's credit code, chooses the scope as usual, and leaves the request in
the encrypted queue; a pickup receipt is printed only once the request is on disk. Later, at any
kiosk, the receipt's QR and the same person's login fetch the finished report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from identifiers import UsccProblem, normalize_uscc, uscc_problem

from .api_models import Enterprise, Login
from .errors import ApiError, KioskError, PlatformUnavailable
from .messages import TERMINAL_FAULT_CODES
from .offline import OfflineIdentity
from .ports import Offline, PrintFailure
from .stage import Stage
from .steps import Step

log = logging.getLogger(__name__)

# what the credit-code keypad says about a code it cannot take
USCC_MESSAGES = {
    UsccProblem.LENGTH: "uscc.wrong_length",
    UsccProblem.CHARACTER: "uscc.bad_character",
    UsccProblem.CHECK_MISMATCH: "uscc.bad_check",
}


class OfflineFlow:
    def __init__(self, stage: Stage, offline: Offline, audit: Callable[..., None]) -> None:
        self.stage = stage
        self.offline = offline
        self._audit = audit

    # --- the platform is unreachable ------------------------------------------------------------
    def take_over(
        self,
        exc: PlatformUnavailable,
        method: str,
        offline_identity: Callable[[], OfflineIdentity] | None,
    ) -> None:
        """At login: a person the kiosk can verify itself may leave a request in the queue."""
        stage, session = self.stage, self.stage.session
        if session.pickup_ticket is not None:  # picking up needs the platform: come back later
            log.warning("pickup: platform unreachable (%s)", exc.detail)
            self._audit("pickup_failed", code=exc.code)
            stage.show(Step.ERROR, message_id="pickup.platform_unavailable")
            return
        if offline_identity is None:
            stage.fail(exc, back_to=Step.ATTRACT)
            return
        catalog = stage.catalog or self.offline.cached_catalog()
        if catalog is None:
            log.warning("offline: no cached catalog yet, cannot accept requests")
            stage.fail(exc, back_to=Step.ATTRACT)
            return
        try:
            identity = offline_identity()
        except KioskError as refused:
            stage.fail(refused, back_to=Step.ATTRACT)
            return
        log.warning("platform unreachable (%s): offline mode for this session", exc.detail)
        stage.catalog = catalog
        session.offline_identity = identity
        self._audit("offline_started", method=method)
        stage.show(Step.ENTER_USCC, message_id="offline_mode.notice")

    def enter_uscc(self, text: str) -> bool:
        """The enterprise as typed on the keypad, checked here (GB 32100 check character);
        True when it was taken and the scope comes next."""
        stage = self.stage
        if stage.step is not Step.ENTER_USCC or stage.session.offline_identity is None:
            return False
        uscc = normalize_uscc(text)
        problem = uscc_problem(uscc)
        if problem is not None:
            stage.show(Step.ENTER_USCC, message_id=USCC_MESSAGES[problem])
            return False
        stage.session.enterprise = Enterprise(uscc=uscc, name="", role="")
        self._audit("uscc_entered")
        return True

    async def queue_instead(self, exc: PlatformUnavailable) -> bool:
        """The platform went away after a card login: the request goes to the queue under the
        key already sent, so a report the platform did make is the one picked up (DESIGN §5)."""
        session = self.stage.session
        if session.fallback_identity is None:
            return False
        try:
            identity = session.fallback_identity()
        except KioskError:
            return False
        log.warning("platform unreachable at the report (%s): request queued", exc.detail)
        session.offline_identity = identity
        self._audit("offline_started", method="card_after_login")
        await self.queue(ticket=session.idempotency_key)
        return True

    async def queue(self, ticket: str | None = None) -> None:
        """Queue first, paper second: no receipt may promise a request that is not on disk."""
        stage, session = self.stage, self.stage.session
        identity = session.offline_identity
        assert identity is not None
        assert session.enterprise is not None and session.period is not None
        domains = None if session.selected is None else sorted(session.selected)
        stage.show(Step.QUEUING)
        try:
            queued = self.offline.enqueue(
                identity, session.enterprise.uscc, domains, session.period, ticket=ticket
            )
        except KioskError as exc:
            log.error("offline queue refused a request: %s %s", exc.code, exc.detail)
            self._audit("queue_refused", code=exc.code)
            stage.show(Step.ERROR, message_id=exc.message_id)
            return
        session.queued = queued
        self._audit("request_queued")
        await self.print_pickup()

    async def print_pickup(self) -> None:
        stage, session = self.stage, self.stage.session
        assert session.queued is not None and session.enterprise is not None
        gen = stage.begin(Step.PRINTING, print_phase="pickup")
        try:
            await self.offline.print_pickup(session.queued, session.enterprise.uscc)
        except PrintFailure as exc:
            # the request is queued all the same; the screen shows the ticket
            self._audit("print_failed", phase="pickup", code=exc.code)
            if stage.current(gen):
                stage.show(Step.QUEUED, message_id="offline_mode.receipt_failed")
            return
        self._audit("pickup_receipt_printed")
        if stage.current(gen):
            stage.show(Step.QUEUED)

    # --- picking up a queued report ------------------------------------------------------------
    def start_pickup(self, ticket: str) -> None:
        """A pickup receipt at the camera: the same person signs in next."""
        self.stage.session.pickup_ticket = ticket
        self._audit("pickup_started")
        self.stage.show(Step.PICKUP_AUTH)

    async def pickup(self, gen: int, login: Login, ticket: str) -> None:
        stage = self.stage
        stage.show(Step.FETCHING)
        try:
            report, enterprise = await self.offline.pickup(login, ticket)
        except KioskError as exc:
            if not stage.current(gen):
                return
            if isinstance(exc, ApiError) and exc.code in TERMINAL_FAULT_CODES:
                stage.fail(exc, back_to=Step.ATTRACT)
                return
            message = self._pickup_message(ticket, exc)
            log.warning("pickup failed: %s %s", exc.code, exc.detail)
            self._audit("pickup_failed", code=exc.code)
            stage.show(Step.ERROR, message_id=message)
            return
        if not stage.current(gen):
            return
        stage.session.report = report
        stage.session.enterprise = enterprise
        self._audit("pickup_fetched", records=str(report.meta.total_records))
        stage.show(Step.SUMMARY)

    def _pickup_message(self, ticket: str, exc: KioskError) -> str:
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
