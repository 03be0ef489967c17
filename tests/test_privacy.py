"""ID numbers, names and contact numbers never reach the platform's logs or database files in
plaintext (names and contacts are sealed, ID numbers kept as keyed hashes)."""

from __future__ import annotations

import json
from pathlib import Path

from .casebook import company_and_person, id_number, penalty, uscc
from .conftest import enroll, import_jsonl
from .platform_client import ServiceProcess, cli


def test_id_numbers_stay_out_of_logs_and_database(platform: ServiceProcess, tmp_path: Path) -> None:
    person = id_number("lanzhou", 555)
    company = uscc("lanzhou", 5550)
    import_jsonl(
        platform,
        tmp_path / "p.jsonl",
        [
            *company_and_person(
                "lanzhou", company, "隐私测试有限公司", person, "隐私测试人", "agent"
            ),
            json.dumps(penalty("PRIV-1", company, "市场监管", "2024-03-04"), ensure_ascii=False),
        ],
    )
    terminal = enroll(platform, "lanzhou")
    token = terminal.login_card(person, "隐私测试人")["session_token"]
    report = terminal.report(token, company, "2024-01-01", "2024-12-31")
    assert report.status_code == 201
    contact = "13800571234"
    objection = {"report_id": report.json()["report_id"], "record_id": "PRIV-1",
                 "reason": "记录有误", "contact": contact}  # fmt: skip
    assert terminal.request("POST", "/v1/objections", objection, token=token).status_code == 200
    wrong_name = terminal.request(
        "POST", "/v1/sessions/id-card", {"id_number": person, "name": "别人", "valid_until": None}
    )
    assert wrong_name.status_code == 404
    bad_check = person[:-1] + ("0" if person[-1] != "0" else "1")
    refused = terminal.request(
        "POST",
        "/v1/sessions/id-card",
        {"id_number": bad_check, "name": "隐私测试人", "valid_until": None},
    )
    assert refused.status_code == 422 and bad_check not in refused.text
    qr = cli("issue-login-qr", "--db", platform.db, "--id-number", person).stdout
    assert person not in qr

    bad_import = tmp_path / "bad.jsonl"
    bad_import.write_text(
        json.dumps({"type": "person", "id_number": bad_check, "name": "某人", "roles": []}) + "\n"
    )
    result = cli("import", "--db", platform.db, str(bad_import), check=False)
    assert result.returncode == 2 and bad_check not in result.stderr + result.stdout

    files = [Path(platform.db), Path(platform.db + "-wal"), platform.log_path]
    for f in files:
        if f.exists():
            data = f.read_bytes()
            for number in (person, bad_check, "隐私测试人", contact):
                assert number.encode() not in data, f"{number} found in {f.name}"
                assert number.encode("utf-16-le") not in data
