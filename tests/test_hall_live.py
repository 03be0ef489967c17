"""The dashboard is live: a change a terminal reports reaches an open event stream within seconds,
on SQLite in one process and across two serve processes on one PostgreSQL (LISTEN/NOTIFY)."""

from __future__ import annotations

import contextlib
import json
import queue
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from report_service import crypto
from report_service.terminal_client import TerminalClient

from .hall_support import Kiosk, Staff, add_staff, beat, terminal_in
from .platform_client import ServiceProcess, cli
from .postgres_server import pg_bin, seeded_platforms


class Stream:
    """An open `/halls/{hall}/events` stream, read on a thread into a queue of states."""

    def __init__(self, staff: Staff, hall: str) -> None:
        self.states: queue.Queue[dict[str, Any]] = queue.Queue()
        self.kinds: list[str] = []  # each event's kind, in order
        self.ended = threading.Event()  # the platform closed the stream
        self._context = staff.http.stream("GET", f"/halls/{hall}/events", timeout=None)
        self.response = self._context.__enter__()
        assert self.response.status_code == 200
        assert self.response.headers["content-type"].startswith("text/event-stream")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self.response.iter_lines():
                if line.startswith("event: "):
                    self.kinds.append(line[7:])
                elif line.startswith("data: ") and self.kinds[-1:] == ["state"]:
                    self.states.put(json.loads(line[6:]))
        except Exception:  # the test closed the stream
            return
        self.ended.set()

    def until(self, check: Any, timeout: float) -> tuple[dict[str, Any], float]:
        started = time.monotonic()
        while True:
            left = timeout - (time.monotonic() - started)
            state = self.states.get(timeout=max(left, 0.01))
            if check(state):
                return state, time.monotonic() - started

    def close(self) -> None:
        self._context.__exit__(None, None, None)


@contextlib.contextmanager
def watching(writer: ServiceProcess, reader: ServiceProcess, hall: str) -> Iterator[Watch]:
    """A staff member's stream of `hall` from `reader`, open and showing a terminal that beats
    to `writer`."""
    add_staff(reader, hall, "live-" + hall)
    staff = Staff(reader, "live-" + hall)
    kiosk = Kiosk(writer, hall)
    kiosk.heartbeat(beat())
    stream = Stream(staff, hall)
    try:
        stream.until(lambda s: any(t["terminal_id"] == kiosk.id for t in s["terminals"]), 10)
        yield Watch(staff, kiosk, stream)
    finally:
        stream.close()


@dataclass
class Watch:
    staff: Staff
    kiosk: Kiosk
    stream: Stream


PAPER_OUT = beat(**{"devices.a4_printer.paper": "out"})


def paper_of(state: dict[str, Any], kiosk: Kiosk) -> str | None:
    devices = terminal_in(state, kiosk.id)["devices"]
    return str(devices["a4_printer"]["paper"]) if devices else None


def watch_a_change(writer: ServiceProcess, reader: ServiceProcess, hall: str) -> float:
    """Seconds from a heartbeat to `writer` until `reader`'s stream shows its paper running out."""
    with watching(writer, reader, hall) as watch:
        watch.kiosk.heartbeat(PAPER_OUT)
        _, seconds = watch.stream.until(lambda s: paper_of(s, watch.kiosk) == "out", 10)
    return seconds


def test_a_device_change_reaches_an_open_dashboard_within_two_seconds(
    platform: ServiceProcess,
) -> None:
    seconds = watch_a_change(platform, platform, "hall-live-" + secrets.token_hex(3))
    assert seconds < 2.0


def test_an_open_stream_stops_when_its_login_ends(platform: ServiceProcess) -> None:
    """A stream outlives the request that opened it: after a logout (in another tab, say) it
    sends no more of the hall, only `logged_out`, and closes."""
    with watching(platform, platform, "hall-out-" + secrets.token_hex(3)) as watch:
        assert watch.staff.post("/halls/logout").status_code < 400
        watch.kiosk.heartbeat(PAPER_OUT)  # news the stream would send
        assert watch.stream.ended.wait(10), "the stream is still open after the logout"
        assert watch.stream.kinds[-1] == "logged_out"
        while not watch.stream.states.empty():
            assert paper_of(watch.stream.states.get(), watch.kiosk) != "out"


