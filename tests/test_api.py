"""The report API against a real `report-service serve` process: auth, sessions, reports, errors."""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from report_service import crypto

from .casebook import id_number, uscc
from .conftest import enroll, import_jsonl
from .platform_client import TerminalClient, cli


@pytest.fixture(scope="module")
def people(platform, tmp_path_factory):
    """Two companies; 王五 represents both, 赵六 only the second; one long-term card holder."""
    a, b = uscc("gansu", 9001), uscc("gansu", 9002)
    outside = uscc("huzhou", 9003)
    lines = [
        {
            "type": "entity",
            "uscc": a,
            "name": "兰州甲测试有限公司",
            "kind": "company",
            "region": "gansu",
        },
        {
            "type": "entity",
            "uscc": b,
            "name": "兰州乙测试合作社",
            "kind": "farmer_cooperative",
            "region": "gansu",
        },
        {
            "type": "entity",
            "uscc": outside,
            "name": "湖州丙测试有限公司",
            "kind": "company",
            "region": "huzhou",
        },
        {
            "type": "person",
            "id_number": id_number("gansu", 901),
            "name": "王五",
            "roles": [
                {"uscc": a, "role": "legal_representative"},
                {"uscc": b, "role": "agent"},
                {"uscc": outside, "role": "agent"},
            ],
        },
        {
            "type": "person",
            "id_number": id_number("gansu", 902),
            "name": "赵六",
            "roles": [{"uscc": b, "role": "legal_representative"}],
        },
        {
            "type": "record",
            "record_id": "API-REC-1",
            "uscc": a,
            "domain": "市场监管",
            "kind": "administrative_penalty",
            "date": "2023-06-01",
            "agency": "兰州市市场监督管理局",
            "document_no": "兰市监罚〔2023〕77号",
            "title": "销售不合格商品",
            "procedure": "general",
            "decision": "punish",
            "repaired_on": None,
            "list_name": None,
            "classified": False,
        },
    ]
    import_jsonl(
        platform,
        tmp_path_factory.mktemp("people") / "p.jsonl",
        [json.dumps(x, ensure_ascii=False) for x in lines],
    )
    return {
        "a": a,
        "b": b,
        "outside": outside,
        "wang": id_number("gansu", 901),
        "zhao": id_number("gansu", 902),
    }


@pytest.fixture()
def wang(gansu_terminal, people):
    return gansu_terminal.login_card(people["wang"], "王五")["session_token"]


def error_code(r: httpx.Response) -> str:
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"])  # a Chinese message
    return body["error"]["code"]


def test_healthz(platform):
    r = httpx.get(platform.base_url + "/healthz")
    assert r.status_code == 200 and r.json()["database"] is True


def test_enrollment_token_is_one_time(platform):
    token = cli(
        "terminals", "add-token", "--db", platform.db, "--hall", "h1", "--region", "wuhai"
    ).stdout.strip()
    first = TerminalClient.enroll(platform.base_url, token)
    assert first.enrollment["region"] == "wuhai" and first.enrollment["hall_id"] == "h1"
    assert len(crypto.b64decode(first.enrollment["platform_public_key"])) == 32
    again = httpx.post(
        platform.base_url + "/v1/terminals/enroll",
        json={"enrollment_token": token, "public_key": crypto.b64encode(b"k" * 32), "hardware": {}},
    )
    assert again.status_code == 409 and error_code(again) == "enrollment_token_used"
    bad = httpx.post(
        platform.base_url + "/v1/terminals/enroll",
        json={
            "enrollment_token": "nope",
            "public_key": crypto.b64encode(b"k" * 32),
            "hardware": {},
        },
    )
    assert bad.status_code == 401 and error_code(bad) == "invalid_enrollment_token"
    short_key = httpx.post(
        platform.base_url + "/v1/terminals/enroll",
        json={"enrollment_token": token, "public_key": "AAAA", "hardware": {}},
    )
    assert short_key.status_code == 422 and error_code(short_key) == "invalid_public_key"


