"""Alerts the platform raises and clears from what terminals report (DESIGN §8).

Each heartbeat gives the set of conditions that hold now (`conditions`); `reconcile` raises the new
ones and clears those that no longer hold. The offline and unanswered-help alerts are raised by the
sweep (state.py), which sees time pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import models
from .vocabulary import DEVICE_KINDS

PRINTERS = ("a4_printer", "receipt_printer")
# The platform's own reading of RFC 8011 printer-state-reasons (the kiosk's is
# devices/a4_printer/state_map.py): DESIGN §2 keeps report_service from importing kiosk packages.
COVER_REASONS = frozenset({"cover-open", "cover_open", "door-open", "interlock-open"})
# CUPS printer-state-reasons keywords that say what the paper is, for a heartbeat whose `paper`
# does not (a terminal may send `unknown` with `media-jam`)
REASON_PAPER = {"media-low": "low", "media-empty": "out", "media-needed": "out",
                "media-jam": "jammed"}  # fmt: skip
SEVERITY_SUFFIXES = ("-error", "-warning", "-report")
FAULT_STATES = frozenset({"hardware_error", "offline"})
HEARTBEAT_KINDS = frozenset(
    {"paper_low", "paper_out", "paper_jam", "cover_open", "device_fault", "out_of_service",
     "dead_letters"}
)  # fmt: skip
PAPER_ALERTS = {"low": "paper_low", "out": "paper_out", "jammed": "paper_jam"}  # most urgent last


class Condition(NamedTuple):
    kind: str
    subject: str  # the device kind, or "" for the terminal as a whole
    detail: str


def conditions(heartbeat: Mapping[str, Any]) -> set[Condition]:
    """What in a (validated) heartbeat needs a person: paper, jams, covers, faults, dead letters."""
    found: set[Condition] = set()
    devices: Mapping[str, Any] = heartbeat["devices"]
    for kind, device in devices.items():
        if device is None:
            continue
        label = DEVICE_KINDS[kind]
        specific = False  # paper, a jam, a cover: what staff can fix, said instead of "fault"
        if kind in PRINTERS:
            keywords = {_keyword(r) for r in device.get("reasons") or ()}
            paper = _paper_alert(device.get("paper"), keywords)
            cover = bool(COVER_REASONS & keywords) or device.get("cover_open") is True
            if paper:
                found.add(Condition(paper, kind, label))
            if cover:
                found.add(Condition("cover_open", kind, label))
            specific = bool(paper) or cover
        if device["state"] in FAULT_STATES and not specific:
            detail = f"{label}：{device.get('detail') or device['state']}"[:200]
            found.add(Condition("device_fault", kind, detail))
    if heartbeat["availability"] == "out_of_service" and not found:
        # a device alert above already says why; this one is for a cause it does not name
        found.add(Condition("out_of_service", "", heartbeat.get("reason") or ""))
    if heartbeat["queue"]["dead_letters"] > 0:
        found.add(Condition("dead_letters", "", f"{heartbeat['queue']['dead_letters']} 件"))
    return found


def _keyword(reason: str) -> str:
    """`media-empty-error` -> `media-empty`, as CUPS suffixes a reason with its severity."""
    for suffix in SEVERITY_SUFFIXES:
        if reason.endswith(suffix) and len(reason) > len(suffix):
            return reason[: -len(suffix)]
    return reason


def _paper_alert(paper: str | None, keywords: set[str]) -> str | None:
    """The most urgent of what the `paper` field and the reasons say."""
    said = [paper or ""] + [REASON_PAPER[k] for k in keywords if k in REASON_PAPER]
    ranked = [p for p in PAPER_ALERTS if p in said]
    return PAPER_ALERTS[ranked[-1]] if ranked else None


def active_key(terminal_id: str, kind: str, subject: str) -> str:
    return f"{terminal_id}:{kind}:{subject}"


def reconcile(
    s: Session,
    terminal: models.TerminalState,
    now: dt.datetime,
    holding: Iterable[Condition],
    kinds: frozenset[str] = HEARTBEAT_KINDS,
) -> bool:
    """Raise the conditions in `holding`, clear this terminal's active alerts of `kinds` that are
    not; True when anything changed."""
    wanted = {active_key(terminal.terminal_id, c.kind, c.subject): c for c in holding}
    active = s.scalars(
        select(models.Alert).where(
            models.Alert.terminal_id == terminal.terminal_id,
            models.Alert.active_key.is_not(None),
            models.Alert.kind.in_(kinds),
        )
    ).all()
    changed = False
    for alert in active:
        if alert.active_key not in wanted:
            alert.cleared_at, alert.active_key = now, None
            changed = True
        else:
            wanted.pop(alert.active_key)
    for key, c in wanted.items():
        s.add(
            models.Alert(
                terminal_id=terminal.terminal_id, hall_id=terminal.hall_id, kind=c.kind,
                subject=c.subject, detail=c.detail, raised_at=now, active_key=key,
            )
        )  # fmt: skip
        changed = True
    return changed
