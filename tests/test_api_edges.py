"""Inputs at the edges of DESIGN §3, against a real `report-service serve`: every one gets a
stable code and a Chinese message, nothing a 500, and what DESIGN allows is accepted."""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .casebook import id_number, uscc
from .conftest import import_jsonl
from .platform_client import ServiceProcess, TerminalClient

PERIOD = {"from": "2023-01-01", "to": "2024-12-31"}


@pytest.fixture(scope="module")
def holder(
    platform: ServiceProcess,
    gansu_terminal: TerminalClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, str]:
    """A fresh person with a role for one fresh enterprise, and their session token."""
    company = uscc("gansu", 9301)
    person = id_number("gansu", 931)
    lines = [
        {"type": "entity", "uscc": company, "name": "边界测试有限公司", "kind": "company",
         "region": "gansu"},
        {"type": "person", "id_number": person, "name": "钱七",
         "roles": [{"uscc": company, "role": "legal_representative"}]},
    ]  # fmt: skip
    rows = [json.dumps(x, ensure_ascii=False) for x in lines]
    import_jsonl(platform, tmp_path_factory.mktemp("edges") / "edges.jsonl", rows)
    token = gansu_terminal.login_card(person, "钱七")["session_token"]
    return company, token


def error(r: httpx.Response) -> tuple[int, str, str]:
    body = r.json()["error"]
    return r.status_code, body["code"], body["message"]


def chinese_only(message: str) -> bool:
    """No English prose: Latin letters only inside field names, codes or formats."""
    prose = re.sub(r"[A-Za-z_.\-]+(?=[（：）,，])|YYYY-MM-DD|JSON|Idempotency-Key", "", message)
    return not re.search(r"[A-Za-z]{3,}", prose)


def signed_post(
    terminal: TerminalClient, path: str, raw: bytes, token: str, **extra: str | bytes
) -> httpx.Response:
    headers: dict[str, str | bytes] = {
        **terminal.signed_headers("POST", path, raw),
        "Content-Type": "application/json",
        "Authorization": f"Bearer {token}",
        **extra,
    }
    return terminal.http.post(path, content=raw, headers=as_bytes(headers))


def as_bytes(headers: dict[str, str | bytes]) -> dict[bytes, bytes]:
    """Headers as sent on the wire: a value given as bytes (not Latin-1 text) goes as it is."""
    return {
        k.encode("latin-1"): v if isinstance(v, bytes) else v.encode("latin-1")
        for k, v in headers.items()
    }


def test_non_ascii_digits_in_the_timestamp_are_refused_as_a_bad_timestamp(
    gansu_terminal: TerminalClient,
) -> None:
    headers: dict[str, str | bytes] = {**gansu_terminal.signed_headers("GET", "/v1/catalog", b"")}
    headers["X-Timestamp"] = "²" * 3
    r = gansu_terminal.http.get("/v1/catalog", headers=as_bytes(headers))
    assert error(r)[:2] == (401, "bad_timestamp")


@pytest.mark.parametrize("path", ["/v1/reports", "/v1/objections", "/v1/sessions/id-card"])
def test_deeply_nested_json_is_malformed_json(
    gansu_terminal: TerminalClient, holder: tuple[str, str], path: str
) -> None:
    raw = b"[" * 20_000 + b"]" * 20_000
    r = signed_post(gansu_terminal, path, raw, holder[1], **{"Idempotency-Key": "nested-1"})
    status, code, message = error(r)
    assert (status, code) == (400, "malformed_json") and chinese_only(message)


def test_invalid_utf8_is_malformed_json(
    gansu_terminal: TerminalClient, holder: tuple[str, str]
) -> None:
    raw = b'{"uscc": "\xff\xfe"}'
    r = signed_post(gansu_terminal, "/v1/reports", raw, holder[1], **{"Idempotency-Key": "utf-1"})
    assert error(r)[:2] == (400, "malformed_json")


