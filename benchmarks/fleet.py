"""Fleet benchmark: a province's terminals heartbeating to one platform while reports are requested,
on SQLite and on PostgreSQL, in one run (issue: hall operations).

    .venv/bin/python -m benchmarks.fleet [--terminals 3000] [--report-rate 150] [--duration 60]
                                         [--databases sqlite,postgres] [--workers 2] [--quick]
                                         [--pg-setting NAME=VALUE] [--wal-ahead-segments 128]

Each database: `report-service seed`, `serve --workers 2`, then --terminals terminals enrolled in
halls of 20, each sending a signed heartbeat every 30 s (random phase, ±10 % jitter: about 100/s for
3,000), and report requests arriving open-loop (Poisson, --report-rate per second) from 200 of them,
each with a card session. A warm-up comes first (--warmup, 45 s): every terminal makes its first
beat within its first interval, as on the day a fleet is enrolled, while the report arrivals ramp up
from none to the full rate over that same interval; only what is due after the warm-up is measured.
Meanwhile a staff member's dashboard stream watches one hall: a terminal
there changes its paper state every 2 s (the time to the stream's event is measured), and five of its
terminals (10 s interval) fall silent after 10 s (the time from their third missed beat to the
dashboard showing them offline is measured). The load generator runs on the same two cores.

PostgreSQL runs in a private cluster made for the run (tests/postgres_server.py: fsync=off), with
the WAL sizing of PG_SETTINGS and its WAL segments made ahead (wal_made_ahead), as a server in
service has them; --no-wal-ahead leaves them out.

Prints, per database: heartbeats and reports (count, p50, p99, errors), dashboard event p50/p99 and
offline detection, the cores each side used, and the baseline: the bare render of a typical report
timed just before the load (benchmarks/contract_floor.bare_render), alone and with every core
rendering at once, with the platform's CPU a report as a multiple of the second (the same machine
has run the same load on 0.8 to 1.0 platform cores in different hours: the baseline says whether
its cores were slower). Then a Markdown block for benchmarks/RESULTS.md. Never fails on a target.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import platform
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks.contract_floor import bare_render, sample
from benchmarks.quick import add_quick, apply_quick
from benchmarks.raw_http import ConnectionPool
from benchmarks.report_api import CLK_TCK, proc_cpu, process_tree, stat_fields
from report_service import crypto
from tests.platform_client import free_port
from tests.postgres_server import pg_bin, postgres_server, server_settings

HALL_SIZE = 20
INTERVAL_S = 30
WATCHED_HALL = "fleet-hall-000"
SILENT = 5  # terminals of the watched hall that stop beating
SILENT_INTERVAL_S = 10
STAFF = ("fleet-staff", "fleet-staff-password")
BUSY = 200  # terminals that also request reports
# WAL sizing for ~10 MB/s of WAL, and the segments to make ahead (docs/architecture.md,
# "PostgreSQL's WAL"); --pg-setting values come after these and win
PG_SETTINGS = ("min_wal_size=2GB", "max_wal_size=4GB")
WAL_AHEAD_SEGMENTS = 128  # 2 GB of 16 MB segments: more than a run writes


def by_window(timeline: list[tuple[float, float]], seconds: float = 10.0) -> str:
    """p99 in each `seconds` of the measured window, e.g. "12/14/95/13/12/11 ms"."""
    windows: dict[int, list[float]] = {}
    for at, ms in timeline:
        windows.setdefault(int(at // seconds), []).append(ms)
    return "/".join(f"{pct(windows[w], 0.99):.0f}" for w in sorted(windows)) + " ms"


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Terminal:
    terminal_id: str
    hall: str
    key: Ed25519PrivateKey
    interval_s: int = INTERVAL_S
    session: str | None = None
    enterprises: list[str] = field(default_factory=list)

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
    dashboard_events: list[float] = field(default_factory=list)
    offline_detection: list[float] = field(default_factory=list)
    measure_from: float = 0.0  # monotonic time the warm-up ends: only what is due later counts
    # cores busy in the measured window: this process (the load generator), the serve processes,
    # the PostgreSQL server's processes, and the whole machine (what else ran shows as the rest)
    cores: dict[str, float] = field(default_factory=dict)


KEYS: dict[str, str] = {}  # database URL -> its key directory (PostgreSQL has no file beside it)


def wal_made_ahead(url: str, segments: int = WAL_AHEAD_SEGMENTS) -> None:
    """Make the WAL segments a server in service already has: created now, freed by a checkpoint
    and kept for reuse (min_wal_size), so that the run's WAL reuses them, as it would in service,
    instead of creating each one."""
    if segments == 0:
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE wal_ahead (n integer)")
        for n in range(segments):
            conn.execute("INSERT INTO wal_ahead VALUES (%s)", (n,))
            conn.execute("SELECT pg_switch_wal()")
        conn.execute("DROP TABLE wal_ahead")
        conn.execute("CHECKPOINT")
    os.sync()  # their zeros on disk now, not written back during the run


def on(db: str) -> list[str]:
    """`--db URL` and, where the database needs one, `--keys DIR`."""
    return ["--db", db, *(["--keys", KEYS[db]] if db in KEYS else [])]


def report_service(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "report_service", *args], input=stdin,
                          capture_output=True, text=True, timeout=1800, check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"report-service {' '.join(args[:2])}: {done.stderr.strip()[-500:]}")
    return done.stdout


@contextlib.contextmanager
def serving(db: str, workers: int, workdir: Path) -> Iterator[tuple[str, Callable[[], float]]]:
    """The serve process's URL, and a reading of the CPU seconds its process tree has used."""
    port = free_port()
    log = open(workdir / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "report_service", "serve", *on(db), "--port", str(port),
         "--workers", str(workers)], stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield url, lambda: sum(proc_cpu(pid) for pid in process_tree(proc.pid))
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def database_cpu(db: str) -> Callable[[], float]:
    """CPU seconds of the PostgreSQL server's processes (its postmaster found by its port), with
    those of its children that have ended; SQLite works inside the serve processes: 0 there."""
    port = urlsplit(db).port if db.startswith("postgresql") else None
    if port is None:
        return lambda: 0.0
    found = {pid for pid in _pids() if f"-p {port} " in _cmdline(pid) + " "}
    roots = [pid for pid in found if _parent(pid) not in found]
    if len(roots) != 1:
        return lambda: float("nan")
    root = roots[0]
    return lambda: sum(proc_cpu(pid) for pid in process_tree(root)) + _ended_children_cpu(root)


