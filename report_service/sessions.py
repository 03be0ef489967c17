"""Logging a person in at a terminal (ID card or login QR) and the session tokens that follow.

An unknown ID number and a wrong name get the same answer, so a terminal cannot learn who is
registered; refused identity checks are counted per terminal and past a limit every identity
check of that terminal waits (429) until the window ends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import crypto, db, ids
from .clock import Clock, aware
from .errors import ApiError, not_found, too_many, unauthorized, unprocessable
from .keys import Keyring
from .profiles import load_profile
from .signing import MAX_SKEW_S, Caller, token_hash

log = logging.getLogger("report_service")

SESSION_TTL = dt.timedelta(minutes=10)
# A login QR the kiosk checked while it was valid, for a request it queued then, may open a
# session for that request this long after the QR's expiry (an outage outlasting the QR).
LATE_QR_GRACE_S = 72 * 3600
# An expired session is kept this long (its bearer hears "expired", not "invalid"), then deleted
# by a later login, at most every SESSION_SWEEP_EVERY in each process and SESSION_SWEEP_BATCH
# rows at a time (a full batch: the next login goes on, so a backlog never holds the database's
# write lock for long). Kept, the table would record who logged in at which terminal, for ever.
EXPIRED_SESSION_KEPT = dt.timedelta(days=1)
SESSION_SWEEP_EVERY = dt.timedelta(hours=1)
SESSION_SWEEP_BATCH = 500
FAILURE_WINDOW_S = 600
FAILURE_LIMIT = 50  # refused identity checks per terminal and window (a card reader rarely fails)

_S = db.SessionToken.__table__.c
SESSION_COLUMNS = (
    _S.terminal_id.label("session_terminal"),
    _S.person_id,
    _S.expires_at,
    _S.ticket.label("session_ticket"),
)
_SESSION = select(*SESSION_COLUMNS).where(_S.token_hash == bindparam("th"))
_F = db.AuthFailure.__table__.c
_NOT_FOUND = ("person_not_found", "平台没有与您证件一致的登记信息，请到信用窗口咨询。")
_QR_REFUSALS = {
    "expired": ("login_qr_expired", "登录码已过期，请在手机上刷新后重新出示。"),
    "bad_signature": ("login_qr_invalid", "无法识别的登录码，请出示政务服务App中的登录码。"),
    "malformed": ("login_qr_invalid", "无法识别的登录码，请出示政务服务App中的登录码。"),
}
_COUNTED = frozenset({"person_not_found", "login_qr_invalid", "login_qr_expired", "login_qr_used"})


@dataclass(frozen=True)
class QueuedUse:
    """A login QR delivered from a terminal's offline queue: the request's ticket and when the
    terminal queued it (unix seconds)."""

    ticket: str
    queued_at: int


@dataclass(frozen=True)
class SessionPerson:
    person_id: int
    ticket: str | None  # set: the session serves this queued request's ticket only


class Logins:
    """Sessions from an ID card or a platform-signed login QR; the bearer's person for a call."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        clock: Clock,
        keys: Keyring,
        failure_limit: int = FAILURE_LIMIT,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.clock = clock
        self.keys = keys
        self.platform_key = keys.public_key()
        self.failure_limit = failure_limit
        self._next_sweep: dt.datetime | None = None  # at the first login

    # ---- identity checks ----------------------------------------------------------------------
    def session_from_id_card(
        self, caller: Caller, id_number: str, name: str, valid_until: dt.date | None
    ) -> dict[str, Any]:
        self._check_failures(caller)
        id_number = id_number.strip().upper()
        if not ids.is_valid_card_number(id_number):  # every card kind the readers decode
            raise unprocessable(
                "invalid_id_number", "证件号码校验不通过，请改用登录二维码或到窗口办理。"
            )
        if valid_until is not None and valid_until < self.clock().date():
            raise unprocessable("id_card_expired", "身份证已过有效期，请使用有效证件或扫码登录。")
        with self._counting(caller), self.sessions.begin() as s:
            person = s.scalars(
                select(db.Person).where(db.Person.id_hash == self.keys.id_hash(id_number))
            ).first()
            name_mac = self.keys.name_mac(name.strip())
            # unknown and wrong name answer alike: which ID numbers are registered stays unknown
            if person is None or not hmac.compare_digest(person.name_mac, name_mac):
                raise not_found(*_NOT_FOUND)
            return self._open_session(s, caller, person)

    def session_from_qr(
        self, caller: Caller, payload: str, queued: QueuedUse | None = None
    ) -> dict[str, Any]:
        self._check_failures(caller)
        now = int(self.clock().timestamp())
        with self._counting(caller):
            try:
                claims = crypto.read_login_qr(payload, self.platform_key)
            except crypto.LoginQrError as exc:
                raise unauthorized(*_QR_REFUSALS[exc.reason]) from None
            ticket = (
                self._late_ticket(caller, claims, now, queued) if now >= claims["exp"] else None
            )
            try:
                with self.sessions.begin() as s:
                    # the nonce is kept through the late window: once only, late or not
                    expires = claims["exp"] + LATE_QR_GRACE_S
                    s.add(db.UsedLoginQr(nonce=claims["nonce"], expires_at=expires))
                    s.execute(delete(db.UsedLoginQr).where(db.UsedLoginQr.expires_at < now))
                    person = s.scalars(
                        select(db.Person).where(db.Person.public_id == claims["sub"])
                    ).first()
                    if person is None:
                        raise not_found(*_NOT_FOUND)
                    return self._open_session(s, caller, person, ticket)
            except IntegrityError:
                raise unauthorized(
                    "login_qr_used", "该登录码已使用过，请在手机上刷新后重新出示。"
                ) from None

    def _late_ticket(
        self, caller: Caller, claims: crypto.LoginQrClaims, now: int, queued: QueuedUse | None
    ) -> str:
        """The ticket a QR past its expiry may still serve, or login_qr_expired."""
        in_time = (
            queued is not None
            and claims["iat"] - MAX_SKEW_S <= queued.queued_at < claims["exp"]
            and queued.queued_at <= now + MAX_SKEW_S
            and now < claims["exp"] + LATE_QR_GRACE_S
        )
        if queued is None or not in_time:
            raise unauthorized(*_QR_REFUSALS["expired"])
        log.info(
            "login QR used %d s after expiry for a queued request terminal=%s",
            now - claims["exp"],
            caller.terminal_id,
        )
        return queued.ticket

    def _open_session(
        self, s: Session, caller: Caller, person: db.Person, ticket: str | None = None
    ) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        expires = now + SESSION_TTL
        if self._next_sweep is None or now >= self._next_sweep:  # two threads at once: harmless
            self._next_sweep = now + SESSION_SWEEP_EVERY
            stale = select(_S.token_hash).where(_S.expires_at < now - EXPIRED_SESSION_KEPT)
            gone = s.connection().execute(
                delete(db.SessionToken).where(
                    _S.token_hash.in_(stale.limit(SESSION_SWEEP_BATCH).scalar_subquery())
                )
            )
            if gone.rowcount >= SESSION_SWEEP_BATCH:
                self._next_sweep = now
        s.add(
            db.SessionToken(
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                terminal_id=caller.terminal_id,
                person_id=person.id,
                expires_at=expires,
                ticket=ticket,
            )
        )
        rows = s.execute(
            select(db.Role.uscc, db.Role.role, db.Entity.name)
            .join(db.Entity, db.Entity.uscc == db.Role.uscc)
            .where(
                db.Role.person_id == person.id,
                db.Entity.region == caller.region,
                # an entity its region issues no report to is not offered (its report is refused)
                db.Entity.kind.in_(load_profile(caller.region).entity_kinds),
            )
            .order_by(db.Entity.name)
        ).all()
        name = self.keys.unseal(person.name_sealed, db.person_name_context(person.id_hash))
        return {
            "session_token": token,
            "expires_at": expires.isoformat(timespec="seconds"),
            "person": {"id": person.public_id, "name": ids.mask_name(name)},
            "enterprises": [{"uscc": u, "name": n, "role": r} for u, r, n in rows],
        }

    # ---- the failure count --------------------------------------------------------------------
    def _check_failures(self, caller: Caller) -> None:
        now = int(self.clock().timestamp())
        window = now - now % FAILURE_WINDOW_S
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_F.window_start, _F.failures).where(_F.terminal_id == caller.terminal_id)
            ).first()
        if row is not None and row.window_start == window and row.failures >= self.failure_limit:
            raise too_many(
                "too_many_attempts",
                "本终端身份核验失败次数过多，请稍后再试或联系工作人员。",
                window + FAILURE_WINDOW_S - now,
            )

    def _counting(self, caller: Caller) -> _FailureCounter:
        return _FailureCounter(self, caller)

    def count_failure(self, caller: Caller) -> None:
        now = int(self.clock().timestamp())
        window = now - now % FAILURE_WINDOW_S
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        stmt = dialect.insert(db.AuthFailure).values(
            terminal_id=caller.terminal_id, window_start=window, failures=1
        )
        same = stmt.excluded.window_start == db.AuthFailure.window_start
        stmt = stmt.on_conflict_do_update(
            index_elements=["terminal_id"],
            set_={
                "failures": case((same, db.AuthFailure.failures + 1), else_=1),
                "window_start": stmt.excluded.window_start,
            },
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    # ---- the bearer's session -----------------------------------------------------------------
    def session_for(self, caller: Caller, bearer: str | None, session: Any = None) -> SessionPerson:
        """The person of the bearer's session; `session` is its row if already looked up."""
        if not bearer:
            raise unauthorized("session_required", "请先刷身份证或扫码登录。")
        row = session
        if row is None:
            with db.reading(self.engine) as conn:
                row = conn.execute(_SESSION, {"th": token_hash(bearer)}).first()
        if row is None or row.session_terminal != caller.terminal_id:
            raise unauthorized("session_invalid", "登录已失效，请重新刷身份证或扫码登录。")
        if aware(row.expires_at) <= self.clock():
            raise unauthorized("session_expired", "登录已超时，请重新刷身份证或扫码登录。")
        return SessionPerson(int(row.person_id), row.session_ticket)

    def person_for(self, caller: Caller, bearer: str | None, session: Any = None) -> int:
        return self.session_for(caller, bearer, session).person_id


class _FailureCounter:
    """Counts a refused identity check (the codes that tell guessing apart) as it leaves."""

    def __init__(self, logins: Logins, caller: Caller) -> None:
        self.logins = logins
        self.caller = caller

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if isinstance(exc, ApiError) and exc.code in _COUNTED:
            self.logins.count_failure(self.caller)
