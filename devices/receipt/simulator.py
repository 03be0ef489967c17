"""A receipt printer on a TCP port (like a network printer's raw port 9100) for tests and demos.

It receives real ESC/POS bytes (from python-escpos through `ReceiptPrinter`), decodes them with
`decoder.StreamDecoder`, keeps one decoded receipt per cut, and answers DLE EOT n with the status byte
the ESC/POS reference defines, so python-escpos `paper_status()`/`is_online()` work against it.

Fault injection (`SimulatorSettings`, read live, so tests may change them while it runs):
paper full/low/out, cover open, cutter error, no status replies (a model without DLE EOT), slow reads
and slow status replies, paper running out after N receipts, and a power cycle after N bytes of one
connection. `power_cycle()` resets every connection now; `set_refusing(True)` is a printer switched off.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import ProtocolError
from . import commands as cmd
from .decoded import DecodedReceipt
from .decoder import CutDone, Event, StatusRequest, StreamDecoder

log = logging.getLogger(__name__)

SimPaper = Literal["full", "low", "out"]


@dataclass(slots=True)
class SimulatorSettings:
    paper: SimPaper = "full"
    cover_open: bool = False
    cutter_error: bool = False
    answers_status: bool = True  # False: the model ignores DLE EOT, queries time out
    status_delay_s: float = 0.0  # wait before each status reply
    read_delay_s: float = 0.0  # wait before each socket read: a slow printer
    # a one-shot power cycle once this many more bytes arrived (counts down, then resets to None)
    drop_after_bytes: int | None = None
    paper_runs_out_after: int | None = None  # the sensor reports "out" after this many receipts
    chinese_default: bool = False  # two-byte mode at power-on (many Chinese models: True)
    paper_mm: Literal[58, 80] = 80  # only for the PNG preview


class ReceiptSimulator:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        settings: SimulatorSettings | None = None,
    ) -> None:
        self.host = host
        self.settings = settings or SimulatorSettings()
        self._requested_port = port
        self._port = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._receipts: list[DecodedReceipt] = []
        self._unprinted: list[DecodedReceipt] = []
        self._raw = bytearray()
        self._errors: list[str] = []
        self._accepted = 0
        self._status_replies = 0

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> ReceiptSimulator:
        self._listen(self._requested_port)
        thread = threading.Thread(target=self._accept_loop, name="receipt-sim-accept", daemon=True)
        self._threads.append(thread)
        thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.set_refusing(True)
        for thread in self._threads:
            thread.join(timeout=2.0)

    def __enter__(self) -> ReceiptSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    def _listen(self, port: int) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, port))
        listener.listen(4)
        listener.settimeout(0.05)  # lets the accept loop notice stop()
        self._port = listener.getsockname()[1]
        self._listener = listener

    # ---- what tests look at -----------------------------------------------------------------
    @property
    def receipts(self) -> list[DecodedReceipt]:
        """Receipts cut while the printer could print, oldest first."""
        with self._lock:
            return list(self._receipts)

    @property
    def unprinted(self) -> list[DecodedReceipt]:
        """Receipts that arrived while paper was out, the cover open or the cutter jammed."""
        with self._lock:
            return list(self._unprinted)

    @property
    def raw(self) -> bytes:
        """Every byte received, from all connections, status queries included."""
        with self._lock:
            return bytes(self._raw)

    @property
    def errors(self) -> list[str]:
        """Bad-stream errors; the offending command is skipped and decoding goes on after it."""
        with self._lock:
            return list(self._errors)

    @property
    def connections_accepted(self) -> int:
        with self._lock:
            return self._accepted

    @property
    def status_replies(self) -> int:
        with self._lock:
            return self._status_replies

    def forget(self) -> None:
        """Drop the receipts and bytes kept so far: a rig that runs for hours in the kiosk's own
        process (the memory benchmark) must not count a real printer's paper as kiosk memory."""
        with self._lock:
            self._receipts.clear()
            self._unprinted.clear()
            self._raw = bytearray()

    def wait_for_receipts(self, count: int, timeout_s: float = 5.0) -> list[DecodedReceipt]:
        """The receipts once at least `count` were printed, or what there is after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while len(self._receipts) < count and time.monotonic() < deadline:
                self._changed.wait(timeout=max(0.0, deadline - time.monotonic()))
            return list(self._receipts)

    def render_png(self, receipt: DecodedReceipt, path: str | Path) -> Path:
        from .preview import render_png

        return render_png(receipt, path, paper_mm=self.settings.paper_mm)

    def attach_serial(self, master_fd: int) -> None:
        """Also serve the master side of a pseudo-terminal, as a printer on a serial port would."""
        thread = threading.Thread(target=self._serve_fd, args=(master_fd,), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _serve_fd(self, fd: int) -> None:
        decoder = StreamDecoder(chinese_default=self.settings.chinese_default, keep=False)
        while not self._stopping.is_set():
            if not select.select([fd], [], [], 0.05)[0]:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the slave side was closed
                time.sleep(0.05)
                continue
            self._handle(lambda data: os.write(fd, data), decoder, chunk)

    # ---- faults -------------------------------------------------------------------------------
    def power_cycle(self) -> None:
        """The printer restarts: every open connection is reset (RST) and unfinished data is lost.

        Returns once the resets were sent, so a client's next packet meets a forgotten connection.
        """
        with self._lock:
            victims = list(self._connections)
        for conn in victims:
            with contextlib.suppress(OSError):
                _abortive(conn)
                conn.shutdown(socket.SHUT_RD)  # wakes its thread, which closes it
        deadline = time.monotonic() + 2.0
        with self._changed:
            while victims and time.monotonic() < deadline:
                victims = [conn for conn in victims if conn in self._connections]
                if victims:
                    self._changed.wait(timeout=0.05)

    def set_refusing(self, refusing: bool) -> None:
        """True: switched off (connections refused, open ones reset); False: back on, same port."""
        with self._lock:
            listener, self._listener = self._listener, None
        if refusing:
            if listener is not None:
                with contextlib.suppress(OSError):  # wakes a blocked accept(), stops listening
                    listener.shutdown(socket.SHUT_RDWR)
                listener.close()
            self.power_cycle()
        elif listener is None and not self._stopping.is_set():
            self._listen(self._port)
        else:
            self._listener = listener

    # ---- the printer --------------------------------------------------------------------------
    def _paper(self) -> SimPaper:
        limit = self.settings.paper_runs_out_after
        if limit is not None and len(self._receipts) >= limit:
            return "out"
        return self.settings.paper

    def _can_print(self) -> bool:
        s = self.settings
        return self._paper() != "out" and not s.cover_open and not s.cutter_error

    def status_byte(self, n: int) -> int:
        """The reply to DLE EOT n (1 printer, 2 offline cause, 3 error, 4 paper roll sensor)."""
        s, paper = self.settings, self._paper()
        byte = cmd.STATUS_FIXED
        if n == 1 and not self._can_print():
            byte |= cmd.PRINTER_OFFLINE
        elif n == 2:
            byte |= cmd.CAUSE_COVER_OPEN if s.cover_open else 0
            byte |= cmd.CAUSE_PAPER_END_STOP if paper == "out" else 0
            byte |= cmd.CAUSE_ERROR if s.cutter_error else 0
        elif n == 3 and s.cutter_error:
            byte |= cmd.ERROR_CUTTER
        elif n == 4:
            byte |= cmd.PAPER_NEAR_END if paper in ("low", "out") else 0
            byte |= cmd.PAPER_END if paper == "out" else 0
        return byte

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            listener = self._listener
            if listener is None:
                time.sleep(0.02)
                continue
            try:
                conn, _ = listener.accept()
            except OSError:  # timeout, or the listener was closed by set_refusing()
                continue
            with self._lock:
                self._accepted += 1
                self._connections.add(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        decoder = StreamDecoder(chinese_default=self.settings.chinese_default, keep=False)
        received = 0
        try:
            conn.settimeout(0.05)
            while not self._stopping.is_set():
                if self.settings.read_delay_s:
                    time.sleep(self.settings.read_delay_s)
                try:
                    chunk = conn.recv(4096)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                chunk, drop = self._count_down(chunk)
                received += len(chunk)
                self._handle(conn.sendall, decoder, chunk)
                if drop:
                    log.info("simulated power cycle after %d bytes", received)
                    _abortive(conn)
                    break
        except OSError:
            pass  # reset by the client
        finally:
            conn.close()
            with self._changed:
                self._connections.discard(conn)
                self._changed.notify_all()
            if decoder.pending:
                log.info("connection ended inside a command: %d bytes lost", decoder.pending)

    def _count_down(self, chunk: bytes) -> tuple[bytes, bool]:
        """Apply `drop_after_bytes`: the bytes the printer gets before it loses power, and whether."""
        with self._lock:
            budget = self.settings.drop_after_bytes
            if budget is None:
                return chunk, False
            if len(chunk) < budget:
                self.settings.drop_after_bytes = budget - len(chunk)
                return chunk, False
            self.settings.drop_after_bytes = None  # a power cycle happens once
            return chunk[:budget], True

    def _handle(
        self, reply: Callable[[bytes], object], decoder: StreamDecoder, chunk: bytes
    ) -> None:
        with self._lock:
            self._raw += chunk
        events: list[Event] = []
        while True:
            try:
                events += decoder.feed(chunk)
                break
            except ProtocolError as exc:
                with self._lock:
                    self._errors.append(str(exc))
                decoder.skip_bad_command()  # resynchronise on the bytes that follow
                chunk = b""
        for event in events:
            if isinstance(event, CutDone):
                with self._changed:
                    printed = self._can_print()
                    (self._receipts if printed else self._unprinted).append(event.receipt)
                    self._changed.notify_all()
            elif isinstance(event, StatusRequest) and self.settings.answers_status:
                if self.settings.status_delay_s:
                    time.sleep(self.settings.status_delay_s)
                reply(bytes([self.status_byte(event.n)]))
                with self._lock:
                    self._status_replies += 1


def _abortive(conn: socket.socket) -> None:
    """Make close() send RST, as a connection looks to the client after the printer lost power."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def main(argv: list[str] | None = None) -> int:
    """`python -m devices.receipt.simulator`: a printer to point a kiosk at, PNGs of what it prints."""
    parser = argparse.ArgumentParser(description="ESC/POS receipt printer simulator (TCP)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--paper-mm", type=int, choices=(58, 80), default=80)
    parser.add_argument("--paper", choices=("full", "low", "out"), default="full")
    parser.add_argument("--png-dir", type=Path, help="write receipt-NNNN.png for each cut")
    args = parser.parse_args(argv)
    settings = SimulatorSettings(paper=args.paper, paper_mm=args.paper_mm)
    sim = ReceiptSimulator(args.host, args.port, settings).start()
    print(f"receipt simulator on {args.host}:{sim.port} ({args.paper_mm} mm); Ctrl-C stops it")
    if args.png_dir:
        args.png_dir.mkdir(parents=True, exist_ok=True)
    seen = 0
    try:
        while True:
            for receipt in sim.wait_for_receipts(seen + 1, timeout_s=1.0)[seen:]:
                seen += 1
                print(f"receipt {seen}: {' | '.join(receipt.texts[:2])}; QR {receipt.qr_payloads}")
                if args.png_dir:
                    print(
                        f"  preview: {sim.render_png(receipt, args.png_dir / f'receipt-{seen:04d}.png')}"
                    )
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
