"""CUPS printer attributes -> the kiosk's DeviceStatus. Pure functions, no pycups needed.

Inputs are `printer-state` (3 idle, 4 processing, 5 stopped), `printer-state-reasons` (IPP keywords,
optionally suffixed -error / -warning / -report) and `printer-is-accepting-jobs`.

Known physical conditions (paper, jam, cover, offline) count whatever their suffix: a kiosk must not
promise a page while the printer says its cover is open. Unknown reasons count as a hardware error
only with the -error suffix; otherwise they just appear in the detail (CUPS adds informational
keywords such as `cups-waiting-for-job-completed` without a suffix).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..state import DeviceState, DeviceStatus, PaperState

PRINTER_IDLE = 3
PRINTER_PROCESSING = 4
PRINTER_STOPPED = 5

SEVERITIES = ("error", "warning", "report")


@dataclass(frozen=True, slots=True)
class Condition:
    """What one reason keyword means for the kiosk."""

    label: str  # technician wording
    error_code: str | None = None  # set: the printer cannot print until someone acts
    paper: PaperState | None = None
    cover_open: bool = False
    offline: bool = False


_OUT = Condition("paper out", "a4.paper_out", paper=PaperState.OUT)
_SUPPLY_EMPTY = Condition("toner/ink empty", "a4.supply_empty")
_COVER = Condition("cover open", "a4.cover_open", cover_open=True)
_OFFLINE = Condition("printer offline", "a4.offline", offline=True)

CONDITIONS: Mapping[str, Condition] = {
    "media-empty": _OUT,
    "media-needed": _OUT,
    "media-jam": Condition("paper jam", "a4.paper_jam", paper=PaperState.JAMMED),
    "media-low": Condition("paper low", paper=PaperState.LOW),
    "cover-open": _COVER,
    "door-open": _COVER,
    "interlock-open": _COVER,
    "offline": _OFFLINE,
    "shutdown": _OFFLINE,
    "timed-out": _OFFLINE,
    "connecting-to-device": Condition("connecting to printer", "a4.offline", offline=True),
    "toner-low": Condition("toner low"),
    "marker-supply-low": Condition("toner/ink low"),
    "developer-low": Condition("developer low"),
    "marker-waste-almost-full": Condition("waste toner almost full"),
    "toner-empty": _SUPPLY_EMPTY,
    "marker-supply-empty": _SUPPLY_EMPTY,
    "developer-empty": _SUPPLY_EMPTY,
    "marker-waste-full": Condition("waste toner full", "a4.supply_empty"),
    "output-area-full": Condition("output tray full", "a4.output_full"),
    "output-area-almost-full": Condition("output tray almost full"),
    "input-tray-missing": Condition("input tray missing", "a4.tray_missing"),
    "output-tray-missing": Condition("output tray missing", "a4.tray_missing"),
    "cups-missing-filter": Condition("CUPS filter missing", "a4.driver_error"),
    "cups-insecure-filter": Condition("CUPS filter insecure", "a4.driver_error"),
    "spool-area-full": Condition("spool area full", "a4.printer_error"),
    "paused": Condition("queue paused"),  # acted on through printer-state 5
    "moving-to-paused": Condition("pausing"),
}


def split_reason(reason: str) -> tuple[str, str | None]:
    """`media-empty-error` -> (`media-empty`, `error`); no suffix -> (reason, None)."""
    keyword, _, suffix = reason.rpartition("-")
    if keyword and suffix in SEVERITIES:
        return keyword, suffix
    return reason, None


def normalize_reasons(value: Any) -> tuple[str, ...]:
    """pycups gives one reason as a str and several as a list; drop `none` and junk."""
    items: Iterable[Any] = (value,) if isinstance(value, str) else (value or ())
    if not isinstance(items, Iterable):
        return ()
    reasons = []
    for item in items:
        if isinstance(item, str) and item.strip() and item.strip() != "none":
            reasons.append(item.strip()[:80])  # keywords are short; cap foreign junk for the detail
    return tuple(reasons)


def map_printer_state(
    printer_state: int | None,
    reasons: Iterable[str] = (),
    accepting: bool | None = True,
    message: str = "",
) -> DeviceStatus:
    """The whole mapping; order of precedence: hardware error > offline > stopped > rejecting >
    busy > online. Paper is UNKNOWN unless a media reason says otherwise (CUPS does not report
    "full"); cover_open is False unless a cover reason is present."""
    reasons = normalize_reasons(reasons)
    paper = PaperState.UNKNOWN
    paper_rank = {PaperState.UNKNOWN: 0, PaperState.LOW: 1, PaperState.OUT: 2, PaperState.JAMMED: 3}
    cover_open = False
    offline_code: str | None = None
    error_code: str | None = None
    notes: list[str] = []
    keywords: list[str] = []  # the conditions, for the hall (informational keywords left out)
    for reason in reasons:
        keyword, severity = split_reason(reason)
        condition = CONDITIONS.get(keyword)
        if (condition is not None or severity in ("error", "warning")) and keyword not in keywords:
            keywords.append(keyword)
        if keyword == "paused" and printer_state == PRINTER_STOPPED:
            continue  # said once below, with the stop
        if condition is None:
            if severity == "error":
                error_code = error_code or "a4.printer_error"
                notes.append(f"printer error ({reason})")
            else:
                notes.append(reason)
            continue
        notes.append(f"{condition.label} ({reason})")
        if condition.paper is not None and paper_rank[condition.paper] > paper_rank[paper]:
            paper = condition.paper
        cover_open = cover_open or condition.cover_open
        if condition.offline:
            offline_code = offline_code or condition.error_code
        elif condition.error_code is not None:
            error_code = error_code or condition.error_code

    stopped = printer_state == PRINTER_STOPPED
    if stopped:
        notes.insert(0, "queue stopped (paused)" if "paused" in reasons else "queue stopped")
    if accepting is False:
        notes.append("queue not accepting jobs")
    if printer_state not in (PRINTER_IDLE, PRINTER_PROCESSING, PRINTER_STOPPED):
        notes.insert(0, f"unknown printer-state {printer_state!r}")
    clean_message = " ".join(str(message or "").split())[:200]
    if clean_message and clean_message.lower() not in ("paused", "rejecting jobs"):
        notes.append(f"message: {clean_message}")

    state, code = _state_and_code(printer_state, error_code, offline_code, stopped, accepting)
    detail = "; ".join(notes) if notes else ("printing" if state is DeviceState.BUSY else "ready")
    return DeviceStatus(
        state=state,
        detail=detail,
        paper=paper,
        cover_open=cover_open,
        error_code=code,
        reasons=tuple(keywords),
    )


def _state_and_code(
    printer_state: int | None,
    error_code: str | None,
    offline_code: str | None,
    stopped: bool,
    accepting: bool | None,
) -> tuple[DeviceState, str | None]:
    if error_code is not None:
        return DeviceState.HARDWARE_ERROR, error_code
    if offline_code is not None:
        return DeviceState.OFFLINE, offline_code
    if stopped:
        return DeviceState.OFFLINE, "a4.paused"
    if accepting is False:
        return DeviceState.OFFLINE, "a4.not_accepting"
    if printer_state == PRINTER_PROCESSING:
        return DeviceState.BUSY, None
    if printer_state == PRINTER_IDLE:
        return DeviceState.ONLINE, None
    return DeviceState.OFFLINE, "a4.unknown_state"


def status_from_attributes(attrs: Mapping[str, Any]) -> DeviceStatus:
    """DeviceStatus from a pycups getPrinterAttributes() dict."""
    state = attrs.get("printer-state")
    accepting = attrs.get("printer-is-accepting-jobs")
    return map_printer_state(
        state if isinstance(state, int) and not isinstance(state, bool) else None,
        normalize_reasons(attrs.get("printer-state-reasons")),
        accepting if isinstance(accepting, bool) else None,
        str(attrs.get("printer-state-message") or ""),
    )
