"""`report-service serve --workers N`: connections reach every process, a process that dies is
replaced, and the port is not shared with another platform started by mistake."""

from __future__ import annotations

import os
import re
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from .platform_client import ServiceProcess, cli, start_service


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    workdir = tmp_path_factory.mktemp("two")
    db = str(workdir / "platform.db")
    cli("seed", "--db", db, "--region", "gansu", "--entities", "3", "--seed", "3")
    service = start_service(db, workdir, workers=2)
    port = address(service)[1]
    deadline = time.monotonic() + 30  # one process answering is "up"; both listening is ready
    while listeners(port) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    yield service
    service.stop()


def address(service: ServiceProcess) -> tuple[str, int]:
    parts = urlsplit(service.base_url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def served_by(service: ServiceProcess) -> dict[str, int]:
    """Health checks answered, by serve process (each reports its own in /metrics)."""
    seen: dict[str, int] = {}
    for _ in range(40):  # each fresh connection lands on one process or the other
        text = httpx.get(service.base_url + "/metrics", headers={"Connection": "close"}).text
        for pid, count in re.findall(r'route="/healthz",pid="(\d+)"\} (\d+)', text):
            seen[pid] = int(count)
    return seen


def listeners(port: int) -> int:
    """Sockets listening on the port (/proc/net/tcp: state 0A)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for r in rows if r.split()[1].endswith(f":{port:04X}") and r.split()[3] == "0A")


def worker_pids(service: ServiceProcess) -> list[int]:
    return [int(p) for p in re.findall(r"Started server process \[(\d+)\]", service.log_text())]


def test_keep_alive_connections_are_spread_over_the_processes(two: ServiceProcess) -> None:
    host, port = address(two)
    assert listeners(port) == 2  # a socket each, which the kernel balances; not one shared
    before = served_by(two)
    connections = [socket.create_connection((host, port)) for _ in range(24)]
    for conn in connections:  # held open: keep-alive connections, as a kiosk fleet keeps them
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: kiosk\r\n\r\n")
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")
    after = served_by(two)
    for conn in connections:
        conn.close()
    grew = {pid: n - before.get(pid, 0) for pid, n in after.items()}
    assert len(grew) == 2 and all(n > 0 for n in grew.values()), grew


def test_a_process_that_dies_is_replaced(two: ServiceProcess) -> None:
    first = worker_pids(two)
    assert len(first) == 2
    os.kill(first[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while len(worker_pids(two)) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(worker_pids(two)) == 3, two.log_text()[-2000:]
    assert "exited with -9; starting another" in two.log_text()
    for _ in range(10):  # every connection is answered, whichever process it reaches
        assert (
            httpx.get(two.base_url + "/healthz", headers={"Connection": "close"}).status_code == 200
        )


def test_a_second_platform_on_the_same_port_is_refused(two: ServiceProcess, tmp_path: Path) -> None:
    host, port = address(two)
    refused = cli(
        "serve", "--db", two.db, "--host", host, "--port", str(port), "--workers", "2", check=False
    )
    assert refused.returncode != 0 and f"cannot listen on {host}:{port}" in refused.stderr
