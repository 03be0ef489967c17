"""Synthetic records for `synth.generate`: every record kind and rule case, with agencies,
document numbers and titles that look like the real ones (agencies from `profiles/synth/`)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .profiles import RECORD_KINDS
from .synth_data import Agency, City, Geography, agency_table

DATE_START = dt.date(2018, 1, 1)
DATE_END = dt.date(2026, 10, 31)
_HUZHOU_FLOOR = dt.date(2020, 5, 1)
_COMMON_FLOOR = dt.date(2021, 1, 1)
GENERIC_LIST_NAME = "严重失信主体名单"

_RECORD_WEIGHTS = {
    "administrative_penalty": 52,
    "serious_dishonesty": 9,
    "business_abnormality": 15,
    "social_insurance_arrears": 13,
    "housing_fund_arrears": 11,
}


@dataclass(frozen=True)
class SynthEntity:
    uscc: str
    name: str
    kind: str
    city: City
    county: tuple[str, str]


def local_place(city: City, county: str) -> str:
    # 兰州市城关区, but a county-level city stands alone: 北安市, 嘉峪关市
    return county if county.endswith("市") else city.full + county


def place_short(county_name: str) -> str:
    # 城关区 -> 城关, 五大连池市 -> 五大连池; a one-character stem keeps its suffix (成县, 岷县)
    return county_name[:-1] if len(county_name) > 2 else county_name


def _agency_for(domain_name: str) -> Agency:
    table = agency_table()
    for agency in table.agencies:
        if any(k in domain_name for k in agency.keywords):
            return agency
    return table.fallback


def _candidates(
    domains: list[Mapping[str, Any]], kind: str, in_scope: bool
) -> list[Mapping[str, Any]]:
    table = agency_table()
    scoped = [d for d in domains if kind in (d.get("data_scope") or ())]
    if kind == "serious_dishonesty":
        listed = [d for d in (scoped if in_scope else domains) if d.get("lists")]
        # a region whose seed names no list still gets entries, under a generic list name
        return listed if listed or in_scope else list(domains)
    if kind == "business_abnormality":
        if in_scope:  # only where the region's tables collect it (the import notes it elsewhere)
            return scoped
        market = [
            d for d in domains if any(w in str(d.get("name", "")) for w in table.market_words)
        ]
        return scoped or market
    if in_scope:
        return scoped
    if kind not in table.arrears_domain_words:
        return list(domains)
    # out of scope, arrears still prefer the domain that naturally owns them
    hints = table.arrears_domain_words[kind]
    hinted = [d for d in domains if any(w in str(d.get("name", "")) for w in hints)]
    return scoped or hinted or domains


def _rand_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


# Cases forced onto the first record of successive entities with records, so that every
# record kind and every exclusion/window case exists even in a small data set.
_SCENARIOS: tuple[dict[str, Any], ...] = (
    {"kind": "administrative_penalty"},
    {"kind": "serious_dishonesty"},
    {"kind": "business_abnormality"},
    {"kind": "social_insurance_arrears"},
    {"kind": "housing_fund_arrears"},
    {"kind": "administrative_penalty", "procedure": "simple", "window": "late"},
    {"kind": "administrative_penalty", "decision": "no_punishment", "window": "late"},
    {"kind": "administrative_penalty", "repaired": True, "window": "late"},
    {"kind": "administrative_penalty", "classified": True, "window": "late"},
    {"kind": "administrative_penalty", "window": "early"},
    {"kind": "administrative_penalty", "window": "mid"},
    {"kind": "administrative_penalty", "window": "late"},
)
# A region whose report counts only records a legally effective document confirms (Huzhou) gets
# one record that says it is not confirmed, so the rule has a case to act on.
_UNCONFIRMED = {"kind": "administrative_penalty", "unconfirmed": True, "window": "late"}
_WINDOWS = {
    "early": (DATE_START, _HUZHOU_FLOOR - dt.timedelta(days=1)),
    "mid": (_HUZHOU_FLOOR, _COMMON_FLOOR - dt.timedelta(days=1)),
    "late": (_COMMON_FLOOR, DATE_END),
}


def make_records(
    rng: random.Random,
    reg: Geography,
    ents: list[SynthEntity],
    domains: list[Mapping[str, Any]],
    in_scope: bool,
    target: int | None = None,
    effective_document: bool = False,
) -> Iterator[dict[str, Any]]:
    """With `effective_document`, every record says whether a legally effective document
    confirms it (`confirmed_by_effective_document`), which the region's report counts."""
    cands = {k: _candidates(domains, k, in_scope) for k in RECORD_KINDS}
    available = [k for k in RECORD_KINDS if cands[k]]
    if not ents or not available:
        return
    clean = set(rng.sample(range(len(ents)), round(len(ents) * 0.4)))  # membership only
    scenarios = (*_SCENARIOS, _UNCONFIRMED) if effective_document else _SCENARIOS
    pending = [s for s in scenarios if s["kind"] in available]
    counts = list(range(1, 21))
    count_weights = [1 / k for k in counts]  # mostly a few records, sometimes many
    scale = _count_scale(target, len(ents) - len(clean), counts, count_weights)
    record_ids: set[str] = set()
    dirty: list[tuple[SynthEntity, int]] = []
    for i, ent in enumerate(ents):
        if i in clean:
            continue
        kinds = [
            k
            for k in available
            if not (k == "business_abnormality" and ent.kind == "social_organization")
        ]
        if not kinds:
            continue
        n = rng.choices(counts, weights=count_weights)[0]
        if scale is not None:  # no extra draws: the same seed keeps the same entities and kinds
            n = max(0, round(n * scale))
        specs: list[dict[str, Any]] = []
        for j in range(n):
            forced = next((s for s in pending if s["kind"] in kinds), None) if j == 0 else None
            if forced is not None:
                pending.remove(forced)
                specs.append(forced)
            else:
                specs.append(
                    {"kind": rng.choices(kinds, weights=[_RECORD_WEIGHTS[k] for k in kinds])[0]}
                )
        if specs:
            dirty.append((ent, len(specs)))
        yield from _records_for(rng, reg, ent, specs, cands, record_ids, effective_document)
    # A small data set may run out of dirty entities before every case is placed: the rest
    # come last, so larger sets are as before.
    held = {id(e): n for e, n in dirty}
    for spec in pending:  # dirty entities first, so clean ones stay clean where possible
        found = next(
            (e for e in [*reversed([e for e, _ in dirty]), *reversed(ents)]
             if held.get(id(e), 0) < counts[-1]
             and not (spec["kind"] == "business_abnormality" and e.kind == "social_organization")),
            None,
        )  # fmt: skip
        if found is not None:
            held[id(found)] = held.get(id(found), 0) + 1
            yield from _records_for(rng, reg, found, [spec], cands, record_ids, effective_document)


