"""The drain helper: full-jitter backoff, and one delivery pass against a scripted platform."""

from __future__ import annotations

import asyncio
import random
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

from offline_cache import (
    DeliveryResult,
    InvalidInput,
    ItemState,
    OfflineStore,
    OutboxItem,
    backoff_delay,
    drain_once,
)

from .offline_support import Clock, open_store, present


def test_backoff_ceiling_doubles_from_base_up_to_the_cap() -> None:
    almost_one = 1.0 - 1e-12
    ceilings = [backoff_delay(n, base=2, cap=60, rand=lambda: almost_one) for n in range(1, 9)]
    assert ceilings == pytest.approx([2, 4, 8, 16, 32, 60, 60, 60])
    assert backoff_delay(5_000, base=2, cap=60, rand=lambda: 0.5) == 30  # no overflow
    assert backoff_delay(3, base=2, cap=60, rand=lambda: 0.0) == 0.0


def test_backoff_is_full_jitter_uniform_below_the_ceiling() -> None:
    rng = random.Random(11)
    draws = [backoff_delay(4, base=1, cap=100, rand=rng.random) for _ in range(20_000)]
    assert min(draws) >= 0 and max(draws) < 8
    assert statistics.fmean(draws) == pytest.approx(4, rel=0.03)
    assert sum(d < 2 for d in draws) / len(draws) == pytest.approx(0.25, abs=0.02)


def test_backoff_refuses_nonsense() -> None:
    with pytest.raises(InvalidInput):
        backoff_delay(0)
    with pytest.raises(InvalidInput):
        backoff_delay(1, base=0)
    with pytest.raises(InvalidInput):
        backoff_delay(1, rand=lambda: 1.0)


class Platform:
    """A scripted platform: answers per idempotency key, records what reached it."""

    def __init__(self, answers: dict[str, list[DeliveryResult]] | None = None) -> None:
        self.answers = answers or {}
        self.received: list[str] = []

    async def deliver(self, item: OutboxItem) -> DeliveryResult:
        await asyncio.sleep(0)
        self.received.append(item.idempotency_key)
        script = self.answers.get(item.idempotency_key)
        return script.pop(0) if script else DeliveryResult.delivered()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[OfflineStore]:
    s = open_store(tmp_path, clock, max_attempts=3)
    yield s
    s.close()


def enqueue(store: OfflineStore, *keys: str, kind: str = "report_request") -> list[OutboxItem]:
    return [store.outbox.enqueue(kind, k, {"k": k}, pii=True) for k in keys]


def test_pass_delivers_everything_due_in_order(store: OfflineStore) -> None:
    enqueue(store, "a", "b", "c")
    enqueue(store, "e1", "e2", kind="telemetry")
    platform = Platform()
    report = asyncio.run(drain_once(store, platform.deliver))
    assert platform.received == ["a", "b", "c", "e1", "e2"]
    assert (report.delivered, report.retried, report.dead_lettered) == (5, 0, 0)
    assert report.wait_until is None
    assert store.outbox.counts().delivered == 5
    assert (
        present(store.outbox.find("report_request", "a")).payload is None
    )  # PII gone once delivered


def test_retry_later_stops_the_pass_and_backs_off(store: OfflineStore, clock: Clock) -> None:
    enqueue(store, "a", "b", "c")
    platform = Platform({"a": [DeliveryResult.retry_later("api.unavailable")]})
    report = asyncio.run(drain_once(store, platform.deliver, base=10, rand=lambda: 0.5))
    assert platform.received == ["a"]  # the platform is down: b and c are not tried
    assert (report.delivered, report.retried) == (0, 1)
    assert report.wait_until == clock() + 5
    item = present(store.outbox.find("report_request", "a"))
    assert item.state is ItemState.PENDING and item.last_error == "api.unavailable"
    clock.advance(5)
    report = asyncio.run(drain_once(store, platform.deliver, base=10, rand=lambda: 0.5))
    assert platform.received == ["a", "a", "b", "c"] and report.delivered == 3


def test_retry_after_from_the_platform_wins_over_a_shorter_backoff(
    store: OfflineStore, clock: Clock
) -> None:
    enqueue(store, "a")
    platform = Platform({"a": [DeliveryResult.retry_later("api.busy", retry_after=120)]})
    report = asyncio.run(drain_once(store, platform.deliver, rand=lambda: 0.1))
    assert report.wait_until == clock() + 120
    assert store.outbox.next_due() == clock() + 120


def test_permanent_failure_dead_letters_and_the_pass_goes_on(store: OfflineStore) -> None:
    enqueue(store, "a", "b")
    platform = Platform({"a": [DeliveryResult.permanent_failure("report.forbidden")]})
    report = asyncio.run(drain_once(store, platform.deliver))
    assert (report.delivered, report.dead_lettered) == (1, 1)
    dead = present(store.outbox.find("report_request", "a"))
    assert dead.state is ItemState.DEAD_LETTER and dead.last_error == "report.forbidden"


def test_retries_run_out_into_a_dead_letter(store: OfflineStore, clock: Clock) -> None:
    enqueue(store, "a")
    platform = Platform({"a": [DeliveryResult.retry_later("api.timeout")] * 3})
    for _ in range(3):
        report = asyncio.run(drain_once(store, platform.deliver, rand=lambda: 0.0))
        clock.advance(1)
    assert report.dead_lettered == 1 and platform.received == ["a"] * 3
    assert store.outbox.counts().dead_letter == 1


def test_an_ordered_kind_waits_behind_its_retrying_head(store: OfflineStore, clock: Clock) -> None:
    enqueue(store, "e1", "e2", kind="telemetry")
    enqueue(store, "r1")
    platform = Platform({"e1": [DeliveryResult.retry_later("api.unavailable")]})
    asyncio.run(drain_once(store, platform.deliver, kinds=["telemetry"], rand=lambda: 0.5))
    report = asyncio.run(drain_once(store, platform.deliver, kinds=["telemetry"]))
    assert report.delivered == 0 and platform.received == ["e1"]  # e2 never overtakes e1
    clock.advance(1)
    asyncio.run(drain_once(store, platform.deliver))
    assert platform.received == ["e1", "e1", "e2", "r1"]


def test_max_items_bounds_one_pass(store: OfflineStore) -> None:
    enqueue(store, *[f"k{i}" for i in range(10)])
    report = asyncio.run(drain_once(store, Platform().deliver, max_items=4))
    assert report.delivered == 4 and store.outbox.counts().pending == 6
    assert report.wait_until is not None and report.wait_until <= store.now()


def test_a_failing_deliver_releases_the_item_untried_and_raises(store: OfflineStore) -> None:
    enqueue(store, "a")

    async def broken(item: OutboxItem) -> DeliveryResult:
        raise RuntimeError("bug in the caller")

    with pytest.raises(RuntimeError):
        asyncio.run(drain_once(store, broken))
    item = present(store.outbox.find("report_request", "a"))
    assert item.state is ItemState.PENDING and item.attempts == 0


def test_cancelling_the_drain_task_puts_the_item_back(store: OfflineStore) -> None:
    enqueue(store, "a", "b")

    async def scenario() -> None:
        started = asyncio.Event()

        async def slow(item: OutboxItem) -> DeliveryResult:
            started.set()
            await asyncio.sleep(3600)
            return DeliveryResult.delivered()

        task = asyncio.create_task(drain_once(store, slow))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    counts = store.outbox.counts()
    assert (counts.pending, counts.in_flight) == (2, 0)
    (first,) = store.outbox.lease()
    assert first.idempotency_key == "a" and first.attempts == 1
