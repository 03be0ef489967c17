"""AES-256-GCM sealing of stored values, bound to the row they live in.

Two subkeys come from the master key by HKDF-SHA256: one seals values, one makes the keyed hash
that finds an outbox item by idempotency key without storing the key in plaintext.
A sealed value is `version (1) | nonce (12) | ciphertext+tag`; the nonce is fresh for every seal.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .keys import KEY_BYTES

FORMAT_V1 = b"\x01"
NONCE_BYTES = 12
OVERHEAD = len(FORMAT_V1) + NONCE_BYTES + 16  # version, nonce, GCM tag


class Unsealable(Exception):
    """Internal: a sealed value does not open with this key and associated data."""


def associated_data(table: str, row: int | str, *extra: str) -> bytes:
    """What a sealed value is bound to: moving it to another table, row or kind breaks it."""
    parts = ["offline_cache/v1", table, str(row), *extra]
    return "\x00".join(parts).encode("utf-8")


def _derive(master_key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master_key)


class Sealer:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError(f"master key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(_derive(master_key, b"offline_cache seal v1"))
        self._index_key = _derive(master_key, b"offline_cache index v1")

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return FORMAT_V1 + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        if len(sealed) < OVERHEAD or sealed[:1] != FORMAT_V1:
            raise Unsealable("not a sealed value of format 1")
        nonce = sealed[1 : 1 + NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, sealed[1 + NONCE_BYTES :], aad)
        except InvalidTag:
            raise Unsealable("authentication failed") from None

    def index(self, data: bytes) -> bytes:
        """Keyed hash for lookups: equal inputs match, nothing about the input is readable."""
        return hmac.new(self._index_key, data, hashlib.sha256).digest()
