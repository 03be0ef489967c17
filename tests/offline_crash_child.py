"""The process the crash test kills: enqueues and delivers, printing each step after it commits.

    python tests/offline_crash_child.py DB KEY RUN work|finish [REPLAY_KEYS]

Lines on stdout: `READY`; `E kind key` after an enqueue commits; `D id` before an item is handed
to the (simulated) platform; `A id kind key` after its ack commits; `DONE` when finish mode has
drained everything.
"""

from __future__ import annotations

import random
import sys
import time

from offline_cache import FileKeyProvider, OfflineStore

LEASE_SECONDS = 0.25


def kind_for(n: int) -> str:
    """Deterministic, so a restarted run can replay keys whose E line it never saw."""
    return "telemetry" if n % 5 in (1, 3) else "report_request"


def payload_for(key: str) -> dict[str, str]:
    return {"key": key, "id_number": "620102198001010013"}


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    db, key_path, run, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    replay = [k for k in sys.argv[5].split(",") if k] if len(sys.argv) > 5 else []
    store = OfflineStore.open(db, FileKeyProvider(key_path, create=True), max_attempts=100_000)
    outbox = store.outbox
    out("READY")
    for key in replay:  # the previous run may or may not have stored these: never twice
        kind = kind_for(int(key.rsplit("-", 1)[1]))
        outbox.enqueue(kind, key, payload_for(key), pii=kind == "report_request")
        out(f"E {kind} {key}")
    rng = random.Random(run)
    n = 0
    while mode == "work":
        for _ in range(rng.randint(1, 4)):  # a little faster than delivery: a backlog builds
            key = f"r{run}-{n}"
            kind = kind_for(n)
            outbox.enqueue(kind, key, payload_for(key), pii=kind == "report_request")
            out(f"E {kind} {key}")
            n += 1
        for item in outbox.lease(limit=rng.randint(1, 3), lease_seconds=LEASE_SECONDS):
            out(f"D {item.id}")
            outbox.ack(item.id)
            out(f"A {item.id} {item.kind} {item.idempotency_key}")
    while True:  # finish: deliver everything, waiting out leases of killed runs
        counts = outbox.counts()
        if counts.pending == 0 and counts.in_flight == 0:
            break
        leased = outbox.lease(limit=10, lease_seconds=LEASE_SECONDS)
        if not leased:
            time.sleep(0.02)
        for item in leased:
            out(f"D {item.id}")
            outbox.ack(item.id)
            out(f"A {item.id} {item.kind} {item.idempotency_key}")
    store.close()
    out("DONE")


if __name__ == "__main__":
    main()
