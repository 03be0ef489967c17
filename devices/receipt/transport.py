"""One connection to a printer through a python-escpos printer object, with errors mapped to the family.

python-escpos does the I/O (`open`, `_raw`, `_read`, `close`); the links add what the kiosk needs on
top: timeouts on every read, draining stale status bytes, noticing a connection the printer dropped
(power cycle) before a job is sent into it, and DeviceOffline/DeviceTimeout instead of socket, serial,
USB or python-escpos exceptions.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
from typing import Any

from escpos.exceptions import Error as EscposError

from ..errors import DeviceBusy, DeviceError, DeviceOffline, DeviceTimeout, DriverMissing

log = logging.getLogger(__name__)

UNREACHABLE = "receipt.unreachable"


class Link:
    """Base link: writes through python-escpos; subclasses add reading and liveness checks."""

    can_read = True

    def __init__(self, printer: Any, *, where: str, timeout_s: float) -> None:
        self.printer = printer
        self.where = where  # technician-facing: "tcp 127.0.0.1:9100", "/dev/ttyUSB0"
        self.timeout_s = timeout_s
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> None:
        try:
            self.printer.open(raise_not_found=True)
            self._after_open()
        except RuntimeError as exc:  # python-escpos' message when pyusb/pyserial is missing
            raise DriverMissing(f"receipt printer driver missing: {exc}") from exc
        except (EscposError, OSError, ValueError) as exc:
            raise self._map(exc, "cannot open") from exc
        self._open = True
        log.info("receipt printer connected: %s", self.where)

    def close(self) -> None:
        self._open = False
        with contextlib.suppress(EscposError, OSError, RuntimeError):  # already gone
            self.printer.close()

    def ensure_open(self) -> None:
        if not self._open:
            self.open()

    def write(self, data: bytes) -> None:
        self.ensure_open()
        try:
            self.printer._raw(data)
        except (EscposError, OSError) as exc:
            raise self._map(exc, "cannot send") from exc

    def query(self, command: bytes) -> int | None:
        """Send a DLE EOT query; its status byte, or None when the printer stays silent."""
        self.ensure_open()
        self.drain()
        self.write(command)
        try:
            reply = self._read_reply()
        except TimeoutError:
            return None
        except (EscposError, OSError) as exc:
            raise self._map(exc, "cannot read status") from exc
        return reply[-1] if reply else None

    def drain(self) -> None:
        """Drop unread bytes (a late reply to an earlier query); raise if the peer is gone."""

    def confirm(self) -> None:
        """After a job without a status round trip: raise if the link shows it was lost."""

    def _read_reply(self) -> bytes:
        return bytes(self.printer._read())

    def _after_open(self) -> None:
        pass

    def _map(self, exc: BaseException, doing: str) -> DeviceError:
        """The family error for a driver exception; the printer is unreachable unless it timed out."""
        self._open = False
        if isinstance(exc, TimeoutError) or type(exc).__name__ == "SerialTimeoutException":
            return DeviceTimeout(
                f"{doing} {self.where}: no progress within {self.timeout_s:g} s",
                code="receipt.timeout",
            )
        text = str(exc).replace("\n", " ")
        if "Resource busy" in text:  # the kernel usblp driver or another program holds it
            return DeviceBusy(f"{doing} {self.where}: device busy ({text})", code="receipt.busy")
        return DeviceOffline(f"{doing} {self.where}: {text}", code=UNREACHABLE)


class NetworkLink(Link):
    """Raw TCP (port 9100) through `escpos.printer.Network`."""

    def __init__(self, printer: Any, *, where: str, timeout_s: float, reset_check_s: float) -> None:
        super().__init__(printer, where=where, timeout_s=timeout_s)
        self.reset_check_s = reset_check_s

    def confirm(self) -> None:
        # a printer that restarted answers the job's first segment with RST within a round trip
        if self._open and self.reset_check_s > 0:
            select.select([self._socket()], [], [], self.reset_check_s)
            self.drain()

    def _after_open(self) -> None:
        # a 3-byte status query must not wait for the ACK of the job before it (Nagle: ~40 ms)
        self._socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _socket(self) -> socket.socket:
        sock = self.printer.device
        if not isinstance(sock, socket.socket):
            raise DeviceOffline(f"not connected to {self.where}", code=UNREACHABLE)
        return sock

    def drain(self) -> None:
        if not self._open:
            return
        sock = self._socket()
        sock.setblocking(False)
        try:
            while True:
                chunk = sock.recv(64)
                if not chunk:  # FIN: the printer closed the connection (restart, idle timeout)
                    raise self._map(ConnectionResetError("connection closed by printer"), "lost")
                log.debug("dropped %d unread bytes from %s", len(chunk), self.where)
        except BlockingIOError:
            pass  # nothing waiting: the connection is alive as far as TCP knows
        except OSError as exc:  # RST after a power cycle
            raise self._map(exc, "lost") from exc
        finally:
            if self._open:
                sock.settimeout(self.timeout_s)

    def _read_reply(self) -> bytes:
        reply = bytes(self.printer._read())
        if not reply:
            raise ConnectionResetError("connection closed by printer")
        return reply


class SerialLink(Link):
    """RS-232 through `escpos.printer.Serial` (pyserial)."""

    def _after_open(self) -> None:
        self.printer.device.write_timeout = self.timeout_s  # python-escpos leaves writes unbounded

    def drain(self) -> None:
        if self._open:
            self.printer.device.reset_input_buffer()

    def _read_reply(self) -> bytes:
        # python-escpos reads 16 bytes, which always waits for the whole timeout
        reply = bytes(self.printer.device.read(1))
        if not reply:
            raise TimeoutError
        return reply


class UsbLink(Link):
    """USB printer class device through `escpos.printer.Usb` (pyusb)."""

    def _read_reply(self) -> bytes:
        try:
            return bytes(self.printer._read())
        except OSError as exc:
            if getattr(exc, "errno", None) == 110 or "timed out" in str(exc).lower():
                raise TimeoutError from exc
            raise


class FileLink(Link):
    """A device file or a plain file the bytes are appended to; nothing can be read back."""

    can_read = False

    def query(self, command: bytes) -> int | None:
        return None
