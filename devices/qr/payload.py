"""What the kiosk accepts from a QR code: non-empty UTF-8 text of bounded size, no control characters.

Every rejection is an InputRejected with a stable code; messages give sizes and offsets, never content.
"""

from __future__ import annotations

from ..errors import InputRejected

# A version-40 QR code holds at most 2953 bytes; kiosk codes (links, report ids) need far less, and a
# smaller bound keeps oversized or hostile payloads away from the application.
DEFAULT_MAX_PAYLOAD_BYTES = 2048
MAX_PAYLOAD_LIMIT = 2953

_ALLOWED_CONTROLS = frozenset("\t\n\r")


def _is_control(char: str) -> bool:
    code = ord(char)
    return (code < 0x20 and char not in _ALLOWED_CONTROLS) or 0x7F <= code <= 0x9F


def validate_payload(raw: bytes, max_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES) -> str:
    """The payload as text, or InputRejected (qr.empty, qr.too_large, qr.not_utf8, qr.binary)."""
    if not raw:
        raise InputRejected("QR payload is empty", code="qr.empty")
    if len(raw) > max_bytes:
        raise InputRejected(
            f"QR payload of {len(raw)} bytes exceeds the limit of {max_bytes} bytes",
            code="qr.too_large",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputRejected(
            f"QR payload of {len(raw)} bytes is not UTF-8 (invalid byte at offset {exc.start})",
            code="qr.not_utf8",
        ) from None
    for index, char in enumerate(text):
        if _is_control(char):
            raise InputRejected(
                f"QR payload holds control character U+{ord(char):04X} at character {index}"
                " (binary data, not text)",
                code="qr.binary",
            )
    return text
