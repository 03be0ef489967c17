"""Opening the SQLite file safely, and the one connection every part of the store shares.

Opening checks the file read-only first (header, `quick_check`, marker, schema version, the sealed
canary), so a damaged file or a wrong key is refused before anything could write to it. Writes run in
`BEGIN IMMEDIATE` transactions under one lock; sqlite3 errors become the `OfflineCacheError` family.
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import sqlite3
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from . import schema
from .errors import (
    DatabaseCorrupt,
    DatabaseUnavailable,
    OfflineCacheError,
    SchemaTooNew,
    StorageFull,
    StoreClosed,
    WriteFailed,
    WrongKey,
)
from .keys import KeyProvider
from .sealing import Sealer, Unsealable

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
KEEP = "the file was left untouched for recovery"

# primary result codes (sqlite3 exceptions carry the extended code; the low byte is the primary)
_PERM, _BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = (
    3,
    5,
    6,
    8,
    10,
    11,
    13,
    14,
    26,
)


def _uri(path: Path, mode: str) -> str:
    return f"file:{urllib.parse.quote(str(path.resolve()))}?mode={mode}"


class Database:
    """The open file: a connection, the lock around it, the sealer and the clock."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        sealer: Sealer,
        clock: Callable[[], float],
        busy_timeout: float,
    ) -> None:
        self._conn: sqlite3.Connection | None = conn
        self.path = path
        self.sealer = sealer
        self.clock = clock
        self.busy_timeout = busy_timeout
        self.lock = threading.RLock()
        self.min_free_disk = 0
        self.soft_pages: int | None = None  # new data stops here; the rest is for state changes

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path,
        keys: KeyProvider,
        *,
        clock: Callable[[], float],
        busy_timeout: float,
        max_bytes: int | None,
        min_free_disk: int,
    ) -> Database:
        sealer = Sealer(keys.load_key())  # a key problem is reported before the file is touched
        if not path.parent.is_dir():
            raise DatabaseUnavailable(f"folder {path.parent} for the offline store does not exist")
        if path.exists() or Path(f"{path}-wal").exists():
            _check_existing(path, sealer, keys, busy_timeout)
        else:
            _create_empty_file(path)
        try:
            conn = sqlite3.connect(
                _uri(path, "rw"),
                uri=True,
                timeout=busy_timeout,
                isolation_level=None,  # explicit BEGIN IMMEDIATE / COMMIT
                check_same_thread=False,  # shared between threads under Database.lock
            )
        except sqlite3.Error as exc:
            raise _translate(exc, path, writing=False, busy_timeout=busy_timeout) from exc
        db = cls(conn, path, sealer, clock, busy_timeout)
        db.min_free_disk = min_free_disk
        try:
            db._configure(max_bytes)
            with db.write() as c:
                if _is_empty(c):  # new file, or one whose creation was cut off by a crash
                    schema.create(c, sealer, clock())
                    log.info("offline store created at %s", path)
        except BaseException:
            db.close()
            raise
        return db

    def _configure(self, max_bytes: int | None) -> None:
        conn = self.connection()
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise DatabaseUnavailable(f"{self.path}: cannot switch to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = FULL")  # a commit is on disk when it returns
            conn.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed, not left behind
            conn.execute("PRAGMA foreign_keys = ON")  # payload rows go with their item
            if max_bytes is not None:
                page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
                pages = max(max_bytes // page_size, 1)
                conn.execute(f"PRAGMA max_page_count = {pages}")
                self.soft_pages = pages - max(16, pages // 20)
        except sqlite3.Error as exc:
            raise self.translate(exc, writing=True) from exc

    # -- using ---------------------------------------------------------------------------------

    def connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreClosed(f"offline store {self.path} is closed")
        return self._conn

    def now(self) -> float:
        return float(self.clock())

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One `BEGIN IMMEDIATE` transaction: committed on success, rolled back on any error."""
        with self.lock:
            conn = self.connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self.translate(exc, writing=True) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error as rollback_exc:  # the first error is the one to report
                        log.error("rollback failed on %s: %s", self.path, rollback_exc)
                if isinstance(exc, sqlite3.Error):
                    raise self.translate(exc, writing=True) from exc
                raise

    def ensure_room(self, conn: sqlite3.Connection) -> None:
        """Inside a write that adds new data, before its commit: refuse it (StorageFull, rolled
        back) when the disk or the size cap is nearly full, so that leases, acks and pruning,
        which need a little room too, still work and the queue can drain."""
        free = _free_bytes(self.path)
        if 0 <= free < self.min_free_disk:
            raise StorageFull(
                f"{self.path}: only {free} bytes free on the disk of {self.path.parent}, "
                f"below the {self.min_free_disk} bytes kept for delivering what is queued; "
                "new items are refused, the write was rolled back"
            )
        if self.soft_pages is not None:
            used = int(conn.execute("PRAGMA page_count").fetchone()[0]) - int(
                conn.execute("PRAGMA freelist_count").fetchone()[0]
            )
            if used > self.soft_pages:
                raise StorageFull(
                    f"{self.path}: the store's size cap is reached ({used} pages in use); "
                    f"{_space_note(self.path)}; new items are refused until delivered ones are "
                    "pruned, the write was rolled back"
                )

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Reads under the lock; a single SELECT sees one consistent snapshot."""
        with self.lock:
            conn = self.connection()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise self.translate(exc, writing=False) from exc

    def translate(self, exc: sqlite3.Error, *, writing: bool) -> OfflineCacheError:
        return _translate(exc, self.path, writing=writing, busy_timeout=self.busy_timeout)

    def close(self) -> None:
        with self.lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                try:
                    conn.close()  # the last connection checkpoints the WAL into the file
                except sqlite3.Error as exc:
                    log.error("closing %s: %s", self.path, exc)

    @property
    def closed(self) -> bool:
        return self._conn is None


# -- checks before opening for writing ------------------------------------------------------------


def _create_empty_file(path: Path) -> None:
    """Owner-only from the start; SQLite gives its -wal and -shm files the same mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise DatabaseUnavailable(f"{path} cannot be created: {exc.strerror}") from None
    os.close(fd)


def _check_existing(path: Path, sealer: Sealer, keys: KeyProvider, busy_timeout: float) -> None:
    if path.exists():
        if not path.is_file():
            raise DatabaseUnavailable(f"{path} is not a regular file")
        try:
            with path.open("rb") as fh:
                header = fh.read(100)
        except OSError as exc:
            raise DatabaseUnavailable(f"{path} cannot be read: {exc.strerror}") from None
        if not header:
            return  # an empty file: created, then cut off before SQLite wrote its first page
        if not header.startswith(SQLITE_HEADER):
            raise DatabaseCorrupt(
                f"{path} is not an SQLite database (its first bytes are not the SQLite header); "
                f"{KEEP} — move it aside to start an empty queue"
            )
    try:
        conn = sqlite3.connect(_uri(path, "ro"), uri=True, timeout=busy_timeout)
    except sqlite3.Error as exc:
        raise _translate(exc, path, writing=False, busy_timeout=busy_timeout) from exc
    try:
        _check_contents(conn, path, sealer, keys)
    except sqlite3.Error as exc:
        raise _translate(exc, path, writing=False, busy_timeout=busy_timeout) from exc
    finally:
        conn.close()  # read-only: no checkpoint, the files stay as they are


def _check_contents(
    conn: sqlite3.Connection, path: Path, sealer: Sealer, keys: KeyProvider
) -> None:
    problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check(5)")]
    if problems != ["ok"]:
        first = problems[0].replace("\n", "; ")[:300]
        raise DatabaseCorrupt(f"{path} is damaged (SQLite quick_check: {first}); {KEEP}")
    if _is_empty(conn):
        return
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app_id != schema.APPLICATION_ID:
        raise DatabaseCorrupt(
            f"{path} is an SQLite database but not an offline store "
            f"(application_id {app_id:#x}); {KEEP}"
        )
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > schema.SCHEMA_VERSION:
        raise SchemaTooNew(
            f"{path} has schema version {version}, this release reads up to "
            f"{schema.SCHEMA_VERSION}; update the kiosk software — {KEEP}"
        )
    if version < 1:
        raise DatabaseCorrupt(f"{path} has no schema version; {KEEP}")
    row = conn.execute("SELECT value FROM meta WHERE name = 'canary'").fetchone()
    if row is None:
        raise DatabaseCorrupt(f"{path} has lost its key check row; {KEEP}")
    try:
        plain = sealer.open(bytes(row[0]), schema.CANARY_AAD)
    except Unsealable:
        raise WrongKey(
            f"{keys.describe()} does not open {path} (the key check row fails); "
            f"install the key this store was created with — {KEEP}"
        ) from None
    if plain != schema.CANARY_PLAINTEXT:
        raise DatabaseCorrupt(f"{path} has an unexpected key check row; {KEEP}")


def _is_empty(conn: sqlite3.Connection) -> bool:
    return int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]) == 0


# -- error translation ---------------------------------------------------------------------------


def _translate(
    exc: sqlite3.Error, path: Path, *, writing: bool, busy_timeout: float
) -> OfflineCacheError:
    code = int(getattr(exc, "sqlite_errorcode", 0) or 0)
    primary = code & 0xFF
    name = getattr(exc, "sqlite_errorname", "") or type(exc).__name__
    detail = f"{exc} ({name})"
    if primary in (_CORRUPT, _NOTADB):
        return DatabaseCorrupt(f"{path} is damaged: {detail}; {KEEP}")
    if primary == _FULL:
        return StorageFull(
            f"{path}: no room to write ({detail}); {_space_note(path)}; "
            "the write was rolled back, nothing of it is stored"
        )
    if primary == _IOERR and writing:
        limit = _file_size_limit()
        if limit is not None and _largest_file(path) + 65536 >= limit:
            return StorageFull(
                f"{path}: the process file-size limit (RLIMIT_FSIZE {limit} bytes) stops the write "
                f"({detail}); the write was rolled back, nothing of it is stored"
            )
        if 0 <= _free_bytes(path) < 1 << 20:
            return StorageFull(
                f"{path}: disk full ({detail}); {_space_note(path)}; the write was rolled back"
            )
        return WriteFailed(
            f"{path}: disk write failed ({detail}); {_space_note(path)}; the write was rolled back"
        )
    if primary in (_BUSY, _LOCKED):
        return DatabaseUnavailable(
            f"{path} stayed locked by another connection for over {busy_timeout:g} s ({detail})"
        )
    if primary in (_IOERR, _READONLY, _CANTOPEN, _PERM):
        return DatabaseUnavailable(f"{path} cannot be used: {detail}")
    if writing:
        return WriteFailed(f"{path}: write failed: {detail}; the write was rolled back")
    return OfflineCacheError(f"{path}: {detail}")


def _free_bytes(path: Path) -> int:
    try:
        return shutil.disk_usage(path.parent).free
    except OSError:
        return -1


def _space_note(path: Path) -> str:
    free = _free_bytes(path)
    return f"{free} bytes free on the disk of {path.parent}" if free >= 0 else "free space unknown"


def _file_size_limit() -> int | None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else soft


def _largest_file(path: Path) -> int:
    sizes = [0]
    for suffix in ("", "-wal", "-shm"):
        with suppress(OSError):
            sizes.append(os.path.getsize(f"{path}{suffix}"))
    return max(sizes)
