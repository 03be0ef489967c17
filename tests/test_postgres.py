"""The service's core against a real PostgreSQL server: seed, import, rules, reports, verification."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import func, select, text

from report_service import crypto, db
from report_service.bootstrap import open_platform
from report_service.errors import ApiError
from report_service.hall import HallService
from report_service.hall.models import TerminalState
from report_service.hall.schemas import Heartbeat
from report_service.schemas import ReportBody
from report_service.service import PlatformService
from report_service.signing import Caller, SignedRequest

from .hall_support import beat
from .platform_client import ServiceProcess, start_service
from .postgres_server import pg_bin, postgres_server, seeded_platforms, statements_run
from .test_region_rules import EXPECTED, check_region, load_casebooks

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    if pg_bin() is None:
        pytest.skip(reason="PostgreSQL not installed: `make test` installs it; this machine cannot")
    with seeded_platforms(tmp_path_factory.mktemp("pg"), "wuhai", 30, 3) as (service,):
        yield service


@pytest.fixture(scope="module")
def books(
    pg_platform: ServiceProcess, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, str]]:
    return load_casebooks(pg_platform, tmp_path_factory.mktemp("books"))


def test_core_on_postgresql(pg_platform: ServiceProcess, books: dict[str, dict[str, str]]) -> None:
    for region in EXPECTED:
        check_region(pg_platform, books[region], region)

    from .conftest import enroll

    terminal = enroll(pg_platform, "heihe")
    info = books["heihe"]
    token = terminal.login_card(info["id_number"], "规则测试人")["session_token"]
    first = terminal.report(token, info["uscc"], "2021-01-01", "2024-12-31", key="pg-ticket-0001")
    again = terminal.report(token, info["uscc"], "2021-01-01", "2024-12-31", key="pg-ticket-0001")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    report = first.json()
    pdf = terminal.request("GET", f"/v1/reports/{report['report_id']}/pdf", token=token).content
    assert hashlib.sha256(pdf).hexdigest() == report["sha256"]
    key = crypto.load_public_key(terminal.enrollment["platform_public_key"])
    assert crypto.verify(key, report["signature"], pdf)
    verified = httpx.get(f"{pg_platform.base_url}/v1/verify/{report['verification_code']}").json()
    assert verified["status"] == "valid" and verified["uscc"] == info["uscc"]
    assert verified["issued_at"] == report["issued_at"]  # the same instant, in platform time


def test_one_terminal_per_enrollment_token_on_postgresql(
    pg_platform: ServiceProcess, tmp_path: Path
) -> None:
    from .test_platform_access import check_one_terminal_per_token

    check_one_terminal_per_token([pg_platform])  # one serve process
    second = start_service(pg_platform.db, tmp_path, keys=pg_platform.keys)
    try:
        check_one_terminal_per_token([pg_platform, second])  # two processes, one database
    finally:
        second.stop()


def test_connections_the_server_dropped_are_replaced_not_handed_out() -> None:
    """A restarted server (or a firewall) leaves the pool's connections dead: one idle past the
    limit is checked before use and replaced."""
    if pg_bin() is None:
        pytest.skip(reason="PostgreSQL not installed: `make test` installs it; this machine cannot")
    with postgres_server() as url:
        engine = db.make_engine(url, idle_ping_s=0.0)
        with db.reading(engine) as conn:
            mine = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (mine,))
        for _ in range(3):  # the dropped one is replaced, for readers and writers alike
            with db.reading(engine) as conn:
                assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != mine
            with engine.begin() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1
        engine.dispose()


def test_reads_run_without_a_transaction_and_writes_after_them_in_one() -> None:
    """db.reading: each statement its own snapshot (no BEGIN/ROLLBACK round trips); the pooled
    connection it used is transactional again for the next write, which rolls back whole."""
    if pg_bin() is None:
        pytest.skip(reason="PostgreSQL not installed: `make test` installs it; this machine cannot")
    age = text("SELECT extract(epoch FROM statement_timestamp() - transaction_timestamp())")
    with postgres_server() as url:
        engine = db.make_engine(url)  # one pooled connection, used by each block in turn
        with db.reading(engine) as conn:
            conn.execute(text("SELECT 1"))
            time.sleep(0.2)
            assert conn.execute(age).scalar_one() < 0.1  # a transaction of its own
        with engine.connect() as conn, conn.begin():
            conn.execute(text("CREATE TABLE t (x int)"))
        with pytest.raises(RuntimeError), engine.connect() as conn, conn.begin():
            conn.execute(text("INSERT INTO t VALUES (1)"))
            time.sleep(0.2)
            assert conn.execute(age).scalar_one() >= 0.2  # one transaction since the insert
            raise RuntimeError("the write fails half way")
        with db.reading(engine) as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
        engine.dispose()


@pytest.fixture
def in_process(pg_platform: ServiceProcess) -> Iterator[PlatformService]:
    """The platform's service in this process, on the serve process's database."""
    service = open_platform(pg_platform.db, pg_platform.keys, create=False)
    yield service
    service.engine.dispose()


def test_a_report_and_its_nonce_are_one_write_on_postgresql(
    pg_platform: ServiceProcess, books: dict[str, dict[str, str]], in_process: PlatformService
) -> None:
    """The report's write is one statement with its request's nonce (signing.with_nonce): a retry
    racing the first attempt gets the first one's report, a replay racing its original nothing."""
    from .conftest import enroll

    info = books["heihe"]
    terminal = enroll(pg_platform, "heihe")
    token = terminal.login_card(info["id_number"], "规则测试人")["session_token"]
    service = in_process
    reports = service.reports
    caller = Caller(terminal.terminal_id, "hall-test", "heihe")
    person = service.logins.session_for(caller, token).person_id
    body = {
        "uscc": info["uscc"],
        "domains": "all",
        "period": {"from": "2021-01-01", "to": "2024-12-31"},
    }
    request = ReportBody.model_validate(body).to_request()

    def signed() -> SignedRequest:
        return SignedRequest(
            caller, crypto.b64url_encode(secrets.token_bytes(16)), int(time.time())
        )

    def nonces(*which: SignedRequest) -> int:
        with service.engine.connect() as conn:
            found = select(func.count()).where(db.Nonce.nonce.in_([s.nonce for s in which]))
            return conn.execute(found).scalar_one()

    def reports_for(key: str) -> int:
        with service.engine.connect() as conn:
            found = select(func.count()).where(db.Report.idempotency_key == key)
            return conn.execute(found).scalar_one()

    first_call, retry = signed(), signed()
    both = [reports.plan_for(caller, person, "pg-race-1", request, s) for s in (first_call, retry)]
    rendered = reports.render(both[0])
    with statements_run(service.engine) as sent:
        first = reports.store(both[0], rendered)
    assert [outside for _, outside in sent] == [True]  # one statement, no BEGIN or COMMIT
    assert nonces(first_call) == 1 and reports_for("pg-race-1") == 1
    assert reports.store(both[1], reports.render(both[1])) == first  # the winner's report
    assert nonces(retry) == 1 and reports_for("pg-race-1") == 1

    replay = reports.plan_for(caller, person, "pg-race-2", request, first_call)
    with pytest.raises(ApiError) as refused:
        reports.store(replay, reports.render(replay))
    assert refused.value.code == "replayed_nonce" and reports_for("pg-race-2") == 0


