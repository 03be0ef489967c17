"""Region profiles: the report rules of each region, loaded from the JSON files in `profiles/`.

A region is a profile file `profiles/<region>.json` whose `region` field is its own file name; the
region list is whatever such files are present (adding a region is adding files, see
`profiles/README.md`). Every rule of a profile is a sourced field (profile_fields.py): the seed's
words, or a deployment default with its reason; `report-service profiles show REGION` lists them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .entities import ENTITY_KINDS
from .profile_fields import ProfileDataError, Sourced, parse_sourced
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

# Kinds whose records name their list (`list_name`, DESIGN §4): a domain collects the lists it names.
LIST_KINDS = frozenset({"serious_dishonesty"})

RULE_KEYS = (
    "exclude_simple_procedure",
    "exclude_no_punishment",
    "exclude_credit_repaired",
    "exclude_classified",
    "require_effective_document",
)
# The profile's sourced fields outside `rules`, in the order `profiles show` lists them.
SOURCED_KEYS = (
    "floor_date",
    "max_period_years",
    "max_period_from_floor",
    "report_validity_days",
    "objection_deadline_working_days",
    "entity_kinds",
    "record_term",
)


class UnknownRegionError(KeyError):
    pass


@dataclass(frozen=True)
class Domain:
    """A report domain, or (`section`) a part the profile always puts in the report."""

    code: str
    name: str
    data_scope: tuple[str, ...]
    lists: tuple[str, ...]
    aliases: tuple[str, ...]
    section: bool = False
    source: str | None = None  # a section's seed words

    def collects(self, kind: str, list_name: str | None) -> bool:
        """Whether a record of `kind` (on `list_name`) belongs here by the domain's data scope."""
        if kind not in self.data_scope:
            return False
        return kind not in LIST_KINDS or list_name in self.lists


@dataclass(frozen=True)
class Rules:
    exclude_simple_procedure: bool
    exclude_no_punishment: bool
    exclude_credit_repaired: bool
    exclude_classified: bool
    require_effective_document: bool = False  # only records a 生效法律文书 confirms count


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
    sections: tuple[Domain, ...] = ()
    max_period_from_floor: bool = False
    objection_days: int = 5
    entity_kinds: tuple[str, ...] = ()
    record_term: str = "违法违规记录"
    seed_file: str = ""
    # where each rule comes from: the keys of SOURCED_KEYS, "rules.<key>" and "domain_scope"
    sources: dict[str, Sourced] = field(default_factory=dict)
    _by_code: dict[str, Domain] = field(init=False, repr=False)
    _by_name: dict[str, Domain] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        parts = (*self.domains, *self.sections)
        by_code = {d.code: d for d in parts}
        by_name = {d.name: d for d in parts}
        for d in parts:
            by_name.update((alias, d) for alias in d.aliases)
        for name, code in self.collection_names.items():
            if code and name not in by_name:
                by_name[name] = by_code[code]
        object.__setattr__(self, "_by_code", by_code)  # frozen: set once, here
        object.__setattr__(self, "_by_name", by_name)

    @property
    def parts(self) -> tuple[Domain, ...]:
        """The domains, then the sections: everything a record can be filed under."""
        return (*self.domains, *self.sections)

    @property
    def kinds_shown(self) -> frozenset[str]:
        """The record kinds some domain or section collects (one source: their data scopes)."""
        return frozenset(k for d in self.parts for k in d.data_scope)

    def domain(self, code: str) -> Domain | None:
        """A report domain a request may choose (not a section)."""
        found = self._by_code.get(code)
        return None if found is None or found.section else found

    def part(self, code: str) -> Domain | None:
        """A domain or a section, by code."""
        return self._by_code.get(code)

    def resolve_domain(self, code_or_name: str) -> Domain | None:
        """A record's `domain`: the code, the exact Chinese name or an alias of a report domain or
        section."""
        return self._by_code.get(code_or_name) or self._by_name.get(code_or_name)

    def collected_only(self, name: object) -> bool:
        """A domain of the region's data-collection table that no report domain shows (Gansu's
        附表1 collects 47, its reports have 38): records filed there are kept, never reported."""
        return isinstance(name, str) and self.collection_names.get(name, "") is None

    def effective_max_years(self, today: dt.date) -> int:
        """The longest period in whole years a request can have today: with the floor lifting
        the cap, enough years to reach the floor for another year (a client caches the catalog)."""
        if not (self.max_period_from_floor and self.floor_date):
            return self.max_period_years
        years = today.year - self.floor_date.year + 1
        return max(self.max_period_years, years + 1)

    def catalog(self, today: dt.date) -> dict[str, object]:
        deadline = self.sources.get("objection_deadline_working_days")
        default = deadline is None or deadline.is_default
        return {
            "region": self.region,
            "region_name": self.region_name,
            "report_title": self.report_title,
            "platform_name": self.platform_name,
            "domains": [_part_json(d) for d in self.domains],
            # parts of every report, whatever domains are chosen (Heihe's arrears)
            "sections": [
                _part_json(d) | {"always_included": True, "source": d.source} for d in self.sections
            ],
            "earliest_date": self.floor_date.isoformat() if self.floor_date else None,
            "max_period_years": self.effective_max_years(today),
            "max_period": {
                "years": self.max_period_years,
                "from_floor": self.max_period_from_floor and self.floor_date is not None,
            },
            "report_validity_days": self.report_validity_days,
            "record_term": self.record_term,  # the seed's word for a record: 违法记录 in Heihe
            "entity_kinds": list(self.entity_kinds),
            "objection_deadline": {
                "working_days": self.objection_days,
                "basis": "deployment_default" if default else "seed",
                "source": "" if deadline is None else _deadline_words(deadline),
            },
            "deployment_defaults": sorted(k for k, s in self.sources.items() if s.is_default),
            "source": self.source_document,
        }


