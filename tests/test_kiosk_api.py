"""The kiosk's report-API client against a real `report-service serve` process, and its failure rules."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.api import ApiSettings, ReportApi
from kiosk.api_models import Login, ReportMeta, Verification
from kiosk.errors import ApiError, IntegrityFailure, PlatformUnavailable, ProtocolViolation
from kiosk.signing import TerminalCredentials, load_platform_key, public_key_b64
from report_service.profiles import load_profile

from .casebook import company_and_person, id_number, penalty, uscc
from .conftest import import_jsonl
from .platform_client import ServiceProcess, cli

COMPANY = uscc("gansu", 8801)
PERSON = id_number("gansu", 881)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def kiosk_api(platform: ServiceProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    domain = load_profile("gansu").domains[0]
    lines = company_and_person(
        "gansu", COMPANY, "接口测试科技有限公司", PERSON, "接口测试人", "agent"
    )
    lines.append(
        json.dumps(penalty("KAPI-001", COMPANY, domain.code, "2024-05-06"), ensure_ascii=False)
    )
    import_jsonl(platform, tmp_path_factory.mktemp("kapi") / "people.jsonl", lines)
    token = cli(
        "terminals", "add-token", "--db", platform.db, "--hall", "hall-k", "--region", "gansu"
    )
    key = Ed25519PrivateKey.generate()

    async def enroll() -> Any:
        api = ReportApi(ApiSettings(platform.base_url))
        try:
            return await api.enroll(token.stdout.strip(), public_key_b64(key), {"model": "test"})
        finally:
            await api.aclose()

    enrollment = run(enroll())
    return {
        "settings": ApiSettings(platform.base_url, retries=1, backoff_s=0.01),
        "credentials": TerminalCredentials(enrollment.terminal_id, key),
        "enrollment": enrollment,
    }


def call(
    settings: ApiSettings,
    credentials: TerminalCredentials,
    body: Callable[[ReportApi], Any],
    transport: httpx.AsyncBaseTransport | None = None,
) -> Any:
    async def go() -> Any:
        api = ReportApi(settings, credentials, transport=transport)
        try:
            return await body(api)
        finally:
            await api.aclose()

    return run(go())


def with_api(ctx: dict[str, Any], body: Callable[[ReportApi], Any], **kw: Any) -> Any:
    return call(ctx["settings"], ctx["credentials"], body, **kw)


def test_enrollment_gives_the_region_and_the_platform_key(kiosk_api: dict[str, Any]) -> None:
    enrollment = kiosk_api["enrollment"]
    assert enrollment.region == "gansu" and enrollment.hall_id == "hall-k"
    load_platform_key(enrollment.platform_public_key)  # a usable Ed25519 key


def test_catalog_login_report_and_verified_pdf(kiosk_api: dict[str, Any]) -> None:
    platform_key = load_platform_key(kiosk_api["enrollment"].platform_public_key)

    async def body(api: ReportApi) -> Any:
        catalog = await api.catalog()
        login = await api.login_id_card(PERSON, "接口测试人", dt.date(2035, 1, 1))
        today = dt.date.today()
        meta = await api.create_report(
            login.session_token, COMPANY, None, dt.date(2023, 1, 1), today, "kapi-key-000000001"
        )
        again = await api.create_report(
            login.session_token, COMPANY, None, dt.date(2023, 1, 1), today, "kapi-key-000000001"
        )
        pdf = await api.report_pdf(login.session_token, meta, platform_key)
        verification = await api.verify(meta.verification_code)
        objection = await api.file_objection(
            login.session_token, meta.report_id, "KAPI-001", "记录内容有误", "13912345678"
        )
        return catalog, login, meta, again, pdf, verification, objection, today

    catalog, login, meta, again, pdf, verification, objection, today = with_api(kiosk_api, body)
    assert len(catalog.domains) == 38 and catalog.earliest_date == dt.date(2021, 1, 1)
    assert login.person_name_masked.startswith("接") and login.person_name_masked != "接口测试人"
    assert [e.uscc for e in login.enterprises] == [COMPANY]
    assert again.report_id == meta.report_id  # the idempotency key
    assert meta.total_records == 1
    flagged = [d for d in meta.domains if not d.clean]
    assert [r.record_id for d in flagged for r in d.records] == ["KAPI-001"]
    assert pdf.data.startswith(b"%PDF-") and pdf.sha256 == meta.sha256
    assert verification.status == "valid" and verification.uscc == COMPANY
    assert verification.period == {"start": "2023-01-01", "end": today.isoformat()}
    assert objection.due_by > dt.date.today()


async def report_since_2024(api: ReportApi, key: str) -> tuple[Login, ReportMeta]:
    """The test person's card session and a report on the test company since 2024."""
    login = await api.login_id_card(PERSON, "接口测试人", None)
    meta = await api.create_report(
        login.session_token, COMPANY, None, dt.date(2024, 1, 1), dt.date.today(), key
    )
    return login, meta


