"""The kiosk's error family: every failure the screens show maps to one of these.

`code` is stable (logged, sent in audit events); `message_id` is the catalog entry the screen shows in
plain Chinese (or English) together with what to do next.
"""

from __future__ import annotations

from .messages import message_id_for


class KioskError(Exception):
    code = "kiosk.error"
    message_id = "error.generic"  # a key in the i18n catalogs

    def __init__(self, detail: str = "", *, code: str | None = None) -> None:
        super().__init__(detail)
        if code is not None:
            self.code = code

    @property
    def detail(self) -> str:
        """Technician-facing, no PII."""
        return str(self.args[0]) if self.args else ""


class PlatformUnavailable(KioskError):
    """Connect error, timeout or 5xx after retries: the offline path may take over."""

    code = "api.unavailable"
    message_id = "error.platform_unavailable"


class ApiError(KioskError):
    """The platform answered with an error envelope; `code` is the platform's code."""

    message_id = "error.request_refused"

    def __init__(self, status: int, code: str, detail: str, message_id: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.status = status
        self.message_id = message_id or message_id_for(code)


class ProtocolViolation(KioskError):
    """The platform answered something the contract does not allow (bad JSON, missing field)."""

    code = "api.protocol"
    message_id = "error.platform_unavailable"


class IntegrityFailure(KioskError):
    """A report whose bytes fail the sha256 or platform-signature check: never printed."""

    code = "report.integrity"
    message_id = "error.report_integrity"


class ConfigInvalid(KioskError):
    code = "config.invalid"
    message_id = "error.out_of_service"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
