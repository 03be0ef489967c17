"""Report-service benchmark: POST /v1/reports under 1, 10 and 50 signing clients vs. bare rendering.

    .venv/bin/python -m benchmarks.report_api [--entities 10000 --records 100000
        --duration 20 --workers 2 --db-dir var/bench]

Seeds (or reuses) a gansu SQLite database through the real CLI, times the in-process render
floor (rules.assemble + render_report_pdf), then runs a real `report-service serve` on loopback
and drives it with asyncio clients speaking keep-alive HTTP/1.1 directly (one enrolled terminal,
one session and one connection each; every request Ed25519-signed, every response checked).
The required levels are closed loops (a client sends its next request as soon as it has the
answer); one extra level, labelled as such, gives 50 kiosks a think time between reports
(--think, 0 to skip). Prints per-level figures, PASS/MISS per target (never a non-zero exit for
a miss) and a Markdown block for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import itertools
import json
import math
import os
import platform
import random
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks.quick import add_quick, apply_quick
from benchmarks.raw_http import HttpConnection, request_head
from report_service import db, report_build, rules
from report_service.clock import CST
from report_service.document import ReportDocument
from report_service.pdf import render_report_pdf
from report_service.profiles import Profile, load_profile
from report_service.report_build import Issue, ReportRequest, validate
from report_service.reports import random_code
from report_service.synth import generate_region
from report_service.terminal_client import TerminalClient

ROOT = Path(__file__).resolve().parents[1]

REGION = "gansu"
# The files that decide what `seed` writes: a change to any of them invalidates a cached database.
DATA_SOURCES = (
    "report_service/synth.py",
    "report_service/synth_records.py",
    "report_service/synth_data.py",
    "report_service/importer.py",
    "report_service/db.py",
    f"report_service/profiles/{REGION}.json",
    f"report_service/profiles/geography/{REGION}.json",
    "report_service/profiles/synth/names.json",
    "report_service/profiles/synth/agencies.json",
)
EARLIEST_FROM = dt.date(2021, 1, 1)
PERIOD_YEARS = 3
ERROR_BODIES_SHOWN = 5
HTTP_TIMEOUT_S = 30.0
CLI_TIMEOUT_S = 1800
TARGET_RPS = 150.0
TARGET_P99_MS = 100.0
TARGET_RATIO = 1.5
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------------- options


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--entities", type=int, default=10_000)
    p.add_argument(
        "--records", type=int, default=100_000, help="target record total; 0 = synth's own mix"
    )
    p.add_argument("--seed", type=int, default=1, help="synth seed")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds per level")
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds per level")
    p.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    p.add_argument("--levels", default="1,10,50", help="comma-separated client counts")
    p.add_argument(
        "--think",
        type=float,
        default=0.3,
        help="extra level: 50 kiosks pausing this mean many seconds (exponential) between "
        "reports; 0 skips it (the required 50-client level stays a closed loop)",
    )
    p.add_argument("--renders", type=int, default=200, help="timed in-process renders")
    p.add_argument(
        "--max-requests", type=int, default=200_000, help="hard cap on requests per level"
    )
    p.add_argument("--db-dir", type=Path, default=ROOT / "var" / "bench")
    add_quick(
        p, entities=60, records=0, duration=1.0, warmup=0.5, workers=1, levels="1,4", think=0,
        renders=5,
    )  # fmt: skip
    args = apply_quick(p.parse_args(argv))
    args.level_list = sorted({int(x) for x in args.levels.split(",") if x.strip()})
    if not args.level_list or min(args.level_list) < 1:
        p.error("--levels needs positive client counts")
    if args.entities < 1 or args.records < 0 or args.workers < 1:
        p.error("--entities and --workers must be >= 1, --records >= 0")
    # a level must end well inside the 10-minute session lifetime: no re-login mid-level
    if not 0 < args.duration <= 480 or not 0 <= args.warmup <= 60:
        p.error("--duration must be in (0, 480] and --warmup in [0, 60]")
    return args


# ----------------------------------------------------------------------------------- seeding


@dataclass
class SeedInfo:
    path: Path
    reused: bool
    seconds: float
    entities: int
    persons: int
    records: int


def data_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in DATA_SOURCES:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()[:16]


def db_stem(args: argparse.Namespace) -> str:
    return f"{REGION}-e{args.entities}-r{args.records}-s{args.seed}"


def run_cli(*argv: str) -> str:
    """The real `report-service` command line; returns stdout, raises with stderr on failure."""
    result = subprocess.run(
        [sys.executable, "-m", "report_service", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )
    if result.returncode != 0:
        raise RuntimeError(f"report-service {' '.join(argv)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def table_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {
            t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            for t in ("entities", "persons", "records")
        }


def ensure_seeded(args: argparse.Namespace) -> SeedInfo:
    args.db_dir.mkdir(parents=True, exist_ok=True)
    path = args.db_dir / f"{db_stem(args)}.db"
    marker = path.with_suffix(".json")  # written only after a complete seed
    fingerprint = data_fingerprint()
    meta = json.loads(marker.read_text()) if marker.exists() else {}
    if path.exists() and meta.get("data") == fingerprint:
        return SeedInfo(path, True, meta["seconds"], **table_counts(path))
    for stale in (path, marker, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(f"{path}.keys", ignore_errors=True)  # new data, new keys
    extra = ["--records", str(args.records)] if args.records else []
    started = time.perf_counter()
    out = run_cli(
        "seed", "--db", str(path), "--region", REGION,
        "--entities", str(args.entities), "--seed", str(args.seed), *extra,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    print(f"  report-service seed: {out.strip()}", flush=True)
    counts = table_counts(path)
    marker.write_text(json.dumps({"seconds": seconds, "data": fingerprint, **counts}, indent=1))
    return SeedInfo(path, False, seconds, **counts)


def fresh_copy(src: Path, dst: Path) -> None:
    """A clean working copy per run, so that reports and nonces from earlier runs do not pile up."""
    for stale in (dst, Path(f"{dst}-wal"), Path(f"{dst}-shm")):
        stale.unlink(missing_ok=True)
    with sqlite3.connect(src) as source, sqlite3.connect(dst) as target:
        source.backup(target)  # the backup API also copies pages still in a WAL
    # the database's keys live beside it (report_service/bootstrap.py): the copy needs them too
    shutil.rmtree(f"{dst}.keys", ignore_errors=True)
    shutil.copytree(f"{src}.keys", f"{dst}.keys")


# ----------------------------------------------------------------------------------- persons


@dataclass(frozen=True)
class Person:
    id_number: str
    name: str


def synth_persons(args: argparse.Namespace) -> list[Person]:
    """Regenerate the seeded persons; records come last in the stream, so stop before them."""
    stream = generate_region(REGION, args.entities, args.seed, records=args.records or None)
    return [
        Person(obj["id_number"], obj["name"])
        for obj in itertools.takewhile(lambda o: o["type"] != "record", stream)
        if obj["type"] == "person" and obj["roles"]
    ]


def spread(people: Sequence[Person], n: int) -> list[Person]:
    # evenly spaced picks rather than the first n: a mix of one-entity and multi-entity owners
    return [people[i * len(people) // n] for i in range(n)]


# ------------------------------------------------------------------------------ bare render


def report_period(today: dt.date) -> tuple[dt.date, dt.date]:
    return max(rules.add_years(today, -PERIOD_YEARS), EARLIEST_FROM), today


def platform_today() -> dt.date:
    return dt.datetime.now(CST).date()


def build_document(
    profile: Profile, entity: db.Entity, records: Sequence[db.Record], today: dt.date
) -> ReportDocument:
    """The document the service builds for `domains: all` over report_period(today), through
    the service's own build_document."""
    start, end = report_period(today)
    request = ReportRequest(entity.uscc, "all", start, end)
    issued = dt.datetime.now(CST).replace(microsecond=0)
    issue = Issue(
        report_id="R" + issued.strftime("%Y%m%d") + random_code(10),
        verification_code=random_code(12),
        issued_at=issued,
        public_url="http://127.0.0.1:8080",
    )
    domains, request = validate(profile, request, today)
    return report_build.build_document(
        profile, request, domains, entity.name, entity.kind, records, issue, today
    )


