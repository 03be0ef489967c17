"""Terminals: one-time enrollment tokens, enrollment, and the technician's list and revocation
(`report-service terminals add-token | list | revoke`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine

from . import crypto, db
from .clock import Clock, aware
from .errors import conflict, unauthorized, unprocessable
from .keys import Keyring
from .profiles import load_profile
from .reports import random_code
from .sessions import SESSION_TTL
from .signing import MAX_SKEW_S

log = logging.getLogger("report_service")

ENROLLMENT_TTL = dt.timedelta(days=7)
_TOKENS = db.EnrollmentToken.__table__.c


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class TerminalInfo:
    terminal_id: str
    hall_id: str
    region: str
    enrolled_at: dt.datetime
    revoked: bool
    revoked_at: dt.datetime | None  # None for one revoked by hand before this was recorded


class Terminals:
    def __init__(self, engine: Engine, clock: Clock, keys: Keyring, public_url: str) -> None:
        self.engine = engine
        self.clock = clock
        self.keys = keys
        self.public_url = public_url

    def add_enrollment_token(self, hall_id: str, region: str) -> str:
        load_profile(region)  # raises for an unknown region
        token = secrets.token_urlsafe(24)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                insert(db.EnrollmentToken),
                {
                    "token_hash": _sha256_hex(token.encode()),
                    "hall_id": hall_id,
                    "region": region,
                    "created_at": now,
                    "expires_at": now + ENROLLMENT_TTL,
                    "used_by": None,
                },
            )
        return token

    def enroll(self, token: str, public_key: str, hardware: Mapping[str, Any]) -> dict[str, Any]:
        try:
            raw = crypto.b64decode(public_key)
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise unprocessable(
                "invalid_public_key", "终端公钥格式不正确（应为32字节Ed25519公钥的base64）。"
            )
        now = self.clock()
        token_hash = _sha256_hex(token.encode())
        with self.engine.connect() as conn:
            row = conn.execute(select(db.EnrollmentToken).where(_TOKENS.token_hash == token_hash))
            found = row.first()
        if found is None or aware(found.expires_at) < now:
            raise unauthorized(
                "invalid_enrollment_token", "注册令牌无效或已过期，请向平台申请新的令牌。"
            )
        if found.used_by is not None:
            raise _token_used()
        if not crypto.usable_public_key(raw):  # checked before the token is spent on it
            raise unprocessable(
                "invalid_public_key", "终端公钥不可用（不是有效的Ed25519公钥），请重新生成密钥。"
            )
        terminal_id = "T" + random_code(15)
        with self.engine.begin() as conn:
            # The claim is one conditional UPDATE: whatever the isolation level or the number
            # of processes, only one enrollment sees its row change.
            claimed = conn.execute(
                update(db.EnrollmentToken)
                .where(_TOKENS.token_hash == token_hash, _TOKENS.used_by.is_(None))
                .values(used_by=terminal_id)
            )
            if claimed.rowcount != 1:
                raise _token_used()
            conn.execute(
                insert(db.Terminal),
                {
                    "id": terminal_id,
                    "hall_id": found.hall_id,
                    "region": found.region,
                    "public_key": public_key,
                    "hardware": json.dumps(dict(hardware), ensure_ascii=False),
                    "enrolled_at": now,
                    "revoked": False,
                    "revoked_at": None,
                },
            )
        log.info(
            "terminal enrolled terminal=%s hall=%s region=%s",
            terminal_id,
            found.hall_id,
            found.region,
        )
        profile = load_profile(found.region)
        return {
            "terminal_id": terminal_id,
            "hall_id": found.hall_id,
            "region": found.region,
            "platform_public_key": self.keys.public_b64,
            "config": {
                "region_name": profile.region_name,
                "report_title": profile.report_title,
                "session_ttl_s": int(SESSION_TTL.total_seconds()),
                "max_clock_skew_s": MAX_SKEW_S,
                "verify_url_prefix": f"{self.public_url}/v1/verify/",
            },
        }

    def list(self) -> list[TerminalInfo]:
        t = db.Terminal.__table__.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.id, t.hall_id, t.region, t.enrolled_at, t.revoked, t.revoked_at).order_by(
                    t.hall_id, t.enrolled_at, t.id
                )
            ).all()
        return [
            TerminalInfo(
                r.id,
                r.hall_id,
                r.region,
                aware(r.enrolled_at),
                bool(r.revoked),
                aware(r.revoked_at) if r.revoked_at else None,
            )
            for r in rows
        ]

    def revoke(self, terminal_id: str) -> bool | None:
        """Refuse the terminal from its next request on; its open sessions end with it. Returns
        None for no such terminal, else whether it had been revoked before."""
        now = self.clock()
        t = db.Terminal.__table__.c
        with self.engine.begin() as conn:
            before = conn.execute(select(t.revoked).where(t.id == terminal_id)).first()
            if before is None:
                return None
            conn.execute(
                update(db.Terminal)
                .where(t.id == terminal_id)
                .values(revoked=True, revoked_at=func.coalesce(t.revoked_at, now))
            )
            conn.execute(delete(db.SessionToken).where(db.SessionToken.terminal_id == terminal_id))
        if not before.revoked:
            log.warning("terminal revoked terminal=%s", terminal_id)
        return bool(before.revoked)


def _token_used() -> Exception:
    return conflict("enrollment_token_used", "该注册令牌已被使用，每个令牌只能注册一台终端。")
