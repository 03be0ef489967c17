"""Test-side helpers: a running `report-service serve` process and a signing terminal client."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from report_service import crypto

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real `report-service` command line."""
    result = subprocess.run(
        [sys.executable, "-m", "report_service", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"report-service {' '.join(args)} failed:\n{result.stderr}")
    return result


@dataclass
class ServiceProcess:
    db: str
    base_url: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_service(db: str, workdir: Path, workers: int = 1) -> ServiceProcess:
    port = free_port()
    log_path = workdir / f"service-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "report_service",
                "serve",
                "--db",
                db,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "info",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"service exited: {log_path.read_text()}")
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return ServiceProcess(db, base_url, proc, log_path)
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("service did not become healthy in 60 s")


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
        assert response.status_code == 201, response.text
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
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or crypto.b64url_encode(secrets.token_bytes(16))
        message = crypto.signing_string(method, path, ts, nonce, body)
        return {
            "X-Terminal-Id": self.terminal_id,
            "X-Timestamp": ts,
            "X-Nonce": nonce,
            "X-Signature": crypto.b64encode(self.key.sign(message)),
        }

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
        assert r.status_code == 201, r.text
        return r.json()

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
