"""The HTTP face of the platform: FastAPI routes over PlatformService (DESIGN §3)."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import INTERNAL, MALFORMED_JSON, TOO_LARGE, ApiError, error_response, field_problem
from .fastpath import ReportFastPath
from .schemas import EnrollBody, ErrorBody, IdCardBody, ObjectionBody, QrBody, ReportBody
from .service import PlatformService
from .signing import Caller, SignedRequest, bearer_token

log = logging.getLogger("report_service")

MAX_BODY_BYTES = 64 * 1024
MAX_IDEMPOTENCY_KEY = 200
WORKER_THREADS = 4


class BodyLimit:
    """Refuse request bodies over MAX_BODY_BYTES before they are buffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            await _too_large(send)
            return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
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
    response = error_response(413, "payload_too_large", TOO_LARGE)
    await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody} for s in (400, 401, 403, 404, 409, 413, 422)
}


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    # Few threads per worker: the handlers are CPU-bound under the GIL, and a queue in order
    # beats forty threads contending for it (tail latency).
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    yield


def create_app(service: PlatformService) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title="Credit report platform API",
        version="1.0",
        description="Report API v1 for self-service kiosks (DESIGN §3).",
        responses=ERRORS,
    )
    app.add_middleware(BodyLimit)
    app.add_middleware(  # outermost: well-formed report requests skip the framework
        ReportFastPath,
        service=service,
        max_body=MAX_BODY_BYTES,
        max_key=MAX_IDEMPOTENCY_KEY,
    )

    @app.exception_handler(ApiError)
    async def _apierror_response(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        pending = getattr(request.state, "pending_nonce", None)
        if pending is not None:  # signed, then refused: the nonce still counts as used
            try:
                await run_in_threadpool(service.auth.record_nonce, pending)
            except ApiError as refused:
                return error_response(refused.status, refused.code, refused.message)
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "malformed_json", MALFORMED_JSON)
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        reason = field_problem(str(first.get("type", "")))
        return error_response(
            422, "invalid_request", f"请求字段不正确：{where or '请求体'}（{reason}）"
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and request.scope.get(BODY_TOO_LARGE):
            return error_response(413, "payload_too_large", TOO_LARGE)
        codes = {
            400: ("malformed_json", MALFORMED_JSON),  # FastAPI's "error parsing the body"
            404: ("not_found", "没有这个接口。"),
            405: ("method_not_allowed", "不支持的请求方法。"),
        }
        code, message = codes.get(exc.status_code, ("http_error", "请求无法处理。"))
        return error_response(exc.status_code, code, message)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error: %s", type(exc).__name__)
        return error_response(500, "internal_error", INTERNAL)

    async def signed_request(request: Request) -> tuple[str, str, bytes]:
        body = await request.body()
        path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        if request.scope.get("query_string"):
            path += "?" + request.scope["query_string"].decode("latin-1")
        return request.method, path, body

    async def signed(request: Request) -> Caller:
        method, path, body = await signed_request(request)
        return await run_in_threadpool(
            service.auth.authenticate, method, path, request.headers, body
        )

    async def signed_later(request: Request) -> SignedRequest:
        """Like `signed`, but the route records the nonce, with the report in one transaction;
        the bearer's session comes with the terminal's row."""
        method, path, body = await signed_request(request)
        token = await bearer(request.headers.get("authorization"))
        checked = service.auth.verify_signature(method, path, request.headers, body, token)
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

    @app.get("/v1/catalog")
    def catalog(caller: Signed) -> JSONResponse:
        return _json(service.profile(caller).catalog())

    @app.post("/v1/sessions/id-card")
    def id_card_session(body: IdCardBody, caller: Signed) -> JSONResponse:
        return _json(
            service.logins.session_from_id_card(caller, body.id_number, body.name, body.valid_until)
        )

    @app.post("/v1/sessions/qr")
    def qr_session(body: QrBody, caller: Signed) -> JSONResponse:
        return _json(service.logins.session_from_qr(caller, body.payload))

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
        receipt = service.reports.issue_report(signed, token, idempotency_key, body.to_request())
        return _json(receipt, 201)

    @app.get(
        "/v1/reports/{report_id}/pdf",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}},
    )
    def report_pdf(report_id: str, caller: Signed, token: Bearer) -> Response:
        person = service.logins.person_for(caller, token)
        report = service.reports.report_pdf(person, report_id)
        return Response(
            report.pdf,
            media_type="application/pdf",
            headers={"X-Report-Sha256": report.sha256, "X-Report-Signature": report.signature},
        )

    @app.get("/v1/reports/by-ticket/{ticket}")
    def report_by_ticket(ticket: str, caller: Signed, token: Bearer) -> JSONResponse:
        person = service.logins.person_for(caller, token)
        return _json(service.reports.report_by_ticket(caller, person, ticket))

    @app.get("/v1/verify/{verification_code}")
    def verify(verification_code: str) -> JSONResponse:
        return _json(service.verify(verification_code))

    @app.post("/v1/objections")
    def objection(body: ObjectionBody, caller: Signed, token: Bearer) -> JSONResponse:
        person = service.logins.person_for(caller, token)
        return _json(
            service.file_objection(
                caller, person, body.report_id, body.record_id, body.reason, body.contact
            ),
        )

    return app
