"""Huzhou counts only what a legally effective document confirms (issue 18).

湖信用办〔2023〕7号, 三: “本通知所称的违法违规记录，是指本市行政机关、法律法规授权的具有管理公共事务职能的
组织、有关省垂直管理单位、有关司法机关(以下统称“出证机关”)等对市场主体违反法律、法规、规章行为的客观记载。
除生效法律文书确认市场主体违法行为外，其他情况均应当视为无违法违规记录”.

A record says so in `confirmed_by_effective_document`; the profile's rule
`require_effective_document` (data, not code) shows only the records where it is true. The seed
names no 严重失信主体名单 and no 经营异常名录 (its only record unit is the 行政处罚: “市场主体行为已依法
不予行政处罚的、经失信主体消除影响后已信用修复的行政处罚，不列入违法违规记录”), so no Huzhou domain collects
them: such a line is refused as out of scope.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from report_service.errors import ApiError
from report_service.profiles import load_profile
from report_service.rules import record_shown
from report_service.terminal_client import TerminalClient

from .casebook import company_and_person, id_number, other, penalty, uscc
from .conftest import enroll, import_jsonl
from .platform_client import cli, refused_until_migrated, start_service
from .test_rules import Rec

COMPANY, PERSON = uscc("huzhou", 1811), id_number("huzhou", 182)
SEED_RULE = "除生效法律文书确认市场主体违法行为外，其他情况均应当视为无违法违规记录"


def lines(*records: dict[str, object]) -> list[str]:
    head = company_and_person("huzhou", COMPANY, "湖州文书测试有限公司", PERSON, "文测试", "agent")
    return head + [json.dumps(r, ensure_ascii=False) for r in records]


def import_refusal(platform, tmp_path: Path, rows: list[str]) -> str:
    path = tmp_path / "huzhou.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    run = cli("import", *platform.db_args(), str(path), check=False)
    assert run.returncode == 2, run.stderr
    return run.stderr


def test_the_profile_rule_quotes_the_seed():
    rule = load_profile("huzhou").sources["rules.require_effective_document"]
    assert rule.value is True and rule.quotes == (SEED_RULE,)
    assert load_profile("gansu").rules.require_effective_document is False


def test_a_huzhou_record_must_say_whether_a_document_confirms_it(platform, tmp_path):
    silent = penalty("HZ-DOC-0", COMPANY, "市场监管", "2024-03-01")
    del silent["confirmed_by_effective_document"]
    stderr = import_refusal(platform, tmp_path, lines(silent))
    assert (
        f"line 3: effective_document_required: 湖州市的报告只计入生效法律文书确认的违法行为（“{SEED_RULE}”）："
        "请为每条记录填写 confirmed_by_effective_document（true 或 false）。"
    ) in stderr
    wrong = penalty(
        "HZ-DOC-0", COMPANY, "市场监管", "2024-03-01", confirmed_by_effective_document=1
    )
    assert "'confirmed_by_effective_document' must be true, false or null" in import_refusal(
        platform, tmp_path, lines(wrong)
    )


def test_only_confirmed_records_are_in_a_huzhou_report(platform, tmp_path):
    confirmed = penalty("HZ-DOC-1", COMPANY, "市场监管", "2024-03-01")
    unconfirmed = penalty(
        "HZ-DOC-2", COMPANY, "市场监管", "2024-04-01", confirmed_by_effective_document=False
    )
    import_jsonl(platform, tmp_path / "doc.jsonl", lines(confirmed, unconfirmed))
    terminal = enroll(platform, "huzhou")
    token = terminal.login_card(PERSON, "文测试")["session_token"]
    r = terminal.report(token, COMPANY, "2024-01-01", "2024-12-31", domains=["market_regulation"])
    assert r.status_code == 201, r.text
    (domain,) = r.json()["summary"]["domains"]
    assert [rec["record_id"] for rec in domain["records"]] == ["HZ-DOC-1"]


def test_huzhou_collects_no_lists_and_no_business_abnormality(platform, tmp_path):
    listed = other(
        "HZ-LIST-1", COMPANY, "市场监管", "serious_dishonesty", "2024-03-01", "失信被执行人"
    )
    abnormal = other("HZ-AB-1", COMPANY, "市场监管", "business_abnormality", "2024-03-02")
    for row in (listed, abnormal):
        row["confirmed_by_effective_document"] = True  # even confirmed: not a kind Huzhou collects
    stderr = import_refusal(platform, tmp_path, lines(listed, abnormal))
    assert (
        "line 3: record_out_of_scope: 湖州市的“市场监管”（market_regulation）归集行政处罚，"
        in stderr
    )
    assert "湖州市没有归集严重失信主体名单的领域，该记录不能导入。" in stderr
    assert "湖州市没有归集经营异常名录的领域，该记录不能导入。" in stderr


def test_the_condition_is_the_profiles_data_not_the_regions_name():
    """The same record in Gansu's profile with the rule switched on is hidden too."""
    gansu = load_profile("gansu")
    strict = dataclasses.replace(
        gansu, rules=dataclasses.replace(gansu.rules, require_effective_document=True)
    )
    start, end, today = dt.date(2021, 1, 1), dt.date(2025, 12, 31), dt.date(2026, 11, 22)
    for profile, confirmed, shown in (
        (gansu, False, True),
        (gansu, None, True),
        (strict, False, False),
        (strict, True, True),
    ):
        record = Rec(confirmed_by_effective_document=confirmed)
        assert record_shown(profile, record, start, end, today) is shown, (confirmed, shown)
    # unknown under the rule: no report rather than a clean one
    with pytest.raises(ApiError) as refused:
        record_shown(strict, Rec(confirmed_by_effective_document=None), start, end, today)
    assert refused.value.code == "records_unconfirmed"


