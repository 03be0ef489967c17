"""Which kinds of entity a region issues reports to is a profile field (issue 18).

Lanzhou: “兰州市区域内注册的公司、非公司企业法人及其分支机构，个人独资企业、合伙企业及其分支机构，农民专业
合作社(联合社）及其分支机构，个体工商户，外国公司分支机构等经营主体可开具专用信用报告”. Wuhai: “公司、非公司
企业法人及其分支机构，个人独资企业、合伙企业及其分支机构，农民专业合作社(联合社)及其分支机构，个体工商户，
外国公司分支机构等市场主体可以开具专用信用信息报告”. Neither lists 社会组织; Gansu does: “…个体工商户，外国
公司分支机构、社会组织等”.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from report_service.ids import uscc_check_char
from report_service.profiles import load_profile

from .casebook import id_number, uscc
from .conftest import enroll, import_jsonl
from .platform_client import ServiceProcess, cli

LANZHOU_WORDS = (
    "兰州市区域内注册的公司、非公司企业法人及其分支机构，个人独资企业、合伙企业及其分支机构，农民专业"
    "合作社(联合社）及其分支机构，个体工商户，外国公司分支机构等经营主体可开具专用信用报告"
)
MARKET_ENTITIES = "公司、非公司企业法人、分支机构、个人独资企业、合伙企业、农民专业合作社、个体工商户、外国公司分支机构"


def valid_association(region: str, serial: int) -> dict[str, str]:
    """A 社会团体 (registration code 51) of the region."""
    first17 = "51" + uscc(region, serial)[2:17]
    return {
        "type": "entity",
        "uscc": first17 + uscc_check_char(first17),
        "name": "兰州市物流行业协会",
        "kind": "social_organization",
        "region": region,
    }


def test_the_profiles_list_the_schemes_kinds() -> None:
    assert load_profile("lanzhou").sources["entity_kinds"].quotes == (LANZHOU_WORDS,)
    assert "social_organization" not in load_profile("lanzhou").entity_kinds
    assert "social_organization" not in load_profile("wuhai").entity_kinds
    assert "social_organization" in load_profile("gansu").entity_kinds


@pytest.mark.parametrize(
    ("region", "name", "serial"), [("lanzhou", "兰州市", 1841), ("wuhai", "乌海市", 1844)]
)
def test_a_social_organisation_is_imported_with_a_note_and_gets_no_report(
    platform: ServiceProcess, tmp_path: Path, region: str, name: str, serial: int
) -> None:
    """DESIGN §4 names the kind for every region's import; the region's scheme decides the report.
    A data office's file with an association in it is imported, the line noted."""
    org = valid_association(region, serial)
    person = id_number(region, serial % 1000)
    lines = [
        org,
        {"type": "person", "id_number": person, "name": "协会人",
         "roles": [{"uscc": org["uscc"], "role": "legal_representative"}]},
    ]  # fmt: skip
    path = tmp_path / "org.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    run = cli("import", *platform.db_args(), str(path), check=False)
    assert run.returncode == 0, run.stderr
    assert (
        f"line 1: entity_kind_not_eligible: {name}可开具报告的主体不含社会组织（social_organization）；"
        f"本地区可开具的主体为：{MARKET_ENTITIES}。请核对主体类型，或到信用窗口咨询。"
    ) in run.stderr
    terminal = enroll(platform, region)
    login = terminal.login_card(person, "协会人")
    assert login["enterprises"] == []  # not offered at the kiosk
    r = terminal.report(login["session_token"], org["uscc"], "2024-01-01", "2024-12-31")
    assert r.status_code == 422 and r.json()["error"]["code"] == "entity_kind_not_eligible"


def test_gansu_takes_a_social_organisation(platform: ServiceProcess, tmp_path: Path) -> None:
    import_jsonl(platform, tmp_path / "org.jsonl", [json.dumps(valid_association("gansu", 1842))])


def test_a_social_organisation_stored_before_gets_no_report(
    platform: ServiceProcess, tmp_path: Path
) -> None:
    """An entity imported before the rule (written here straight into the database) is refused
    when its report is asked for, with a code the kiosk maps to a screen."""
    org = valid_association("wuhai", 1843)
    person = id_number("wuhai", 186)
    with sqlite3.connect(platform.db) as conn:
        conn.execute(
            "INSERT INTO entities (uscc, name, kind, region) VALUES (?, ?, ?, ?)",
            (org["uscc"], "乌海市物流行业协会", "social_organization", "wuhai"),
        )
    row = {
        "type": "person",
        "id_number": person,
        "name": "协会人",
        "roles": [{"uscc": org["uscc"], "role": "legal_representative"}],
    }
    import_jsonl(platform, tmp_path / "person.jsonl", [json.dumps(row, ensure_ascii=False)])
    terminal = enroll(platform, "wuhai")
    token = terminal.login_card(person, "协会人")["session_token"]
    r = terminal.report(token, org["uscc"], "2024-01-01", "2024-12-31")
    assert r.status_code == 422, r.text
    assert r.json()["error"] == {
        "code": "entity_kind_not_eligible",
        "message": "乌海市可开具报告的主体不含社会组织（social_organization）；"
        f"本地区可开具的主体为：{MARKET_ENTITIES}。请核对主体类型，或到信用窗口咨询。",
    }
