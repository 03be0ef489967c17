"""Audit events: one JSON line per session step, no PII (the journey passes codes and counts only)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections import deque
from pathlib import Path

log = logging.getLogger(__name__)


class AuditLog:
    """Keeps the recent events for the staff screen and appends every event to a file.

    The offline outbox (offline_cache) later takes over delivery to the platform.
    """

    def __init__(self, path: Path | None, terminal_id: str, *, keep: int = 200) -> None:
        self.path = path
        self.terminal_id = terminal_id
        self.recent: deque[dict[str, str]] = deque(maxlen=keep)
        self._lock = threading.Lock()

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
                except OSError as exc:  # a full disk must not stop a user's session
                    log.error("audit log not written: %s", exc)
