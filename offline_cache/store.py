"""`OfflineStore`: the one object the kiosk opens — outbox, cached values and reprint cache in one
encrypted SQLite file, with its retention rules."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from .cached import CachedValues
from .database import Database
from .errors import InvalidInput
from .keys import KeyProvider
from .outbox import Outbox
from .reprints import ReprintCache

log = logging.getLogger(__name__)

DAY = 86400.0
DEFAULT_ORDERED_KINDS = frozenset({"telemetry", "audit"})


@dataclass(frozen=True)
class Retention:
    """How long finished things are kept, in seconds. Pending and in-flight items are never pruned."""

    delivered: float = 7 * DAY  # delivered items' metadata (PII payloads are gone at delivery)
    dead_letter: float = 30 * DAY  # undeliverable items, payload included, for staff to look at
    cached: float = 90 * DAY  # a catalog or config not refreshed for this long is dropped

    def __post_init__(self) -> None:
        for name in ("delivered", "dead_letter", "cached"):
            if not getattr(self, name) >= 0:
                raise InvalidInput(f"retention {name} must be zero or more seconds")


@dataclass(frozen=True)
class PruneReport:
    delivered: int
    dead_letter: int
    cached: int
    reprints: int


class OfflineStore:
    """Open with `OfflineStore.open(...)`; close with `close()` or a `with` block.

    Thread use: every call takes the store's lock and runs one short transaction, so one store may
    be shared by the asyncio loop thread and a drain thread. Calls block for a commit (an fsync).
    """

    def __init__(self, db: Database, outbox: Outbox, retention: Retention) -> None:
        self._db = db
        self.outbox = outbox
        self.cache = CachedValues(db, max_value_bytes=4 << 20)
        self.reprints = ReprintCache(db, max_pdf_bytes=32 << 20)
        self.retention = retention

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        keys: KeyProvider,
        *,
        clock: Callable[[], float] = time.time,
        ordered_kinds: Collection[str] = DEFAULT_ORDERED_KINDS,
        max_attempts: int = 100,
        retention: Retention | None = None,
        max_bytes: int | None = None,
        max_payload_bytes: int = 256 << 10,
        min_free_disk: int = 8 << 20,
        busy_timeout: float = 5.0,
    ) -> OfflineStore:
        """Open or create the store at `path`.

        Refuses (and leaves every file as it is) on a missing or unsafe key (KeyUnavailable), a key
        that does not fit (WrongKey), a damaged or foreign file (DatabaseCorrupt), a newer schema
        (SchemaTooNew). `clock` gives wall-clock seconds (tests pass their own). `max_bytes` caps the
        database size and `min_free_disk` keeps room on the disk: new items past either raise
        StorageFull, while leases, acks and pruning keep working in the room left.
        """
        if max_bytes is not None and max_bytes < 64 << 10:
            raise InvalidInput("max_bytes must be at least 64 KiB")
        db = Database.open(
            Path(path),
            keys,
            clock=clock,
            busy_timeout=busy_timeout,
            max_bytes=max_bytes,
            min_free_disk=min_free_disk,
        )
        try:
            outbox = Outbox(
                db,
                ordered_kinds=ordered_kinds,
                max_attempts=max_attempts,
                max_payload_bytes=max_payload_bytes,
            )
        except BaseException:
            db.close()
            raise
        return cls(db, outbox, retention or Retention())

    @property
    def path(self) -> Path:
        return self._db.path

    def now(self) -> float:
        """The store's clock."""
        return self._db.now()

    def prune(self) -> PruneReport:
        """Apply the retention rules now; the kiosk calls this from time to time (the store starts
        no threads of its own)."""
        now = self._db.now()
        delivered, dead = self.outbox.prune(
            delivered_before=now - self.retention.delivered,
            dead_letter_before=now - self.retention.dead_letter,
        )
        report = PruneReport(
            delivered=delivered,
            dead_letter=dead,
            cached=self.cache.prune(stored_before=now - self.retention.cached),
            reprints=self.reprints.purge_expired(),
        )
        if any((delivered, dead, report.cached, report.reprints)):
            log.info(
                "offline store pruned: %d delivered, %d dead letters, %d cached, %d reprints",
                delivered,
                dead,
                report.cached,
                report.reprints,
            )
        return report

    def close(self) -> None:
        self._db.close()

    @property
    def closed(self) -> bool:
        return self._db.closed

    def __enter__(self) -> OfflineStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
