"""The drain task: delivers queued report requests once the platform answers (DESIGN §5).

It runs on the runner's loop. Each pass is `offline_cache.drain_once`: one item at a time, oldest
first; a retry-later stops the pass and waits (exponential backoff with full jitter); an enqueue
wakes it at once. Delivering an item = open a session as the person who queued it (card fields or
the login QR) and POST /v1/reports with the ticket as Idempotency-Key, so a second delivery after
a crash returns the same report instead of a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import re
from collections.abc import Callable

from offline_cache import (
    DeliveryResult,
    DrainReport,
    OfflineCacheError,
    OfflineStore,
    OutboxItem,
    drain_once,
)

from .api import ReportApi
from .api_models import Login
from .errors import ApiError, KioskError, PlatformUnavailable, ProtocolViolation
from .messages import TERMINAL_FAULT_CODES
from .offline import REPORT_REQUEST, QueuedRequest

log = logging.getLogger(__name__)

_SESSION_CODES = frozenset({"session_required", "session_invalid", "session_expired"})
_NOT_CODE = re.compile(r"[^A-Za-z0-9_.:-]")
SESSION_MARGIN_S = 30.0  # a cached session this close to its end is not used again
PRUNE_EVERY_S = 3600.0  # retention limits applied at start and then hourly


def error_code(exc: KioskError) -> str:
    """`api.<platform code>`, in the characters the outbox stores in plaintext."""
    return ("api." + _NOT_CODE.sub("_", exc.code))[:64]


class OutboxDrainer:
    def __init__(
        self,
        store: OfflineStore,
        api: ReportApi,
        *,
        base: float = 2.0,
        cap: float = 300.0,
        idle_s: float = 60.0,
        rand: Callable[[], float] = random.random,
        concurrency: int = 4,
    ) -> None:
        self.store = store
        # a few deliveries at once: each waits mostly on the platform rendering its report
        self.concurrency = concurrency
        self.api = api
        self.base = base
        self.cap = cap
        self.idle_s = idle_s
        self.rand = rand
        self.last: DrainReport | None = None
        self.delivered = 0
        self._wake = asyncio.Event()
        # sessions by a hash of the credentials: a login QR is accepted once by the platform, so a
        # retry after a failed report call must reuse the session it opened
        self._sessions: dict[str, Login] = {}

    def wake(self) -> None:
        """Something was queued: look now (call on the runner's loop)."""
        self._wake.set()

    async def run(self) -> None:
        pruned_at = -PRUNE_EVERY_S
        while True:
            self._wake.clear()
            if self.store.now() - pruned_at >= PRUNE_EVERY_S:
                pruned_at = self.store.now()
                self.prune()
            wait = await self.drain()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    def prune(self) -> None:
        try:
            report = self.store.prune()
        except OfflineCacheError as exc:
            log.error("offline store pruning failed: %s %s", exc.code, exc.detail)
            return
        log.info("offline store pruned: %s", report)

    async def drain(self) -> float:
        """One pass; returns the seconds until the next one is due."""
        passes = await asyncio.gather(
            *(
                drain_once(
                    self.store,
                    self.deliver,
                    kinds={REPORT_REQUEST},
                    base=self.base,
                    cap=self.cap,
                    rand=self.rand,
                )
                for _ in range(self.concurrency)
            ),
            return_exceptions=True,
        )
        for failed in passes:
            if isinstance(failed, OfflineCacheError):  # the store is in trouble: staff see it
                log.error("drain pass failed: %s %s", failed.code, failed.detail)
                return self.idle_s
            if isinstance(failed, BaseException):
                raise failed
        report = _combined([p for p in passes if isinstance(p, DrainReport)])
        self.last = report
        self.delivered += report.delivered
        if report.delivered or report.dead_lettered:
            log.info(
                "drain: %d delivered, %d refused for good", report.delivered, report.dead_lettered
            )
        if report.wait_until is None:
            return self.idle_s
        return min(max(report.wait_until - self.store.now(), 0.0), self.idle_s)

    async def deliver(self, item: OutboxItem) -> DeliveryResult:
        try:
            request = QueuedRequest.from_payload(item.payload)
        except ValueError:
            log.error("queued item %d is not a report request; set aside", item.id)
            return DeliveryResult.permanent_failure("drain.bad_item")
        try:
            login = await self._session(request, item.idempotency_key)
            await self.api.create_report(
                login.session_token,
                request.uscc,
                request.domains,
                request.period.start,
                request.period.end,
                item.idempotency_key,
            )
        except PlatformUnavailable:
            return DeliveryResult.retry_later("api.unavailable")
        except ProtocolViolation:
            # a proxy's error page, a half answer: the platform is not there
            return DeliveryResult.retry_later("api.protocol")
        except ApiError as exc:
            return self._refused(exc, request)
        log.info("queued request %d delivered", item.id)
        return DeliveryResult.delivered()

    def _refused(self, exc: ApiError, request: QueuedRequest) -> DeliveryResult:
        code = error_code(exc)
        if exc.status == 429 or exc.status >= 500:
            return DeliveryResult.retry_later(code)
        if exc.code in _SESSION_CODES:
            self._sessions.pop(request.session_key, None)
            return DeliveryResult.retry_later(code)
        if exc.code in TERMINAL_FAULT_CODES:
            # this terminal's fault (clock, key): not the request's
            log.error("drain: the platform refuses this terminal: %s", exc.code)
            return DeliveryResult.retry_later(code)
        log.warning("queued request refused by the platform: %s", exc.code)
        return DeliveryResult.permanent_failure(code)

    async def _session(self, request: QueuedRequest, ticket: str) -> Login:
        cached = self._sessions.get(request.session_key)
        now = dt.datetime.now(dt.UTC)
        if cached is not None and (cached.expires_at - now).total_seconds() > SESSION_MARGIN_S:
            return cached
        credentials = request.credentials
        if request.method == "id_card":
            until = credentials["valid_until"]
            login = await self.api.login_id_card(
                str(credentials["id_number"]),
                str(credentials["name"]),
                None if until is None else dt.date.fromisoformat(str(until)),
            )
        else:
            # with the ticket and when it was queued: good past the QR's own expiry
            queued = (ticket, int(request.queued_at.timestamp()))
            login = await self.api.login_qr(str(credentials["payload"]), queued)
        # drop the ones that ran out, keep this one
        self._sessions = {k: v for k, v in self._sessions.items() if v.expires_at > now}
        self._sessions[request.session_key] = login
        return login


def _combined(reports: list[DrainReport]) -> DrainReport:
    """One report for passes that ran side by side; the earliest retry time wins."""
    waits = [r.wait_until for r in reports if r.wait_until is not None]
    return DrainReport(
        delivered=sum(r.delivered for r in reports),
        retried=sum(r.retried for r in reports),
        dead_lettered=sum(r.dead_lettered for r in reports),
        wait_until=min(waits) if waits else None,
    )