def load_entities(path: Path, usccs: set[str], today: dt.date) -> dict[str, Any]:
    """Entity row and in-period records per USCC, read with the service's own models."""
    start, end = report_period(today)
    engine = db.make_engine(str(path))
    out: dict[str, Any] = {}
    with Session(engine) as s:
        for uscc in sorted(usccs):
            records = s.scalars(
                select(db.Record).where(
                    db.Record.uscc == uscc, db.Record.date >= start, db.Record.date <= end
                )
            ).all()
            out[uscc] = (s.get(db.Entity, uscc), list(records))
    engine.dispose()
    return out


@dataclass(frozen=True)
class RenderTimes:
    wall_ms: list[float]
    cpu_ms: list[float]  # this thread's CPU time: what the render costs when it has to share cores

    @property
    def wall(self) -> float:
        return statistics.median(self.wall_ms)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_ms)

    def __add__(self, other: RenderTimes) -> RenderTimes:
        return RenderTimes(self.wall_ms + other.wall_ms, self.cpu_ms + other.cpu_ms)


def time_renders(path: Path, sample: Sequence[str]) -> RenderTimes:
    """Assemble + render for each USCC of `sample`, after two unmeasured renders."""
    today = platform_today()
    profile = load_profile(REGION)
    data = load_entities(path, set(sample), today)
    for uscc in sample[:2]:  # font loading and first-use caches stay out of the figures
        render_report_pdf(build_document(profile, *data[uscc], today))
    wall, cpu = [], []
    for uscc in sample:
        w0, c0 = time.perf_counter(), time.thread_time()
        render_report_pdf(build_document(profile, *data[uscc], today))
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    return RenderTimes(wall, cpu)


