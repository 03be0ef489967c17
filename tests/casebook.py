"""Hand-written import lines that exercise each region's rules, worded after the seeds."""

from __future__ import annotations

import json

from report_service.ids import id_check_digit, uscc_check_char
from report_service.profiles import LIST_KINDS, Domain, Profile, load_profile

DIVISIONS = {
    "gansu": "620102",
    "lanzhou": "620103",
    "huzhou": "330502",
    "wuhai": "150302",
    "heihe": "231102",
}


def uscc(region: str, serial: int) -> str:
    first17 = f"91{DIVISIONS[region]}{serial:09d}"
    return first17 + uscc_check_char(first17)


def id_number(region: str, serial: int) -> str:
    first17 = f"{DIVISIONS[region]}19800101{serial:03d}"
    return first17 + id_check_digit(first17)


def penalty(rid: str, code: str, domain: str, date: str, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "type": "record",
        "record_id": rid,
        "uscc": code,
        "domain": domain,
        "kind": "administrative_penalty",
        "date": date,
        "agency": "测试市市场监督管理局",
        "document_no": f"测市监罚〔{date[:4]}〕{rid[-3:]}号",
        "title": "未按规定公示年度报告",
        "procedure": "general",
        "decision": "punish",
        "repaired_on": None,
        "list_name": None,
        "classified": False,
        # valid in every region; where only confirmed records count (Huzhou) false leaves it out
        "confirmed_by_effective_document": True,
    }
    base.update(extra)
    return base


def other(
    rid: str, code: str, domain: str, kind: str, date: str, list_name: str | None = None
) -> dict[str, object]:
    return {
        "type": "record",
        "record_id": rid,
        "uscc": code,
        "domain": domain,
        "kind": kind,
        "date": date,
        "agency": "测试市有关部门",
        "document_no": f"测字〔{date[:4]}〕{rid[-3:]}号",
        "title": "测试记录",
        "list_name": list_name,
        "classified": False,
    }


def _home(profile: Profile, kind: str) -> Domain | None:
    """The first domain (or section) of the region that collects `kind`."""
    return next((d for d in profile.parts if kind in d.data_scope), None)


def casebook(region: str) -> tuple[list[str], dict[str, str]]:
    """One entity, one legal representative, one record per rule case, each filed under a domain
    that collects its kind in the region (a kind no domain collects is left out: it would only be
    reported where it was filed). Returns the lines and the ids, with `domain:<CASE>` the code each case went to."""
    profile = load_profile(region)
    code = uscc(region, 4242)
    person = id_number(region, 421)
    p = f"{region[:2].upper()}CASE"
    home = _home(profile, "administrative_penalty")
    assert home is not None
    rows: list[dict[str, object]] = [
        {
            "type": "entity",
            "uscc": code,
            "name": f"{region}规则测试有限公司",
            "kind": "company",
            "region": region,
        },
        {
            "type": "person",
            "id_number": person,
            "name": "规则测试人",
            "roles": [{"uscc": code, "role": "legal_representative"}],
        },
        penalty(f"{p}-GENERAL", code, home.code, "2022-03-01"),
        penalty(f"{p}-SIMPLE", code, home.code, "2022-04-01", procedure="simple"),
        penalty(f"{p}-NOPUNISH", code, home.code, "2022-04-02", decision="no_punishment"),
        penalty(f"{p}-REPAIRED", code, home.name, "2022-05-01", repaired_on="2023-01-01"),
        penalty(f"{p}-CLASSIFIED", code, home.code, "2022-06-01", classified=True),
        penalty(f"{p}-EARLY", code, home.code, "2020-08-01"),
        # not confirmed by a legally effective document: counts only where that is no condition
        penalty(
            f"{p}-UNCONFIRMED", code, home.code, "2022-07-01", confirmed_by_effective_document=False
        ),
    ]
    cases = (
        ("DISHONEST", "serious_dishonesty", "2023-02-01"),
        ("ABNORMAL", "business_abnormality", "2023-03-01"),
        ("SIARREARS", "social_insurance_arrears", "2023-04-01"),
        ("HFARREARS", "housing_fund_arrears", "2023-05-01"),
    )
    for case, kind, date in cases:
        part = _home(profile, kind)
        if part is not None:
            listed = part.lists[0] if kind in LIST_KINDS else None
            rows.append(other(f"{p}-{case}", code, part.code, kind, date, listed))
    info = {"uscc": code, "id_number": person, "prefix": p}
    for row in rows[2:]:
        case = str(row["record_id"]).split("-", 1)[1]
        domain = profile.resolve_domain(str(row["domain"]))
        assert domain is not None
        info[f"domain:{case}"] = domain.code
    return [json.dumps(r, ensure_ascii=False) for r in rows], info


def company_and_person(
    region: str, company: str, company_name: str, person: str, person_name: str, role: str
) -> list[str]:
    """Import lines for one company and one person holding `role` in it."""
    rows = [
        {
            "type": "entity",
            "uscc": company,
            "name": company_name,
            "kind": "company",
            "region": region,
        },
        {
            "type": "person",
            "id_number": person,
            "name": person_name,
            "roles": [{"uscc": company, "role": role}],
        },
    ]
    return [json.dumps(r, ensure_ascii=False) for r in rows]
