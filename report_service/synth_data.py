"""The data behind synthetic import data, read from `profiles/geography/<region>.json` (a region's
province, cities, counties, customs district, local trades) and `profiles/synth/` (name pools,
agencies and record titles). Adding a region to `report-service seed` is adding its files."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .profiles import regions


@dataclass(frozen=True)
class City:
    short: str  # 兰州
    full: str  # 兰州市
    abbr: str  # 兰, as in document numbers 兰市监罚〔2023〕1号
    code: str  # 620100
    counties: tuple[tuple[str, str], ...]  # (code, name)
    weight: int = 1


@dataclass(frozen=True)
class Geography:
    province_short: str
    province_full: str
    province_abbr: str
    province_code: str
    customs: str  # the customs district's name, for customs records
    cities: tuple[City, ...]
    industries: tuple[str, ...]  # local industries added to the common pool
    farm_products: tuple[str, ...]
    province_reg_share: float = 0.0  # companies registered at the province level (USCC 620000...)


@dataclass(frozen=True)
class Agency:
    keywords: tuple[str, ...]  # matched, in table order, against the domain's name
    city: str  # name template; {unit} is the city (兰州市) or the county office's place
    county: str | None  # the county office's template, None when there is no county office
    abbr: str  # in document numbers: 兰 + 市监 + 罚〔2023〕1号
    titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class NamePools:
    brand_syllables: str
    industries: tuple[str, ...]
    elp_industries: tuple[str, ...]
    sole_forms: tuple[tuple[str, str], ...]  # (trade, form)
    partnership_fields: tuple[str, ...]
    shops: tuple[str, ...]
    foreign: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str], ...]
    foreign_syllables: str
    association_topics: tuple[str, ...]
    service_institutions: tuple[str, ...]
    other_provinces: tuple[str, ...]
    surnames: str
    compound_surnames: tuple[str, ...]
    male_given: str
    female_given: str


@dataclass(frozen=True)
class AgencyTable:
    generic_titles: tuple[str, ...]
    court: Agency
    agencies: tuple[Agency, ...]  # the court first, then the table's order
    fallback: Agency
    kind_titles: dict[str, tuple[str, ...]]
    doc_word: dict[str, str]  # the kind-specific word in a document number
    market_words: tuple[str, ...]  # where business-abnormality lists live
    kind_agency_hint: dict[str, str]
    arrears_domain_words: dict[str, tuple[str, ...]]


def _read(*parts: str) -> Any:
    path = resources.files("report_service").joinpath("profiles", *parts)
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


@functools.cache
def load_geography(region: str) -> Geography:
    if region not in regions():
        raise ValueError(f"unknown region {region!r}; expected one of {', '.join(regions())}")
    try:
        data = _read("geography", f"{region}.json")
    except FileNotFoundError:
        raise ValueError(f"region {region!r} has no geography/{region}.json") from None
    province = data["province"]
    cities = tuple(
        City(
            c["short"],
            c["full"],
            c["abbr"],
            c["code"],
            tuple((code, name) for code, name in c["counties"]),
            int(c.get("weight", 1)),
        )
        for c in data["cities"]
    )
    return Geography(
        province["short"],
        province["full"],
        province["abbr"],
        province["code"],
        data["customs"],
        cities,
        tuple(data["industries"]),
        tuple(data["farm_products"]),
        float(data.get("province_reg_share", 0.0)),
    )


@functools.cache
def name_pools() -> NamePools:
    d = _read("synth", "names.json")
    return NamePools(
        brand_syllables=d["brand_syllables"],
        industries=tuple(d["industries"]),
        elp_industries=tuple(d["elp_industries"]),
        sole_forms=tuple((trade, form) for trade, form in d["sole_forms"]),
        partnership_fields=tuple(d["partnership_fields"]),
        shops=tuple(d["shops"]),
        foreign=tuple(
            (f["country"], tuple(f["trade_names"]), tuple(f["lines"]), f["form"])
            for f in d["foreign"]
        ),
        foreign_syllables=d["foreign_syllables"],
        association_topics=tuple(d["association_topics"]),
        service_institutions=tuple(d["service_institutions"]),
        other_provinces=tuple(d["other_provinces"]),
        surnames=d["surnames"],
        compound_surnames=tuple(d["compound_surnames"]),
        male_given=d["male_given"],
        female_given=d["female_given"],
    )


def _agency(d: dict[str, Any]) -> Agency:
    return Agency(tuple(d["keywords"]), d["city"], d["county"], d["abbr"], tuple(d["titles"]))


@functools.cache
def agency_table() -> AgencyTable:
    d = _read("synth", "agencies.json")
    court = _agency(d["court"])
    return AgencyTable(
        generic_titles=tuple(d["generic_titles"]),
        court=court,
        agencies=(court, *(_agency(a) for a in d["agencies"])),
        fallback=_agency(d["fallback"]),
        kind_titles={k: tuple(v) for k, v in d["kind_titles"].items()},
        doc_word=dict(d["doc_word"]),
        market_words=tuple(d["market_words"]),
        kind_agency_hint=dict(d["kind_agency_hint"]),
        arrears_domain_words={k: tuple(v) for k, v in d["arrears_domain_words"].items()},
    )