def test_an_oversized_chunked_body_is_payload_too_large(
    gansu_terminal: TerminalClient, holder: tuple[str, str]
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 10_000

    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {holder[1]}"}
    r = gansu_terminal.http.post("/v1/reports", content=chunks(), headers=headers)
    assert error(r)[:2] == (413, "payload_too_large")


@pytest.mark.parametrize(
    ("period", "field"),
    [
        ({"to": "2024-12-31"}, "period.from"),
        ({"from": 0, "to": "2024-12-31"}, "period.from"),
        ({"from": "2023-01-01T00:00:00", "to": "2024-12-31"}, "period.from"),
        ({"from": "2023-01-01", "to": "2024-12-31", "x": 1}, "period.x"),
    ],
)
def test_field_errors_name_the_field_in_chinese(
    gansu_terminal: TerminalClient, holder: tuple[str, str], period: dict[str, Any], field: str
) -> None:
    body = {"uscc": holder[0], "domains": "all", "period": period}
    r = gansu_terminal.request(
        "POST",
        "/v1/reports",
        body,
        token=holder[1],
        idempotency_key="field-" + secrets.token_hex(4),
    )
    status, code, message = error(r)
    assert (status, code) == (422, "invalid_request")
    assert message.startswith(f"请求字段不正确：{field}（") and chinese_only(message), message


def test_padded_and_long_nonces_are_base64url_too(gansu_terminal: TerminalClient) -> None:
    padded = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode()  # ends in "=="
    assert padded.endswith("==")
    assert gansu_terminal.request("GET", "/v1/catalog", nonce=padded).status_code == 200
    long = base64.urlsafe_b64encode(secrets.token_bytes(90)).decode()
    assert gansu_terminal.request("GET", "/v1/catalog", nonce=long).status_code == 200
    too_long = base64.urlsafe_b64encode(secrets.token_bytes(120)).decode()
    r = gansu_terminal.request("GET", "/v1/catalog", nonce=too_long)
    assert error(r)[:2] == (401, "bad_nonce")
    r = gansu_terminal.request("GET", "/v1/catalog", nonce=padded[:-2] + "===")
    assert error(r)[:2] == (401, "bad_nonce")


@pytest.mark.parametrize("key", ["k1", "uuid:{}", "a.b.{}", "x" * 122 + "{}"])
def test_any_visible_ascii_idempotency_key_is_accepted(
    gansu_terminal: TerminalClient, holder: tuple[str, str], key: str
) -> None:
    key = key.format(secrets.token_hex(3))  # "k1" stays two characters
    first = gansu_terminal.report(holder[1], holder[0], PERIOD["from"], PERIOD["to"], key=key)
    again = gansu_terminal.report(holder[1], holder[0], PERIOD["from"], PERIOD["to"], key=key)
    assert first.status_code == 201, first.text
    assert again.json()["report_id"] == first.json()["report_id"]


@pytest.mark.parametrize("key", ["x" * 129, "has space", "中文编号"])
def test_other_idempotency_keys_are_refused(
    gansu_terminal: TerminalClient, holder: tuple[str, str], key: str
) -> None:
    body = {"uscc": holder[0], "domains": "all", "period": PERIOD}
    raw = json.dumps(body).encode()
    r = signed_post(
        gansu_terminal, "/v1/reports", raw, holder[1], **{"Idempotency-Key": key.encode("utf-8")}
    )
    assert error(r)[:2] == (422, "invalid_idempotency_key")


def test_the_bearer_scheme_is_case_insensitive(
    gansu_terminal: TerminalClient, holder: tuple[str, str]
) -> None:
    raw = json.dumps({"uscc": holder[0], "domains": "all", "period": PERIOD}).encode()
    headers = gansu_terminal.signed_headers("POST", "/v1/reports", raw)
    headers |= {
        "Content-Type": "application/json",
        "Authorization": f"bearer {holder[1]}",
        "Idempotency-Key": "lower-" + secrets.token_hex(4),
    }
    r = gansu_terminal.http.post("/v1/reports", content=raw, headers=headers)
    assert r.status_code == 201, r.text


def test_repeated_domains_are_the_same_request(
    gansu_terminal: TerminalClient, holder: tuple[str, str]
) -> None:
    key = "dup-" + secrets.token_hex(4)
    args = (holder[1], holder[0], PERIOD["from"], PERIOD["to"])
    first = gansu_terminal.report(
        *args, domains=["market_regulation", "market_regulation"], key=key
    )
    again = gansu_terminal.report(*args, domains=["market_regulation"], key=key)
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.json()["report_id"] == first.json()["report_id"]


@pytest.mark.parametrize(
    "label", [None, "text/plain", "application/x-www-form-urlencoded", "application/json"]
)
def test_a_signed_body_is_read_as_json_whatever_its_label(
    gansu_terminal: TerminalClient, holder: tuple[str, str], label: str | None
) -> None:
    """DESIGN §3: the API is JSON. Raw signed bytes (httpx `content=`, `curl -d`) carry no label
    or a form's; the body is the same report request either way."""
    body = {"uscc": holder[0], "domains": "all", "period": PERIOD}
    raw = json.dumps(body).encode()
    path = "/v1/reports"
    headers = gansu_terminal.signed_headers("POST", path, raw)
    headers |= {"Authorization": f"Bearer {holder[1]}", "Idempotency-Key": f"label-{label}"}
    if label:
        headers["Content-Type"] = label
    r = gansu_terminal.http.post(path, content=raw, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["summary"]["total_records"] == 0
    not_json = b"uscc=1&domains=all"
    headers = gansu_terminal.signed_headers("POST", path, not_json)
    headers |= {"Authorization": f"Bearer {holder[1]}", "Idempotency-Key": f"form-{label}"}
    if label:
        headers["Content-Type"] = label
    r = gansu_terminal.http.post(path, content=not_json, headers=headers)
    assert error(r)[:2] == (400, "malformed_json")