def test_catalog_is_the_terminals_region(platform, gansu_terminal):
    r = gansu_terminal.request("GET", "/v1/catalog")
    assert r.status_code == 200
    body = r.json()
    assert body["earliest_date"] == "2021-01-01" and len(body["domains"]) == 38
    assert body["report_title"] == "专用信用报告"
    tax = next(d for d in body["domains"] if d["name"] == "税务")
    assert "重大税收违法失信主体名单" in tax["lists"] and set(tax) == {
        "code",
        "name",
        "data_scope",
        "lists",
    }
    huzhou = enroll(platform, "huzhou").request("GET", "/v1/catalog").json()
    assert huzhou["earliest_date"] == "2020-05-01" and len(huzhou["domains"]) == 40


class TestSigning:
    def test_missing_signature(self, platform):
        r = httpx.get(platform.base_url + "/v1/catalog")
        assert r.status_code == 401 and error_code(r) == "signature_missing"

    def test_replayed_nonce(self, gansu_terminal):
        nonce = crypto.b64url_encode(secrets.token_bytes(16))
        assert gansu_terminal.request("GET", "/v1/catalog", nonce=nonce).status_code == 200
        r = gansu_terminal.request("GET", "/v1/catalog", nonce=nonce)
        assert r.status_code == 401 and error_code(r) == "replayed_nonce"

    @pytest.mark.parametrize("skew", [-301, 301, 3600])
    def test_stale_timestamp(self, gansu_terminal, skew):
        r = gansu_terminal.request("GET", "/v1/catalog", timestamp=int(time.time()) + skew)
        assert r.status_code == 401 and error_code(r) == "stale_timestamp"

    def test_forged_signature(self, platform, gansu_terminal):
        forger = TerminalClient(
            platform.base_url, gansu_terminal.terminal_id, Ed25519PrivateKey.generate(), {}
        )
        r = forger.request("GET", "/v1/catalog")
        assert r.status_code == 401 and error_code(r) == "bad_signature"

    def test_body_swapped_after_signing(self, gansu_terminal, people):
        signed = json.dumps(
            {"id_number": people["wang"], "name": "王五", "valid_until": None}
        ).encode()
        headers = gansu_terminal.signed_headers("POST", "/v1/sessions/id-card", signed)
        swapped = json.dumps(
            {"id_number": people["zhao"], "name": "赵六", "valid_until": None}
        ).encode()
        r = gansu_terminal.http.post(
            "/v1/sessions/id-card",
            content=swapped,
            headers=headers | {"Content-Type": "application/json"},
        )
        assert r.status_code == 401 and error_code(r) == "bad_signature"

    def test_query_string_is_signed(self, gansu_terminal):
        headers = gansu_terminal.signed_headers("GET", "/v1/catalog", b"")
        r = gansu_terminal.http.get("/v1/catalog?x=1", headers=headers)
        assert r.status_code == 401 and error_code(r) == "bad_signature"
        assert gansu_terminal.request("GET", "/v1/catalog?x=1").status_code == 200

    def test_unknown_terminal(self, platform):
        stranger = TerminalClient(platform.base_url, "TUNKNOWN", Ed25519PrivateKey.generate(), {})
        r = stranger.request("GET", "/v1/catalog")
        assert r.status_code == 401 and error_code(r) == "unknown_terminal"

    def test_short_nonce(self, gansu_terminal):
        r = gansu_terminal.request("GET", "/v1/catalog", nonce=crypto.b64url_encode(b"x" * 8))
        assert r.status_code == 401 and error_code(r) == "bad_nonce"


