"""The one device-state model every device reports."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class DeviceState(enum.StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    BUSY = "busy"
    USER_ERROR = "user_error"  # card removed mid-read, paper taken too early
    HARDWARE_ERROR = "hardware_error"


class PaperState(enum.StrEnum):
    FULL = "full"
    LOW = "low"
    OUT = "out"
    JAMMED = "jammed"
    UNKNOWN = "unknown"


# a printer's paper and cover in CUPS's printer-state-reasons keywords (DESIGN §8), for printers
# that do not speak CUPS (ESC/POS) and for any state a device gives without its own keyword
PAPER_REASONS = {PaperState.LOW: "media-low", PaperState.OUT: "media-empty",
                 PaperState.JAMMED: "media-jam"}  # fmt: skip
COVER_OPEN_REASON = "cover-open"


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """A snapshot of one device; `paper` and `cover_open` are None for devices without paper."""

    state: DeviceState
    detail: str = ""  # technician-facing, never PII
    paper: PaperState | None = None
    cover_open: bool | None = None
    error_code: str | None = None  # a DeviceError code when state is an error
    # the device's own condition keywords, e.g. CUPS printer-state-reasons without -error/-warning
    reasons: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        return self.state in (DeviceState.ONLINE, DeviceState.BUSY) and self.paper not in (
            PaperState.OUT,
            PaperState.JAMMED,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state.value,
            "detail": self.detail,
            "paper": None if self.paper is None else self.paper.value,
            "cover_open": self.cover_open,
            "error_code": self.error_code,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class SelfTestResult:
    """What a device's self-test found; the provisioning CLI prints these."""

    device: str  # "id_card", "qr_camera", "a4_printer", "receipt_printer"
    backend: str
    ok: bool
    status: DeviceStatus
    checks: tuple[str, ...] = ()  # one line per check performed, for the technician
    duration_ms: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "device": self.device,
            "backend": self.backend,
            "ok": self.ok,
            "status": self.status.as_dict(),
            "checks": list(self.checks),
            "duration_ms": round(self.duration_ms, 1),
        }
