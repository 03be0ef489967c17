"""DESIGN §3 request signing: each terminal request carries an Ed25519 signature over method,
path, timestamp, nonce and body hash; a nonce is accepted once within the clock-skew window."""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import CTE, Insert, and_, bindparam, delete, exists, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from . import crypto, db
from .clock import Clock
from .db import using
from .errors import unauthorized

log = logging.getLogger("report_service")

MAX_SKEW_S = 300
MAX_NONCE_CHARS = 128

_T = db.Terminal.__table__.c
_N = db.Nonce.__table__.c
_S = db.SessionToken.__table__.c
# The terminal, whether its nonce was seen already, and the bearer's session: one round trip.
_TERMINAL = (
    select(
        _T.id, _T.hall_id, _T.region, _T.public_key, _T.revoked,
        exists().where(and_(_N.terminal_id == _T.id, _N.nonce == bindparam("nonce"))).label("seen"),
        _S.terminal_id.label("session_terminal"), _S.person_id, _S.expires_at,
        _S.ticket.label("session_ticket"),
    )
    .select_from(db.Terminal.__table__.outerjoin(db.SessionToken.__table__, _S.token_hash == bindparam("th")))
    .where(_T.id == bindparam("tid"))
)  # fmt: skip
# A request's nonce as statement parameters (nonce_params), named apart from the columns: an
# INSERT or UPDATE in the same statement (with_nonce, nonce_for_each) would take those as its own.
_NONCE_VALUES = {
    "terminal_id": bindparam("signed_terminal", type_=_N.terminal_id.type),
    "nonce": bindparam("signed_nonce", type_=_N.nonce.type),
    "seen_at": bindparam("signed_at", type_=_N.seen_at.type),
}
_INSERT_NONCE = insert(db.Nonce).values(_NONCE_VALUES)


@dataclass(frozen=True)
class Caller:
    """An authenticated terminal."""

    terminal_id: str
    hall_id: str
    region: str


@dataclass(frozen=True)
class SignedRequest:
    """A request whose signature checked out; its nonce is recorded with the request's outcome."""

    caller: Caller
    nonce: str
    seen_at: int
    session: Any = None  # the bearer's session row, looked up with the terminal (or None)
    bearer: str | None = field(default=None, repr=False)  # the session's token, as sent


class NonceLedger(Protocol):
    """Records a signed request's nonce (RequestAuth)."""

    def record_nonce(self, signed: SignedRequest, conn: Connection | None = None) -> None: ...

    def forget_old_nonces(self, signed: SignedRequest) -> None: ...


class PendingNonce:
    """A signed request's nonce, recorded exactly once whatever the request's outcome: with the
    request's writes (`record(conn)` in their transaction, `record_by` in their one statement),
    or on its own (`record()`) when they do not commit."""

    def __init__(self, ledger: NonceLedger, signed: SignedRequest | None) -> None:
        self.ledger = ledger
        self.signed = signed
        self.recorded: SignedRequest | None = None

    def record(self, conn: Connection | None = None) -> None:
        signed, self.signed = self.signed, None
        if signed is not None:
            self.recorded = signed  # in conn's transaction: undone if that rolls back
            self.ledger.record_nonce(signed, conn)

    def record_by(self, write: Callable[[SignedRequest], bool]) -> bool:
        """Record the nonce through `write`: one statement without a transaction that records it
        if, and only if, it writes, and says whether it did (PostgreSQL: nonce_for_each,
        with_nonce). False, with the nonce still to record, if it did not or raised; False too
        if there is no nonce (left) to record."""
        signed = self.signed
        if signed is None or not write(signed):
            return False
        self.signed, self.recorded = None, signed
        self.ledger.forget_old_nonces(signed)  # after: the nonce is in, whatever this does
        return True

    def rolled_back(self) -> None:
        """The transaction it was recorded in rolled back: it is to be recorded again."""
        if self.recorded is not None:
            self.signed, self.recorded = self.recorded, None