class TestIdCardSession:
    def test_lists_every_enterprise_of_the_region(self, gansu_terminal, people):
        s = gansu_terminal.login_card(people["wang"], "王五")
        assert {e["uscc"]: e["role"] for e in s["enterprises"]} == {
            people["a"]: "legal_representative",
            people["b"]: "agent",
        }
        assert s["person"]["name"] == "王*"
        assert people["wang"] not in json.dumps(s)

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            (
                {"id_number": "62010219800101901X", "name": "王五", "valid_until": None},
                422,
                "invalid_id_number",
            ),
            (
                {"id_number": id_number("gansu", 901), "name": "王五", "valid_until": "2020-01-01"},
                422,
                "id_card_expired",
            ),
            (
                {"id_number": id_number("gansu", 777), "name": "王五", "valid_until": None},
                404,
                "person_not_found",
            ),
            (  # a wrong name is answered as an unknown person: registration stays unknown
                {"id_number": id_number("gansu", 901), "name": "王六", "valid_until": None},
                404,
                "person_not_found",
            ),
            (
                {"id_number": id_number("gansu", 901), "name": "", "valid_until": None},
                422,
                "invalid_request",
            ),
        ],
    )
    def test_refusals(self, gansu_terminal, people, body, status, code):
        r = gansu_terminal.request("POST", "/v1/sessions/id-card", body)
        assert r.status_code == status and error_code(r) == code

    @pytest.mark.parametrize(
        ("expiry", "status"),
        [
            ("长期", 200),
            ("20991231", 200),
            ("2099-12-31", 200),
            ("20200101", 422),
            ("2099/12/31", 422),
        ],
    )
    def test_the_card_s_expiry_as_the_card_says_it(self, gansu_terminal, people, expiry, status):
        """有效期至 as printed (长期) or as the chip holds it (YYYYMMDD); an expired one refused."""
        body = {"id_number": people["wang"], "name": "王五", "valid_until": expiry}
        r = gansu_terminal.request("POST", "/v1/sessions/id-card", body)
        assert r.status_code == status, r.text
        if expiry == "20200101":
            assert error_code(r) == "id_card_expired"

    def test_a_card_without_an_expiry_said_logs_in(self, gansu_terminal, people):
        body = {"id_number": people["wang"], "name": "王五"}
        r = gansu_terminal.request("POST", "/v1/sessions/id-card", body)
        assert r.status_code == 200 and r.json()["person"]["name"] == "王*"

    def test_session_is_bound_to_its_terminal(self, platform, people, wang):
        other = enroll(platform, "gansu")
        r = other.report(wang, people["a"], "2024-01-01", "2024-12-31")
        assert r.status_code == 401 and error_code(r) == "session_invalid"


class TestLoginQr:
    def issue(self, platform, who, ttl=300) -> str:
        return cli(
            "issue-login-qr", "--db", platform.db, "--id-number", who, "--ttl", str(ttl)
        ).stdout.strip()

    def test_login_once(self, platform, gansu_terminal, people):
        payload = self.issue(platform, people["zhao"])
        claims = crypto.parse_login_qr(
            payload,
            crypto.load_public_key(gansu_terminal.enrollment["platform_public_key"]),
            int(time.time()),
        )  # the kiosk can check it offline with the key from enrollment
        assert claims["name"] == "赵*"
        r = gansu_terminal.request("POST", "/v1/sessions/qr", {"payload": payload})
        assert r.status_code == 200 and [e["uscc"] for e in r.json()["enterprises"]] == [
            people["b"]
        ]
        again = gansu_terminal.request("POST", "/v1/sessions/qr", {"payload": payload})
        assert again.status_code == 401 and error_code(again) == "login_qr_used"

    def test_tampered_and_expired(self, platform, gansu_terminal, people):
        payload = self.issue(platform, people["zhao"])
        body, _, sig = payload.rpartition(".")
        claims = json.loads(crypto.b64url_decode(body[5:]))
        claims["sub"] = "P" + "0" * 24
        forged = "KQR1." + crypto.b64url_encode(json.dumps(claims).encode()) + "." + sig
        r = gansu_terminal.request("POST", "/v1/sessions/qr", {"payload": forged})
        assert r.status_code == 401 and error_code(r) == "login_qr_invalid"
        expired = self.issue(platform, people["zhao"], ttl=1)
        time.sleep(2.1)
        r = gansu_terminal.request("POST", "/v1/sessions/qr", {"payload": expired})
        assert r.status_code == 401 and error_code(r) == "login_qr_expired"
        junk = gansu_terminal.request(
            "POST", "/v1/sessions/qr", {"payload": "https://example.com/x"}
        )
        assert junk.status_code == 401 and error_code(junk) == "login_qr_invalid"


