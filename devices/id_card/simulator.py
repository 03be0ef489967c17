"""A virtual GA/T 467 reader on a pseudo-terminal, for tests and the demo.

The real driver opens `IdCardSimulator.port` like any serial port; both sides use the real frame
codec. Faults are settings, changeable while running (`set_faults`):
- `bad_checksum`, `truncated`, `no_reply`, `remove_mid_read`, `noise` (junk before the reply):
  False, True (every time) or N (the next N times);
- `sam_error`: an SW3 error byte such as 0x60 answered to every command, None = off;
- `delay_s`: seconds to wait before each reply;
- `target`: the command the faults apply to ("read_base_info", "find_card", ...) or "any".
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import select
import threading
import time
import tty
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .card import IdCard
from .cards_file import card_from_dict, load_cards
from .commands import (
    SW3_BAD_CHECKSUM,
    SW3_BAD_COMMAND,
    SW3_CARD_FOUND,
    SW3_FIND_FAILED,
    SW3_OK,
    SW3_READ_FAILED,
    SW3_SELECT_FAILED,
    Command,
)
from .frame import FrameDecoder, FrameError, encode_reply
from .reader import (
    SERIAL_OPTIONS,
    SerialConfig,
    SerialIdCardReader,
    option_number,
    reject_unknown_options,
)
from .text import base_info_reply

log = logging.getLogger("devices.id_card.sim")

RECEIVED_KEPT = 1_000
COUNTED_FAULTS = ("bad_checksum", "truncated", "no_reply", "remove_mid_read", "noise")
NOISE = b"\x00\x13\xaa\xaa\x96\x55\xaa"  # junk with a false start of a preamble in it
TARGETS = ("any", *(c.label for c in Command))
SIM_OPTIONS = ("cards_file", "cards", "insert", "faults", "timeout_s", "poll_interval_s")


@dataclasses.dataclass
class SimFaults:
    bad_checksum: bool | int = False
    truncated: bool | int = False
    no_reply: bool | int = False
    remove_mid_read: bool | int = False
    noise: bool | int = False
    sam_error: int | None = None
    delay_s: float = 0.0
    target: str = "any"

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], where: str = "id_card sim faults"
    ) -> SimFaults:
        faults = cls()
        faults.update(options, where)
        return faults

    def update(self, options: Mapping[str, Any], where: str = "id_card sim faults") -> None:
        """Validate all settings first, then apply them (a bad setting changes nothing)."""
        known = (*COUNTED_FAULTS, "sam_error", "delay_s", "target")
        reject_unknown_options(options, known, where)
        new = dataclasses.replace(self)
        for name in COUNTED_FAULTS:
            if name in options:
                value = options[name]
                if not isinstance(value, int) or value < 0:
                    raise ConfigError(f"{where}: {name} must be false, true or a count >= 0")
                setattr(new, name, value)
        if "sam_error" in options:
            code = options["sam_error"]
            if code is not None and (
                isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 0xFF
                or code in (SW3_OK, SW3_CARD_FOUND)
            ):  # fmt: skip
                raise ConfigError(
                    f"{where}: sam_error must be an SW3 error byte (e.g. 0x60) or null"
                )
            new.sam_error = code
        if "delay_s" in options:
            new.delay_s = option_number(options, "delay_s", 0.0, 0.0, 30.0, where)
        if "target" in options:
            if options["target"] not in TARGETS:
                raise ConfigError(f"{where}: target must be one of {', '.join(TARGETS)}")
            new.target = options["target"]
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(new, field.name))


@dataclasses.dataclass(frozen=True, slots=True)
class ReceivedFrame:
    at: float  # time.monotonic() when the simulator decoded it
    command: str  # a Command label, or "unknown"


class IdCardSimulator:
    """A reader with a card slot: `insert(i)` puts cards[i] in the field, `remove()` takes it away."""

    def __init__(
        self, cards: Sequence[IdCard], faults: SimFaults | Mapping[str, Any] | None = None
    ) -> None:
        self.cards = list(cards)
        self.faults = (
            faults if isinstance(faults, SimFaults) else SimFaults.from_options(faults or {})
        )
        # the last frames, for tests and fault scripts; bounded, as a demo polls for hours
        self.received: deque[ReceivedFrame] = deque(maxlen=RECEIVED_KEPT)
        self._lock = threading.Lock()
        self._inserted: int | None = None
        self._selected = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo or CR/LF translation before the driver configures it
        self.port = os.ttyname(self._slave)

    # --- test controls ---

    def insert(self, index: int) -> None:
        if not 0 <= index < len(self.cards):
            raise IndexError(f"no card {index}; the simulator holds {len(self.cards)}")
        with self._lock:
            self._inserted, self._selected = index, False

    def remove(self) -> None:
        with self._lock:
            self._inserted, self._selected = None, False

    @property
    def card_present(self) -> bool:
        return self._inserted is not None

    def set_faults(self, **settings: Any) -> None:
        with self._lock:
            self.faults.update(settings)

    def times_of(self, label: str) -> list[float]:
        return [frame.at for frame in list(self.received) if frame.command == label]

    # --- lifecycle ---

    def start(self) -> IdCardSimulator:
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="id-card-sim", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):  # already closed by an earlier stop()
                os.close(fd)
        self._master = self._slave = -1

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> IdCardSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the reader side of the protocol ---

    def _serve(self) -> None:
        decoder = FrameDecoder()
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                decoder.feed(os.read(self._master, 4096))
            except OSError:
                continue
            while not self._stop.is_set():
                try:
                    payload = decoder.next_payload()
                except FrameError:
                    self._write(encode_reply(SW3_BAD_CHECKSUM))
                    continue
                if payload is None:
                    break
                self._handle(payload)

    def _take(self, name: str) -> bool:
        value = getattr(self.faults, name)
        if value is True:
            return True
        if value:  # a count
            setattr(self.faults, name, value - 1)
            return True
        return False

    def _handle(self, payload: bytes) -> None:
        command = Command.lookup(payload[0], payload[1]) if len(payload) >= 2 else None
        label = command.label if command else "unknown"
        self.received.append(ReceivedFrame(time.monotonic(), label))
        if command is None:
            self._write(encode_reply(SW3_BAD_COMMAND))
            return
        with self._lock:
            hit = self.faults.target in ("any", label)
            if hit and self._take("no_reply"):
                log.info("sim: %s -> no reply (fault)", label)
                return
            delay = self.faults.delay_s if hit else 0.0
            if hit and self.faults.sam_error is not None:
                frame = encode_reply(self.faults.sam_error)
            else:
                frame = self._answer(command, hit)
            if hit and self._take("bad_checksum"):
                frame = frame[:-1] + bytes([frame[-1] ^ 0x5A])
            if hit and self._take("truncated"):
                frame = frame[: len(frame) // 2]
            if hit and self._take("noise"):
                frame = NOISE + frame
        if delay and self._stop.wait(delay):
            return
        log.debug("sim: %s -> %d bytes", label, len(frame))
        self._write(frame)

    def _answer(self, command: Command, hit: bool) -> bytes:
        present = self._inserted is not None
        if command is Command.FIND_CARD:
            return (
                encode_reply(SW3_CARD_FOUND, bytes(4)) if present else encode_reply(SW3_FIND_FAILED)
            )
        if command is Command.SELECT_CARD:
            self._selected = present
            return encode_reply(SW3_OK, bytes(8)) if present else encode_reply(SW3_SELECT_FAILED)
        if command is Command.READ_BASE_INFO:
            if self._inserted is None or not self._selected:
                return encode_reply(SW3_READ_FAILED)
            if hit and self._take("remove_mid_read"):
                self._inserted, self._selected = None, False
                return encode_reply(SW3_READ_FAILED)
            return base_info_reply(self.cards[self._inserted])
        return encode_reply(SW3_OK)  # SAM status, SAM reset

    def _write(self, frame: bytes) -> None:
        view = memoryview(frame)
        while view and not self._stop.is_set():
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                time.sleep(0.005)
                continue
            except OSError:
                return
            view = view[written:]


class SimulatedIdCardReader(SerialIdCardReader):
    """The real serial driver on a simulator's pty; close() also stops the simulator."""

    def __init__(self, config: SerialConfig, simulator: IdCardSimulator, **kwargs: Any) -> None:
        super().__init__(config, backend="sim", **kwargs)
        self.simulator = simulator

    def close(self) -> None:
        super().close()
        self.simulator.stop()


