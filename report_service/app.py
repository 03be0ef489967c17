"""The HTTP face of the platform: FastAPI routes over PlatformService (DESIGN §3)."""

import asyncio
import datetime as dt
import logging
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import MALFORMED_JSON, TOO_LARGE, ApiError, field_problem
from .fastpath import ReportFastPath
from .hall import HallService, HallSettings, metrics
from .hall.staff_routes import add_staff_routes
from .hall.state import sweep
from .hall.telemetry import MAX_BUNDLE_BYTES
from .hall.terminal_routes import DIAGNOSTICS_PATH, add_terminal_routes
from .reports import SignedRequest
from .service import Caller, PlatformService, ReportRequest
from .signing import bearer_token

log = logging.getLogger("report_service")

MAX_BODY_BYTES = 64 * 1024
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_IDEMPOTENCY_KEY = 200
WORKER_THREADS = 4


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


def _iso_date(value: Any) -> Any:
    """Dates travel as YYYY-MM-DD text only: no numbers (epoch seconds) and no date-times."""
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return value
    raise PydanticCustomError("date_format", "not a YYYY-MM-DD date")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class EnrollBody(_Strict):
    enrollment_token: str = Field(min_length=1, max_length=200)
    public_key: str = Field(min_length=1, max_length=100)
    hardware: dict[str, Any] = Field(default_factory=dict)


class IdCardBody(_Strict):
    id_number: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=30)
    valid_until: IsoDate | None = Field(description="card expiry; null for 长期 (long-term) cards")


class QrBody(_Strict):
    payload: str = Field(min_length=1, max_length=1024)


class Period(_Strict):
    from_: IsoDate = Field(alias="from")
    to: IsoDate


class ReportBody(_Strict):
    uscc: str = Field(min_length=1, max_length=32)
    domains: Literal["all"] | list[Annotated[str, Field(max_length=64)]] = Field(max_length=100)
    period: Period


class ObjectionBody(_Strict):
    report_id: str = Field(min_length=1, max_length=32)
    record_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=1000)
    contact: str = Field(min_length=1, max_length=32)


