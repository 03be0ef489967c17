"""A platform that never freezes (issue 14): another process holding the SQLite write lock, an
import running beside live traffic, bodies that trickle, a power cut. Real serve processes."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from report_service.db import make_engine

from .casebook import company_and_person, id_number, uscc
from .conftest import enroll, import_jsonl
from .platform_client import ROOT, ServiceProcess, TerminalClient, cli, start_service

COMPANY = uscc("wuhai", 7801)
PERSON = id_number("wuhai", 781)


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A platform of its own (the lock test blocks its writers) answering 503 after 2 s."""
    workdir = tmp_path_factory.mktemp("busy")
    db = str(workdir / "busy.db")
    cli("seed", "--db", db, "--region", "wuhai", "--entities", "20", "--seed", "5")
    service = start_service(db, workdir, extra=("--db-wait", "2", "--body-timeout", "2"))
    import_jsonl(
        service,
        workdir / "p.jsonl",
        company_and_person("wuhai", COMPANY, "乌海繁忙测试有限公司", PERSON, "繁忙测试人", "agent"),
    )
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def kiosk(busy: ServiceProcess) -> TerminalClient:
    return enroll(busy, "wuhai")


def report(kiosk: TerminalClient) -> httpx.Response:
    token = kiosk.login_card(PERSON, "繁忙测试人")["session_token"]
    return kiosk.report(token, COMPANY, "2023-01-01", "2024-12-31")


class HeldWriteLock:
    """Another process's write transaction on the database, as an import or a seed holds it."""

    def __init__(self, db: str) -> None:
        self.conn = sqlite3.connect(db, timeout=30, isolation_level=None)

    def __enter__(self) -> HeldWriteLock:
        self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def test_health_and_verification_answer_while_reports_wait_on_a_held_write_lock(
    busy: ServiceProcess, kiosk: TerminalClient
) -> None:
    issued = report(kiosk)
    assert issued.status_code == 201
    code = issued.json()["verification_code"]
    token = kiosk.login_card(PERSON, "繁忙测试人")["session_token"]
    answers: list[httpx.Response] = []
    order: list[str] = []

    def waiting_report() -> None:
        answers.append(kiosk.report(token, COMPANY, "2023-01-01", "2024-12-31"))
        order.append("report")

    with HeldWriteLock(busy.db):
        pending = [threading.Thread(target=waiting_report) for _ in range(6)]
        for t in pending:
            t.start()
        time.sleep(0.5)  # the report requests are in and waiting for the lock
        health = httpx.get(busy.base_url + "/healthz", timeout=30)
        order.append("healthz")
        verified = httpx.get(f"{busy.base_url}/v1/verify/{code}", timeout=30)
        order.append("verify")
        for t in pending:
            t.join(60)
    assert health.status_code == 200 and health.json()["database"] is True
    assert verified.status_code == 200 and verified.json()["status"] == "valid"
    assert order[:2] == ["healthz", "verify"]  # answered before any waiting report
    assert len(answers) == 6
    for r in answers:  # never a 500 and never a hang: 503 with Retry-After
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "database_busy" and int(r.headers["Retry-After"]) > 0
    assert report(kiosk).status_code == 201  # the lock gone, the platform serves again


def test_a_framework_route_waiting_on_the_lock_is_logged_with_the_503_it_answered(
    busy: ServiceProcess, kiosk: TerminalClient
) -> None:
    body = {"id_number": PERSON, "name": "繁忙测试人", "valid_until": None}
    with HeldWriteLock(busy.db):
        login = kiosk.request("POST", "/v1/sessions/id-card", body)
    assert login.status_code == 503 and login.json()["error"]["code"] == "database_busy"
    time.sleep(0.3)  # the access line is written as the response leaves
    log = busy.log_text()
    t = kiosk.terminal_id
    assert re.search(
        rf"POST /v1/sessions/id-card 503 [0-9.]+ms terminal={t} code=database_busy", log
    ), log[-2000:]
    assert "Traceback" not in log  # a busy database is a warning line, not a bug's traceback


def test_an_import_beside_live_traffic_commits_in_short_batches(
    busy: ServiceProcess, kiosk: TerminalClient
) -> None:
    seeding = subprocess.Popen(
        [sys.executable, "-m", "report_service", "seed", "--db", busy.db, "--region", "wuhai",
         "--entities", "4000", "--seed", "9"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    statuses: list[int] = []
    counts: set[int] = set()
    watcher = sqlite3.connect(f"file:{busy.db}?mode=ro", uri=True, timeout=30)
    while seeding.poll() is None:
        counts.add(watcher.execute("SELECT count(*) FROM records").fetchone()[0])
        statuses.append(report(kiosk).status_code)
    watcher.close()
    assert seeding.returncode == 0, seeding.stderr.read() if seeding.stderr else ""
    assert statuses and set(statuses) == {201}  # every report served while the import ran
    assert len(counts) >= 3  # the import's records appeared batch by batch


def test_trickled_bodies_are_cut_after_the_body_timeout(busy: ServiceProcess) -> None:
    port = int(busy.base_url.rsplit(":", 1)[1])
    held: list[socket.socket] = []
    paths = (b"/v1/reports", b"/v1/sessions/id-card", b"/v1/objections", b"/v1/terminals/enroll")
    for i in range(20):  # the report fast path and routes the framework reads
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(
            b"POST " + paths[i % len(paths)] + b" HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + b'{"uscc": "'
        )
        held.append(s)
    started = time.monotonic()
    for s in held:
        s.settimeout(30)
        answer = b""
        while chunk := s.recv(4096):  # the server answers, then closes the connection
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
        assert b"request_timeout" in answer
        s.close()
    assert time.monotonic() - started < 25  # cut by the server, not by this test's patience
    assert httpx.get(busy.base_url + "/healthz").status_code == 200


def test_the_platform_commits_with_synchronous_full(tmp_path: Path) -> None:
    engine = make_engine(str(tmp_path / "s.db"))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
