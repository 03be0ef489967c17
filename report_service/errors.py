"""The one error family of the report API: a stable code, an HTTP status and a Chinese message."""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc
from starlette.responses import JSONResponse

log = logging.getLogger("report_service")
INTERNAL = "平台暂时无法处理，请稍后再试。"


class ApiError(Exception):
    """Raised anywhere in the service; the app turns it into `{"error": {"code", "message"}}`."""

    def __init__(
        self, status: int, code: str, message: str, retry_after: int | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after  # seconds, sent as Retry-After (429, 503)


def error_response(
    status: int, code: str, message: str, retry_after: int | None = None
) -> JSONResponse:
    """The API's one error envelope: `{"error": {"code", "message"}}` with its status."""
    headers = None if retry_after is None else {"Retry-After": str(max(1, retry_after))}
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def api_error_response(exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message, exc.retry_after)


# Stable codes the kiosk maps to screens (docs/api.md lists them).
def unprocessable(code: str, message: str) -> ApiError:
    return ApiError(422, code, message)


def unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message)


def forbidden(code: str, message: str) -> ApiError:
    return ApiError(403, code, message)


def not_found(code: str, message: str) -> ApiError:
    return ApiError(404, code, message)


def conflict(code: str, message: str) -> ApiError:
    return ApiError(409, code, message)


def gone(code: str, message: str) -> ApiError:
    return ApiError(410, code, message)


def too_many(code: str, message: str, retry_after: int) -> ApiError:
    return ApiError(429, code, message, retry_after)


BUSY_RETRY_S = 5
DATABASE_BUSY = "平台繁忙，请稍后再试。"


def database_busy() -> ApiError:
    """The database did not answer in time (a lock held elsewhere, a full pool, a lost
    connection): the client may try again, and the kiosk queues a report request meanwhile."""
    return ApiError(503, "database_busy", DATABASE_BUSY, BUSY_RETRY_S)


def from_library(exc: BaseException) -> ApiError | None:
    """The API error a library's exception stands for, at the boundary; None for a bug.
    SQLite's "database is locked", PostgreSQL's lock or statement timeouts and lost connections
    (OperationalError), an exhausted pool (TimeoutError): all mean "busy, try again"."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, sa_exc.OperationalError | sa_exc.TimeoutError | TimeoutError):
        return database_busy()
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return database_busy()
    return None


# the families from_library looks into: an app answers them itself (a warning, or a bug's traceback
# once), where a bare Exception goes to the server's last-resort handler and its traceback
LIBRARY_ERRORS: tuple[type[Exception], ...] = (sa_exc.SQLAlchemyError, TimeoutError)


def internal_error() -> ApiError:
    """The answer to a bug: nothing about it for the caller."""
    return ApiError(500, "internal_error", INTERNAL)


def api_error_for(exc: BaseException) -> ApiError:
    """What a request that raised `exc` is answered: the API error it stands for, 500 for a bug."""
    return from_library(exc) or internal_error()


def answer_to(exc: BaseException) -> ApiError:
    """`api_error_for`, logged: a library's error as a warning, a bug with its traceback."""
    mapped = from_library(exc)
    if mapped is None:
        log.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
        return internal_error()
    if mapped is not exc:
        log.warning("database unavailable: %s", type(exc).__name__)
    return mapped


MALFORMED_JSON = "请求内容不是有效的JSON。"
TOO_LARGE = "请求内容过大。"

# What a field-validation failure means, by the validator's error type (the library's own text
# is English); longest prefix first, so "string_too_long" wins over "string".
_FIELD_PROBLEMS = (
    ("missing", "缺少该字段"),
    ("extra_forbidden", "不接受该字段"),
    ("string_too_long", "内容过长"),
    ("string_too_short", "内容不能为空或过短"),
    ("too_long", "条目过多"),
    ("too_short", "条目过少"),
    ("literal_error", "取值不在允许范围内"),
    ("date", "日期格式应为YYYY-MM-DD"),
    ("value_error", "格式不正确"),
    ("string_pattern_mismatch", "格式不正确"),
    ("string", "应为文字"),
    ("list", "应为列表"),
    ("dict", "应为对象"),
    ("model", "应为对象"),
    ("int", "应为整数"),
    ("bool", "应为true或false"),
)


def field_problem(error_type: str) -> str:
    """A short Chinese phrase for a pydantic error type, e.g. 'missing' -> '缺少该字段'."""
    for prefix, text in _FIELD_PROBLEMS:
        if error_type.startswith(prefix):
            return text
    return "格式不正确"
