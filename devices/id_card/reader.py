"""The ID card reader on a serial port: SAM check at open, paced polling, card-leave detection.

One reader object owns one port. `read_card` and `wait_card_removed` block for at most their
timeout (plus one command's reply time); `status` never waits behind a read in progress.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import serial

from ..errors import ConfigError, DeviceError, DeviceOffline, DeviceTimeout, ProtocolError
from ..state import DeviceState, DeviceStatus, SelfTestResult
from .card import IdCard
from .checks import check_card
from .commands import (
    SW3_BAD_CHECKSUM,
    SW3_BAD_LENGTH,
    SW3_CARD_FOUND,
    SW3_FIND_FAILED,
    SW3_OK,
    SW3_READ_FAILED,
    SW3_SELECT_FAILED,
    Command,
    describe_sw3,
    error_for,
)
from .frame import FrameDecoder, Reply
from .text import decode_base_info

log = logging.getLogger("devices.id_card")

MIN_POLL_INTERVAL_S = 0.3  # GA/T 467 readers must not be polled faster
BAUDRATES = (9600, 19200, 38400, 57600, 115200)
SERIAL_OPTIONS = ("port", "baudrate", "timeout_s", "poll_interval_s")
_READ_SLICE_S = 0.05  # pyserial read timeout: how often a waiting reply checks deadline and close()


def option_number(
    options: Mapping[str, Any], key: str, default: float, low: float, high: float, where: str
) -> float:
    """A numeric option within [low, high], or ConfigError naming the key and the rule."""
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{where}: {key} must be between {low} and {high}, got {value}")
    return float(value)


@dataclass(frozen=True, slots=True)
class SerialConfig:
    port: str
    baudrate: int = 115200
    timeout_s: float = 3.0  # per reply: a base-info read takes up to ~1 s on real readers
    poll_interval_s: float = MIN_POLL_INTERVAL_S

    def __post_init__(self) -> None:
        if not self.poll_interval_s >= MIN_POLL_INTERVAL_S:  # also refuses NaN
            raise ConfigError(
                f"id_card: poll_interval_s must be at least {MIN_POLL_INTERVAL_S} s, "
                f"got {self.poll_interval_s}"
            )

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], where: str = "id_card serial"
    ) -> SerialConfig:
        port = options.get("port")
        if not isinstance(port, str) or not port.strip():
            raise ConfigError(f"{where}: port is required (a device path such as /dev/ttyUSB0)")
        baudrate = options.get("baudrate", 115200)
        if isinstance(baudrate, bool) or baudrate not in BAUDRATES:
            raise ConfigError(f"{where}: baudrate must be one of {BAUDRATES}, got {baudrate!r}")
        poll = options.get("poll_interval_s", MIN_POLL_INTERVAL_S)
        if (
            isinstance(poll, int | float)
            and not isinstance(poll, bool)
            and poll < MIN_POLL_INTERVAL_S
        ):
            raise ConfigError(
                f"{where}: poll_interval_s must be at least {MIN_POLL_INTERVAL_S} s "
                f"(GA/T 467 readers must not be polled faster), got {poll}"
            )
        return cls(
            port=port,
            baudrate=int(baudrate),
            timeout_s=option_number(options, "timeout_s", 3.0, 0.05, 30.0, where),
            poll_interval_s=option_number(options, "poll_interval_s", poll, 0.3, 10.0, where),
        )


def reject_unknown_options(options: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConfigError(
            f"{where}: unknown option(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )


class SerialIdCardReader:
    """A GA/T 467 reader behind pyserial. Construction does no I/O; the port opens on first use."""

    device = "id_card"

    def __init__(
        self,
        config: SerialConfig,
        *,
        today: Callable[[], dt.date] = dt.date.today,
        backend: str = "serial",
    ) -> None:
        self.config = config
        self.backend = backend
        self._today = today
        self._port: serial.Serial | None = None
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._decoder = FrameDecoder()
        self._last_find = -math.inf
        self._card_held = False  # a card was read and has not left the field since
        self._reading = False

    @classmethod
    def from_config(cls, options: Mapping[str, Any]) -> SerialIdCardReader:
        reject_unknown_options(options, SERIAL_OPTIONS, "id_card serial")
        return cls(SerialConfig.from_options(options))

    # --- lifecycle ---

    def open(self) -> None:
        """Open the port and check the SAM once; HardwareError(id_card.sam_error) if it fails."""
        with self._lock:
            self._check_not_closed()
            if self._port is not None:
                return
            try:
                self._port = serial.Serial(
                    self.config.port,
                    self.config.baudrate,
                    timeout=_READ_SLICE_S,
                    write_timeout=self.config.timeout_s,
                )
            except (serial.SerialException, OSError, ValueError) as exc:
                raise DeviceOffline(
                    f"cannot open {self.config.port}: {exc}", code="id_card.port_unavailable"
                ) from exc
            try:
                self._check_sam()
            except DeviceError:
                self._drop_port()
                raise
            log.info("id_card: %s open at %d baud, SAM ok", self.config.port, self.config.baudrate)

    def close(self) -> None:
        self._closed.set()  # first, so a read in another thread stops at its next slice
        with self._lock:
            self._drop_port()

    def __enter__(self) -> SerialIdCardReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading ---

    def read_card(self, timeout: float) -> IdCard | None:
        """The next card put on the reader, or None when none came within `timeout` seconds.

        A card already read is not reported again until it has left the field. Raises
        InputRejected (id_card.expired, id_card.bad_id_number, ...), UserActionError
        (id_card.removed_mid_read), DeviceTimeout, ProtocolError, HardwareError, DeviceOffline.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        self.open()
        self._reading = True
        try:
            while self._wait_poll_slot(deadline):
                if self._find() and not self._card_held:
                    card = self._read_present_card()
                    if card is not None:
                        return card
            return None
        finally:
            self._reading = False

    def wait_card_removed(self, timeout: float) -> bool:
        """True once no card is in the field (a find fails), False if one is still there at timeout."""
        deadline = time.monotonic() + max(0.0, timeout)
        self.open()
        self._reading = True
        try:
            while self._wait_poll_slot(deadline):
                if not self._find():
                    return True
            return False
        finally:
            self._reading = False

    def _read_present_card(self) -> IdCard | None:
        with self._lock:
            reply = self._transact(Command.SELECT_CARD)
            if reply.sw3 == SW3_SELECT_FAILED:
                log.info("id_card: select failed (card moved away); polling on")
                return None
            if reply.sw3 != SW3_OK:
                raise error_for(Command.SELECT_CARD, reply.sw3)
            reply = self._transact(Command.READ_BASE_INFO)
        if reply.sw3 != SW3_OK:
            if reply.sw3 == SW3_READ_FAILED:
                log.warning("id_card: read failed, card removed mid-read")
            raise error_for(Command.READ_BASE_INFO, reply.sw3)
        self._card_held = True  # a rejected card is reported once too, not at every poll
        card = decode_base_info(reply.data)
        log.info("id_card: read a %s card (photo %d bytes)", card.card_type, len(card.photo))
        try:
            check_card(card, self._today())
        except DeviceError as exc:
            log.info("id_card: card refused: %s", exc.code)
            raise
        return card

    def _wait_poll_slot(self, deadline: float) -> bool:
        """Sleep until the next find may be sent; False if that is past `deadline`."""
        slot = self._last_find + self.config.poll_interval_s
        if slot > deadline:
            return False
        delay = slot - time.monotonic()
        if delay > 0 and self._closed.wait(delay):
            self._check_not_closed()
        return True

    def _find(self) -> bool:
        with self._lock:
            reply = self._transact(Command.FIND_CARD)
        if reply.sw3 == SW3_CARD_FOUND:
            return True
        if reply.sw3 == SW3_FIND_FAILED:
            if self._card_held:
                log.info("id_card: card left the field")
                self._card_held = False
            return False
        raise error_for(Command.FIND_CARD, reply.sw3)

    def _check_sam(self) -> None:
        reply = self._transact(Command.SAM_STATUS)
        if reply.sw3 != SW3_OK:
            log.error("id_card: SAM status %s", describe_sw3(reply.sw3))
            raise error_for(Command.SAM_STATUS, reply.sw3)

    # --- the wire ---

    def _transact(self, command: Command) -> Reply:
        """Send `command` and return its reply; one resend after a garbled exchange."""
        for attempt in (1, 2):
            if command is Command.FIND_CARD:
                if attempt == 2:
                    self._wait_poll_slot(math.inf)  # a resent find is still a poll
                self._last_find = time.monotonic()
            try:
                reply = self._exchange(command)
            except ProtocolError as exc:
                if attempt == 2:
                    raise
                log.warning(
                    "id_card: %s: %s; resyncing and resending once", command.label, exc.code
                )
                continue
            if reply.sw3 in (SW3_BAD_CHECKSUM, SW3_BAD_LENGTH) and attempt == 1:
                log.warning("id_card: %s: reader got a garbled frame; resending", command.label)
                continue
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, command: Command) -> Reply:
        port = self._port
        if port is None:
            raise DeviceOffline("reader is not open", code="id_card.not_open")
        self._decoder.reset()
        try:
            port.reset_input_buffer()  # leftovers of an earlier, garbled reply
            port.write(command.frame)
            return self._await_reply(port, command)
        except (serial.SerialException, OSError) as exc:
            self._drop_port()
            raise DeviceOffline(
                f"{command.label}: serial port failed: {exc}", code="id_card.port_error"
            ) from exc

    def _await_reply(self, port: serial.Serial, command: Command) -> Reply:
        deadline = time.monotonic() + self.config.timeout_s
        while True:
            payload = self._decoder.next_payload()  # FrameError on a bad frame
            if payload is not None:
                if self._decoder.skipped:
                    log.warning("id_card: skipped %d bytes before a frame", self._decoder.skipped)
                    self._decoder.skipped = 0
                return Reply.from_payload(payload)
            self._check_not_closed()
            if time.monotonic() >= deadline:
                if self._decoder.pending:
                    raise ProtocolError(
                        f"{command.label}: reply truncated, frame incomplete after "
                        f"{self.config.timeout_s} s",
                        code="id_card.truncated",
                    )
                raise DeviceTimeout(
                    f"{command.label}: no reply within {self.config.timeout_s} s",
                    code="id_card.no_reply",
                )
            chunk = port.read(max(1, port.in_waiting))
            if chunk:
                self._decoder.feed(chunk)

    def _drop_port(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):  # a vanished device
                port.close()

    def _check_not_closed(self) -> None:
        if self._closed.is_set():
            raise DeviceOffline("reader was closed", code="id_card.closed")

    # --- health ---

    def status(self) -> DeviceStatus:
        if self._closed.is_set():
            return DeviceStatus(DeviceState.OFFLINE, "reader closed", error_code="id_card.closed")
        if self._reading or not self._lock.acquire(blocking=False):
            return DeviceStatus(DeviceState.BUSY, "waiting for or reading a card")
        try:
            if self._port is None:
                self.open()
            else:
                self._check_sam()
        except DeviceError as exc:
            return DeviceStatus(exc.state, exc.detail, error_code=exc.code)
        finally:
            self._lock.release()
        return DeviceStatus(
            DeviceState.ONLINE, f"{self.config.port} at {self.config.baudrate} baud, SAM ok"
        )

    def self_test(self) -> SelfTestResult:
        """Open, check the SAM and look for a card once; never reads a card's data."""
        started = time.monotonic()
        checks: list[str] = []
        ok = False
        try:
            self.open()
            checks.append(f"port {self.config.port} open at {self.config.baudrate} baud")
            with self._lock:
                self._check_sam()
            checks.append("SAM status: ok (SW3=0x90)")
            self._wait_poll_slot(math.inf)
            found = self._find()
            checks.append("find card: " + ("a card is in the field" if found else "no card"))
            ok = True
        except DeviceError as exc:
            checks.append(f"failed: {exc}")
        status = self.status()
        return SelfTestResult(
            device=self.device,
            backend=self.backend,
            ok=ok and status.state is DeviceState.ONLINE,
            status=status,
            checks=tuple(checks),
            duration_ms=(time.monotonic() - started) * 1000,
        )
