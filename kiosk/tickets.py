"""Pickup tickets: the idempotency key of a request queued offline, printed as the receipt's QR.

`QT-7K3M-9Q2P-4X8A-BCDE`: 80 random bits in Crockford base32 (no I, L, O, U), in groups of four so
that a person can read it out and no run of digits looks like an ID or phone number. It is also a
valid Idempotency-Key for the platform (letters, digits and '-').
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TICKET = re.compile(r"^QT(-[0-9A-HJKMNP-TV-Z]{4}){4}$")


def new_ticket() -> str:
    chars = "".join(ALPHABET[b % 32] for b in secrets.token_bytes(16))  # 256 % 32 == 0: uniform
    return "QT-" + "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def ticket_from(text: str) -> str | None:
    """The ticket a scanned or typed text holds, or None."""
    candidate = text.strip().upper()
    return candidate if TICKET.match(candidate) else None


def new_call_id() -> str:
    """A help call's id, made by the kiosk so that a repeat of the call is the same call."""
    return "H" + secrets.token_hex(10)


def new_event_id() -> str:
    """An audit event's id: the platform stores each id once, so a redelivery changes nothing."""
    return "E" + secrets.token_hex(12)
