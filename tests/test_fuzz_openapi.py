"""Property-based run of the published OpenAPI schema against the real service: never a 500.

Requests are signed by an enrolled terminal and carry a live session, so generated bodies reach
the handlers instead of stopping at authentication.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Ok

from report_service.synth import generate_region

from .api_people import text_of
from .platform_client import ServiceProcess, TerminalClient

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def session_token(gansu_terminal: TerminalClient) -> str:
    person = next(o for o in generate_region("gansu", 40, 7) if o["type"] == "person")
    return text_of(gansu_terminal.login_card(person["id_number"], person["name"]), "session_token")


def send(terminal: TerminalClient, token: str, case: Case[Any]) -> None:
    path = case.formatted_path
    if case.query:
        path += "?" + urlencode(case.query, doseq=True)
    body = case.body
    if body is None or type(body).__name__ == "NotSet":
        content = b""
    elif isinstance(body, bytes):
        content = body
    else:
        content = json.dumps(body).encode()
    headers = {str(k): str(v) for k, v in (case.headers or {}).items()}
    headers.setdefault("Authorization", f"Bearer {token}")
    headers |= terminal.signed_headers(case.method, path, content)
    if content:
        headers["Content-Type"] = "application/json"
    r = terminal.http.request(case.method, path, content=content, headers=headers)
    assert r.status_code < 500, f"{case.method} {path} -> {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        error = r.json()["error"]
        assert error["code"] and error["message"], r.text


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schema_generated_requests_never_get_a_server_error(
    platform: ServiceProcess,
    gansu_terminal: TerminalClient,
    session_token: str,
    mode: GenerationMode,
) -> None:
    schema = schemathesis.openapi.from_url(platform.base_url + "/openapi.json")
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "an operation of the schema could not be read"
    assert len(operations) >= 9
    exercised = 0
    for operation in operations:

        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Case[Any]) -> None:
            send(gansu_terminal, session_token, case)

        try:
            run()
            exercised += 1
        except Unsatisfiable:
            # nothing in this operation can be made invalid (e.g. /healthz has no inputs)
            assert mode is GenerationMode.NEGATIVE
    assert exercised >= (len(operations) if mode is GenerationMode.POSITIVE else 4)
