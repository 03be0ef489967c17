"""Ed25519 keys, the terminal request-signing string and platform-signed login QR payloads."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
from typing import NotRequired, TypedDict, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .keys import Signer

LOGIN_QR_PREFIX = "KQR1."
MAX_LOGIN_QR_LEN = 1024


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict standard base64; raises ValueError on anything else."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("not standard base64") from exc


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Base64url with or without its `=` padding (RFC 4648 §5 allows either)."""
    try:
        data = text.encode("ascii")
        if data.endswith(b"="):  # padded: only as much as completes the last quantum
            if len(data) % 4 or data.endswith(b"==="):
                raise ValueError("bad base64url padding")
            data = data.rstrip(b"=")
        if not all(
            c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in data
        ):
            raise ValueError("not base64url")
        return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("not base64url") from exc


def signing_string(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """DESIGN §3: METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex(sha256(body)); PATH includes ?query."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{digest}".encode()


def signed_headers(
    terminal_id: str,
    key: Ed25519PrivateKey,
    method: str,
    path: str,
    body: bytes,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers of a terminal request signed as DESIGN §3 says (a fresh nonce unless given)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or b64url_encode(secrets.token_bytes(16))
    signature = key.sign(signing_string(method, path, ts, nonce, body))
    return {
        "X-Terminal-Id": terminal_id,
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature": b64encode(signature),
    }


def load_public_key(b64: str) -> Ed25519PublicKey:
    raw = b64decode(b64)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def verify(public_key: Ed25519PublicKey, signature_b64: str, message: bytes) -> bool:
    try:
        sig = b64decode(signature_b64)
    except ValueError:
        return False
    if len(sig) != 64:
        return False
    try:
        public_key.verify(sig, message)
    except InvalidSignature:
        return False
    return True


class SigningKey:
    """An Ed25519 private key with the encodings the API uses."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_b64(cls, text: str) -> SigningKey:
        return cls(Ed25519PrivateKey.from_private_bytes(b64decode(text)))

    def private_b64(self) -> str:
        raw = self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return b64encode(raw)

    @property
    def public_b64(self) -> str:
        return b64encode(self.public_raw)

    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def sign_b64(self, message: bytes) -> str:
        return b64encode(self._key.sign(message))


def issue_login_qr(key: Signer, subject: str, name_masked: str, now: int, ttl_s: int) -> str:
    """`KQR1.<b64url(json)>.<b64url(sig)>`, the signature covering `KQR1.<b64url(json)>`."""
    claims = {
        "v": 1,
        "sub": subject,
        "name": name_masked,
        "iat": now,
        "exp": now + ttl_s,
        "nonce": b64url_encode(secrets.token_bytes(16)),
    }
    body = LOGIN_QR_PREFIX + b64url_encode(
        json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
    )
    return body + "." + b64url_encode(key.sign(body.encode("ascii")))


class LoginQrClaims(TypedDict):
    v: int
    sub: str  # the person's public id
    name: NotRequired[str]  # masked: 张*
    iat: int
    exp: int
    nonce: str


class LoginQrError(ValueError):
    """A login QR payload that is malformed, forged or expired; `reason` is a stable code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_login_qr(payload: str, platform_key: Ed25519PublicKey, now: int) -> LoginQrClaims:
    """Check format, platform signature and expiry; returns the claims."""
    claims = read_login_qr(payload, platform_key)
    if now >= claims["exp"]:
        raise LoginQrError("expired")
    return claims


def read_login_qr(payload: str, platform_key: Ed25519PublicKey) -> LoginQrClaims:
    """Check format and platform signature, not expiry; returns the claims."""
    if not isinstance(payload, str) or len(payload) > MAX_LOGIN_QR_LEN:
        raise LoginQrError("malformed")
    if not payload.startswith(LOGIN_QR_PREFIX) or payload.count(".") != 2:
        raise LoginQrError("malformed")
    body, _, sig_text = payload.rpartition(".")
    try:
        sig = b64url_decode(sig_text)
        claims = json.loads(b64url_decode(body[len(LOGIN_QR_PREFIX) :]))
    except (ValueError, UnicodeDecodeError):
        raise LoginQrError("malformed") from None
    if len(sig) != 64:
        raise LoginQrError("bad_signature")
    try:
        platform_key.verify(sig, body.encode("ascii"))
    except InvalidSignature:
        raise LoginQrError("bad_signature") from None
    if not isinstance(claims, dict) or claims.get("v") != 1:
        raise LoginQrError("malformed")
    for field, kind in (("sub", str), ("nonce", str), ("exp", int), ("iat", int)):
        value = claims.get(field)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise LoginQrError("malformed")
    return cast(LoginQrClaims, claims)


# ---- Ed25519 public keys a terminal may enroll ------------------------------------------------
# A small-order point (the identity, the all-zero encoding and six more) verifies signatures
# that were never made by anyone; a non-canonical or off-curve encoding is no key at all.
_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _decode_point(raw: bytes) -> tuple[int, int] | None:
    """The affine point of a 32-byte encoding (RFC 8032 §5.1.3), None if it is not one."""
    if len(raw) != 32:
        return None
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    sign = raw[31] >> 7
    if y >= _P:  # non-canonical
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None  # not on the curve
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = _P - x
    return x, y


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = a, b
    t = _D * x1 * x2 * y1 * y2 % _P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, _P - 2, _P) % _P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, _P - 2, _P) % _P
    return x3, y3


def usable_public_key(raw: bytes) -> bool:
    """A canonical encoding of a curve point whose order is not small (8P is not the identity)."""
    point = _decode_point(raw)
    if point is None:
        return False
    for _ in range(3):
        point = _add(point, point)
    return point != (0, 1)