def machine_cpu() -> float:
    """CPU seconds every core of the machine has been busy (not idle, waiting for I/O, or
    stolen by the hypervisor for other guests)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq = map(int, stat.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / CLK_TCK


def _parent(pid: int) -> int:
    fields = stat_fields(pid)
    return int(fields[1]) if fields else 0


def _ended_children_cpu(pid: int) -> float:
    fields = stat_fields(pid)
    return (int(fields[13]) + int(fields[14])) / CLK_TCK if fields else 0.0  # cutime, cstime


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def prepare(db: str, args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    """Seed the platform, a staff member and the halls' tokens; returns the seeded people."""
    lines = workdir / f"seed-{secrets.token_hex(3)}.jsonl"
    report_service("seed", *on(db), "--region", "gansu", "--entities", str(args.entities),
                   "--seed", "5", "--out", str(lines))  # fmt: skip
    report_service("staff", "add", *on(db), "--hall", WATCHED_HALL, "--region", "gansu",
                   "--username", STAFF[0], "--role", "hall_admin", stdin=STAFF[1] + "\n")  # fmt: skip
    report_service("halls", "set-hours", *on(db), "--hall", WATCHED_HALL,
                   "--hours", "mon-sun 00:00-24:00")  # fmt: skip
    people = [json.loads(line) for line in lines.read_text().splitlines()]
    return [p for p in people if p["type"] == "person"]


def tokens(db: str, count: int) -> list[tuple[str, str]]:
    """(hall, token) for `count` terminals, halls of HALL_SIZE."""
    out: list[tuple[str, str]] = []
    for first in range(0, count, HALL_SIZE):
        hall = f"fleet-hall-{first // HALL_SIZE:03d}"
        n = min(HALL_SIZE, count - first)
        text = report_service("terminals", "add-token", *on(db), "--hall", hall,
                              "--region", "gansu", "--count", str(n))  # fmt: skip
        out += [(hall, t) for t in text.split()]
    return out


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
        terminal.last_beat = time.monotonic()  # type: ignore[attr-defined]
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
    while True:  # open loop: arrivals keep their schedule whatever the answers do
        due += random.expovariate(rate)
        if due >= until:
            break
        if random.random() > (due - started) / ramp_s:  # thinned: the rate ramps up linearly
            continue
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
        last = getattr(terminal, "last_beat", None)
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

    async def cores() -> None:  # the cores each side used in the measured window
        await asyncio.sleep(args.warmup)
        before = {side: cpu() for side, cpu in meters.items()}
        await asyncio.sleep(args.duration)
        figures.cores = {
            side: (cpu() - before[side]) / args.duration for side, cpu in meters.items()
        }

    await asyncio.gather(*tasks, cores())
    await http.close()
    return figures


def _bare_render(renders: int) -> float:
    return bare_render(sample()[0], renders)