def _part_json(d: Domain) -> dict[str, object]:
    return {
        "code": d.code,
        "name": d.name,
        "data_scope": list(d.data_scope),
        "lists": list(d.lists),
    }


def _deadline_words(deadline: Sourced) -> str:
    """The deadline's source for the kiosk's label: the seed's words, or what the seed says."""
    if not deadline.is_default:
        return deadline.quotes[0]
    return deadline.seed_says or ""


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


def _part(d: dict[str, Any], section: bool = False) -> Domain:
    return Domain(
        code=d["code"],
        name=d["name"],
        data_scope=tuple(d.get("data_scope") or ()),
        lists=tuple(d.get("lists") or ()),
        aliases=tuple(d.get("aliases") or ()),
        section=section,
        source=d.get("source"),
    )


def read_sources(data: dict[str, Any]) -> dict[str, Sourced]:
    """Every sourced field of a profile file, by name; a field missing or unsourced raises."""
    region = data.get("region", "?")
    sources = {k: parse_sourced(f"{region}.{k}", data.get(k)) for k in SOURCED_KEYS}
    rules = data.get("rules") or {}
    for key in RULE_KEYS:
        sources[f"rules.{key}"] = parse_sourced(f"{region}.rules.{key}", rules.get(key))
    scope = data.get("domain_scope_source")
    sources["domain_scope"] = parse_sourced(f"{region}.domain_scope_source", scope, has_value=False)
    return sources


@functools.cache
def load_profile(region: str) -> Profile:
    if region not in regions():
        raise UnknownRegionError(region)
    data = _read_json(f"{region}.json")
    sources = read_sources(data)

    def value(key: str) -> Any:
        return sources[key].value

    kinds = value("entity_kinds")
    if not isinstance(kinds, list) or not kinds or not set(kinds) <= set(ENTITY_KINDS):
        raise ProfileDataError(f"{region}.entity_kinds: a non-empty list of entity kinds")
    floor = value("floor_date")
    collection = {row["name"]: row.get("report_domain") for row in data.get("collection_table", [])}
    return Profile(
        region=data["region"],
        region_name=data["region_name"],
        report_title=data["report_title"],
        platform_name=data["platform_name"],
        source_document=_source_text(data.get("source", "")),
        floor_date=dt.date.fromisoformat(floor) if floor else None,
        max_period_years=int(value("max_period_years")),
        report_validity_days=int(value("report_validity_days")),
        domains=tuple(_part(d) for d in data["domains"]),
        sections=tuple(_part(d, section=True) for d in data.get("sections", [])),
        rules=Rules(**{key: bool(value(f"rules.{key}")) for key in RULE_KEYS}),
        calendar=holiday_calendar(),
        collection_names=collection,
        max_period_from_floor=bool(value("max_period_from_floor")),
        objection_days=int(value("objection_deadline_working_days")),
        entity_kinds=tuple(kinds),
        record_term=str(value("record_term")),
        seed_file=str((data.get("source") or {}).get("seed_file", "")),
        sources=sources,
    )
