"""What the person gets on paper (issue 14): every character printed or the report refused, no
control characters imported, revoked reports not handed out, a login QR honoured for the request
queued while it was valid, objections that mean something. Real serve process and CLI."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from report_service import crypto, pdf
from report_service.bootstrap import open_platform
from report_service.clock import CST
from report_service.errors import ApiError
from report_service.importer import import_lines
from report_service.report_build import ReportRequest
from report_service.sessions import LATE_QR_GRACE_S, QueuedUse
from report_service.signing import Caller

from .casebook import company_and_person, id_number, penalty, uscc
from .conftest import enroll, import_jsonl
from .platform_client import ServiceProcess, TerminalClient, cli

RARE = "𠮷𪚥䶮𬌗𬍛"  # Ext B, B, A, E, E: the last two are 通用规范汉字 of real names
RARE_CO, PLAIN_CO, ODD_CO = uscc("huzhou", 7901), uscc("huzhou", 7902), uscc("huzhou", 7903)
HOLDER = id_number("huzhou", 791)
PERIOD = ("2021-01-01", "2024-12-31")


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


def lines(*rows: dict[str, object]) -> list[str]:
    return [json.dumps(r, ensure_ascii=False) for r in rows]


def entity(code_: str, name: str) -> dict[str, object]:
    return {"type": "entity", "uscc": code_, "name": name, "kind": "company", "region": "huzhou"}


@pytest.fixture(scope="module")
def huzhou(platform: ServiceProcess, tmp_path_factory: pytest.TempPathFactory) -> TerminalClient:
    chain = pdf._get_chain(pdf.resolve_font_chain())
    nowhere = next(chr(c) for c in range(0x30000, 0x3134B) if not chain.has(chr(c)))
    rows: list[dict[str, object]] = [
        entity(RARE_CO, f"湖州{RARE}科技有限公司"),
        entity(PLAIN_CO, "湖州纸面测试有限公司"),
        entity(ODD_CO, f"湖州{nowhere}商行"),
        {"type": "person", "id_number": HOLDER, "name": f"张{RARE[0]}", "roles": [
            {"uscc": c, "role": "legal_representative"} for c in (RARE_CO, PLAIN_CO, ODD_CO)]},
        penalty("PAPER-1", PLAIN_CO, "市场监管", "2023-03-04"),
    ]  # fmt: skip
    import_jsonl(platform, tmp_path_factory.mktemp("paper") / "p.jsonl", lines(*rows))
    return enroll(platform, "huzhou")


def session(terminal: TerminalClient) -> str:
    return str(terminal.login_card(HOLDER, f"张{RARE[0]}")["session_token"])


def test_a_rare_name_is_printed_in_full(
    platform: ServiceProcess, huzhou: TerminalClient, tmp_path: Path
) -> None:
    token = session(huzhou)
    r = huzhou.report(token, RARE_CO, *PERIOD)
    assert r.status_code == 201, r.text
    pdf_bytes = huzhou.request("GET", f"/v1/reports/{r.json()['report_id']}/pdf", token=token)
    out = tmp_path / "rare.pdf"
    out.write_bytes(pdf_bytes.content)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert f"湖州{RARE}科技有限公司" in text  # every character, none left blank
    verified = httpx.get(f"{platform.base_url}/v1/verify/{r.json()['verification_code']}")
    assert verified.json()["name"] == f"湖州{RARE}科技有限公司"


def test_a_character_no_font_has_refuses_the_report_with_a_clear_code(
    huzhou: TerminalClient,
) -> None:
    key = "odd-" + secrets.token_hex(6)
    token = session(huzhou)
    r = huzhou.report(token, ODD_CO, *PERIOD, key=key)
    assert r.status_code == 422 and code(r) == "unprintable_character"
    assert "U+3" in r.json()["error"]["message"]
    ticket = huzhou.request("GET", f"/v1/reports/by-ticket/{key}", token=token)
    assert ticket.status_code == 404  # nothing was issued


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("name", "湖州\u202e司公限有\u202c商行", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("name", "湖州\x00商行", "U+0000 (NULL)"),
        ("title", "未按规定\x1b[31m公示", "U+001B"),
        ("agency", "湖州市\u2066监管局", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
    ],
)
def test_the_import_refuses_control_and_bidi_characters_by_line(
    platform: ServiceProcess, tmp_path: Path, field: str, value: str, shown: str
) -> None:
    fresh = uscc("huzhou", 7990 + len(field))
    good = entity(fresh, "湖州控制字符测试有限公司")
    record = penalty("CTRL-1", fresh, "市场监管", "2023-01-01")
    bad = (good | {field: value}) if field == "name" else (record | {field: value})
    rows = [good, bad] if field == "name" else [good, record | {"record_id": "CTRL-0"}, bad]
    path = tmp_path / "ctrl.jsonl"
    path.write_text("\n".join(lines(*rows)) + "\n", encoding="utf-8")
    result = cli("import", "--db", platform.db, str(path), check=False)
    assert result.returncode == 2
    assert f"line {len(rows)}: '{field}' holds {shown}" in result.stderr
    assert "line 1" not in result.stderr and value not in result.stderr


def test_a_revoked_report_is_not_handed_out_for_pickup_or_reprint(
    platform: ServiceProcess, huzhou: TerminalClient
) -> None:
    token = session(huzhou)
    ticket = "revoke-" + secrets.token_hex(6)
    issued = huzhou.report(token, PLAIN_CO, *PERIOD, key=ticket).json()
    cli("reports", "revoke", "--db", platform.db, issued["report_id"])
    pdf_again = huzhou.request("GET", f"/v1/reports/{issued['report_id']}/pdf", token=token)
    assert pdf_again.status_code == 410 and code(pdf_again) == "report_revoked"
    pickup = huzhou.request("GET", f"/v1/reports/by-ticket/{ticket}", token=token)
    assert pickup.status_code == 410 and code(pickup) == "report_revoked"
    retried = huzhou.report(token, PLAIN_CO, *PERIOD, key=ticket)  # a queued retry
    assert retried.status_code == 410 and code(retried) == "report_revoked"
    objection = huzhou.request(
        "POST",
        "/v1/objections",
        {"report_id": issued["report_id"], "record_id": "PAPER-1", "reason": "记录有误",
         "contact": "13912345678"},
        token=token,
    )  # fmt: skip
    assert objection.status_code == 410 and code(objection) == "report_revoked"


def test_objections_refuse_control_only_reasons_and_duplicates(
    huzhou: TerminalClient,
) -> None:
    token = session(huzhou)
    report = huzhou.report(token, PLAIN_CO, *PERIOD).json()
    body = {"report_id": report["report_id"], "record_id": "PAPER-1", "contact": "13912345678"}
    for reason in ("\x00\x00\x00", "\x07\x08\x1b", "\u202e\u202e", "记录\x00有误", "  \t "):
        r = huzhou.request("POST", "/v1/objections", body | {"reason": reason}, token=token)
        assert r.status_code == 422 and code(r) == "invalid_reason", repr(reason)
    answers: list[int] = []

    def file_one() -> None:
        r = huzhou.request("POST", "/v1/objections", body | {"reason": "处罚已撤销"}, token=token)
        answers.append(r.status_code)

    threads = [threading.Thread(target=file_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200] + [409] * 5  # one objection per record while it is open
    later = huzhou.request("POST", "/v1/objections", body | {"reason": "再次提出"}, token=token)
    assert later.status_code == 409 and code(later) == "objection_exists"


# ---- a login QR for a request queued while it was valid -----------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=CST)

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_login_qr_serves_its_queued_request_for_72_hours_once(tmp_path: Path) -> None:
    clock = Clock()
    service = open_platform(str(tmp_path / "p.db"), clock=clock)
    company, person = uscc("wuhai", 7960), id_number("wuhai", 796)
    import_lines(
        service,
        company_and_person("wuhai", company, "乌海离线码测试有限公司", person, "离线码人", "agent"),
    )
    caller = Caller("T1", "hall", "wuhai")

    def qr() -> tuple[str, int]:
        now = int(clock.now.timestamp())
        with service.engine.connect() as conn:
            public_id = conn.exec_driver_sql("SELECT public_id FROM persons").scalar()
        return crypto.issue_login_qr(service.keys.signer, str(public_id), "离**", now, 300), now

    payload, issued = qr()
    queued = QueuedUse("queued-ticket-1", issued + 60)  # checked by the kiosk, queued then
    clock.now += dt.timedelta(hours=30)  # the outage outlasts the QR's 5 minutes
    with pytest.raises(ApiError) as late_alone:
        service.logins.session_from_qr(caller, payload)  # without the queued request: expired
    assert late_alone.value.code == "login_qr_expired"
    opened = service.logins.session_from_qr(caller, payload, queued)
    token = opened["session_token"]
    request = ReportRequest(company, "all", dt.date(2025, 1, 1), dt.date(2026, 3, 1))
    signed_person = service.logins.session_for(caller, token)
    assert signed_person.ticket == "queued-ticket-1"
    receipt = service.reports.create_report(
        caller, signed_person.person_id, "queued-ticket-1", request
    )
    assert receipt["report_id"]
    with pytest.raises(ApiError) as again:  # once only, late or not
        service.logins.session_from_qr(caller, payload, queued)
    assert again.value.code == "login_qr_used"

    payload, issued = qr()
    clock.now += dt.timedelta(seconds=300 + LATE_QR_GRACE_S + 1)  # past the 72 hours
    with pytest.raises(ApiError) as too_late:
        service.logins.session_from_qr(caller, payload, QueuedUse("queued-ticket-2", issued + 60))
    assert too_late.value.code == "login_qr_expired"
    payload, issued = qr()
    clock.now += dt.timedelta(hours=1)
    with pytest.raises(ApiError) as queued_after:  # "queued" after the QR had run out
        service.logins.session_from_qr(caller, payload, QueuedUse("queued-ticket-3", issued + 301))
    assert queued_after.value.code == "login_qr_expired"


def test_a_late_qr_session_serves_its_own_ticket_only(
    platform: ServiceProcess, tmp_path: Path
) -> None:
    company, person = uscc("heihe", 7970), id_number("heihe", 797)
    import_jsonl(
        platform,
        tmp_path / "p.jsonl",
        company_and_person("heihe", company, "黑河离线码测试有限公司", person, "离线人", "agent"),
    )
    terminal = enroll(platform, "heihe")
    payload = cli(
        "issue-login-qr", "--db", platform.db, "--id-number", person, "--ttl", "4"
    ).stdout.strip()
    queued_at = int(time.time())
    expires = json.loads(crypto.b64url_decode(payload.split(".")[1]))["exp"]
    assert queued_at < expires  # queued while the QR was valid
    time.sleep(max(expires - time.time(), 0) + 0.5)  # used after it ran out
    body = {"payload": payload, "queued": {"ticket": "late-ticket-1", "queued_at": queued_at}}
    r = terminal.request("POST", "/v1/sessions/qr", body)
    assert r.status_code == 200, r.text
    token = r.json()["session_token"]
    other = terminal.report(token, company, "2021-01-01", "2024-12-31", key="another-ticket")
    assert other.status_code == 403 and code(other) == "session_restricted"
    mine = terminal.report(token, company, "2021-01-01", "2024-12-31", key="late-ticket-1")
    assert mine.status_code == 201, mine.text