def bare_render(
    path: Path, portfolios: Sequence[Sequence[str]], n: int, when: str
) -> tuple[RenderTimes, RenderTimes]:
    """(the 50-client mix, client 0's enterprises only) render times, printed as they come."""
    mix = time_renders(path, render_sample(portfolios, n))
    first = time_renders(path, render_sample(portfolios[:1], max(1, n // 2)))
    print(
        f"  bare render {when}: median {mix.wall:.1f} ms wall / {mix.cpu:.1f} ms CPU (client mix), "
        f"{first.wall:.1f} ms wall / {first.cpu:.1f} ms CPU (client 0's enterprises)",
        flush=True,
    )
    return mix, first


def render_sample(portfolios: Sequence[Sequence[str]], n: int) -> list[str]:
    """USCCs in the proportions the clients request them: clients in turn, a random one each."""
    rng = random.Random(0)
    return [rng.choice(portfolios[i % len(portfolios)]) for i in range(n)]


# ----------------------------------------------------------------------------------- service


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def cpu_seconds(self) -> float:
        """utime + stime of the serve process and all its descendants (the uvicorn workers)."""
        return sum(proc_cpu(pid) for pid in process_tree(self.proc.pid))

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        _signal_group(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _signal_group(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    # the server runs in its own session: its group is exactly the serve process and its workers
    with suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on; comm may hold spaces


def proc_cpu(pid: int) -> float:
    f = stat_fields(pid)
    return (int(f[11]) + int(f[12])) / CLK_TCK if f else 0.0  # fields 14 utime, 15 stime


def process_tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (f := stat_fields(int(entry.name))):
            parents.setdefault(int(f[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, []))
    return tree


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_service(db_path: Path, workers: int, log_dir: Path) -> Iterator[Server]:
    port = free_port()
    log_path = log_dir / "service.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "report_service", "serve", "--db", str(db_path),
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )  # fmt: skip
    server = Server(proc, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_healthy(server)
        yield server
    finally:
        server.stop()


def _wait_healthy(server: Server, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"service exited:\n{server.log_path.read_text()[-2000:]}")
        try:
            if httpx.get(server.base_url + "/healthz", timeout=1).status_code == 200:
                time.sleep(1.0)  # one worker answered; give its siblings time to finish importing
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("service did not become healthy in time")


# -------------------------------------------------------------------------------- terminals


@dataclass
class Kiosk:
    terminal: TerminalClient
    token: str = ""
    usccs: list[str] = field(default_factory=list)


def enroll_kiosks(server: Server, db_path: Path, n: int) -> list[Kiosk]:
    def token(_: int) -> str:
        return run_cli(
            "terminals", "add-token", "--db", str(db_path), "--hall", "bench", "--region", REGION
        ).strip()

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        tokens = list(pool.map(token, range(n)))  # ~1 CPU-s of imports per CLI call
    return [Kiosk(TerminalClient.enroll(server.base_url, t)) for t in tokens]


def log_in(kiosk: Kiosk, person: Person) -> None:
    body = kiosk.terminal.login_card(person.id_number, person.name, valid_until="2040-01-01")
    kiosk.token = body["session_token"]
    kiosk.usccs = [e["uscc"] for e in body["enterprises"]]
    if not kiosk.usccs:
        raise RuntimeError("a synth person holds no gansu enterprise")


# ------------------------------------------------------------------------------------- load


@dataclass
class LevelResult:
    clients: int
    think_s: float = 0.0  # mean pause between a client's reports; 0 = closed loop
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_bodies: list[str] = field(default_factory=list)
    issued: int = 0  # every request sent, warm-up included, for the count bound
    seconds: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def per_report(self, cpu_s: float) -> float:
        return cpu_s / self.ok if self.ok else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass(frozen=True)
class Window:
    start: float  # time.monotonic() at which measuring begins
    end: float  # no request is sent after this
    cap: int


def report_body(uscc: str, today: dt.date) -> bytes:
    start, end = report_period(today)
    body = {"uscc": uscc, "domains": "all", "period": {"from": str(start), "to": str(end)}}
    return json.dumps(body).encode()


def report_request(kiosk: Kiosk, host: str, body: bytes) -> bytes:
    """The head of a signed POST /v1/reports, exactly as a kiosk sends it."""
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {kiosk.token}",
        "Idempotency-Key": secrets.token_urlsafe(16),
        **kiosk.terminal.signed_headers("POST", "/v1/reports", body),
    }
    return request_head("POST", "/v1/reports", host, headers, len(body))


REPORT_FIELDS = ("report_id", "verification_code", "issued_at", "summary", "sha256", "signature")


def check_report(status: int, content: bytes) -> tuple[int, str]:
    """201 with a complete report receipt counts as a report; anything else is an error."""
    text = content.decode("utf-8", "replace")
    if status == 201:
        try:
            body = json.loads(content)
        except ValueError:
            return 0, f"201 with a body that is not JSON: {text[:200]}"
        missing = [f for f in REPORT_FIELDS if not body.get(f)]
        if missing:
            return 0, f"201 without {missing}: {text[:200]}"
    return status, text


async def client_loop(
    index: int,
    kiosk: Kiosk,
    base_url: str,
    window: Window,
    out: LevelResult,
    think_s: float = 0.0,
) -> None:
    rng = random.Random(index)
    today = platform_today()
    conn = HttpConnection(base_url)
    host = base_url.removeprefix("http://")
    try:
        while (now := time.monotonic()) < window.end and out.issued < window.cap:
            out.issued += 1
            body = report_body(rng.choice(kiosk.usccs), today)
            head = report_request(kiosk, host, body)
            t0 = time.perf_counter()
            try:
                status, content = await asyncio.wait_for(conn.request(head, body), HTTP_TIMEOUT_S)
                status, text = check_report(status, content)
            except (
                OSError,
                TimeoutError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                ValueError,
            ) as exc:
                status, text = 0, f"{type(exc).__name__}: {exc}"
                await conn.close()
            ms = (time.perf_counter() - t0) * 1000
            if now >= window.start:
                record_outcome(out, status, text, ms)
            if think_s:  # a person reading the summary before the next report
                pause = rng.expovariate(1 / think_s)
                await asyncio.sleep(min(pause, max(0.0, window.end - time.monotonic())))
    finally:
        await conn.close()


def record_outcome(out: LevelResult, status: int, text: str, ms: float) -> None:
    if status == 201:
        out.latencies_ms.append(ms)
        return
    out.errors += 1
    if len(out.error_bodies) < ERROR_BODIES_SHOWN:
        out.error_bodies.append(f"{status} {text[:300]}")


async def run_level(
    server: Server, kiosks: Sequence[Kiosk], args: argparse.Namespace, think_s: float = 0.0
) -> LevelResult:
    out = LevelResult(len(kiosks), think_s)
    t0 = time.monotonic()
    window = Window(t0 + args.warmup, t0 + args.warmup + args.duration, args.max_requests)
    tasks = [
        asyncio.create_task(client_loop(i, k, server.base_url, window, out, think_s))
        for i, k in enumerate(kiosks)
    ]
    try:
        await asyncio.sleep(args.warmup)
        cpu0, own0, w0 = server.cpu_seconds(), time.process_time(), time.monotonic()
        limit = args.duration + HTTP_TIMEOUT_S + 30  # every loop ends by then, even on timeouts
        done, pending = await asyncio.wait(tasks, timeout=limit)
        if pending:
            raise TimeoutError(f"{len(pending)} clients still running after {limit:.0f} s")
        for t in done:
            t.result()  # a client that crashed fails the run instead of passing silently
        out.seconds = time.monotonic() - w0
        out.server_cpu_s = server.cpu_seconds() - cpu0
        out.client_cpu_s = time.process_time() - own0
    finally:
        for t in tasks:
            t.cancel()
    return out


def prepare_level(kiosks: Sequence[Kiosk], people: Sequence[Person]) -> None:
    # a fresh session per level keeps clear of the 10-minute session lifetime
    for kiosk, person in zip(kiosks, people, strict=True):
        log_in(kiosk, person)


# ---------------------------------------------------------------------------------- reports


def host_info() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": platform.machine(),
        "cpu": model,
        "nproc": str(len(os.sched_getaffinity(0))),
        "python": platform.python_version(),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "command": shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv])),
    }


def fmt(x: float, digits: int = 1) -> str:
    return "n/a" if math.isnan(x) else f"{x:,.{digits}f}"


def level_name(r: LevelResult) -> str:
    return f"{r.clients}" if not r.think_s else f"{r.clients}, think {r.think_s:g} s (extra)"


def print_level(r: LevelResult) -> None:
    print(
        f"  {level_name(r):>3} clients: {r.ok:>6} reports in {r.seconds:5.1f} s = {r.rps:7.1f}/s"
        f"  p50 {fmt(r.pct(0.5)):>7} ms  p99 {fmt(r.pct(0.99)):>7} ms  errors {r.errors}"
        f"  server CPU {fmt(r.per_report(r.server_cpu_s) * 1000)} ms/report"
        f"  client CPU {fmt(r.per_report(r.client_cpu_s) * 1000)} ms/report",
        flush=True,
    )
    for body in r.error_bodies:
        print(f"      error: {body}")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def targets(
    results: dict[int | str, LevelResult], mix: RenderTimes, first: RenderTimes
) -> list[list[str]]:
    """Rows of (target, measured, PASS/MISS); a level that was not run counts as a miss."""
    top, one = results.get(50), results.get(1)
    rps = top.rps if top else math.nan
    p99 = top.pct(0.99) if top else math.nan
    # latency against wall-clock render time of the same enterprises; CPU against CPU
    latency_ratio = one.pct(0.5) / first.wall if one else math.nan
    cpu_ratio = top.per_report(top.server_cpu_s) * 1000 / mix.cpu if top else math.nan
    return [
        [f"≥ {TARGET_RPS:.0f} reports/s at 50 clients", fmt(rps), verdict(rps >= TARGET_RPS)],
        [f"p99 ≤ {TARGET_P99_MS:.0f} ms at 50 clients", f"{fmt(p99)} ms", verdict(p99 <= TARGET_P99_MS)],
        [
            f"p50 at 1 client ≤ {TARGET_RATIO}× bare render (wall, same enterprises)",
            f"{fmt(latency_ratio, 2)}×",
            verdict(latency_ratio <= TARGET_RATIO),
        ],
        [
            f"server CPU per report at 50 clients ≤ {TARGET_RATIO}× bare render (CPU)",
            f"{fmt(cpu_ratio, 2)}×",
            verdict(cpu_ratio <= TARGET_RATIO),
        ],
    ]  # fmt: skip


def markdown(
    info: dict[str, str],
    seed: SeedInfo,
    args: argparse.Namespace,
    renders: tuple[RenderTimes, RenderTimes],
    results: dict[int | str, LevelResult],
    rows: list[list[str]],
) -> str:
    start, end = report_period(platform_today())
    mix, first = renders
    how = "reused" if seed.reused else "built"
    lines = [
        f"### report_service — {info['date']}",
        "",
        f"`{info['command']}`",
        "",
        "| | |",
        "|---|---|",
        f"| host | {info['machine']}, {info['cpu']}, nproc {info['nproc']}, "
        f"load average at start {info['loadavg']} |",
        f"| Python | {info['python']} |",
        f"| data | {seed.entities:,} {REGION} entities, {seed.persons:,} persons, "
        f"{seed.records:,} records; `report-service seed` took {seed.seconds:.1f} s ({how}) |",
        f"| service | `report-service serve`, {args.workers} uvicorn worker(s), SQLite (WAL), loopback |",
        f"| load | per level {args.warmup:g} s warm-up + {args.duration:g} s measured; each client "
        f"one terminal + one session + one keep-alive HTTP/1.1 connection, every request signed "
        f"and every answer checked, `domains: all`, {start} – {end}; closed loops except the "
        f"level marked extra (exponential think time, mean {args.think:g} s) |",
        f"| bare render | assemble + render_report_pdf in-process, half before and half after "
        f"the load; median of {len(mix.wall_ms)} in the 50-client mix: {mix.wall:.1f} ms wall, "
        f"{mix.cpu:.1f} ms CPU; client 0's "
        f"enterprises: {first.wall:.1f} ms wall, {first.cpu:.1f} ms CPU |",
        "",
        "| clients | reports/s | p50 ms | p99 ms | errors | server CPU ms/report | client CPU ms/report |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for r in results.values():
        lines.append(
            f"| {level_name(r)} | {fmt(r.rps)} | {fmt(r.pct(0.5))} | {fmt(r.pct(0.99))} | {r.errors} "
            f"| {fmt(r.per_report(r.server_cpu_s) * 1000)} "
            f"| {fmt(r.per_report(r.client_cpu_s) * 1000)} |"
        )
    lines += ["", "| target | measured | |", "|---|---:|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------- main


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C, so the `finally` that stops the server runs
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _raise_interrupt)
    args = parse_args(argv)
    info = host_info()
    print(f"host: {info['machine']} {info['cpu']} nproc={info['nproc']} load={info['loadavg']}")

    print(f"[1/4] database ({args.entities} entities, ~{args.records} records) in {args.db_dir}")
    seed = ensure_seeded(args)
    print(
        f"  {'reused' if seed.reused else 'seeded'} {seed.path.name}: {seed.entities} entities, "
        f"{seed.persons} persons, {seed.records} records; seeding took {seed.seconds:.1f} s",
        flush=True,
    )
    top = max(args.level_list)
    people = spread(synth_persons(args), top)
    run_db = args.db_dir / f"{db_stem(args)}.run.db"
    fresh_copy(seed.path, run_db)
    try:
        return bench(args, info, seed, people, run_db)
    finally:
        for leftover in (run_db, Path(f"{run_db}-wal"), Path(f"{run_db}-shm")):
            leftover.unlink(missing_ok=True)


def bench(
    args: argparse.Namespace,
    info: dict[str, str],
    seed: SeedInfo,
    people: list[Person],
    run_db: Path,
) -> int:
    print(f"[2/4] service: {args.workers} worker(s); enrolling {len(people)} terminals", flush=True)
    results: dict[int | str, LevelResult] = {}
    with running_service(run_db, args.workers, args.db_dir) as server:
        kiosks = enroll_kiosks(server, run_db, len(people))
        prepare_level(kiosks, people)  # also gives each client its enterprises
        portfolios = [k.usccs for k in kiosks]

        print(f"[3/4] bare render: {args.renders} + {args.renders // 2} renders", flush=True)
        # the server idles meanwhile; renders use the same enterprises the clients will request
        before = bare_render(seed.path, portfolios, args.renders, "before the load")

        print(f"[4/4] load: levels {args.level_list}, {args.duration:g} s each", flush=True)
        for n in args.level_list:
            prepare_level(kiosks[:n], people[:n])
            results[n] = asyncio.run(run_level(server, kiosks[:n], args))
            print_level(results[n])
        if args.think > 0:  # extra, not a target level: kiosks whose users read between reports
            prepare_level(kiosks, people)
            results["think"] = asyncio.run(run_level(server, kiosks, args, args.think))
            print_level(results["think"])
        for k in kiosks:
            k.terminal.http.close()
        # a shared host drifts: render again after the load and use both halves
        after = bare_render(seed.path, portfolios, args.renders, "after the load")
    bare = (before[0] + after[0], before[1] + after[1])

    rows = targets(results, *bare)
    print()
    for a, b, c in rows:
        print(f"  {c}  {a}: {b}")
    print(f"  ratio service p50 @1 client / bare render median: {rows[2][1]}")
    print(f"  ratio server CPU per report @50 clients / bare render median: {rows[3][1]}")
    print("\n---- paste into benchmarks/RESULTS.md ----\n")
    print(markdown(info, seed, args, bare, results, rows))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; the service was stopped", file=sys.stderr)
        sys.exit(130)
