"""Issuing reports: the hot path of the platform (POST /v1/reports), and reading them back.

A request goes validate → load → build_document → render and sign → persist. The per-request
database work goes through SQLAlchemy Core statements built once (the ORM's unit of work cost more
than the render): one read connection for the idempotency key, the entity, the role and the
records, then one write transaction that records the request nonce together with the report, so a
request costs one commit instead of two.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, case, exists, insert, select
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import db, rules
from .clock import Clock, aware
from .document import ReportDocument
from .entities import kind_not_eligible
from .errors import conflict, forbidden, gone, not_found, unprocessable
from .profiles import Domain, Profile, load_profile
from .report_build import (
    IDEMPOTENCY_KEY,
    Issue,
    ReportRequest,
    SignedPdf,
    build_document,
    check_idempotency_key,
    render_and_sign,
    validate,
)
from .sessions import SessionPerson
from .signing import Caller, NonceLedger, PendingNonce, SignedRequest, nonce_params, with_nonce

log = logging.getLogger("report_service")

StoredRow = Row[*tuple[Any, ...]]  # a row of a Core select, whatever its columns

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U

_R = db.Report.__table__.c
_O = db.Role.__table__.c
_RECEIPT = (
    _R.report_id, _R.person_id, _R.request_hash, _R.verification_code, _R.issued_at,
    _R.valid_until, _R.summary, _R.sha256, _R.signature, _R.revoked_at,
)  # fmt: skip
# A key is the request's within its terminal and person: another terminal or person using the
# same key makes a report of its own and cannot take this one (db.REPORT_KEY_SCOPE).
_BY_KEY = select(*_RECEIPT).where(
    _R.terminal_id == bindparam("tid"),
    _R.person_id == bindparam("pid"),
    _R.idempotency_key == bindparam("key"),
)
# A ticket at pickup, at any terminal: the person's report under that key, with whether they
# still hold a role for its entity; the asking terminal's own first, else the latest.
_BY_TICKET = (
    select(
        *_RECEIPT,
        _R.idempotency_key,
        exists().where(and_(_O.person_id == _R.person_id, _O.uscc == _R.uscc)).label("role"),
    )
    .where(_R.person_id == bindparam("pid"), _R.idempotency_key == bindparam("key"))
    .order_by(case((_R.terminal_id == bindparam("tid"), 0), else_=1), _R.issued_at.desc())
    .limit(1)
)
_E = db.Entity.__table__.c
_ENTITY = select(  # with whether the person holds a role for it: one round trip
    _E.name, _E.kind, _E.region,
    exists().where(and_(_O.person_id == bindparam("pid"), _O.uscc == _E.uscc)).label("role"),
).where(_E.uscc == bindparam("uscc"))  # fmt: skip
_C = db.Record.__table__.c
_RECORDS = select(db.Record.__table__).where(
    and_(_C.uscc == bindparam("uscc"), _C.date >= bindparam("start"), _C.date <= bindparam("end"))
)
_INSERT_REPORT = insert(db.Report)
_INSERT_REPORT_WITH_NONCE = with_nonce(insert(db.Report))


def random_code(n: int) -> str:
    # 256 is a multiple of 32: each random byte picks a letter uniformly
    return "".join(CODE_ALPHABET[b % 32] for b in secrets.token_bytes(n))


class SessionResolver(Protocol):
    """The person of a bearer's session (sessions.Logins)."""

    def session_for(
        self, caller: Caller, bearer: str | None, session: Any = None
    ) -> SessionPerson: ...


@dataclass(frozen=True)
class _Loaded:
    """What the database says about a valid request: the entity and its records."""

    entity_name: str
    entity_kind: str
    records: Sequence[StoredRow]


@dataclass
class Plan:
    """A report request past its reads: what the render and the write need, or (`receipt`) the
    answer already, for a key whose report exists."""

    caller: Caller
    person_id: int
    key: str
    fingerprint: str
    request: ReportRequest
    profile: Profile
    domains: tuple[Domain, ...]
    loaded: _Loaded | None
    today: dt.date
    pending: PendingNonce
    receipt: dict[str, Any] | None = None

    @property
    def scope(self) -> dict[str, Any]:
        return {"tid": self.caller.terminal_id, "pid": self.person_id, "key": self.key}


@dataclass(frozen=True)
class Rendered:
    row: dict[str, Any]  # the reports row, PDF and signature included
    summary: dict[str, Any]
    total_records: int


