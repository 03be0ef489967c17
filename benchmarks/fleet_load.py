"""The fleet benchmark's load: simulated terminals heartbeating and requesting reports over
signed keep-alive HTTP, a staff member's dashboard stream, and what they measured (Figures)."""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import itertools
import json
import math
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks.measures import percentile
from benchmarks.raw_http import ConnectionPool
from report_service import crypto

HALL_SIZE = 20
INTERVAL_S = 30
WATCHED_HALL = "fleet-hall-000"
SILENT = 5  # terminals of the watched hall that stop beating
SILENT_INTERVAL_S = 10
STAFF = ("fleet-staff", "fleet-staff-password")
BUSY = 200  # terminals that also request reports
WINDOW_S = 10.0  # the measured window's parts, to tell a burst from a slow minute


Reading = tuple[float, dict[str, float]]  # (monotonic time, CPU seconds of each meter)


def meter_readings(meters: dict[str, Callable[[], float]]) -> Reading:
    return time.monotonic(), {side: cpu() for side, cpu in meters.items()}


def cores_between(first: Reading, last: Reading) -> dict[str, float]:
    """The cores each meter kept busy between two readings."""
    seconds = max(last[0] - first[0], 1e-9)
    return {side: (last[1][side] - first[1][side]) / seconds for side in first[1]}


def window_ends(start: float, end: float, seconds: float = WINDOW_S) -> list[float]:
    """The ends of the `seconds`-long windows from `start` to `end` (the last one shorter)."""
    count = max(math.ceil((end - start) / seconds - 1e-9), 1)
    return [min(start + seconds * n, end) for n in range(1, count + 1)]


