"""Region profiles: the report rules of each region, loaded from the JSON files in `profiles/`.

A region is a profile file `profiles/<region>.json` whose `region` field is its own file name; the
region list is whatever such files are present (adding a region is adding files, see
`profiles/README.md`)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .workdays import HolidayCalendar

RECORD_KINDS = (
    "administrative_penalty",
    "serious_dishonesty",
    "business_abnormality",
    "social_insurance_arrears",
    "housing_fund_arrears",
)

KIND_LABELS = {
    "administrative_penalty": "行政处罚",
    "serious_dishonesty": "严重失信主体名单",
    "business_abnormality": "经营异常名录",
    "social_insurance_arrears": "社会保险费欠缴",
    "housing_fund_arrears": "住房公积金欠缴",
}


class UnknownRegionError(KeyError):
    pass


@dataclass(frozen=True)
class Domain:
    code: str
    name: str
    data_scope: tuple[str, ...]
    lists: tuple[str, ...]
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Rules:
    record_kinds_shown: frozenset[str]
    exclude_simple_procedure: bool
    exclude_no_punishment: bool
    exclude_credit_repaired: bool
    exclude_classified: bool


@dataclass(frozen=True, eq=False)
class Profile:
    region: str
    region_name: str
    report_title: str
    platform_name: str
    source_document: str
    floor_date: dt.date | None
    max_period_years: int
    report_validity_days: int
    domains: tuple[Domain, ...]
    rules: Rules
    calendar: HolidayCalendar
    # names other than a report domain's code, name or alias that records may use, mapped to a code
    collection_names: dict[str, str | None]
    _by_code: dict[str, Domain] = field(init=False, repr=False)
    _by_name: dict[str, Domain] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_code = {d.code: d for d in self.domains}
        by_name = {d.name: d for d in self.domains}
        for d in self.domains:
            by_name.update((alias, d) for alias in d.aliases)
        for name, code in self.collection_names.items():
            if code and name not in by_name:
                by_name[name] = by_code[code]
        object.__setattr__(self, "_by_code", by_code)  # frozen: set once, here
        object.__setattr__(self, "_by_name", by_name)

    def domain(self, code: str) -> Domain | None:
        return self._by_code.get(code)

    def resolve_domain(self, code_or_name: str) -> Domain | None:
        """A record's `domain`: the code, the exact Chinese name or an alias of a report domain."""
        return self._by_code.get(code_or_name) or self._by_name.get(code_or_name)

    def catalog(self) -> dict[str, object]:
        return {
            "region": self.region,
            "region_name": self.region_name,
            "report_title": self.report_title,
            "platform_name": self.platform_name,
            "domains": [
                {
                    "code": d.code,
                    "name": d.name,
                    "data_scope": list(d.data_scope),
                    "lists": list(d.lists),
                }
                for d in self.domains
            ],
            "earliest_date": self.floor_date.isoformat() if self.floor_date else None,
            "max_period_years": self.max_period_years,
            "report_validity_days": self.report_validity_days,
            "source": self.source_document,
        }


@functools.cache
def _read_json(name: str) -> dict[str, Any]:
    with resources.files("report_service").joinpath("profiles", name).open(encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"profiles/{name} is not a JSON object")
    return data


@functools.cache
def regions() -> tuple[str, ...]:
    """The regions whose profile files are present, in name order."""
    found = []
    for entry in resources.files("report_service").joinpath("profiles").iterdir():
        stem = entry.name.removesuffix(".json")
        is_json = entry.is_file() and entry.name.endswith(".json")
        if is_json and _read_json(entry.name).get("region") == stem:
            found.append(stem)
    return tuple(sorted(found))


@functools.cache
def holiday_calendar() -> HolidayCalendar:
    return HolidayCalendar.from_json(_read_json("holidays_cn.json"))


def _source_text(source: object) -> str:
    if isinstance(source, dict):
        parts = [source.get("issuer"), source.get("document"), source.get("date")]
        return " ".join(str(p) for p in parts if p)
    return str(source)


@functools.cache
def load_profile(region: str) -> Profile:
    if region not in regions():
        raise UnknownRegionError(region)
    data = _read_json(f"{region}.json")
    rules = data["rules"]
    domains = tuple(
        Domain(
            code=d["code"],
            name=d["name"],
            data_scope=tuple(d.get("data_scope") or ()),
            lists=tuple(d.get("lists") or ()),
            aliases=tuple(d.get("aliases") or ()),
        )
        for d in data["domains"]
    )
    collection = {row["name"]: row.get("report_domain") for row in data.get("collection_table", [])}
    return Profile(
        region=data["region"],
        region_name=data["region_name"],
        report_title=data["report_title"],
        platform_name=data["platform_name"],
        source_document=_source_text(data.get("source", "")),
        floor_date=dt.date.fromisoformat(data["floor_date"]) if data.get("floor_date") else None,
        max_period_years=int(data.get("max_period_years", 5)),
        report_validity_days=int(data.get("report_validity_days", 30)),
        domains=domains,
        rules=Rules(
            record_kinds_shown=frozenset(rules["record_kinds_shown"]),
            exclude_simple_procedure=bool(rules["exclude_simple_procedure"]),
            exclude_no_punishment=bool(rules["exclude_no_punishment"]),
            exclude_credit_repaired=bool(rules["exclude_credit_repaired"]),
            exclude_classified=bool(rules["exclude_classified"]),
        ),
        calendar=holiday_calendar(),
        collection_names=collection,
    )
