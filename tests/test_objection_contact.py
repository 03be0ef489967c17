"""What an objection's `contact` may be (DESIGN §3 names the field, not its form): the ways a
person writes a number or an address they can be reached at, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from report_service.objections import is_contact

from .casebook import company_and_person, id_number, penalty, uscc
from .conftest import import_jsonl
from .platform_client import ServiceProcess, TerminalClient


@pytest.mark.parametrize(
    "text",
    ["13912345678", "+86 139 1234 5678", "8613912345678", "139-1234-5678", "0931-8888888",
     "(0931)88888888", "（0931）8888888", "zhang.san@example.com.cn", "li@gs.gov.cn"],
)  # fmt: skip
def test_phones_and_addresses_people_write_are_taken(text: str) -> None:
    assert is_contact(text)


@pytest.mark.parametrize(
    "text",
    ["12345", "139123456789", "23912345678", "x@y", "a@@b.cn", "a b@c.cn", "13912345678\x00",
     "请打电话", "@example.com", "a@b.cn" + "x" * 260],
)  # fmt: skip
def test_anything_else_is_refused(text: str) -> None:
    assert not is_contact(text)


def test_an_objection_with_a_long_e_mail_address_is_filed(
    platform: ServiceProcess, gansu_terminal: TerminalClient, tmp_path: Path
) -> None:
    """Through the API, as a kiosk or a test sends it: an address past 32 characters."""
    company, person = uscc("gansu", 9411), id_number("gansu", 941)
    rows = company_and_person("gansu", company, "异议联系测试有限公司", person, "联系人", "agent")
    rows.append(
        json.dumps(penalty("CONTACT-1", company, "市场监管", "2024-03-01"), ensure_ascii=False)
    )
    import_jsonl(platform, tmp_path / "contact.jsonl", rows)
    token = gansu_terminal.login_card(person, "联系人")["session_token"]
    report = gansu_terminal.report(token, company, "2024-01-01", "2024-12-31").json()
    body = {"report_id": report["report_id"], "record_id": "CONTACT-1",
            "reason": "该处罚已撤销", "contact": "enterprise.credit.affairs@example-holdings.com.cn"}  # fmt: skip
    r = gansu_terminal.request("POST", "/v1/objections", body, token=token)
    assert r.status_code == 200, r.text
    assert r.json()["objection_id"] and r.json()["due_by"]
