"""Each region's report rules, through the real service: which records a report shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from report_service.profiles import load_profile

from .casebook import casebook
from .conftest import enroll, import_jsonl
from .platform_client import ServiceProcess

# Which casebook records each region's seed says a report shows (the casebook files each case
# under a domain that collects its kind; a kind no domain of the region collects is not in it).
EXPECTED = {
    # 甘营商〔2024〕12号: 行政处罚（适用简易程序的除外）、严重失信主体名单; records since 2021-01-01;
    # 附表1 row 5 市场监管: 经营异常名录(经营异常状态)、行政处罚、严重违法失信主体名单
    "gansu": {"GENERAL", "REPAIRED", "UNCONFIRMED", "DISHONEST", "ABNORMAL"},
    # Lanzhou: 已依法不予行政处罚的不列入; 不含涉密; provincial simple-procedure rule and floor
    "lanzhou": {"GENERAL", "REPAIRED", "UNCONFIRMED", "DISHONEST", "ABNORMAL"},
    # Huzhou: 不予行政处罚的、已信用修复的行政处罚不列入; records since 2020-05-01;
    # “除生效法律文书确认市场主体违法行为外，其他情况均应当视为无违法违规记录”: UNCONFIRMED is not a
    # record; the seed names no list and no 经营异常名录, so no domain collects them
    "huzhou": {"GENERAL", "EARLY"},
    # Wuhai: 以普通程序作出的行政处罚 and 严重失信主体名单; 简易程序 and 不予处罚 excluded;
    # row 23 市场监管: 行政处罚、经营异常名录、严重失信主体名单
    "wuhai": {"GENERAL", "REPAIRED", "UNCONFIRMED", "DISHONEST", "ABNORMAL"},
    # Heihe: 行政处罚记录 (no simple procedure, no 不予处罚), 参保欠缴、住房公积金欠缴及信用修复记录 shown
    # (the arrears in sections of their own); it names no floor date
    "heihe": {"GENERAL", "REPAIRED", "UNCONFIRMED", "EARLY", "SIARREARS", "HFARREARS"},
}
PERIODS = {
    "gansu": ("2021-01-01", "2025-12-31"),
    "lanzhou": ("2021-01-01", "2025-12-31"),
    "huzhou": ("2020-05-01", "2025-04-30"),
    "wuhai": ("2021-01-01", "2025-12-31"),
    "heihe": ("2020-07-01", "2025-06-30"),
}


def load_casebooks(platform: ServiceProcess, workdir: Path) -> dict[str, dict[str, str]]:
    books = {}
    lines: list[str] = []
    for region in EXPECTED:
        rows, info = casebook(region)
        lines += rows
        books[region] = info
    import_jsonl(platform, workdir / "cases.jsonl", lines)
    return books


def check_region(platform: ServiceProcess, info: dict[str, str], region: str) -> None:
    """A report over the casebook shows exactly the records the region's seed names."""
    terminal = enroll(platform, region)
    session = terminal.login_card(info["id_number"], "规则测试人")
    assert [e["uscc"] for e in session["enterprises"]] == [info["uscc"]]
    start, end = PERIODS[region]
    r = terminal.report(session["session_token"], info["uscc"], start, end)
    assert r.status_code == 201, r.text
    summary = r.json()["summary"]
    profile = load_profile(region)
    # DESIGN §3: `domains` are the chosen ones (here all); the sections come apart
    assert [d["code"] for d in summary["domains"]] == [d.code for d in profile.domains]
    assert [d["code"] for d in summary["sections"]] == [s.code for s in profile.sections]
    parts = summary["domains"] + summary["sections"]
    shown = {rec["record_id"].split("-", 1)[1]: d["code"] for d in parts for rec in d["records"]}
    assert set(shown) == EXPECTED[region]
    assert all(shown[case] == info[f"domain:{case}"] for case in shown)  # where it was filed
    assert summary["total_records"] == len(EXPECTED[region])
    for d in parts:
        assert d["conclusion"] == ("records" if d["code"] in shown.values() else "clean")
    repaired = [rec["repaired_on"] for d in parts for rec in d["records"] if rec["repaired_on"]]
    assert repaired == (["2023-01-01"] if "REPAIRED" in EXPECTED[region] else [])