def _records_for(
    rng: random.Random,
    reg: Geography,
    ent: SynthEntity,
    specs: list[dict[str, Any]],
    cands: Mapping[str, Sequence[Mapping[str, Any]]],
    record_ids: set[str],
    effective_document: bool = False,
) -> Iterator[dict[str, Any]]:
    records = [_make_record(rng, reg, ent, rng.choice(cands[s["kind"]]), s) for s in specs]
    if effective_document:  # most records rest on a document in force; some do not (yet)
        for rec, spec in zip(records, specs, strict=True):
            confirmed = not spec.get("unconfirmed") and rng.random() < 0.9
            rec["confirmed_by_effective_document"] = confirmed
    records.sort(key=lambda r: r["date"])
    for rec in records:
        rid = "R" + "".join(rng.choice("0123456789") for _ in range(10))
        while rid in record_ids:
            rid = "R" + "".join(rng.choice("0123456789") for _ in range(10))
        record_ids.add(rid)
        yield {"type": "record", "record_id": rid, **rec}


def _count_scale(
    target: int | None, active: int, counts: Sequence[int], weights: Sequence[float]
) -> float | None:
    """Factor on each entity's drawn record count so that the expected total is `target`."""
    if target is None:
        return None
    mean = sum(c * w for c, w in zip(counts, weights, strict=True)) / sum(weights)
    return target / (active * mean) if active else 0.0


