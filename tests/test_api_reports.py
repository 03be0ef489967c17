"""Reports and what follows them, against a real `report-service serve` process: issuing (signed
PDF, idempotency, scope, refusals), verification and objections."""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

import httpx
import pytest

from report_service import crypto

from .api_people import api_people, error_code, text_of
from .casebook import uscc
from .platform_client import ServiceProcess, TerminalClient, cli

# two companies; 王五 represents both, 赵六 only the second; one outside the region
people = pytest.fixture(scope="module", name="people")(api_people)


@pytest.fixture()
def wang(gansu_terminal: TerminalClient, people: dict[str, str]) -> str:
    return text_of(gansu_terminal.login_card(people["wang"], "王五"), "session_token")


class TestReports:
    def test_report_pdf_signature_and_idempotency(
        self, gansu_terminal: TerminalClient, people: dict[str, str], wang: str
    ) -> None:
        key = "ticket-" + secrets.token_hex(8)
        r = gansu_terminal.report(wang, people["a"], "2023-01-01", "2024-12-31", key=key)
        assert r.status_code == 201, r.text
        report = r.json()
        assert set(report) == {
            "report_id",
            "verification_code",
            "issued_at",
            "valid_until",
            "summary",
            "sha256",
            "signature",
        }
        market = next(d for d in report["summary"]["domains"] if d["name"] == "市场监管")
        assert (
            market["conclusion"] == "records" and market["records"][0]["record_id"] == "API-REC-1"
        )
        assert report["summary"]["total_records"] == 1

        again = gansu_terminal.report(wang, people["a"], "2023-01-01", "2024-12-31", key=key)
        assert again.status_code == 201 and again.json() == report

        pdf = gansu_terminal.request("GET", f"/v1/reports/{report['report_id']}/pdf", token=wang)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert hashlib.sha256(pdf.content).hexdigest() == report["sha256"]
        platform_key = crypto.load_public_key(gansu_terminal.enrollment["platform_public_key"])
        assert crypto.verify(platform_key, report["signature"], pdf.content)
        tampered = bytearray(pdf.content)
        tampered[len(tampered) // 2] ^= 0x01
        assert not crypto.verify(platform_key, report["signature"], bytes(tampered))
        assert hashlib.sha256(bytes(tampered)).hexdigest() != report["sha256"]

        ticket = gansu_terminal.request("GET", f"/v1/reports/by-ticket/{key}", token=wang)
        assert ticket.status_code == 200 and ticket.json()["report_id"] == report["report_id"]

    def _signed_report(
        self,
        terminal: TerminalClient,
        token: str,
        body: dict[str, Any],
        key: str,
        content_type: str = "application/json",
    ) -> tuple[bytes, dict[str, str]]:
        raw = json.dumps(body).encode()
        headers = terminal.signed_headers("POST", "/v1/reports", raw)
        headers |= {
            "Content-Type": content_type,
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": key,
        }
        return raw, headers

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"period": {"from": "2023-01-01", "to": "2024-12-31"}}, 201, None),  # issued
            ({"uscc": "unknown", "period": {"from": "2023-01-01", "to": "2024-12-31"}}, 404, None),
            ({"period": {"from": "2023-01-01"}}, 422, "invalid_request"),  # refused by the schema
        ],
    )
    def test_a_replayed_report_request_is_refused(
        self,
        gansu_terminal: TerminalClient,
        people: dict[str, str],
        wang: str,
        body: dict[str, Any],
        status: int,
        code: str | None,
    ) -> None:
        body = {"uscc": people["a"], "domains": "all"} | body
        if body["uscc"] == "unknown":
            body["uscc"] = uscc("gansu", 9999)
        key = "replay-" + secrets.token_hex(8)
        raw, headers = self._signed_report(gansu_terminal, wang, body, key)
        first = gansu_terminal.http.post("/v1/reports", content=raw, headers=headers)
        assert first.status_code == status, first.text
        if code:
            assert error_code(first) == code
        again = gansu_terminal.http.post("/v1/reports", content=raw, headers=headers)
        assert again.status_code == 401 and error_code(again) == "replayed_nonce"
        ticket = gansu_terminal.request("GET", f"/v1/reports/by-ticket/{key}", token=wang)
        if status == 201:
            assert ticket.json()["report_id"] == first.json()["report_id"]  # one report only
        else:
            assert ticket.status_code == 404

    def test_same_answer_through_the_framework(
        self, gansu_terminal: TerminalClient, people: dict[str, str], wang: str
    ) -> None:
        """A content type with parameters skips the report fast path: same contract."""
        body = {
            "uscc": people["a"],
            "domains": "all",
            "period": {"from": "2023-01-01", "to": "2024-12-31"},
        }
        for content_type in ("application/json", "application/json; charset=utf-8"):
            key = "parity-" + secrets.token_hex(8)
            raw, headers = self._signed_report(gansu_terminal, wang, body, key, content_type)
            r = gansu_terminal.http.post("/v1/reports", content=raw, headers=headers)
            assert r.status_code == 201, r.text
            assert r.json()["summary"]["total_records"] == 1
            other = gansu_terminal.login_card(people["zhao"], "赵六")["session_token"]
            raw, headers = self._signed_report(gansu_terminal, other, body, key + "x", content_type)
            r = gansu_terminal.http.post("/v1/reports", content=raw, headers=headers)
            assert r.status_code == 403 and error_code(r) == "not_authorized_for_entity"

    def test_same_key_other_request_conflicts(
        self, gansu_terminal: TerminalClient, people: dict[str, str], wang: str
    ) -> None:
        key = "ticket-" + secrets.token_hex(8)
        assert (
            gansu_terminal.report(
                wang, people["a"], "2023-01-01", "2024-12-31", key=key
            ).status_code
            == 201
        )
        r = gansu_terminal.report(wang, people["a"], "2022-01-01", "2024-12-31", key=key)
        assert r.status_code == 409 and error_code(r) == "idempotency_key_reused"

    def test_other_person_cannot_read_ticket_or_pdf(
        self, gansu_terminal: TerminalClient, people: dict[str, str], wang: str
    ) -> None:
        key = "ticket-" + secrets.token_hex(8)
        report = gansu_terminal.report(
            wang, people["a"], "2023-01-01", "2024-12-31", key=key
        ).json()
        zhao = gansu_terminal.login_card(people["zhao"], "赵六")["session_token"]
        r = gansu_terminal.request("GET", f"/v1/reports/by-ticket/{key}", token=zhao)
        assert r.status_code == 404 and error_code(r) == "ticket_not_found"
        r = gansu_terminal.request("GET", f"/v1/reports/{report['report_id']}/pdf", token=zhao)
        assert r.status_code == 404 and error_code(r) == "report_not_found"

    @pytest.mark.parametrize(
        ("uscc_key", "start", "end", "domains", "status", "code"),
        [
            ("bad", "2023-01-01", "2023-12-31", "all", 422, "invalid_uscc"),
            ("unknown", "2023-01-01", "2023-12-31", "all", 404, "entity_not_found"),
            ("zhao_only", "2023-01-01", "2023-12-31", "all", 403, "not_authorized_for_entity"),
            ("outside", "2023-01-01", "2023-12-31", "all", 422, "entity_outside_region"),
            ("a", "2024-01-01", "2023-01-01", "all", 422, "period_reversed"),
            ("a", "2024-01-01", "2099-01-01", "all", 422, "period_in_future"),
            ("a", "2019-06-01", "2020-12-31", "all", 422, "period_before_floor"),
            # no period_too_long in Gansu: from its floor a period may be of any length
            # (tests/test_profile_sources.py: a Heihe period over its 10-year default is refused)
            ("a", "2023-01-01", "2023-12-31", ["no_such_domain"], 422, "unknown_domain"),
            ("a", "2023-01-01", "2023-12-31", [], 422, "invalid_domains"),
            ("a", "2023-01-01", "2023-12-31", "some", 422, "invalid_request"),
        ],
    )
    def test_refusals_write_nothing(
        self,
        platform: ServiceProcess,
        gansu_terminal: TerminalClient,
        people: dict[str, str],
        wang: str,
        uscc_key: str,
        start: str,
        end: str,
        domains: str | list[str],
        status: int,
        code: str | None,
    ) -> None:
        code_of = {
            "bad": people["a"][:-1] + ("0" if people["a"][-1] != "0" else "1"),
            "unknown": uscc("gansu", 9999),
            "outside": people["outside"],
        }
        token = wang
        if uscc_key == "zhao_only":  # 赵六 holds the second company only, not this one
            target = people["a"]
            token = text_of(gansu_terminal.login_card(people["zhao"], "赵六"), "session_token")
        else:
            target = code_of[uscc_key] if uscc_key in code_of else people[uscc_key]
        key = "refuse-" + secrets.token_hex(8)
        r = gansu_terminal.report(token, target, start, end, domains=domains, key=key)
        assert r.status_code == status and error_code(r) == code, r.text
        ticket = gansu_terminal.request("GET", f"/v1/reports/by-ticket/{key}", token=token)
        assert ticket.status_code == 404  # nothing was stored under the key

    def test_missing_session_and_key(
        self, gansu_terminal: TerminalClient, people: dict[str, str], wang: str
    ) -> None:
        body = {
            "uscc": people["a"],
            "domains": "all",
            "period": {"from": "2023-01-01", "to": "2023-12-31"},
        }
        r = gansu_terminal.request("POST", "/v1/reports", body, idempotency_key="k" * 10)
        assert r.status_code == 401 and error_code(r) == "session_required"
        r = gansu_terminal.request("POST", "/v1/reports", body, token=wang)
        assert r.status_code == 422 and error_code(r) == "invalid_idempotency_key"

    def test_malformed_and_oversized_json(self, gansu_terminal: TerminalClient, wang: str) -> None:
        r = gansu_terminal.request(
            "POST", "/v1/reports", raw=b'{"uscc": ', token=wang, idempotency_key="x" * 12
        )
        assert r.status_code == 400 and error_code(r) == "malformed_json"
        big = json.dumps({"uscc": "x" * 200_000}).encode()
        r = gansu_terminal.request(
            "POST", "/v1/reports", raw=big, token=wang, idempotency_key="x" * 12
        )
        assert r.status_code == 413 and error_code(r) == "payload_too_large"


