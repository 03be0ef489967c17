"""The report hot path's steps that need no database: validate a request, build its document,
render and sign it. The route, the fast path and the benchmark all go through these."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from . import ids, rules
from .document import ReportDocument
from .entities import ENTITY_KINDS
from .errors import unprocessable
from .pdf import UnprintableText, render_report_pdf
from .profiles import Domain, Profile
from .rules import RecordLike

IDEMPOTENCY_KEY = re.compile(r"\A[!-~]{1,128}\Z")  # DESIGN sets no format: visible ASCII


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
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def check_idempotency_key(key: str | None) -> str:
    if not key or not IDEMPOTENCY_KEY.match(key):
        raise unprocessable(
            "invalid_idempotency_key",
            "请求缺少有效的 Idempotency-Key（1至128个字母、数字或符号，不含空格）。",
        )
    return key


def validate(
    profile: Profile, request: ReportRequest, today: dt.date
) -> tuple[tuple[Domain, ...], ReportRequest]:
    """What can be checked without the database: the code, the period, the domains; and the
    request as the report answers it (a period reaching back past the floor starts at the floor)."""
    error = ids.uscc_error(request.uscc)
    if error:
        raise unprocessable("invalid_uscc", f"统一社会信用代码有误：{error}")
    start = rules.validate_period(profile, request.period_from, request.period_to, today)
    return rules.select_domains(profile, request.domains), replace(request, period_from=start)


@dataclass(frozen=True)
class Issue:
    """What makes one issued report unique: its number, code, time and address."""

    report_id: str
    verification_code: str
    issued_at: dt.datetime  # timezone-aware, whole seconds
    public_url: str

    @property
    def verify_url(self) -> str:
        return f"{self.public_url}/v1/verify/{self.verification_code}"


def build_document(
    profile: Profile,
    request: ReportRequest,
    domains: tuple[Domain, ...],
    entity_name: str,
    entity_kind: str,
    records: Iterable[RecordLike],
    issue: Issue,
    today: dt.date,
) -> ReportDocument:
    """The report's content: a pure function of its inputs (no I/O, no clock)."""
    results = rules.assemble(
        profile, domains, records, request.period_from, request.period_to, today
    )
    return ReportDocument(
        report_id=issue.report_id,
        verification_code=issue.verification_code,
        verify_url=issue.verify_url,
        title=profile.report_title,
        platform_name=profile.platform_name,
        region_name=profile.region_name,
        entity_name=entity_name,
        uscc=request.uscc,
        entity_kind_label=ENTITY_KINDS.get(entity_kind, entity_kind),
        period_from=request.period_from,
        period_to=request.period_to,
        issued_at=issue.issued_at,
        valid_until=today + dt.timedelta(days=profile.report_validity_days),
        domains=results,
    )


@dataclass(frozen=True)
class SignedPdf:
    pdf: bytes
    sha256: str
    signature: str


def render_and_sign(document: ReportDocument, sign_b64: Callable[[bytes], str]) -> SignedPdf:
    """The PDF, its SHA-256 and the platform's signature over its bytes (DESIGN §3); a report
    that would print a character as a blank is refused instead (DESIGN §10)."""
    try:
        pdf = render_report_pdf(document)
    except UnprintableText as exc:
        codes = "、".join(f"U+{ord(c):04X}" for c in exc.chars[:5])
        raise unprocessable(
            "unprintable_character",
            f"报告内容含有无法打印的字符（{codes}），暂不能自助出具，请到信用窗口办理。",
        ) from None
    return SignedPdf(pdf, hashlib.sha256(pdf).hexdigest(), sign_b64(pdf))