def bare_renders(renders: int) -> tuple[float, float]:
    """The same work in every run, timed just before the load: the bare render's median CPU ms
    alone, then with every core rendering at once. The second is what the load runs in: a core
    whose sibling is busy is slower (hyper-threads share a core), which a render alone cannot show."""
    alone = _bare_render(renders)
    cores = os.cpu_count() or 1
    with ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("fork")) as pool:
        together = statistics.median(pool.map(_bare_render, [renders] * cores))
    return alone, together


def run_database(name: str, db: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    print(
        f"[{name}] seeding {args.entities} entities, {args.terminals} terminals' tokens", flush=True
    )
    people = prepare(db, args, workdir)
    pairs = tokens(db, args.terminals)
    alone, bare = bare_renders(args.renders)
    with serving(db, args.workers, workdir) as (url, server_cpu):
        meters = {"generator": time.process_time, "platform": server_cpu,
                  "database": database_cpu(db), "machine": machine_cpu}  # fmt: skip
        figures = asyncio.run(load(url, pairs, people, args, meters))
    beats, issued = [ms for _, ms in figures.heartbeats], [ms for _, ms in figures.reports]
    row = {
        "database": name,
        "heartbeats": len(beats), "hb_p50": pct(beats, 0.5),
        "hb_p99": pct(beats, 0.99), "hb_errors": figures.heartbeat_errors,
        "reports": len(issued), "report_rate": len(issued) / args.duration,
        "rep_p50": pct(issued, 0.5), "rep_p99": pct(issued, 0.99),
        "rep_errors": figures.report_errors,
        "statuses": dict(sorted(figures.report_statuses.items())),
        "events": len(figures.dashboard_events), "ev_p50": pct(figures.dashboard_events, 0.5),
        "ev_p99": pct(figures.dashboard_events, 0.99),
        "offline_seen": len(figures.offline_detection),
        "offline_max_s": max(figures.offline_detection, default=float("nan")),
        **{f"{side}_cores": cores for side, cores in figures.cores.items()},
        "bare_alone_ms": alone, "bare_ms": bare,
    }  # fmt: skip
    # the platform's CPU a report, heartbeats included, in bare renders with every core busy
    row["cpu_per_report"] = row["platform_cores"] * 1000 / max(row["report_rate"], 1e-9)
    row["in_renders"] = row["cpu_per_report"] / bare
    print(f"[{name}] heartbeats {row['heartbeats']} p50 {row['hb_p50']:.1f} ms p99 {row['hb_p99']:.1f} ms "
          f"errors {row['hb_errors']}; reports {row['reports']} ({row['report_rate']:.1f}/s) "
          f"p50 {row['rep_p50']:.1f} ms p99 {row['rep_p99']:.1f} ms errors {row['rep_errors']} "
          f"{row['statuses']}; dashboard events {row['events']} p50 {row['ev_p50']:.0f} ms "
          f"p99 {row['ev_p99']:.0f} ms; offline seen {row['offline_seen']}/{SILENT}, at most "
          f"{row['offline_max_s']:.1f} s after the third missed beat; cores busy: load generator "
          f"{row['generator_cores']:.2f}, platform {row['platform_cores']:.2f}, database "
          f"{row['database_cores']:.2f}, whole machine {row['machine_cores']:.2f}; platform CPU "
          f"{row['cpu_per_report']:.1f} ms a report (heartbeats included) = {row['in_renders']:.2f}× "
          f"the bare render just before, {bare:.2f} ms CPU with every core rendering "
          f"({alone:.2f} ms alone)", flush=True)  # fmt: skip
    print(f"[{name}] p99 in each 10 s: heartbeats {by_window(figures.heartbeats)}; "
          f"reports {by_window(figures.reports)}", flush=True)  # fmt: skip
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--terminals", type=int, default=3000)
    p.add_argument("--report-rate", type=float, default=150.0, help="report requests per second")
    p.add_argument("--duration", type=float, default=60.0, help="seconds measured per database")
    p.add_argument("--warmup", type=float, default=45.0,
                   help="seconds before the measured ones: every terminal beats once, reports ramp up")  # fmt: skip
    p.add_argument("--entities", type=int, default=2000)
    p.add_argument("--renders", type=int, default=200,
                   help="bare renders timed before each database's load (the machine's speed now)")  # fmt: skip
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--connections", type=int, default=128,
                   help="keep-alive connections the simulated terminals share")  # fmt: skip
    p.add_argument("--databases", default="sqlite,postgres")
    p.add_argument("--pg-setting", action="append", default=[], metavar="NAME=VALUE",
                   help="a setting for the PostgreSQL server (repeatable)")  # fmt: skip
    p.add_argument("--wal-ahead-segments", type=int, default=WAL_AHEAD_SEGMENTS, metavar="N",
                   help="PostgreSQL WAL segments made before the run, as a server in service has them")  # fmt: skip
    p.add_argument("--no-wal-ahead", dest="wal_ahead_segments", action="store_const", const=0,
                   help="none: PostgreSQL creates each WAL segment during the run, as a new server does")  # fmt: skip
    add_quick(p, terminals=40, report_rate=10.0, duration=8.0, warmup=2.0, entities=30, renders=10,
              databases="sqlite,postgres", wal_ahead_segments=2)  # fmt: skip
    args = apply_quick(p.parse_args(argv))
    if args.wal_ahead_segments < 0:
        p.error("--wal-ahead-segments: 0 or more")
    wanted = [d.strip() for d in args.databases.split(",") if d.strip()]
    load_at_start = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="fleet-") as tmp:
        workdir = Path(tmp)
        if "sqlite" in wanted:
            rows.append(run_database("sqlite", str(workdir / "fleet.db"), args, workdir))
        if "postgres" in wanted:
            if pg_bin() is None:
                print("[postgres] not installed here; `make test` installs it", flush=True)
            else:
                with postgres_server([*PG_SETTINGS, *args.pg_setting]) as url:
                    wal_made_ahead(url, args.wal_ahead_segments)
                    KEYS[url] = str(workdir / "pg-keys")
                    report_service("keys", "init", "--dir", KEYS[url])
                    rows.append(run_database("postgres", url, args, workdir))
    print_markdown(rows, args, load_at_start)
    return 0


