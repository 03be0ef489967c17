"""Is the platform reachable from this terminal, over TLS with a certificate that matches, with the
clocks close enough for signed calls, and does it still accept this terminal?

`/healthz` (unauthenticated) gives reachability, TLS and the platform's clock (its HTTP `Date`
header); a signed `GET /v1/catalog` proves the enrollment and key are accepted.
"""

from __future__ import annotations

import asyncio
import email.utils
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from kiosk.api import ApiSettings, ReportApi
from kiosk.config import KioskConfig
from kiosk.errors import ApiError, KioskError, PlatformUnavailable
from kiosk.identity import load_enrollment, load_key
from kiosk.signing import TerminalCredentials

SKEW_FAIL_S = 120.0  # the platform refuses signatures 300 s off; fail well before
SKEW_WARN_S = 10.0
TIMEOUT_S = 5.0

# OpenSSL's verify codes (X509_V_ERR_*) that say which certificate problem it is
_HOSTNAME_MISMATCH = {62, 64}
_EXPIRED = {9, 10}


@dataclass(frozen=True)
class PlatformProbe:
    ok: bool
    code: str | None  # a platform.* advice code when not ok (or a warning)
    detail: str
    skew_s: float | None = None
    terminal_id: str | None = None
    warning: bool = False


def probe(config: KioskConfig, *, clock: Callable[[], float] = time.time) -> PlatformProbe:
    url = config.platform_url.rstrip("/")
    verify: str | bool = str(config.ca_bundle) if config.ca_bundle else True
    try:
        started = clock()
        response = httpx.get(url + "/healthz", verify=verify, timeout=TIMEOUT_S)
        finished = clock()
    except httpx.HTTPError as exc:
        code, detail = classify_transport_error(exc)
        return PlatformProbe(False, code, detail)
    skew = _skew(response, (started + finished) / 2)
    tls = " over TLS" if url.startswith("https:") else " (plain http, loopback)"
    if response.status_code != 200:
        return PlatformProbe(
            False, "platform.unhealthy", f"/healthz answered {response.status_code}"
        )
    if skew is not None and abs(skew) > SKEW_FAIL_S:
        return PlatformProbe(
            False,
            "platform.clock_skew",
            f"this terminal's clock is {skew:+.0f} s off the platform's",
            skew,
        )
    signed = _signed_call(config, clock)
    if signed is not None and not signed.ok:
        return PlatformProbe(False, signed.code, signed.detail, skew)
    detail = f"{url} reachable{tls}"
    if skew is not None:
        detail += f", clock {skew:+.0f} s"
    if signed is None:
        return PlatformProbe(
            False, "platform.not_enrolled", detail + "; terminal not enrolled", skew
        )
    detail += f"; terminal {signed.terminal_id} accepted"
    if skew is not None and abs(skew) > SKEW_WARN_S:
        return PlatformProbe(
            True, "platform.clock_skew", detail, skew, signed.terminal_id, warning=True
        )
    return PlatformProbe(True, None, detail, skew, signed.terminal_id)


def classify_transport_error(exc: BaseException) -> tuple[str, str]:
    """A transport failure as an advice code and a line: TLS problems told apart from the rest."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            number = cause.verify_code
            text = cause.verify_message or str(cause)
            if number in _HOSTNAME_MISMATCH or "hostname" in text or "IP address mismatch" in text:
                return "platform.tls_mismatch", f"certificate does not match: {text}"
            if number in _EXPIRED:
                return "platform.tls_expired", f"certificate: {text}"
            return "platform.tls_untrusted", f"certificate not trusted: {text}"
        if isinstance(cause, ssl.SSLError):
            return "platform.tls_error", f"TLS: {cause.reason or cause}"
        cause = cause.__cause__ or cause.__context__
    return "platform.unreachable", f"{type(exc).__name__}: {exc}"


def _skew(response: httpx.Response, local: float) -> float | None:
    date = response.headers.get("date")
    if not date:
        return None
    try:
        remote = email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None
    return local - remote


def _signed_call(config: KioskConfig, clock: Callable[[], float]) -> PlatformProbe | None:
    """None when not enrolled; otherwise whether a signed call is accepted."""
    try:
        enrollment = load_enrollment(config.enrollment_file)
        if enrollment is None or not config.key_file.exists():
            return None
        credentials = TerminalCredentials(enrollment.terminal_id, load_key(config.key_file))
    except KioskError as exc:
        return PlatformProbe(False, "platform.not_enrolled", exc.detail)
    settings = ApiSettings(config.platform_url, ca_bundle=_ca(config), retries=0)

    async def call() -> None:
        api = ReportApi(settings, credentials, clock=clock)
        try:
            await api.catalog()
        finally:
            await api.aclose()

    try:
        asyncio.run(call())
    except ApiError as exc:
        if exc.code in ("stale_timestamp", "bad_timestamp"):
            return PlatformProbe(False, "platform.clock_skew", f"platform: {exc.code}")
        if exc.code == "unknown_terminal":
            return PlatformProbe(
                False, "platform.terminal_refused", f"terminal {enrollment.terminal_id}: {exc.code}"
            )
        return PlatformProbe(False, "platform.signature_refused", f"HTTP {exc.status} {exc.code}")
    except PlatformUnavailable as exc:
        return PlatformProbe(False, "platform.unreachable", exc.detail)
    except KioskError as exc:
        return PlatformProbe(False, "platform.unhealthy", exc.detail)
    return PlatformProbe(True, None, "", terminal_id=enrollment.terminal_id)


def _ca(config: KioskConfig) -> str | None:
    return None if config.ca_bundle is None else str(config.ca_bundle)
