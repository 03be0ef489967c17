"""The report API against a real `report-service serve` process: enrollment, signed requests,
catalog, sessions, and the import's refusals. Reports, verification and objections:
`test_api_reports.py`."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from report_service import crypto

from .api_people import api_people, error_code, text_of
from .casebook import id_number, uscc
from .conftest import enroll
from .platform_client import ServiceProcess, TerminalClient, cli

# two companies; 王五 represents both, 赵六 only the second; one outside the region
people = pytest.fixture(scope="module", name="people")(api_people)


@pytest.fixture()
def wang(gansu_terminal: TerminalClient, people: dict[str, str]) -> str:
    return text_of(gansu_terminal.login_card(people["wang"], "王五"), "session_token")


def test_healthz(platform: ServiceProcess) -> None:
    r = httpx.get(platform.base_url + "/healthz")
    assert r.status_code == 200 and r.json()["database"] is True


def test_enrollment_token_is_one_time(platform: ServiceProcess) -> None:
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


def test_catalog_is_the_terminals_region(
    platform: ServiceProcess, gansu_terminal: TerminalClient
) -> None:
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
    def test_missing_signature(self, platform: ServiceProcess) -> None:
        r = httpx.get(platform.base_url + "/v1/catalog")
        assert r.status_code == 401 and error_code(r) == "signature_missing"

    def test_replayed_nonce(self, gansu_terminal: TerminalClient) -> None:
        nonce = crypto.b64url_encode(secrets.token_bytes(16))
        assert gansu_terminal.request("GET", "/v1/catalog", nonce=nonce).status_code == 200
        r = gansu_terminal.request("GET", "/v1/catalog", nonce=nonce)
        assert r.status_code == 401 and error_code(r) == "replayed_nonce"

    @pytest.mark.parametrize("skew", [-301, 301, 3600])
    def test_stale_timestamp(self, gansu_terminal: TerminalClient, skew: int) -> None:
        r = gansu_terminal.request("GET", "/v1/catalog", timestamp=int(time.time()) + skew)
        assert r.status_code == 401 and error_code(r) == "stale_timestamp"

    def test_forged_signature(
        self, platform: ServiceProcess, gansu_terminal: TerminalClient
    ) -> None:
        forger = TerminalClient(
            platform.base_url, gansu_terminal.terminal_id, Ed25519PrivateKey.generate(), {}
        )
        r = forger.request("GET", "/v1/catalog")
        assert r.status_code == 401 and error_code(r) == "bad_signature"

    def test_body_swapped_after_signing(
        self, gansu_terminal: TerminalClient, people: dict[str, str]
    ) -> None:
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

    def test_query_string_is_signed(self, gansu_terminal: TerminalClient) -> None:
        headers = gansu_terminal.signed_headers("GET", "/v1/catalog", b"")
        r = gansu_terminal.http.get("/v1/catalog?x=1", headers=headers)
        assert r.status_code == 401 and error_code(r) == "bad_signature"
        assert gansu_terminal.request("GET", "/v1/catalog?x=1").status_code == 200

    def test_unknown_terminal(self, platform: ServiceProcess) -> None:
        stranger = TerminalClient(platform.base_url, "TUNKNOWN", Ed25519PrivateKey.generate(), {})
        r = stranger.request("GET", "/v1/catalog")
        assert r.status_code == 401 and error_code(r) == "unknown_terminal"

    def test_short_nonce(self, gansu_terminal: TerminalClient) -> None:
        r = gansu_terminal.request("GET", "/v1/catalog", nonce=crypto.b64url_encode(b"x" * 8))
        assert r.status_code == 401 and error_code(r) == "bad_nonce"


class TestIdCardSession:
    def test_lists_every_enterprise_of_the_region(
        self, gansu_terminal: TerminalClient, people: dict[str, str]
    ) -> None:
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
    def test_refusals(
        self,
        gansu_terminal: TerminalClient,
        people: dict[str, str],
        body: dict[str, Any],
        status: int,
        code: str,
    ) -> None:
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
    def test_the_card_s_expiry_as_the_card_says_it(
        self, gansu_terminal: TerminalClient, people: dict[str, str], expiry: str, status: int
    ) -> None:
        """有效期至 as printed (长期) or as the chip holds it (YYYYMMDD); an expired one refused."""
        body = {"id_number": people["wang"], "name": "王五", "valid_until": expiry}
        r = gansu_terminal.request("POST", "/v1/sessions/id-card", body)
        assert r.status_code == status, r.text
        if expiry == "20200101":
            assert error_code(r) == "id_card_expired"

    def test_a_card_without_an_expiry_said_logs_in(
        self, gansu_terminal: TerminalClient, people: dict[str, str]
    ) -> None:
        body = {"id_number": people["wang"], "name": "王五"}
        r = gansu_terminal.request("POST", "/v1/sessions/id-card", body)
        assert r.status_code == 200 and r.json()["person"]["name"] == "王*"

    def test_session_is_bound_to_its_terminal(
        self, platform: ServiceProcess, people: dict[str, str], wang: str
    ) -> None:
        other = enroll(platform, "gansu")
        r = other.report(wang, people["a"], "2024-01-01", "2024-12-31")
        assert r.status_code == 401 and error_code(r) == "session_invalid"


class TestLoginQr:
    def issue(self, platform: ServiceProcess, who: str, ttl: int = 300) -> str:
        return cli(
            "issue-login-qr", "--db", platform.db, "--id-number", who, "--ttl", str(ttl)
        ).stdout.strip()

    def test_login_once(
        self, platform: ServiceProcess, gansu_terminal: TerminalClient, people: dict[str, str]
    ) -> None:
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

    def test_tampered_and_expired(
        self, platform: ServiceProcess, gansu_terminal: TerminalClient, people: dict[str, str]
    ) -> None:
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


def test_cli_import_refuses_bad_file_whole(platform: ServiceProcess, tmp_path: Path) -> None:
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
