"""Threads for the platform's blocking database work, with a head start for heartbeats.

Calls that may wait for the write lock run on two `calls` threads; health and verification on
`reads` threads of their own, so they never queue behind them. A call still queued `wait_s`
after it was asked for is refused (503) and taken out of the queue; one already running is
waited for.

Two call threads per process: the work is mostly CPU under the GIL, and more threads only
contend with the event loop for it (measured at 10 closed-loop clients: p99 85-170 ms with two,
350-570 ms with four, for the same reports per second). A freed thread takes the next call
itself, without waiting for the event loop: with an asyncio semaphore in front, a thread that
had finished waited for the loop (often busy with a render) to release the token and hand over
the next call, and under the fleet benchmark the threads idled half the time while requests
queued for seconds. Plain asyncio, not anyio's to_thread: that cost ~0.15 ms of CPU a call (its
library detection and cancel scopes).

A heartbeat's call (one short write, a province's hundred a second) is asked for with `first`:
it is served as if it had been asked `head_start_s` earlier, so it goes ahead of the report
calls asked in that time before it and never of an older one: a report's call is passed only by
the heartbeats asked less than the head start after it, so a burst of them (a fleet coming back
online) cannot starve it.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from .errors import database_busy

T = TypeVar("T")

HEAD_START_S = 0.05


class _Queue:
    """A thread pool whose threads take the queued call due first next (the time it was asked,
    less any head start; in the order asked on a tie). Each call puts its work in the queue and
    one pick into the pool, and a pick runs whichever call is due first then: the pool keeps its
    own threads and shutdown, and the order is ours."""

    def __init__(self, threads: int, name: str) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix=name)
        self._queued: queue.PriorityQueue[tuple[float, int, Future[Any], Callable[[], Any]]]
        self._queued = queue.PriorityQueue()
        self._order = itertools.count()

    def submit(self, fn: Callable[[], T], head_start_s: float = 0.0) -> Future[T]:
        future: Future[T] = Future()
        due = time.monotonic() - head_start_s
        self._queued.put((due, next(self._order), future, fn))
        self._pool.submit(self._pick)
        return future

    def _pick(self) -> None:
        _, _, future, fn = self._queued.get_nowait()  # one put before each pick: never empty
        if not future.set_running_or_notify_cancel():  # its caller gave up while it queued
            return
        try:
            result = fn()
        except BaseException as exc:  # handed to the caller, as the pool's own futures do
            future.set_exception(exc)
            del future, fn  # the traceback keeps this frame: no cycle back through it
        else:
            future.set_result(result)


class Workers:
    """`call` and `read` in the order asked, `first` with a head start; each refused with 503
    if no thread has taken it `wait_s` after it was asked."""

    def __init__(
        self, wait_s: float, calls: int = 2, reads: int = 4, head_start_s: float = HEAD_START_S
    ) -> None:
        self.wait_s = wait_s
        self.head_start_s = head_start_s
        self._calls = _Queue(calls, "database")
        self._reads = _Queue(reads, "database-read")

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._run(self._calls, 0.0, fn, *args)

    async def first(self, fn: Callable[..., T], *args: Any) -> T:
        """As `call`, with the head start: for a short call many terminals make."""
        return await self._run(self._calls, self.head_start_s, fn, *args)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._run(self._reads, 0.0, fn, *args)

    async def _run(self, pool: _Queue, head_start_s: float, fn: Callable[..., T], *args: Any) -> T:
        asked = time.monotonic()

        def when_reached() -> T:  # a thread freed just after the caller gave up: do not run
            if time.monotonic() - asked > self.wait_s:
                raise database_busy()
            return fn(*args)

        queued = pool.submit(when_reached, head_start_s)
        answer = asyncio.wrap_future(queued)
        try:
            done, _ = await asyncio.wait({answer}, timeout=self.wait_s)
        except asyncio.CancelledError:  # the caller gave up: a call not started never runs
            queued.cancel()
            raise
        if not done and queued.cancel():  # still queued: out of the queue, and a 503 now
            raise database_busy()
        return await answer  # running: its own waits are bounded by the database's timeout