def test_a_schema_2_database_is_upgraded_and_its_old_records_refuse_a_false_clean_report(
    tmp_path,
):
    """Records imported before the field existed have it unset (NULL). Counting them would break
    the seed's rule; dropping them would sign a 无违法违规记录 report for an enterprise with
    penalties. Huzhou refuses reports for such an enterprise until its records are imported again
    with the field, and `migrate` says so."""
    db = str(tmp_path / "v2.db")
    rows = lines(penalty("HZ-OLD-1", COMPANY, "市场监管", "2024-03-01"))
    (tmp_path / "v2.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cli("import", "--db", db, str(tmp_path / "v2.jsonl"))
    with sqlite3.connect(db) as conn:  # what a version-2 database looks like
        conn.execute("ALTER TABLE records DROP COLUMN confirmed_by_effective_document")
        conn.execute("UPDATE settings SET value = '2' WHERE key = 'schema_version'")
    upgraded = refused_until_migrated("--db", db)
    assert "1 records have no confirmed_by_effective_document" in upgraded
    assert "nothing to do" in cli("migrate", "--db", db).stdout
    service = start_service(db, tmp_path)
    try:
        token = cli("terminals", "add-token", "--db", db, "--hall", "h", "--region", "huzhou")
        terminal = TerminalClient.enroll(service.base_url, token.stdout.strip())
        session = terminal.login_card(PERSON, "文测试")["session_token"]
        r = terminal.report(session, COMPANY, "2024-01-01", "2024-12-31")
        assert r.status_code == 409 and r.json()["error"]["code"] == "records_unconfirmed", r.text
        # a period without the unconfirmed record is reported as usual
        r = terminal.report(session, COMPANY, "2025-01-01", "2025-12-31")
        assert r.status_code == 201 and r.json()["summary"]["total_records"] == 0, r.text
        # imported again with the field: reported, and counted as the seed says
        again = json.loads(rows[-1])
        again["confirmed_by_effective_document"] = True
        (tmp_path / "v3.jsonl").write_text(
            "\n".join([*rows[:-1], json.dumps(again, ensure_ascii=False)]) + "\n",
            encoding="utf-8",
        )
        cli("import", "--db", db, str(tmp_path / "v3.jsonl"))
        session = terminal.login_card(PERSON, "文测试")["session_token"]
        r = terminal.report(session, COMPANY, "2024-01-01", "2024-12-31")
        assert r.status_code == 201 and r.json()["summary"]["total_records"] == 1, r.text
    finally:
        service.stop()