def test_a_replayed_steady_heartbeat_is_refused_by_its_one_statement_on_postgresql(
    pg_platform: ServiceProcess, in_process: PlatformService
) -> None:
    """A replay racing its original past the signature check (both saw the nonce unrecorded):
    the steady heartbeat's statement fails on the nonce, nothing is written, the call is 401."""
    from .conftest import enroll

    terminal = enroll(pg_platform, "heihe")
    first = terminal.request("POST", f"/v1/terminals/{terminal.terminal_id}/heartbeat", beat())
    assert first.status_code == 200  # the terminal's state exists: the next beats are steady
    hall = HallService.build(in_process.engine, in_process.clock, in_process.auth)
    caller = Caller(terminal.terminal_id, "hall-test", "heihe")
    signed = SignedRequest(caller, crypto.b64url_encode(secrets.token_bytes(16)), int(time.time()))

    def beat_with(uptime: int) -> dict[str, Any]:
        body = Heartbeat.model_validate(beat(uptime_s=uptime))
        return hall.telemetry.heartbeat(signed, terminal.terminal_id, body)

    def uptime() -> int:
        with in_process.engine.connect() as conn:
            found = select(TerminalState.uptime_s).where(
                TerminalState.terminal_id == caller.terminal_id
            )
            return conn.execute(found).scalar_one()

    assert beat_with(90)["commands"] == [] and uptime() == 90
    with pytest.raises(ApiError) as refused:
        beat_with(120)
    assert refused.value.code == "replayed_nonce" and uptime() == 90
