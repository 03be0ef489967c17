"""The outermost layer of every HTTP request: size and time limits on the body, the access log.

- A body over MAX_BODY_BYTES (declared or sent chunked) is refused with 413 before it is buffered.
- A body still arriving BODY_TIMEOUT_S after the request began is cut with 408: a client that
  trickles bodies cannot hold a worker's connections and memory for ever.
- One access-log line per request (method, route, status, milliseconds, terminal) and a warning
  for every refused authentication. The route's template is logged, not the raw path: a by-ticket
  ticket or a verification code never reaches the log, and nor does anything a client puts in an
  unknown path or a query string (an ID number, a name).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any

import anyio
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import TOO_LARGE, api_error_for, error_response

log = logging.getLogger("report_service.access")

MAX_BODY_BYTES = 64 * 1024
BODY_TIMEOUT_S = 15.0
ERROR_CODE = "report_service.error_code"  # set by the error handlers in scope["state"]
BODY_TOO_LARGE = "report_service.body_too_large"
BODY_TIMED_OUT = "report_service.body_timed_out"
TIMED_OUT = "请求内容发送超时，请重试。"
_TERMINAL = re.compile(r"\AT[0-9A-Z]{1,63}\Z")
# Codes that refuse an authentication (besides every 401, 403 and 429).
_IDENTITY_REFUSALS = frozenset({"person_not_found"})


class RouteNames:
    """What the access log and the metrics call a request: the template of the app's route that
    serves it (`/v1/reports/{report_id}/pdf`), chosen as the router chooses — the first whose path
    and method match, else the first whose path does (a 405) — or `(other)`. The templates come
    from the routes themselves, so no caller's text is ever shown and the metrics keep one series
    a route, not one a report."""

    def __init__(self, routes: Iterable[BaseRoute] = ()) -> None:
        self._table = tuple(
            (r.path_regex, r.path, r.methods) for r in routes if isinstance(r, Route)
        )

    def __call__(self, path: str, method: str = "GET") -> str:
        only_path = None
        for regex, name, methods in self._table:
            if regex.match(path):
                if methods is None or method in methods:
                    return name
                only_path = only_path or name
        return only_path or "(other)"


class _BodyTooLarge(Exception):
    pass


class _BodyTimeout(Exception):
    pass


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        max_body: int = MAX_BODY_BYTES,
        body_timeout_s: float = BODY_TIMEOUT_S,
        larger: Sequence[tuple[re.Pattern[str], int]] = (),
        route_names: RouteNames | None = None,
    ) -> None:
        self.app = app
        self.route_names = route_names or RouteNames()
        self.max_body = max_body
        self.body_timeout_s = body_timeout_s
        self.larger = tuple(larger)  # paths that take a bigger body (a diagnostics bundle)

    def _limit(self, path: str) -> int:
        return next((n for pattern, n in self.larger if pattern.match(path)), self.max_body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._guarded(scope, receive, sending, started)
        except Exception as exc:
            if status == 0:  # the framework's outermost layer answers it, after this line
                answer = api_error_for(exc)
                status = answer.status
                note_error(scope, answer.code)
            raise
        finally:
            self._log(scope, status, started)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, started: float) -> None:
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        limit = self._limit(scope["path"])
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _answer(send, 413, "payload_too_large", TOO_LARGE, scope)
            return
        seen = 0
        body_done = False
        deadline = started + self.body_timeout_s

        async def limited() -> Message:
            nonlocal seen, body_done
            if body_done:  # after the body: a wait for the disconnect, which may be long
                return await receive()
            with anyio.move_on_after(max(deadline - time.monotonic(), 0.0)) as timer:
                message = await receive()
            if timer.cancelled_caught:
                scope[BODY_TIMED_OUT] = True  # as for a body too large: FastAPI makes it a 400
                raise _BodyTimeout
            seen += len(message.get("body", b""))
            if seen > limit:
                scope[BODY_TOO_LARGE] = True  # FastAPI turns the exception into a 400
                raise _BodyTooLarge
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _answer(send, 413, "payload_too_large", TOO_LARGE, scope)
        except _BodyTimeout:
            await _answer(send, 408, "request_timeout", TIMED_OUT, scope, close=True)

    def _log(self, scope: Scope, status: int, started: float) -> None:
        headers = dict(scope["headers"])
        terminal = headers.get(b"x-terminal-id", b"").decode("latin-1")
        terminal = terminal if _TERMINAL.match(terminal) else "-"
        state: dict[str, Any] = scope.get("state") or {}
        code = state.get(ERROR_CODE) or "-"
        method = scope.get("method", "-")
        route = self.route_names(scope.get("path", ""), method)
        ms = (time.monotonic() - started) * 1000
        log.info("%s %s %d %.1fms terminal=%s code=%s", method, route, status, ms, terminal, code)
        if status in (401, 403, 429) or code in _IDENTITY_REFUSALS:
            log.warning(
                "authentication refused: %s %s %d code=%s terminal=%s",
                method,
                route,
                status,
                code,
                terminal,
            )


def note_error(scope: Scope, code: str) -> None:
    """Tell the access log the error code a response carries."""
    scope.setdefault("state", {})[ERROR_CODE] = code


async def _answer(
    send: Send, status: int, code: str, message: str, scope: Scope, close: bool = False
) -> None:
    note_error(scope, code)
    response = error_response(status, code, message)
    headers = list(response.raw_headers)
    if close:  # the rest of the body is not read: the connection cannot carry another request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
