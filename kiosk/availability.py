"""Whether this terminal can serve a person now, decided from its devices as CUSS does (DESIGN §8).

A required device (the A4 printer, and the card reader unless the hall runs login-QR only;
`hall.required_devices`) that is in error takes the terminal out of service; it comes back by
itself when the device recovers. Staff can lock it; a platform that went away earlier makes it take
requests into its offline queue.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

UNUSABLE_STATES = frozenset({"offline", "hardware_error"})
UNUSABLE_PAPER = frozenset({"out", "jammed"})


class Availability(enum.StrEnum):
    IN_SERVICE = "in_service"
    OUT_OF_SERVICE = "out_of_service"
    LOCKED = "locked"
    OFFLINE_QUEUEING = "offline_queueing"


@dataclass(frozen=True)
class Fault:
    """Why a required device cannot serve: the device kind and what is wrong with it."""

    device: str
    problem: str  # "offline", "hardware_error", "paper_out", "paper_jammed"

    @property
    def reason(self) -> str:
        """The heartbeat's `reason`: a short code."""
        return f"{self.device}.{self.problem}"


def device_fault(kind: str, status: Mapping[str, Any]) -> Fault | None:
    paper = status.get("paper")  # the more precise word first: a printer out of paper is in error
    if paper in UNUSABLE_PAPER:
        return Fault(kind, "paper_out" if paper == "out" else "paper_jammed")
    state = status.get("state")
    if state in UNUSABLE_STATES:
        return Fault(kind, str(state))
    return None


def first_fault(
    devices: Mapping[str, Mapping[str, Any]], required: Collection[str]
) -> Fault | None:
    """The first required device that cannot serve, in the order of `required`."""
    for kind in required:
        fault = device_fault(kind, devices.get(kind) or {"state": "offline"})
        if fault is not None:
            return fault
    return None


def availability(
    fault: Fault | None, *, locked: bool, queueing: bool
) -> tuple[Availability, str | None]:
    """The heartbeat's availability and reason: a fault first (nobody can be served), then a
    staff lock, then the offline queue."""
    if fault is not None:
        return Availability.OUT_OF_SERVICE, fault.reason
    if locked:
        return Availability.LOCKED, None
    if queueing:
        return Availability.OFFLINE_QUEUEING, None
    return Availability.IN_SERVICE, None
