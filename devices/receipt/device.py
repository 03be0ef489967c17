"""The receipt printer the kiosk talks to: print a receipt, report status, self-test, survive restarts.

Where the model answers DLE EOT (`supports_paper_status`), every job is preceded by a status check
(paper out, cover open, cutter error stop the job before any byte of it is sent) and followed by one
more query as an acknowledgement that the printer is still connected. A job whose sending or
acknowledgement fails is sent once more on a fresh connection: after a power cycle the printer lost
the job, so at most one duplicate receipt is printed, never silently none.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from ..errors import DeviceError, DeviceOffline, DeviceTimeout, HardwareError
from ..state import DeviceState, DeviceStatus, PaperState, SelfTestResult
from . import commands as cmd
from .layout import COLUMNS, LayoutOptions, PaperWidth, build_receipt
from .model import Receipt
from .transport import UNREACHABLE, Link

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PrinterState:
    """What the DLE EOT replies say (None: that reply was not requested or made no sense)."""

    offline: bool
    paper: PaperState
    cover_open: bool | None
    cutter_error: bool

    @property
    def blocking_error(self) -> tuple[str, str] | None:
        """(code, technician message) of a condition that stops printing, if any."""
        if self.cover_open:
            return "receipt.cover_open", "printer cover is open"
        if self.paper is PaperState.OUT:
            return "receipt.paper_out", "receipt paper is out"
        if self.cutter_error:
            return "receipt.cutter_error", "auto-cutter error (paper jam at the blade?)"
        if self.offline:
            return "receipt.offline", "printer reports offline for an unknown cause"
        return None


def _valid(byte: int | None) -> bool:
    # every DLE EOT reply has bits 1 and 4 set and bits 0 and 7 clear
    return byte is not None and byte & 0x93 == cmd.STATUS_FIXED


def parse_state(
    printer: int, cause: int | None, error: int | None, paper: int | None
) -> PrinterState:
    """Interpret the replies to DLE EOT 1, 2, 3 and 4."""
    paper_state = PaperState.UNKNOWN
    if paper is not None and _valid(paper):
        if paper & cmd.PAPER_END:
            paper_state = PaperState.OUT
        elif paper & cmd.PAPER_NEAR_END:
            paper_state = PaperState.LOW
        else:
            paper_state = PaperState.FULL
    cover = bool(cause & cmd.CAUSE_COVER_OPEN) if cause is not None and _valid(cause) else None
    if cause is not None and _valid(cause) and cause & cmd.CAUSE_PAPER_END_STOP:
        paper_state = PaperState.OUT
    cutter = error is not None and _valid(error) and bool(error & cmd.ERROR_CUTTER)
    offline = _valid(printer) and bool(printer & cmd.PRINTER_OFFLINE)
    return PrinterState(offline, paper_state, cover, cutter)


class ReceiptPrinter:
    """A receipt printer on one link; thread-safe, one job at a time."""

    device = "receipt_printer"

    def __init__(
        self,
        link: Link,
        *,
        backend: str,
        supports_paper_status: bool = False,
        layout: LayoutOptions | None = None,
    ) -> None:
        self.backend = backend
        self.supports_paper_status = supports_paper_status and link.can_read
        self.layout = layout or LayoutOptions()
        self._link = link
        self._lock = threading.Lock()
        self.reconnects = 0  # for the technician: how often a dropped connection was reopened

    @property
    def paper_mm(self) -> PaperWidth:
        return self.layout.paper_mm

    def __repr__(self) -> str:
        return f"ReceiptPrinter({self.backend}, {self._link.where}, {self.paper_mm} mm)"

    # ---- printing -----------------------------------------------------------------------------
    def print_receipt(self, receipt: Receipt) -> None:
        """Print one receipt and cut it; raises DeviceError subclasses (see the docs for codes)."""
        job = build_receipt(receipt, self.layout)
        with self._lock:
            if self.supports_paper_status:
                blocking = self._read_state().blocking_error
                if blocking is not None:
                    raise HardwareError(f"not printing: {blocking[1]}", code=blocking[0])
            self._send(job)
        log.info("receipt printed on %s (%d bytes)", self._link.where, len(job))

    def _send(self, job: bytes) -> None:
        for attempt in (1, 2):
            try:
                self._link.ensure_open()
                self._link.drain()  # notices a connection reset by a power cycle
                self._link.write(job)
                if not self.supports_paper_status:
                    self._link.confirm()
                elif self._link.query(cmd.STATUS_PRINTER) is None:
                    raise DeviceOffline("no acknowledgement after the job", code=UNREACHABLE)
                return
            except DeviceOffline as exc:
                self._link.close()
                if attempt == 2:
                    raise DeviceOffline(
                        f"receipt printer unreachable after reconnecting: {exc.detail}",
                        code=UNREACHABLE,
                    ) from exc
                log.warning("receipt printer connection lost (%s); reconnecting", exc.code)
                self.reconnects += 1

    def _read_state(self) -> PrinterState:
        """DLE EOT 1-4, reconnecting once if the connection turns out to be dead or silent."""
        for attempt in (1, 2):
            try:
                self._link.ensure_open()
                printer = self._link.query(cmd.STATUS_PRINTER)
                if printer is None:
                    raise DeviceTimeout(
                        f"no reply to DLE EOT within {self._link.timeout_s:g} s",
                        code="receipt.no_status_reply",
                    )
                cause = error = None
                if _valid(printer) and printer & cmd.PRINTER_OFFLINE:
                    cause = self._link.query(cmd.STATUS_OFFLINE_CAUSE)
                    error = self._link.query(cmd.STATUS_ERROR)
                paper = self._link.query(cmd.STATUS_PAPER)
                return parse_state(printer, cause, error, paper)
            except (DeviceOffline, DeviceTimeout) as exc:
                self._link.close()
                if attempt == 2:
                    raise
                log.warning("receipt printer status failed (%s); reconnecting", exc.code)
                self.reconnects += 1
        raise AssertionError("unreachable")  # pragma: no cover

    # ---- status and self-test -----------------------------------------------------------------
    def status(self) -> DeviceStatus:
        with self._lock:
            try:
                if not self.supports_paper_status:
                    self._link.ensure_open()
                    self._link.drain()
                    return DeviceStatus(
                        DeviceState.ONLINE,
                        f"{self._link.where}; paper status not queried (supports_paper_status off)",
                        paper=PaperState.UNKNOWN,
                    )
                state = self._read_state()
            except DeviceError as exc:
                self._link.close()
                # a printer that stays silent is as good as off, whatever the cause
                silent = isinstance(exc, DeviceTimeout)
                down = DeviceState.OFFLINE if silent else exc.state
                return DeviceStatus(down, exc.detail, error_code=exc.code)
        blocking = state.blocking_error
        if blocking is not None:
            return DeviceStatus(
                DeviceState.HARDWARE_ERROR,
                blocking[1],
                paper=state.paper,
                cover_open=state.cover_open,
                error_code=blocking[0],
            )
        detail = "paper near end" if state.paper is PaperState.LOW else "ready"
        return DeviceStatus(
            DeviceState.ONLINE, detail, paper=state.paper, cover_open=state.cover_open
        )

    def self_test(self, print_page: bool = False) -> SelfTestResult:
        """Connection and status checks; prints a short test receipt only when `print_page`."""
        started = time.perf_counter()
        status = self.status()
        checks = [
            f"link: {self._link.where}",
            f"layout: {self.paper_mm} mm, {COLUMNS[self.paper_mm]} columns, "
            f"{self.layout.qr_mode} QR, cut {self.layout.cut}",
            f"status: {status.state.value}"
            + (f" ({status.error_code})" if status.error_code else "")
            + f", paper {status.paper.value if status.paper else 'n/a'}",
        ]
        ok = status.usable
        if print_page and ok:
            try:
                self.print_receipt(self_test_receipt(self.backend, self.paper_mm))
                checks.append("test receipt sent")
            except DeviceError as exc:
                ok = False
                checks.append(f"test receipt failed: {exc.code}")
        elif print_page:
            checks.append("test receipt skipped: printer not ready")
        return SelfTestResult(
            device=self.device,
            backend=self.backend,
            ok=ok,
            status=self.status() if print_page else status,
            checks=tuple(checks),
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def close(self) -> None:
        with self._lock:
            self._link.close()


def self_test_receipt(backend: str, paper_mm: PaperWidth) -> Receipt:
    return Receipt(
        title="打印机自检",
        fields=(
            ("后端:", backend),
            ("纸宽:", f"{paper_mm} mm"),
            ("时间:", datetime.now().strftime("%Y-%m-%d %H:%M:%S")),
            ("字符:", "中文 ABC 123 ：￥"),
        ),
        qr_payload="SELFTEST",
        qr_caption="扫码测试",
    )
