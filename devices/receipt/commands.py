"""ESC/POS command bytes, named for what they do (Epson ESC/POS reference; GB18030 printers' FS set).

Everything here is a pure function returning bytes, so layouts can be pinned byte for byte in tests.
"""

from __future__ import annotations

from typing import Literal

ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"
DLE = b"\x10"
EOT = b"\x04"
LF = b"\n"

Align = Literal["left", "center", "right"]
CutMode = Literal["full", "partial", "none"]
QrEcLevel = Literal["L", "M", "Q", "H"]

INIT = ESC + b"@"  # ESC @: clear the buffer, reset modes
CHINESE_ON = FS + b"&"  # FS &: two-byte (GB18030) character mode
CHINESE_OFF = FS + b"."  # FS .: back to the single-byte code page

# DLE EOT n: real-time status, answered with one byte even while the printer is offline
STATUS_PRINTER = DLE + EOT + b"\x01"
STATUS_OFFLINE_CAUSE = DLE + EOT + b"\x02"
STATUS_ERROR = DLE + EOT + b"\x03"
STATUS_PAPER = DLE + EOT + b"\x04"

# Bits of the status bytes (bits 1 and 4 are fixed at 1, bits 0 and 7 at 0)
STATUS_FIXED = 0x12
PRINTER_OFFLINE = 0x08  # DLE EOT 1, bit 3
CAUSE_COVER_OPEN = 0x04  # DLE EOT 2, bit 2
CAUSE_PAPER_END_STOP = 0x20  # DLE EOT 2, bit 5
CAUSE_ERROR = 0x40  # DLE EOT 2, bit 6
ERROR_CUTTER = 0x08  # DLE EOT 3, bit 3
ERROR_UNRECOVERABLE = 0x20  # DLE EOT 3, bit 5
PAPER_NEAR_END = 0x0C  # DLE EOT 4, bits 2-3
PAPER_END = 0x60  # DLE EOT 4, bits 5-6

_ALIGN = {"left": 0, "center": 1, "right": 2}
_EC = {"L": 48, "M": 49, "Q": 50, "H": 51}
QR_EC_BY_BYTE = {value: name for name, value in _EC.items()}


def align(where: Align) -> bytes:
    """ESC a n: justification, effective at the start of a line."""
    return ESC + b"a" + bytes([_ALIGN[where]])


def bold(on: bool) -> bytes:
    """ESC E n: emphasized mode."""
    return ESC + b"E" + (b"\x01" if on else b"\x00")


def size(width: int, height: int) -> bytes:
    """GS ! n: character size, 1-8 times in each direction."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ValueError("character size must be 1-8 in each direction")
    return GS + b"!" + bytes([(width - 1) << 4 | (height - 1)])


def feed_lines(n: int) -> bytes:
    """ESC d n: print the buffer and feed n lines."""
    if not 0 <= n <= 255:
        raise ValueError("feed must be 0-255 lines")
    return ESC + b"d" + bytes([n])


def cut(mode: CutMode) -> bytes:
    """GS V m (function A): 0 full cut, 1 partial cut; "none" for printers without a cutter."""
    return {"full": GS + b"V\x00", "partial": GS + b"V\x01", "none": b""}[mode]


def _qr_function(fn: int, params: bytes) -> bytes:
    """GS ( k pL pH cn fn params, with cn = 49 (QR Code) and p counting cn, fn and params."""
    length = len(params) + 2
    if length > 0xFFFF:
        raise ValueError("QR data too long for one GS ( k command")
    return GS + b"(k" + length.to_bytes(2, "little") + b"1" + bytes([fn]) + params


def qr_native(data: bytes, *, module: int, ec: QrEcLevel) -> bytes:
    """The printer's own QR: model 2, module size, error level, store the data, print it."""
    if not 1 <= module <= 16:
        raise ValueError("QR module size must be 1-16 dots")
    return (
        _qr_function(65, b"2\x00")  # fn 65: select model 2
        + _qr_function(67, bytes([module]))  # fn 67: module size in dots
        + _qr_function(69, bytes([_EC[ec]]))  # fn 69: error correction level
        + _qr_function(80, b"0" + data)  # fn 80: store data in the symbol storage area
        + _qr_function(81, b"0")  # fn 81: print the stored symbol
    )


def raster(width_bytes: int, height: int, bits: bytes) -> bytes:
    """GS v 0 m xL xH yL yH d...: a raster bit image, 8 dots per byte, MSB left, 1 = black."""
    if len(bits) != width_bytes * height or not (
        0 < width_bytes <= 0xFFFF and 0 < height <= 0xFFFF
    ):
        raise ValueError("raster size does not match its data")
    return GS + b"v0\x00" + width_bytes.to_bytes(2, "little") + height.to_bytes(2, "little") + bits
