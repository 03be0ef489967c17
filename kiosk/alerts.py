"""What staff must fix (paper out, a jam, a report that failed its check, a call for help): the
newest alerts, for the staff screen, each also written to the audit log."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

MAX_ALERTS = 200  # months of alerts stay bounded: the newest only


class StaffAlerts:
    def __init__(self, audit: Callable[..., None], *, keep: int = MAX_ALERTS) -> None:
        self._audit = audit
        self._alerts: deque[dict[str, str]] = deque(maxlen=keep)

    def add(self, code: str, detail: str) -> None:
        """`code` is stable and safe to log; `detail` is for the technician, without PII."""
        at = time.strftime("%H:%M:%S")
        self._alerts.append({"code": code, "detail": detail, "at": at})
        self._audit("staff_alert", code=code)

    def recent(self) -> list[dict[str, str]]:
        return list(self._alerts)

    def __len__(self) -> int:
        return len(self._alerts)
