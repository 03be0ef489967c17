"""What a QR shown to the camera is: a login QR, a report's verify QR, a pickup receipt's ticket, or
something else."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .tickets import ticket_from

LOGIN_PREFIX = "KQR1."
_CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{12}$")  # Crockford base32, as the platform issues
_MAX_LEN = 1024


@dataclass(frozen=True, slots=True)
class Scanned:
    kind: str  # "login", "verify", "pickup", "unknown"
    value: str  # the login payload, the verification code or the pickup ticket


def classify(text: str) -> Scanned:
    text = text.strip()
    if len(text) > _MAX_LEN:
        return Scanned("unknown", "")
    if text.startswith(LOGIN_PREFIX):
        return Scanned("login", text)
    ticket = ticket_from(text)
    if ticket is not None:
        return Scanned("pickup", ticket)
    code = verification_code(text)
    if code is not None:
        return Scanned("verify", code)
    return Scanned("unknown", "")


def verification_code(text: str) -> str | None:
    """The code from a verify URL (`…/v1/verify/CODE`) or a code typed or scanned alone."""
    candidate = text.strip()
    if "://" in candidate:
        parts = urlsplit(candidate)
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) < 2 or segments[-2] != "verify":
            return None
        candidate = segments[-1]
    candidate = candidate.upper().replace("-", "")
    return candidate if _CODE.match(candidate) else None
