"""Runs the journey: one asyncio loop thread, the idle clock, and watcher threads for reader and camera.

Screens call `submit()` from the UI thread; the journey's snapshots reach listeners on the loop thread
(a Kivy listener re-posts them with Clock.schedule_once).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, Protocol

from devices.errors import DeviceError, InputRejected, UserActionError

from .journey import Journey
from .memory import release_free_memory
from .ports import CardLike
from .steps import Device, Snapshot, Step, listening

log = logging.getLogger(__name__)


class CardReader(Protocol):
    def read_card(self, timeout: float) -> CardLike | None: ...


class QrSource(Protocol):
    def next_code(self, timeout: float) -> str | None: ...


class JourneyRunner:
    def __init__(
        self,
        journey: Journey,
        card_reader: CardReader | None = None,
        qr_source: QrSource | None = None,
        *,
        tick_s: float = 0.5,
        release_memory: Callable[[], object] = release_free_memory,
    ) -> None:
        self.journey = journey
        self.card_reader = card_reader
        self.qr_source = qr_source
        self.tick_s = tick_s
        self.loop = asyncio.new_event_loop()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._tasks: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._last_step = journey.step
        self._release_memory = release_memory

    def add_task(self, task: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """A background task for the loop (the outbox drain); started with the loop, cancelled
        when it stops. Call before start()."""
        self._tasks.append(task)

    def start(self) -> None:
        self.journey.subscribe(self._after_session)
        self._spawn("kiosk-loop", self._run_loop)
        if self.card_reader is not None:
            self._spawn("kiosk-card", self._watch_cards)
        if self.qr_source is not None:
            self._spawn("kiosk-qr", self._watch_qr)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.loop.call_soon_threadsafe(self.loop.stop)
        for thread in self._threads:
            thread.join(timeout)

    def submit(self, intent: Callable[[Journey], Any]) -> Future[Any]:
        """Run `intent(journey)` on the loop; returns a future of its result."""

        async def call() -> Any:
            self.journey.activity()
            result = intent(self.journey)
            if inspect.isawaitable(result):
                return await result
            return result

        return asyncio.run_coroutine_threadsafe(call(), self.loop)

    def _after_session(self, snapshot: Snapshot) -> None:
        # Back on the attract screen: hand what the session freed back to the system, once the
        # intent that ended it has returned (see memory.py).
        if snapshot.step is Step.ATTRACT and self._last_step is not Step.ATTRACT:
            self.loop.call_soon_threadsafe(self._release_memory)
        self._last_step = snapshot.step

    # --- threads -----------------------------------------------------------------------------
    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.create_task(self._ticker())
        for factory in self._tasks:
            self.loop.create_task(self._guarded(factory))
        self.loop.run_forever()
        pending = asyncio.all_tasks(self.loop)  # stopped: let the ticker and stragglers end cleanly
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    async def _guarded(self, task: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Runs a background task again after an unexpected error, so the queue keeps draining."""
        while not self._stop.is_set():
            try:
                await task()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task failed; starting it again in 5 s")
                await asyncio.sleep(5.0)

    async def _ticker(self) -> None:
        while not self._stop.is_set():
            self.journey.tick()
            await asyncio.sleep(self.tick_s)

    def _post(self, intent: Callable[[Journey], Any]) -> None:
        future = self.submit(intent)
        try:
            future.result(timeout=60)
        except Exception as exc:  # the watcher must survive anything the journey raises
            log.error("intent from a device failed: %s", type(exc).__name__)

    def _watch(
        self,
        name: str,
        steps: frozenset[Step],
        read: Callable[[], Any],
        deliver: Callable[[Journey, Any], Any],
        notice_for: Callable[[DeviceError], str | None],
        meanwhile: Callable[[], object] | None = None,
    ) -> None:
        """Read a device while the journey waits on it; results and refusals go to the journey.

        `meanwhile` runs instead while the journey is elsewhere (it must return within about 1 s).
        """
        while not self._stop.is_set():
            if self.journey.step not in steps:
                if meanwhile is None:
                    self._stop.wait(0.3)
                    continue
                try:
                    meanwhile()
                except DeviceError as exc:
                    log.warning("%s: %s", name, exc.code)
                    self._stop.wait(1.0)
                continue
            try:
                item = read()
            except DeviceError as exc:
                message = notice_for(exc)
                if message is None:  # the device itself is in trouble: its status shows it
                    log.warning("%s: %s", name, exc.code)
                    self._stop.wait(1.0)
                else:
                    self._post(lambda j, m=message: j.notice(m))  # type: ignore[misc]
                continue
            if item is not None:
                self._post(lambda j, i=item: deliver(j, i))  # type: ignore[misc]

    def _watch_cards(self) -> None:
        reader = self.card_reader
        assert reader is not None
        removed = getattr(reader, "wait_card_removed", None)

        def notice(exc: DeviceError) -> str | None:
            if isinstance(exc, InputRejected):  # the card was read: never "place it again"
                return (
                    "error.card_expired"
                    if exc.code == "id_card.expired"
                    else "error.card_not_accepted"
                )
            return "error.card_removed" if isinstance(exc, UserActionError) else None

        self._watch(
            "card reader",
            listening(Device.CARD),
            lambda: reader.read_card(timeout=1.0),
            lambda j, card: j.card_presented(card),
            notice,
            # keep polling during a session: a card taken away now must count as gone, or the
            # next person's card would be taken for the one still lying there
            None if removed is None else lambda: removed(timeout=1.0),
        )

    def _watch_qr(self) -> None:
        source = self.qr_source
        assert source is not None
        self._watch(
            "camera",
            listening(Device.QR),
            lambda: source.next_code(timeout=0.5),
            lambda j, text: j.qr_presented(text),
            lambda exc: "attract.not_a_login_qr" if isinstance(exc, InputRejected) else None,
        )