def test_a_tampered_pdf_is_refused(kiosk_api: dict[str, Any], platform: ServiceProcess) -> None:
    platform_key = load_platform_key(kiosk_api["enrollment"].platform_public_key)
    real = httpx.AsyncHTTPTransport()

    class Tamper(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await real.handle_async_request(request)
            if not request.url.path.endswith("/pdf"):
                return response
            data = bytearray(await response.aread())
            data[len(data) // 2] ^= 0x01
            return httpx.Response(200, headers=response.headers, content=bytes(data))

    async def body(api: ReportApi) -> Any:
        login, meta = await report_since_2024(api, "kapi-key-tamper01")
        await api.report_pdf(login.session_token, meta, platform_key)

    with pytest.raises(IntegrityFailure):
        with_api(kiosk_api, body, transport=Tamper())


def test_platform_refusals_carry_their_code_and_screen_message(kiosk_api: dict[str, Any]) -> None:
    async def body(api: ReportApi) -> Any:
        await api.login_id_card(id_number("gansu", 882), "无此人", None)

    with pytest.raises(ApiError) as info:
        with_api(kiosk_api, body)
    assert info.value.status == 404 and info.value.code == "person_not_found"
    assert info.value.message_id == "error.person_not_found"


def test_a_second_objection_to_a_record_gets_its_own_message(kiosk_api: dict[str, Any]) -> None:
    """The platform refuses a second objection while the first is open; the person is told so,
    not "请求被拒绝"."""

    async def body(api: ReportApi) -> Any:
        login, meta = await report_since_2024(api, "kapi-obj-twice1")
        for _ in range(2):
            await api.file_objection(
                login.session_token, meta.report_id, "KAPI-001", "已完成信用修复", "13912345678"
            )

    with pytest.raises(ApiError) as info:
        with_api(kiosk_api, body)
    assert info.value.status == 409 and info.value.code == "objection_exists"
    assert info.value.message_id == "error.objection_exists"


def test_an_unenrolled_key_is_refused(kiosk_api: dict[str, Any]) -> None:
    async def body(api: ReportApi) -> Any:
        await api.catalog()

    stranger = TerminalCredentials(
        kiosk_api["credentials"].terminal_id, Ed25519PrivateKey.generate()
    )
    with pytest.raises(ApiError) as info:
        call(kiosk_api["settings"], stranger, body)
    assert info.value.code == "bad_signature" and info.value.message_id == "error.out_of_service"


def counting_transport(status: int | None) -> tuple[httpx.MockTransport, list[str]]:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers.get("X-Nonce", "-"))
        if status is None:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(status, json={"error": {"code": "x", "message": "y"}})

    return httpx.MockTransport(handler), calls


@pytest.mark.parametrize("status", [None, 503])
def test_idempotent_calls_are_retried_with_fresh_nonces_then_reported_unavailable(
    status: int | None,
) -> None:
    transport, calls = counting_transport(status)
    settings = ApiSettings("http://127.0.0.1:9", retries=2, backoff_s=0.001)
    credentials = TerminalCredentials("T1", Ed25519PrivateKey.generate())

    with pytest.raises(PlatformUnavailable):
        call(settings, credentials, lambda api: api.catalog(), transport)
    assert len(calls) == 3 and len(set(calls)) == 3


@pytest.mark.parametrize(
    ("login", "status", "expected_calls"),
    [
        ("qr", None, 3),  # never reached the platform: the single-use QR is not spent
        ("qr", 503, 1),  # the platform saw it: the QR may be spent, no repeat
        ("card", None, 3),
        ("card", 503, 3),  # another card login only opens another session
    ],
)
def test_logins_are_retried_only_when_a_repeat_is_harmless(
    login: str, status: int | None, expected_calls: int
) -> None:
    transport, calls = counting_transport(status)
    settings = ApiSettings("http://127.0.0.1:9", retries=2, backoff_s=0.001)
    credentials = TerminalCredentials("T1", Ed25519PrivateKey.generate())

    def attempt(api: ReportApi) -> Any:
        if login == "qr":
            return api.login_qr("KQR1.a.b")
        return api.login_id_card("11010519491231002X", "张三", None)

    with pytest.raises(PlatformUnavailable):
        call(settings, credentials, attempt, transport)
    assert len(calls) == expected_calls


def test_a_malformed_answer_is_a_protocol_violation() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"domains": "nope"}))
    credentials = TerminalCredentials("T1", Ed25519PrivateKey.generate())
    with pytest.raises(ProtocolViolation):
        call(ApiSettings("http://127.0.0.1:9"), credentials, lambda api: api.catalog(), transport)