class ReportIssuer:
    """POST /v1/reports and the calls that read reports back."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        clock: Clock,
        sign_b64: Callable[[bytes], str],
        public_url: str,
        nonces: NonceLedger,
        logins: SessionResolver,
        profile_for: Callable[[str], Profile] = load_profile,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.clock = clock
        self.sign_b64 = sign_b64
        self.public_url = public_url
        self.nonces = nonces
        self.logins = logins
        self.profile_for = profile_for

    # ---- the three phases: reads (a database thread), render (CPU), write (a database thread)
    def plan(
        self,
        signed: SignedRequest,
        bearer: str | None,
        idempotency_key: str | None,
        request: ReportRequest,
        conn: Connection | None = None,
    ) -> Plan:
        """After verify_signature: the bearer's session, then the request's reads; conn, if
        given, serves them all (one pool checkout)."""
        try:
            person = self.logins.session_for(signed.caller, bearer, signed.session)
            if person.ticket is not None and idempotency_key != person.ticket:
                raise _restricted()
        except Exception:
            self.nonces.record_nonce(signed)
            raise
        return self.plan_for(
            signed.caller, person.person_id, idempotency_key, request, signed, conn
        )

    def plan_for(
        self,
        caller: Caller,
        person_id: int,
        idempotency_key: str | None,
        request: ReportRequest,
        signed: SignedRequest | None = None,
        conn: Connection | None = None,
    ) -> Plan:
        """Validate and load; a known Idempotency-Key's report comes back as `plan.receipt`.
        With `signed`, its nonce is recorded with the report, or on its own for any other end
        (here on a refusal; `render` and `store` callers see to the rest)."""
        pending = PendingNonce(self.nonces, signed)
        try:
            key = check_idempotency_key(idempotency_key)
            fingerprint = request.fingerprint()
            profile = self.profile_for(caller.region)
            today = self.clock().date()
            scope = {"tid": caller.terminal_id, "pid": person_id, "key": key}
            with db.using(self.engine, conn, reads_only=True) as c:
                existing = c.execute(_BY_KEY, scope).first()
                if existing is not None:
                    pending.record()
                    return Plan(caller, person_id, key, fingerprint, request, profile, (),
                                None, today, pending, _replay(existing, fingerprint))  # fmt: skip
                domains, request = validate(profile, request, today)
                loaded = _load(c, caller, profile, person_id, request)
                c.rollback()  # reads done: no transaction stays open over the render
        except Exception:
            pending.record()  # a replay of a refused request is still a replay
            raise
        return Plan(caller, person_id, key, fingerprint, request, profile, domains, loaded, today,
                    pending)  # fmt: skip

    def render(self, plan: Plan) -> Rendered:
        """Build, render and sign: CPU only, no database (UnprintableText: 422)."""
        assert plan.loaded is not None
        issued_at = self.clock().replace(microsecond=0)
        issue = Issue(
            report_id="R" + issued_at.strftime("%Y%m%d") + random_code(10),
            verification_code=random_code(12),
            issued_at=issued_at,
            public_url=self.public_url,
        )
        loaded = plan.loaded
        document = build_document(
            plan.profile, plan.request, plan.domains, loaded.entity_name, loaded.entity_kind,
            loaded.records, issue, plan.today,
        )  # fmt: skip
        signed_pdf = render_and_sign(document, self.sign_b64)
        summary = rules.summary_json(document.domains)
        row = _report_row(
            plan.caller, plan.person_id, plan.key, plan.fingerprint, plan.request, plan.domains,
            document,
        )  # fmt: skip
        row |= {"summary": json.dumps(summary, ensure_ascii=False)}
        row |= _pdf_columns(signed_pdf)
        return Rendered(row, summary, document.total_records)

    def store(
        self, plan: Plan, rendered: Rendered, conn: Connection | None = None
    ) -> dict[str, Any]:
        """Write the report with the request's nonce; the receipt."""
        try:
            winner = self._persist(rendered.row, plan.pending, conn, plan.scope)
        except Exception:
            plan.pending.record()
            raise
        if winner is not None:  # another attempt with the same key stored its report first
            return _replay(winner, plan.fingerprint)
        log.info(
            "report issued report=%s terminal=%s records=%d",
            rendered.row["report_id"],
            plan.caller.terminal_id,
            rendered.total_records,
        )
        return _receipt(rendered.row, rendered.summary)

    # ---- the phases in one go, on the caller's thread -------------------------------------------
    def create_report(
        self,
        caller: Caller,
        person_id: int,
        idempotency_key: str | None,
        request: ReportRequest,
        signed: SignedRequest | None = None,
        conn: Connection | None = None,
    ) -> dict[str, Any]:
        """Issue (or, for a known Idempotency-Key, return) a report."""
        plan = self.plan_for(caller, person_id, idempotency_key, request, signed, conn)
        return self._finish(plan, conn)

    def _finish(self, plan: Plan, conn: Connection | None) -> dict[str, Any]:
        if plan.receipt is not None:
            return plan.receipt
        try:
            rendered = self.render(plan)
        except Exception:
            plan.pending.record()
            raise
        return self.store(plan, rendered, conn)

    def _persist(
        self,
        row: dict[str, Any],
        pending: PendingNonce,
        shared: Connection | None,
        scope: dict[str, Any],
    ) -> StoredRow | None:
        """Store the report with the request's nonce; the stored report of a racing attempt
        with the same key instead, if that one won."""
        try:
            alone = shared is None and db.statements_commit_alone(self.engine)
            # without a nonce left to record (or on SQLite): the report in a transaction
            if not (alone and pending.record_by(lambda s: self._insert_with_nonce(row, s))):
                with db.using(self.engine, shared) as conn, conn.begin():
                    pending.record(conn)
                    conn.execute(_INSERT_REPORT, row)
        except Exception as exc:
            pending.rolled_back()  # with the report: record it alone
            if not isinstance(exc, IntegrityError):
                raise
            # The nonce (a replay racing its original) or the key (a retry racing the first
            # attempt): recording the nonce alone tells which.
            pending.record()
            with self.engine.connect() as conn:
                winner = conn.execute(_BY_KEY, scope).first()
            if winner is None:
                raise
            return winner
        return None

    def _insert_with_nonce(self, row: dict[str, Any], signed: SignedRequest) -> bool:
        """PostgreSQL: the report and the request's nonce in one statement without a
        transaction, one round trip where BEGIN, nonce, report and COMMIT took four."""
        with db.single_statements(self.engine) as conn:
            conn.execute(_INSERT_REPORT_WITH_NONCE, row | nonce_params(signed))
        return True

    def report_pdf(self, person: SessionPerson, report_id: str) -> db.Report:
        """The report with its PDF, for a person who holds a role for its entity now (a role
        withdrawn is access withdrawn); a revoked report is not handed out."""
        with self.sessions() as s:
            report = s.get(db.Report, report_id) if len(report_id) <= 32 else None
            if (
                report is None
                or s.get(db.Role, (person.person_id, report.uscc)) is None
                or (person.ticket is not None and report.idempotency_key != person.ticket)
            ):
                raise not_found("report_not_found", "没有找到这份报告。")
            if report.revoked_at is not None:
                raise _revoked()
            return report

    def report_by_ticket(
        self, caller: Caller, person: SessionPerson, ticket: str
    ) -> dict[str, Any]:
        report = None
        if IDEMPOTENCY_KEY.match(ticket) and person.ticket in (None, ticket):
            params = {"pid": person.person_id, "key": ticket, "tid": caller.terminal_id}
            with self.engine.connect() as conn:
                report = conn.execute(_BY_TICKET, params).first()
        if report is None or not report.role:
            raise not_found(
                "ticket_not_found", "没有找到该取件凭条对应的报告，请确认是本人办理的申请。"
            )
        if report.revoked_at is not None:
            raise _revoked()
        return _report_json(report)


