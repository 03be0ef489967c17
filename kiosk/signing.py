"""The terminal's identity: its Ed25519 key, its enrollment, and request signing (DESIGN §3)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def signing_string(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex(sha256(body)); PATH includes ?query."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{digest}".encode()


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def load_platform_key(b64: str) -> Ed25519PublicKey:
    raw = base64.b64decode(b64.encode("ascii"), validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def signature_valid(key: Ed25519PublicKey, signature_b64: str, message: bytes) -> bool:
    try:
        signature = base64.b64decode(signature_b64.encode("ascii"), validate=True)
        key.verify(signature, message)
    except (ValueError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True)
class TerminalCredentials:
    terminal_id: str
    key: Ed25519PrivateKey

    def headers(
        self,
        method: str,
        path: str,
        body: bytes,
        *,
        clock: Callable[[], float] = time.time,
    ) -> dict[str, str]:
        """Fresh timestamp and nonce on every call, so a retried request is a new request."""
        timestamp = str(int(clock()))
        nonce = base64.urlsafe_b64encode(secrets.token_bytes(18)).decode("ascii")
        message = signing_string(method, path, timestamp, nonce, body)
        return {
            "X-Terminal-Id": self.terminal_id,
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "X-Signature": base64.b64encode(self.key.sign(message)).decode("ascii"),
        }


class TerminalAuth(httpx.Auth):
    """Signs each request with the terminal key, as httpx sends it (httpx's extension point for
    authentication): PATH is the path and query on the wire, and a retried request is signed
    afresh, with a new timestamp and nonce."""

    requires_request_body = True  # the signature covers the body's hash

    def __init__(
        self, credentials: TerminalCredentials, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.credentials = credentials
        self._clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        path = request.url.raw_path.decode("ascii")
        headers = self.credentials.headers(request.method, path, request.content, clock=self._clock)
        request.headers.update(headers)
        yield request
