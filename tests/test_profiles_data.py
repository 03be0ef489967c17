"""Data checks for the region profiles and the holiday calendar (stdlib only)."""

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

PROFILES = Path(__file__).resolve().parent.parent / "report_service" / "profiles"
REGIONS = ["gansu", "lanzhou", "huzhou", "wuhai", "heihe"]
RECORD_KINDS = {
    "administrative_penalty",
    "serious_dishonesty",
    "business_abnormality",
    "social_insurance_arrears",
    "housing_fund_arrears",
}
RULE_KEYS = [
    "exclude_simple_procedure",
    "exclude_no_punishment",
    "exclude_credit_repaired",
    "exclude_classified",
    "require_effective_document",
]
SOURCED_KEYS = [
    "floor_date",
    "max_period_years",
    "max_period_from_floor",
    "report_validity_days",
    "objection_deadline_working_days",
    "entity_kinds",
    "record_term",
]
DEFAULT = "deployment default"
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")

EXPECTED = {
    # region: (domains, domains_announced, floor_date, report_title, platform_name)
    "gansu": (38, 38, "2021-01-01", "专用信用报告", "信用中国（甘肃）"),
    "lanzhou": (38, 38, "2021-01-01", "专用信用报告", "信用中国（甘肃兰州）"),
    "huzhou": (40, 44, "2020-05-01", "市场主体信用报告（有无违法违规记录证明）", "信用湖州"),
    "wuhai": (
        31,
        31,
        "2021-01-01",
        "专用信用信息报告（无违法违规记录证明版）",
        "信用中国（内蒙古乌海）",
    ),
    "heihe": (16, 16, None, "专用信用报告", "信用黑河"),
}

EXPECTED_RULES = {
    # region: simple procedure, no punishment, credit repaired, classified, effective document
    "gansu": (True, True, False, True, False),
    "lanzhou": (True, True, False, True, False),
    "huzhou": (True, True, True, True, True),  # simple: seed silent, DESIGN §4's general rule
    "wuhai": (True, True, False, True, False),
    "heihe": (True, True, False, True, False),
}
# the record kinds each region's domains and sections collect (their data scopes)
EXPECTED_KINDS = {
    "gansu": {"administrative_penalty", "serious_dishonesty", "business_abnormality"},
    "lanzhou": {"administrative_penalty", "serious_dishonesty", "business_abnormality"},
    "huzhou": {"administrative_penalty"},
    "wuhai": {"administrative_penalty", "serious_dishonesty", "business_abnormality"},
    "heihe": {"administrative_penalty", "social_insurance_arrears", "housing_fund_arrears"},
}


def load(name: str) -> dict[str, Any]:
    raw = (PROFILES / name).read_bytes()
    profile: dict[str, Any] = json.loads(raw.decode("utf-8"))
    return profile


