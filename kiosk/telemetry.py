"""What the terminal tells its hall besides the heartbeat (DESIGN §5, §8): the audit events, in order,
through the encrypted outbox to `POST /v1/terminals/{id}/events`; help calls made while the platform
was away; and the counters the heartbeat carries.

Audit events carry codes and counts only (the journey never passes a name or a number); the outbox
keeps them until the platform has them, so a power cut or a week offline loses none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from offline_cache import OfflineCacheError, OfflineStore, OutboxItem, backoff_delay

from .api import ReportApi
from .errors import ApiError, KioskError
from .tickets import new_event_id

log = logging.getLogger(__name__)

AUDIT = (
    "audit"  # an ordered kind of the outbox: events reach the platform in the order they happened
)
ASSISTANCE = "assistance"  # a help call made while the platform was away
BATCH = 100
IDLE_S = 30.0
# the counters the heartbeat carries, by the audit event that counts them (DESIGN §8: reports
# printed, receipts, pickups, verifications, objections, help calls; errors by kind below)
COUNTED: Mapping[str, tuple[str, ...]] = {
    "print_done": ("reports_printed", "receipts"),  # the report's receipt comes out last
    "pickup_receipt_printed": ("pickup_receipts", "receipts"),
    "objection_slip_printed": ("receipts",),
    "pickup_fetched": ("pickups",),
    "verify_done": ("verifications",),
    "objection_filed": ("objections",),
    "help_called": ("help_calls",),
    "request_queued": ("requests_queued",),
    "session_timeout": ("sessions_timed_out",),
}
# an events batch the platform refused for what it holds (too large, or an event it does not
# take): sent again it is refused again. Any other refusal (a proxy's 403/404, 409 events_racing)
# may pass later and is tried again.
REFUSED_FOR_GOOD = frozenset({413, 422})
CALL_REFUSED_FOR_GOOD = frozenset({409, 413, 422})  # 409: call_id_reused with another reason
MAX_ERROR_KINDS = 40  # the platform takes 64 counters in all; later kinds count as errors.other
_NOT_IN_CODE = re.compile(r"[^a-z0-9_.-]")


def code_word(text: str, limit: int = 48) -> str | None:
    """`text` as the platform takes a code (a reason, a counter's name: `[a-z][a-z0-9_.-]*`):
    lower case, anything else as `_`; None when nothing is left. A device's own words (a vendor's
    CUPS reason) must not get a whole heartbeat refused."""
    word = _NOT_IN_CODE.sub("_", text.strip().lower())
    if word and not word[0].isalpha():
        word = "x" + word
    return word[:limit] or None


class Counters:
    """Counts since the app started, fed by the audit log (a listener of it)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self.last_error: str | None = None

    def __call__(self, record: Mapping[str, str]) -> None:
        event = record.get("event", "")
        for name in COUNTED.get(event, ()):
            self._counts[name] += 1
        if event in ("error", "print_failed", "pickup_failed", "queue_refused"):
            code = code_word(record.get("code", ""), 40) or "unknown"
            kinds = sum(1 for name in self._counts if name.startswith("errors."))
            if f"errors.{code}" not in self._counts and kinds >= MAX_ERROR_KINDS:
                code = "other"
            self._counts[f"errors.{code}"] += 1
            self.last_error = f"{event}: {code} at {record.get('step', '')}".strip()

    def snapshot(self) -> dict[str, int]:
        return dict(self._counts)


class EventShipper:
    """Queues each audit record in the outbox and delivers them in batches, in order."""

    def __init__(
        self, store: OfflineStore, api: ReportApi, *, base: float = 2.0, cap: float = 300.0
    ) -> None:
        self.store = store
        self.api = api
        self.base = base
        self.cap = cap
        self.shipped = 0
        self._wake: asyncio.Event | None = None
        # a call that waited in the outbox reached the platform: the heartbeat should follow it
        self.call_delivered: Callable[[], None] = lambda: None

    def __call__(self, record: Mapping[str, str]) -> None:
        """The audit log's listener: on disk before the event counts as recorded."""
        fields = {k: v for k, v in record.items() if k not in ("at", "event", "terminal")}
        event_id = new_event_id()
        event = {
            "event_id": event_id,
            "kind": record["event"],
            "at": record["at"],
            "fields": fields,
        }
        try:
            self.store.outbox.enqueue(AUDIT, event_id, event, pii=False)
        except OfflineCacheError as exc:  # a full disk must not stop a session
            log.error("audit event not queued: %s", exc.code)

    def queue_call(self, call_id: str, reason: str, step: str) -> None:
        """A help call for when the platform is back (then its heartbeat answer shows it)."""
        body = {"call_id": call_id, "reason": reason, "step": step}
        self.store.outbox.enqueue(ASSISTANCE, call_id, body, pii=False)
        self.wake()

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        self._wake = asyncio.Event()
        while True:
            self._wake.clear()
            wait = await self.ship()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def ship(self) -> float:
        """One pass: help calls, then events in batches; the seconds until the next pass."""
        try:
            for item in self.store.outbox.lease(limit=20, kinds={ASSISTANCE}):
                if not await self._deliver_call(item):
                    return self._retry(item)
            size = BATCH
            while True:
                batch = self.store.outbox.lease(limit=size, kinds={AUDIT})
                if not batch:
                    return IDLE_S
                try:
                    await self.api.events([item.payload for item in batch if item.payload])
                except (KioskError, OfflineCacheError) as exc:
                    if refused_for_good(exc) and len(batch) > 1:
                        # one event the platform will never take must not hold up the rest:
                        # the others go one by one until it is found
                        for item in batch:
                            self.store.outbox.release(item.id)
                        size = 1
                        continue
                    if refused_for_good(exc):
                        assert isinstance(exc, ApiError)
                        log.error("event refused for good, kept as a dead letter: %s", exc.code)
                        self.store.outbox.nack(batch[0].id, "api." + exc.code[:40],
                                               self.store.now(), permanent=True)  # fmt: skip
                        size = BATCH
                        continue
                    log.info("events not delivered now: %s", getattr(exc, "code", exc))
                    for later in batch[1:]:
                        self.store.outbox.release(later.id)
                    return self._retry(batch[0])
                self.store.outbox.ack_many(item.id for item in batch)
                self.shipped += len(batch)
        except OfflineCacheError as exc:
            log.error("the outbox refused: %s %s", exc.code, exc.detail)
            return IDLE_S

    async def _deliver_call(self, item: OutboxItem) -> bool:
        body: dict[str, Any] | None = item.payload
        if body is None:  # nothing left to send
            self.store.outbox.ack(item.id)
            return True
        try:
            await self.api.assistance(body["call_id"], body["reason"], body["step"])
        except ApiError as exc:
            if exc.status in CALL_REFUSED_FOR_GOOD:  # staff see it on the staff screen
                log.warning("queued help call refused: %s", exc.code)
                self.store.outbox.nack(item.id, "api." + exc.code[:40], self.store.now(),
                                       permanent=True)  # fmt: skip
                return True
            return False
        except KioskError:
            return False
        self.store.outbox.ack(item.id)
        self.call_delivered()
        return True

    def _retry(self, item: OutboxItem) -> float:
        delay = backoff_delay(
            max(item.attempts, 1), base=self.base, cap=self.cap, rand=random.random
        )
        self.store.outbox.nack(item.id, "api.unavailable", self.store.now() + delay)
        return delay


def refused_for_good(exc: Exception) -> bool:
    """The platform refused the events sent, and would refuse them again whenever they came."""
    return isinstance(exc, ApiError) and exc.status in REFUSED_FOR_GOOD
