"""The content of one issued report, as the PDF renderer and the API see it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
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
    """A domain's conclusion, or a section's (a part the profile puts in every report)."""

    code: str
    name: str
    records: tuple[RecordLine, ...] = ()
    section: bool = False
    clean_text: str = "该领域无违法违规记录"  # the conclusion when there is no record

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
    domains: tuple[DomainResult, ...] = field(default_factory=tuple)  # the sections last

    @property
    def domain_count(self) -> int:
        """The domains the report covers (its sections not counted)."""
        return sum(not d.section for d in self.domains)

    @property
    def section_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.domains if d.section)

    @property
    def total_records(self) -> int:
        return count_records(self.domains)


def count_records(parts: Iterable[DomainResult]) -> int:
    """Records in a report, each once: one filed under a domain is also in its section's list."""
    return len({r.record_id for d in parts for r in d.records})