@pytest.fixture(scope="module")
def loaded(
    platform: ServiceProcess, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, str]]:
    return load_casebooks(platform, tmp_path_factory.mktemp("cases"))


@pytest.mark.parametrize("region", sorted(EXPECTED))
def test_region_shows_exactly_the_records_its_seed_names(
    platform: ServiceProcess, loaded: dict[str, dict[str, str]], region: str
) -> None:
    check_region(platform, loaded[region], region)


@pytest.mark.parametrize(
    ("region", "start", "reported_from", "early_shown"),
    [
        ("gansu", "2020-01-01", "2021-01-01", False),
        ("wuhai", "2020-12-31", "2021-01-01", False),
        ("lanzhou", "2015-06-01", "2021-01-01", False),
        ("huzhou", "2020-04-30", "2020-05-01", True),  # EARLY (2020-08-01) is after its floor
        ("huzhou", "2020-05-01", "2020-05-01", True),
        ("heihe", "2019-01-01", "2019-01-01", True),  # Heihe names no floor date
    ],
)
def test_floor_dates(
    platform: ServiceProcess,
    loaded: dict[str, dict[str, str]],
    region: str,
    start: str,
    reported_from: str,
    early_shown: bool,
) -> None:
    """DESIGN §4: “records on or after the region's floor date … within the requested period”.
    A period reaching back before the floor is answered from the floor, and the report says so
    (its period, printed and verified, starts at the floor: it speaks of no day it cannot)."""
    info = loaded[region]
    terminal = enroll(platform, region)
    token = terminal.login_card(info["id_number"], "规则测试人")["session_token"]
    r = terminal.report(token, info["uscc"], start, "2025-12-31")
    assert r.status_code == 201, r.text
    summary = r.json()["summary"]
    parts = summary["domains"] + summary["sections"]
    shown = {rec["record_id"] for d in parts for rec in d["records"]}
    assert (f"{info['prefix']}-EARLY" in shown) is early_shown
    assert f"{info['prefix']}-GENERAL" in shown
    verify = terminal.request("GET", f"/v1/verify/{r.json()['verification_code']}").json()
    assert verify["period"] == {"from": reported_from, "to": "2025-12-31"}


@pytest.mark.parametrize(("region", "floor"), [("gansu", "2021-01-01"), ("huzhou", "2020-05-01")])
def test_a_period_wholly_before_the_floor_is_refused(
    platform: ServiceProcess, loaded: dict[str, dict[str, str]], region: str, floor: str
) -> None:
    info = loaded[region]
    terminal = enroll(platform, region)
    token = terminal.login_card(info["id_number"], "规则测试人")["session_token"]
    r = terminal.report(token, info["uscc"], "2019-01-01", "2019-12-31")
    assert r.status_code == 422 and r.json()["error"]["code"] == "period_before_floor", r.text
    assert floor in r.json()["error"]["message"]


def test_chosen_domains_only(platform: ServiceProcess, loaded: dict[str, dict[str, str]]) -> None:
    info = loaded["gansu"]
    terminal = enroll(platform, "gansu")
    token = terminal.login_card(info["id_number"], "规则测试人")["session_token"]
    codes = [d.code for d in load_profile("gansu").domains]
    home = info["domain:GENERAL"]
    r = terminal.report(token, info["uscc"], "2021-01-01", "2025-12-31", domains=[codes[5], home])
    assert r.status_code == 201, r.text
    domains = r.json()["summary"]["domains"]
    assert [d["code"] for d in domains] == [c for c in codes if c in (home, codes[5])]
    # GENERAL, REPAIRED, UNCONFIRMED and (发展改革 collects the list) DISHONEST
    assert r.json()["summary"]["total_records"] == 4
