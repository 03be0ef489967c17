"""Heihe's arrears have a place of their own in every report (issue 18).

黑河 scheme, 三、适用范围: “本方案所称的违法记录，是指黑河市行政机关、法律法规授权的具有管理公共事务职能的
组织、有关中央和省垂直管理单位等对市场主体涉及 16 个领域的违反法律、法规、规章行为的行政处罚记录” and
“专用信用报告内容包括企业参保欠缴、住房公积金欠缴及行政处罚信用修复记录等信息”. The arrears belong to none
of the 16 domains: the profile names them as two sections, which a choice of domains cannot drop,
the catalog tells the kiosk about, and the report prints in the seed's words.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .casebook import company_and_person, id_number, other, penalty, uscc
from .conftest import enroll, import_jsonl
from .platform_client import ServiceProcess, TerminalClient, cli

COMPANY, PERSON = uscc("heihe", 1821), id_number("heihe", 183)
SEED_WORDS = "专用信用报告内容包括企业参保欠缴、住房公积金欠缴及行政处罚信用修复记录等信息"


@pytest.fixture(scope="module")
def heihe(
    platform: ServiceProcess, tmp_path_factory: pytest.TempPathFactory
) -> tuple[TerminalClient, str]:
    rows = company_and_person("heihe", COMPANY, "黑河欠缴测试有限公司", PERSON, "欠测试", "agent")
    records = [
        penalty("HH-PEN-1", COMPANY, "市场监管", "2024-03-01"),
        other("HH-SI-1", COMPANY, "企业参保欠缴", "social_insurance_arrears", "2024-04-01"),
        other("HH-HF-1", COMPANY, "housing_fund_arrears", "housing_fund_arrears", "2024-05-01"),
    ]
    rows += [json.dumps(r, ensure_ascii=False) for r in records]
    import_jsonl(platform, tmp_path_factory.mktemp("heihe") / "heihe.jsonl", rows)
    terminal = enroll(platform, "heihe")
    return terminal, terminal.login_card(PERSON, "欠测试")["session_token"]


def test_the_catalog_names_the_sections_in_the_seeds_words(
    heihe: tuple[TerminalClient, str],
) -> None:
    terminal, _ = heihe
    catalog = terminal.request("GET", "/v1/catalog").json()
    assert [(s["code"], s["name"]) for s in catalog["sections"]] == [
        ("social_insurance_arrears", "企业参保欠缴"),
        ("housing_fund_arrears", "住房公积金欠缴"),
    ]
    assert all(s["always_included"] and s["source"] == SEED_WORDS for s in catalog["sections"])
    assert "social_insurance_arrears" not in {
        d["code"] for d in catalog["domains"]
    }  # not choosable


def test_a_report_of_one_domain_still_shows_the_arrears(
    heihe: tuple[TerminalClient, str], tmp_path: Path
) -> None:
    terminal, token = heihe
    r = terminal.report(token, COMPANY, "2024-01-01", "2024-12-31", domains=["transport"])
    assert r.status_code == 201, r.text
    summary = r.json()["summary"]
    # DESIGN §3: `domains` are the chosen domains; the sections come apart
    assert [(d["code"], d["name"], d["conclusion"]) for d in summary["domains"]] == [
        ("transport", "交通运输", "clean"),
    ]
    parts = [(d["code"], d["name"], d["section"], d["conclusion"]) for d in summary["sections"]]
    assert parts == [
        ("social_insurance_arrears", "企业参保欠缴", True, "records"),
        ("housing_fund_arrears", "住房公积金欠缴", True, "records"),
    ]
    assert summary["total_records"] == 2  # the penalty is under 市场监管, which was not chosen
    pdf = terminal.request("GET", f"/v1/reports/{r.json()['report_id']}/pdf", token=token)
    path = tmp_path / "heihe.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "合计：查询1个领域及企业参保欠缴、住房公积金欠缴，共2条记录" in text
    assert "自2024-01-01至2024-12-31，该领域无违法记录" in text  # Heihe's own term: 违法记录
    assert "1. 企业参保欠缴" in text and "1. 住房公积金欠缴" in text

    # the arrears can be objected to like any record of the report
    filed = terminal.request(
        "POST",
        "/v1/objections",
        {
            "report_id": r.json()["report_id"],
            "record_id": "HH-SI-1",
            "reason": "已补缴",
            "contact": "13912345678",
        },
        token=token,
    )
    assert filed.status_code == 200, filed.text
    verified = terminal.request("GET", f"/v1/verify/{r.json()['verification_code']}").json()
    assert [d["name"] for d in verified["domains"]] == ["交通运输"]
    assert [d["name"] for d in verified["sections"]] == ["企业参保欠缴", "住房公积金欠缴"]
    page = terminal.http.get(
        f"/v1/verify/{r.json()['verification_code']}", headers={"Accept": "text/html"}
    ).text
    assert "证明领域（1个）" in page  # the sections are not counted as domains
    assert "另含：企业参保欠缴、住房公积金欠缴（每份报告都包括）" in page


def test_arrears_filed_under_a_domain_are_reported_there_and_in_their_section_and_noted(
    platform: ServiceProcess, tmp_path: Path
) -> None:
    company, person = uscc("heihe", 1822), id_number("heihe", 186)
    rows = company_and_person(
        "heihe", company, "黑河欠缴归类测试有限公司", person, "归测试", "agent"
    )
    arrears = other(
        "HH-SI-9", company, "人力资源和社会保障", "social_insurance_arrears", "2024-04-01"
    )
    path = Path(tmp_path / "wrong.jsonl")
    path.write_text("\n".join([*rows, json.dumps(arrears, ensure_ascii=False)]) + "\n", "utf-8")
    run = cli("import", *platform.db_args(), str(path))
    assert (
        "line 3: record_out_of_scope: 黑河市的“人力资源和社会保障”（human_resources_social_security）"
        "归集行政处罚，不归集社会保险费欠缴。社会保险费欠缴归入：“企业参保欠缴”"
        "（social_insurance_arrears）。记录已导入，报告中列在“人力资源和社会保障”"
        "（human_resources_social_security），并列入“企业参保欠缴”（social_insurance_arrears）。"
    ) in run.stderr
    terminal = enroll(platform, "heihe")
    token = terminal.login_card(person, "归测试")["session_token"]
    r = terminal.report(token, company, "2024-01-01", "2024-12-31")
    assert r.status_code == 201, r.text
    summary = r.json()["summary"]
    parts = summary["domains"] + summary["sections"]
    where = {d["code"]: [x["record_id"] for x in d["records"]] for d in parts}
    # the section every report has takes it: no domain choice drops it or leaves 企业参保欠缴 clean
    assert where["social_insurance_arrears"] == ["HH-SI-9"]
    # and where it was filed (DESIGN §3's `domains`), counted once
    assert where["human_resources_social_security"] == ["HH-SI-9"]
    assert summary["total_records"] == 1
    r = terminal.report(token, company, "2024-01-01", "2024-12-31", domains=["natural_resources"])
    assert r.status_code == 201, r.text
    (section,) = [s for s in r.json()["summary"]["sections"] if s["records"]]
    assert section["code"] == "social_insurance_arrears"
    assert [x["record_id"] for x in section["records"]] == ["HH-SI-9"]
