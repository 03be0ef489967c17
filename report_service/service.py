"""The platform's operations behind the HTTP routes: one method per API call, errors as ApiError."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from . import crypto, db, ids
from .clock import Clock, system_clock
from .errors import conflict, forbidden, not_found, unauthorized, unprocessable
from .profiles import Profile, load_profile
from .reports import (
    Caller,
    ReportIssuer,
    ReportRequest,
    aware,
    random_code,
)
from .signing import MAX_SKEW_S, RequestSigning, token_hash

log = logging.getLogger("report_service")

SESSION_TTL = dt.timedelta(minutes=10)
ENROLLMENT_TTL = dt.timedelta(days=7)
VERIFICATION_CODE = re.compile(r"^[0-9A-Z]{12}$")
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_S = db.SessionToken.__table__.c
_SESSION = select(_S.terminal_id.label("session_terminal"), _S.person_id, _S.expires_at).where(
    _S.token_hash == bindparam("th")
)


class PlatformService(RequestSigning, ReportIssuer):
    def __init__(
        self,
        engine: Any,
        public_url: str = "http://127.0.0.1:8080",
        clock: Clock = system_clock,
    ) -> None:
        self.engine = engine
        self.sessions = db.session_factory(engine)
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self.platform_key, self._pepper = self._load_secrets()

    # ---- set-up -------------------------------------------------------------------------------
    def _load_secrets(self) -> tuple[crypto.SigningKey, bytes]:
        db.init_db(self.engine)
        with self.sessions.begin() as s:
            key = s.get(db.Setting, "platform_private_key")
            pepper = s.get(db.Setting, "id_pepper")
            if key is None:
                key = db.Setting(
                    key="platform_private_key", value=crypto.SigningKey.generate().private_b64()
                )
                s.add(key)
            if pepper is None:
                pepper = db.Setting(key="id_pepper", value=secrets.token_hex(32))
                s.add(pepper)
        return crypto.SigningKey.from_private_b64(key.value), bytes.fromhex(pepper.value)

    def id_hash(self, id_number: str) -> str:
        return hmac.new(self._pepper, id_number.upper().encode(), hashlib.sha256).hexdigest()

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        return self.clock().date()

    # ---- terminals ----------------------------------------------------------------------------
    def add_enrollment_token(self, hall_id: str, region: str) -> str:
        load_profile(region)  # raises for an unknown region
        token = secrets.token_urlsafe(24)
        now = self.now()
        with self.sessions.begin() as s:
            s.add(
                db.EnrollmentToken(
                    token_hash=_sha256_hex(token.encode()),
                    hall_id=hall_id,
                    region=region,
                    created_at=now,
                    expires_at=now + ENROLLMENT_TTL,
                )
            )
        return token

    def enroll(self, token: str, public_key: str, hardware: Mapping[str, Any]) -> dict[str, Any]:
        try:
            crypto.load_public_key(public_key)
        except ValueError:
            raise unprocessable(
                "invalid_public_key", "终端公钥格式不正确（应为32字节Ed25519公钥的base64）。"
            ) from None
        now = self.now()
        with self.sessions.begin() as s:
            row = s.get(db.EnrollmentToken, _sha256_hex(token.encode()), with_for_update=True)
            if row is None or aware(row.expires_at) < now:
                raise unauthorized(
                    "invalid_enrollment_token", "注册令牌无效或已过期，请向平台申请新的令牌。"
                )
            if row.used_by is not None:
                raise conflict(
                    "enrollment_token_used", "该注册令牌已被使用，每个令牌只能注册一台终端。"
                )
            terminal_id = "T" + random_code(15)
            row.used_by = terminal_id
            s.add(
                db.Terminal(
                    id=terminal_id,
                    hall_id=row.hall_id,
                    region=row.region,
                    public_key=public_key,
                    hardware=json.dumps(dict(hardware), ensure_ascii=False),
                    enrolled_at=now,
                )
            )
            hall_id, region = row.hall_id, row.region
        log.info("terminal enrolled terminal=%s hall=%s region=%s", terminal_id, hall_id, region)
        profile = load_profile(region)
        return {
            "terminal_id": terminal_id,
            "hall_id": hall_id,
            "region": region,
            "platform_public_key": self.platform_key.public_b64,
            "config": {
                "region_name": profile.region_name,
                "report_title": profile.report_title,
                "session_ttl_s": int(SESSION_TTL.total_seconds()),
                "max_clock_skew_s": MAX_SKEW_S,
                "verify_url_prefix": f"{self.public_url}/v1/verify/",
            },
        }

    def profile(self, caller: Caller) -> Profile:
        return load_profile(caller.region)

    # ---- sessions -----------------------------------------------------------------------------
    def session_from_id_card(
        self, caller: Caller, id_number: str, name: str, valid_until: dt.date | None
    ) -> dict[str, Any]:
        id_number = id_number.strip().upper()
        if not ids.is_valid_card_number(id_number):  # every card kind the readers decode
            raise unprocessable(
                "invalid_id_number", "证件号码校验不通过，请改用登录二维码或到窗口办理。"
            )
        if valid_until is not None and valid_until < self.today():
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
        now = int(self.now().timestamp())
        try:
            claims = crypto.parse_login_qr(payload, self.platform_key.public_key(), now)
        except crypto.LoginQrError as exc:
            messages = {
                "expired": ("login_qr_expired", "登录码已过期，请在手机上刷新后重新出示。"),
                "bad_signature": (
                    "login_qr_invalid",
                    "无法识别的登录码，请出示政务服务App中的登录码。",
                ),
                "malformed": (
                    "login_qr_invalid",
                    "无法识别的登录码，请出示政务服务App中的登录码。",
                ),
            }
            code, message = messages[exc.reason]
            raise unauthorized(code, message) from None
        try:
            with self.sessions.begin() as s:
                s.add(db.UsedLoginQr(nonce=str(claims["nonce"]), expires_at=int(claims["exp"])))  # type: ignore[call-overload]
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
        expires = self.now() + SESSION_TTL
        s.add(
            db.SessionToken(
                token_hash=_sha256_hex(token.encode()),
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
        if aware(row.expires_at) <= self.now():
            raise unauthorized("session_expired", "登录已超时，请重新刷身份证或扫码登录。")
        return int(row.person_id)

    # ---- verification and objections ----------------------------------------------------------
    def verify(self, code: str) -> dict[str, Any]:
        code = code.strip().upper().replace("-", "")
        report = None
        if VERIFICATION_CODE.match(code):
            with self.sessions() as s:
                report = s.scalars(
                    select(db.Report)
                    .where(db.Report.verification_code == code)
                    .options(defer(db.Report.pdf))
                ).first()
        if report is None:
            return {
                "status": "unknown",
                "uscc": None,
                "name": None,
                "issued_at": None,
                "domains": None,
                "period": None,
                "sha256": None,
            }
        if report.revoked_at is not None:
            status = "revoked"
        elif self.today() > report.valid_until:
            status = "expired"
        else:
            status = "valid"
        profile = load_profile(report.region)
        codes = json.loads(report.domains)
        return {
            "status": status,
            "uscc": report.uscc,
            "name": report.entity_name,
            "issued_at": aware(report.issued_at).isoformat(),
            "domains": [
                {"code": c, "name": d.name if (d := profile.domain(c)) else c} for c in codes
            ],
            "period": {"from": report.period_from.isoformat(), "to": report.period_to.isoformat()},
            "sha256": report.sha256,
        }

    def revoke(self, report_id: str) -> bool:
        with self.sessions.begin() as s:
            report = s.get(db.Report, report_id)
            if report is None:
                return False
            report.revoked_at = report.revoked_at or self.now()
            return True

    def file_objection(
        self,
        caller: Caller,
        person_id: int,
        report_id: str,
        record_id: str,
        reason: str,
        contact: str,
    ) -> dict[str, Any]:
        report = self.report_pdf(person_id, report_id)
        record_ids = {
            r["record_id"] for d in json.loads(report.summary)["domains"] for r in d["records"]
        }
        if record_id not in record_ids:
            raise unprocessable(
                "record_not_in_report", "这条记录不在该报告中，请从报告中选择要提出异议的记录。"
            )
        reason = reason.strip()
        if not 2 <= len(reason) <= 500:
            raise unprocessable("invalid_reason", "请填写异议理由（2至500字）。")
        contact = contact.strip()
        if not PHONE.match(contact):
            raise unprocessable(
                "invalid_contact", "联系电话格式不正确，请输入11位手机号或带区号的固定电话。"
            )
        today = self.today()
        calendar = load_profile(report.region).calendar
        due_by = calendar.add_working_days(today, 5)
        if gap := calendar.gap(due_by):  # a later year's holidays may shift the due date
            log.warning("objection due %s: %s", due_by.isoformat(), gap)
        objection_id = "OB" + today.strftime("%Y%m%d") + random_code(8)
        with self.sessions.begin() as s:
            s.add(
                db.Objection(
                    objection_id=objection_id,
                    report_id=report_id,
                    record_id=record_id,
                    reason=reason,
                    contact=contact,
                    terminal_id=caller.terminal_id,
                    created_at=self.now(),
                    due_by=due_by,
                )
            )
        log.info("objection filed objection=%s report=%s", objection_id, report_id)
        return {"objection_id": objection_id, "due_by": due_by.isoformat()}

    def healthy(self) -> bool:
        try:
            with self.sessions() as s:
                s.execute(select(1))
        except Exception:  # any driver error means the database is unreachable
            log.exception("database unreachable")
            return False
        return True


__all__ = ["Caller", "PlatformService", "ReportRequest"]
