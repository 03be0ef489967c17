"""Offline queue benchmark: queue report requests while the platform is down, then time the drain.

    .venv/bin/python -m benchmarks.offline_drain [--requests 1000] [--people 100]

A real `report-service serve` (200 seeded gansu enterprises), a real encrypted OfflineStore file and
the kiosk's own enqueue (OfflineDesk.enqueue) and drain task (OutboxDrainer): the requests are queued
with the platform stopped, like a hall whose network is down; then the platform starts and the drain
runs until the outbox is empty. Each request is a different person's card identity or the same
person again (--people), so the drain opens sessions as the platform would see them. Prints the
enqueue latency, the drain time and rate, and checks on the server that every ticket has one report.
Target: 1,000 requests drained in at most 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.measures import percentile
from benchmarks.quick import add_quick, apply_quick
from kiosk.api import ApiSettings, ReportApi
from kiosk.demo_rig import Platform
from kiosk.drain import OutboxDrainer
from kiosk.identity import load_or_create_key
from kiosk.offline import OfflineIdentity
from kiosk.offline_desk import OfflineDesk
from kiosk.periods import Period
from kiosk.signing import TerminalCredentials, load_platform_key, public_key_b64
from offline_cache import FileKeyProvider, OfflineStore
from report_service.synth import generate_region

REGION, ENTITIES, SEED = "gansu", 200, 1


class Card:
    def __init__(self, id_number: str, name: str) -> None:
        self.id_number, self.name, self.valid_until = id_number, name, dt.date(2040, 1, 1)


def people(count: int) -> list[tuple[Card, list[str]]]:
    persons = [o for o in generate_region(REGION, ENTITIES, SEED) if o["type"] == "person"]
    chosen = [p for p in persons if p["roles"]][:count]
    return [(Card(p["id_number"], p["name"]), [r["uscc"] for r in p["roles"]]) for p in chosen]


async def run(args: argparse.Namespace, work: Path) -> None:
    platform = Platform(str(work / "platform.db"), work)
    platform.seed(ENTITIES, SEED)
    platform.start()
    settings = ApiSettings(platform.base_url)
    key = load_or_create_key(work / "terminal.key")
    enrollment = await ReportApi(settings).enroll(
        platform.add_token("bench-hall"), public_key_b64(key), {"hostname": "bench"}
    )
    api = ReportApi(settings, TerminalCredentials(enrollment.terminal_id, key))
    store = OfflineStore.open(
        work / "offline.db", FileKeyProvider(work / "offline.key", create=True)
    )
    desk = OfflineDesk(store, api, load_platform_key(enrollment.platform_public_key), None)  # type: ignore[arg-type]
    platform.stop()  # the hall's network is down while the requests come in

    rng = random.Random(7)
    crowd = people(args.people)
    today = dt.date.today()
    period = Period(today.replace(year=today.year - 3), today)
    tickets, enqueue_ms = [], []
    for _ in range(args.requests):
        card, companies = rng.choice(crowd)
        started = time.perf_counter()
        queued = desk.enqueue(OfflineIdentity.from_card(card), rng.choice(companies), None, period)
        enqueue_ms.append((time.perf_counter() - started) * 1000)
        tickets.append(queued.ticket)

    platform.start()
    drainer = OutboxDrainer(store, api, base=0.5, cap=5.0)
    started = time.perf_counter()
    while store.outbox.counts().pending or store.outbox.counts().in_flight:
        wait = await drainer.drain()
        if store.outbox.counts().pending and wait > 0:
            await asyncio.sleep(min(wait, 1.0))
    drain_s = time.perf_counter() - started
    counts = store.outbox.counts()
    await api.aclose()
    store.close()
    platform.stop()

    with sqlite3.connect(work / "platform.db") as db:
        column = next(
            c[1] for c in db.execute("PRAGMA table_info(reports)") if "idempotency" in c[1]
        )
        keys = [r[0] for r in db.execute(f"SELECT {column} FROM reports")]
    per_ticket = {t: keys.count(t) for t in tickets}
    exactly_once = sum(1 for n in per_ticket.values() if n == 1)

    lines = [
        f"enqueue ({args.requests} requests, encrypted, synchronous=FULL): "
        f"p50 {statistics.median(enqueue_ms):.2f} ms, p99 {percentile(enqueue_ms, 0.99):.2f} ms, "
        f"max {max(enqueue_ms):.2f} ms",
        f"drain after the platform returns: {drain_s:.1f} s for {counts.delivered} delivered "
        f"({counts.delivered / drain_s:.0f} requests/s), {counts.dead_letter} refused, "
        f"{args.people} different people [<=30 s {'MET' if drain_s <= 30 else 'MISSED'}]",
        f"on the server: {exactly_once}/{len(tickets)} tickets with exactly one report",
    ]
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"### {when} — load at start {os.getloadavg()[0]:.2f}\n")
    print(f"`.venv/bin/python -m benchmarks.offline_drain --requests {args.requests} "
          f"--people {args.people}`\n")  # fmt: skip
    print("```\n" + "\n".join(lines) + "\n```")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--people", type=int, default=100)
    add_quick(parser, requests=20, people=5)
    args = apply_quick(parser.parse_args())
    asyncio.run(run(args, Path(tempfile.mkdtemp(prefix="drain-bench-"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
