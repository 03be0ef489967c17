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
has run the same load on 0.8 to 1.0 platform cores in different hours). Then the measured minute
in 10 s windows (print_windows): p99s; each side's cores and those the hypervisor says it gave
other guests; the report requests due; the platform's CPU a report and the load generator's a
request, whose work a request barely changes (the two rising together point to slower cores).
Then a Markdown block for benchmarks/RESULTS.md. Never fails on a target.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg

from benchmarks.contract_floor import bare_render, sample
from benchmarks.fleet_load import (
    HALL_SIZE,
    SILENT,
    STAFF,
    WATCHED_HALL,
    Figures,
    by_window,
    cpu_ms_by_window,
    load,
    window_of,
)
from benchmarks.measures import database_cpu, machine_cpu, percentile, stolen_cpu, tree_cpu
from benchmarks.quick import add_quick, apply_quick
from tests.platform_client import cli, free_port
from tests.postgres_server import pg_bin, postgres_server, server_settings

# WAL sizing for ~10 MB/s of WAL, and the segments to make ahead (docs/architecture.md,
# "PostgreSQL's WAL"); --pg-setting values come after these and win
PG_SETTINGS = ("min_wal_size=2GB", "max_wal_size=4GB")
WAL_AHEAD_SEGMENTS = 128  # 2 GB of 16 MB segments: more than a run writes


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
        yield url, lambda: tree_cpu(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def prepare(db: str, args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    """Seed the platform, a staff member and the halls' tokens; returns the seeded people."""
    lines = workdir / f"seed-{secrets.token_hex(3)}.jsonl"
    cli("seed", *on(db), "--region", "gansu", "--entities", str(args.entities),
        "--seed", "5", "--out", str(lines), timeout=1800)  # fmt: skip
    cli("staff", "add", *on(db), "--hall", WATCHED_HALL, "--region", "gansu",
        "--username", STAFF[0], "--role", "hall_admin", stdin=STAFF[1] + "\n")  # fmt: skip
    cli("halls", "set-hours", *on(db), "--hall", WATCHED_HALL, "--hours", "mon-sun 00:00-24:00")
    people = [json.loads(line) for line in lines.read_text().splitlines()]
    return [p for p in people if p["type"] == "person"]


def tokens(db: str, count: int) -> list[tuple[str, str]]:
    """(hall, token) for `count` terminals, halls of HALL_SIZE."""
    out: list[tuple[str, str]] = []
    for first in range(0, count, HALL_SIZE):
        hall = f"fleet-hall-{first // HALL_SIZE:03d}"
        n = min(HALL_SIZE, count - first)
        text = cli("terminals", "add-token", *on(db), "--hall", hall,
                   "--region", "gansu", "--count", str(n)).stdout  # fmt: skip
        out += [(hall, t) for t in text.split()]
    return out


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
        meters = {"platform": server_cpu, "database": database_cpu(db),
                  "generator": time.process_time, "machine": machine_cpu, "stolen": stolen_cpu}  # fmt: skip
        figures = asyncio.run(load(url, pairs, people, args, meters))
    beats, issued = [ms for _, ms in figures.heartbeats], [ms for _, ms in figures.reports]
    row = {
        "database": name,
        "heartbeats": len(beats), "hb_p50": percentile(beats, 0.5),
        "hb_p99": percentile(beats, 0.99), "hb_errors": figures.heartbeat_errors,
        "reports": len(issued), "report_rate": len(issued) / args.duration,
        "rep_p50": percentile(issued, 0.5), "rep_p99": percentile(issued, 0.99),
        "rep_errors": figures.report_errors,
        "statuses": dict(sorted(figures.report_statuses.items())),
        "events": len(figures.dashboard_events), "ev_p50": percentile(figures.dashboard_events, 0.5),
        "ev_p99": percentile(figures.dashboard_events, 0.99),
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
    print_windows(name, figures)
    return row


def print_windows(name: str, figures: Figures) -> None:
    """The measured minute in its 10 s windows: p99s, each meter's cores, the report requests due
    (against those answered or refused: none lost), and the CPU a report and a request."""
    count = len(figures.window_s)
    print(f"[{name}] p99 in each 10 s: heartbeats {by_window(figures.heartbeats, count)}; "
          f"reports {by_window(figures.reports, count)}", flush=True)  # fmt: skip
    windows = figures.cores_by_window  # derived from the readings: once
    print(f"[{name}] cores in each 10 s: " + "; ".join(
        f"{side} " + "/".join(f"{window[side]:.2f}" for window in windows)
        for side in (windows[0] if windows else {})), flush=True)  # fmt: skip
    due = collections.Counter(window_of(at) for at in figures.reports_due)
    settled = len(figures.reports) + figures.report_errors
    print(f"[{name}] report requests due in each 10 s: "
          + "/".join(str(due[w]) for w in range(count))
          + f" ({len(figures.reports_due)} due, {settled} answered or failed; the arrivals began "
          f"{-figures.reports_started:.1f} s before the measured window)", flush=True)  # fmt: skip
    platform_ms = "/".join(f"{ms:.1f}" for ms in cpu_ms_by_window(figures, "platform", "report"))
    generator_ms = "/".join(f"{ms:.3f}" for ms in cpu_ms_by_window(figures, "generator"))
    print(f"[{name}] CPU in each 10 s: platform {platform_ms} ms a report (heartbeats included); "
          f"load generator {generator_ms} ms a request (its work a request barely changes: it "
          "rising with the platform's points to slower cores)", flush=True)  # fmt: skip


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
                    cli("keys", "init", "--dir", KEYS[url])
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
