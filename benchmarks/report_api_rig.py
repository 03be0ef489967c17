"""The platform the report benchmark drives: a seeded SQLite database (reused while the data's
sources are unchanged), the persons it holds, the in-process render of their reports, a real
`report-service serve` on loopback, and kiosks enrolled in it."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import os
import random
import shutil
import signal
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

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks.measures import tree_cpu
from report_service import db, report_build, rules
from report_service.clock import CST
from report_service.document import ReportDocument
from report_service.pdf import render_report_pdf
from report_service.profiles import Profile, load_profile
from report_service.report_build import Issue, ReportRequest, validate
from report_service.reports import random_code
from report_service.synth import generate_region
from report_service.terminal_client import TerminalClient
from tests.platform_client import cli, free_port

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
    out = cli(
        "seed", "--db", str(path), "--region", REGION,
        "--entities", str(args.entities), "--seed", str(args.seed), *extra, timeout=1800,
    ).stdout  # fmt: skip
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


def load_entities(
    path: Path, usccs: set[str], today: dt.date
) -> dict[str, tuple[db.Entity, list[db.Record]]]:
    """Entity row and in-period records per USCC, read with the service's own models."""
    start, end = report_period(today)
    engine = db.make_engine(str(path))
    out: dict[str, tuple[db.Entity, list[db.Record]]] = {}
    with Session(engine) as s:
        for uscc in sorted(usccs):
            records = s.scalars(
                select(db.Record).where(
                    db.Record.uscc == uscc, db.Record.date >= start, db.Record.date <= end
                )
            ).all()
            entity = s.get(db.Entity, uscc)
            if entity is None:
                raise RuntimeError(f"{uscc}: a client's enterprise is not in {path}")
            out[uscc] = (entity, list(records))
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
        return tree_cpu(self.proc.pid)

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
        return cli(
            "terminals", "add-token", "--db", str(db_path), "--hall", "bench", "--region", REGION
        ).stdout.strip()

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        tokens = list(pool.map(token, range(n)))  # ~1 CPU-s of imports per CLI call
    return [Kiosk(TerminalClient.enroll(server.base_url, t)) for t in tokens]


def log_in(kiosk: Kiosk, person: Person) -> None:
    body = kiosk.terminal.login_card(person.id_number, person.name, valid_until="2040-01-01")
    kiosk.token = body["session_token"]
    kiosk.usccs = [e["uscc"] for e in body["enterprises"]]
    if not kiosk.usccs:
        raise RuntimeError("a synth person holds no gansu enterprise")
