"""The staff PIN: a PBKDF2 hash on disk, and a lockout after repeated wrong entries (DESIGN §6)."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable
from pathlib import Path

ITERATIONS = 200_000
MAX_FAILURES = 5
LOCKOUT_S = 300.0


def hash_pin(pin: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """`pbkdf2_sha256$ITER$SALT_HEX$HASH_HEX`, the line kiosk-provision writes to the PIN file."""
    if not (pin.isascii() and pin.isdigit() and 6 <= len(pin) <= 12):
        raise ValueError("a staff PIN is 6 to 12 digits")
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    try:
        scheme, iterations, salt_hex, digest_hex = stored.strip().split("$")
        if scheme != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac(
            "sha256", pin.encode(), bytes.fromhex(salt_hex), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


class StaffLock:
    """Checks PINs against the file; after MAX_FAILURES wrong entries nothing is accepted for a while."""

    def __init__(
        self, pin_file: Path | None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.pin_file = pin_file
        self._clock = clock
        self._failures = 0
        self._locked_until = 0.0

    def locked_for(self) -> float:
        return max(0.0, self._locked_until - self._clock())

    def check(self, pin: str) -> bool:
        if self.locked_for() > 0 or self.pin_file is None:
            return False
        try:
            stored = self.pin_file.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            return False
        if pin_matches(pin, stored):
            self._failures = 0
            return True
        self._failures += 1
        if self._failures >= MAX_FAILURES:
            self._locked_until = self._clock() + LOCKOUT_S
            self._failures = 0
        return False