def _make_record(
    rng: random.Random,
    reg: Geography,
    ent: SynthEntity,
    domain: Mapping[str, Any],
    spec: Mapping[str, Any],
) -> dict[str, Any]:
    kind = spec["kind"]
    penalty = kind == "administrative_penalty"
    procedure, decision, repaired = "general", "punish", False
    if penalty:
        if "procedure" in spec or "decision" in spec or "repaired" in spec:
            procedure = spec.get("procedure", "general")
            decision = spec.get("decision", "punish")
            repaired = bool(spec.get("repaired"))
        else:
            r = rng.random()
            procedure = "simple" if r < 0.15 else "general"
            decision = "no_punishment" if 0.15 <= r < 0.25 else "punish"
            repaired = r >= 0.25 and rng.random() < 0.135  # ~10% of all penalties
    start, end = _WINDOWS[spec["window"]] if "window" in spec else (DATE_START, DATE_END)
    if repaired:  # leave room for a repair date after the decision
        end = min(end, DATE_END - dt.timedelta(days=90))
    date = _rand_date(rng, start, end)
    repaired_on = (
        _rand_date(rng, date + dt.timedelta(days=90), min(date + dt.timedelta(days=720), DATE_END))
        if repaired
        else None
    )
    list_name = (
        rng.choice(list(domain.get("lists") or [GENERIC_LIST_NAME]))
        if kind == "serious_dishonesty"
        else None
    )
    agency, doc_no, titles = _agency_document(
        rng, reg, ent, domain, kind, date, decision, list_name
    )
    kind_titles = agency_table().kind_titles
    if kind == "serious_dishonesty":
        title = f"列入{list_name}"
    elif kind in kind_titles:
        title = rng.choice(kind_titles[kind])
    else:
        title = rng.choice(titles)
    rec: dict[str, Any] = {
        "uscc": ent.uscc,
        "domain": domain["code"],
        "kind": kind,
        "date": date.isoformat(),
        "agency": agency,
        "document_no": doc_no,
        "title": title,
    }
    if penalty:
        rec["procedure"] = procedure
        rec["decision"] = decision
    rec["repaired_on"] = repaired_on.isoformat() if repaired_on else None
    if list_name is not None:
        rec["list_name"] = list_name
    rec["classified"] = bool(spec.get("classified")) or rng.random() < 0.03
    return rec


def _agency_document(
    rng: random.Random,
    reg: Geography,
    ent: SynthEntity,
    domain: Mapping[str, Any],
    kind: str,
    date: dt.date,
    decision: str,
    list_name: str | None,
) -> tuple[str, str, tuple[str, ...]]:
    """(agency name, document number, penalty titles) for a record of `domain`."""
    table = agency_table()
    name = str(domain.get("name", ""))
    if list_name and "被执行人" in list_name:
        agency = table.court
    else:  # list entries and arrears come from their own agency whatever the domain
        agency = _agency_for(table.kind_agency_hint.get(kind, name))
    city, (county_code, county) = ent.city, ent.county
    on_county = agency.county is not None and rng.random() < 0.3 and county != city.full
    template = agency.county if on_county and agency.county else agency.city
    customs = reg.customs
    full = template.format(
        unit=local_place(city, county) if on_county else city.full,
        city=city.full,
        short=city.short,
        province=reg.province_full,
        customs=customs,
        name=name,
    )
    number = rng.randint(1, 1500)
    if agency is table.court:
        # court case numbers: （2023）甘0102执123号, 甘01 for the intermediate court
        code = county_code[2:] if on_county else city.code[2:4]
        return full, f"（{date.year}）{reg.province_abbr}{code}执{number}号", agency.titles
    if on_county:
        unit_abbr = place_short(county)[:2]
    elif "{province}" in template:
        unit_abbr = reg.province_abbr
    elif "{customs}" in template:
        unit_abbr = customs[0]
    else:
        unit_abbr = city.abbr
    if kind == "administrative_penalty":
        word = "不罚" if decision == "no_punishment" else rng.choice(("罚", "处罚"))
    else:
        word = table.doc_word[kind]
    doc_no = f"{unit_abbr}{agency.abbr}{word}〔{date.year}〕{number}号"
    return full, doc_no, agency.titles or table.generic_titles
