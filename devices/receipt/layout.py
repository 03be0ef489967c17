"""Turns a `Receipt` into the exact ESC/POS byte stream sent to the printer.

Stream: ESC @, a double-size bold centred title, a rule, 'label：value' fields wrapped to the paper,
a rule, the centred QR (native GS ( k, or a raster image for printers without it) and its caption,
the notes, FS . to leave two-byte mode, a feed past the cutter and the cut. FS & is sent just before
the first line with Chinese in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import InputRejected
from . import commands as cmd
from .encoding import encode, full_width_symbols, sanitize, wrap, wrap_field
from .model import Receipt

PaperWidth = Literal[58, 80]
PAPER_WIDTHS: tuple[PaperWidth, ...] = (58, 80)
COLUMNS = {58: 32, 80: 48}  # Font A (12x24) half-width columns on 48 mm / 72 mm of printable width
DOTS = {58: 384, 80: 576}  # printable dots across at 203 dpi
QR_MODULE = {58: 5, 80: 6}  # dots per QR module: ~17-25 mm codes that phones read off thermal paper

QrMode = Literal["native", "raster"]


@dataclass(frozen=True, slots=True)
class LayoutOptions:
    """How this printer wants the receipt: its paper, and what the model can do (the backends
    derive it from the config and the python-escpos profile)."""

    paper_mm: PaperWidth = 80
    cut: cmd.CutMode = "full"
    qr_mode: QrMode = "native"
    qr_ec: cmd.QrEcLevel = "M"  # survives a smudge on thermal paper
    four_byte_ok: bool = True  # False for GBK-only fonts: four-byte GB18030 characters print as '?'
    feed_before_cut: int = 4  # lines between the last text and the cutter blade

    def __post_init__(self) -> None:
        if self.paper_mm not in PAPER_WIDTHS:
            raise InputRejected(
                f"paper_mm must be 58 or 80, got {self.paper_mm!r}", code="receipt.bad_paper_width"
            )


class _Stream:
    """Collects bytes and tracks whether the printer is in two-byte (FS &) mode."""

    def __init__(self, four_byte_ok: bool) -> None:
        self.data = bytearray()
        self.chinese = False
        self.four_byte_ok = four_byte_ok

    def raw(self, data: bytes) -> None:
        self.data += data

    def line(self, text: str) -> None:
        encoded = encode(text, four_byte_ok=self.four_byte_ok)
        if not self.chinese and any(b >= 0x80 for b in encoded):
            self.data += cmd.CHINESE_ON
            self.chinese = True
        self.data += encoded + cmd.LF


def build_receipt(receipt: Receipt, options: LayoutOptions | None = None) -> bytes:
    opts = options or LayoutOptions()
    columns = COLUMNS[opts.paper_mm]
    out = _Stream(opts.four_byte_ok)

    def clean(text: str) -> str:
        return sanitize(text, four_byte_ok=opts.four_byte_ok)  # before wrapping: '?' is 1 column

    out.raw(cmd.INIT)
    out.raw(cmd.align("center") + cmd.size(2, 2) + cmd.bold(True))
    for line in wrap(full_width_symbols(clean(receipt.title)), columns // 2):
        out.line(line)
    out.raw(cmd.size(1, 1) + cmd.bold(False) + cmd.align("left"))
    out.line("-" * columns)
    for label, value in receipt.fields:
        for line in wrap_field(full_width_symbols(clean(label)), clean(value), columns):
            out.line(line)
    out.line("-" * columns)
    if receipt.qr_payload is not None:
        out.raw(cmd.align("center"))
        data = receipt.qr_payload.encode("utf-8")
        if opts.qr_mode == "native":
            out.raw(cmd.qr_native(data, module=QR_MODULE[opts.paper_mm], ec=opts.qr_ec))
        else:
            out.raw(qr_raster(data, paper_mm=opts.paper_mm, ec=opts.qr_ec))
        if receipt.qr_caption:
            for line in wrap(full_width_symbols(clean(receipt.qr_caption)), columns):
                out.line(line)
        out.raw(cmd.align("left"))
    for note in receipt.notes:
        for line in wrap(full_width_symbols(clean(note)), columns):
            out.line(line)
    if out.chinese:
        out.raw(cmd.CHINESE_OFF)  # leave the printer as ESC @ would, for whatever prints next
    out.raw(cmd.feed_lines(opts.feed_before_cut) + cmd.cut(opts.cut))
    return bytes(out.data)


def qr_raster(data: bytes, *, paper_mm: int, ec: cmd.QrEcLevel) -> bytes:
    """A QR drawn by the `qrcode` package as a GS v 0 image centred on the paper."""
    import qrcode  # only printers without native QR need it
    from qrcode import constants

    levels = {
        "L": constants.ERROR_CORRECT_L,
        "M": constants.ERROR_CORRECT_M,
        "Q": constants.ERROR_CORRECT_Q,
        "H": constants.ERROR_CORRECT_H,
    }
    code = qrcode.QRCode(error_correction=levels[ec], box_size=1, border=4)
    code.add_data(data)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    dots = DOTS[paper_mm]
    module = max(1, min(QR_MODULE[paper_mm], dots // len(matrix)))
    left = (dots - len(matrix) * module) // 2
    width_bytes = dots // 8
    rows = bytearray()
    for cells in matrix:
        row = bytearray(width_bytes)
        for x, dark in enumerate(cells):
            if dark:
                for dot in range(left + x * module, left + (x + 1) * module):
                    row[dot // 8] |= 0x80 >> (dot % 8)
        rows += bytes(row) * module
    return cmd.raster(width_bytes, len(matrix) * module, bytes(rows))
