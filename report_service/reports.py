"""Issuing reports: the hot path of the platform (POST /v1/reports), and reading them back.

The per-request database work goes through SQLAlchemy Core statements built once (the ORM's unit
of work cost more than the render): one read connection for the idempotency key, the entity, the
role and the records, then one write transaction that records the request nonce together with the
report, so a request costs one commit instead of two.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, exists, insert, select
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from . import crypto, db, ids, rules
from .clock import CST
from .document import ReportDocument
from .entities import ENTITY_KINDS
from .errors import conflict, forbidden, not_found, unprocessable
from .pdf import render_report_pdf
from .profiles import Profile

log = logging.getLogger("report_service")

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
IDEMPOTENCY_KEY = re.compile(r"\A[!-~]{1,128}\Z")  # DESIGN sets no format: visible ASCII

_R = db.Report.__table__.c
_RECEIPT = (_R.report_id, _R.person_id, _R.request_hash, _R.verification_code, _R.issued_at)
_RECEIPT += (_R.valid_until, _R.summary, _R.sha256, _R.signature)
_BY_KEY = select(*_RECEIPT).where(_R.idempotency_key == bindparam("key"))
_E = db.Entity.__table__.c
_O = db.Role.__table__.c
_ENTITY = select(  # with whether the person holds a role for it: one round trip
    _E.name, _E.kind, _E.region,
    exists().where(and_(_O.person_id == bindparam("pid"), _O.uscc == _E.uscc)).label("role"),
).where(_E.uscc == bindparam("uscc"))  # fmt: skip
_C = db.Record.__table__.c
_RECORDS = select(db.Record.__table__).where(
    and_(_C.uscc == bindparam("uscc"), _C.date >= bindparam("start"), _C.date <= bindparam("end"))
)
_INSERT_REPORT = insert(db.Report.__table__)


@contextmanager
def using(engine: Engine, conn: Connection | None) -> Iterator[Connection]:
    """conn if the caller holds one for the whole request, else one checked out for this."""
    if conn is not None:
        yield conn
    else:
        with engine.connect() as own:
            yield own


def random_code(n: int) -> str:
    # 256 is a multiple of 32: each random byte picks a letter uniformly
    return "".join(CODE_ALPHABET[b % 32] for b in secrets.token_bytes(n))


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


@dataclass(frozen=True)
class ReportRequest:
    uscc: str
    domains: str | tuple[str, ...]
    period_from: dt.date
    period_to: dt.date

    def fingerprint(self) -> str:
        body = {
            "uscc": self.uscc,
            # the same set of domains is the same report, whatever the order or repeats
            "domains": self.domains if isinstance(self.domains, str) else sorted(set(self.domains)),
            "from": self.period_from.isoformat(),
            "to": self.period_to.isoformat(),
        }
        return _sha256_hex(json.dumps(body, sort_keys=True).encode())


class _PendingNonce:
    """A signed request's nonce, recorded exactly once whatever the request's outcome."""

    def __init__(self, issuer: ReportIssuer, signed: SignedRequest | None) -> None:
        self.issuer = issuer
        self.signed = signed
        self.recorded: SignedRequest | None = None

    def record(self, conn: Connection | None = None) -> None:
        signed, self.signed = self.signed, None
        if signed is not None:
            self.recorded = signed  # in conn's transaction: undone if that rolls back
            self.issuer.record_nonce(signed, conn)


class ReportIssuer:
    """The report half of PlatformService (service.py supplies the clock, keys and nonces)."""

    engine: Engine
    sessions: Any
    public_url: str
    platform_key: crypto.SigningKey
    now: Callable[[], dt.datetime]
    today: Callable[[], dt.date]
    profile: Callable[[Caller], Profile]
    record_nonce: Callable[..., None]
    person_for: Callable[..., int]

    def issue_report(
        self,
        signed: SignedRequest,
        bearer: str | None,
        idempotency_key: str | None,
        request: ReportRequest,
        conn: Connection | None = None,
    ) -> dict[str, Any]:
        """POST /v1/reports after verify_signature: the session, then the report; conn, if
        given, serves the whole request (one pool checkout instead of three)."""
        try:
            person_id = self.person_for(signed.caller, bearer, signed.session)
        except Exception:
            self.record_nonce(signed)
            raise
        return self.create_report(signed.caller, person_id, idempotency_key, request, signed, conn)

    def create_report(
        self,
        caller: Caller,
        person_id: int,
        idempotency_key: str | None,
        request: ReportRequest,
        signed: SignedRequest | None = None,
        conn: Connection | None = None,
    ) -> dict[str, Any]:
        """Issue (or, for a known Idempotency-Key, return) a report. With `signed`, its nonce is
        recorded in the report's own transaction, or on its own for any other outcome."""
        pending = _PendingNonce(self, signed)
        try:
            return self._create_report(caller, person_id, idempotency_key, request, pending, conn)
        except Exception:
            pending.record()  # a replay of a refused request is still a replay
            raise

    def _create_report(
        self,
        caller: Caller,
        person_id: int,
        idempotency_key: str | None,
        request: ReportRequest,
        pending: _PendingNonce,
        shared: Connection | None,
    ) -> dict[str, Any]:
        if not idempotency_key or not IDEMPOTENCY_KEY.match(idempotency_key):
            raise unprocessable(
                "invalid_idempotency_key",
                "请求缺少有效的 Idempotency-Key（1至128个字母、数字或符号，不含空格）。",
            )
        fingerprint = request.fingerprint()
        profile = self.profile(caller)
        with using(self.engine, shared) as conn:
            existing = conn.execute(_BY_KEY, {"key": idempotency_key}).first()
            if existing is not None:
                pending.record()
                return _replay(existing, person_id, fingerprint)
            error = ids.uscc_error(request.uscc)
            if error:
                raise unprocessable("invalid_uscc", f"统一社会信用代码有误：{error}")
            today = self.today()
            rules.validate_period(profile, request.period_from, request.period_to, today)
            domains = rules.select_domains(profile, request.domains)
            entity = conn.execute(_ENTITY, {"uscc": request.uscc, "pid": person_id}).first()
            if entity is None:
                raise not_found(
                    "entity_not_found", "平台没有该经营主体的登记信息，请核对统一社会信用代码。"
                )
            if entity.region != caller.region:
                raise unprocessable(
                    "entity_outside_region",
                    f"该经营主体不在{profile.region_name}登记，无法在本终端出具报告。",
                )
            if not entity.role:
                raise forbidden(
                    "not_authorized_for_entity",
                    "您不是该经营主体的法定代表人或经办人，不能为其出具报告。",
                )
            period = {"uscc": request.uscc, "start": request.period_from, "end": request.period_to}
            records = conn.execute(_RECORDS, period).all()
            conn.rollback()  # reads done: no transaction stays open over the render
        results = rules.assemble(
            profile, domains, records, request.period_from, request.period_to, today
        )
        issued_at = self.now().replace(microsecond=0)
        report_id = "R" + issued_at.strftime("%Y%m%d") + random_code(10)
        code = random_code(12)
        document = ReportDocument(
            report_id=report_id,
            verification_code=code,
            verify_url=f"{self.public_url}/v1/verify/{code}",
            title=profile.report_title,
            platform_name=profile.platform_name,
            region_name=profile.region_name,
            entity_name=entity.name,
            uscc=request.uscc,
            entity_kind_label=ENTITY_KINDS.get(entity.kind, entity.kind),
            period_from=request.period_from,
            period_to=request.period_to,
            issued_at=issued_at,
            valid_until=today + dt.timedelta(days=profile.report_validity_days),
            domains=results,
        )
        pdf = render_report_pdf(document)
        summary = rules.summary_json(results)
        row = {
            "report_id": report_id,
            "idempotency_key": idempotency_key,
            "request_hash": fingerprint,
            "terminal_id": caller.terminal_id,
            "person_id": person_id,
            "uscc": request.uscc,
            "entity_name": entity.name,
            "region": caller.region,
            "domains": json.dumps([d.code for d in domains]),
            "period_from": request.period_from,
            "period_to": request.period_to,
            "issued_at": issued_at,
            "valid_until": document.valid_until,
            "verification_code": code,
            "summary": json.dumps(summary, ensure_ascii=False),
            "sha256": _sha256_hex(pdf),
            "signature": self.platform_key.sign_b64(pdf),
            "pdf": pdf,
            "revoked_at": None,
        }
        try:
            with using(self.engine, shared) as conn, conn.begin():
                pending.record(conn)
                conn.execute(_INSERT_REPORT, row)
        except Exception as exc:
            pending.signed = pending.recorded  # rolled back with the report: record it alone
            if not isinstance(exc, IntegrityError):
                raise
            # The nonce (a replay racing its original) or the key (a retry racing the first
            # attempt): recording the nonce alone tells which.
            pending.record()
            with self.engine.connect() as conn:
                winner = conn.execute(_BY_KEY, {"key": idempotency_key}).first()
            if winner is None:
                raise
            return _replay(winner, person_id, fingerprint)
        log.info(
            "report issued report=%s terminal=%s records=%d",
            report_id,
            caller.terminal_id,
            document.total_records,
        )
        return _receipt(row, summary)

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
        report = None
        if IDEMPOTENCY_KEY.match(ticket):
            with self.engine.connect() as conn:
                report = conn.execute(_BY_KEY, {"key": ticket}).first()
        if report is None or report.person_id != person_id:
            raise not_found(
                "ticket_not_found", "没有找到该取件凭条对应的报告，请确认是本人办理的申请。"
            )
        return _report_json(report)


def _replay(report: Row[Any], person_id: int, fingerprint: str) -> dict[str, Any]:
    if report.person_id != person_id or report.request_hash != fingerprint:
        raise conflict("idempotency_key_reused", "该请求编号已用于另一份报告申请，请重新发起申请。")
    return _report_json(report)


def aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes (stored in platform time); PostgreSQL aware ones in UTC."""
    return value.replace(tzinfo=CST) if value.tzinfo is None else value.astimezone(CST)


def _receipt(row: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "report_id": row["report_id"],
        "verification_code": row["verification_code"],
        "issued_at": aware(row["issued_at"]).isoformat(),
        "valid_until": row["valid_until"].isoformat(),
        "summary": summary,
        "sha256": row["sha256"],
        "signature": row["signature"],
    }


def _report_json(report: Any) -> dict[str, Any]:
    return {
        "report_id": report.report_id,
        "verification_code": report.verification_code,
        "issued_at": aware(report.issued_at).isoformat(),
        "valid_until": report.valid_until.isoformat(),
        "summary": json.loads(report.summary),
        "sha256": report.sha256,
        "signature": report.signature,
    }


__all__ = ["Caller", "ReportIssuer", "ReportRequest", "SignedRequest", "aware", "random_code"]
