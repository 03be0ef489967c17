"""The HTTP face of the platform: FastAPI routes over PlatformService (DESIGN §3).

No route blocks the event loop: database work runs on threads (`Workers`), reads that must
answer whatever holds the database (health, verification) on threads of their own, and a call
that cannot get the database within DB_WAIT_S is answered 503 with Retry-After, never left to
hang or turn into a 500.
"""

# No `from __future__ import annotations` here: FastAPI reads the route signatures at runtime, and
# the dependency aliases (Signed, Bearer) are local to create_app.
import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .errors import (
    LIBRARY_ERRORS,
    MALFORMED_JSON,
    TOO_LARGE,
    ApiError,
    answer_to,
    api_error_response,
    error_response,
    field_problem,
)
from .fastpath import HeartbeatFastPath, ReportFastPath, issue_apart
from .hall import HallService, HallSettings, metrics
from .hall.staff_routes import add_staff_routes
from .hall.state import sweep
from .hall.telemetry import MAX_BUNDLE_BYTES
from .hall.terminal_routes import DIAGNOSTICS_PATH, add_terminal_routes
from .http_guard import (
    BODY_TIMED_OUT,
    BODY_TIMEOUT_S,
    BODY_TOO_LARGE,
    MAX_BODY_BYTES,
    TIMED_OUT,
    RequestGuard,
    RouteNames,
    note_error,
)
from .json_bodies import JsonBodies
from .paths import REPORTS
from .ratelimit import VERIFY_PER_MINUTE, RateLimiter
from .schemas import EnrollBody, ErrorBody, IdCardBody, ObjectionBody, QrBody, ReportBody
from .service import PlatformService
from .sessions import QueuedUse
from .signing import Caller, SignedRequest, bearer_token
from .sqlite_writes import Checkpoints
from .verify_page import page_headers, render, wants_html
from .workers import Workers

log = logging.getLogger("report_service")

MAX_IDEMPOTENCY_KEY = 200
DB_WAIT_S = 5.0  # a call waits this long for a database thread, and each statement for a lock
HEALTH_WAIT_S = 0.8  # /healthz answers within a second whatever holds the database


@dataclass
class Settings:
    db_wait_s: float = DB_WAIT_S
    body_timeout_s: float = BODY_TIMEOUT_S
    verify_per_minute: float = VERIFY_PER_MINUTE


ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody} for s in (400, 401, 403, 404, 408, 409, 410, 413, 422, 429, 503)
}


def _lifespan(hall: HallService, checkpoints: Checkpoints | None) -> Any:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(_sweep_forever(hall))
        hall.feed.start()
        if checkpoints is not None:
            checkpoints.start()
        yield
        if checkpoints is not None:
            checkpoints.close()
        hall.feed.close()
        sweeper.cancel()

    return lifespan


async def _sweep_forever(hall: HallService) -> None:
    """Terminals gone quiet, help calls unanswered, commands expired: every process looks."""
    while True:
        await asyncio.sleep(hall.ctx.settings.sweep_s)
        try:
            await anyio.to_thread.run_sync(sweep, hall.ctx)
        except Exception:  # a busy or lost database: the next pass tries again
            log.exception("hall sweep failed")


