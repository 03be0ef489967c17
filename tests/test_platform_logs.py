"""Seeing attacks (issue 14): an access log without personal data or secrets, a line for every
refused authentication, rate limits on identity checks (per terminal) and verification look-ups
(per client address), and one answer for an unknown person and a wrong name."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from report_service.hall.metrics import Latency, MeasureLatency
from report_service.http_guard import RequestGuard, RouteNames

from .casebook import company_and_person, id_number, uscc
from .conftest import enroll, import_jsonl
from .platform_client import ServiceProcess, TerminalClient, cli, start_service

COMPANY = uscc("gansu", 8101)
PERSON = id_number("gansu", 811)
NAME = "日志测试人"
UNKNOWN = id_number("gansu", 812)
CATALOG = RouteNames([Route("/v1/catalog", PlainTextResponse)])  # the route the bug is met on


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    workdir = tmp_path_factory.mktemp("watched")
    db = str(workdir / "w.db")
    cli("seed", "--db", db, "--region", "gansu", "--entities", "10", "--seed", "4")
    service = start_service(db, workdir, extra=("--verify-rate", "5", "--auth-failure-limit", "5"))
    import_jsonl(
        service,
        workdir / "p.jsonl",
        company_and_person("gansu", COMPANY, "日志测试有限公司", PERSON, NAME, "agent"),
    )
    try:
        yield service
    finally:
        service.stop()


def card(terminal: TerminalClient, id_no: str, name: str) -> httpx.Response:
    body = {"id_number": id_no, "name": name, "valid_until": None}
    return terminal.request("POST", "/v1/sessions/id-card", body)


def settle(service: ServiceProcess) -> str:
    time.sleep(0.3)  # the last access line is written as its response leaves
    return service.log_text()


def test_an_unknown_person_and_a_wrong_name_get_the_same_answer(watched: ServiceProcess) -> None:
    terminal = enroll(watched, "gansu")
    unknown = card(terminal, UNKNOWN, NAME)
    wrong = card(terminal, PERSON, "别的名字")
    assert unknown.status_code == wrong.status_code == 404
    assert unknown.json() == wrong.json()
    assert unknown.json()["error"]["code"] == "person_not_found"


def test_identity_checks_of_a_terminal_are_limited_after_refusals(
    watched: ServiceProcess,
) -> None:
    guesser, other = enroll(watched, "gansu"), enroll(watched, "gansu")
    for i in range(5):
        assert card(guesser, PERSON, f"猜{i}").status_code == 404
    limited = card(guesser, PERSON, NAME)  # even the right name, from this terminal, now
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "too_many_attempts"
    assert 0 < int(limited.headers["Retry-After"]) <= 600
    assert card(other, PERSON, NAME).status_code == 200  # other terminals are not affected
    log = settle(watched)
    refusals = [
        line for line in log.splitlines()
        if "authentication refused" in line and f"terminal={guesser.terminal_id}" in line
    ]  # fmt: skip
    assert sum("code=person_not_found" in line for line in refusals) >= 5
    assert any("429" in line and "too_many_attempts" in line for line in refusals)


def test_verification_look_ups_are_limited_per_client_address(watched: ServiceProcess) -> None:
    url = f"{watched.base_url}/v1/verify/{'Z' * 12}"
    answers = [httpx.get(url) for _ in range(7)]
    assert [a.status_code for a in answers[:5]] == [200] * 5
    last = answers[-1]
    assert last.status_code == 429 and int(last.headers["Retry-After"]) >= 1
    assert last.json()["error"]["code"] == "too_many_requests"


def test_the_access_log_has_each_request_without_personal_data_or_secrets(
    watched: ServiceProcess,
) -> None:
    terminal = enroll(watched, "gansu")
    token = card(terminal, PERSON, NAME).json()["session_token"]
    ticket = "log-ticket-" + secrets.token_hex(6)
    issued = terminal.report(token, COMPANY, "2023-01-01", "2024-12-31", key=ticket).json()
    terminal.request("GET", f"/v1/reports/by-ticket/{ticket}", token=token)
    assert terminal.request("GET", f"/v1/reports/{issued['report_id']}/pdf", token=token).is_success
    forger = TerminalClient(
        watched.base_url, terminal.terminal_id, Ed25519PrivateKey.generate(), {}
    )
    assert forger.request("GET", "/v1/catalog").status_code == 401
    httpx.get(f"{watched.base_url}/v1/lookup/{PERSON}?name={NAME}")  # junk with personal data
    httpx.get(f"{watched.base_url}/halls/logout")  # logout is a POST: a hall's page serves this
    log = settle(watched)
    t = terminal.terminal_id
    assert re.search(rf"POST /v1/reports 201 [0-9.]+ms terminal={t} code=-", log)
    assert re.search(rf"GET /v1/reports/by-ticket/\{{ticket\}} 200 [0-9.]+ms terminal={t}", log)
    assert re.search(
        rf"authentication refused: GET /v1/catalog 401 code=bad_signature terminal={t}", log
    )
    assert re.search(rf"GET /v1/reports/\{{report_id\}}/pdf 200 [0-9.]+ms terminal={t}", log)
    assert re.search(r"GET \(other\) 404 [0-9.]+ms terminal=- code=not_found", log)
    assert re.search(r"GET /halls/\{hall_id\} 303 ", log)  # named by the route that served it
    for secret in (PERSON, NAME, ticket, issued["verification_code"], token):
        assert secret not in log, secret
    # one latency series a route, not one a report or a ticket: a province's fetches would
    # otherwise grow /metrics and the process without bound
    metrics = httpx.get(f"{watched.base_url}/metrics", timeout=10).text
    assert 'route="/v1/reports/{report_id}/pdf"' in metrics
    assert 'route="/v1/reports/by-ticket/{ticket}"' in metrics
    assert issued["report_id"] not in metrics and ticket not in metrics


def test_a_bug_answered_by_the_servers_last_resort_is_logged_with_its_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Starlette's outermost layer answers an exception no handler took, after the access log's
    layer: the line still says 500 and internal_error, not status 0."""

    with caplog.at_level(logging.INFO, logger="report_service.access"):
        answer = get_through_a_bug(lambda app: RequestGuard(app, route_names=CATALOG))
    assert answer.status_code == 500
    assert re.search(r"GET /v1/catalog 500 [0-9.]+ms terminal=- code=internal_error", caplog.text)


