"""Well-formed hot-path requests answered without the framework in between: POST /v1/reports and
POST /v1/terminals/{id}/heartbeat.

These two make nearly all of a province's traffic; FastAPI's routing, dependency solving and
middleware stack cost about as much CPU as the rest of a request apart from a report's render, and
a route's dependencies cost a heartbeat a second database-thread call (the signature, then the
beat), each with its own wait in the queue behind reports. Each layer here answers a request
itself when everything FastAPI would check is plainly in order (JSON content type, a body within
the size limit that validates as the route's schema, a short enough Idempotency-Key, no query
string, a path without escapes) and hands anything else — every request that could end in a
framework-made error — to the FastAPI route, which stays the reference and the OpenAPI contract.
Both call the same service methods in the same order, so the answers are the same.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import db, paths
from .errors import answer_to, api_error_response
from .hall.schemas import Heartbeat
from .http_guard import MAX_BODY_BYTES, note_error
from .report_build import ReportRequest
from .reports import Plan, ReportIssuer
from .schemas import ReportBody
from .signing import RequestAuth
from .workers import Workers

if TYPE_CHECKING:  # handed in by create_app; importing them here would be a cycle
    from .hall.telemetry import Telemetry
    from .service import PlatformService


PATH = paths.REPORTS.encode()
# the raw path; an id with escapes goes to the route, which decodes it
BEAT_PATH = re.compile(paths.path_pattern(paths.HEARTBEAT, "[^/%]+").encode())


class ReportFastPath:
    def __init__(
        self, app: ASGIApp, service: PlatformService, workers: Workers, max_key: int
    ) -> None:
        self.app = app
        self.service = service
        self.workers = workers
        self.max_body = MAX_BODY_BYTES
        self.max_key = max_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _posted_path(scope) != PATH:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if (
            not _plain_json(headers, self.max_body)
            or len(headers.get("idempotency-key", "")) > self.max_key
        ):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client went away
        request = self._parse(body)
        if request is None:  # let the framework say what is wrong with it
            await self.app(scope, _replay(body, receive), send)
            return
        response = await _answered(
            issue_apart(self.workers, self.service.reports, self._plan, headers, body, request),
            201,
        )
        await _send(response, scope, receive, send)

    def _parse(self, body: bytes) -> ReportRequest | None:
        try:
            parsed = ReportBody.model_validate(json.loads(body))
        except (ValueError, ValidationError, RecursionError):  # JSONDecodeError is a ValueError
            return None
        return parsed.to_request()

    def _plan(self, headers: dict[str, str], body: bytes, request: ReportRequest) -> Plan:
        """On a database thread: the signature, the session and the request's reads."""
        key = headers.get("idempotency-key")
        with db.reading(self.service.engine) as conn:  # one pool checkout for the reads
            signed = self.service.auth.verify_signature(
                "POST", paths.REPORTS, headers, body, conn=conn
            )
            return self.service.reports.plan(signed, signed.bearer, key, request, conn)


class HeartbeatFastPath:
    """The heartbeat's signature and the beat itself in one database-thread call."""

    def __init__(
        self, app: ASGIApp, auth: RequestAuth, telemetry: Telemetry, workers: Workers
    ) -> None:
        self.app = app
        self.auth = auth
        self.telemetry = telemetry
        self.workers = workers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = _posted_path(scope)
        found = BEAT_PATH.fullmatch(raw) if raw else None
        headers = _headers(scope) if found else {}
        if not found or not _plain_json(headers, MAX_BODY_BYTES):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return
        try:
            beat = Heartbeat.model_validate(json.loads(body))
        except (ValueError, ValidationError, RecursionError):
            await self.app(scope, _replay(body, receive), send)
            return
        path = found.group(0).decode("ascii")
        terminal_id = found.group(1).decode("ascii")
        call = self.workers.first(self._beat, headers, body, path, terminal_id, beat)
        await _send(await _answered(call, 200), scope, receive, send)

    def _beat(
        self, headers: dict[str, str], body: bytes, path: str, terminal_id: str, beat: Heartbeat
    ) -> dict[str, Any]:
        signed = self.auth.verify_signature("POST", path, headers, body)
        return self.telemetry.heartbeat(signed, terminal_id, beat)


def _posted_path(scope: Scope) -> bytes | None:
    """The raw path of a POST without a query string; None for anything else, and for a path
    that is not ASCII (the routes match the decoded one)."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope.get("query_string"):
        return None
    raw = scope.get("raw_path")
    return raw if isinstance(raw, bytes) and raw.isascii() else None


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:  # the first of repeated headers, as Starlette
        headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return headers


def _plain_json(headers: dict[str, str], max_body: int) -> bool:
    declared = headers.get("content-length", "")
    return (
        headers.get("content-type") == "application/json"
        and declared.isascii()
        and declared.isdigit()
        and int(declared) <= max_body
    )


async def _answered(call: Awaitable[dict[str, Any]], status: int) -> JSONResponse:
    """The call's answer, or its error as the app's handlers would give it."""
    try:
        return JSONResponse(await call, status_code=status)
    except Exception as exc:  # the API's error family, 500 for a bug
        return api_error_response(answer_to(exc))


async def _send(response: JSONResponse, scope: Scope, receive: Receive, send: Send) -> None:
    if response.status_code >= 400:
        note_error(scope, json.loads(bytes(response.body))["error"]["code"])
    await response(scope, receive, send)


async def issue_apart(
    workers: Workers, reports: ReportIssuer, plan: Callable[..., Plan], *args: Any
) -> dict[str, Any]:
    """A report request in its phases: the reads and the write on database threads, the render
    and signature on the event loop (CPU without I/O: on a thread it would only contend with
    the loop for the GIL; the p99 at 10 clients doubled that way)."""
    planned = await workers.call(plan, *args)
    if planned.receipt is not None:
        return planned.receipt
    try:
        rendered = reports.render(planned)
    except Exception:
        with contextlib.suppress(Exception):  # the refusal stands whatever the nonce write does
            await workers.call(planned.pending.record)
        raise
    return await workers.call(reports.store, planned, rendered)


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body (the server holds it to the declared Content-Length), None on disconnect."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the already-read body over once, then defers to the real one."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again
