"""Report assembly as pure functions over (profile, records, request): no I/O, no clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol

from .document import DomainResult, RecordLine, count_records
from .errors import unprocessable
from .profiles import KIND_LABELS, Domain, Profile


class RecordLike(Protocol):
    record_id: str
    domain: str  # a domain code of the profile
    kind: str
    date: dt.date
    agency: str
    document_no: str
    title: str
    procedure: str | None
    decision: str | None
    repaired_on: dt.date | None
    list_name: str | None
    classified: bool
    confirmed_by_effective_document: bool | None  # a 生效法律文书 confirms it; None: not said


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def validate_period(profile: Profile, start: dt.date, end: dt.date, today: dt.date) -> dt.date:
    """The first day the report covers: `start`, or the region's floor date when the period
    reaches back before it (DESIGN §4: records on or after the floor date within the period; the
    report says from which day it speaks, never of days whose records were not collected)."""
    if start > end:
        raise unprocessable("period_reversed", "查询期间的开始日期晚于结束日期，请重新选择。")
    if end > today or start > today:
        raise unprocessable("period_in_future", "查询期间不能晚于今天，请重新选择。")
    floor = profile.floor_date
    if floor and end < floor:
        raise unprocessable(
            "period_before_floor",
            f"本地区报告只覆盖{floor.isoformat()}以后的信息，请把查询期间选在此后。",
        )
    if floor and start < floor:
        start = floor
    if profile.max_period_from_floor and floor:
        return start  # any period from the floor on: records since the floor can all be reported
    if end > add_years(start, profile.max_period_years):
        raise unprocessable(
            "period_too_long", f"查询期间最长{profile.max_period_years}年，请缩短查询期间。"
        )
    return start


def select_domains(profile: Profile, requested: str | Sequence[str]) -> tuple[Domain, ...]:
    """`"all"` or a list of domain codes; the result keeps the profile's order."""
    if requested == "all":
        return profile.domains
    if isinstance(requested, str) or not requested:
        raise unprocessable("invalid_domains", "请至少选择一个领域，或选择全部领域。")
    unknown = [code for code in requested if profile.domain(code) is None]
    if unknown:
        raise unprocessable(
            "unknown_domain", f"本地区没有这些领域：{'、'.join(unknown[:5])}。请重新选择。"
        )
    wanted = set(requested)
    return tuple(d for d in profile.domains if d.code in wanted)


def record_shown(
    profile: Profile, record: RecordLike, start: dt.date, end: dt.date, today: dt.date
) -> bool:
    rules = profile.rules
    # a record is reported where its agency filed it, inside the domain's table scope or not
    # (the import notes the latter): a pushed violation left out would make a false clean report
    if profile.resolve_domain(record.domain) is None:  # a collection-table name no report shows
        return False
    if not start <= record.date <= end:
        return False
    if profile.floor_date and record.date < profile.floor_date:
        return False
    if rules.exclude_classified and record.classified:
        return False
    if record.kind == "administrative_penalty":
        if rules.exclude_simple_procedure and record.procedure == "simple":
            return False
        if rules.exclude_no_punishment and record.decision == "no_punishment":
            return False
        if rules.exclude_credit_repaired and repaired_by(record, today):
            return False
    # the agency says no legally effective document confirms it (yet); not said: the decision
    # or list entry it pushed is the document, as DESIGN §4's import format assumes
    return not (
        rules.require_effective_document and record.confirmed_by_effective_document is False
    )


def repaired_by(record: RecordLike, day: dt.date) -> bool:
    """Whether the record's credit repair had happened on `day` (a future date is no repair)."""
    return record.repaired_on is not None and record.repaired_on <= day


def _line(record: RecordLike, today: dt.date, part: Domain) -> RecordLine:
    return RecordLine(
        record_id=record.record_id,
        kind=record.kind,
        # a section's records are labelled in its own (the seed's) words, e.g. 企业参保欠缴
        kind_label=part.name if part.section else KIND_LABELS[record.kind],
        date=record.date,
        agency=record.agency,
        document_no=record.document_no,
        title=record.title,
        repaired_on=record.repaired_on if repaired_by(record, today) else None,
        list_name=record.list_name,
    )


def assemble(
    profile: Profile,
    domains: Sequence[Domain],
    records: Iterable[RecordLike],
    start: dt.date,
    end: dt.date,
    today: dt.date,
) -> tuple[DomainResult, ...]:
    """The chosen domains, then every section of the profile: a section (Heihe's arrears) is in
    each report whatever domains were chosen."""
    parts = (*domains, *profile.sections)
    by_domain: dict[str, list[RecordLike]] = {d.code: [] for d in parts}
    # a record is listed where it was filed; a section also takes every record of its kinds,
    # wherever filed: it is in each report, so a domain choice can neither drop such a record nor
    # leave the section saying it has none (the report counts such a record once)
    section_of = {kind: s.code for s in profile.sections for kind in s.data_scope}
    for record in records:
        if not record_shown(profile, record, start, end, today):
            continue
        home = profile.resolve_domain(record.domain)  # kept by name: a later profile may map it
        for code in dict.fromkeys((home and home.code, section_of.get(record.kind))):
            if code is not None and code in by_domain:
                by_domain[code].append(record)
    return tuple(
        DomainResult(
            code=d.code,
            name=d.name,
            records=tuple(
                _line(r, today, d)
                for r in sorted(by_domain[d.code], key=lambda r: (r.date, r.record_id))
            ),
            section=d.section,
            # the seed's own term: 该领域无违法记录 in Heihe; a section's words plus the
            # seed's “…等信息” (Heihe: 专用信用报告内容包括企业参保欠缴、住房公积金欠缴…等信息)
            clean_text=f"无{d.name}信息" if d.section else f"该领域无{profile.record_term}",
        )
        for d in parts
    )


def _part_json(d: DomainResult) -> dict[str, object]:
    return {
        "code": d.code,
        "name": d.name,
        "conclusion": d.conclusion,
        "section": d.section,
        "records": [
            {
                "record_id": r.record_id,
                "kind": r.kind,
                "date": r.date.isoformat(),
                "agency": r.agency,
                "document_no": r.document_no,
                "title": r.title,
                "repaired_on": r.repaired_on.isoformat() if r.repaired_on else None,
            }
            for r in d.records
        ],
    }


def summary_json(results: Sequence[DomainResult]) -> dict[str, object]:
    """The API's `summary`, DESIGN §3: `domains` are the chosen domains; the profile's sections
    (Heihe's arrears, in every report) come apart in `sections`; `total_records` counts each
    record once."""
    return {
        "domains": [_part_json(d) for d in results if not d.section],
        "sections": [_part_json(d) for d in results if d.section],
        "total_records": count_records(results),
    }