class RequestAuth:
    """Terminal request signing and the nonce ledger (DESIGN §3)."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def authenticate(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> Caller:
        """DESIGN §3 terminal request signing, with replay protection: the nonce is recorded now."""
        signed = self.verify_signature(method, path, headers, body)
        self.record_nonce(signed)
        return signed.caller

    def verify_signature(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        conn: Connection | None = None,
    ) -> SignedRequest:
        """Check a request's signature without writing anything; the caller must record_nonce.
        The session of the Authorization header's bearer token, if any, comes in the same query
        (see person_for), and the token with it."""
        terminal_id = headers.get("x-terminal-id")
        timestamp = headers.get("x-timestamp")
        nonce = headers.get("x-nonce")
        signature = headers.get("x-signature")
        if not (terminal_id and timestamp and nonce and signature):
            raise unauthorized(
                "signature_missing", "请求缺少终端签名，请联系工作人员检查终端注册。"
            )
        if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
            raise unauthorized("bad_timestamp", "请求时间戳格式错误。")
        now = int(self.clock().timestamp())
        if abs(now - int(timestamp)) > MAX_SKEW_S:
            raise unauthorized(
                "stale_timestamp", "终端时钟与平台相差过大，请联系工作人员校准时间。"
            )
        try:  # 16+ bytes (DESIGN); stored in a 128-character column
            nonce_ok = len(nonce) <= MAX_NONCE_CHARS and len(crypto.b64url_decode(nonce)) >= 16
        except ValueError:
            nonce_ok = False
        if not nonce_ok:
            raise unauthorized("bad_nonce", "请求随机数格式错误。")
        terminal = None
        bearer = bearer_token(headers.get("authorization"))
        if len(terminal_id) <= 64:
            with using(self.engine, conn, reads_only=True) as c:
                params = {"tid": terminal_id, "nonce": nonce, "th": token_hash(bearer)}
                terminal = c.execute(_TERMINAL, params).first()
        if terminal is None or terminal.revoked:
            raise unauthorized("unknown_terminal", "终端未注册或已被停用，请联系工作人员。")
        message = crypto.signing_string(method, path, timestamp, nonce, body)
        if not crypto.verify(self._terminal_key(terminal.public_key), signature, message):
            raise unauthorized("bad_signature", "终端签名校验失败，请联系工作人员。")
        if terminal.seen:  # the common replay, refused before any work; racing ones at insert
            raise _replayed()
        caller = Caller(terminal.id, terminal.hall_id, terminal.region)
        session = terminal if bearer and terminal.session_terminal is not None else None
        return SignedRequest(caller, nonce, now, session, bearer)

    def record_nonce(self, signed: SignedRequest, conn: Connection | None = None) -> None:
        """Record a request's nonce: in conn's transaction if given (a duplicate then raises
        IntegrityError there), else in its own, refusing a duplicate as a replay."""
        if conn is None:
            try:
                with self.engine.begin() as own:
                    self._insert_nonce(own, signed)
            except IntegrityError:
                raise _replayed() from None
        else:
            self._insert_nonce(conn, signed)

    def _insert_nonce(self, conn: Connection, signed: SignedRequest) -> None:
        conn.execute(_INSERT_NONCE, nonce_params(signed))
        if _time_to_forget():  # in the request's transaction: it commits with the nonce
            _forget_old(conn, signed)

    def forget_old_nonces(self, signed: SignedRequest) -> None:
        """Now and then, after a nonce recorded without a transaction, delete the nonces past the
        window in one of its own; a failure is logged: the request it follows is done."""
        if not _time_to_forget():
            return
        try:
            with self.engine.begin() as conn:
                _forget_old(conn, signed)
        except SQLAlchemyError as exc:
            log.warning("old nonces not deleted this time: %s", type(exc).__name__)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - the service lives as long as the process
    def _terminal_key(self, public_key_b64: str) -> Ed25519PublicKey:
        return crypto.load_public_key(public_key_b64)


def nonce_params(signed: SignedRequest) -> dict[str, Any]:
    """The parameters of nonce_for_each and with_nonce."""
    return {"signed_terminal": signed.caller.terminal_id, "signed_nonce": signed.nonce,
            "signed_at": signed.seen_at}  # fmt: skip


def nonce_for_each(rows: CTE) -> Insert:
    """One statement that records a request's nonce only if `rows` (a data-modifying CTE) yields
    a row: the write and its nonce commit together or not at all, without a transaction around
    them (PostgreSQL). It returns the nonce if recorded."""
    values = select(*_NONCE_VALUES.values()).select_from(rows).limit(1)
    insert_ = insert(db.Nonce).from_select(list(_NONCE_VALUES), values)
    return insert_.add_cte(rows).returning(_N.nonce)  # a row back: rowcount is not kept for it


def with_nonce(write: Insert) -> Insert:
    """`write` and the request's nonce as one statement (PostgreSQL): both or neither, a replayed
    nonce failing the whole statement with IntegrityError."""
    return write.add_cte(_INSERT_NONCE.cte("recorded_nonce"))


def _time_to_forget() -> bool:
    return secrets.randbelow(256) == 0  # a 256th of the recorded nonces clears the old ones


def _forget_old(conn: Connection, signed: SignedRequest) -> None:
    conn.execute(delete(db.Nonce).where(_N.seen_at < signed.seen_at - 2 * MAX_SKEW_S))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def token_hash(bearer: str | None) -> str:
    return hashlib.sha256(bearer.encode()).hexdigest() if bearer else ""


def _replayed() -> Exception:
    return unauthorized("replayed_nonce", "重复的请求已被拒绝。")


__all__ = [
    "MAX_SKEW_S",
    "Caller",
    "NonceLedger",
    "PendingNonce",
    "RequestAuth",
    "SignedRequest",
    "bearer_token",
    "nonce_for_each",
    "nonce_params",
    "token_hash",
    "with_nonce",
]