def simulated_reader(options: Mapping[str, Any]) -> SimulatedIdCardReader:
    """Registry factory for backend "sim": options cards_file and/or cards (inline), insert, faults,
    timeout_s, poll_interval_s. The simulator thread stops when the reader is closed."""
    where = "id_card sim"
    reject_unknown_options(options, SIM_OPTIONS, where)
    reader_options = {k: options[k] for k in SERIAL_OPTIONS if k in options and k != "port"}
    SerialConfig.from_options({**reader_options, "port": "pty"}, where)  # validate before starting
    path = options.get("cards_file")
    if path is not None and not isinstance(path, str | Path):
        raise ConfigError(f"{where}: cards_file must be a path")
    cards = load_cards(path) if path else []
    inline = options.get("cards", [])
    if not isinstance(inline, list) or not all(isinstance(c, Mapping) for c in inline):
        raise ConfigError(f"{where}: cards must be a list of card objects (the cards-file fields)")
    for number, obj in enumerate(inline):
        cards.append(card_from_dict(obj, f"{where} cards[{number}]", seed=len(cards)))
    faults = options.get("faults", {})
    if not isinstance(faults, Mapping):
        raise ConfigError(f"{where}: faults must be a mapping of fault settings")
    insert = options.get("insert")
    if insert is not None and (
        isinstance(insert, bool) or not isinstance(insert, int) or not 0 <= insert < len(cards)
    ):
        raise ConfigError(
            f"{where}: insert must be the index of a loaded card ({len(cards)} loaded)"
        )
    simulator = IdCardSimulator(cards, SimFaults.from_options(faults)).start()
    if insert is not None:
        simulator.insert(insert)
    config = SerialConfig.from_options({**reader_options, "port": simulator.port}, where)
    return SimulatedIdCardReader(config, simulator)
