"""A reference terminal client for the demo, the tests and the benchmarks: signs every request.

The kiosk has its own client (`kiosk/api.py`); this one lets the platform be exercised on its own.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import crypto


class TerminalClient:
    """Signs every request with the terminal's Ed25519 key, as DESIGN §3 prescribes."""

    def __init__(
        self, base_url: str, terminal_id: str, key: Ed25519PrivateKey, enrollment: dict[str, Any]
    ):
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.terminal_id = terminal_id
        self.key = key
        self.enrollment = enrollment

    @classmethod
    def enroll(cls, base_url: str, token: str) -> TerminalClient:
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        response = httpx.post(
            base_url + "/v1/terminals/enroll",
            json={
                "enrollment_token": token,
                "public_key": crypto.b64encode(public),
                "hardware": {"model": "test-terminal", "serial": secrets.token_hex(4)},
            },
            timeout=30,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return cls(base_url, body["terminal_id"], key, body)

    def signed_headers(
        self,
        method: str,
        path: str,
        body: bytes,
        timestamp: int | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        return crypto.signed_headers(
            self.terminal_id, self.key, method, path, body, timestamp, nonce
        )

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        idempotency_key: str | None = None,
        raw: bytes | None = None,
        **sign_kwargs: Any,
    ) -> httpx.Response:
        content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        headers = self.signed_headers(method, path, content, **sign_kwargs)
        if content:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return self.http.request(method, path, content=content, headers=headers)

    def login_card(
        self, id_number: str, name: str, valid_until: str | None = "2040-01-01"
    ) -> dict[str, Any]:
        r = self.request(
            "POST",
            "/v1/sessions/id-card",
            {"id_number": id_number, "name": name, "valid_until": valid_until},
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def report(
        self,
        token: str,
        uscc: str,
        start: str,
        end: str,
        domains: Any = "all",
        key: str | None = None,
    ) -> httpx.Response:
        return self.request(
            "POST",
            "/v1/reports",
            {"uscc": uscc, "domains": domains, "period": {"from": start, "to": end}},
            token=token,
            idempotency_key=key or secrets.token_urlsafe(16),
        )
