"""Each domain collects the record kinds and lists its seed's table names for it (issue 18). A
record filed elsewhere is imported and reported where its agency filed it, and the import says, by
line, where the table would put it: DESIGN §4's import takes a record under any domain of the
region, and its exclusions (simple procedure, no punishment, Huzhou's repaired penalties,
classified) are the only records a report leaves out. Refusing the file would hold back every other
agency's records; hiding the record would sign a 无违法违规记录 over a violation an agency reported.

Gansu, 附表1 数据归集责任清单, row 5: “市场监管 | 经营异常名录(经营异常状态)、行政处罚、严重违法失信主体名单
| 市场监督管理严重违法失信名单”; row 17: “发展改革 | 行政处罚、严重失信主体名单 | 公共资源配置黑名单、
城市轨道交通领域黑名单、价格失信主体名单”; row 45: “法院失信执行 | 严重失信主体名单 | 失信被执行人”.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from report_service.profiles import load_profile

from .casebook import company_and_person, id_number, other, penalty, uscc
from .conftest import enroll
from .platform_client import ServiceProcess, cli

COMPANY, PERSON = uscc("gansu", 1801), id_number("gansu", 181)


def lines(*records: dict[str, object]) -> list[str]:
    head = company_and_person("gansu", COMPANY, "甘肃范围测试有限公司", PERSON, "范测试", "agent")
    return head + [json.dumps(r, ensure_ascii=False) for r in records]


def imported(platform: ServiceProcess, tmp_path: Path, rows: list[str]) -> str:
    path = tmp_path / "scope.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    run = cli("import", *platform.db_args(), str(path))
    assert run.returncode == 0, run.stderr
    return run.stderr


def reported(platform: ServiceProcess) -> dict[str, str]:
    terminal = enroll(platform, "gansu")
    token = terminal.login_card(PERSON, "范测试")["session_token"]
    r = terminal.report(token, COMPANY, "2024-01-01", "2024-12-31")
    assert r.status_code == 201, r.text
    return {
        rec["record_id"]: d["code"] for d in r.json()["summary"]["domains"] for rec in d["records"]
    }


def test_business_abnormality_outside_market_regulation_is_noted_and_reported(
    platform: ServiceProcess, tmp_path: Path
) -> None:
    abnormal = other("SCOPE-AB-1", COMPANY, "发展改革", "business_abnormality", "2024-03-01")
    fine = penalty("SCOPE-OK-1", COMPANY, "发展改革", "2024-02-01")
    inside = other("SCOPE-AB-IN", COMPANY, "市场监管", "business_abnormality", "2024-05-01")
    stderr = imported(platform, tmp_path, lines(fine, abnormal, inside))
    assert "imported; 1 line(s) to look at:" in stderr
    assert (
        "line 4: record_out_of_scope: 甘肃省的“发展改革”（development_reform）归集行政处罚、"
        "严重失信主体名单，不归集经营异常名录。经营异常名录归入：“市场监管”（market_regulation）。"
        "记录已按所填领域导入，报告中照常列出；如归错领域，请改正 domain 后重新导入。"
    ) in stderr
    assert "line 3" not in stderr and "line 5" not in stderr  # in scope: nothing to say
    shown = reported(platform)
    assert {k: shown.get(k) for k in ("SCOPE-OK-1", "SCOPE-AB-1", "SCOPE-AB-IN")} == {
        "SCOPE-OK-1": "development_reform",
        "SCOPE-AB-1": "development_reform",
        "SCOPE-AB-IN": "market_regulation",
    }


def test_a_list_the_domain_does_not_name_is_noted_with_its_home(
    platform: ServiceProcess, tmp_path: Path
) -> None:
    listed = other(
        "SCOPE-LIST-1", COMPANY, "税务", "serious_dishonesty", "2024-03-01", "失信被执行人"
    )
    stderr = imported(platform, tmp_path, lines(listed))
    assert (
        "line 3: list_not_in_domain: 名单“失信被执行人”不是“税务”（taxation）归集的严重失信主体名单"
        "（该领域：重大税收违法失信主体名单）。该名单属于：“法院失信执行”（court_enforcement）。"
    ) in stderr
    assert reported(platform)["SCOPE-LIST-1"] == "taxation"


def test_a_kind_the_regions_tables_do_not_collect_is_noted_and_reported(
    platform: ServiceProcess, tmp_path: Path
) -> None:
    """Gansu's tables collect no arrears (the kind is in no 数据范围 cell); DESIGN §4's records
    include them, so an agency that pushes one has it printed."""
    arrears = other(
        "SCOPE-SI-1", COMPANY, "人力资源和社会保障", "social_insurance_arrears", "2024-03-01"
    )
    stderr = imported(platform, tmp_path, lines(arrears))
    assert "line 3: record_out_of_scope: " in stderr
    assert "甘肃省的方案没有归集社会保险费欠缴的领域。" in stderr
    assert reported(platform)["SCOPE-SI-1"] == "human_resources_social_security"


def test_a_collection_table_domain_no_report_shows_is_imported_and_noted(
    platform: ServiceProcess, tmp_path: Path
) -> None:
    """Gansu's 附表1 collects 47 domains, its reports show 38 (DESIGN §4): a record filed under
    one of the 15 no report domain maps, by its name in that table, is kept and noted, not the whole file
    refused; no report lists it. A name in neither table is still refused."""
    stats = other("SCOPE-TJ-1", COMPANY, "统计", "serious_dishonesty", "2024-03-01",
                  "统计严重失信企业名单")  # fmt: skip
    post = penalty("SCOPE-YZ-1", COMPANY, "邮政", "2024-04-01")
    stats_again = penalty("SCOPE-TJ-2", COMPANY, "统计", "2024-05-01")
    fine = penalty("SCOPE-OK-2", COMPANY, "发展改革", "2024-02-01")
    stderr = imported(platform, tmp_path, lines(stats, post, stats_again, fine))
    assert "imported; 2 line(s) to look at:" in stderr  # one note per domain, not per line
    assert (
        "line 3: domain_not_reported: “统计”在甘肃省的数据归集表中，但没有对应的报告领域："
        "2条记录（第3行起）已导入，不列入任何报告。如应列入报告，请把 domain 改为报告领域后重新导入。"
    ) in stderr
    assert "line 4: domain_not_reported: “邮政”" in stderr and "1条记录" in stderr
    shown = reported(platform)
    assert shown.get("SCOPE-OK-2") == "development_reform"
    assert not {"SCOPE-TJ-1", "SCOPE-TJ-2", "SCOPE-YZ-1"} & set(shown)
    path = tmp_path / "unknown.jsonl"
    path.write_text("\n".join(lines(penalty("SCOPE-XX-1", COMPANY, "火星", "2024-04-01"))) + "\n",
                    encoding="utf-8")  # fmt: skip
    refused = cli("import", *platform.db_args(), str(path), check=False)
    assert refused.returncode == 2 and "'火星' is not a domain" in refused.stderr


@pytest.mark.parametrize("region", ["gansu", "lanzhou", "huzhou", "wuhai", "heihe"])
def test_seed_output_fits_every_domain_scope(region: str, tmp_path: Path) -> None:
    """`report-service seed` files every record where the region's tables collect it."""
    out = tmp_path / "seed.jsonl"
    cli("seed", "--db", str(tmp_path / "p.db"), "--region", region, "--entities", "30",
        "--seed", "5", "--out", str(out))  # fmt: skip
    profile = load_profile(region)
    records = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    for r in (r for r in records if r["type"] == "record"):
        part = profile.part(r["domain"])
        assert part is not None and part.collects(r["kind"], r.get("list_name")), r


def test_many_notes_are_cut_short_with_their_codes(
    platform: ServiceProcess, tmp_path: Path
) -> None:
    misfiled = [
        other(f"SCOPE-MANY-{i:02d}", COMPANY, "发展改革", "business_abnormality", "2024-03-01")
        for i in range(25)
    ]
    stderr = imported(platform, tmp_path, lines(*misfiled))
    assert "imported; 25 line(s) to look at:" in stderr
    assert "line 22: record_out_of_scope" in stderr and "line 23:" not in stderr
    assert "… and 5 more (record_out_of_scope)" in stderr
