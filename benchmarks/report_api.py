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
import json
import math
import os
import platform
import random
import secrets
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from benchmarks.measures import percentile
from benchmarks.quick import add_quick, apply_quick
from benchmarks.raw_http import HttpConnection, request_head
from benchmarks.report_api_rig import (
    REGION,
    ROOT,
    Kiosk,
    Person,
    RenderTimes,
    SeedInfo,
    Server,
    bare_render,
    db_stem,
    enroll_kiosks,
    ensure_seeded,
    fresh_copy,
    log_in,
    platform_today,
    report_period,
    running_service,
    spread,
    synth_persons,
)

ERROR_BODIES_SHOWN = 5
HTTP_TIMEOUT_S = 30.0
TARGET_RPS = 150.0
TARGET_P99_MS = 100.0
TARGET_RATIO = 1.5


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
