"""Every pycups call, bounded by a timeout and translated into the device error family.

pycups blocks in libcups (a hung cupsd never answers), so each call runs on its own daemon thread
that opens its own connection, and the caller waits on it with a timeout.

The server routing lives here and only here: `cups.setServer()`/`cups.setPort()` must be called
before `cups.Connection()`, because `Connection(host=...)` alone does not route print jobs
(STACK-NOTES). libcups keeps that setting per *thread* (checked: a new thread sees the default
again), so the worker thread sets it right before it connects, and two printers on two servers in
one process do not disturb each other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import cups

from ..errors import (
    ConfigError,
    DeviceBusy,
    DeviceError,
    DeviceOffline,
    DeviceTimeout,
    HardwareError,
    InputRejected,
)

log = logging.getLogger("devices.a4_printer")

T = TypeVar("T")

# Worker threads still blocked in libcups after their caller gave up; past this many we stop
# spawning new ones and fail at once, so a hung cupsd cannot pile up threads.
MAX_STUCK_CALLS = 4


class CupsClient:
    """Runs `fn(connection)` against one cupsd with a time limit."""

    def __init__(self, server: str | None, port: int | None, call_timeout_s: float) -> None:
        self.server = server
        self.port = port
        self.call_timeout_s = call_timeout_s
        self._stuck: list[threading.Thread] = []
        self._lock = threading.Lock()

    def describe(self) -> str:
        where = self.server or "the default cupsd"
        return f"{where}:{self.port}" if self.port else where

    def connect(self) -> Any:
        """A new pycups Connection to our server, in (and for) the calling thread only."""
        if self.server is not None:
            cups.setServer(self.server)
        if self.port is not None:
            cups.setPort(self.port)
        return cups.Connection()

    def call(self, what: str, fn: Callable[[Any], T], *, timeout: float | None = None) -> T:
        """`what` names the operation in errors and logs ("status of KioskA4")."""
        limit = self.call_timeout_s if timeout is None else timeout
        with self._lock:
            self._stuck = [t for t in self._stuck if t.is_alive()]
            if len(self._stuck) >= MAX_STUCK_CALLS:
                raise DeviceTimeout(
                    f"cupsd at {self.describe()} has not answered {len(self._stuck)} earlier "
                    f"requests; not sending {what}",
                    code="a4.cups_unresponsive",
                )
        outcome: list[tuple[bool, Any]] = []

        def work() -> None:
            try:
                outcome.append((True, fn(self.connect())))
            except BaseException as exc:  # handed to the caller's thread below
                outcome.append((False, exc))

        worker = threading.Thread(target=work, name=f"cups: {what}", daemon=True)
        worker.start()
        worker.join(limit)
        if worker.is_alive():
            with self._lock:
                self._stuck.append(worker)
            log.warning("cupsd at %s did not answer %s within %.1f s", self.describe(), what, limit)
            raise DeviceTimeout(
                f"cupsd at {self.describe()} did not answer {what} within {limit:g} s",
                code="a4.cups_unresponsive",
            )
        ok, value = outcome[0]
        if ok:
            return value  # type: ignore[no-any-return]
        raise translate(value, what, self.describe()) from value


def translate(exc: BaseException, what: str, server: str) -> DeviceError:
    """pycups' exceptions -> the family. DeviceErrors raised inside a call pass through."""
    if isinstance(exc, DeviceError):
        return exc
    if isinstance(exc, RuntimeError):  # pycups: "failed to connect to server"
        return DeviceOffline(
            f"cannot reach cupsd at {server} for {what}: {exc}", code="a4.cups_unreachable"
        )
    if isinstance(exc, cups.IPPError):
        status, text = _ipp_args(exc)
        return ipp_error(status, text, what)
    if isinstance(exc, cups.HTTPError):
        return DeviceOffline(
            f"cupsd at {server} answered {what} with HTTP status {exc.args[0] if exc.args else '?'}",
            code="a4.cups_http_error",
        )
    if isinstance(exc, OSError):
        return DeviceOffline(f"cupsd at {server}, {what}: {exc}", code="a4.cups_unreachable")
    return HardwareError(
        f"unexpected {type(exc).__name__} from pycups during {what}: {exc}", code="a4.cups_error"
    )


def ipp_error(status: int, text: str, what: str) -> DeviceError:
    """An IPP status for a request about a printer or a job (`what`) -> the family."""
    detail = f"{what}: {text} (IPP status 0x{status:04x})"
    if status == cups.IPP_NOT_ACCEPTING:
        return DeviceOffline(f"queue is not accepting jobs; {detail}", code="a4.not_accepting")
    if status in (cups.IPP_NOT_AUTHORIZED, cups.IPP_FORBIDDEN, cups.IPP_NOT_AUTHENTICATED):
        return ConfigError(f"cupsd refused {detail}", code="a4.not_authorized")
    if status == cups.IPP_PRINTER_BUSY:
        return DeviceBusy(f"printer busy; {detail}", code="a4.printer_busy")
    if status in (cups.IPP_DOCUMENT_FORMAT, cups.IPP_DOCUMENT_FORMAT_ERROR):
        return InputRejected(f"CUPS refused the document; {detail}", code="a4.document_rejected")
    if status == cups.IPP_NOT_FOUND:
        return HardwareError(f"not found; {detail}", code="a4.not_found")
    if status == cups.IPP_SERVICE_UNAVAILABLE:
        return DeviceOffline(f"cupsd unavailable; {detail}", code="a4.cups_unreachable")
    return HardwareError(f"CUPS error; {detail}", code="a4.cups_error")


def _ipp_args(exc: BaseException) -> tuple[int, str]:
    args = exc.args
    status = args[0] if args and isinstance(args[0], int) else -1
    text = str(args[1]) if len(args) > 1 else ""
    return status, text


def is_not_found(exc: BaseException) -> bool:
    return isinstance(exc, cups.IPPError) and _ipp_args(exc)[0] == cups.IPP_NOT_FOUND
