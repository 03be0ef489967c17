"""The terminal's key and enrollment, kept in the state directory (0600 files, 0700 directory)."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .api_models import Enrollment
from .errors import KioskError

log = logging.getLogger(__name__)


class IdentityError(KioskError):
    code = "identity.invalid"
    message_id = "error.out_of_service"


def _write_private(path: Path, data: bytes) -> None:
    """Write-then-rename, created 0600: a crash never leaves half a key."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def prepare_state_dir(state_dir: Path) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(state_dir, 0o700)


def load_key(path: Path) -> Ed25519PrivateKey:
    if path.stat().st_mode & 0o077:
        raise IdentityError(f"{path}: terminal key readable by others; run chmod 600")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise IdentityError(f"{path}: not a PEM Ed25519 private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise IdentityError(f"{path}: not an Ed25519 key")
    return key


def save_key(path: Path, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(path, pem)
    log.info("created terminal key %s", path)


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return load_key(path)
    key = Ed25519PrivateKey.generate()
    save_key(path, key)
    return key


def load_enrollment(path: Path) -> Enrollment | None:
    if not path.exists():
        return None
    try:
        return Enrollment.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KioskError) as exc:
        raise IdentityError(
            f"{path}: unreadable enrollment ({exc}); re-enroll the terminal"
        ) from None


def save_enrollment(path: Path, enrollment: Enrollment) -> None:
    data: dict[str, Any] = asdict(enrollment)
    _write_private(path, json.dumps(data, ensure_ascii=False, indent=2).encode())
