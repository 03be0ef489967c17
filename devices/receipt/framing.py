"""Lengths of the ESC/POS commands the decoder only steps over (it does not model what they do).

Each `skip_*` function returns (end offset, unknown-note) for the command at `pos`, where a note
means "list it as unknown", or None when the command is not one it knows. `Incomplete` means the
buffer ends inside the command; `ProtocolError` (receipt.bad_stream) an implausible declared length.
"""

from __future__ import annotations

from ..errors import ProtocolError

MAX_PAYLOAD = 4 * 1024 * 1024  # larger declared payloads are garbage, not a receipt

Skip = tuple[int, str | None]

# commands with a fixed number of parameter bytes after the two command bytes
ESC_FIXED = {b"G": 1, b"M": 1, b"2": 0, b"3": 1, b"R": 1, b"{": 1, b"V": 1, b" ": 1, b"$": 2}
ESC_FIXED |= {b"\\": 2, b"p": 3, b"c": 2, b"e": 1, b"U": 1, b"r": 1, b"S": 0, b"L": 0, b"T": 1}
ESC_FIXED |= {b"W": 8, b"=": 1, b"%": 1, b"?": 1, b"<": 0}
GS_FIXED = {b"B": 1, b"H": 1, b"f": 1, b"h": 1, b"w": 1, b"L": 2, b"W": 2, b"P": 2, b"a": 1}
GS_FIXED |= {b"r": 1, b"I": 1, b"b": 1, b"$": 2, b"\\": 2, b"T": 1, b"^": 3, b"/": 1, b":": 0}
GS_FIXED |= {b"g": 4}
FS_FIXED = {b"!": 1, b"-": 1, b"S": 2, b"W": 1, b"C": 1, b"p": 2}
DLE_DC4_EXTRA = {1: 2, 2: 2, 7: 3, 8: 7}  # DLE DC4 fn: parameter bytes after fn


class Incomplete(Exception):
    """The buffer ends inside a command or character: wait for more bytes."""


def bad_stream(message: str) -> ProtocolError:
    return ProtocolError(message, code="receipt.bad_stream")


def need(buf: bytearray, pos: int, count: int) -> None:
    if pos + count > len(buf):
        raise Incomplete


def little_endian(buf: bytearray, pos: int, count: int) -> int:
    need(buf, pos, count)
    return int.from_bytes(buf[pos : pos + count], "little")


def payload_end(buf: bytearray, start: int, length: int) -> int:
    """End of a payload of `length` bytes at `start`, once all of it has arrived."""
    if length > MAX_PAYLOAD:
        raise bad_stream(f"a command declares a {length}-byte payload")
    need(buf, start, length)
    return start + length


def _fixed(buf: bytearray, pos: int, table: dict[bytes, int], c: bytes) -> Skip | None:
    if c not in table:
        return None
    need(buf, pos, 2 + table[c])
    return pos + 2 + table[c], None


def skip_esc(buf: bytearray, pos: int, c: bytes) -> Skip | None:
    if c == b"*":  # ESC * m nL nH d...: bit image, 1 or 3 bytes per column
        need(buf, pos, 5)
        m, columns = buf[pos + 2], little_endian(buf, pos + 3, 2)
        if m not in (0, 1, 32, 33):
            return pos + 3, "ESC * with an invalid mode"
        return payload_end(buf, pos + 5, columns * (3 if m >= 32 else 1)), "ESC * bit image"
    if c == b"D":  # ESC D n1..nk NUL: tab stops, k <= 32
        for end in range(pos + 2, pos + 35):
            need(buf, end, 1)
            if buf[end] == 0:
                return end + 1, None
        return pos + 2, "ESC D without its NUL"
    if c == b"&":  # ESC & y c1 c2 [x d1..d(y*x)]...: user-defined characters
        need(buf, pos, 5)
        y, first, last = buf[pos + 2], buf[pos + 3], buf[pos + 4]
        if not (1 <= y <= 3 and 32 <= first <= last <= 126):
            return pos + 5, "ESC & with invalid ranges"
        end = pos + 5
        for _ in range(last - first + 1):
            end = payload_end(buf, end + 1, y * little_endian(buf, end, 1))
        return end, "ESC & user-defined characters"
    return _fixed(buf, pos, ESC_FIXED, c)


def skip_gs(buf: bytearray, pos: int, c: bytes) -> Skip | None:
    if c == b"8":  # GS 8 L p1 p2 p3 p4 ...: graphics with a 32-bit length
        need(buf, pos, 7)
        return payload_end(buf, pos + 7, little_endian(buf, pos + 3, 4)), "GS 8 graphics"
    if c == b"k":  # barcodes
        need(buf, pos, 3)
        m = buf[pos + 2]
        if m <= 6:  # data ends with NUL
            for end in range(pos + 3, pos + 259):
                need(buf, end, 1)
                if buf[end] == 0:
                    return end + 1, "barcode"
            return pos + 3, "barcode without its NUL"
        if 65 <= m <= 79:  # GS k m n d1..dn
            return payload_end(buf, pos + 4, little_endian(buf, pos + 3, 1)), "barcode"
        return pos + 3, "GS k with an invalid type"
    return _fixed(buf, pos, GS_FIXED, c)


def skip_fs(buf: bytearray, pos: int, c: bytes) -> Skip | None:
    return _fixed(buf, pos, FS_FIXED, c)


def skip_dle(buf: bytearray, pos: int) -> Skip:
    """DLE commands other than DLE EOT 1-4 (which the decoder reports as status queries)."""
    need(buf, pos, 2)
    c = buf[pos + 1]
    if c in (0x04, 0x05):  # DLE EOT n, DLE ENQ n
        need(buf, pos, 3)
        if c == 0x04 and buf[pos + 2] in (7, 8, 18):  # these carry one more byte
            need(buf, pos, 4)
            return pos + 4, None
        return pos + 3, None if c == 0x05 else "DLE EOT with an invalid n"
    if c == 0x14:  # DLE DC4 fn ...
        need(buf, pos, 3)
        extra = DLE_DC4_EXTRA.get(buf[pos + 2])
        if extra is not None:
            need(buf, pos, 3 + extra)
            return pos + 3 + extra, None
    return pos + 2, "DLE command"
