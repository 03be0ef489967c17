"""The report-API client (DESIGN §3): the kiosk's only way to talk to the platform.

Every call but enrollment and verification is signed by the terminal key (`signing.TerminalAuth`, an
httpx.Auth); only idempotent calls are retried (GETs, and report creation, which carries an
Idempotency-Key). Transport failures and 5xx after the retries become PlatformUnavailable, which is
what the offline path keys on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .api_models import (
    Catalog,
    Enrollment,
    HeartbeatAnswer,
    HelpCallState,
    Login,
    Objection,
    ReportMeta,
    Verification,
)
from .errors import ApiError, IntegrityFailure, PlatformUnavailable, ProtocolViolation
from .signing import TerminalAuth, TerminalCredentials, signature_valid

log = logging.getLogger(__name__)

MAX_PDF_BYTES = 20 * 1024 * 1024  # a 38-domain report is ~60 KiB; anything this big is wrong


@dataclass(frozen=True)
class ApiSettings:
    base_url: str
    ca_bundle: str | None = None  # None: the system store; TLS verification is never off
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 15.0
    retries: int = 2  # extra attempts for idempotent calls
    backoff_s: float = 0.4


@dataclass(frozen=True)
class SignedPdf:
    data: bytes
    sha256: str
    signature: str


class ReportApi:
    def __init__(
        self,
        settings: ApiSettings,
        credentials: TerminalCredentials | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        self._auth = None if credentials is None else TerminalAuth(credentials, clock=clock)
        timeout = httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s)
        self._http = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/"),
            timeout=timeout,
            verify=settings.ca_bundle or True,
            transport=transport,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- calls -------------------------------------------------------------------------------
    async def enroll(self, token: str, public_key: str, hardware: dict[str, Any]) -> Enrollment:
        body = {"enrollment_token": token, "public_key": public_key, "hardware": hardware}
        data = await self._call("POST", "/v1/terminals/enroll", body=body, signed=False)
        return Enrollment.from_json(data)

    async def catalog(self) -> Catalog:
        return Catalog.from_json(await self._call("GET", "/v1/catalog", idempotent=True))

    async def login_id_card(self, id_number: str, name: str, valid_until: dt.date | None) -> Login:
        body = {
            "id_number": id_number,
            "name": name,
            "valid_until": None if valid_until is None else valid_until.isoformat(),
        }
        # a repeated card login only opens another short session: retried like a read
        data = await self._call("POST", "/v1/sessions/id-card", body=body, idempotent=True)
        return Login.from_json(data)

    async def login_qr(self, payload: str, queued: tuple[str, int] | None = None) -> Login:
        """`queued`: (ticket, unix seconds) of a request queued while the QR was valid, so that
        the platform accepts the QR for that request after its expiry (DESIGN §5)."""
        body: dict[str, Any] = {"payload": payload}
        if queued is not None:
            body["queued"] = {"ticket": queued[0], "queued_at": queued[1]}
        # a login QR is single-use: retried only when the request never reached the platform
        data = await self._call("POST", "/v1/sessions/qr", body=body, unsent_retry=True)
        return Login.from_json(data)

    async def create_report(
        self,
        session_token: str,
        uscc: str,
        domains: Sequence[str] | None,
        period_from: dt.date,
        period_to: dt.date,
        idempotency_key: str,
    ) -> ReportMeta:
        body = {
            "uscc": uscc,
            "domains": "all" if domains is None else list(domains),
            "period": {"from": period_from.isoformat(), "to": period_to.isoformat()},
        }
        data = await self._call(
            "POST",
            "/v1/reports",
            body=body,
            session_token=session_token,
            extra_headers={"Idempotency-Key": idempotency_key},
            idempotent=True,  # the key makes a repeat return the same report
        )
        return ReportMeta.from_json(data)

    async def report_by_ticket(self, session_token: str, ticket: str) -> ReportMeta:
        path = "/v1/reports/by-ticket/" + quote(ticket, safe="")
        data = await self._call("GET", path, session_token=session_token, idempotent=True)
        return ReportMeta.from_json(data)

    async def report_pdf(
        self, session_token: str, report: ReportMeta, platform_key: Ed25519PublicKey
    ) -> SignedPdf:
        """The PDF bytes, refused unless sha256 and the platform signature both hold."""
        path = f"/v1/reports/{quote(report.report_id, safe='')}/pdf"
        headers = _headers(session_token, None)
        response = await self._send("GET", path, None, headers, idempotent=True)
        data = response.content
        if len(data) > MAX_PDF_BYTES or not data.startswith(b"%PDF-"):
            raise IntegrityFailure(f"report {report.report_id}: not a PDF ({len(data)} bytes)")
        digest = hashlib.sha256(data).hexdigest()
        # the headers, when sent, must repeat what the report's metadata says
        header_sha = response.headers.get("X-Report-Sha256", digest)
        header_signature = response.headers.get("X-Report-Signature", report.signature)
        if digest != report.sha256 or header_sha != digest:
            raise IntegrityFailure(f"report {report.report_id}: sha256 mismatch")
        if header_signature != report.signature or not signature_valid(
            platform_key, report.signature, data
        ):
            raise IntegrityFailure(f"report {report.report_id}: platform signature invalid")
        return SignedPdf(data=data, sha256=digest, signature=report.signature)

    async def verify(self, verification_code: str) -> Verification:
        path = "/v1/verify/" + quote(verification_code, safe="")
        return Verification.from_json(await self._call("GET", path, signed=False, idempotent=True))

    async def file_objection(
        self, session_token: str, report_id: str, record_id: str, reason: str, contact: str
    ) -> Objection:
        body = {
            "report_id": report_id,
            "record_id": record_id,
            "reason": reason,
            "contact": contact,
        }
        data = await self._call("POST", "/v1/objections", body=body, session_token=session_token)
        return Objection.from_json(data)

    # --- hall operations (DESIGN §8) -------------------------------------------------------------
    def _terminal_path(self, call: str) -> str:
        assert self.credentials is not None
        return f"/v1/terminals/{quote(self.credentials.terminal_id, safe='')}/{call}"

    async def heartbeat(self, body: dict[str, Any]) -> HeartbeatAnswer:
        # not retried here: the next beat is the retry, with fresher figures
        data = await self._call("POST", self._terminal_path("heartbeat"), body=body)
        return HeartbeatAnswer.from_json(data)

    async def events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        # the platform keeps each event id once: a repeat is harmless
        data = await self._call(
            "POST", self._terminal_path("events"), body={"events": events}, idempotent=True
        )
        return dict(data) if isinstance(data, dict) else {}

    async def assistance(self, call_id: str, reason: str, step: str) -> HelpCallState:
        body = {"call_id": call_id, "reason": reason, "step": step}
        data = await self._call(
            "POST", self._terminal_path("assistance"), body=body, idempotent=True
        )
        return HelpCallState.from_json(data)

    async def upload_diagnostics(self, command_id: str, bundle: bytes) -> None:
        path = self._terminal_path("diagnostics") + "?command_id=" + quote(command_id, safe="")
        headers = {"Content-Type": "application/gzip"}
        await self._send("POST", path, None, headers, raw=bundle, idempotent=True)

    async def revoke_terminal(self) -> dict[str, Any]:
        """Ask the platform to revoke this terminal (decommissioning); afterwards it answers 401."""
        if self.credentials is None:
            raise ApiError(401, "not_enrolled", "terminal is not enrolled")
        path = self._terminal_path("revoke")
        data = await self._call("POST", path, body={}, unsent_retry=True)
        if not isinstance(data, dict):
            raise ProtocolViolation(f"POST {path}: answer is not an object")
        return data

    # --- plumbing ------------------------------------------------------------------------------
    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        session_token: str | None = None,
        extra_headers: dict[str, str] | None = None,
        signed: bool = True,
        idempotent: bool = False,
        unsent_retry: bool = False,
    ) -> Any:
        headers = _headers(session_token, extra_headers)
        response = await self._send(
            method,
            path,
            body,
            headers,
            signed=signed,
            idempotent=idempotent,
            unsent_retry=unsent_retry,
        )
        try:
            return response.json()
        except ValueError:
            raise ProtocolViolation(f"{method} {path}: answer is not JSON") from None

    async def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        headers: dict[str, str],
        *,
        signed: bool = True,
        idempotent: bool = False,
        unsent_retry: bool = False,
        raw: bytes | None = None,
    ) -> httpx.Response:
        """Send with retries: any failure for an idempotent call; with `unsent_retry`, only a
        failure to connect (the platform never saw the request); none otherwise. An error answer
        becomes ApiError, no answer PlatformUnavailable."""
        if signed and self._auth is None:
            raise ApiError(401, "not_enrolled", "terminal is not enrolled")
        auth = self._auth if signed else None
        if raw is None:
            raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        attempts = 1 + (self.settings.retries if idempotent or unsent_retry else 0)
        last: Exception | None = None
        for attempt in range(attempts):
            if attempt:
                delay = self.settings.backoff_s * (2 ** (attempt - 1))
                # jitter spreads a hall's kiosks
                await asyncio.sleep(delay * (0.5 + random.random()))
            try:
                response = await self._http.request(
                    method, path, content=raw or None, headers=headers, auth=auth
                )
            except httpx.TransportError as exc:
                last = exc
                _log_attempt(method, path, type(exc).__name__, attempt, attempts)
                if idempotent or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
                    continue
                break
            if response.status_code >= 500:
                last = ApiError(response.status_code, "server_error", response.text[:200])
                _log_attempt(method, path, f"HTTP {response.status_code}", attempt, attempts)
                if idempotent:
                    continue
                break
            if response.status_code >= 400:
                raise _api_error(method, path, response)
            return response
        raise PlatformUnavailable(f"{method} {path}: {type(last).__name__}: {last}")


def _headers(session_token: str | None, extra: dict[str, str] | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", **(extra or {})}
    if session_token is not None:
        headers["Authorization"] = "Bearer " + session_token
    return headers


def _log_attempt(method: str, path: str, what: str, attempt: int, attempts: int) -> None:
    log.warning("%s %s: %s (attempt %d/%d)", method, path, what, attempt + 1, attempts)


def _api_error(method: str, path: str, response: httpx.Response) -> ApiError:
    code, message = "http_" + str(response.status_code), ""
    try:
        envelope = response.json()["error"]
        code, message = str(envelope["code"]), str(envelope["message"])
    except (ValueError, KeyError, TypeError):
        pass
    log.info("%s %s: HTTP %d %s", method, path, response.status_code, code)
    return ApiError(response.status_code, code, message)