def test_a_bug_answered_by_the_servers_last_resort_is_in_the_latency_metrics() -> None:
    """Monitoring that counts requests must count the ones a bug answered 500, not only those
    whose response the app began itself."""
    latency = Latency()
    answer = get_through_a_bug(lambda app: MeasureLatency(app, latency, CATALOG))
    assert answer.status_code == 500
    text = "\n".join(latency.lines())
    assert re.search(r'request_seconds_count\{method="GET",route="/v1/catalog",pid="\d+"\} 1$',
                     text, re.MULTILINE), text  # fmt: skip
    for invented in ("BREW", "XYZZY"):  # a series for each method a client invents: no
        get_through_a_bug(lambda app: MeasureLatency(app, latency, CATALOG), invented)
    text = "\n".join(latency.lines())
    assert "BREW" not in text and "XYZZY" not in text
    assert re.search(r'count\{method="OTHER",route="/v1/catalog",pid="\d+"\} 2$', text, re.M)


def get_through_a_bug(layer: Callable[[ASGIApp], ASGIApp], method: str = "GET") -> httpx.Response:
    """/v1/catalog from an app that raises, wrapped in `layer` and Starlette's outermost one."""

    async def bug(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("a bug")

    app = ServerErrorMiddleware(layer(bug))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://platform") as client:
            return await client.request(method, "/v1/catalog")

    return asyncio.run(get())