@pytest.fixture(scope="module")
def two_processes_on_postgres(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[ServiceProcess]]:
    if pg_bin() is None:
        pytest.skip(reason="PostgreSQL not installed: `make test` installs it; this machine cannot")
    with seeded_platforms(tmp_path_factory.mktemp("pg-live"), "gansu", 5, 3, processes=2) as both:
        yield both


@pytest.mark.postgres
def test_a_heartbeat_to_one_process_reaches_a_dashboard_served_by_the_other(
    two_processes_on_postgres: list[ServiceProcess],
) -> None:
    first, second = two_processes_on_postgres
    seconds = watch_a_change(first, second, "hall-pg-" + secrets.token_hex(3))
    assert seconds < 2.0


@pytest.mark.postgres
def test_a_steady_heartbeat_is_stored_once_and_its_replay_refused_on_postgres(
    two_processes_on_postgres: list[ServiceProcess],
) -> None:
    """On PostgreSQL the common heartbeat is one statement with its nonce (hall/steady.py)."""
    first, second = two_processes_on_postgres
    hall = "hall-pg-steady-" + secrets.token_hex(3)
    add_staff(second, hall, "steady-" + hall)
    staff = Staff(second, "steady-" + hall)
    kiosk = Kiosk(first, hall)
    path = f"/v1/terminals/{kiosk.id}/heartbeat"
    for uptime, changes in ((60, {}), (90, {}), (120, {"devices.a4_printer.paper": "low"})):
        body = beat(uptime_s=uptime, **changes)
        nonce = crypto.b64url_encode(secrets.token_bytes(16))
        assert kiosk.client.request("POST", path, body, nonce=nonce).status_code == 200
        mine = terminal_in(staff.state(hall), kiosk.id)
        assert mine["uptime_s"] == uptime  # stored, steady or not
        replayed = TerminalClient(
            second.base_url, kiosk.id, kiosk.client.key, kiosk.client.enrollment
        )
        again = replayed.request("POST", path, beat(uptime_s=uptime + 1, **changes), nonce=nonce)
        assert again.status_code == 401 and again.json()["error"]["code"] == "replayed_nonce"
        assert terminal_in(staff.state(hall), kiosk.id)["uptime_s"] == uptime
    assert mine["devices"]["a4_printer"]["paper"] == "low"


def test_statistics_count_reports_events_help_calls_and_export_as_csv(
    platform: ServiceProcess, tmp_path: Path
) -> None:
    hall = "hall-stats-" + secrets.token_hex(3)
    add_staff(platform, hall, "stats-" + hall, "hall_admin")
    cli("halls", "set-hours", "--db", platform.db, "--hall", hall, "--hours", "mon-sun 00:00-24:00")
    staff = Staff(platform, "stats-" + hall)
    kiosk = Kiosk(platform, hall)
    kiosk.heartbeat(beat())
    now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    kinds = [
        "print_done",
        "print_done",
        "verify_done",
        "pickup_fetched",
        "objection_filed",
        "login_ok",
    ]
    kiosk.events(
        [
            {"event_id": f"ev-{secrets.token_hex(6)}", "kind": k, "at": now, "fields": {}}
            for k in kinds
        ]
    )
    call_id = kiosk.assist().json()["call_id"]
    staff.post(f"/halls/{hall}/help-calls/{call_id}/acknowledge")
    rows = staff.http.get(f"/halls/{hall}/stats?days=2").json()["rows"]
    total = next(r for r in rows if r["terminal_id"] == "ALL" and r["reports_printed"])
    assert (
        total["reports_printed"],
        total["verifications"],
        total["pickups"],
        total["objections"],
    ) == (2, 1, 1, 1)
    assert total["help_calls"] == 1 and total["ack_median_s"] is not None, rows
    assert total["availability_pct"] is not None and total["availability_pct"] > 0
    csv = staff.http.get(f"/halls/{hall}/stats.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("日期 date,终端 terminal_id,出具报告 reports")
    assert any(line.split(",")[1] == kiosk.id for line in text.splitlines()[1:])
