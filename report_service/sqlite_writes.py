"""Writers to one SQLite file take turns at a gate that hands the turn on at once.

SQLite's own wait for its write lock (the busy handler) sleeps 1, 2, 5, 10 … 100 ms between
tries, so a waiter asleep misses the moment the lock comes free, and the next sleep is longer.
Under the fleet benchmark (two serve processes, ~250 write transactions a second) the database
threads spent most of their time in those sleeps, taking the write lock for a nonce or a
heartbeat, while the machine had cores free. Here a connection takes the gate before the first
write of its transaction and lets it go when that transaction ends: a lock per process (a
waiting thread is woken as it is released) and an advisory lock on a file beside the database
between processes (tried again every millisecond at most). A writer that does not take the gate
(the sqlite3 shell, another program) is still kept out by SQLite's own lock, as before.

SQLite also copies its write-ahead log back into the database (a checkpoint) inside the commit
that takes the log past 1,000 pages: with reports of ~70 KB that was a commit every half second
taking up to ~100 ms while every writer waited. The serve processes checkpoint on a thread of
their own instead (`Checkpoints`), and a connection checkpoints itself only past a far larger log.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import sqlite3
import threading
import time
from typing import Any, Self

from sqlalchemy.engine import Engine

log = logging.getLogger("report_service")

# the statements that open a write transaction under the sqlite3 module's implicit BEGIN
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|BEGIN\s+(IMMEDIATE|EXCLUSIVE))\b", re.I)
_POLL_CAP_S = 0.001
SUFFIX = "-writer"  # beside the database's -wal and -shm
FALLBACK_CHECKPOINT_PAGES = 10_000  # ~40 MB of log: only when no serve process checkpoints
CHECKPOINT_EVERY_S = 0.5


class WriteGate:
    """One per database file and process (see `gate_for`)."""

    def __init__(self, path: str) -> None:
        self.path = path + SUFFIX
        self._turn = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def acquire(self, wait_s: float) -> None:
        """Take the gate within `wait_s`, else raise as SQLite does when its lock stays held."""
        deadline = time.monotonic() + wait_s
        if not self._turn.acquire(timeout=max(wait_s, 0.0)):
            raise sqlite3.OperationalError("database is locked (write gate)")
        try:
            fd = self._file()
            delay = 0.0001
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise sqlite3.OperationalError("database is locked (write gate)") from None
                    time.sleep(delay)
                    delay = min(delay * 2, _POLL_CAP_S)
        except BaseException:
            self._turn.release()
            raise

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._turn.release()

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a forked child opens its own
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd


_gates: dict[str, WriteGate] = {}
_gates_lock = threading.Lock()


def gate_for(path: str) -> WriteGate:
    """The process's gate for the database at `path`, shared by all its engines."""
    key = os.path.realpath(path)
    with _gates_lock:
        return _gates.setdefault(key, WriteGate(key))


def connection_class(path: str, wait_s: float) -> type[sqlite3.Connection]:
    """A sqlite3.Connection (for `sqlite3.connect(factory=…)`) whose writers use the gate."""
    gate = gate_for(path)

    class GatedConnection(sqlite3.Connection):
        _holding = False

        # Connection.execute makes its cursor here too
        def cursor(self, factory: Any = None) -> Any:
            return super().cursor(factory or GatedCursor)

        def before(self, sql: str) -> None:
            if not self._holding and not self.in_transaction and _WRITES.match(sql):
                gate.acquire(wait_s)
                self._holding = True

        def let_go(self) -> None:
            if self._holding:
                self._holding = False
                gate.release()

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self.let_go()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self.let_go()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self.let_go()

        def __del__(self) -> None:  # a connection dropped without close must not keep the gate
            self.let_go()

    class GatedCursor(sqlite3.Cursor):
        connection: GatedConnection

        def execute(self, sql: str, parameters: Any = (), /) -> Self:
            self.connection.before(sql)
            return super().execute(sql, parameters)

        def executemany(self, sql: str, seq_of_parameters: Any, /) -> Self:
            self.connection.before(sql)
            return super().executemany(sql, seq_of_parameters)

    return GatedConnection


class Checkpoints:
    """A thread that checkpoints the database every `every_s`, PASSIVE: it waits for no reader
    or writer and copies what they no longer need, so no request's commit has to."""

    def __init__(self, path: str, every_s: float = CHECKPOINT_EVERY_S) -> None:
        self.path = path
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_engine(cls, engine: Engine) -> Checkpoints | None:
        """For a SQLite file's engine; None for other databases."""
        path = engine.url.database if engine.dialect.name == "sqlite" else None
        return cls(path) if path and path != ":memory:" else None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="checkpoints", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        failing = False
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(self.every_s):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:  # the next pass tries again; say so once
                    if not failing:
                        log.warning("background checkpoint failed: %s", exc)
                    failing = True
                else:
                    failing = False
        finally:
            conn.close()
