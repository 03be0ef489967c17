"""The one error family of the report API: a stable code, an HTTP status and a Chinese message."""

from __future__ import annotations

from starlette.responses import JSONResponse


class ApiError(Exception):
    """Raised anywhere in the service; the app turns it into `{"error": {"code", "message"}}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The API's one error envelope: `{"error": {"code", "message"}}` with its status."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


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


MALFORMED_JSON = "请求内容不是有效的JSON。"
TOO_LARGE = "请求内容过大。"
INTERNAL = "平台暂时无法处理，请稍后再试。"

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
