"""Deterministic synthetic import data (entities, persons, records) for demos and tests.

`generate()` yields objects in the JSON Lines import format of DESIGN.md §4: all entities first,
then persons, then records. The same (region, domains, entities, seed) always gives the same
objects in the same order: all randomness comes from one `random.Random` seeded with
"region:seed" (so two regions seeded alike do not share codes or names), nothing reads the clock,
and no set or `hash()` order is ever iterated. The geography and the name pools are data
(`synth_data.py`); the records are made in `synth_records.py`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from . import entities as _entities
from .ids import USCC_CHARSET, id_check_digit, uscc_check_char
from .profiles import RECORD_KINDS
from .synth_data import City, Geography, load_geography, name_pools
from .synth_records import SynthEntity, local_place, make_records, place_short

ENTITY_KINDS = tuple(_entities.ENTITY_KINDS)  # the import format's kinds, in their order
ROLES = tuple(_entities.ROLES)

__all__ = [
    "ENTITY_KINDS",
    "RECORD_KINDS",
    "ROLES",
    "generate",
    "generate_region",
    "make_id_number",
    "make_uscc",
]

_ENTITY_WEIGHTS = {  # share of each kind after the first nine (one of each)
    "company": 40,
    "enterprise_legal_person": 4,
    "branch": 8,
    "sole_proprietorship": 6,
    "partnership": 5,
    "farmer_cooperative": 7,
    "individual_business": 21,
    "foreign_company_branch": 3,
    "social_organization": 6,
}
# registration authority + organisation type (GB 32100-2015 table 2); social organisations:
# 51 社会团体, or 52 社会服务机构 chosen per name below
_USCC_PREFIX = {
    "company": "91",
    "enterprise_legal_person": "91",
    "branch": "91",
    "sole_proprietorship": "91",
    "partnership": "91",
    "farmer_cooperative": "93",
    "individual_business": "92",
    "foreign_company_branch": "91",
    "social_organization": "51",
}


# --- public helpers --------------------------------------------------------------------------


def make_uscc(rng: random.Random, prefix2: str, division: str) -> str:
    """A valid USCC: prefix2 + division + organisation code (GB 11714 check) + check char."""
    if len(prefix2) != 2 or len(division) != 6 or not division.isascii() or not division.isdigit():
        raise ValueError("prefix2 must be 2 characters and division 6 ASCII digits")
    if prefix2[0] == "5":  # civil-affairs organisation codes commonly start with 5
        body = "5" + "".join(rng.choice("0123456789") for _ in range(7))
    elif rng.random() < 0.6:  # codes issued since 2015 are mostly MA + 6 characters
        body = "MA" + "".join(rng.choice(USCC_CHARSET) for _ in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    first17 = prefix2 + division + body + _org_code_check(body)
    return first17 + uscc_check_char(first17)


def make_id_number(rng: random.Random, division: str, birth: dt.date, sex: int) -> str:
    """A valid 18-digit ID number; sex 1 = male (odd 17th digit), 2 = female (even)."""
    if len(division) != 6 or not division.isascii() or not division.isdigit():
        raise ValueError("division must be 6 ASCII digits")
    if sex not in (1, 2):
        raise ValueError("sex must be 1 (male) or 2 (female)")
    order = rng.randrange(100) * 10 + rng.choice((1, 3, 5, 7, 9) if sex == 1 else (0, 2, 4, 6, 8))
    first17 = f"{division}{birth:%Y%m%d}{order:03d}"
    return first17 + id_check_digit(first17)


def generate(
    region: str,
    domains: Sequence[Mapping[str, Any]],
    entities: int,
    seed: int,
    kinds_in_data_scope: bool = True,
    records: int | None = None,
    entity_kinds: Sequence[str] = ENTITY_KINDS,
    effective_document: bool = False,
) -> Iterator[dict[str, Any]]:
    """Yield import objects: `entities` entities, about 0.8x as many persons, then their records.

    `records` aims the record total at about that many by scaling every entity's record count;
    None keeps the natural mix (about 3.3 records per entity) and the exact default output.

    With `kinds_in_data_scope` a record only goes to a domain whose `data_scope` lists its kind;
    without it penalties may land in any domain and arrears in a domain that collects them, else
    one named for them (人力资源和社会保障, 公积金), else any. Serious-dishonesty records
    always need a domain with `lists`; business-abnormality records a domain that collects them
    or, failing that (out of scope only), a market-regulation domain. A kind no domain can take
    is left out. Entities are of `entity_kinds` only (the kinds the region's scheme lists);
    `effective_document` gives every record `confirmed_by_effective_document`.
    """
    if entities < 0:
        raise ValueError("entities must be >= 0")
    if records is not None and records < 0:
        raise ValueError("records must be >= 0")
    rng = random.Random(f"{region}:{seed}")  # str seeds go through SHA-512: stable across runs
    reg = load_geography(region)  # an unknown region raises ValueError
    eligible = [k for k in ENTITY_KINDS if k in entity_kinds]  # in the import format's order
    ents = _make_entities(rng, reg, entities, eligible)
    for e in ents:
        yield {"type": "entity", "uscc": e.uscc, "name": e.name, "kind": e.kind, "region": region}
    yield from _make_persons(rng, reg, ents)
    yield from make_records(
        rng, reg, ents, list(domains), kinds_in_data_scope, records, effective_document
    )


# --- entities --------------------------------------------------------------------------------


def _org_code_check(body: str) -> str:
    # GB 11714: weights 3,7,9,10,5,8,4,2 over values 0-9/A-Z(10-35); 10 -> X, 11 -> 0
    total = sum(int(c, 36) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def _weighted(rng: random.Random, weights: Mapping[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _brand(rng: random.Random, length: int = 2, syllables: str | None = None) -> str:
    return "".join(rng.sample(syllables or name_pools().brand_syllables, length))


def _entity_name(
    rng: random.Random, reg: Geography, kind: str, city: City, county: str, brand_len: int
) -> tuple[str, str]:
    """(name, USCC prefix) for one entity of `kind` registered in `city`/`county`."""
    pools = name_pools()
    brand = _brand(rng, brand_len)
    industry = rng.choice(pools.industries + reg.industries)
    prefix = _USCC_PREFIX[kind]
    if kind == "company":
        form = rng.choices(("有限公司", "有限责任公司", "股份有限公司"), weights=(70, 15, 15))[0]
        if rng.random() < 0.15:
            return f"{brand}（{city.short}）{industry}{form}", prefix
        return f"{city.short}{brand}{industry}{form}", prefix
    if kind == "enterprise_legal_person":
        form = rng.choice(("厂", "总公司", "公司"))
        return f"{city.full}{brand}{rng.choice(pools.elp_industries)}{form}", prefix
    if kind == "branch":
        if rng.random() < 0.5 or place_short(county) == city.short:
            parent, place = reg.province_short, city.short
        else:
            parent, place = city.short, place_short(county)
        form = rng.choice(("有限公司", "股份有限公司"))
        return f"{parent}{brand}{industry}{form}{place}分公司", prefix
    if kind == "sole_proprietorship":
        trade, form = rng.choice(pools.sole_forms)
        tail = rng.choice(("", "（个人独资）"))
        return f"{local_place(city, county)}{brand}{trade}{form}{tail}", prefix
    if kind == "partnership":
        r = rng.random()
        if r < 0.1:
            return f"{reg.province_short}{brand}会计师事务所（普通合伙）", prefix
        form = "（有限合伙）" if r < 0.7 else "（普通合伙）"
        return f"{city.short}{brand}{rng.choice(pools.partnership_fields)}合伙企业{form}", prefix
    if kind == "farmer_cooperative":
        form = rng.choices(("农民专业合作社", "专业合作社"), weights=(70, 30))[0]
        return f"{county}{brand}{rng.choice(reg.farm_products)}{form}", prefix
    if kind == "individual_business":
        return f"{local_place(city, county)}{brand}{rng.choice(pools.shops)}", prefix
    if kind == "foreign_company_branch":
        country, names, trades, form = rng.choice(pools.foreign)
        # a branch (分公司), never a representative office (代表处, not a 外国公司分支机构);
        # the draw that once chose between them stays, so each seed's data set is unchanged
        rng.random()
        # the short pool runs out in large data sets: then a transliterated three-syllable name
        trade_name = (
            rng.choice(names) if brand_len == 2 else _brand(rng, 3, pools.foreign_syllables)
        )
        return f"{country}{trade_name}{rng.choice(trades)}{form}{city.short}分公司", prefix
    # social_organization: 社会团体 (51) or 社会服务机构 (52)
    r = rng.random()
    if r < 0.35:
        return f"{city.full}{rng.choice(pools.association_topics)}行业协会", "51"
    if r < 0.55:
        others = [p for p in pools.other_provinces if p != reg.province_short]
        return f"{city.full}{rng.choice(others)}商会", "51"
    if r < 0.7:
        return f"{local_place(city, county)}{rng.choice(pools.association_topics)}协会", "51"
    return f"{local_place(city, county)}{brand}{rng.choice(pools.service_institutions)}", "52"


def _make_entities(
    rng: random.Random, reg: Geography, n: int, eligible: Sequence[str]
) -> list[SynthEntity]:
    kinds = list(eligible)
    rng.shuffle(kinds)  # one of each kind first, so small data sets still cover them all
    weights = {k: w for k, w in _ENTITY_WEIGHTS.items() if k in eligible}
    kinds = kinds[:n] + [_weighted(rng, weights) for _ in range(n - len(kinds))]
    city_weights = [c.weight for c in reg.cities]
    names: set[str] = set()  # membership only, never iterated
    usccs: set[str] = set()
    out: list[SynthEntity] = []
    for kind in kinds:
        city = rng.choices(reg.cities, weights=city_weights)[0]
        county = rng.choice(city.counties)
        for attempt in range(200):
            name, prefix = _entity_name(rng, reg, kind, city, county[1], 2 if attempt < 20 else 3)
            if name not in names:
                break
        else:
            raise RuntimeError(f"could not find a unique name for a {kind}")
        names.add(name)
        division = _registration_division(rng, reg, kind, city, county[0])
        uscc = make_uscc(rng, prefix, division)
        while uscc in usccs:
            uscc = make_uscc(rng, prefix, division)
        usccs.add(uscc)
        out.append(SynthEntity(uscc, name, kind, city, county))
    return out


def _registration_division(
    rng: random.Random, reg: Geography, kind: str, city: City, county_code: str
) -> str:
    # companies register at province, city or county level; small businesses at the county
    if kind in ("individual_business", "farmer_cooperative", "sole_proprietorship"):
        return county_code
    if kind == "company" and rng.random() < reg.province_reg_share:
        return reg.province_code
    return city.code if rng.random() < 0.5 else county_code


# --- persons ---------------------------------------------------------------------------------


def _person_name(rng: random.Random, sex: int) -> str:
    pools = name_pools()
    compound = rng.random() < 0.03
    surname = rng.choice(pools.compound_surnames) if compound else rng.choice(pools.surnames)
    pool = pools.male_given if sex == 1 else pools.female_given
    given = rng.choice(pool) if rng.random() < 0.3 else "".join(rng.choices(pool, k=2))
    return surname + given


def _make_persons(
    rng: random.Random, reg: Geography, ents: list[SynthEntity]
) -> list[dict[str, Any]]:
    n_ent = len(ents)
    n_persons = max(1, round(n_ent * 0.8)) if n_ent else 0
    roles: list[list[tuple[int, str]]] = [[] for _ in range(n_persons)]  # (entity index, role)
    order = list(range(n_ent))
    rng.shuffle(order)
    # every person represents one entity; the remaining entities go to a pool of people
    # who represent 2-4 (as in real life: one owner, several businesses)
    for p, e in enumerate(order[:n_persons]):
        roles[p].append((e, "legal_representative"))
    rest = order[n_persons:]
    pool = rng.sample(range(n_persons), min(n_persons, max(1, -(-len(rest) // 2)))) if rest else []
    for e in rest:
        if not pool:  # everyone in the pool holds 4 roles: widen it
            pool = [p for p in range(n_persons) if len(roles[p]) < 4]
        i = rng.randrange(len(pool))
        roles[pool[i]].append((e, "legal_representative"))
        if len(roles[pool[i]]) >= 4:
            pool[i] = pool[-1]  # swap-remove: O(1) and still deterministic
            pool.pop()
    # about a quarter of entities also authorise an agent
    for e in range(n_ent):
        if n_persons < 2 or rng.random() >= 0.25:
            continue
        for _ in range(5):
            p = rng.randrange(n_persons)
            if len(roles[p]) < 4 and all(held != e for held, _ in roles[p]):
                roles[p].append((e, "agent"))
                break
    counties = [c[0] for city in reg.cities for c in city.counties]
    ids: set[str] = set()
    people: list[dict[str, Any]] = []
    span = (dt.date(2000, 12, 31) - dt.date(1960, 1, 1)).days
    for held in roles:
        sex = rng.choice((1, 2))
        name = _person_name(rng, sex)
        while True:
            birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randint(0, span))
            id_number = make_id_number(rng, rng.choice(counties), birth, sex)
            if id_number not in ids:
                break
        ids.add(id_number)
        people.append(
            {
                "type": "person",
                "id_number": id_number,
                "name": name,
                "roles": [{"uscc": ents[e].uscc, "role": r} for e, r in sorted(held)],
            }
        )
    return people


def generate_region(
    region: str, entities: int, seed: int, records: int | None = None
) -> Iterator[dict[str, Any]]:
    """What `report-service seed` loads: `generate` over the region profile's report domains."""
    from .profiles import load_profile  # the profile loader reads package data; import on use

    profile = load_profile(region)
    domains = [
        {"code": d.code, "name": d.name, "data_scope": list(d.data_scope), "lists": list(d.lists)}
        for d in profile.parts  # the sections too: Heihe's arrears are filed under them
    ]
    # every record fits its domain's data scope and list names, as the import requires
    return generate(
        region, domains, entities, seed, kinds_in_data_scope=True, records=records,
        entity_kinds=profile.entity_kinds,
        effective_document=profile.rules.require_effective_document,
    )  # fmt: skip