def test_each_request_is_signed_over_the_path_on_the_wire_and_public_calls_are_not() -> None:
    import base64

    from kiosk.signing import signing_string

    key = Ed25519PrivateKey.generate()
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/v1/catalog"):
            return httpx.Response(503)
        return httpx.Response(200, json={"status": "unknown"})

    settings = ApiSettings("http://platform.test/credit", retries=1, backoff_s=0.001)
    with pytest.raises(PlatformUnavailable):
        call(settings, TerminalCredentials("T1", key), lambda api: api.catalog(),
             httpx.MockTransport(answer))  # fmt: skip
    first, retry = seen
    for request in (first, retry):
        message = signing_string(
            "GET",
            "/credit/v1/catalog",  # the base URL's path is part of what is signed
            request.headers["X-Timestamp"],
            request.headers["X-Nonce"],
            b"",
        )
        signature = base64.b64decode(request.headers["X-Signature"])
        key.public_key().verify(signature, message)  # raises when it does not hold
        assert request.headers["X-Terminal-Id"] == "T1"
    assert first.headers["X-Nonce"] != retry.headers["X-Nonce"]  # a retry is signed afresh
    with contextlib.suppress(ProtocolViolation):  # the answer is not the contract: no matter
        call(settings, TerminalCredentials("T1", key), lambda api: api.verify("ABCDEFGHJK12"),
             httpx.MockTransport(answer))  # fmt: skip
    assert "X-Signature" not in seen[-1].headers  # verification is public


def test_sections_apart_or_among_the_domains_read_the_same() -> None:
    """The platform sends Heihe's arrears sections apart (`summary.sections`); a platform of before
    sent them among the domains, marked `section`. The kiosk shows both the same way."""
    transport = {"code": "transport", "name": "交通运输", "conclusion": "clean", "records": []}
    arrears = {
        "code": "social_insurance_arrears",
        "name": "企业参保欠缴",
        "conclusion": "records",
        "records": [
            {
                "record_id": "HH-SI-1",
                "kind": "social_insurance_arrears",
                "date": "2024-04-01",
                "agency": "黑河市社会保险事业中心",
                "document_no": "黑社保〔2024〕1号",
                "title": "欠缴社会保险费",
                "repaired_on": None,
            }
        ],
    }
    base = {
        "report_id": "R1",
        "verification_code": "ABCD2345EFGH",
        "issued_at": "2026-12-06T10:00:00+08:00",
        "valid_until": "2027-01-05",
        "sha256": "0" * 64,
        "signature": "c2ln",
    }
    apart = ReportMeta.from_json(
        base | {"summary": {"domains": [transport], "sections": [arrears], "total_records": 1}}
    )
    among = ReportMeta.from_json(
        base
        | {
            "summary": {
                "domains": [transport | {"section": False}, arrears | {"section": True}],
                "total_records": 1,
            }
        }
    )
    assert apart == among
    assert [(d.code, d.section, d.clean) for d in apart.domains] == [
        ("transport", False, True),
        ("social_insurance_arrears", True, False),
    ]
    verified = Verification.from_json(
        {
            "status": "valid",
            "domains": [{"code": "transport", "name": "交通运输"}],
            "sections": [{"code": "social_insurance_arrears", "name": "企业参保欠缴"}],
        }
    )
    assert verified.domains == ("交通运输", "企业参保欠缴")
