"""Staff accounts, logins and sessions for the hall dashboard (DESIGN §8).

Passwords are kept as scrypt hashes (memory-hard, in the standard library). A login is limited per
client address and an account locks for a while after repeated wrong passwords; an unknown username
costs the same work and gets the same answer as a wrong password. A session is an HttpOnly,
SameSite=Strict cookie; every state-changing call also carries the session's CSRF token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import db
from ..errors import ApiError, conflict, forbidden, unauthorized, unprocessable
from . import models
from .context import HallContext, aware
from .vocabulary import COMMAND_KINDS, STAFF_ROLES

log = logging.getLogger("report_service.hall")

SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # 16 MiB per hash, about 50 ms here
MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
FAILED_LOGINS_PER_MINUTE = 10  # per client address
HALL_STAFF_COMMANDS = frozenset({"lock", "unlock", "print_test_page"})
# NIST SP 800-63B's floor, with the lockout and the per-address limit against guessing
MIN_PASSWORD = 8
LOGIN_REFUSED = {
    "login_failed": "用户名或密码不正确。",
    "account_locked": "密码错误次数过多，账号已暂时锁定，请15分钟后再试。",
}


def username_problem(username: str) -> str | None:
    """Why a new staff username is refused, or None."""
    if 3 <= len(username) <= 64 and username.isascii() and username.isprintable():
        return None
    return "用户名应为3至64个英文字母、数字或符号。"


def password_problem(password: str) -> str | None:
    """Why a new staff password is refused, or None."""
    return f"密码至少{MIN_PASSWORD}个字符。" if len(password) < MIN_PASSWORD else None


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=64 * 2**20, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        mine = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                              p=int(p), maxmem=64 * 2**20)  # fmt: skip
    except ValueError:
        return False
    return hmac.compare_digest(mine.hex(), digest)


_DUMMY = hash_password("not a password", b"\0" * 16)  # an unknown user costs the same work


@dataclass(frozen=True)
class StaffMember:
    username: str
    display_name: str
    role: str
    region: str
    halls: frozenset[str]  # the halls this member sees and acts on
    csrf_token: str

    def require_hall(self, hall_id: str) -> None:
        if hall_id not in self.halls:
            raise forbidden("not_your_hall", "您没有这个大厅的权限。")

    @property
    def allowed_commands(self) -> frozenset[str]:
        return HALL_STAFF_COMMANDS if self.role == "hall_staff" else frozenset(COMMAND_KINDS)


class RateLimit:
    """At most `limit` recorded events (failed logins) per key in a sliding minute, per process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            seen = self._seen.get(key)
            while seen and now - seen[0] > 60:
                seen.popleft()
            return bool(seen) and len(seen) >= self.limit  # type: ignore[arg-type]

    def record(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:  # forget addresses not seen for a minute
                self._seen = {k: q for k, q in self._seen.items() if q and now - q[-1] < 60}
            self._seen.setdefault(key, deque()).append(now)


class StaffAccounts:
    def __init__(self, ctx: HallContext) -> None:
        self.ctx = ctx
        self.failures = RateLimit(FAILED_LOGINS_PER_MINUTE)

    def add(self, username: str, display_name: str, hall_id: str, region: str, role: str,
            password: str) -> None:  # fmt: skip
        if role not in STAFF_ROLES:
            raise unprocessable("invalid_role", f"角色应为：{'、'.join(STAFF_ROLES)}")
        if problem := username_problem(username):
            raise unprocessable("invalid_username", problem)
        problem = password_problem(password)
        if problem:
            raise unprocessable("weak_password", problem)
        try:
            with self.ctx.sessions.begin() as s:
                self.ctx.ensure_hall(s, hall_id, region)
                s.add(models.Staff(
                    username=username, display_name=display_name or username, hall_id=hall_id,
                    region=region, role=role, password_hash=hash_password(password),
                    created_at=self.ctx.now(),
                ))  # fmt: skip
        except IntegrityError:
            raise conflict("username_taken", "该用户名已存在。") from None

    def login(self, username: str, password: str, client: str) -> tuple[str, StaffMember]:
        """A new session token and its member; refuses without saying which part was wrong."""
        if self.failures.blocked(client):
            raise ApiError(429, "too_many_logins", "登录尝试过于频繁，请一分钟后再试。")
        now = self.ctx.now()
        with self.ctx.sessions.begin() as s:
            staff = s.scalars(select(models.Staff).where(models.Staff.username == username)).first()
            locked = staff is not None and staff.locked_until and aware(staff.locked_until) > now
            good = check_password(password, staff.password_hash if staff and not locked else _DUMMY)
            if locked:
                log.warning("staff login refused: %s is locked", username)
                failed = "account_locked"
            elif staff is None or staff.disabled or not good:
                if staff is not None:
                    staff.failed_logins += 1
                    if staff.failed_logins >= MAX_FAILURES:
                        staff.locked_until, staff.failed_logins = now + LOCKOUT, 0
                log.warning("staff login refused for %r from %s", username[:64], client)
                failed = "login_failed"
            else:
                staff.failed_logins, staff.locked_until = 0, None
                token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
                s.add(models.StaffSession(
                    token_hash=_hash(token), staff_id=staff.id, csrf_token=csrf, created_at=now,
                    expires_at=now + dt.timedelta(seconds=self.ctx.settings.staff_session_s),
                ))  # fmt: skip
                s.execute(delete(models.StaffSession).where(models.StaffSession.expires_at < now))
                s.add(models.StaffAction(at=now, username=username, hall_id=staff.hall_id,
                                         action="login", target=client, detail=""))  # fmt: skip
                member = self._member(s, staff, csrf)
                failed = ""
        if failed:  # after the commit, so the failure count sticks
            self.failures.record(client)
            raise unauthorized(failed, LOGIN_REFUSED[failed])
        log.info("staff %s logged in from %s", username, client)
        return token, member

    def member(self, token: str | None) -> StaffMember:
        if not token:
            raise unauthorized("staff_login_required", "请先登录。")
        with self.ctx.sessions() as s:
            row = s.get(models.StaffSession, _hash(token))
            if row is None or aware(row.expires_at) <= self.ctx.now():
                raise unauthorized("staff_login_required", "登录已过期，请重新登录。")
            staff = s.get(models.Staff, row.staff_id)
            if staff is None or staff.disabled:
                raise unauthorized("staff_login_required", "账号已停用。")
            return self._member(s, staff, row.csrf_token)

    def logout(self, token: str | None) -> None:
        if token:
            with self.ctx.sessions.begin() as s:
                s.execute(
                    delete(models.StaffSession).where(
                        models.StaffSession.token_hash == _hash(token)
                    )
                )

    @staticmethod
    def _member(s: Session, staff: models.Staff, csrf: str) -> StaffMember:
        halls = {staff.hall_id}
        if staff.role == "region_admin":  # the region's halls: seen, enrolled, or a token made
            region = staff.region
            halls |= set(s.scalars(select(models.Hall.hall_id).where(models.Hall.region == region)))
            halls |= set(s.scalars(select(db.Terminal.hall_id).where(db.Terminal.region == region)))
            halls |= set(
                s.scalars(
                    select(db.EnrollmentToken.hall_id).where(db.EnrollmentToken.region == region)
                )
            )
        return StaffMember(staff.username, staff.display_name, staff.role, staff.region,
                           frozenset(halls), csrf)  # fmt: skip


def check_csrf(member: StaffMember, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sent, member.csrf_token):
        raise forbidden("csrf_failed", "页面已过期，请刷新后重试。")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
