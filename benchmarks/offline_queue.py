"""Offline outbox benchmark on a real file: enqueue latency and lease+ack throughput.

    .venv/bin/python -m benchmarks.offline_queue                 # 5,000 items in a temp folder
    .venv/bin/python -m benchmarks.offline_queue --items 20000 --dir /var/lib/kiosk-bench

Each enqueue, lease and ack is one durable transaction (WAL, synchronous=FULL: an fsync per commit),
so the figures are mostly the disk's fsync latency. Payloads look like a queued report request
(about 300 bytes of JSON, sealed with AES-GCM).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.measures import percentile
from benchmarks.quick import add_quick, apply_quick
from offline_cache import (
    DeliveryResult,
    FileKeyProvider,
    OfflineStore,
    OutboxItem,
    drain_once,
)


def payload(n: int) -> dict[str, object]:
    return {
        "id_number": "620102198001010013",
        "name": "欧阳秀英",
        "uscc": "91620102000000321X",
        "domains": ["market", "tax", "social_insurance"],
        "period": {"from": "2024-01-01", "to": "2024-12-31"},
        "terminal": "T-0001",
        "n": n,
    }


def fill(store: OfflineStore, items: int, prefix: str) -> list[float]:
    latencies = []
    for n in range(items):
        start = time.perf_counter()
        store.outbox.enqueue("report_request", f"{prefix}-{n}", payload(n), pii=True)
        latencies.append(time.perf_counter() - start)
    return latencies


async def deliver(item: OutboxItem) -> DeliveryResult:
    return DeliveryResult.delivered()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--dir", type=Path, default=None, help="folder for the database file")
    add_quick(parser, items=200)
    args = apply_quick(parser.parse_args())
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="offline-bench-") as tmp:
        folder = Path(tmp)
        store = OfflineStore.open(
            folder / "offline.db", FileKeyProvider(folder / "offline.key", create=True)
        )
        n = args.items
        print(f"offline queue benchmark: {n} items, {folder} ({os.uname().sysname})")

        lat = sorted(fill(store, n, "a"))
        print(
            f"enqueue: p50 {percentile(lat, 0.50) * 1e3:.2f} ms, "
            f"p99 {percentile(lat, 0.99) * 1e3:.2f} ms, max {lat[-1] * 1e3:.2f} ms, "
            f"mean {statistics.fmean(lat) * 1e3:.2f} ms"
        )
        again = time.perf_counter()
        store.outbox.enqueue("report_request", "a-0", payload(0), pii=True)
        print(f"enqueue of a key already stored: {(time.perf_counter() - again) * 1e3:.2f} ms")

        start = time.perf_counter()
        done = 0
        while leased := store.outbox.lease(limit=1):
            store.outbox.ack(leased[0].id)
            done += 1
        single = time.perf_counter() - start
        print(f"lease(limit=1) + ack: {done} items in {single:.2f} s = {done / single:.0f} items/s")

        fill(store, n, "b")
        start = time.perf_counter()
        done = 0
        while leased := store.outbox.lease(limit=50):
            done += store.outbox.ack_many(item.id for item in leased)
        batch = time.perf_counter() - start
        print(
            f"lease(limit=50) + ack_many: {done} items in {batch:.2f} s = {done / batch:.0f} items/s"
        )

        fill(store, n, "c")
        start = time.perf_counter()
        delivered = 0
        while True:
            report = asyncio.run(drain_once(store, deliver, max_items=1000))
            delivered += report.delivered
            if report.wait_until is None:
                break
        drained = time.perf_counter() - start
        print(
            f"drain_once with an instant platform: {delivered} items in {drained:.2f} s = "
            f"{delivered / drained:.0f} items/s"
        )
        sizes = {p.name: p.stat().st_size for p in folder.iterdir() if p.name.startswith("offline")}
        print("files: " + ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in sorted(sizes.items())))
        store.close()


if __name__ == "__main__":
    main()