class TestReports:
    def test_report_pdf_signature_and_idempotency(self, gansu_terminal, people, wang):
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

    def _signed_report(self, terminal, token, body, key, content_type="application/json"):
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
        self, gansu_terminal, people, wang, body, status, code
    ):
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

    def test_same_answer_through_the_framework(self, gansu_terminal, people, wang):
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

    def test_same_key_other_request_conflicts(self, gansu_terminal, people, wang):
        key = "ticket-" + secrets.token_hex(8)
        assert (
            gansu_terminal.report(
                wang, people["a"], "2023-01-01", "2024-12-31", key=key
            ).status_code
            == 201
        )
        r = gansu_terminal.report(wang, people["a"], "2022-01-01", "2024-12-31", key=key)
        assert r.status_code == 409 and error_code(r) == "idempotency_key_reused"

    def test_other_person_cannot_read_ticket_or_pdf(self, gansu_terminal, people, wang):
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
        self, platform, gansu_terminal, people, wang, uscc_key, start, end, domains, status, code
    ):
        code_of = {
            "bad": people["a"][:-1] + ("0" if people["a"][-1] != "0" else "1"),
            "unknown": uscc("gansu", 9999),
            "zhao_only": None,
            "outside": people["outside"],
        }
        target = code_of.get(uscc_key, people.get(uscc_key))
        token = wang
        if uscc_key == "zhao_only":
            target, token = (
                people["a"],
                gansu_terminal.login_card(people["zhao"], "赵六")["session_token"],
            )
        key = "refuse-" + secrets.token_hex(8)
        r = gansu_terminal.report(token, target, start, end, domains=domains, key=key)
        assert r.status_code == status and error_code(r) == code, r.text
        ticket = gansu_terminal.request("GET", f"/v1/reports/by-ticket/{key}", token=token)
        assert ticket.status_code == 404  # nothing was stored under the key

    def test_missing_session_and_key(self, gansu_terminal, people, wang):
        body = {
            "uscc": people["a"],
            "domains": "all",
            "period": {"from": "2023-01-01", "to": "2023-12-31"},
        }
        r = gansu_terminal.request("POST", "/v1/reports", body, idempotency_key="k" * 10)
        assert r.status_code == 401 and error_code(r) == "session_required"
        r = gansu_terminal.request("POST", "/v1/reports", body, token=wang)
        assert r.status_code == 422 and error_code(r) == "invalid_idempotency_key"

    def test_malformed_and_oversized_json(self, gansu_terminal, wang):
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
    def test_verify_valid_revoked_unknown(self, platform, gansu_terminal, people, wang):
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

    def test_objection_due_in_five_working_days(self, platform, gansu_terminal, people, wang):
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


def test_cli_import_refuses_bad_file_whole(platform, tmp_path):
    good = {
        "type": "entity",
        "uscc": uscc("wuhai", 5555),
        "name": "乌海导入测试有限公司",
        "kind": "company",
        "region": "wuhai",
    }
    bad = dict(good, uscc=uscc("wuhai", 5556)[:-1] + "I")
    path = tmp_path / "bad.jsonl"
    path.write_text(
        "\n".join(
            [json.dumps(good, ensure_ascii=False), json.dumps(bad, ensure_ascii=False), "{not json"]
        )
        + "\n",
        encoding="utf-8",
    )
    result = cli("import", "--db", platform.db, str(path), check=False)
    assert result.returncode == 2
    assert "line 2:" in result.stderr and "uscc" in result.stderr and "line 3:" in result.stderr
    with sqlite3.connect(platform.db) as conn:
        count = conn.execute(
            "select count(*) from entities where uscc = ?", (good["uscc"],)
        ).fetchone()[0]
    assert count == 0