def _load(
    conn: Connection, caller: Caller, profile: Profile, person_id: int, request: ReportRequest
) -> _Loaded:
    """The entity (in the caller's region, with a role for the person) and its records."""
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
    if entity.kind not in profile.entity_kinds:  # e.g. a 社会组织 where the scheme lists none
        raise unprocessable("entity_kind_not_eligible", kind_not_eligible(profile, entity.kind))
    period = {"uscc": request.uscc, "start": request.period_from, "end": request.period_to}
    return _Loaded(entity.name, entity.kind, conn.execute(_RECORDS, period).all())


def _report_row(
    caller: Caller,
    person_id: int,
    key: str,
    fingerprint: str,
    request: ReportRequest,
    domains: tuple[Domain, ...],
    document: ReportDocument,
) -> dict[str, Any]:
    return {
        "report_id": document.report_id,
        "idempotency_key": key,
        "request_hash": fingerprint,
        "terminal_id": caller.terminal_id,
        "person_id": person_id,
        "uscc": request.uscc,
        "entity_name": document.entity_name,
        "region": caller.region,
        # the parts the report covers: the chosen domains and the profile's sections
        "domains": json.dumps([d.code for d in document.domains]),
        "period_from": request.period_from,
        "period_to": request.period_to,
        "issued_at": document.issued_at,
        "valid_until": document.valid_until,
        "verification_code": document.verification_code,
        "revoked_at": None,
    }


def _pdf_columns(signed: SignedPdf) -> dict[str, Any]:
    return {"sha256": signed.sha256, "signature": signed.signature, "pdf": signed.pdf}


def _replay(report: StoredRow, fingerprint: str) -> dict[str, Any]:
    if report.request_hash != fingerprint:
        raise conflict("idempotency_key_reused", "该请求编号已用于另一份报告申请，请重新发起申请。")
    if report.revoked_at is not None:
        raise _revoked()
    return _report_json(report)


def _revoked() -> Exception:
    return gone("report_revoked", "这份报告已被撤销，不能再打印或下载，请重新申请报告。")


def _restricted() -> Exception:
    return forbidden("session_restricted", "本次登录只能用于离线排队时提交的那份申请，请重新登录。")


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


# Caller and SignedRequest live in signing.py; named here too for modules that import them from
# the report module, as before the split.
__all__ = [
    "IDEMPOTENCY_KEY",
    "Caller",
    "ReportIssuer",
    "ReportRequest",
    "SignedRequest",
    "random_code",
]
