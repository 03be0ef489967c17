"""The contract's floor: what a report request costs the server besides the render and our Python.

    .venv/bin/python -m benchmarks.contract_floor [--requests 5000 --renders 300]

DESIGN §3 makes every POST /v1/reports do some work whatever the implementation: receive an HTTP
request and answer it, check the terminal's Ed25519 signature, hash and Ed25519-sign the PDF with
the platform key, and store the PDF with the request's nonce in one committed transaction. This
script serves exactly that, through the stack `report-service serve` runs (uvicorn, uvloop,
httptools, no access log, one worker), with the real primitives (report_service.crypto, the real
schema in SQLite WAL, a real rendered report and its receipt) and no logic in between: no routing,
no SQL reads, no validation. A second app answers the receipt with no work at all (HTTP alone).

One lean keep-alive client sends signed requests back to back. The script prints, per app, the
server's CPU and the wall time per request, then the bare render of the same report in process,
and from those the best any implementation on this stack could do on this machine: the lowest
ratio of server CPU to the bare render, and the highest closed-loop throughput on these cores
(hence the lowest mean latency 50 kiosks could see, by Little's law).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks.measures import proc_cpu
from benchmarks.quick import add_quick, apply_quick
from report_service import crypto, db, rules
from report_service.pdf import render_report_pdf
from report_service.terminal_client import TerminalClient
from tests.platform_client import free_port
from tests.test_pdf import build_document

PATH = "/v1/reports"
TERMINAL_ID = "T-FLOOR-0001"
MODES = ("http", "contract")
CLIENTS_FOR_LATENCY = 50
INSERT_REPORT = (
    "INSERT INTO reports (report_id, idempotency_key, request_hash, terminal_id, person_id, uscc,"
    " entity_name, region, domains, period_from, period_to, issued_at, valid_until,"
    " verification_code, summary, sha256, signature, pdf, revoked_at)"
    " VALUES (?, ?, ?, ?, 1, ?, ?, 'gansu', '[]', '2023-11-22', '2026-11-22',"
    " '2026-11-22 10:00:00.000000', '2027-02-20', ?, ?, ?, ?, ?, NULL)"
)
INSERT_NONCE = "INSERT INTO nonces (terminal_id, nonce, seen_at) VALUES (?, ?, ?)"


def sample() -> tuple[Any, bytes, bytes]:
    """A typical report (40 domains, 4 records), its PDF and a receipt of the real shape."""
    doc = build_document(40, 4, per_domain=1)
    pdf = render_report_pdf(doc)
    receipt = {
        "report_id": doc.report_id,
        "verification_code": doc.verification_code,
        "issued_at": doc.issued_at.isoformat(),
        "valid_until": doc.valid_until.isoformat(),
        "summary": rules.summary_json(doc.domains),
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "signature": "A" * 88,
    }
    return doc, pdf, json.dumps(receipt, ensure_ascii=False).encode()


# ------------------------------------------------------------------------------------ server


class FloorApp:
    """ASGI: `http` answers the receipt; `contract` first does what DESIGN §3 requires."""

    def __init__(self, mode: str, db_path: Path, terminal_public_b64: str) -> None:
        self.mode = mode
        self.terminal_key = crypto.load_public_key(terminal_public_b64)
        self.platform_key = crypto.SigningKey.generate()
        _, self.pdf, self.receipt = sample()
        self.summary = self.receipt.decode()
        engine = db.make_engine(str(db_path))
        db.init_db(engine)
        conn = engine.raw_connection().driver_connection  # the service's PRAGMAs
        if not isinstance(conn, sqlite3.Connection):
            raise RuntimeError(f"{db_path}: not an SQLite connection")
        self.conn = conn
        self.count = 0
        self.head = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.receipt)).encode()),
        ]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        status = 201 if self.mode == "http" else self.issue(scope["headers"], b"".join(chunks))
        await send({"type": "http.response.start", "status": status, "headers": self.head})
        await send({"type": "http.response.body", "body": self.receipt})

    def issue(self, raw_headers: list[tuple[bytes, bytes]], body: bytes) -> int:
        h = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw_headers}
        message = crypto.signing_string("POST", PATH, h["x-timestamp"], h["x-nonce"], body)
        if not crypto.verify(self.terminal_key, h["x-signature"], message):
            return 401
        signature = self.platform_key.sign_b64(self.pdf)
        digest = hashlib.sha256(self.pdf).hexdigest()
        self.count += 1
        rid = f"R{self.count:018d}"
        self.conn.execute(INSERT_NONCE, (TERMINAL_ID, h["x-nonce"], int(h["x-timestamp"])))
        self.conn.execute(
            INSERT_REPORT,
            (rid, rid, digest, TERMINAL_ID, "91620100MA00000000", "floor", rid[-12:],
             self.summary, digest, signature, self.pdf),
        )  # fmt: skip
        self.conn.commit()
        return 201


def serve(mode: str, port: int, db_path: Path, terminal_public_b64: str) -> None:
    import uvicorn

    app = FloorApp(mode, db_path, terminal_public_b64)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                lifespan="off")  # fmt: skip


# ------------------------------------------------------------------------------------ client


async def drive(port: int, terminal: TerminalClient, n: int, pid: int) -> dict[str, float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps(
        {"uscc": "91620100MA00000000", "domains": "all",
         "period": {"from": "2023-11-22", "to": "2026-11-22"}}
    ).encode()  # fmt: skip

    async def one() -> None:
        signed = terminal.signed_headers("POST", PATH, body)
        head = "".join(f"{k}: {v}\r\n" for k, v in signed.items())
        writer.write(
            f"POST {PATH} HTTP/1.1\r\nhost: floor\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n{head}\r\n".encode()
            + body
        )
        raw = await reader.readuntil(b"\r\n\r\n")
        if not raw.startswith(b"HTTP/1.1 201"):
            raise SystemExit(f"floor server refused a request: {raw[:40]!r}")
        length = next(
            int(line.split(b":")[1]) for line in raw.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )  # fmt: skip
        await reader.readexactly(length)

    for _ in range(min(300, n)):  # warm up: caches, the WAL, the first checkpoints
        await one()
    s0, c0, w0 = proc_cpu(pid), time.process_time(), time.perf_counter()
    for _ in range(n):
        await one()
    wall, client, server = time.perf_counter() - w0, time.process_time() - c0, proc_cpu(pid) - s0
    writer.close()
    return {"wall": wall / n * 1000, "server": server / n * 1000, "client": client / n * 1000}


def measure(mode: str, requests: int, workdir: Path) -> dict[str, float]:
    key = Ed25519PrivateKey.generate()
    terminal = TerminalClient("http://127.0.0.1", TERMINAL_ID, key, {})
    public_b64 = crypto.b64encode(terminal.key.public_key().public_bytes_raw())
    port, db_path = free_port(), workdir / f"{mode}.db"
    argv = [sys.executable, "-m", __spec__.name, "--serve", mode, "--port", str(port)]
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([*argv, "--db", str(db_path), "--key", public_b64], cwd=root)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the {mode} floor server did not start") from None
                time.sleep(0.1)
        return asyncio.run(drive(port, terminal, requests, proc.pid))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def bare_render(doc: Any, renders: int) -> float:
    for _ in range(10):
        render_report_pdf(doc)
    cpu = []
    for _ in range(renders):
        c0 = time.process_time()
        render_report_pdf(doc)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--requests", type=int, default=5000, help="timed requests per app")
    p.add_argument("--renders", type=int, default=300, help="timed in-process renders")
    p.add_argument("--serve", choices=MODES, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--key", help=argparse.SUPPRESS)
    add_quick(p, requests=40, renders=5)
    args = apply_quick(p.parse_args(argv))
    if args.serve:
        serve(args.serve, args.port, args.db, args.key)
        return 0
    if args.requests < 1 or args.renders < 1:
        p.error("--requests and --renders must be >= 1")
    cores = os.cpu_count() or 1
    print(f"host: {cores} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    doc, pdf, receipt = sample()
    print(f"sample report: {len(pdf) / 1024:.1f} KiB PDF, {len(receipt) / 1024:.1f} KiB receipt")
    with tempfile.TemporaryDirectory(prefix="floor-") as tmp:
        figures = {mode: measure(mode, args.requests, Path(tmp)) for mode in MODES}
    render = bare_render(doc, args.renders)
    for mode, f in figures.items():
        print(
            f"{mode:<9} server CPU {f['server']:.3f} ms/request, wall {f['wall']:.3f} ms, "
            f"client CPU {f['client']:.3f} ms ({args.requests} requests, one client)"
        )
    print(f"bare render of the same report: median {render:.3f} ms CPU ({args.renders} renders)")
    floor, client = figures["contract"]["server"], figures["contract"]["client"]
    best_rps = cores * 1000 / (render + floor + client)
    print(
        f"lowest server CPU per report = render + contract floor = {render + floor:.2f} ms; "
        f"lowest ratio to the bare render: {(render + floor) / render:.2f}x"
    )
    print(
        f"highest closed-loop throughput on {cores} cores shared with this client: "
        f"{best_rps:.0f} reports/s; lowest mean latency at {CLIENTS_FOR_LATENCY} clients "
        f"(Little's law): {CLIENTS_FOR_LATENCY / best_rps * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
