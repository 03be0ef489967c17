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
their own instead (`Checkpoints`), and their connections checkpoint only past a far larger log.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger("report_service")

# the statements that open a write transaction under the sqlite3 module's implicit BEGIN, after
# any leading comments (a write the pattern misses only falls back to SQLite's own wait)
_WRITES = re.compile(
    r"\s*(?:(?:--[^\n]*(?:\n|$)|/\*.*?\*/)\s*)*"
    r"(?:INSERT|UPDATE|DELETE|REPLACE|BEGIN\s+(?:IMMEDIATE|EXCLUSIVE))\b",
    re.I | re.S,
)
_POLL_CAP_S = 0.001
SUFFIX = "-writer"  # beside the database's -wal and -shm
# where a `Checkpoints` thread does the work, a connection checkpoints in its commit only past
# this much log (~40 MB; SQLite's default is 1,000 pages)
FALLBACK_CHECKPOINT_PAGES = 10_000
CHECKPOINT_EVERY_S = 0.5


def _locked(why: str) -> sqlite3.OperationalError:
    """As SQLite says it, so that the service answers 503 database_busy as for its own lock."""
    return sqlite3.OperationalError(f"database is locked ({why})")


class WriteGate:
    """One per database file and process (see `gate_for`)."""

    def __init__(self, path: str) -> None:
        self.database = path
        self.path = path + SUFFIX
        self._turn = threading.Lock()
        self._fd: int | None = None

    def after_fork(self) -> None:
        """A forked child opens its own file (a shared one would share the lock) and starts with
        the turn free (a thread of the parent may have held it)."""
        self._turn = threading.Lock()
        self._fd = None

    def acquire(self, wait_s: float) -> None:
        """Take the gate within `wait_s`, else raise as SQLite does when its lock stays held."""
        deadline = time.monotonic() + wait_s
        if not self._turn.acquire(timeout=max(wait_s, 0.0)):
            raise _locked("write gate")
        try:
            fd = self._file()
            delay = 0.0001
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise _locked("write gate") from None
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
        if self._fd is None:
            try:
                self._fd = _open_beside(self.database, self.path)
            except OSError as exc:  # a 503 and a log line, not a 500
                log.error("write gate %s cannot be opened: %s", self.path, exc.strerror)
                raise _locked(f"write gate: {exc.strerror}") from None
        return self._fd


def _open_beside(database: str, path: str) -> int:
    """The gate's file, with the database's mode and owner, as SQLite makes its -wal and -shm
    (so a command run as root first does not lock out the service's user)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        db = os.stat(database)
        if os.geteuid() == 0 and os.fstat(fd).st_uid != db.st_uid:
            os.fchown(fd, db.st_uid, db.st_gid)
        os.fchmod(fd, db.st_mode & 0o666)
    except OSError:
        pass  # no database file yet (it is being created), or not ours to change: as made
    return fd


_gates: dict[str, WriteGate] = {}
_gates_lock = threading.Lock()


def _after_fork() -> None:
    global _gates_lock
    _gates_lock = threading.Lock()
    for gate in _gates.values():
        gate.after_fork()


os.register_at_fork(after_in_child=_after_fork)


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

        def cursor(self, factory: Any = None) -> Any:
            return super().cursor(factory or GatedCursor)

        def _ours(self) -> GatedCursor:
            return super().cursor(GatedCursor)

        # the C shortcuts make plain cursors: through ours instead
        def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
            return self._ours().execute(sql, parameters)

        def executemany(self, sql: str, seq_of_parameters: Any, /) -> sqlite3.Cursor:
            return self._ours().executemany(sql, seq_of_parameters)

        def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
            return self._ours().executescript(sql_script)

        @contextmanager
        def turn(self, sql: str) -> Iterator[None]:
            """Around a statement: the gate taken if it opens a write transaction, and let go
            if afterwards none is open (it ended, or never began)."""
            if not self._holding and not self.in_transaction and _WRITES.match(sql):
                gate.acquire(wait_s)
                self._holding = True
            try:
                yield
            finally:
                self.settle()

        def settle(self) -> None:
            """Out of a transaction (autocommit, COMMIT as SQL, a write refused before it
            began): the gate is not held on for nothing."""
            if self._holding and not self.in_transaction:
                self.let_go()

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

        def __exit__(self, *exc: Any) -> Any:  # `with conn:` commits or rolls back in C
            try:
                return super().__exit__(*exc)
            finally:
                self.settle()

        def __del__(self) -> None:  # a connection dropped without close must not keep the gate
            self.let_go()

    class GatedCursor(sqlite3.Cursor):
        connection: GatedConnection

        def execute(self, sql: str, parameters: Any = (), /) -> Self:
            with self.connection.turn(sql):
                return super().execute(sql, parameters)

        def executemany(self, sql: str, seq_of_parameters: Any, /) -> Self:
            with self.connection.turn(sql):
                return super().executemany(sql, seq_of_parameters)

        def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
            with self.connection.turn(sql_script):
                return super().executescript(sql_script)

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
    def attach(cls, engine: Engine) -> Checkpoints | None:
        """For a SQLite file's engine, whose connections then leave checkpoints to this thread
        but past FALLBACK_CHECKPOINT_PAGES; None for other databases."""
        path = engine.url.database if engine.dialect.name == "sqlite" else None
        if not path or path == ":memory:":
            return None

        @event.listens_for(engine, "connect")
        def _leave_checkpoints(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_CHECKPOINT_PAGES}")
            cur.close()

        engine.pool.dispose()  # connections opened before (the start-up checks) reopen with it
        return cls(path)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="checkpoints", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Ask the thread to stop; it ends within a pass (a daemon: it never holds up an exit)."""
        self._stop.set()

    def _run(self) -> None:
        failing = False
        conn: sqlite3.Connection | None = None
        while not self._stop.wait(self.every_s):
            try:
                if conn is None:
                    conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as exc:  # the next pass tries again; say so once
                if not failing:
                    log.warning("background checkpoint failed: %s", exc)
                failing = True
            else:
                failing = False
        if conn is not None:
            conn.close()
