"""Login QR payloads checked on the kiosk, without the platform (DESIGN §3).

The platform signs `KQR1.<b64url(claims)>` with its Ed25519 key; the signature covers that text.
The kiosk holds the platform's public key from enrollment, so while the platform is unreachable it
can still tell a genuine, unexpired login QR from anything else. Whether the QR was already used is
only known to the platform: that is settled when the queued request is delivered.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import KioskError
from .scanned import LOGIN_PREFIX

MAX_LOGIN_QR_LEN = 1024


class LoginQrRefused(KioskError):
    """A login QR that is malformed, forged or expired, found without the platform."""

    code = "login_qr.invalid"
    message_id = "error.login_qr_invalid"

    def __init__(self, reason: str) -> None:
        super().__init__(f"login QR refused offline: {reason}")
        self.reason = reason
        if reason == "expired":
            self.code = "login_qr.expired"
            self.message_id = "error.login_qr_expired"


@dataclass(frozen=True)
class LoginQrClaims:
    subject: str = field(repr=False)  # the platform's public id of the person
    name_masked: str
    expires_at: int  # unix seconds


def _b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise LoginQrRefused("malformed") from None


def check_login_qr(payload: str, platform_key: Ed25519PublicKey, now: float) -> LoginQrClaims:
    """Format, platform signature and expiry, as the platform checks them; raises LoginQrRefused."""
    if len(payload) > MAX_LOGIN_QR_LEN or not payload.isascii():
        raise LoginQrRefused("malformed")
    if not payload.startswith(LOGIN_PREFIX) or payload.count(".") != 2:
        raise LoginQrRefused("malformed")
    body, _, sig_text = payload.rpartition(".")
    signature = _b64url_decode(sig_text)
    if len(signature) != 64:
        raise LoginQrRefused("bad_signature")
    try:
        platform_key.verify(signature, body.encode("ascii"))
    except InvalidSignature:
        raise LoginQrRefused("bad_signature") from None
    try:
        claims = json.loads(_b64url_decode(body[len(LOGIN_PREFIX) :]))
    except (ValueError, UnicodeDecodeError):
        raise LoginQrRefused("malformed") from None
    if not isinstance(claims, dict) or claims.get("v") != 1:
        raise LoginQrRefused("malformed")
    for key, kind in (("sub", str), ("nonce", str), ("exp", int), ("iat", int)):
        if not isinstance(claims.get(key), kind) or isinstance(claims.get(key), bool):
            raise LoginQrRefused("malformed")
    if now >= claims["exp"]:
        raise LoginQrRefused("expired")
    name = claims.get("name")
    return LoginQrClaims(
        subject=claims["sub"],
        name_masked=name if isinstance(name, str) else "",
        expires_at=claims["exp"],
    )