def print_markdown(rows: list[dict[str, Any]], args: argparse.Namespace, load: float) -> None:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    cmd = (f".venv/bin/python -m benchmarks.fleet --terminals {args.terminals} --report-rate "
           f"{args.report_rate:g} --duration {args.duration:g} --warmup {args.warmup:g} --entities "
           f"{args.entities} --databases {args.databases} --workers {args.workers} "
           f"--connections {args.connections} --renders {args.renders}"
           + "".join(f" --pg-setting {setting}" for setting in args.pg_setting)
           + _wal_ahead_option(args.wal_ahead_segments))  # fmt: skip
    print(
        f"\n### {when} — {platform.machine()}, {os.cpu_count()} cores, load at start {load:.2f}, "
        f"commit {_commit()}\n"
    )
    print(f"`{cmd}`\n")
    if any(r["database"] == "postgres" for r in rows):
        settings = server_settings([*PG_SETTINGS, *args.pg_setting])
        n = args.wal_ahead_segments
        made = f"{n} WAL segment{'s' * (n != 1)} made ahead" if n else "none made ahead"
        print(f"PostgreSQL: {', '.join(f'{k}={v}' for k, v in settings.items())}; {made}\n")
    print(
        "| database | heartbeats | hb p50 | hb p99 | hb errors | reports/s | report p50 | report p99 "
        "| report errors | dashboard event p50 | p99 | offline seen | detection after 3 beats "
        "| cores: generator | platform | database | machine | bare render: alone / every core "
        "| platform CPU a report (× bare render, every core) |"
    )
    print(
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    for r in rows:
        print(f"| {r['database']} | {r['heartbeats']} | {r['hb_p50']:.1f} ms | {r['hb_p99']:.1f} ms | "
              f"{r['hb_errors']} | {r['report_rate']:.1f} | {r['rep_p50']:.1f} ms | {r['rep_p99']:.1f} ms | "
              f"{r['rep_errors']} | {r['ev_p50']:.0f} ms | {r['ev_p99']:.0f} ms | "
              f"{r['offline_seen']}/{SILENT} | ≤ {r['offline_max_s']:.1f} s | "
              f"{r['generator_cores']:.2f} | {r['platform_cores']:.2f} | {r['database_cores']:.2f} | "
              f"{r['machine_cores']:.2f} | {r['bare_alone_ms']:.2f} / {r['bare_ms']:.2f} ms | "
              f"{r['cpu_per_report']:.1f} ms "
              f"({r['in_renders']:.2f}×) |")  # fmt: skip


def _wal_ahead_option(segments: int) -> str:
    if segments == WAL_AHEAD_SEGMENTS:
        return ""
    return f" --wal-ahead-segments {segments}" if segments else " --no-wal-ahead"


def _commit() -> str:
    """The checked-out commit (a `+` when the tree has changes): the same command measured other
    code, and another server set-up, before."""
    git = ["git", "-C", str(Path(__file__).resolve().parent.parent)]
    try:
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+" if dirty.strip() else "")


if __name__ == "__main__":
    sys.exit(main())
