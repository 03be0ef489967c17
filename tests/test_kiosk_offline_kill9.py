"""The kiosk killed with SIGKILL while it queues and drains, and a full disk under its queue (issue 5,
DESIGN §5); afterwards a scan of what the killed kiosk left on disk and in its logs.

The platform is a real `report-service serve` process, stopped and started on the same port. The
kiosk is its real composition: a child process for the kill test, the demo rig with the card
simulator, cupsd and the ESC/POS simulator for the full disk.

OFFLINE_FAULT_KILLS sets the number of kills (default 100).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kiosk.demo_rig import Platform, build_rig
from kiosk.i18n import Translator
from kiosk.identity import load_enrollment
from kiosk.offline import REPORT_REQUEST
from kiosk.steps import Step
from offline_cache import FileKeyProvider, ItemState, OfflineStore

from .kiosk_faults_support import (
    CRASH_PEOPLE,
    ONE_FIRM,
    SESSION_PEOPLE,
    CardSlot,
    Person,
    assert_nothing_in_plaintext,
    card,
    reports_by_key,
    seeded_service,
    store_files,
)

pytestmark = pytest.mark.runs_long(2)  # a hundred kills
KILLS = int(os.environ.get("OFFLINE_FAULT_KILLS", "100"))
REQUESTS = 200  # requests the killed kiosk queues and drains
CHILD = Path(__file__).with_name("offline_kiosk_child.py")
ROOT = CHILD.parents[1]


service = pytest.fixture(scope="module", name="service")(seeded_service)


# --- 1. kill -9 at random points ------------------------------------------------------------------


@dataclass
class KillRun:
    acked: dict[int, str]  # request index -> the ticket the person was given
    store_keys: Counter[str]  # report requests in the kiosk's queue at the end, by ticket
    store_states: Counter[str]
    undelivered_payloads: int  # delivered items whose PII payload is still there
    server: Counter[str]
    final_line: str
    kinds: Counter[str]  # what the kiosk was doing when it was killed
    seconds: float
    final_seconds: float  # the last life: the rest queued, leases of killed lives run out, drained
    files: list[Path] = field(default_factory=list)  # for the privacy scan


class Child:
    """One life of the kiosk process; its stdout and log kept per run."""

    def __init__(self, workdir: Path, url: str, run: int, mode: str, job: dict[str, Any]):
        self.out = workdir / f"run{run:03d}.out"
        self.log = workdir / f"run{run:03d}.log"
        with self.out.open("wb") as out, self.log.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(CHILD), str(workdir / "state"), url, mode],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=err,
                cwd=ROOT,
            )
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(job, ensure_ascii=False).encode())
        self.proc.stdin.close()

    def lines(self) -> list[str]:
        text = self.out.read_text(encoding="utf-8")
        done = text.split("\n")
        return done[:-1]  # the last piece is cut (or empty): never fully printed

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while "READY" not in self.lines():
            assert self.proc.poll() is None, f"the kiosk exited early: {self.log.read_text()}"
            assert time.monotonic() < deadline, "the kiosk did not start"
            time.sleep(0.005)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        assert self.proc.returncode == -signal.SIGKILL


def read_acks(lines: list[str], acked: dict[int, str]) -> None:
    for line in lines:
        parts = line.split()
        if parts and parts[0] == "ACK":
            index, ticket = int(parts[1]), parts[2]
            assert index not in acked, f"request {index} acknowledged twice"
            acked[index] = ticket


def phase_of(run: int, kills: int) -> tuple[bool, tuple[float, float]]:
    """Platform up?, and the kill delay after READY, by the run's place in the schedule: queueing
    with the platform up, queueing with it down, a backlog draining, idle with it down."""
    share = run / kills
    if share < 0.35:
        return True, (0.0, 0.6)
    if share < 0.6:
        return False, (0.0, 0.6)
    if share < 0.8:
        return True, (0.0, 0.15)  # early kills: many land while the backlog is being delivered
    return False, (0.0, 0.3)


@pytest.fixture(scope="module")
def kill_run(service: Platform, tmp_path_factory: pytest.TempPathFactory) -> KillRun:
    assert KILLS >= 10, "OFFLINE_FAULT_KILLS: at least 10"
    started = time.monotonic()
    workdir = tmp_path_factory.mktemp("kill9")
    (workdir / "enrollment.token").write_text(service.add_token("hall-kill9") + "\n")
    enroll = subprocess.run(
        [sys.executable, str(CHILD), str(workdir / "state"), service.base_url, "enroll"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert enroll.stdout.strip() == "ENROLLED", enroll.stderr
    enrollment = load_enrollment(workdir / "state" / "enrollment.json")
    assert enrollment is not None
    people = [{**card(p), "uscc": p["uscc"]} for p in CRASH_PEOPLE]
    rng = random.Random(20261122)
    acked: dict[int, str] = {}
    kinds: Counter[str] = Counter()
    for run in range(KILLS):
        up, (low, high) = phase_of(run, KILLS)
        if up:
            service.start()
        else:
            service.stop()
        job = {
            "people": people,
            "requests": REQUESTS,
            "acked": sorted(acked),
            "pace_s": [0.02, 0.1],
        }
        child = Child(workdir, service.base_url, run, "work", job)
        if rng.random() < 0.1:  # now and then while it starts and opens the store
            time.sleep(rng.uniform(0.0, 0.5))
        else:
            child.wait_ready()
            time.sleep(rng.uniform(low, high))
        child.kill()
        lines = child.lines()
        read_acks(lines, acked)
        log = child.log.read_text(encoding="utf-8")
        if "READY" not in lines:
            kinds["starting"] += 1
        elif "ENQUEUED" not in lines:
            kinds["queueing"] += 1
        else:
            kinds["draining only"] += 1
        if " delivered" in log:
            kinds["delivering"] += 1
        if not up:
            kinds["platform down"] += 1

    # the files as the last kill left them: a live WAL with the newest pages
    snapshot = workdir / "after-last-kill"
    snapshot.mkdir()
    for path in store_files(workdir / "state" / "offline.db"):
        if path.exists():
            shutil.copy2(path, snapshot / path.name)

    service.start()
    final_started = time.monotonic()
    job = {"people": people, "requests": REQUESTS, "acked": sorted(acked), "pace_s": [0.0, 0.0]}
    final = Child(workdir, service.base_url, KILLS, "finish", job)
    assert final.proc.wait(timeout=150) == 0, final.log.read_text(encoding="utf-8")
    lines = final.lines()
    read_acks(lines, acked)

    with OfflineStore.open(
        workdir / "state" / "offline.db", FileKeyProvider(workdir / "state" / "offline.key")
    ) as store:
        items = [
            item
            for state in ItemState
            for item in store.outbox.items(state, kind=REPORT_REQUEST, limit=1_000_000)
        ]
    files = [p for p in workdir.rglob("*") if p.is_file() and p.suffix != ".token"]
    return KillRun(
        acked=acked,
        store_keys=Counter(item.idempotency_key for item in items),
        store_states=Counter(item.state.value for item in items),
        undelivered_payloads=sum(1 for i in items if i.payload is not None),
        server=reports_by_key(service, enrollment.terminal_id),
        final_line=lines[-1],
        kinds=kinds,
        seconds=time.monotonic() - started,
        final_seconds=time.monotonic() - final_started,
        files=files,
    )


def test_kill_9_at_random_points_delivers_every_acknowledged_request_once(
    kill_run: KillRun,
) -> None:
    run = kill_run
    print(
        f"\nkill -9: {KILLS} kills, {run.seconds:.0f} s in all ({run.final_seconds:.0f} s for the "
        f"final drain); at the kill: {dict(run.kinds)}"
    )
    # the kills really did land everywhere
    for kind in ("queueing", "draining only", "delivering", "platform down"):
        assert run.kinds[kind] >= 2, run.kinds
    assert run.final_line.startswith("DONE 0 0 "), run.final_line  # queue empty, no dead letter

    # every request was acknowledged once, each with its own ticket
    assert sorted(run.acked) == list(range(REQUESTS))
    tickets = set(run.acked.values())
    assert len(tickets) == REQUESTS

    # on the server: every acknowledged ticket has exactly one report
    missing = [t for t in tickets if run.server[t] == 0]
    doubled = {t: n for t, n in run.server.items() if n > 1}
    assert not missing, f"{len(missing)} acknowledged requests never reached the platform"
    assert not doubled, f"reports made twice: {doubled}"

    # the queue: each ticket stored once, all delivered, PII gone
    assert all(n == 1 for n in run.store_keys.values()), "a ticket was stored twice"
    assert set(run.store_keys) >= tickets, "an acknowledged request is missing from the queue"
    assert run.store_states == Counter({"delivered": len(run.store_keys)})
    assert run.undelivered_payloads == 0
    # a request stored just before a kill, its acknowledgement never printed: the person was
    # told nothing and asked again; the stored one still produced at most one report
    unacknowledged = set(run.store_keys) - tickets
    assert set(run.server) == set(run.store_keys), "a report the kiosk never queued, or one lost"
    assert len(unacknowledged) <= run.kinds["queueing"]
    print(f"tickets stored but never acknowledged (each delivered once): {len(unacknowledged)}")


# --- 2. a full disk under the queue ----------------------------------------------------------------


@contextlib.contextmanager
def small_disk(path: Path, size: str = "16m") -> Iterator[Path]:
    """A tmpfs of its own for the queue's database, so that it can really fill up."""
    path.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)], check=True
    )
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def fill(disk: Path) -> Path:
    """Write zeros until the disk says no more."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 20, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * chunk):
                    pass
    finally:
        os.close(fd)
    assert shutil.disk_usage(disk).free == 0
    return filler


def test_a_full_disk_refuses_the_request_before_any_pickup_receipt(
    service: Platform, tmp_path: Path
) -> None:
    person = SESSION_PEOPLE[1]
    service.start()
    token = service.add_token("hall-disk-full")
    with small_disk(tmp_path / "queue-disk") as disk:
        db = disk / "offline.db"
        rig = build_rig(
            tmp_path / "kiosk", service.base_url, token, [card(person)],
            offline={"cache_file": str(db)},
        )  # fmt: skip
        rig.kiosk.runner.start()
        slot = CardSlot(rig)
        try:
            store = rig.kiosk.store
            assert store is not None and store.path == db
            visitor = Person(rig, slot, 0, person, random.Random(1))
            journey = rig.kiosk.journey

            def queue_offline() -> None:
                assert visitor.present_card() is Step.ENTER_USCC, journey.snapshot.message_id
                visitor.submit(lambda j: j.enter_uscc(ONE_FIRM))
                visitor.submit(lambda j: j.scope_done())
                visitor.submit(lambda j: j.confirm())

            # online first (the catalog is fetched), then the platform goes away
            assert visitor.present_card() is Step.CHOOSE_SCOPE
            visitor.leave()
            service.stop()
            filler = fill(disk)
            receipts_raw = len(rig.receipts.raw)

            queue_offline()
            snap = journey.snapshot
            assert snap.step is Step.ERROR and snap.message_id == "offline_mode.queue_full"
            assert not snap.offline and snap.person == "" and snap.ticket == ""
            said = Translator("zh_CN")(snap.message_id)
            assert "没有打印凭条" in said and "存储空间已满" in said
            assert "No receipt was printed" in Translator("en")(snap.message_id)
            time.sleep(1.0)  # a receipt would be on its way by now
            assert len(rig.receipts.raw) == receipts_raw  # not one byte to the receipt printer
            counts = store.outbox.counts(kind=REPORT_REQUEST)
            assert (counts.pending, counts.in_flight, counts.delivered, counts.dead_letter) == (
                0, 0, 0, 0,
            )  # fmt: skip  # nothing half-stored
            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            visitor.leave()

            # room again: the same request is taken, and the refused one never reaches anyone
            filler.unlink()
            queue_offline()
            assert journey.step is Step.QUEUED, journey.snapshot.message_id
            ticket = journey.snapshot.ticket
            receipt = rig.receipts.wait_for_receipts(1, timeout_s=30)[-1]
            assert receipt.qr_payloads == [ticket]
            visitor.leave()
            service.start()
            rig.wait_for(
                lambda: store.outbox.counts(kind=REPORT_REQUEST).delivered == 1, timeout=60
            )
            server = reports_by_key(service, rig.kiosk.enrollment.terminal_id)
            assert server == Counter({ticket: 1})
        finally:
            slot.close()
            rig.close()


# --- 3. nothing in plaintext ------------------------------------------------------------------------


def test_nothing_the_killed_kiosk_left_holds_an_id_number_or_name(kill_run: KillRun) -> None:
    """The queue's database with its WAL and SHM (the live one and one as the last kill left it),
    the kiosk's state, and each life's output and log."""
    files = [p for p in kill_run.files if p.exists()]
    names = {p.name for p in files}
    assert {"offline.db", "offline.db-wal", "offline.db-shm"} <= names, names
    assert any(p.parent.name == "after-last-kill" and p.name.endswith("-wal") for p in files)
    logs = assert_nothing_in_plaintext(files)
    assert " delivered" in logs  # the logs did record the run
