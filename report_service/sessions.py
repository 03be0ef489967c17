"""Logging a person in at a terminal (ID card or login QR) and the session tokens that follow."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import crypto, db, ids
from .clock import Clock, aware
from .errors import forbidden, not_found, unauthorized, unprocessable
from .signing import Caller, token_hash

SESSION_TTL = dt.timedelta(minutes=10)

_S = db.SessionToken.__table__.c
_SESSION = select(_S.terminal_id.label("session_terminal"), _S.person_id, _S.expires_at).where(
    _S.token_hash == bindparam("th")
)
_QR_REFUSALS = {
    "expired": ("login_qr_expired", "登录码已过期，请在手机上刷新后重新出示。"),
    "bad_signature": ("login_qr_invalid", "无法识别的登录码，请出示政务服务App中的登录码。"),
    "malformed": ("login_qr_invalid", "无法识别的登录码，请出示政务服务App中的登录码。"),
}


class Logins:
    """Sessions from an ID card or a platform-signed login QR; the bearer's person for a call."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        clock: Clock,
        id_hash: Callable[[str], str],
        platform_key: Ed25519PublicKey,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.clock = clock
        self.id_hash = id_hash
        self.platform_key = platform_key

    def session_from_id_card(
        self, caller: Caller, id_number: str, name: str, valid_until: dt.date | None
    ) -> dict[str, Any]:
        id_number = id_number.strip().upper()
        if not ids.is_valid_id_number(id_number):
            raise unprocessable("invalid_id_number", "身份证号码校验不通过，请重新放置身份证。")
        if valid_until is not None and valid_until < self.clock().date():
            raise unprocessable("id_card_expired", "身份证已过有效期，请使用有效证件或扫码登录。")
        with self.sessions.begin() as s:
            person = s.scalars(
                select(db.Person).where(db.Person.id_hash == self.id_hash(id_number))
            ).first()
            if person is None:
                raise not_found("person_not_found", "平台没有您的登记信息，请到信用窗口咨询。")
            if person.name != name.strip():
                raise forbidden("identity_mismatch", "证件信息与平台登记不一致，请到信用窗口核实。")
            return self._open_session(s, caller, person)

    def session_from_qr(self, caller: Caller, payload: str) -> dict[str, Any]:
        now = int(self.clock().timestamp())
        try:
            claims = crypto.parse_login_qr(payload, self.platform_key, now)
        except crypto.LoginQrError as exc:
            code, message = _QR_REFUSALS[exc.reason]
            raise unauthorized(code, message) from None
        try:
            with self.sessions.begin() as s:
                s.add(db.UsedLoginQr(nonce=claims["nonce"], expires_at=claims["exp"]))
                s.execute(delete(db.UsedLoginQr).where(db.UsedLoginQr.expires_at < now))
                person = s.scalars(
                    select(db.Person).where(db.Person.public_id == claims["sub"])
                ).first()
                if person is None:
                    raise not_found("person_not_found", "平台没有您的登记信息，请到信用窗口咨询。")
                return self._open_session(s, caller, person)
        except IntegrityError:
            raise unauthorized(
                "login_qr_used", "该登录码已使用过，请在手机上刷新后重新出示。"
            ) from None

    def _open_session(self, s: Session, caller: Caller, person: db.Person) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        expires = self.clock() + SESSION_TTL
        s.add(
            db.SessionToken(
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                terminal_id=caller.terminal_id,
                person_id=person.id,
                expires_at=expires,
            )
        )
        rows = s.execute(
            select(db.Role.uscc, db.Role.role, db.Entity.name)
            .join(db.Entity, db.Entity.uscc == db.Role.uscc)
            .where(db.Role.person_id == person.id, db.Entity.region == caller.region)
            .order_by(db.Entity.name)
        ).all()
        return {
            "session_token": token,
            "expires_at": expires.isoformat(timespec="seconds"),
            "person": {"id": person.public_id, "name": ids.mask_name(person.name)},
            "enterprises": [{"uscc": u, "name": n, "role": r} for u, r, n in rows],
        }

    def person_for(self, caller: Caller, bearer: str | None, session: Any = None) -> int:
        """The person of the bearer's session; `session` is its row if already looked up."""
        if not bearer:
            raise unauthorized("session_required", "请先刷身份证或扫码登录。")
        row = session
        if row is None:
            with self.engine.connect() as conn:
                row = conn.execute(_SESSION, {"th": token_hash(bearer)}).first()
        if row is None or row.session_terminal != caller.terminal_id:
            raise unauthorized("session_invalid", "登录已失效，请重新刷身份证或扫码登录。")
        if aware(row.expires_at) <= self.clock():
            raise unauthorized("session_expired", "登录已超时，请重新刷身份证或扫码登录。")
        return int(row.person_id)
