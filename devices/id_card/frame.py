"""GA/T 467 serial frames: `AA AA AA 96 69 | LEN(2, big-endian) | payload | CHK`.

LEN counts every byte after itself (payload + CHK); CHK is the XOR of LEN and payload. A command's
payload is `CMD PARA [data]`, a reply's is `SW1 SW2 SW3 [data]`. Every error raised here is a
`FrameError`, a `ProtocolError` of the device error family.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ProtocolError

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2
MIN_LEN = 3  # CMD PARA CHK: the shortest frame either side sends
# The longest reply we know (base info + fingerprint, 30 10) is about 2.3 KB; anything longer is noise,
# and refusing it early keeps a corrupted LEN from stalling the reader until its timeout.
MAX_LEN = 4096


class FrameError(ProtocolError):
    """A byte sequence that is not a valid GA/T 467 frame; `code` says which rule it broke."""

    code = "id_card.bad_frame"


def checksum(data: bytes) -> int:
    """XOR of all bytes: the frame's CHK over LEN and payload."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def encode_frame(payload: bytes) -> bytes:
    """Wrap a payload (command or reply) into a complete frame."""
    length = len(payload) + 1
    if not MIN_LEN <= length <= MAX_LEN:
        raise ValueError(f"payload of {len(payload)} bytes does not fit a frame")
    body = length.to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes([checksum(body)])


def encode_command(cmd: int, para: int, data: bytes = b"") -> bytes:
    return encode_frame(bytes([cmd, para]) + data)


def encode_reply(sw3: int, data: bytes = b"", *, sw1: int = 0, sw2: int = 0) -> bytes:
    return encode_frame(bytes([sw1, sw2, sw3]) + data)


@dataclass(frozen=True, slots=True)
class Reply:
    """A reader's answer. `data` may hold card text and photo, so repr shows only its length."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    @classmethod
    def from_payload(cls, payload: bytes) -> Reply:
        if len(payload) < 3:
            raise FrameError(
                f"reply payload of {len(payload)} bytes has no SW1 SW2 SW3",
                code="id_card.bad_length",
            )
        return cls(payload[0], payload[1], payload[2], bytes(payload[3:]))

    def __repr__(self) -> str:
        return f"Reply(sw1=0x{self.sw1:02x}, sw2=0x{self.sw2:02x}, sw3=0x{self.sw3:02x}, data=<{len(self.data)} bytes>)"


class FrameDecoder:
    """Splits a byte stream into frame payloads, resynchronising on the preamble.

    Bytes before a preamble are skipped (counted in `skipped`). A frame with an impossible LEN or a
    wrong CHK raises FrameError after its preamble has been dropped, so the next call resumes the
    search right behind it: every call either consumes bytes or returns None, so the loop ends.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.skipped = 0

    def feed(self, data: bytes) -> None:
        self._buf += data

    def reset(self) -> None:
        self._buf.clear()

    @property
    def pending(self) -> bool:
        """True when a frame's preamble has arrived but the frame is not complete yet."""
        return self._buf.startswith(PREAMBLE)

    def next_payload(self) -> bytes | None:
        """The payload of the next complete frame, or None when more bytes are needed."""
        start = self._buf.find(PREAMBLE)
        if start < 0:
            # keep a tail that could be the start of a preamble split across reads
            keep = _preamble_prefix_len(self._buf)
            self.skipped += len(self._buf) - keep
            del self._buf[: len(self._buf) - keep]
            return None
        if start:
            self.skipped += start
            del self._buf[:start]
        if len(self._buf) < HEADER_LEN:
            return None
        length = int.from_bytes(self._buf[5:7], "big")
        if not MIN_LEN <= length <= MAX_LEN:
            del self._buf[: len(PREAMBLE)]
            raise FrameError(
                f"frame LEN {length} outside {MIN_LEN}..{MAX_LEN}", code="id_card.bad_length"
            )
        end = HEADER_LEN + length
        if len(self._buf) < end:
            return None
        body = bytes(self._buf[5 : end - 1])
        chk = self._buf[end - 1]
        if checksum(body) != chk:
            del self._buf[: len(PREAMBLE)]
            raise FrameError(
                f"bad checksum: frame says 0x{chk:02x}, bytes give 0x{checksum(body):02x}",
                code="id_card.bad_checksum",
            )
        del self._buf[:end]
        return body[2:]


def _preamble_prefix_len(buf: bytearray) -> int:
    for n in range(min(len(buf), len(PREAMBLE) - 1), 0, -1):
        if buf.endswith(PREAMBLE[:n]):
            return n
    return 0


def decode_frame(data: bytes) -> bytes:
    """The payload of `data`, which must be exactly one frame (a capture file, a test vector)."""
    if not data:
        raise FrameError("no bytes at all", code="id_card.truncated")
    if not data.startswith(PREAMBLE):
        if PREAMBLE.startswith(bytes(data)):
            raise FrameError(f"truncated frame: only {len(data)} bytes", code="id_card.truncated")
        raise FrameError(
            "no frame preamble AA AA AA 96 69 at the start", code="id_card.no_preamble"
        )
    decoder = FrameDecoder()
    decoder.feed(data)
    payload = decoder.next_payload()
    if payload is None:
        want = HEADER_LEN + int.from_bytes(data[5:7], "big") if len(data) >= HEADER_LEN else None
        detail = f"LEN says {want} bytes" if want is not None else "header incomplete"
        raise FrameError(f"truncated frame: {len(data)} bytes, {detail}", code="id_card.truncated")
    extra = len(data) - (HEADER_LEN + len(payload) + 1)
    if extra:
        raise FrameError(f"{extra} unexpected bytes after the frame", code="id_card.trailing_bytes")
    return payload


def decode_reply(data: bytes) -> Reply:
    return Reply.from_payload(decode_frame(data))
