"""benchmarks/contract_floor.py measures real work: signed requests in, signed PDFs stored, forgeries refused."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from report_service import crypto
from report_service.terminal_client import TerminalClient

ROOT = Path(__file__).resolve().parents[1]


def floor_module() -> ModuleType:
    return importlib.import_module("benchmarks.contract_floor")


def post(app: object, headers: dict[str, str], body: bytes) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://floor") as client:
            return await client.post("/v1/reports", content=body, headers=headers)

    return asyncio.run(go())


def test_contract_app_stores_a_signed_pdf_and_refuses_a_forged_request(tmp_path: Path) -> None:
    floor = floor_module()
    terminal = TerminalClient("http://floor", floor.TERMINAL_ID, Ed25519PrivateKey.generate(), {})
    public_b64 = crypto.b64encode(terminal.key.public_key().public_bytes_raw())
    app = floor.FloorApp("contract", tmp_path / "floor.db", public_b64)
    body = b'{"uscc": "91620100MA00000000"}'

    ok = post(app, terminal.signed_headers("POST", "/v1/reports", body), body)
    forged = terminal.signed_headers("POST", "/v1/reports", b"another body")
    refused = post(app, forged, body)

    assert ok.status_code == 201
    assert set(ok.json()) >= {"report_id", "summary", "sha256", "signature"}
    assert refused.status_code == 401
    with sqlite3.connect(tmp_path / "floor.db") as conn:
        rows = conn.execute("SELECT pdf, sha256, signature FROM reports").fetchall()
        nonces = conn.execute("SELECT count(*) FROM nonces").fetchone()[0]
    assert len(rows) == 1 and nonces == 1  # the forgery wrote nothing
    pdf, digest, signature = rows[0]
    assert pdf.startswith(b"%PDF-") and hashlib.sha256(pdf).hexdigest() == digest
    platform_public = app.platform_key.public_raw
    assert crypto.verify(crypto.load_public_key(crypto.b64encode(platform_public)), signature, pdf)


def test_script_prints_both_floors_and_the_bounds_they_imply() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.contract_floor", "--requests", "40", "--renders", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for mode in ("http", "contract"):
        assert re.search(rf"^{mode} +server CPU \d+\.\d+ ms/request", out, re.M), out
    assert re.search(r"lowest ratio to the bare render: \d+\.\d+x$", out, re.M), out
    assert re.search(r"lowest mean latency at 50 clients \(Little's law\): \d+ ms$", out, re.M)
