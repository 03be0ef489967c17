"""Decodes an ESC/POS byte stream into what a printer would put on paper (see `decoded.py`).

`decode(data)` takes a whole stream; `StreamDecoder.feed()` takes it in pieces (the simulator feeds each
TCP read) and reports status queries and cuts as they complete. Text in two-byte mode (FS &) is GB18030,
otherwise the selected code page. Commands the decoder does not model are listed as `Unknown` and
skipped. The only exception it raises is `ProtocolError` with code `receipt.bad_stream`: a stream ending
inside a command or character, or a command declaring an implausibly large payload.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field, replace

from .commands import QR_EC_BY_BYTE
from .decoded import (
    Align,
    DecodedReceipt,
    DecodedStream,
    Element,
    Feed,
    Line,
    QrCode,
    Raster,
    Span,
    Unknown,
)
from .framing import (
    Incomplete,
    bad_stream,
    little_endian,
    need,
    payload_end,
    skip_dle,
    skip_esc,
    skip_fs,
    skip_gs,
)

MAX_UNKNOWN = 1000  # keep memory bounded on garbage input
CODE_PAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252", 17: "cp866"}
CODE_PAGES |= {18: "cp852", 19: "cp858"}
_ALIGNS: dict[int, Align] = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center"}
_ALIGNS[50] = "right"


@dataclass(frozen=True, slots=True)
class StatusRequest:
    """A real-time status query DLE EOT n seen in the stream; a printer answers it at once."""

    n: int


@dataclass(frozen=True, slots=True)
class CutDone:
    receipt: DecodedReceipt


Event = StatusRequest | CutDone


@dataclass(slots=True)
class _Style:
    align: Align = "left"
    bold: bool = False
    underline: bool = False
    width: int = 1
    height: int = 1


@dataclass(slots=True)
class _Page:
    """The receipt being printed: finished elements, the line being filled, unknowns."""

    elements: list[Element] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    line_align: Align = "left"
    unknown: list[Unknown] = field(default_factory=list)


class StreamDecoder:
    """Incremental decoder; `chinese_default` is the two-byte mode after power-on and ESC @."""

    def __init__(self, *, chinese_default: bool = False, keep: bool = True) -> None:
        """`keep=False`: the receipts and status queries go out as events only and are not kept
        for `result()` (a printer simulator that runs for hours keeps its own)."""
        self._keep = keep
        self._chinese_default = chinese_default
        self._buf = bytearray()
        self._base = 0  # stream offset of _buf[0]
        self._events: list[Event] = []
        self._receipts: list[DecodedReceipt] = []
        self._queries: list[int] = []
        self._unknown: list[Unknown] = []
        self._page = _Page()
        self._reset_modes()

    def _reset_modes(self) -> None:
        self._style = _Style()
        self._chinese = self._chinese_default
        self._code_page = 0
        self._qr_data: bytes | None = None
        self._qr_module, self._qr_ec, self._qr_model = 3, "L", 2

    # ---- public API -------------------------------------------------------------------------
    def feed(self, data: bytes) -> list[Event]:
        """Decode what `data` completes; returns the status queries and cuts found, in order."""
        self._buf += data
        pos = 0
        try:
            while pos < len(self._buf):
                pos = self._step(pos)
        except Incomplete:
            pass
        finally:
            del self._buf[:pos]
            self._base += pos
        events, self._events = self._events, []
        return events

    def skip_bad_command(self) -> None:
        """After `feed` raised: drop the offending command's first two bytes, keep what follows.

        Call `feed(b"")` next to decode the rest; that may raise again for the next bad command.
        """
        dropped = min(2, len(self._buf))
        del self._buf[:dropped]
        self._base += dropped

    @property
    def pending(self) -> int:
        """Bytes held back because they end inside a command or character."""
        return len(self._buf)

    def finish(self) -> DecodedStream:
        """The whole stream so far; raises if it ends inside a command or character."""
        if self._buf:
            raise bad_stream(f"stream ends inside a command or character at offset {self._base}")
        self._flush_line()
        page = self._page
        tail = None
        if page.elements or page.unknown:
            tail = DecodedReceipt(tuple(page.elements), None, tuple(page.unknown))
        return DecodedStream(
            tuple(self._receipts), tail, tuple(self._queries), tuple(self._unknown)
        )

    # ---- page building ----------------------------------------------------------------------
    def _add_text(self, text: str) -> None:
        page, style = self._page, self._style
        if not page.spans:
            page.line_align = style.align  # ESC a counts only at the start of a line
        last = page.spans[-1] if page.spans else None
        if last is not None and (last.bold, last.underline, last.width, last.height) == (
            style.bold,
            style.underline,
            style.width,
            style.height,
        ):
            page.spans[-1] = replace(last, text=last.text + text)
        else:
            page.spans.append(Span(text, style.bold, style.underline, style.width, style.height))

    def _flush_line(self, *, blank: bool = False) -> bool:
        """End the line being filled; with `blank`, an empty buffer still prints an empty line."""
        page = self._page
        if not page.spans and not blank:
            return False
        align = page.line_align if page.spans else self._style.align
        page.elements.append(Line(tuple(page.spans), align))
        page.spans = []
        return True

    def _note_unknown(self, pos: int, length: int, note: str) -> None:
        item = Unknown(self._base + pos, bytes(self._buf[pos : pos + min(length, 16)]), note)
        if len(self._unknown) < MAX_UNKNOWN:
            self._unknown.append(item)
            self._page.unknown.append(item)

    def _cut(self, mode: str) -> None:
        self._flush_line()
        page = self._page
        receipt = DecodedReceipt(
            tuple(page.elements), "partial" if mode == "partial" else "full", tuple(page.unknown)
        )
        if self._keep:
            self._receipts.append(receipt)
        self._events.append(CutDone(receipt))
        self._page = _Page()

    # ---- byte access --------------------------------------------------------------------------
    def _need(self, pos: int, count: int) -> None:
        need(self._buf, pos, count)

    def _le(self, pos: int, count: int) -> int:
        return little_endian(self._buf, pos, count)

    def _skipped(self, pos: int, skip: tuple[int, str | None]) -> int:
        end, note = skip
        if note is not None:
            self._note_unknown(pos, end - pos, note)
        return end

    # ---- the state machine --------------------------------------------------------------------
    def _step(self, pos: int) -> int:
        b = self._buf[pos]
        if b == 0x0A:
            self._flush_line(blank=True)
            return pos + 1
        if b in (0x0D, 0x00):  # CR is ignored by line printers; NUL is padding
            return pos + 1
        if b == 0x09:
            self._add_text(" ")
            return pos + 1
        if b == 0x1B:
            return self._esc(pos)
        if b == 0x1D:
            return self._gs(pos)
        if b == 0x1C:
            return self._fs(pos)
        if b == 0x10:
            return self._dle(pos)
        if b < 0x20 or b == 0x7F:
            self._note_unknown(pos, 1, "control byte")
            return pos + 1
        if b < 0x80:
            end = pos + 1
            while end < len(self._buf) and 0x20 <= self._buf[end] < 0x7F:
                end += 1
            self._add_text(self._buf[pos:end].decode("ascii"))
            return end
        if not self._chinese:
            codec = CODE_PAGES.get(self._code_page, "cp437")
            self._add_text(codecs.decode(bytes([b]), codec, errors="replace"))
            return pos + 1
        return self._gb18030(pos)

    def _gb18030(self, pos: int) -> int:
        lead = self._buf[pos]
        length = 1
        if 0x81 <= lead <= 0xFE:
            self._need(pos, 2)
            second = self._buf[pos + 1]
            if 0x40 <= second <= 0xFE and second != 0x7F:
                length = 2
            elif 0x30 <= second <= 0x39:
                self._need(pos, 4)
                if 0x81 <= self._buf[pos + 2] <= 0xFE and 0x30 <= self._buf[pos + 3] <= 0x39:
                    length = 4
        try:
            text = self._buf[pos : pos + length].decode("gb18030") if length > 1 else "\ufffd"
        except UnicodeDecodeError:
            text = "\ufffd"
        self._add_text(text)
        return pos + length

    def _esc(self, pos: int) -> int:
        self._need(pos, 2)
        c = bytes(self._buf[pos + 1 : pos + 2])
        if c == b"@":
            self._page.spans = []  # ESC @ clears the print buffer
            self._reset_modes()
            return pos + 2
        if c in (b"a", b"E", b"-", b"!", b"t", b"d", b"J"):
            self._need(pos, 3)
            n = self._buf[pos + 2]
            self._esc_with_parameter(c, n)
            return pos + 3
        if c in (b"i", b"m"):  # old partial-cut commands
            self._cut("partial")
            return pos + 2
        skip = skip_esc(self._buf, pos, c)
        if skip is not None:
            return self._skipped(pos, skip)
        self._note_unknown(pos, 2, "ESC command")
        return pos + 2

    def _esc_with_parameter(self, c: bytes, n: int) -> None:
        style = self._style
        if c == b"a":
            style.align = _ALIGNS.get(n, style.align)
        elif c == b"E":
            style.bold = bool(n & 1)
        elif c == b"-":
            style.underline = bool(n & 3)
        elif c == b"!":  # print mode: bit 3 bold, bit 4 double height, bit 5 double width
            style.bold, style.underline = bool(n & 0x08), bool(n & 0x80)
            style.height, style.width = (2 if n & 0x10 else 1), (2 if n & 0x20 else 1)
        elif c == b"t":
            self._code_page = n
        elif c == b"d":  # print and feed n lines: a pending line uses up the first
            remaining = n - 1 if self._flush_line() else n
            if remaining > 0:
                self._page.elements.append(Feed(lines=remaining))
        elif c == b"J":
            self._flush_line()
            if n:
                self._page.elements.append(Feed(dots=n))

    def _gs(self, pos: int) -> int:
        self._need(pos, 2)
        c = bytes(self._buf[pos + 1 : pos + 2])
        if c == b"!":
            self._need(pos, 3)
            n = self._buf[pos + 2]
            if n & 0x88 == 0:  # 1-8 times each way; other values are ignored by printers
                self._style.width, self._style.height = (n >> 4) + 1, (n & 0x07) + 1
            return pos + 3
        if c == b"V":  # cut: function A has no n, functions B, C and D have one
            self._need(pos, 3)
            m = self._buf[pos + 2]
            if m in (0, 1, 48, 49):
                self._cut("partial" if m in (1, 49) else "full")
                return pos + 3
            if m in (65, 66, 97, 98, 103, 104):
                self._need(pos, 4)
                self._cut("partial" if m % 2 == 0 else "full")
                return pos + 4
            self._note_unknown(pos, 3, "GS V with an invalid mode")
            return pos + 3
        if c == b"(":  # GS ( X pL pH p bytes
            self._need(pos, 5)
            start = pos + 5
            end = payload_end(self._buf, start, self._le(pos + 3, 2))
            if self._buf[pos + 2] == ord("k"):
                self._two_d_code(pos, bytes(self._buf[start:end]))
            else:
                self._note_unknown(pos, 3, "GS ( function")
            return end
        if c == b"v":
            return self._raster(pos)
        skip = skip_gs(self._buf, pos, c)
        if skip is not None:
            return self._skipped(pos, skip)
        self._note_unknown(pos, 2, "GS command")
        return pos + 2

    def _two_d_code(self, pos: int, params: bytes) -> None:
        if len(params) < 2 or params[0] != ord("1"):
            self._note_unknown(pos, 8, "2D code other than QR")
            return
        fn, args = params[1], params[2:]
        if fn == 65 and args and args[0] in (49, 50, 51):
            self._qr_model = args[0] - 48
        elif fn == 67 and len(args) == 1 and 1 <= args[0] <= 16:
            self._qr_module = args[0]
        elif fn == 69 and len(args) == 1 and args[0] in QR_EC_BY_BYTE:
            self._qr_ec = QR_EC_BY_BYTE[args[0]]
        elif fn == 80 and args[:1] == b"0":
            self._qr_data = args[1:]
        elif fn == 81 and self._qr_data:
            self._flush_line()
            align = self._style.align
            qr = QrCode(self._qr_data, align, self._qr_module, self._qr_ec, self._qr_model)
            self._page.elements.append(qr)
        else:
            self._note_unknown(pos, 8, f"QR function {fn} not modelled or invalid here")

    def _raster(self, pos: int) -> int:
        self._need(pos, 8)
        if self._buf[pos + 2] != ord("0"):
            self._note_unknown(pos, 3, "GS v other than raster image")
            return pos + 3
        width_bytes, height = self._le(pos + 4, 2), self._le(pos + 6, 2)
        end = payload_end(self._buf, pos + 8, width_bytes * height)
        self._flush_line()
        if width_bytes and height:
            bits = bytes(self._buf[pos + 8 : end])
            self._page.elements.append(Raster(width_bytes, height, bits, self._style.align))
        return end

    def _fs(self, pos: int) -> int:
        self._need(pos, 2)
        c = bytes(self._buf[pos + 1 : pos + 2])
        if c in (b"&", b"."):
            self._chinese = c == b"&"
            return pos + 2
        skip = skip_fs(self._buf, pos, c)
        if skip is not None:
            return self._skipped(pos, skip)
        self._note_unknown(pos, 2, "FS command")
        return pos + 2

    def _dle(self, pos: int) -> int:
        self._need(pos, 3)
        n = self._buf[pos + 2]
        if self._buf[pos + 1] == 0x04 and 1 <= n <= 4:  # DLE EOT n: the printer answers at once
            if self._keep:
                self._queries.append(n)
            self._events.append(StatusRequest(n))
            return pos + 3
        return self._skipped(pos, skip_dle(self._buf, pos))


def decode(data: bytes, *, chinese_default: bool = False) -> DecodedStream:
    """Decode a complete stream; raises ProtocolError (receipt.bad_stream) if it is truncated."""
    decoder = StreamDecoder(chinese_default=chinese_default)
    decoder.feed(data)
    return decoder.finish()