def window_of(at: float) -> int:
    """The window a time into the measured minute falls in: latencies, arrivals and cores are
    cut by this one rule, so that their per-window figures line up."""
    return int(at // WINDOW_S)


def cpu_ms_by_window(figures: Figures, side: str, per: str = "request") -> list[float]:
    """CPU ms `side` used in each window for each answered request (heartbeats and reports) or
    each `report` (NaN where none was answered). The load generator's work a request barely
    changes from window to window: its figure rising with the platform's points to slower cores,
    not to more work on the platform."""
    timelines = figures.reports if per == "report" else figures.heartbeats + figures.reports
    counts = collections.Counter(window_of(at) for at, _ in timelines)
    return [
        window[side] * seconds * 1000 / counts[i] if counts[i] else math.nan
        for i, (window, seconds) in enumerate(
            zip(figures.cores_by_window, figures.window_s, strict=True)
        )
    ]


def by_window(timeline: list[tuple[float, float]], count: int | None = None) -> str:
    """p99 in each window of the measured minute, e.g. "12/14/95/13/12/11 ms"; with `count`,
    every one of that many windows, "–" where nothing was answered (to line up with the cores)."""
    windows: dict[int, list[float]] = {}
    for at, ms in timeline:
        windows.setdefault(window_of(at), []).append(ms)
    shown = range(count) if count is not None else sorted(windows)
    return (
        "/".join(f"{percentile(windows[w], 0.99):.0f}" if w in windows else "–" for w in shown)
        + " ms"
    )


@dataclass
class Terminal:
    terminal_id: str
    hall: str
    key: Ed25519PrivateKey
    interval_s: int = INTERVAL_S
    session: str | None = None
    enterprises: list[str] = field(default_factory=list)
    last_beat: float | None = None  # when its last heartbeat went (monotonic)

    def headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        signed = crypto.signed_headers(self.terminal_id, self.key, method, path, body)
        return {**signed, "Content-Type": "application/json"}


@dataclass
class Figures:
    # (seconds into the measured window, ms) of every answered heartbeat and report: the figures,
    # and where the tail sits, spread over the minute or in a burst
    heartbeats: list[tuple[float, float]] = field(default_factory=list)
    heartbeat_errors: int = 0
    reports: list[tuple[float, float]] = field(default_factory=list)
    report_errors: int = 0
    report_statuses: dict[int, int] = field(default_factory=dict)
    # when each report request in the measured window was due, answered or not
    reports_due: list[float] = field(default_factory=list)
    reports_started: float = 0.0  # when the arrivals began, into the measured window (< 0: before)
    dashboard_events: list[float] = field(default_factory=list)
    offline_detection: list[float] = field(default_factory=list)
    measure_from: float = 0.0  # monotonic time the warm-up ends: only what is due later counts
    # the meters read at the start of the measured window and at the end of each WINDOW_S of it:
    # this process (the load generator), the serve processes, the PostgreSQL server's processes,
    # the whole machine (what else ran shows as the rest), and what the hypervisor says it stole
    readings: list[Reading] = field(default_factory=list)

    @property
    def cores(self) -> dict[str, float]:
        """The cores each meter kept busy over the measured window."""
        return cores_between(self.readings[0], self.readings[-1]) if self.readings else {}

    @property
    def cores_by_window(self) -> list[dict[str, float]]:
        return [cores_between(*pair) for pair in itertools.pairwise(self.readings)]

    @property
    def window_s(self) -> list[float]:
        """Each window's length, as read."""
        return [b[0] - a[0] for a, b in itertools.pairwise(self.readings)]


FAILED = (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


def answer_of(status: int, content: bytes, expected: int = 200) -> Any:
    if status != expected:
        raise RuntimeError(f"HTTP {status}: {content[:300]!r}")
    return json.loads(content)


async def enroll(pool: ConnectionPool, hall: str, token: str) -> Terminal:
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    body = {"enrollment_token": token, "public_key": crypto.b64encode(raw), "hardware": {}}
    answer = await pool.request("POST", "/v1/terminals/enroll",
                                {"Content-Type": "application/json"}, json.dumps(body).encode())  # fmt: skip
    return Terminal(answer_of(*answer)["terminal_id"], hall, key)


async def signed(pool: ConnectionPool, terminal: Terminal, method: str, path: str,
                 body: Any, extra: dict[str, str] | None = None) -> tuple[int, bytes]:  # fmt: skip
    raw = json.dumps(body).encode()
    return await pool.request(
        method, path, {**terminal.headers(method, path, raw), **(extra or {})}, raw
    )


def beat_body(interval: int, paper: str = "full") -> dict[str, Any]:
    device = {"state": "online", "reasons": [], "detail": ""}
    return {
        "interval_s": interval, "availability": "in_service",
        "devices": {"id_card": device, "qr_camera": device,
                    "a4_printer": {**device, "paper": paper}, "receipt_printer": {**device, "paper": "full"}},
        "queue": {"pending": 0, "dead_letters": 0, "oldest_age_s": None},
        "app_version": "0.1.0", "uptime_s": 100, "counters": {}, "last_error": None,
        "command_results": [],
    }  # fmt: skip


async def heartbeats(http: ConnectionPool, terminal: Terminal, until: float,
                     figures: Figures, stop_at: float | None = None) -> None:  # fmt: skip
    end = until if stop_at is None else min(until, stop_at)

    async def wait(seconds: float) -> None:  # never past the end: the run ends when it is due
        await asyncio.sleep(max(min(seconds, end - time.monotonic()), 0.0))

    await wait(random.uniform(0, terminal.interval_s))
    path = f"/v1/terminals/{terminal.terminal_id}/heartbeat"
    while time.monotonic() < end:
        started = time.monotonic()
        try:
            status, _ = await signed(http, terminal, "POST", path, beat_body(terminal.interval_s))
            ok = status == 200
        except FAILED:
            ok = False
        if started >= figures.measure_from:  # not in the warm-up
            if ok:
                took = (time.monotonic() - started) * 1000
                figures.heartbeats.append((started - figures.measure_from, took))
            else:
                figures.heartbeat_errors += 1
        terminal.last_beat = time.monotonic()
        await wait(terminal.interval_s * random.uniform(0.9, 1.1))


async def reports(http: ConnectionPool, busy: list[Terminal], rate: float, until: float,
                  figures: Figures, ramp_s: float) -> None:  # fmt: skip
    today = dt.date.today()
    period = {"from": (today - dt.timedelta(days=3 * 365)).isoformat(), "to": today.isoformat()}
    pending: set[asyncio.Task[None]] = set()

    async def one(terminal: Terminal, due: float) -> None:
        body = {"uscc": random.choice(terminal.enterprises), "domains": "all", "period": period}
        extra = {"Authorization": f"Bearer {terminal.session}",
                 "Idempotency-Key": secrets.token_urlsafe(12)}  # fmt: skip
        try:
            status, _ = await signed(http, terminal, "POST", "/v1/reports", body, extra)
        except FAILED:
            status = 0
        if due < figures.measure_from:
            return  # warm-up
        figures.report_statuses[status] = figures.report_statuses.get(status, 0) + 1
        if status == 201:
            took = (time.monotonic() - due) * 1000  # from when it was due
            figures.reports.append((due - figures.measure_from, took))
        else:
            figures.report_errors += 1

    due = started = time.monotonic()
    figures.reports_started = started - figures.measure_from
    while True:  # open loop: arrivals keep their schedule whatever the answers do
        due += random.expovariate(rate)
        if due >= until:
            break
        if random.random() > (due - started) / ramp_s:  # thinned: the rate ramps up linearly
            continue
        if due >= figures.measure_from:
            figures.reports_due.append(due - figures.measure_from)
        await asyncio.sleep(due - time.monotonic())
        task = asyncio.create_task(one(random.choice(busy), due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)


async def login(http: ConnectionPool, terminal: Terminal, person: dict[str, Any]) -> None:
    body = {"id_number": person["id_number"], "name": person["name"], "valid_until": None}
    data = answer_of(*await signed(http, terminal, "POST", "/v1/sessions/id-card", body))
    terminal.session = data["session_token"]
    terminal.enterprises = [e["uscc"] for e in data["enterprises"]]


async def watch(url: str, pool: ConnectionPool, watched: list[Terminal], silent: list[Terminal], until: float,
                figures: Figures) -> None:  # fmt: skip
    """The dashboard stream of the watched hall: paper changes of one terminal, the silent ones."""
    staff = httpx.AsyncClient(base_url=url, timeout=30)
    form = await staff.get("/halls/login")
    nonce = form.cookies.get("hall_login", "")
    await staff.post("/halls/login", content=f"username={STAFF[0]}&password={STAFF[1]}&login_nonce={nonce}",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    changer = watched[0]
    sent: dict[str, float] = {}  # paper value -> when its heartbeat was sent
    offline_seen: dict[str, float] = {}
    online_seen: set[str] = set()  # offline counts once a terminal had been seen online

    async def change() -> None:
        paper = "full"
        while time.monotonic() < until - 3:
            await asyncio.sleep(2)
            paper = "low" if paper == "full" else "full"
            if time.monotonic() >= figures.measure_from:
                sent[paper] = time.monotonic()
            with contextlib.suppress(*FAILED):
                await signed(pool, changer, "POST", f"/v1/terminals/{changer.terminal_id}/heartbeat",
                             beat_body(changer.interval_s, paper))  # fmt: skip

    changing = asyncio.create_task(change())
    # until `until`, not until the stream's next line after it (a quiet hall sends one a while later)
    with contextlib.suppress(TimeoutError):
        async with (
            asyncio.timeout(until - time.monotonic()),
            staff.stream("GET", f"/halls/{WATCHED_HALL}/events", timeout=None) as stream,
        ):
            async for line in stream.aiter_lines():
                if not line.startswith("data: "):
                    continue
                state = json.loads(line[6:])
                if "terminals" not in state:  # logged_out: the staff login ended mid-run
                    raise RuntimeError("the dashboard stream said the staff login ended")
                for terminal in state["terminals"]:
                    tid = terminal["terminal_id"]
                    if tid == changer.terminal_id and terminal["devices"]:
                        paper = terminal["devices"]["a4_printer"]["paper"]
                        if paper in sent:
                            figures.dashboard_events.append(
                                (time.monotonic() - sent.pop(paper)) * 1000
                            )
                    if terminal["status"] == "online":
                        online_seen.add(tid)
                    elif tid in online_seen and tid not in offline_seen:
                        offline_seen[tid] = time.monotonic()
    changing.cancel()
    for terminal in silent:
        last = terminal.last_beat
        if terminal.terminal_id in offline_seen and last is not None:
            due = last + 3 * terminal.interval_s
            figures.offline_detection.append(offline_seen[terminal.terminal_id] - due)
    await staff.aclose()


async def load(url: str, pairs: list[tuple[str, str]], people: list[dict[str, Any]],
               args: argparse.Namespace, meters: dict[str, Callable[[], float]]) -> Figures:  # fmt: skip
    http = ConnectionPool(url, args.connections)
    terminals = await asyncio.gather(*(enroll(http, h, t) for h, t in pairs))
    watched = [t for t in terminals if t.hall == WATCHED_HALL]
    silent = watched[1 : 1 + SILENT]
    for terminal in silent:
        terminal.interval_s = SILENT_INTERVAL_S
    busy = [t for t in terminals if t not in watched][:BUSY]
    with_roles = [p for p in people if p["roles"]]
    await asyncio.gather(
        *(login(http, t, with_roles[i % len(with_roles)]) for i, t in enumerate(busy))
    )
    busy = [t for t in busy if t.enterprises]
    figures = Figures(measure_from=time.monotonic() + args.warmup)
    until = figures.measure_from + args.duration
    print(f"  {len(terminals)} terminals enrolled, {len(busy)} with a session; load for "
          f"{args.warmup:.0f} s of warm-up, then {args.duration:.0f} s measured", flush=True)  # fmt: skip
    stop_silent = figures.measure_from + 10
    tasks = [heartbeats(http, t, until, figures, stop_silent if t in silent else None)
             for t in terminals if t is not watched[0]]  # fmt: skip
    ramp_s = max(min(args.warmup, INTERVAL_S), 1e-3)  # the first beats' interval, within warm-up
    tasks += [reports(http, busy, args.report_rate, until, figures, ramp_s),
              watch(url, http, watched, silent, until + 2, figures)]  # fmt: skip

    async def cores() -> None:
        await asyncio.sleep(max(figures.measure_from - time.monotonic(), 0.0))
        figures.readings.append(meter_readings(meters))
        for ends in window_ends(figures.measure_from, until):  # as window_of cuts the latencies
            await asyncio.sleep(max(ends - time.monotonic(), 0.0))
            figures.readings.append(meter_readings(meters))

    await asyncio.gather(*tasks, cores())
    await http.close()
    return figures
