"""What the outbox holds and hands out: an item's states, the item as stored, counts per state,
and the checks on what callers pass in (a kind, an error code)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInput

KIND_RE = re.compile(r"[a-z][a-z0-9_.-]{0,39}")
ERROR_CODE_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
MAX_KEY_CHARS = 200


class ItemState(enum.StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DELIVERED = "delivered"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True)
class OutboxItem:
    """One queued item as stored. `payload` is None once a PII payload has been delivered."""

    id: int
    kind: str
    idempotency_key: str
    payload: dict[str, Any] | None = field(repr=False)
    pii: bool
    state: ItemState
    attempts: int  # leases so far, the current one included
    created_at: float
    available_at: float  # not leased before this time (retry_at of the last nack)
    lease_expires_at: float | None
    last_error: str | None
    finished_at: float | None  # when delivered or dead-lettered


@dataclass(frozen=True)
class OutboxCounts:
    pending: int = 0
    in_flight: int = 0
    delivered: int = 0
    dead_letter: int = 0

    def as_dict(self) -> dict[str, int]:
        """For the heartbeat's `queue` field."""
        return {
            "pending": self.pending,
            "in_flight": self.in_flight,
            "delivered": self.delivered,
            "dead_letter": self.dead_letter,
        }


def check_kind(kind: str) -> None:
    if not isinstance(kind, str) or not KIND_RE.fullmatch(kind):
        raise InvalidInput(f"kind must match {KIND_RE.pattern}, got {kind!r:.60}")


def check_error_code(code: str) -> None:
    if not isinstance(code, str) or not ERROR_CODE_RE.fullmatch(code):
        raise InvalidInput(f"error code must match {ERROR_CODE_RE.pattern} (a code, not a message)")