@pytest.fixture(scope="module", params=REGIONS)
def profile(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return request.param, load(f"{request.param}.json")


def by_name(p: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in p["domains"]}


# ------------------------------------------------------------------------------------- all regions


def test_files_are_utf8_not_ascii_escaped() -> None:
    for region in REGIONS:
        text = (PROFILES / f"{region}.json").read_text(encoding="utf-8")
        assert "\\u" not in text, region
        assert '\n  "' in text, region  # 2-space indent


def test_header_fields(profile: tuple[str, dict[str, Any]]) -> None:
    region, p = profile
    n_domains, announced, floor, title, platform = EXPECTED[region]
    assert p["region"] == region
    assert p["region_name"]
    assert p["report_title"] == title
    assert p["platform_name"] == platform
    assert p["domains_announced"] == announced
    assert len(p["domains"]) == n_domains
    assert p["floor_date"]["value"] == floor
    # a bound no seed states: wide where no floor lifts it (Heihe), unused where one does
    assert p["max_period_years"]["value"] == (5 if floor else 10)
    assert p["max_period_from_floor"]["value"] is (floor is not None)
    assert p["report_validity_days"] == {
        "value": 30,
        "source": DEFAULT,
        "reason": p["report_validity_days"]["reason"],
    }
    assert p["objection_deadline_working_days"]["value"] == 5
    src = p["source"]
    assert {"document", "issuer", "date", "seed_file"} <= set(src)
    assert src["document"] and src["seed_file"].endswith(".txt")
    if src["date"] is not None:
        dt.date.fromisoformat(src["date"])
    assert isinstance(p["domain_data_note"], str) and p["domain_data_note"]


def test_floor_date_is_iso(profile: tuple[str, dict[str, Any]]) -> None:
    _, p = profile
    floor = p["floor_date"]["value"]
    if floor is not None:
        assert dt.date.fromisoformat(floor).isoformat() == floor


def test_every_rule_is_sourced(profile: tuple[str, dict[str, Any]]) -> None:
    """Each rule field quotes the seed, or says it is a deployment default and why."""
    region, p = profile
    for field in [p[k] for k in SOURCED_KEYS] + [p["rules"][k] for k in RULE_KEYS]:
        assert "value" in field
        if field["source"] == DEFAULT:
            assert field["reason"].strip(), region
        else:
            quotes = field["source"] if isinstance(field["source"], list) else [field["source"]]
            assert all(isinstance(q, str) and q.strip() for q in quotes), region
    scope = p["domain_scope_source"]  # where the domains' data_scope and lists come from
    if scope["source"] == DEFAULT:
        assert scope["reason"].strip(), region
    else:
        assert isinstance(scope["source"], (str, list)) and scope["source"], region


def test_domain_codes_names_unique(profile: tuple[str, dict[str, Any]]) -> None:
    region, p = profile
    codes = [d["code"] for d in p["domains"]]
    names = [d["name"] for d in p["domains"]]
    assert len(set(codes)) == len(codes), region
    assert len(set(names)) == len(names), region
    for c in codes:
        assert c.isascii() and CODE_RE.match(c), c


def test_domain_fields(profile: tuple[str, dict[str, Any]]) -> None:
    _, p = profile
    for d in p["domains"] + p["sections"]:
        keys = {"code", "name", "data_scope", "lists", "agencies", "aliases"}
        assert set(d) == keys | ({"source"} if d in p["sections"] else set())
        assert d["data_scope"] and set(d["data_scope"]) <= RECORD_KINDS
        assert len(set(d["data_scope"])) == len(d["data_scope"])
        assert all(isinstance(x, str) and x.strip() == x and x for x in d["lists"])
        # a named serious-dishonesty list implies the domain collects that kind
        if d["lists"]:
            assert "serious_dishonesty" in d["data_scope"], d["name"]
        assert d["agencies"] is None or (isinstance(d["agencies"], str) and d["agencies"])


def test_aliases_unique_and_not_other_names(profile: tuple[str, dict[str, Any]]) -> None:
    region, p = profile
    names = {d["name"] for d in p["domains"]}
    seen = []
    for d in p["domains"]:
        for a in d["aliases"]:
            assert isinstance(a, str) and a
            assert a != d["name"], (region, a)
            assert a not in names, (region, a)
            seen.append(a)
    assert len(seen) == len(set(seen)), region


def test_rules(profile: tuple[str, dict[str, Any]]) -> None:
    region, p = profile
    rules = p["rules"]
    assert set(rules) == set(RULE_KEYS)
    assert tuple(rules[k]["value"] for k in RULE_KEYS) == EXPECTED_RULES[region]
    assert "record_kinds_shown" not in rules and "rule_sources" not in p  # one source: the scopes


def test_kinds_shown_are_the_data_scopes(profile: tuple[str, dict[str, Any]]) -> None:
    region, p = profile
    kinds = {k for d in p["domains"] + p["sections"] for k in d["data_scope"]}
    assert kinds == EXPECTED_KINDS[region]


def test_shared_codes_mean_the_same_concept() -> None:
    """The same slug across regions means the same concept: spot-check a few."""
    want = {
        "court_enforcement": {"法院失信执行", "法院执行"},
        "taxation": {"税务"},
        "housing_provident_fund": {"住房公积金管理", "公积金管理"},
        "market_regulation": {"市场监管"},
        "fire_safety": {"消防", "消防安全", "消防救援"},
    }
    for region in REGIONS:
        for d in load(f"{region}.json")["domains"]:
            if d["code"] in want:
                assert d["name"] in want[d["code"]], (region, d["code"], d["name"])


# ------------------------------------------------------------------------------------- Gansu


@pytest.fixture(scope="module")
def gansu() -> dict[str, Any]:
    return load("gansu.json")


def test_gansu_collection_table(gansu: dict[str, Any]) -> None:
    table = gansu["collection_table"]
    assert len(table) == 47
    assert [r["no"] for r in table] == list(range(1, 48))
    codes = {d["code"] for d in gansu["domains"]}
    names = [r["name"] for r in table]
    assert len(set(names)) == 47
    for r in table:
        assert r["report_domain"] is None or r["report_domain"] in codes, r
        assert r["data_scope"] and set(r["data_scope"]) <= RECORD_KINDS
    mapped = [r["report_domain"] for r in table if r["report_domain"]]
    assert len(mapped) == len(set(mapped))
    assert isinstance(gansu["collection_mapping_note"], str) and gansu["collection_mapping_note"]


def test_gansu_collection_spot_checks(gansu: dict[str, Any]) -> None:
    rows = {r["no"]: r for r in gansu["collection_table"]}
    assert rows[13]["name"] == "税务"
    assert rows[13]["lists"] == ["重大税收违法失信主体名单"]
    assert rows[13]["report_domain"] == "taxation"
    assert rows[1]["name"] == "城市管理" and rows[1]["report_domain"] is None
    assert rows[5]["data_scope"] == [
        "business_abnormality",
        "administrative_penalty",
        "serious_dishonesty",
    ]
    assert rows[5]["lists"] == ["市场监督管理严重违法失信名单"]
    assert rows[45]["name"] == "法院失信执行"
    assert rows[45]["data_scope"] == ["serious_dishonesty"]
    assert rows[45]["lists"] == ["失信被执行人"]
    assert rows[2]["lists"] == [
        "矿业权人严重失信名单",
        "地质勘查单位严重失信主体名单",
        "测绘资质严重失信主体名单",
        "城乡规划乙级资质单位严重失信主体名单",
    ]
    assert rows[23]["lists"][0] == "政府采购严重违法失信行为记录名单"
    assert rows[47]["name"] == "邮政" and rows[47]["agencies"] is None
    assert rows[47]["lists"] == ["快递领域违法失信主体黑名单"]


def test_gansu_domains_match_collection_rows(gansu: dict[str, Any]) -> None:
    rows = {r["report_domain"]: r for r in gansu["collection_table"] if r["report_domain"]}
    for d in gansu["domains"]:
        r = rows.get(d["code"])
        if r is None:
            assert d["data_scope"] == ["administrative_penalty"] and d["lists"] == [], d["name"]
            continue
        assert d["data_scope"] == r["data_scope"], d["name"]
        assert d["lists"] == r["lists"], d["name"]
        if r["name"] != d["name"]:
            assert r["name"] in d["aliases"], d["name"]


def test_gansu_domain_spot_checks(gansu: dict[str, Any]) -> None:
    names = by_name(gansu)
    order = [d["name"] for d in gansu["domains"]]
    assert order[0] == "发展改革" and order[-1] == "房地产开发和中介"
    assert names["经济信息化"]["aliases"] == ["工业和信息化"]
    assert names["经济信息化"]["agencies"] == "省工信厅"
    assert names["安全生产（应急）"]["aliases"] == ["安全生产"]
    assert names["林业"]["aliases"] == ["林草"]
    assert names["住房公积金管理"]["code"] == "housing_provident_fund"
    assert names["法院失信执行"]["lists"] == ["失信被执行人"]
    assert names["知识产权"]["agencies"] == "省市场监管局"
    assert names["税务"]["lists"] == ["重大税收违法失信主体名单"]


# ------------------------------------------------------------------------------------- others


def test_lanzhou_spot_checks() -> None:
    p = load("lanzhou.json")
    names = [d["name"] for d in p["domains"]]
    assert names[0] == "法院执行" and names[-1] == "烟草专卖"
    assert "城管" in names and "公积金管理" in names
    d = by_name(p)
    assert d["法院执行"]["lists"] == ["失信被执行人"]
    assert d["城管"]["aliases"] == ["城市管理"]
    assert all(x["agencies"] is None for x in p["domains"])
    assert p["floor_date"]["source"] == DEFAULT  # Lanzhou's own scheme names no floor
    assert "2021年1月1日" in p["floor_date"]["borrowed"]["quote"]
    assert (
        p["rules"]["exclude_classified"]["source"] == "不含涉密等法律法规规定不予公开的违法违规信息"
    )
    assert (
        p["rules"]["exclude_no_punishment"]["source"]
        == "企业行为已依法不予行政处罚的，不列入违法违规记录"
    )


def test_huzhou_spot_checks() -> None:
    p = load("huzhou.json")
    names = [d["name"] for d in p["domains"]]
    assert names[0] == "发展改革" and names[-1] == "国网供电"
    assert {"人力社保", "综合执法", "银保监", "海关"} <= set(names)
    assert all(
        d["data_scope"] == ["administrative_penalty"] and d["lists"] == [] for d in p["domains"]
    )
    assert "确保2020年5月1日以后的违法违规行为信息" in p["floor_date"]["source"]
    assert (
        "经失信主体消除影响后已信用修复的行政处罚，不列入违法违规记录"
        in p["rules"]["exclude_credit_repaired"]["source"]
    )


def test_wuhai_spot_checks() -> None:
    p = load("wuhai.json")
    d = by_name(p)
    order = [x["name"] for x in p["domains"]]
    assert order[0] == "法院失信执行" and order[-1] == "邮政"
    court = d["法院失信执行"]
    assert court["data_scope"] == ["serious_dishonesty"]
    assert court["lists"] == ["失信被执行人"]
    assert court["agencies"] == "市法院、三区"
    assert d["市场监管"]["data_scope"] == [
        "administrative_penalty",
        "business_abnormality",
        "serious_dishonesty",
    ]
    assert d["消防安全"]["agencies"] == "市消防救援支队、市住建局、三区"
    assert d["金融"]["agencies"] == "人民银行乌海市分行、国家金融监管总局乌海市监管分局"
    assert d["税务"]["lists"] == ["重大税收违法失信主体名单"]
    assert d["人力资源和社会保障"]["lists"] == [
        "拖欠农民工工资黑名单",
        "社会保险领域严重失信黑名单",
        "职称申报评审失信黑名单",
    ]
    assert all(x["agencies"] for x in p["domains"])


def test_heihe_spot_checks() -> None:
    p = load("heihe.json")
    names = [d["name"] for d in p["domains"]]
    assert names[0] == "人力资源和社会保障" and names[-1] == "城市管理"
    assert "园林绿化" in names
    assert p["floor_date"]["value"] is None
    assert [x["name"] for x in p["sections"]] == ["企业参保欠缴", "住房公积金欠缴"]
    assert "信用修复记录" in p["rules"]["exclude_credit_repaired"]["source"]


# ------------------------------------------------------------------------------------- holidays


def test_holidays_calendar() -> None:
    h = load("holidays_cn.json")
    assert {"2023", "2024", "2025", "2026"} <= set(h["years"])  # a later notice is added as data
    for year, y in h["years"].items():
        assert f"{year}年部分节假日安排的通知" in y["notice"]
        hol = [dt.date.fromisoformat(x) for x in y["holidays"]]
        work = [dt.date.fromisoformat(x) for x in y["workdays"]]
        assert len(set(hol)) == len(hol) and len(set(work)) == len(work)
        assert not set(hol) & set(work)
        assert all(w.weekday() >= 5 for w in work), year  # adjusted working days fall on weekends
        assert all(w.year == int(year) for w in work)
        # only the 2023 元旦 period reaches back into the previous year
        assert all(
            d.year == int(year) or (year == "2023" and d.isoformat() == "2022-12-31") for d in hol
        )


def test_holidays_spot_checks() -> None:
    y = load("holidays_cn.json")["years"]
    assert len(y["2026"]["holidays"]) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert y["2026"]["workdays"] == [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ]
    assert "2026-02-23" in y["2026"]["holidays"] and "2026-10-07" in y["2026"]["holidays"]
    assert len(y["2025"]["holidays"]) == 1 + 8 + 3 + 5 + 3 + 8
    assert "2025-10-08" in y["2025"]["holidays"]
    assert len(y["2024"]["holidays"]) == 1 + 8 + 3 + 5 + 1 + 3 + 7
    assert "2024-02-18" in y["2024"]["workdays"]
    assert len(y["2023"]["holidays"]) == 3 + 7 + 1 + 5 + 3 + 8
    assert y["2023"]["workdays"][-2:] == ["2023-10-07", "2023-10-08"]


# 除夕, 清明 (solar term), 端午 (农历五月初五), 中秋 (农历八月十五), checked with a lunar calendar library
LUNAR_DAYS = {
    "2027": ("2027-02-05", "2027-04-05", "2027-06-09", "2027-09-15"),
    "2028": ("2028-01-25", "2028-04-04", "2028-05-28", "2028-10-03"),
    "2029": ("2029-02-12", "2029-04-04", "2029-06-16", "2029-09-22"),
    "2030": ("2030-02-02", "2030-04-05", "2030-06-05", "2030-09-12"),
}
# 全国年节及纪念日放假办法 (2024 revision) 第二条: 13 days a year
STATUTORY_DAYS = {
    "元旦": 1,
    "春节": 4,
    "清明节": 1,
    "劳动节": 2,
    "端午节": 1,
    "中秋节": 1,
    "国庆节": 3,
}


def test_statutory_section() -> None:
    h = load("holidays_cn.json")
    s = h["statutory"]
    assert s["source"] == "全国年节及纪念日放假办法（2024年11月10日修订，2025年1月1日起施行）"
    assert "补假" in s["note"] and "第六条" in s["rule_source"]
    assert set(s["years"]) == set(LUNAR_DAYS)
    assert s["first_year"] == 2025  # the 2024 revision's 施行 year
    for year, festivals in s["years"].items():
        assert {name: len(days) for name, days in festivals.items()} == STATUTORY_DAYS, year
        assert list(festivals) == list(STATUTORY_DAYS)  # in the order of 第二条
        days = [dt.date.fromisoformat(d) for v in festivals.values() for d in v]
        assert all(d.year == int(year) for d in days), year
        assert festivals["元旦"] == [f"{year}-01-01"]
        assert festivals["劳动节"] == [f"{year}-05-01", f"{year}-05-02"]
        assert festivals["国庆节"] == [f"{year}-10-01", f"{year}-10-02", f"{year}-10-03"]
    # 2028's 中秋 falls on 国庆's third day: 13 statutory days on 12 dates
    distinct = {y: len({d for v in f.values() for d in v}) for y, f in s["years"].items()}
    assert distinct == {"2027": 13, "2028": 12, "2029": 13, "2030": 13}


def test_statutory_lunar_days() -> None:
    years = load("holidays_cn.json")["statutory"]["years"]
    for year, (eve, qingming, duanwu, zhongqiu) in LUNAR_DAYS.items():
        f = years[year]
        first = dt.date.fromisoformat(eve)
        assert f["春节"] == [(first + dt.timedelta(days=i)).isoformat() for i in range(4)]
        assert (f["清明节"], f["端午节"], f["中秋节"]) == ([qingming], [duanwu], [zhongqiu])
        assert qingming[5:] in ("04-04", "04-05", "04-06")  # where the 清明 solar term can fall
