"""Wakes the dashboards' event streams when a hall changes, in this process and across processes.

Every change bumps the hall's row in `hall_versions` in the same transaction. On PostgreSQL that
transaction also sends `NOTIFY hall_changes, '<hall_id>'`, delivered to every serve process at
commit, where one listener thread per process wakes the streams of that hall. On SQLite (one
machine) the thread reads the versions table four times a second instead. Changes made in this
process wake its streams at once either way.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from . import models

log = logging.getLogger("report_service.hall")

CHANNEL = "hall_changes"
SQLITE_POLL_S = 0.25
PG_WAIT_S = 1.0


def notify_on_commit(s: Session, hall_id: str) -> None:
    """PostgreSQL: queue the notification in the session's transaction (sent when it commits)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_notify(:channel, :hall)"), {"channel": CHANNEL, "hall": hall_id})


class HallFeed:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = (
            defaultdict(set)
        )
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def publish(self, hall_id: str) -> None:
        """A change committed in this process."""
        self._wake(hall_id)

    async def wait(self, hall_id: str, timeout: float) -> bool:
        """True when the hall changed within `timeout` seconds."""
        self._start()
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters[hall_id].add(entry)
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters[hall_id].discard(entry)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            halls = list(self._waiters)
        for hall_id in halls:  # streams end at their next check
            self._wake(hall_id)

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def _wake(self, hall_id: str) -> None:
        with self._lock:
            waiting = list(self._waiters.get(hall_id, ()))
        for loop, event in waiting:
            loop.call_soon_threadsafe(event.set)

    def start(self) -> None:
        """Listen from now on (the app's start-up): a change made before a stream's first wait
        must not be missed."""
        self._start()

    def _wake_all(self) -> None:
        with self._lock:
            halls = list(self._waiters)
        for hall_id in halls:
            self._wake(hall_id)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            run = self._listen if self.engine.dialect.name == "postgresql" else self._poll
            self._thread = threading.Thread(target=self._guard, args=(run,), daemon=True,
                                            name="hall-feed")  # fmt: skip
            self._thread.start()

    def _guard(self, run: Any) -> None:
        while not self._stop.is_set():
            try:
                run()
            except Exception as exc:  # a lost connection: listen again in a moment
                log.warning("hall feed: %s; reconnecting", type(exc).__name__)
                self._stop.wait(2.0)

    def _poll(self) -> None:
        known: dict[str, int] = {}
        self._wake_all()
        while not self._stop.is_set():
            with self.engine.connect() as conn:
                rows = conn.execute(select(models.HallVersion.hall_id, models.HallVersion.version))
                for hall_id, version in rows:
                    if known.get(hall_id) != version:
                        if hall_id in known:
                            self._wake(hall_id)
                        known[hall_id] = version
            self._stop.wait(SQLITE_POLL_S)

    def _listen(self) -> None:
        raw = self.engine.raw_connection()
        try:
            conn: Any = raw.driver_connection  # a psycopg 3 connection
            conn.autocommit = True
            conn.execute(f"LISTEN {CHANNEL}")
            self._wake_all()  # (re)connected: whatever changed meanwhile is looked at now
            while not self._stop.is_set():
                for note in conn.notifies(timeout=PG_WAIT_S, stop_after=100):
                    self._wake(note.payload)
        finally:
            raw.invalidate()  # LISTEN state must not go back to the pool
