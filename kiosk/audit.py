"""Audit events: one JSON line per session step, no PII (the journey passes codes and counts only)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


class AuditLog:
    """Keeps the recent events for the staff screen, appends every event to a file of bounded
    size (the current file and one older one) and hands each to its listeners: the counters of
    the heartbeat and the outbox that delivers events to the platform (telemetry.py)."""

    def __init__(
        self,
        path: Path | None,
        terminal_id: str,
        *,
        keep: int = 200,
        max_bytes: int = 5 * 1024 * 1024,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes  # then the file becomes <name>.1, replacing the older one
        self.terminal_id = terminal_id
        self.recent: deque[dict[str, str]] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[dict[str, str]], None]] = []

    def listen(self, listener: Callable[[dict[str, str]], None]) -> None:
        self._listeners.append(listener)

    def __call__(self, event: str, **fields: str) -> None:
        record = {
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "terminal": self.terminal_id,
            "event": event,
            **{k: str(v) for k, v in fields.items()},
        }
        with self._lock:
            self.recent.append(record)
            if self.path is not None:
                try:
                    with self.path.open("a", encoding="utf-8") as fh:
                        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                        full = fh.tell() >= self.max_bytes
                    if full:  # a retention limit (DESIGN §5): two files at most
                        self.path.replace(self.path.with_name(self.path.name + ".1"))
                except OSError as exc:  # a full disk must not stop a user's session
                    log.error("audit log not written: %s", exc)
            for listener in self._listeners:
                listener(record)
