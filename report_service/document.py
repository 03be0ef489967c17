"""The content of one issued report, as the PDF renderer and the API see it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RecordLine:
    record_id: str
    kind: str  # administrative_penalty, serious_dishonesty, ...
    kind_label: str  # 行政处罚, 严重失信主体名单, ...
    date: dt.date
    agency: str
    document_no: str
    title: str
    repaired_on: dt.date | None = None
    list_name: str | None = None


@dataclass(frozen=True)
class DomainResult:
    code: str
    name: str
    records: tuple[RecordLine, ...] = ()

    @property
    def conclusion(self) -> str:
        return "records" if self.records else "clean"


@dataclass(frozen=True)
class ReportDocument:
    report_id: str
    verification_code: str
    verify_url: str
    title: str  # the region's own term, e.g. 专用信用报告
    platform_name: str  # the issuing platform, e.g. 信用中国（甘肃）
    region_name: str
    entity_name: str
    uscc: str
    entity_kind_label: str
    period_from: dt.date
    period_to: dt.date
    issued_at: dt.datetime  # timezone-aware
    valid_until: dt.date
    domains: tuple[DomainResult, ...] = field(default_factory=tuple)

    @property
    def total_records(self) -> int:
        return sum(len(d.records) for d in self.domains)
