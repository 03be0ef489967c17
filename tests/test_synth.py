"""Deterministic synthetic import data: format, validity, coverage of every rule case."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from report_service.ids import id_birth_date, is_valid_id_number, is_valid_uscc
from report_service.profiles import load_profile
from report_service.synth import ENTITY_KINDS, RECORD_KINDS, generate, generate_region

# A small stand-in for a region profile's domain list (the real profiles are data of their own).
DOMAINS: list[dict[str, Any]] = [
    {
        "code": "market_regulation",
        "name": "市场监管",
        "data_scope": ["administrative_penalty", "business_abnormality", "serious_dishonesty"],
        "lists": ["市场监督管理严重违法失信名单"],
    },
    {
        "code": "taxation",
        "name": "税务",
        "data_scope": ["administrative_penalty", "serious_dishonesty"],
        "lists": ["重大税收违法失信主体名单"],
    },
    {
        "code": "court_enforcement",
        "name": "法院执行",
        "data_scope": ["serious_dishonesty"],
        "lists": ["失信被执行人"],
    },
    {
        "code": "hrss",
        "name": "人力资源和社会保障",
        "data_scope": ["administrative_penalty", "social_insurance_arrears"],
        "lists": [],
    },
    {
        "code": "housing_fund",
        "name": "公积金管理",
        "data_scope": ["housing_fund_arrears"],
        "lists": [],
    },
    {
        "code": "environment",
        "name": "生态环境",
        "data_scope": ["administrative_penalty"],
        "lists": [],
    },
    {"code": "archives", "name": "档案", "data_scope": ["administrative_penalty"], "lists": []},
]
BY_CODE = {d["code"]: d for d in DOMAINS}
REGIONS = {"gansu": "62", "lanzhou": "6201", "huzhou": "3305", "wuhai": "1503", "heihe": "2311"}

ENTITY_KEYS = {"type", "uscc", "name", "kind", "region"}
PERSON_KEYS = {"type", "id_number", "name", "roles"}
RECORD_KEYS = {
    "type",
    "record_id",
    "uscc",
    "domain",
    "kind",
    "date",
    "agency",
    "document_no",
    "title",
    "repaired_on",
    "classified",
}
USCC_PREFIX = {
    "company": ("91",),
    "enterprise_legal_person": ("91",),
    "branch": ("91",),
    "sole_proprietorship": ("91",),
    "partnership": ("91",),
    "farmer_cooperative": ("93",),
    "individual_business": ("92",),
    "foreign_company_branch": ("91",),
    "social_organization": ("51", "52"),
}
NAME_FORMS = {
    "company": r"公司$",
    "enterprise_legal_person": r"(厂|公司)$",
    "branch": r"分公司$",
    "sole_proprietorship": r"(商行|经营部|加工厂|中心|工作室|购销部|批发部)(（个人独资）)?$",
    "partnership": r"（(有限|普通)合伙）$",
    "farmer_cooperative": r"专业合作社$",
    "individual_business": r"(店|部|馆)$",
    "foreign_company_branch": r"^(日本|韩国|德国|美国|俄罗斯|新加坡|法国).+分公司$",
    "social_organization": r"(协会|商会|学校|养老院|幼儿园|中心)$",
}


def _run(
    region: str = "lanzhou", entities: int = 200, seed: int = 1, in_scope: bool = True
) -> list[dict[str, Any]]:
    return list(generate(region, DOMAINS, entities, seed, in_scope))


def _split(objs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], ...]:
    by_type: dict[str, list[dict[str, Any]]] = {"entity": [], "person": [], "record": []}
    for o in objs:
        by_type[o["type"]].append(o)
    return by_type["entity"], by_type["person"], by_type["record"]


def _jsonl(objs: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs)


@pytest.fixture(scope="module")
def data() -> list[dict[str, Any]]:
    return _run()


# --- determinism ---


def test_same_inputs_same_bytes() -> None:
    assert _jsonl(_run(seed=5)) == _jsonl(_run(seed=5))


def test_different_seed_or_region_differs() -> None:
    base = _jsonl(_run(seed=5))
    assert _jsonl(_run(seed=6)) != base
    assert _jsonl(_run("huzhou", seed=5)) != base


def test_regions_seeded_alike_share_no_codes() -> None:
    gansu, lanzhou = _split(_run("gansu", seed=3))[0], _split(_run("lanzhou", seed=3))[0]
    assert not {e["uscc"] for e in gansu} & {e["uscc"] for e in lanzhou}


def test_unknown_region_and_negative_count() -> None:
    with pytest.raises(ValueError):
        list(generate("beijing", DOMAINS, 10, 1))
    with pytest.raises(ValueError):
        list(generate("gansu", DOMAINS, -1, 1))
    assert list(generate("gansu", DOMAINS, 0, 1)) == []


# --- format ---


def test_json_serialisable_and_order(data: list[dict[str, Any]]) -> None:
    json.loads(json.dumps(data, ensure_ascii=False))
    types = [o["type"] for o in data]
    n_ent, n_per = types.count("entity"), types.count("person")
    assert types == ["entity"] * n_ent + ["person"] * n_per + ["record"] * (
        len(types) - n_ent - n_per
    )


def test_entity_fields(data: list[dict[str, Any]]) -> None:
    entities = _split(data)[0]
    assert len(entities) == 200
    for e in entities:
        assert set(e) == ENTITY_KEYS
        assert e["kind"] in ENTITY_KINDS
        assert e["region"] == "lanzhou"


def test_person_fields(data: list[dict[str, Any]]) -> None:
    entities, persons, _ = _split(data)
    usccs = {e["uscc"] for e in entities}
    for p in persons:
        assert set(p) == PERSON_KEYS
        assert p["roles"]
        for r in p["roles"]:
            assert set(r) == {"uscc", "role"}
            assert r["role"] in ("legal_representative", "agent")
            assert r["uscc"] in usccs
        assert len({r["uscc"] for r in p["roles"]}) == len(p["roles"])  # one role per entity


def test_record_fields(data: list[dict[str, Any]]) -> None:
    entities, _, records = _split(data)
    usccs = {e["uscc"] for e in entities}
    ids = [r["record_id"] for r in records]
    assert len(ids) == len(set(ids))
    for r in records:
        extra = set()
        if r["kind"] == "administrative_penalty":
            extra = {"procedure", "decision"}
            assert r["procedure"] in ("general", "simple")
            assert r["decision"] in ("punish", "no_punishment")
        elif r["kind"] == "serious_dishonesty":
            extra = {"list_name"}
            assert r["list_name"] in BY_CODE[r["domain"]]["lists"]
        assert set(r) == RECORD_KEYS | extra, r
        assert r["kind"] in RECORD_KINDS
        assert re.fullmatch(r"R\d{10}", r["record_id"])
        assert r["uscc"] in usccs
        assert r["domain"] in BY_CODE
        assert isinstance(r["classified"], bool)
        date = dt.date.fromisoformat(r["date"])
        assert dt.date(2018, 1, 1) <= date <= dt.date(2026, 10, 31)
        if r["repaired_on"] is not None:
            assert r["kind"] == "administrative_penalty"
            assert date < dt.date.fromisoformat(r["repaired_on"]) <= dt.date(2026, 10, 31)
        assert r["agency"] and r["title"] and r["document_no"].endswith("号")


# --- entities and persons ---


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_codes_valid_unique_and_regional(region: str) -> None:
    entities, persons, _ = _split(_run(region, entities=150, seed=2))
    usccs = [e["uscc"] for e in entities]
    assert len(set(usccs)) == len(usccs)
    names = [e["name"] for e in entities]
    assert len(set(names)) == len(names)
    for e in entities:
        assert is_valid_uscc(e["uscc"])
        assert e["uscc"][:2] in USCC_PREFIX[e["kind"]], e
        assert e["uscc"][2:8].startswith(REGIONS[region])
    numbers = [p["id_number"] for p in persons]
    assert len(set(numbers)) == len(numbers)
    for p in persons:
        assert is_valid_id_number(p["id_number"])
        assert p["id_number"].startswith(REGIONS[region])
        birth = id_birth_date(p["id_number"])
        assert birth is not None and dt.date(1960, 1, 1) <= birth <= dt.date(2000, 12, 31)
        assert 2 <= len(p["name"]) <= 4


def test_names_match_kind(data: list[dict[str, Any]]) -> None:
    for e in _split(data)[0]:
        assert re.search(NAME_FORMS[e["kind"]], e["name"]), e
        if e["kind"] == "individual_business":
            assert "公司" not in e["name"]


def test_all_nine_kinds_at_twenty() -> None:
    for seed in range(5):
        kinds = {e["kind"] for e in _split(_run(entities=20, seed=seed))[0]}
        assert kinds == set(ENTITY_KINDS)


def test_roles(data: list[dict[str, Any]]) -> None:
    entities, persons, _ = _split(data)
    assert abs(len(persons) - 160) <= 2
    legal = Counter(
        r["uscc"] for p in persons for r in p["roles"] if r["role"] == "legal_representative"
    )
    assert all(legal[e["uscc"]] == 1 for e in entities)
    per_person = [len(p["roles"]) for p in persons]
    assert max(per_person) <= 4
    assert sum(1 for n in per_person if n >= 2) >= 10  # people representing several enterprises
    assert any(r["role"] == "agent" for p in persons for r in p["roles"])
    assert any(n >= 3 for n in per_person)


def test_compound_surnames_appear() -> None:
    _, persons, _ = _split(_run(entities=1000, seed=4))
    assert any(p["name"][:2] in ("欧阳", "司马", "上官", "诸葛", "皇甫", "慕容") for p in persons)


# --- records ---


def test_clean_share_and_record_counts(data: list[dict[str, Any]]) -> None:
    entities, _, records = _split(data)
    per_entity = Counter(r["uscc"] for r in records)
    clean = sum(1 for e in entities if e["uscc"] not in per_entity)
    assert clean == 80  # 40 % of 200
    assert all(1 <= n <= 20 for n in per_entity.values())


def test_every_kind_and_rule_case_present(data: list[dict[str, Any]]) -> None:
    records = _split(data)[2]
    penalties = assert_every_kind_and_exclusion(records)
    dates = [r["date"] for r in records]
    assert any(d < "2020-05-01" for d in dates)
    assert any("2020-05-01" <= d < "2021-01-01" for d in dates)
    assert any(d >= "2021-01-01" for d in dates)
    # each exclusion case also inside every region's window, so the rule (not the date) decides
    late = [r for r in penalties if r["date"] >= "2021-01-01"]
    assert any(r["procedure"] == "simple" for r in late)
    assert any(r["decision"] == "no_punishment" for r in late)
    assert any(r["repaired_on"] for r in late)
    assert any(r["classified"] for r in late)


def test_rule_case_rates() -> None:
    records = _split(_run(entities=1000, seed=9))[2]
    penalties = [r for r in records if r["kind"] == "administrative_penalty"]
    share = len(penalties)
    assert 0.10 < sum(r["procedure"] == "simple" for r in penalties) / share < 0.20
    assert 0.06 < sum(r["decision"] == "no_punishment" for r in penalties) / share < 0.14
    assert 0.06 < sum(bool(r["repaired_on"]) for r in penalties) / share < 0.14
    assert 0.01 < sum(r["classified"] for r in records) / len(records) < 0.06


def test_kinds_follow_data_scope(data: list[dict[str, Any]]) -> None:
    for r in _split(data)[2]:
        assert r["kind"] in BY_CODE[r["domain"]]["data_scope"], r


def test_out_of_scope_mode_spreads_penalties() -> None:
    records = _split(_run(in_scope=False))[2]
    outside = [r for r in records if r["kind"] not in BY_CODE[r["domain"]]["data_scope"]]
    assert outside
    for r in records:  # list entries still need a domain with lists
        if r["kind"] == "serious_dishonesty":
            assert r["list_name"] in BY_CODE[r["domain"]]["lists"]


def test_arrears_found_by_domain_name_when_out_of_scope() -> None:
    domains = [{**d, "data_scope": ["administrative_penalty"]} for d in DOMAINS]
    objs = list(generate("heihe", domains, 200, 1, kinds_in_data_scope=False))
    records = _split(objs)[2]
    assert {r["domain"] for r in records if r["kind"] == "social_insurance_arrears"} == {"hrss"}
    assert {r["domain"] for r in records if r["kind"] == "housing_fund_arrears"} == {"housing_fund"}


def test_kinds_without_a_domain_are_skipped() -> None:
    domains = [
        {"code": "env", "name": "生态环境", "data_scope": ["administrative_penalty"], "lists": []},
    ]
    records = _split(list(generate("huzhou", domains, 100, 1)))[2]
    assert records
    assert {r["kind"] for r in records} == {"administrative_penalty"}


def test_business_abnormality_falls_back_to_market_domain() -> None:
    domains = [
        {
            "code": "market",
            "name": "市场监管",
            "data_scope": ["administrative_penalty"],
            "lists": [],
        },
        {"code": "env", "name": "生态环境", "data_scope": ["administrative_penalty"], "lists": []},
    ]
    records = _split(list(generate("huzhou", domains, 100, 1, kinds_in_data_scope=False)))[2]
    abnormal = [r for r in records if r["kind"] == "business_abnormality"]
    assert abnormal and {r["domain"] for r in abnormal} == {"market"}
    # in scope, a region that collects no 经营异常名录 gets none (the import would note it)
    in_scope = _split(list(generate("huzhou", domains, 100, 1)))[2]
    assert {r["kind"] for r in in_scope} == {"administrative_penalty"}


def test_no_domains_means_no_records() -> None:
    assert _split(list(generate("wuhai", [], 30, 1)))[2] == []


def test_agencies_and_documents_look_real(data: list[dict[str, Any]]) -> None:
    for r in _split(data)[2]:
        assert r["agency"].startswith(("兰州", "国家税务总局兰州", "甘肃")), r
        if "list_name" in r:
            assert r["title"] == f"列入{r['list_name']}"
        if r.get("list_name") == "失信被执行人":
            assert r["agency"].endswith("人民法院")
            assert re.fullmatch(r"（\d{4}）甘\d{2,4}执\d+号", r["document_no"])
        else:
            assert re.fullmatch(r"\S+〔\d{4}〕\d+号", r["document_no"]), r
            assert r["document_no"].split("〔")[1][:4] == r["date"][:4]
        if r["kind"] == "business_abnormality":
            assert r["agency"].endswith("市场监督管理局")
        if r["kind"] == "housing_fund_arrears":
            assert r["agency"] == "兰州市住房公积金管理中心"


# --- properties over many seeds ---


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(sorted(REGIONS)),
    st.integers(0, 60),
    st.integers(0, 2**31),
    st.booleans(),
)
def test_invariants_hold_for_any_seed(region: str, n: int, seed: int, in_scope: bool) -> None:
    entities, persons, records = _split(list(generate(region, DOMAINS, n, seed, in_scope)))
    assert len(entities) == n
    assert len({e["uscc"] for e in entities}) == n
    assert all(is_valid_uscc(e["uscc"]) for e in entities)
    assert all(is_valid_id_number(p["id_number"]) for p in persons)
    legal = Counter(
        r["uscc"] for p in persons for r in p["roles"] if r["role"] == "legal_representative"
    )
    assert all(legal[e["uscc"]] == 1 for e in entities)
    assert all(len(p["roles"]) <= 4 for p in persons)
    if n >= 20:
        assert {e["kind"] for e in entities} == set(ENTITY_KINDS)
        assert {r["kind"] for r in records} == set(RECORD_KINDS)
    per_entity = Counter(r["uscc"] for r in records)
    assert all(1 <= c <= 20 for c in per_entity.values())


@pytest.mark.parametrize("region", sorted(REGIONS))
@pytest.mark.parametrize(("n", "seed"), [(3, 1), (5, 1), (5, 2), (8, 3)])
def test_a_small_data_set_has_every_record_kind_and_exclusion_case(
    region: str, n: int, seed: int
) -> None:
    records = [o for o in generate_region(region, n, seed) if o["type"] == "record"]
    profile = load_profile(region)
    assert_every_kind_and_exclusion(records, profile.kinds_shown)
    for r in records:  # every record fits its domain's scope, as the import requires
        part = profile.part(r["domain"])
        assert part is not None and part.collects(r["kind"], r.get("list_name")), r
    if profile.rules.require_effective_document:  # Huzhou: every record says, one says no
        assert all(isinstance(r["confirmed_by_effective_document"], bool) for r in records)
        assert any(r["confirmed_by_effective_document"] is False for r in records)
    else:
        assert all("confirmed_by_effective_document" not in r for r in records)


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_seeded_entities_are_of_the_kinds_the_region_lists(region: str) -> None:
    kinds = {o["kind"] for o in generate_region(region, 40, 1) if o["type"] == "entity"}
    assert kinds == set(load_profile(region).entity_kinds)  # no 社会组织 in Lanzhou or Wuhai


def assert_every_kind_and_exclusion(
    records: list[dict[str, Any]], kinds: frozenset[str] | set[str] = frozenset(RECORD_KINDS)
) -> list[dict[str, Any]]:
    """Every record kind (of `kinds`) and every exclusion case is there; returns the penalties."""
    assert {r["kind"] for r in records} == set(kinds)
    penalties = [r for r in records if r["kind"] == "administrative_penalty"]
    assert any(r["procedure"] == "simple" for r in penalties)
    assert any(r["decision"] == "no_punishment" for r in penalties)
    assert any(r["repaired_on"] for r in penalties)
    assert any(r["classified"] for r in records)
    return penalties
