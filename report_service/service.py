"""The platform's operations behind the HTTP routes: one method per API call, errors as ApiError."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from . import crypto, db, ids, rules
from .clock import CST, Clock, system_clock
from .document import ReportDocument
from .entities import ENTITY_KINDS
from .errors import conflict, forbidden, not_found, unauthorized, unprocessable
from .pdf import render_report_pdf
from .profiles import Profile, load_profile

log = logging.getLogger("report_service")

MAX_SKEW_S = 300
SESSION_TTL = dt.timedelta(minutes=10)
ENROLLMENT_TTL = dt.timedelta(days=7)
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
VERIFICATION_CODE = re.compile(r"^[0-9A-Z]{12}$")
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _random_code(n: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(n))


@dataclass(frozen=True)
class Caller:
    """An authenticated terminal."""

    terminal_id: str
    hall_id: str
    region: str


@dataclass(frozen=True)
class ReportRequest:
    uscc: str
    domains: str | tuple[str, ...]
    period_from: dt.date
    period_to: dt.date

    def fingerprint(self) -> str:
        body = {
            "uscc": self.uscc,
            "domains": self.domains if isinstance(self.domains, str) else sorted(self.domains),
            "from": self.period_from.isoformat(),
            "to": self.period_to.isoformat(),
        }
        return _sha256_hex(json.dumps(body, sort_keys=True).encode())


class PlatformService:
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
            if row is None or _aware(row.expires_at) < now:
                raise unauthorized(
                    "invalid_enrollment_token", "注册令牌无效或已过期，请向平台申请新的令牌。"
                )
            if row.used_by is not None:
                raise conflict(
                    "enrollment_token_used", "该注册令牌已被使用，每个令牌只能注册一台终端。"
                )
            terminal_id = "T" + _random_code(15)
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

    def authenticate(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> Caller:
        """DESIGN §3 terminal request signing, with replay protection."""
        terminal_id = headers.get("x-terminal-id")
        timestamp = headers.get("x-timestamp")
        nonce = headers.get("x-nonce")
        signature = headers.get("x-signature")
        if not (terminal_id and timestamp and nonce and signature):
            raise unauthorized(
                "signature_missing", "请求缺少终端签名，请联系工作人员检查终端注册。"
            )
        if not timestamp.isdigit() or len(timestamp) > 12:
            raise unauthorized("bad_timestamp", "请求时间戳格式错误。")
        now = int(self.now().timestamp())
        if abs(now - int(timestamp)) > MAX_SKEW_S:
            raise unauthorized(
                "stale_timestamp", "终端时钟与平台相差过大，请联系工作人员校准时间。"
            )
        try:
            nonce_ok = 16 <= len(crypto.b64url_decode(nonce)) <= 64
        except ValueError:
            nonce_ok = False
        if not nonce_ok:
            raise unauthorized("bad_nonce", "请求随机数格式错误。")
        try:
            with self.sessions.begin() as s:  # one transaction: look the key up, record the nonce
                terminal = s.get(db.Terminal, terminal_id) if len(terminal_id) <= 64 else None
                if terminal is None or terminal.revoked:
                    raise unauthorized("unknown_terminal", "终端未注册或已被停用，请联系工作人员。")
                message = crypto.signing_string(method, path, timestamp, nonce, body)
                if not crypto.verify(self._terminal_key(terminal.public_key), signature, message):
                    raise unauthorized("bad_signature", "终端签名校验失败，请联系工作人员。")
                caller = Caller(terminal.id, terminal.hall_id, terminal.region)
                s.add(db.Nonce(terminal_id=terminal_id, nonce=nonce, seen_at=now))
                if secrets.randbelow(256) == 0:  # now and then, forget nonces past the window
                    s.execute(delete(db.Nonce).where(db.Nonce.seen_at < now - 2 * MAX_SKEW_S))
        except IntegrityError:
            raise unauthorized("replayed_nonce", "重复的请求已被拒绝。") from None
        return caller

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - the service lives as long as the process
    def _terminal_key(self, public_key_b64: str) -> Ed25519PublicKey:
        return crypto.load_public_key(public_key_b64)

    def profile(self, caller: Caller) -> Profile:
        return load_profile(caller.region)

    # ---- sessions -----------------------------------------------------------------------------
    def session_from_id_card(
        self, caller: Caller, id_number: str, name: str, valid_until: dt.date | None
    ) -> dict[str, Any]:
        id_number = id_number.strip().upper()
        if not ids.is_valid_id_number(id_number):
            raise unprocessable("invalid_id_number", "身份证号码校验不通过，请重新放置身份证。")
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

    def person_for(self, caller: Caller, bearer: str | None) -> int:
        if not bearer:
            raise unauthorized("session_required", "请先刷身份证或扫码登录。")
        with self.sessions() as s:
            row = s.get(db.SessionToken, _sha256_hex(bearer.encode()))
        if row is None or row.terminal_id != caller.terminal_id:
            raise unauthorized("session_invalid", "登录已失效，请重新刷身份证或扫码登录。")
        if _aware(row.expires_at) <= self.now():
            raise unauthorized("session_expired", "登录已超时，请重新刷身份证或扫码登录。")
        return row.person_id

    # ---- reports ------------------------------------------------------------------------------
    def create_report(
        self, caller: Caller, person_id: int, idempotency_key: str | None, request: ReportRequest
    ) -> dict[str, Any]:
        if not idempotency_key or not IDEMPOTENCY_KEY.match(idempotency_key):
            raise unprocessable(
                "invalid_idempotency_key",
                "请求缺少有效的 Idempotency-Key（8-128位字母、数字、-、_）。",
            )
        fingerprint = request.fingerprint()
        existing = self._report_by_key(idempotency_key)
        if existing is not None:
            return self._replay(existing, person_id, fingerprint)

        profile = self.profile(caller)
        error = ids.uscc_error(request.uscc)
        if error:
            raise unprocessable("invalid_uscc", f"统一社会信用代码有误：{error}")
        today = self.today()
        rules.validate_period(profile, request.period_from, request.period_to, today)
        domains = rules.select_domains(profile, request.domains)
        with self.sessions() as s:
            entity = s.get(db.Entity, request.uscc)
            if entity is None:
                raise not_found(
                    "entity_not_found", "平台没有该经营主体的登记信息，请核对统一社会信用代码。"
                )
            if entity.region != caller.region:
                raise unprocessable(
                    "entity_outside_region",
                    f"该经营主体不在{profile.region_name}登记，无法在本终端出具报告。",
                )
            if s.get(db.Role, (person_id, request.uscc)) is None:
                raise forbidden(
                    "not_authorized_for_entity",
                    "您不是该经营主体的法定代表人或经办人，不能为其出具报告。",
                )
            records = s.scalars(
                select(db.Record).where(
                    db.Record.uscc == request.uscc,
                    db.Record.date >= request.period_from,
                    db.Record.date <= request.period_to,
                )
            ).all()
            entity_name, entity_kind = entity.name, entity.kind
        results = rules.assemble(
            profile, domains, records, request.period_from, request.period_to, today
        )
        issued_at = self.now().replace(microsecond=0)
        report_id = "R" + issued_at.strftime("%Y%m%d") + _random_code(10)
        code = _random_code(12)
        document = ReportDocument(
            report_id=report_id,
            verification_code=code,
            verify_url=f"{self.public_url}/v1/verify/{code}",
            title=profile.report_title,
            platform_name=profile.platform_name,
            region_name=profile.region_name,
            entity_name=entity_name,
            uscc=request.uscc,
            entity_kind_label=ENTITY_KINDS.get(entity_kind, entity_kind),
            period_from=request.period_from,
            period_to=request.period_to,
            issued_at=issued_at,
            valid_until=today + dt.timedelta(days=profile.report_validity_days),
            domains=results,
        )
        pdf = render_report_pdf(document)
        row = db.Report(
            report_id=report_id,
            idempotency_key=idempotency_key,
            request_hash=fingerprint,
            terminal_id=caller.terminal_id,
            person_id=person_id,
            uscc=request.uscc,
            entity_name=entity_name,
            region=caller.region,
            domains=json.dumps([d.code for d in domains]),
            period_from=request.period_from,
            period_to=request.period_to,
            issued_at=issued_at,
            valid_until=document.valid_until,
            verification_code=code,
            summary=json.dumps(rules.summary_json(results), ensure_ascii=False),
            sha256=_sha256_hex(pdf),
            signature=self.platform_key.sign_b64(pdf),
            pdf=pdf,
        )
        try:
            with self.sessions.begin() as s:
                s.add(row)
        except IntegrityError:  # the same key raced in from a retry: answer with the winner
            winner = self._report_by_key(idempotency_key)
            if winner is None:
                raise
            return self._replay(winner, person_id, fingerprint)
        log.info(
            "report issued report=%s terminal=%s records=%d",
            report_id,
            caller.terminal_id,
            document.total_records,
        )
        return _report_json(row)

    def _report_by_key(self, key: str) -> db.Report | None:
        with self.sessions() as s:
            return s.scalars(
                select(db.Report)
                .where(db.Report.idempotency_key == key)
                .options(defer(db.Report.pdf))
            ).first()

    def _replay(self, report: db.Report, person_id: int, fingerprint: str) -> dict[str, Any]:
        if report.person_id != person_id or report.request_hash != fingerprint:
            raise conflict(
                "idempotency_key_reused", "该请求编号已用于另一份报告申请，请重新发起申请。"
            )
        return _report_json(report)

    def report_pdf(self, person_id: int, report_id: str) -> db.Report:
        """The report with its PDF, for the person who asked or anyone holding a role for it."""
        with self.sessions() as s:
            report = s.get(db.Report, report_id) if len(report_id) <= 32 else None
            if report is None:
                raise not_found("report_not_found", "没有找到这份报告。")
            if report.person_id != person_id and s.get(db.Role, (person_id, report.uscc)) is None:
                raise not_found("report_not_found", "没有找到这份报告。")
            return report

    def report_by_ticket(self, caller: Caller, person_id: int, ticket: str) -> dict[str, Any]:
        report = self._report_by_key(ticket) if IDEMPOTENCY_KEY.match(ticket) else None
        if report is None or report.person_id != person_id:
            raise not_found(
                "ticket_not_found", "没有找到该取件凭条对应的报告，请确认是本人办理的申请。"
            )
        return _report_json(report)

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
            "issued_at": _aware(report.issued_at).isoformat(),
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
        if not calendar.covers(due_by):
            log.warning("holiday calendar has no year %d; counting weekends only", due_by.year)
        objection_id = "OB" + today.strftime("%Y%m%d") + _random_code(8)
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


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes (stored in platform time); PostgreSQL aware ones in UTC."""
    return value.replace(tzinfo=CST) if value.tzinfo is None else value.astimezone(CST)


def _report_json(report: db.Report) -> dict[str, Any]:
    return {
        "report_id": report.report_id,
        "verification_code": report.verification_code,
        "issued_at": _aware(report.issued_at).isoformat(),
        "valid_until": report.valid_until.isoformat(),
        "summary": json.loads(report.summary),
        "sha256": report.sha256,
        "signature": report.signature,
    }


__all__ = ["Caller", "PlatformService", "ReportRequest"]
