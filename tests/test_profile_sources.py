"""Every rule of a profile says where it comes from: the seed's words, or a deployment default with
its reason (issue 18); `report-service profiles show REGION` lists them.

The quotes are checked against the seeds shipped in report_service/profiles/seeds/, so a rule can
only claim words its seed really has. The values no seed states are pinned here, region by region,
so that turning a default into policy (or back) is a deliberate change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from report_service.profile_fields import DEPLOYMENT_DEFAULT, ProfileDataError, parse_sourced
from report_service.profiles import load_profile, regions
from report_service.profiles_show import problems

from .casebook import company_and_person, id_number, penalty, uscc
from .conftest import enroll, import_jsonl
from .platform_client import ServiceProcess, cli

# The fields each region's profile marks as deployment defaults (the report lists them).
DEFAULTS = {
    "gansu": [
        "max_period_years",
        "max_period_from_floor",
        "report_validity_days",
        "objection_deadline_working_days",
        "rules.exclude_no_punishment",
        "rules.exclude_credit_repaired",
        "rules.exclude_classified",
        "rules.require_effective_document",
    ],
    "lanzhou": [
        "floor_date",
        "max_period_years",
        "max_period_from_floor",
        "report_validity_days",
        "objection_deadline_working_days",
        "rules.exclude_simple_procedure",
        "rules.exclude_credit_repaired",
        "rules.require_effective_document",
        "domain_scope",
    ],
    "huzhou": [
        "max_period_years",
        "max_period_from_floor",
        "report_validity_days",
        "objection_deadline_working_days",
        "entity_kinds",
        "rules.exclude_simple_procedure",
        "rules.exclude_classified",
        "domain_scope",
    ],
    "wuhai": [
        "max_period_years",
        "max_period_from_floor",
        "report_validity_days",
        "rules.exclude_credit_repaired",
        "rules.exclude_classified",
        "rules.require_effective_document",
    ],
    "heihe": [
        "max_period_years",
        "max_period_from_floor",
        "report_validity_days",
        "objection_deadline_working_days",
        "entity_kinds",
        "rules.exclude_classified",
        "rules.require_effective_document",
    ],
}


@pytest.mark.parametrize("region", sorted(DEFAULTS))
def test_every_quote_is_in_its_seed(region: str) -> None:
    assert regions() == tuple(sorted(DEFAULTS))
    assert problems(load_profile(region)) == []


def test_a_quote_the_seed_does_not_have_is_caught() -> None:
    wuhai = load_profile("wuhai")
    made_up = dataclasses.replace(
        wuhai.sources["objection_deadline_working_days"], quotes=("相关单位应在3个工作日内答复",)
    )
    forged = dataclasses.replace(
        wuhai, sources=wuhai.sources | {"objection_deadline_working_days": made_up}
    )
    assert problems(forged) == [
        "objection_deadline_working_days: “相关单位应在3个工作日内答复” is not in "
        "003_b7870198f76d60e9.txt"
    ]


def test_a_default_without_its_reason_is_refused() -> None:
    with pytest.raises(ProfileDataError, match="needs its 'reason'"):
        parse_sourced("x.report_validity_days", {"value": 30, "source": DEPLOYMENT_DEFAULT})
    with pytest.raises(ProfileDataError, match="'source' must be"):
        parse_sourced("x.report_validity_days", {"value": 30})


@pytest.mark.parametrize("region", sorted(DEFAULTS))
def test_profiles_show_lists_the_deployment_defaults(region: str) -> None:
    run = cli("profiles", "show", region)
    assert f"deployment defaults ({len(DEFAULTS[region])}): {', '.join(DEFAULTS[region])}" in (
        run.stdout
    )
    shown = json.loads(cli("profiles", "show", region, "--json").stdout)
    assert shown["deployment_defaults"] == DEFAULTS[region]
    assert shown["quote_problems"] == []


def test_profiles_show_gives_the_seed_words_or_the_reason() -> None:
    lanzhou = cli("profiles", "show", "lanzhou").stdout
    # Lanzhou's own scheme names no floor: Gansu's, borrowed and labelled
    assert "  floor_date = 2021-01-01\n    deployment default: Lanzhou's own scheme names no" in (
        lanzhou
    )
    assert (
        "borrowed from 000_0df6346d4a140e78.txt: “确保市场主体在2021年1月1日以后的违法违规信息全面、"
        "准确、真实、及时归集至省信用信息共享平台”"
    ) in lanzhou
    assert "seed: “不含涉密等法律法规规定不予公开的违法违规信息”" in lanzhou
    wuhai = cli("profiles", "show", "wuhai").stdout
    assert (
        "  objection_deadline_working_days = 5\n"
        "    seed: “相关单位应在5个工作日内核实所提供信息的真实性、准确性，并按照规定予以说明”"
    ) in wuhai
    heihe = cli("profiles", "show", "heihe").stdout
    assert (
        "  sections.social_insurance_arrears = 企业参保欠缴 (社会保险费欠缴; in every report)"
        in heihe
    )


# --- the longest period ---------------------------------------------------------------------
# Gansu: “确保市场主体在2021年1月1日以后的违法违规信息全面、准确、真实、及时归集至省信用信息共享平台”. No seed
# states a longest period; a 5-year cap made the records of 2021 unreachable. From the floor, a
# period may now be of any length; Heihe, with no floor, has a 10-year bound (a labelled default).


def test_a_period_from_the_floor_reaches_records_older_than_five_years(
    platform: ServiceProcess, tmp_path: Path
) -> None:
    company, person = uscc("gansu", 1831), id_number("gansu", 184)
    rows = company_and_person("gansu", company, "甘肃期间测试有限公司", person, "期测试", "agent")
    rows.append(
        json.dumps(penalty("PERIOD-2021", company, "市场监管", "2021-03-01"), ensure_ascii=False)
    )
    import_jsonl(platform, tmp_path / "period.jsonl", rows)
    terminal = enroll(platform, "gansu")
    token = terminal.login_card(person, "期测试")["session_token"]
    today = dt.date.today()
    r = terminal.report(token, company, "2021-01-01", today.isoformat())
    assert r.status_code == 201, r.text
    assert [rec["record_id"] for d in r.json()["summary"]["domains"] for rec in d["records"]] == [
        "PERIOD-2021"
    ]
    catalog = terminal.request("GET", "/v1/catalog").json()
    assert catalog["max_period"] == {"years": 5, "from_floor": True}
    # a client that bounds periods in whole years (the kiosk) reaches the floor with this
    assert dt.date(2021 + catalog["max_period_years"], 1, 1) > today


def test_heihe_without_a_floor_keeps_a_ten_year_default(platform: ServiceProcess) -> None:
    terminal = enroll(platform, "heihe")
    catalog = terminal.request("GET", "/v1/catalog").json()
    assert catalog["max_period"] == {"years": 10, "from_floor": False}
    assert catalog["max_period_years"] == 10 and catalog["earliest_date"] is None
    company, person = uscc("heihe", 1832), id_number("heihe", 185)
    cli_rows = company_and_person(
        "heihe", company, "黑河期间测试有限公司", person, "期测试", "agent"
    )
    path = platform.log_path.parent / "heihe-period.jsonl"
    import_jsonl(platform, path, cli_rows)
    token = terminal.login_card(person, "期测试")["session_token"]
    assert terminal.report(token, company, "2019-06-01", "2024-06-02").status_code == 201
    r = terminal.report(token, company, "2014-06-01", "2024-06-02")
    assert r.status_code == 422 and r.json()["error"]["code"] == "period_too_long"
    assert r.json()["error"]["message"] == "查询期间最长10年，请缩短查询期间。"
