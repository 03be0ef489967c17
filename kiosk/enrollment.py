"""Enrolling the terminal with the platform: the one implementation behind the kiosk's first start
(`compose.ensure_enrolled`) and the technician's `kiosk-provision enroll`.

Nothing is written before the platform has accepted the enrollment, so a failed attempt (no token,
platform away, token refused) leaves no key or folder behind for the next attempt to trip over.
"""

from __future__ import annotations

import asyncio
import logging
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .api import ApiSettings, ReportApi
from .api_models import Enrollment
from .config import KioskConfig
from .identity import (
    IdentityError,
    load_enrollment,
    load_key,
    prepare_state_dir,
    save_enrollment,
    save_key,
)
from .signing import TerminalCredentials, public_key_b64

log = logging.getLogger(__name__)

MAX_TOKEN_CHARS = 200  # the platform refuses longer ones; a file this size is not a token


class AlreadyEnrolled(IdentityError):
    code = "identity.already_enrolled"


class TokenFileInvalid(IdentityError):
    code = "identity.token_file"


def read_token(path: Path) -> str:
    """The one-time token in `path`: one line of printable ASCII, nothing else."""
    try:
        raw = path.read_bytes()[: MAX_TOKEN_CHARS * 4]
    except FileNotFoundError:
        raise TokenFileInvalid(f"{path}: no such file") from None
    except OSError as exc:
        raise TokenFileInvalid(f"{path}: cannot read ({exc.strerror})") from None
    try:
        token = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise TokenFileInvalid(f"{path}: not a token (not ASCII text)") from None
    if not token:
        raise TokenFileInvalid(f"{path}: the file is empty")
    if len(token) > MAX_TOKEN_CHARS or not token.isprintable() or any(c.isspace() for c in token):
        raise TokenFileInvalid(
            f"{path}: not a token (one line of up to {MAX_TOKEN_CHARS} characters)"
        )
    return token


def hardware_facts() -> dict[str, Any]:
    """What the platform keeps about the machine: enough to tell terminals apart, nothing personal."""
    return {"hostname": platform.node(), "machine": platform.machine()}


def enroll_terminal(
    config: KioskConfig,
    settings: ApiSettings,
    token: str,
    *,
    force: bool = False,
    hardware: Mapping[str, Any] | None = None,
) -> tuple[Enrollment, TerminalCredentials]:
    """Make a key, enroll it with the one-time token, then (only then) write key and enrollment.

    An enrolled terminal is refused (AlreadyEnrolled) unless `force`: enrolling again makes a new
    key and a new terminal id, and the old enrollment stops working on this machine."""
    existing = load_enrollment(config.enrollment_file) if config.enrollment_file.exists() else None
    if existing is not None and not force:
        raise AlreadyEnrolled(
            f"already enrolled as terminal {existing.terminal_id} (hall {existing.hall_id}); "
            "enrolling again needs --force and a new token"
        )
    # a key left by an earlier version's failed start is reused; a forced re-enrollment never
    # reuses the old key, which the old terminal id is bound to
    reuse = not force and config.key_file.exists()
    key = load_key(config.key_file) if reuse else Ed25519PrivateKey.generate()

    async def enroll() -> Enrollment:
        api = ReportApi(settings)
        try:
            return await api.enroll(token, public_key_b64(key), dict(hardware or hardware_facts()))
        finally:
            await api.aclose()

    enrollment = asyncio.run(enroll())
    prepare_state_dir(config.state_dir)
    if not reuse:
        save_key(config.key_file, key)
    save_enrollment(config.enrollment_file, enrollment)
    log.info("enrolled as terminal %s in hall %s", enrollment.terminal_id, enrollment.hall_id)
    return enrollment, TerminalCredentials(enrollment.terminal_id, key)