class BodyLimit:
    """Refuse request bodies over MAX_BODY_BYTES (a diagnostics upload: MAX_BUNDLE_BYTES) before
    they are buffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = MAX_BUNDLE_BYTES if DIAGNOSTICS_PATH.match(scope["path"]) else MAX_BODY_BYTES
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send)
            return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                scope[BODY_TOO_LARGE] = True  # FastAPI turns the exception into a 400
                raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _too_large(send)


BODY_TOO_LARGE = "report_service.body_too_large"


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    response = _error(413, "payload_too_large", TOO_LARGE)
    await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody} for s in (400, 401, 403, 404, 409, 413, 422, 429)
}


def _lifespan(hall: HallService) -> Any:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Few threads per worker: the handlers are CPU-bound under the GIL, and a queue in order
        # beats forty threads contending for it (tail latency).
        anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        sweeper = asyncio.create_task(_sweep_forever(hall))
        hall.feed.start()
        yield
        hall.feed.close()
        sweeper.cancel()

    return lifespan


async def _sweep_forever(hall: HallService) -> None:
    """Terminals gone quiet, help calls unanswered, commands expired: every process looks."""
    while True:
        await asyncio.sleep(hall.ctx.settings.sweep_s)
        try:
            await run_in_threadpool(sweep, hall.ctx)
        except Exception:  # a busy or lost database: the next pass tries again
            log.exception("hall sweep failed")


def create_app(service: PlatformService, hall_settings: HallSettings | None = None) -> FastAPI:
    hall = HallService.build(service.engine, service.clock, hall_settings)
    latency = metrics.Latency()
    app = FastAPI(
        lifespan=_lifespan(hall),
        title="Credit report platform API",
        version="1.0",
        description="Report API v1 for self-service kiosks (DESIGN §3).",
        responses=ERRORS,
    )
    app.add_middleware(BodyLimit)
    app.add_middleware(metrics.MeasureLatency, latency=latency)
    app.add_middleware(  # outermost: well-formed report requests skip the framework
        ReportFastPath,
        service=service,
        body_model=ReportBody,
        max_body=MAX_BODY_BYTES,
        max_key=MAX_IDEMPOTENCY_KEY,
    )

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        response = _error(exc.status, exc.code, exc.message)
        if exc.status == 429:
            response.headers["Retry-After"] = "60"
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        pending = getattr(request.state, "pending_nonce", None)
        if pending is not None:  # signed, then refused: the nonce still counts as used
            try:
                await run_in_threadpool(service.record_nonce, pending)
            except ApiError as refused:
                return _error(refused.status, refused.code, refused.message)
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "malformed_json", MALFORMED_JSON)
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        reason = field_problem(str(first.get("type", "")))
        return _error(422, "invalid_request", f"请求字段不正确：{where or '请求体'}（{reason}）")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and request.scope.get(BODY_TOO_LARGE):
            return _error(413, "payload_too_large", TOO_LARGE)
        codes = {
            400: ("malformed_json", MALFORMED_JSON),  # FastAPI's "error parsing the body"
            404: ("not_found", "没有这个接口。"),
            405: ("method_not_allowed", "不支持的请求方法。"),
        }
        code, message = codes.get(exc.status_code, ("http_error", "请求无法处理。"))
        return _error(exc.status_code, code, message)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error: %s", type(exc).__name__)
        return _error(500, "internal_error", "平台暂时无法处理，请稍后再试。")

    async def signed_request(request: Request) -> tuple[str, str, bytes]:
        body = await request.body()
        path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        if request.scope.get("query_string"):
            path += "?" + request.scope["query_string"].decode("latin-1")
        return request.method, path, body

    async def signed(request: Request) -> Caller:
        method, path, body = await signed_request(request)
        return await run_in_threadpool(service.authenticate, method, path, request.headers, body)

    async def signed_later(request: Request) -> SignedRequest:
        """Like `signed`, but the route records the nonce, with the report in one transaction;
        the bearer's session comes with the terminal's row."""
        method, path, body = await signed_request(request)
        token = await bearer(request.headers.get("authorization"))
        checked = service.verify_signature(method, path, request.headers, body, token)
        request.state.pending_nonce = checked  # for a request refused before its route runs
        return checked

    async def bearer(authorization: Annotated[str | None, Header()] = None) -> str | None:
        return bearer_token(authorization)

    Signed = Annotated[Caller, Depends(signed)]
    SignedLater = Annotated[SignedRequest, Depends(signed_later)]
    Bearer = Annotated[str | None, Depends(bearer)]

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        ok = service.healthy()
        return JSONResponse(
            {"status": "ok" if ok else "degraded", "database": ok}, 200 if ok else 503
        )

    @app.post("/v1/terminals/enroll")
    def enroll(body: EnrollBody) -> JSONResponse:
        return _json(service.enroll(body.enrollment_token, body.public_key, body.hardware))

    @app.post("/v1/terminals/{terminal_id}/revoke")
    def revoke_terminal(terminal_id: str, caller: Signed) -> JSONResponse:
        if caller.terminal_id != terminal_id:  # a terminal may revoke only itself
            raise ApiError(403, "not_this_terminal", "终端只能停用自己。")
        return _json(service.revoke_terminal(terminal_id))

    @app.get("/v1/catalog")
    def catalog(caller: Signed) -> JSONResponse:
        return _json(service.profile(caller).catalog())

    @app.post("/v1/sessions/id-card")
    def id_card_session(body: IdCardBody, caller: Signed) -> JSONResponse:
        return _json(
            service.session_from_id_card(caller, body.id_number, body.name, body.valid_until)
        )

    @app.post("/v1/sessions/qr")
    def qr_session(body: QrBody, caller: Signed) -> JSONResponse:
        return _json(service.session_from_qr(caller, body.payload))

    # The report route runs on the event loop rather than in the thread pool: its work is CPU
    # (render, sign) and short reads and writes on a local database, and under the GIL a thread
    # adds no parallelism, only ~0.3 ms of hand-off per request and lock convoys at load.
    @app.post("/v1/reports", status_code=201)
    async def create_report(
        body: ReportBody,
        signed: SignedLater,
        token: Bearer,
        idempotency_key: Annotated[str | None, Header(max_length=MAX_IDEMPOTENCY_KEY)] = None,
    ) -> JSONResponse:
        domains = body.domains if isinstance(body.domains, str) else tuple(body.domains)
        request = ReportRequest(
            body.uscc.strip().upper(), domains, body.period.from_, body.period.to
        )
        return _json(service.issue_report(signed, token, idempotency_key, request), 201)

    @app.get(
        "/v1/reports/{report_id}/pdf",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}},
    )
    def report_pdf(report_id: str, caller: Signed, token: Bearer) -> Response:
        person = service.person_for(caller, token)
        report = service.report_pdf(person, report_id)
        return Response(
            report.pdf,
            media_type="application/pdf",
            headers={"X-Report-Sha256": report.sha256, "X-Report-Signature": report.signature},
        )

    @app.get("/v1/reports/by-ticket/{ticket}")
    def report_by_ticket(ticket: str, caller: Signed, token: Bearer) -> JSONResponse:
        person = service.person_for(caller, token)
        return _json(service.report_by_ticket(caller, person, ticket))

    @app.get("/v1/verify/{verification_code}")
    def verify(verification_code: str) -> JSONResponse:
        return _json(service.verify(verification_code))

    @app.post("/v1/objections")
    def objection(body: ObjectionBody, caller: Signed, token: Bearer) -> JSONResponse:
        person = service.person_for(caller, token)
        return _json(
            service.file_objection(
                caller, person, body.report_id, body.record_id, body.reason, body.contact
            ),
        )

    add_terminal_routes(app, hall, Depends(signed))
    add_staff_routes(app, hall)

    @app.get("/metrics", response_class=Response)
    def prometheus(request: Request) -> Response:
        client = request.client.host if request.client else None
        token = os.environ.get("REPORT_SERVICE_METRICS_TOKEN")
        if not metrics.allowed(client, request.headers.get("authorization"), token):
            raise ApiError(403, "metrics_forbidden", "监控数据只对内部地址或持有令牌者开放。")
        return Response(metrics.render(hall.ctx, latency), media_type="text/plain; version=0.0.4")

    app.state.hall = hall
    return app