class TestVerifyAndObjections:
    def test_verify_valid_revoked_unknown(
        self,
        platform: ServiceProcess,
        gansu_terminal: TerminalClient,
        people: dict[str, str],
        wang: str,
    ) -> None:
        report = gansu_terminal.report(wang, people["a"], "2023-01-01", "2024-12-31").json()
        v = httpx.get(f"{platform.base_url}/v1/verify/{report['verification_code']}").json()
        assert (
            v["status"] == "valid"
            and v["uscc"] == people["a"]
            and v["name"] == "兰州甲测试有限公司"
        )
        assert (
            v["period"] == {"from": "2023-01-01", "to": "2024-12-31"}
            and v["sha256"] == report["sha256"]
        )
        assert len(v["domains"]) == 38
        cli("reports", "revoke", "--db", platform.db, report["report_id"])
        assert (
            httpx.get(f"{platform.base_url}/v1/verify/{report['verification_code']}").json()[
                "status"
            ]
            == "revoked"
        )
        unknown = httpx.get(f"{platform.base_url}/v1/verify/ZZZZZZZZZZZZ").json()
        assert unknown["status"] == "unknown" and unknown["uscc"] is None

    def test_objection_due_in_five_working_days(
        self,
        platform: ServiceProcess,
        gansu_terminal: TerminalClient,
        people: dict[str, str],
        wang: str,
    ) -> None:
        from report_service.profiles import holiday_calendar

        report = gansu_terminal.report(wang, people["a"], "2023-01-01", "2024-12-31").json()
        body = {
            "report_id": report["report_id"],
            "record_id": "API-REC-1",
            "reason": "该处罚已撤销，记录有误",
            "contact": "13912345678",
        }
        r = gansu_terminal.request("POST", "/v1/objections", body, token=wang)
        assert r.status_code == 200, r.text
        import datetime as dt

        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
        due = dt.date.fromisoformat(r.json()["due_by"])
        calendar = holiday_calendar()
        working = [today + dt.timedelta(days=i) for i in range(1, (due - today).days + 1)]
        assert sum(calendar.is_working_day(d) for d in working) == 5 and calendar.is_working_day(
            due
        )

        bad = gansu_terminal.request(
            "POST", "/v1/objections", body | {"record_id": "NOPE"}, token=wang
        )
        assert bad.status_code == 422 and error_code(bad) == "record_not_in_report"
        bad = gansu_terminal.request(
            "POST", "/v1/objections", body | {"contact": "12345"}, token=wang
        )
        assert bad.status_code == 422 and error_code(bad) == "invalid_contact"
