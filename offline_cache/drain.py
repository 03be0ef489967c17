"""Draining the outbox: a backoff rule and one delivery pass the kiosk's drain task repeats.

`deliver(item)` does the network call and says how it went; `drain_once` leases, delivers, and
records the outcome. The store starts no task or thread: the caller loops and sleeps.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from .errors import InvalidInput
from .items import ItemState, OutboxItem
from .store import OfflineStore


def backoff_delay(
    attempt: int,
    *,
    base: float = 2.0,
    cap: float = 300.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, ...): "full jitter", a uniform
    draw from [0, min(cap, base * 2**(attempt - 1))). `rand` returns a float in [0, 1)."""
    if attempt < 1:
        raise InvalidInput("attempt counts from 1")
    if base <= 0 or cap <= 0:
        raise InvalidInput("base and cap must be positive")
    ceiling = cap if attempt > 64 else min(cap, base * 2.0 ** (attempt - 1))
    r = rand()
    if not 0.0 <= r < 1.0:
        raise InvalidInput("rand() must return a float in [0, 1)")
    return r * ceiling


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY_LATER = "retry_later"  # the platform did not take it now: unreachable, timeout, 5xx, 429
    PERMANENT_FAILURE = "permanent_failure"  # the platform refused this item for good: a 4xx


@dataclass(frozen=True)
class DeliveryResult:
    outcome: Outcome
    error_code: str = ""  # a short code such as "api.unavailable"; stored in plaintext
    retry_after: float | None = None  # seconds, e.g. from a Retry-After header

    @classmethod
    def delivered(cls) -> DeliveryResult:
        return cls(Outcome.DELIVERED)

    @classmethod
    def retry_later(cls, error_code: str, *, retry_after: float | None = None) -> DeliveryResult:
        return cls(Outcome.RETRY_LATER, error_code, retry_after)

    @classmethod
    def permanent_failure(cls, error_code: str) -> DeliveryResult:
        return cls(Outcome.PERMANENT_FAILURE, error_code)


@dataclass(frozen=True)
class DrainReport:
    delivered: int
    retried: int  # 0 or 1: the pass stops at the first retry-later
    dead_lettered: int
    wait_until: float | None  # store-clock time for the next pass; None when nothing is queued


Deliver = Callable[[OutboxItem], Awaitable[DeliveryResult]]


async def drain_once(
    store: OfflineStore,
    deliver: Deliver,
    *,
    kinds: Collection[str] | None = None,
    max_items: int = 100,
    lease_seconds: float = 60.0,
    base: float = 2.0,
    cap: float = 300.0,
    rand: Callable[[], float] = random.random,
) -> DrainReport:
    """Deliver due items one at a time, oldest first, up to `max_items`.

    DELIVERED → ack (PII wiped). PERMANENT_FAILURE → dead letter, go on. RETRY_LATER → pending again
    after `backoff_delay(attempts)` (or `retry_after` if longer), and the pass stops there: the
    platform is not taking items now, so the others wait too (`wait_until` is that retry time).
    If `deliver` raises (or the task is cancelled), the item is released untried and the error
    propagates. Store calls run on the calling thread; each is one short transaction.
    """
    outbox = store.outbox
    delivered = dead = 0
    for _ in range(max_items):
        leased = outbox.lease(limit=1, kinds=kinds, lease_seconds=lease_seconds)
        if not leased:
            break
        item = leased[0]
        try:
            result = await deliver(item)
        except BaseException:
            outbox.release(item.id)
            raise
        if result.outcome is Outcome.DELIVERED:
            outbox.ack(item.id)
            delivered += 1
        elif result.outcome is Outcome.PERMANENT_FAILURE:
            outbox.nack(
                item.id, result.error_code or "drain.permanent", store.now(), permanent=True
            )
            dead += 1
        else:
            delay = backoff_delay(item.attempts, base=base, cap=cap, rand=rand)
            if result.retry_after is not None:
                delay = max(delay, float(result.retry_after))
            retry_at = store.now() + delay
            state = outbox.nack(item.id, result.error_code or "drain.retry", retry_at)
            if state is ItemState.DEAD_LETTER:
                dead += 1
                return DrainReport(delivered, 0, dead, retry_at)
            return DrainReport(delivered, 1, dead, retry_at)
    return DrainReport(delivered, 0, dead, outbox.next_due(kinds=kinds))
