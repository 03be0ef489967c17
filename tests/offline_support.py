"""Shared pieces of the offline-store tests: a settable clock, a store on a real file, file snapshots."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from offline_cache import FileKeyProvider, OfflineStore, OutboxItem

from .casebook import id_number

PERSON_ID = id_number("gansu", 321)  # a valid 18-digit ID number
PERSON_NAME = "欧阳秀英"
T0 = 1_763_800_000.0  # 2025-11-22, any fixed instant


class Clock:
    """Wall-clock seconds the test moves by hand."""

    def __init__(self, start: float = T0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def open_store(tmp_path: Path, clock: Clock | None = None, **options: Any) -> OfflineStore:
    return OfflineStore.open(
        tmp_path / "offline.db",
        FileKeyProvider(tmp_path / "offline.key", create=True),
        clock=clock or Clock(),
        **options,
    )


def request_payload(n: int = 0) -> dict[str, Any]:
    """What the kiosk queues for an offline report request: PII included."""
    return {
        "id_number": PERSON_ID,
        "name": PERSON_NAME,
        "uscc": "91620102000000321X",
        "domains": "all",
        "period": {"from": "2024-01-01", "to": "2024-12-31"},
        "n": n,
    }


def snapshot(path: Path) -> dict[str, str | None]:
    """sha256 of the database file and its -wal/-shm companions (None when absent)."""
    result: dict[str, str | None] = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        f = Path(f"{path}{suffix}")
        result[suffix or "db"] = hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else None
    return result


@contextmanager
def raw_db(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection to the store's file (autocommit), closed on exit."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def present(item: OutboxItem | None) -> OutboxItem:
    """An outbox item the test expects to be stored: one that is not fails the test here."""
    assert item is not None, "the outbox item is not stored"
    return item
