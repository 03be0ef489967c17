"""Report rules as pure functions: periods, domain choice, which records a region shows."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from report_service.errors import ApiError
from report_service.profiles import load_profile
from report_service.rules import (
    assemble,
    record_shown,
    select_domains,
    summary_json,
    validate_period,
)

D = dt.date
TODAY = D(2026, 11, 22)
RECORD_DATE = D(2023, 5, 1)


@dataclasses.dataclass
class Rec:
    record_id: str = "R1"
    domain: str = "market_regulation"  # a domain of every region that collects penalties
    kind: str = "administrative_penalty"
    date: dt.date = RECORD_DATE
    agency: str = "某局"
    document_no: str = "某罚〔2023〕1号"
    title: str = "违法行为"
    procedure: str | None = "general"
    decision: str | None = "punish"
    repaired_on: dt.date | None = None
    list_name: str | None = None
    classified: bool = False
    confirmed_by_effective_document: bool | None = True


def code_of(exc: pytest.ExceptionInfo[ApiError]) -> str:
    return exc.value.code


@pytest.mark.parametrize(
    ("region", "start", "end", "expected"),
    [
        ("gansu", D(2021, 1, 1), D(2025, 12, 31), D(2021, 1, 1)),
        ("gansu", D(2021, 11, 22), D(2026, 11, 22), D(2021, 11, 22)),  # exactly five years
        # from the floor a period may be longer than five years: records since the floor fit
        ("gansu", D(2021, 1, 1), D(2026, 11, 22), D(2021, 1, 1)),
        # DESIGN §4: records on or after the floor date within the period: it starts at the floor
        ("gansu", D(2020, 12, 31), D(2021, 6, 1), D(2021, 1, 1)),
        ("gansu", D(2015, 1, 1), D(2026, 11, 22), D(2021, 1, 1)),
        ("gansu", D(2020, 1, 1), D(2020, 12, 31), "period_before_floor"),  # nothing after it
        ("gansu", D(2024, 1, 2), D(2024, 1, 1), "period_reversed"),
        ("gansu", D(2026, 1, 1), D(2026, 11, 23), "period_in_future"),
        ("huzhou", D(2020, 5, 1), D(2025, 5, 1), D(2020, 5, 1)),
        ("huzhou", D(2020, 4, 30), D(2025, 5, 1), D(2020, 5, 1)),
        ("huzhou", D(2020, 5, 1), D(2026, 11, 22), D(2020, 5, 1)),  # 6.5 years from the floor
        ("heihe", D(2016, 2, 29), D(2026, 2, 28), D(2016, 2, 29)),  # no floor; leap day start
        ("heihe", D(2016, 2, 29), D(2026, 3, 1), "period_too_long"),  # 10 years: a default
    ],
)
def test_validate_period(
    region: str, start: dt.date, end: dt.date, expected: dt.date | str
) -> None:
    profile = load_profile(region)
    if isinstance(expected, dt.date):
        assert validate_period(profile, start, end, TODAY) == expected
    else:
        with pytest.raises(ApiError) as exc:
            validate_period(profile, start, end, TODAY)
        assert code_of(exc) == expected and exc.value.status == 422


def test_select_domains_keeps_profile_order_and_refuses_unknown() -> None:
    profile = load_profile("wuhai")
    codes = [d.code for d in profile.domains]
    assert select_domains(profile, "all") == profile.domains
    assert [d.code for d in select_domains(profile, [codes[3], codes[1], codes[3]])] == [
        codes[1],
        codes[3],
    ]
    for bad, code in (
        ([], "invalid_domains"),
        (["nope"], "unknown_domain"),
        ("every", "invalid_domains"),
    ):
        with pytest.raises(ApiError) as exc:
            select_domains(profile, bad)
        assert code_of(exc) == code


@pytest.mark.parametrize(
    ("flag", "record", "value_when_excluded"),
    [
        ("exclude_simple_procedure", Rec(procedure="simple"), True),
        ("exclude_no_punishment", Rec(decision="no_punishment"), True),
        ("exclude_credit_repaired", Rec(repaired_on=D(2024, 1, 1)), True),
        ("exclude_classified", Rec(classified=True), True),
    ],
)
def test_each_exclusion_is_driven_by_the_profile_flag(
    flag: str, record: Rec, value_when_excluded: bool
) -> None:
    base = load_profile("gansu")
    on = dataclasses.replace(base, rules=dataclasses.replace(base.rules, **{flag: True}))
    off = dataclasses.replace(base, rules=dataclasses.replace(base.rules, **{flag: False}))
    start, end = D(2021, 1, 1), D(2025, 12, 31)
    assert record_shown(on, record, start, end, TODAY) is not value_when_excluded
    assert record_shown(off, record, start, end, TODAY) is True


def test_repair_after_issue_date_does_not_hide_the_penalty() -> None:
    huzhou = load_profile("huzhou")
    record = Rec(repaired_on=D(2027, 1, 1))
    assert record_shown(huzhou, record, D(2021, 1, 1), D(2025, 1, 1), TODAY)


def test_repair_on_the_issue_day_hides_the_penalty_in_huzhou() -> None:
    huzhou = load_profile("huzhou")
    assert not record_shown(huzhou, Rec(repaired_on=TODAY), D(2021, 1, 1), D(2025, 1, 1), TODAY)


def test_future_repair_is_not_reported_as_done() -> None:
    heihe = load_profile("heihe")  # Heihe shows credit-repaired penalties with their repair
    d0 = heihe.domains[0]
    records = [
        Rec("DONE", d0.code, repaired_on=TODAY),
        Rec("LATER", d0.code, date=D(2023, 6, 1), repaired_on=TODAY + dt.timedelta(days=1)),
    ]
    # the chosen domain, then Heihe's two sections, which every report has
    result, *sections = assemble(heihe, [d0], records, D(2021, 1, 1), D(2025, 12, 31), TODAY)
    assert [x.name for x in sections] == ["企业参保欠缴", "住房公积金欠缴"]
    assert {r.record_id: r.repaired_on for r in result.records} == {"DONE": TODAY, "LATER": None}
    summary: dict[str, Any] = summary_json([result])  # JSON: indexed as the kiosk reads it
    (domain,) = summary["domains"]
    assert [r["repaired_on"] for r in domain["records"]] == [TODAY.isoformat(), None]


def test_huzhou_excludes_simple_procedure_penalties() -> None:
    huzhou = load_profile("huzhou")
    start, end = D(2021, 1, 1), D(2025, 1, 1)
    assert not record_shown(huzhou, Rec(procedure="simple"), start, end, TODAY)
    assert record_shown(huzhou, Rec(procedure="general"), start, end, TODAY)


def test_a_record_is_shown_where_it_was_filed_even_outside_the_domains_table_scope() -> None:
    """The tables say what each domain collects; a record an agency filed elsewhere is still a
    record (the import notes it): leaving it out would make a false clean report."""
    heihe, gansu = load_profile("heihe"), load_profile("gansu")
    start, end = D(2021, 1, 1), D(2025, 12, 31)
    assert record_shown(
        heihe, Rec(kind="serious_dishonesty", procedure=None, decision=None), start, end, TODAY
    )
    arrears = Rec(kind="housing_fund_arrears", procedure=None, decision=None)
    assert record_shown(
        heihe, dataclasses.replace(arrears, domain="housing_fund_arrears"), start, end, TODAY
    )
    assert record_shown(heihe, arrears, start, end, TODAY)
    assert record_shown(gansu, arrears, start, end, TODAY)
    # a domain code the profile does not have (a profile edited since) is not printed
    assert not record_shown(gansu, dataclasses.replace(arrears, domain="gone"), start, end, TODAY)
    assert not record_shown(gansu, Rec(date=D(2026, 1, 1)), start, end, TODAY)
    assert not record_shown(
        gansu, Rec(date=D(2020, 12, 31)), D(2020, 1, 1), end, TODAY
    )  # below the floor


def test_a_record_kept_under_a_name_is_listed_once_a_profile_maps_the_name() -> None:
    """A record under a collection-table name no report has is kept by that name; if a later
    profile maps the name to a report domain, it is listed there without a new import."""
    gansu = load_profile("gansu")
    market = gansu.domain("market_regulation")
    assert market is not None
    start, end = D(2021, 1, 1), D(2025, 12, 31)
    unmapped = Rec(domain="统计")
    assert not record_shown(gansu, unmapped, start, end, TODAY)
    mapped = dataclasses.replace(
        gansu, collection_names=gansu.collection_names | {"统计": market.code}
    )
    by_name = dataclasses.replace(unmapped, domain=market.name)  # its name also finds it
    for profile, record in ((mapped, unmapped), (gansu, by_name)):
        (listed, *_) = assemble(profile, [market], [record], start, end, TODAY)
        assert [r.record_id for r in listed.records] == ["R1"]


def test_assemble_and_summary_shape() -> None:
    profile = load_profile("gansu")
    d0, d1 = profile.domains[0], profile.domains[1]
    records = [
        Rec("B", d0.code, date=D(2023, 6, 1)),
        Rec("A", d0.code, date=D(2022, 6, 1), repaired_on=D(2023, 1, 1)),
        Rec("C", d0.code, procedure="simple"),
        Rec("X", "not_requested"),
    ]
    results = assemble(profile, [d0, d1], records, D(2021, 1, 1), D(2025, 12, 31), TODAY)
    summary: dict[str, Any] = summary_json(results)
    assert summary["total_records"] == 2
    first, second = summary["domains"]
    assert [r["record_id"] for r in first["records"]] == ["A", "B"]  # by date
    assert first["conclusion"] == "records" and second == {
        "code": d1.code,
        "name": d1.name,
        "conclusion": "clean",
        "section": False,
        "records": [],
    }
    assert set(first["records"][0]) == {
        "record_id",
        "kind",
        "date",
        "agency",
        "document_no",
        "title",
        "repaired_on",
    }
    assert first["records"][0]["repaired_on"] == "2023-01-01"


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (D(2026, 9, 30), D(2026, 10, 13)),  # 国庆 Oct 1-7 off, Sat Oct 10 worked
        (D(2026, 2, 12), D(2026, 2, 26)),  # 春节 Feb 15-23 off, Sat Feb 14 worked
        (D(2026, 11, 20), D(2026, 11, 27)),  # an ordinary Friday
        (D(2025, 12, 31), D(2026, 1, 8)),  # 元旦 Jan 1-3 off, Sun Jan 4 worked
    ],
)
def test_five_working_days(start: dt.date, due: dt.date) -> None:
    assert load_profile("wuhai").calendar.add_working_days(start, 5) == due
