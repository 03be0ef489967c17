"""Huzhou counts only what a legally effective document confirms (issue 18).

湖信用办〔2023〕7号, 三: “本通知所称的违法违规记录，是指本市行政机关、法律法规授权的具有管理公共事务职能的
组织、有关省垂直管理单位、有关司法机关(以下统称“出证机关”)等对市场主体违反法律、法规、规章行为的客观记载。
除生效法律文书确认市场主体违法行为外，其他情况均应当视为无违法违规记录”.

A record may say so in `confirmed_by_effective_document`; the profile's rule
`require_effective_document` (data, not code) leaves out the records an agency says no such document
confirms (false). A line that does not say (DESIGN §4's import format has no such field) counts: the
penalty decision or list entry the agency pushed is its document. The seed names no 严重失信主体名单
and no 经营异常名录 (its only record unit is the 行政处罚: “市场主体行为已依法不予行政处罚的、经失信主体消除
影响后已信用修复的行政处罚，不列入违法违规记录”), so no Huzhou domain's scope takes them: such a line is
imported with a note, and reported where it was filed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from pathlib import Path

from report_service.profiles import load_profile
from report_service.rules import record_shown
from report_service.terminal_client import TerminalClient

from .casebook import company_and_person, id_number, other, penalty, uscc
from .conftest import enroll
from .platform_client import ServiceProcess, cli, refused_until_migrated, start_service
from .test_rules import Rec

COMPANY, PERSON = uscc("huzhou", 1811), id_number("huzhou", 182)
SEED_RULE = "除生效法律文书确认市场主体违法行为外，其他情况均应当视为无违法违规记录"


def lines(*records: dict[str, object]) -> list[str]:
    head = company_and_person("huzhou", COMPANY, "湖州文书测试有限公司", PERSON, "文测试", "agent")
    return head + [json.dumps(r, ensure_ascii=False) for r in records]


def run_import(platform: ServiceProcess, tmp_path: Path, rows: list[str], status: int = 0) -> str:
    path = tmp_path / "huzhou.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    run = cli("import", *platform.db_args(), str(path), check=False)
    assert run.returncode == status, run.stderr
    return run.stderr


def report_ids(platform: ServiceProcess, domains: object = "all") -> list[str]:
    terminal = enroll(platform, "huzhou")
    token = terminal.login_card(PERSON, "文测试")["session_token"]
    r = terminal.report(token, COMPANY, "2024-01-01", "2024-12-31", domains=domains)
    assert r.status_code == 201, r.text
    return sorted(x["record_id"] for d in r.json()["summary"]["domains"] for x in d["records"])


def test_the_profile_rule_quotes_the_seed() -> None:
    rule = load_profile("huzhou").sources["rules.require_effective_document"]
    assert rule.value is True and rule.quotes == (SEED_RULE,)
    assert load_profile("gansu").rules.require_effective_document is False


def test_a_huzhou_record_in_designs_format_counts_and_a_wrong_value_is_refused(
    platform: ServiceProcess, tmp_path: Path
) -> None:
    silent = penalty("HZ-DOC-0", COMPANY, "市场监管", "2024-03-01")
    del silent["confirmed_by_effective_document"]
    also = dict(silent, record_id="HZ-DOC-01", date="2024-03-02")
    noted = run_import(platform, tmp_path, lines(silent, also))
    # one note for the file, not one a line: a file in DESIGN's format would say it on every line
    assert noted.count("confirmation_not_said") == 1
    assert (
        "line 3: confirmation_not_said: 湖州市的报告只计入生效法律文书确认的违法行为；2条记录（第3行起）"
        "未填写 confirmed_by_effective_document，按已确认计入报告。"
        "尚无生效法律文书确认的记录，请填写 false 后重新导入。"
    ) in noted
    assert {"HZ-DOC-0", "HZ-DOC-01"} <= set(report_ids(platform, ["market_regulation"]))
    wrong = penalty(
        "HZ-DOC-00", COMPANY, "市场监管", "2024-03-01", confirmed_by_effective_document=1
    )
    assert "'confirmed_by_effective_document' must be true, false or null" in run_import(
        platform, tmp_path, lines(wrong), status=2
    )


def test_a_record_no_effective_document_confirms_is_not_in_a_huzhou_report(
    platform: ServiceProcess, tmp_path: Path
) -> None:
    confirmed = penalty("HZ-DOC-1", COMPANY, "市场监管", "2024-03-01")
    unconfirmed = penalty(
        "HZ-DOC-2", COMPANY, "市场监管", "2024-04-01", confirmed_by_effective_document=False
    )
    run_import(platform, tmp_path, lines(confirmed, unconfirmed))
    shown = report_ids(platform, ["market_regulation"])
    assert "HZ-DOC-1" in shown and "HZ-DOC-2" not in shown


def test_lists_and_business_abnormality_are_noted_in_huzhou_and_still_reported(
    platform: ServiceProcess, tmp_path: Path
) -> None:
    listed = other(
        "HZ-LIST-1", COMPANY, "市场监管", "serious_dishonesty", "2024-03-01", "失信被执行人"
    )
    abnormal = other("HZ-AB-1", COMPANY, "市场监管", "business_abnormality", "2024-03-02")
    stderr = run_import(platform, tmp_path, lines(listed, abnormal))
    assert (
        "line 3: record_out_of_scope: 湖州市的“市场监管”（market_regulation）归集行政处罚，"
        in stderr
    )
    assert "湖州市的方案没有归集严重失信主体名单的领域。" in stderr
    assert "湖州市的方案没有归集经营异常名录的领域。" in stderr
    shown = report_ids(platform, ["market_regulation"])
    assert "HZ-LIST-1" in shown and "HZ-AB-1" in shown


def test_the_condition_is_the_profiles_data_not_the_regions_name() -> None:
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
        (strict, None, True),  # not said: the decision pushed is the document
        (strict, True, True),
    ):
        record = Rec(confirmed_by_effective_document=confirmed)
        assert record_shown(profile, record, start, end, today) is shown, (confirmed, shown)


def test_a_schema_2_database_is_upgraded_and_its_records_count(tmp_path: Path) -> None:
    """Records imported before the field existed have it unset (NULL): not said, so they count,
    as a line in DESIGN §4's format does; nothing is refused or hidden after `migrate`."""
    db = str(tmp_path / "v2.db")
    rows = lines(penalty("HZ-OLD-1", COMPANY, "市场监管", "2024-03-01"))
    (tmp_path / "v2.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cli("import", "--db", db, str(tmp_path / "v2.jsonl"))
    with sqlite3.connect(db) as conn:  # what a version-2 database looks like
        conn.execute("ALTER TABLE records DROP COLUMN confirmed_by_effective_document")
        conn.execute("UPDATE settings SET value = '2' WHERE key = 'schema_version'")
    upgraded = refused_until_migrated("--db", db)
    assert "upgraded the tables" in upgraded and "confirmed_by_effective_document" not in upgraded
    assert "nothing to do" in cli("migrate", "--db", db).stdout
    service = start_service(db, tmp_path)
    try:
        token = cli("terminals", "add-token", "--db", db, "--hall", "h", "--region", "huzhou")
        terminal = TerminalClient.enroll(service.base_url, token.stdout.strip())
        session = terminal.login_card(PERSON, "文测试")["session_token"]
        r = terminal.report(session, COMPANY, "2024-01-01", "2024-12-31")
        assert r.status_code == 201 and r.json()["summary"]["total_records"] == 1, r.text
    finally:
        service.stop()
