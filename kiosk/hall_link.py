"""The terminal's heartbeat to its hall (DESIGN §8): every `interval_s` seconds, also while nobody
uses the kiosk, it tells the platform whether it can serve, its devices, its queue, its counters
and the results of staff commands; the answer brings new commands and the state of its help calls.

It runs on the runner's loop and never holds up a session: device status is read on a worker thread,
every platform error is logged and the next beat is the retry. A help call makes a beat at once,
and while a person waits for staff the terminal beats every few seconds, so the screen shows
工作人员已收到 within seconds of it.
A required device in error takes the terminal out of service at once, and back when it recovers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from devices.state import COVER_OPEN_REASON, PAPER_REASONS

from .api import ReportApi
from .availability import availability, first_fault
from .commands import CommandRunner
from .errors import KioskError
from .telemetry import Counters, code_word
from .terminal_state import TerminalState

log = logging.getLogger(__name__)

DEVICE_CHECK_S = 5.0  # how often devices are looked at between beats (a fault shows at once)
# while one of its calls waits for staff the terminal beats this often whatever the interval, so
# that the acknowledgement shows within 5 s (DESIGN §8) before the platform's answer asks for it
HELP_POLL_S = 3.0
MAX_REASONS = 16  # per device, as the platform takes them
WAITING_FOR_STAFF = frozenset({"sending", "open"})  # "undelivered": beats when the outbox sends it


@dataclass
class HallSettings:
    interval_s: float = 30.0
    required_devices: tuple[str, ...] = ("a4_printer", "id_card")


def app_version() -> str:
    try:
        return metadata.version("credit-kiosk")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def device_report(status: Mapping[str, Any]) -> dict[str, Any]:
    """A device's status() in the heartbeat's words: state, paper, reasons, detail. Reasons are
    the device's own keywords (CUPS's for the A4 printer), the paper and cover in the same words
    for a printer without them (ESC/POS), then the kiosk's error code."""
    paper = next((word for state, word in PAPER_REASONS.items() if state == status.get("paper")),
                 None)  # fmt: skip
    error = code_word(str(status.get("error_code") or ""))
    derived = [r for r in (paper, COVER_OPEN_REASON if status.get("cover_open") else None, error)
               if r is not None]  # fmt: skip
    own = [w for w in (code_word(str(r)) for r in status.get("reasons") or ()) if w is not None]
    reasons = [r for r in dict.fromkeys(own) if r not in derived][: MAX_REASONS - len(derived)]
    report: dict[str, Any] = {
        "state": status.get("state", "offline"),
        "reasons": reasons + derived,
        "detail": str(status.get("detail") or "")[:200],
    }
    if status.get("paper") is not None:
        report["paper"] = status["paper"]
    return report


class HallLink:
    def __init__(
        self,
        api: ReportApi,
        terminal: TerminalState,
        commands: CommandRunner,
        counters: Counters,
        *,
        device_status: Callable[[], dict[str, Any]],
        queue: Callable[[], dict[str, Any]],
        settings: HallSettings,
        restart: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.terminal = terminal
        self.commands = commands
        self.counters = counters
        self.device_status = device_status
        self.queue = queue
        self.settings = settings
        self._restart = restart
        self._clock = clock
        self._started = clock()
        self._wake = asyncio.Event()
        self._restart_requested = False
        self._devices: dict[str, Any] = {}
        self._sent_availability: str | None = None
        self.next_interval_s = settings.interval_s
        self.beats = 0
        self.failures = 0

    def request_restart(self) -> None:
        """A restart command ran: the next beat carries its result, then the app ends."""
        self._restart_requested = True
        self.wake()

    def wake(self) -> None:
        """Beat now (a help call was made, availability changed); on the runner's loop."""
        self._wake.set()

    def heard(self, record: Mapping[str, str]) -> None:
        """An audit log listener: a help call was just made, so beat now and often until staff
        answer."""
        if record.get("event") == "help_called":
            self.wake()

    def interval_s(self) -> float:
        """Seconds from one beat to the next: the platform's word, shorter while staff are
        awaited."""
        calls = self.terminal.calls().values()
        if any(call.status in WAITING_FOR_STAFF for call in calls):
            return min(self.next_interval_s, HELP_POLL_S)
        return self.next_interval_s

    async def run(self) -> None:
        last_beat: float | None = None
        while True:
            await self.check_devices()
            due = -math.inf if last_beat is None else last_beat + self.interval_s()
            if self._clock() >= due or self._wake.is_set():
                self._wake.clear()
                await self.beat()
                last_beat = self._clock()
                due = last_beat + self.interval_s()
            wait = min(DEVICE_CHECK_S, max(0.0, due - self._clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def check_devices(self) -> None:
        """Read the devices (on a worker thread) and act on a required one in error."""
        try:
            self._devices = await asyncio.to_thread(self.device_status)
        except Exception:  # a device that throws must not stop the heartbeat
            log.exception("reading device status failed")
            return
        fault = first_fault(self._devices, self.settings.required_devices)
        if fault != self.terminal.fault:
            log.warning("availability: %s", fault.reason if fault else "required devices usable")
            self.terminal.set_fault(fault)
            self._wake.set()  # the hall should know now, not in 30 s

    def body(self) -> dict[str, Any]:
        queue = self.queue()
        state, reason = availability(
            self.terminal.fault, locked=self.terminal.locked, queueing=queue.get("pending", 0) > 0
        )
        return {
            "interval_s": int(self.settings.interval_s),
            "availability": state.value,
            "reason": reason,
            "devices": {kind: device_report(s) for kind, s in self._devices.items()},
            "queue": {
                "pending": int(queue.get("pending", 0)),
                "dead_letters": int(queue.get("dead_letters", 0)),
                "oldest_age_s": queue.get("oldest_age_s"),
            },
            "app_version": app_version(),
            "uptime_s": int(self._clock() - self._started),
            "counters": self.counters.snapshot(),
            "last_error": self.counters.last_error,
            "command_results": self.commands.results(),
        }

    async def beat(self) -> None:
        body = self.body()
        try:
            answer = await self.api.heartbeat(body)
        except KioskError as exc:
            self.failures += 1
            self.next_interval_s = self.settings.interval_s
            log.warning("heartbeat not delivered: %s", exc.code)
            if exc.code == "unknown_command" and body["command_results"]:
                # results for a command the platform no longer knows would refuse every later
                # beat too: given up, logged above and here
                log.error("dropping %d command results the platform refused",
                          len(body["command_results"]))  # fmt: skip
                self.commands.delivered(body["command_results"])
                self._wake.set()
            return
        self.beats += 1
        self._sent_availability = body["availability"]
        self.commands.delivered(body["command_results"])
        self.terminal.help_calls_update(answer.help_calls)
        self.next_interval_s = max(1.0, min(answer.next_interval_s or self.settings.interval_s,
                                            self.settings.interval_s))  # fmt: skip
        await self.commands.run(list(answer.commands))
        if self.commands.results():
            self._wake.set()  # results go back at once, not in a whole interval
        if self._restart_requested and not self.commands.results():
            log.warning("restarting the app, as staff asked")
            self._restart()
