"""A small QR encoder for the report's verification URL: byte mode, error correction level M.

The qrcode package lays out each version's function patterns and format information once; the
per-report work (Reed–Solomon, module placement) is done here, ~15x cheaper than qrcode's generic
polynomial arithmetic. tests/test_qr_encoder.py checks the matrices against qrcode's own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from qrcode.base import EXP_TABLE, LOG_TABLE, rs_blocks
from qrcode.constants import ERROR_CORRECT_M
from qrcode.main import QRCode
from qrcode.util import mask_func

__all__ = ["MASK", "qr_mask", "qr_matrix"]

# A fixed mask skips the 8-way penalty search; decoders read the mask from the symbol.
MASK = 2
_PAD = (0xEC, 0x11)


@dataclass(frozen=True)
class _Version:
    number: int
    size: int
    # Rows as integers (bit c = column c, 1 = dark): the function patterns and format info, and
    # every data module as the mask leaves it for a zero bit.
    blank: tuple[int, ...]
    # Per codeword, per byte value: the (row, mask) XORs that write it into the blank.
    words: tuple[tuple[tuple[tuple[int, int], ...], ...], ...]
    blocks: tuple[tuple[int, int], ...]  # (data codewords, error correction codewords) per block
    data_codewords: int

    @property
    def count_bits(self) -> int:
        return 8 if self.number < 10 else 16


def _build_version(number: int) -> _Version:
    qr = QRCode(version=number, error_correction=ERROR_CORRECT_M, border=0, mask_pattern=MASK)
    n = qr.modules_count = number * 4 + 17
    qr.modules = [[None] * n for _ in range(n)]
    qr.setup_position_probe_pattern(0, 0)
    qr.setup_position_probe_pattern(n - 7, 0)
    qr.setup_position_probe_pattern(0, n - 7)
    qr.setup_position_adjust_pattern()
    qr.setup_timing_pattern()
    qr.setup_type_info(False, MASK)
    if number >= 7:
        qr.setup_type_number(False)
    modules = qr.modules
    flip = mask_func(MASK)
    places = []
    row, step = n - 1, -1
    for col in range(n - 1, 0, -2):  # the standard zigzag, two columns at a time, skipping col 6
        if col <= 6:
            col -= 1
        while 0 <= row < n:
            for c in (col, col - 1):
                if modules[row][c] is None:
                    places.append((row, c))
                    modules[row][c] = bool(flip(row, c))
            row += step
        row -= step
        step = -step
    blank = tuple(sum(1 << c for c, m in enumerate(line) if m) for line in modules)
    blocks = tuple(
        (b.data_count, b.total_count - b.data_count) for b in rs_blocks(number, ERROR_CORRECT_M)
    )
    words = []
    for i in range(sum(d + e for d, e in blocks)):  # remainder bits after the last stay zero
        bits = [(r, 1 << c) for r, c in places[8 * i : 8 * i + 8]]
        table = []
        for value in range(256):
            xors: dict[int, int] = {}
            for k, (r, m) in enumerate(bits):
                if value & (0x80 >> k):
                    xors[r] = xors.get(r, 0) ^ m
            table.append(tuple(xors.items()))
        words.append(tuple(table))
    return _Version(number, n, blank, tuple(words), blocks, sum(d for d, _ in blocks))


def _capacity(number: int) -> int:
    """Bytes that fit in a version at level M (byte mode)."""
    data: int = sum(b.data_count for b in rs_blocks(number, ERROR_CORRECT_M))
    return (data * 8 - 4 - (8 if number < 10 else 16)) // 8


_versions: dict[int, _Version] = {}
_lock = threading.Lock()


def _version(number: int) -> _Version:
    found = _versions.get(number)
    if found is None:
        with _lock:
            found = _versions.setdefault(number, _build_version(number))
    return found


def _fit(length: int) -> _Version:
    for number in range(1, 41):
        if length <= _capacity(number):
            return _version(number)
    raise ValueError(f"{length} bytes do not fit in a QR code at level M")


_generators: dict[int, tuple[int, ...]] = {}


def _generator(n_ec: int) -> tuple[int, ...]:
    """For each feedback byte f, f times the generator polynomial prod(x - a^i), i < n_ec, with
    its leading term dropped, as one n_ec-byte integer: an LFSR step is then one XOR."""
    found = _generators.get(n_ec)
    if found is None:
        poly = [1]
        for i in range(n_ec):
            nxt = [0] * (len(poly) + 1)
            for j, c in enumerate(poly):
                nxt[j] ^= c
                if c:
                    nxt[j + 1] ^= EXP_TABLE[(LOG_TABLE[c] + i) % 255]
            poly = nxt
        logs = [LOG_TABLE[c] for c in poly[1:]]
        products = (
            int.from_bytes(bytes(EXP_TABLE[(LOG_TABLE[f] + g) % 255] for g in logs), "big")
            for f in range(1, 256)
        )
        found = (0, *products)
        _generators[n_ec] = found
    return found


def _ec(data: list[int], n_ec: int) -> list[int]:
    """The Reed–Solomon error correction codewords of one block."""
    table = _generator(n_ec)
    shift, mask = 8 * (n_ec - 1), (1 << 8 * n_ec) - 1
    rem = 0
    for byte in data:
        rem = ((rem << 8) & mask) ^ table[byte ^ (rem >> shift)]
    return list(rem.to_bytes(n_ec, "big"))


def _codewords(v: _Version, data: bytes) -> list[int]:
    bits = (0b0100 << v.count_bits) | len(data)  # byte mode indicator, character count
    nbits = 4 + v.count_bits
    for b in data:
        bits = (bits << 8) | b
    nbits += 8 * len(data)
    room = v.data_codewords * 8
    term = min(4, room - nbits)  # terminator, then zeros to a byte boundary
    bits <<= term
    nbits += term
    bits <<= -nbits % 8
    nbits += -nbits % 8
    stream = list(bits.to_bytes(nbits // 8, "big"))
    stream += [_PAD[i % 2] for i in range(v.data_codewords - len(stream))]
    datas, ecs, pos = [], [], 0
    for n_data, n_ec in v.blocks:
        block = stream[pos : pos + n_data]
        pos += n_data
        datas.append(block)
        ecs.append(_ec(block, n_ec))
    out = []
    for group in (datas, ecs):  # interleave: codeword i of every block in turn
        for i in range(max(len(b) for b in group)):
            out += [b[i] for b in group if i < len(b)]
    return out


def _rows(text: str) -> tuple[int, list[int]]:
    data = text.encode("utf-8")
    v = _fit(len(data))
    rows = list(v.blank)
    for word, table in zip(_codewords(v, data), v.words, strict=True):
        for r, m in table[word]:
            rows[r] ^= m
    return v.size, rows


def qr_matrix(text: str) -> list[list[int]]:
    """The symbol's modules without quiet zone, rows top to bottom, 1 = dark."""
    n, rows = _rows(text)
    return [[(x >> c) & 1 for c in range(n)] for x in rows]


def qr_mask(text: str) -> tuple[int, bytes]:
    """The symbol's size and its modules as the rows of a 1-bit image, top row first, leftmost
    module in the high bit, each row padded to whole bytes; 1 = dark."""
    n, rows = _rows(text)
    width = (n + 7) // 8
    pad = width * 8 - n
    # rows hold column c in bit c; an image row wants column 0 in the high bit
    return n, b"".join((int(f"{x:0{n}b}"[::-1], 2) << pad).to_bytes(width, "big") for x in rows)