def create_app(
    service: PlatformService,
    settings: Settings | None = None,
    hall_settings: HallSettings | None = None,
) -> FastAPI:
    settings = settings or Settings()
    workers = Workers(settings.db_wait_s)
    verify_limit = RateLimiter(settings.verify_per_minute)
    hall = HallService.build(service.engine, service.clock, service.auth, hall_settings)
    latency = metrics.Latency()
    app = FastAPI(
        lifespan=_lifespan(hall, Checkpoints.attach(service.engine)),
        title="Credit report platform API",
        version="1.0",
        description="Report API v1 for self-service kiosks (DESIGN §3).",
        responses=ERRORS,
    )

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        note_error(request.scope, exc.code)
        return api_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        pending = getattr(request.state, "pending_nonce", None)
        if pending is not None:  # signed, then refused: the nonce still counts as used
            try:
                await workers.call(service.auth.record_nonce, pending)
            except ApiError as refused:
                return await _api_error(request, refused)
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _refuse(request, 400, "malformed_json", MALFORMED_JSON)
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        reason = field_problem(str(first.get("type", "")))
        message = f"请求字段不正确：{where or '请求体'}（{reason}）"
        return _refuse(request, 422, "invalid_request", message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and request.scope.get(BODY_TOO_LARGE):
            return _refuse(request, 413, "payload_too_large", TOO_LARGE)
        if exc.status_code == 400 and request.scope.get(BODY_TIMED_OUT):
            response = _refuse(request, 408, "request_timeout", TIMED_OUT)
            response.headers["Connection"] = "close"  # the rest of the body was never read
            return response
        codes = {
            400: ("malformed_json", MALFORMED_JSON),  # FastAPI's "error parsing the body"
            404: ("not_found", "没有这个接口。"),
            405: ("method_not_allowed", "不支持的请求方法。"),
        }
        code, message = codes.get(exc.status_code, ("http_error", "请求无法处理。"))
        return _refuse(request, exc.status_code, code, message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return await _api_error(request, answer_to(exc))

    for family in LIBRARY_ERRORS:  # answered here, not by the server's last resort (a traceback)
        app.add_exception_handler(family, _unexpected)

    async def signed_request(request: Request) -> tuple[str, str, bytes]:
        body = await request.body()
        path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        if request.scope.get("query_string"):
            path += "?" + request.scope["query_string"].decode("latin-1")
        return request.method, path, body

    async def signed(request: Request) -> Caller:
        method, path, body = await signed_request(request)
        return await workers.call(service.auth.authenticate, method, path, request.headers, body)

    async def signed_later(request: Request) -> SignedRequest:
        """Like `signed`, but the route records the nonce, with the report in one transaction;
        the bearer's session comes with the terminal's row."""
        method, path, body = await signed_request(request)
        checked = await workers.call(
            service.auth.verify_signature, method, path, request.headers, body
        )
        request.state.pending_nonce = checked  # for a request refused before its route runs
        return checked

    async def bearer(authorization: Annotated[str | None, Header()] = None) -> str | None:
        return bearer_token(authorization)

    Signed = Annotated[Caller, Depends(signed)]
    SignedLater = Annotated[SignedRequest, Depends(signed_later)]
    Bearer = Annotated[str | None, Depends(bearer)]

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        ok = False
        with anyio.move_on_after(HEALTH_WAIT_S):
            ok = await workers.read(service.healthy)
        return JSONResponse(
            {"status": "ok" if ok else "degraded", "database": ok}, 200 if ok else 503
        )

    @app.post("/v1/terminals/enroll")
    async def enroll(body: EnrollBody) -> JSONResponse:
        return _json(
            await workers.call(
                service.terminals.enroll, body.enrollment_token, body.public_key, body.hardware
            )
        )

    @app.get("/v1/catalog")
    async def catalog(caller: Signed) -> JSONResponse:
        return _json(service.profile(caller).catalog(service.today()))

    @app.post("/v1/sessions/id-card")
    async def id_card_session(body: IdCardBody, caller: Signed) -> JSONResponse:
        login = service.logins.session_from_id_card
        return _json(await workers.call(login, caller, body.id_number, body.name, body.valid_until))

    @app.post("/v1/sessions/qr")
    async def qr_session(body: QrBody, caller: Signed) -> JSONResponse:
        queued = None
        if body.queued is not None:
            queued = QueuedUse(body.queued.ticket, body.queued.queued_at)
        return _json(
            await workers.call(service.logins.session_from_qr, caller, body.payload, queued)
        )

    @app.post(REPORTS, status_code=201)
    async def create_report(
        body: ReportBody,
        signed: SignedLater,
        token: Bearer,
        idempotency_key: Annotated[str | None, Header(max_length=MAX_IDEMPOTENCY_KEY)] = None,
    ) -> JSONResponse:
        receipt = await issue_apart(
            workers,
            service.reports,
            service.reports.plan,
            signed,
            token,
            idempotency_key,
            body.to_request(),
        )
        return _json(receipt, 201)

    @app.get(
        "/v1/reports/{report_id}/pdf",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}},
    )
    async def report_pdf(report_id: str, caller: Signed, token: Bearer) -> Response:
        person = await workers.call(service.logins.session_for, caller, token)
        report = await workers.call(service.reports.report_pdf, person, report_id)
        return Response(
            report.pdf,
            media_type="application/pdf",
            headers={"X-Report-Sha256": report.sha256, "X-Report-Signature": report.signature},
        )

    @app.get("/v1/reports/by-ticket/{ticket}")
    async def report_by_ticket(ticket: str, caller: Signed, token: Bearer) -> JSONResponse:
        person = await workers.call(service.logins.session_for, caller, token)
        return _json(await workers.call(service.reports.report_by_ticket, caller, person, ticket))

    @app.get(
        "/v1/verify/{verification_code}",
        responses={200: {"content": {"application/json": {}, "text/html": {}}}},
    )
    async def verify(verification_code: str, request: Request) -> Response:
        """JSON for machines; the verify page for a browser (Accept: text/html)."""
        client = request.client.host if request.client else "-"
        wait = verify_limit.take(client)
        if wait is not None:
            raise ApiError(429, "too_many_requests", "查询过于频繁，请稍后再试。", wait)
        found = await workers.read(service.verification, verification_code)
        if wants_html(request.headers.get("accept")):
            return HTMLResponse(render(found, verification_code), headers=page_headers())
        return JSONResponse(found.as_json(), headers={"Vary": "Accept"})

    @app.post("/v1/objections")
    async def objection(body: ObjectionBody, caller: Signed, token: Bearer) -> JSONResponse:
        person = await workers.call(service.logins.session_for, caller, token)
        filed = await workers.call(
            service.objections.file,
            caller,
            person,
            body.report_id,
            body.record_id,
            body.reason,
            body.contact,
        )
        return _json(filed)

    @app.post("/v1/terminals/{terminal_id}/revoke")
    async def revoke_self(terminal_id: str, caller: Signed) -> JSONResponse:
        """A terminal being decommissioned (kiosk-provision wipe) revokes itself, only itself."""
        if caller.terminal_id != terminal_id:
            raise ApiError(403, "not_this_terminal", "终端只能停用自己。")
        already = await workers.call(service.terminals.revoke, terminal_id)
        return _json(
            {"terminal_id": terminal_id, "revoked": True, "already_revoked": bool(already)}
        )

    add_terminal_routes(app, hall, Depends(signed_later), workers.call)
    add_staff_routes(app, hall, service.public_url)

    @app.get("/metrics", response_class=Response)
    def prometheus(request: Request) -> Response:
        client = request.client.host if request.client else None
        token = os.environ.get("REPORT_SERVICE_METRICS_TOKEN")
        if not metrics.allowed(client, request.headers.get("authorization"), token):
            raise ApiError(403, "metrics_forbidden", "监控数据只对内部地址或持有令牌者开放。")
        return Response(metrics.render(hall.ctx, latency), media_type="text/plain; version=0.0.4")

    route_names = RouteNames(app.routes)  # every route is declared by now
    app.add_middleware(  # well-formed report requests and heartbeats skip the framework
        ReportFastPath, service=service, workers=workers, max_key=MAX_IDEMPOTENCY_KEY
    )
    app.add_middleware(
        HeartbeatFastPath, auth=service.auth, telemetry=hall.telemetry, workers=workers
    )
    app.add_middleware(JsonBodies, raw=(DIAGNOSTICS_PATH,))  # JSON whatever the label said
    app.add_middleware(  # body limits and the access log cover the fast path too
        RequestGuard,
        max_body=MAX_BODY_BYTES,
        body_timeout_s=settings.body_timeout_s,
        larger=((DIAGNOSTICS_PATH, MAX_BUNDLE_BYTES),),
        route_names=route_names,
    )
    app.add_middleware(  # outermost: all of a request
        metrics.MeasureLatency, latency=latency, route_names=route_names
    )

    app.state.hall = hall
    return app


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _refuse(request: Request, status: int, code: str, message: str) -> JSONResponse:
    note_error(request.scope, code)
    return error_response(status, code, message)
