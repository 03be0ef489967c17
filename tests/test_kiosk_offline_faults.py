"""Faults with real processes (issue 5, DESIGN §5): the kiosk killed with SIGKILL while it queues and
drains, the reference service stopped and started under running sessions, a full disk under the
queue, and afterwards a scan of what the kiosk left on disk and in its logs.

The platform is a real `report-service serve` process, stopped and started on the same port. The
kiosk is its real composition (a child process for the kill test, the demo rig with the card
simulator, cupsd and the ESC/POS simulator for the sessions).

OFFLINE_FAULT_KILLS sets the number of kills (default 100); OFFLINE_FAULT_SESSIONS the number of
scripted sessions (default 300).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kiosk.demo_rig import Platform, Rig, build_rig
from kiosk.i18n import Translator
from kiosk.identity import load_enrollment
from kiosk.offline import REPORT_REQUEST
from kiosk.steps import Step
from offline_cache import FileKeyProvider, ItemState, OfflineStore

from .casebook import id_number, uscc
from .offline_platform import seeded_platform

KILLS = int(os.environ.get("OFFLINE_FAULT_KILLS", "100"))
SESSIONS = int(os.environ.get("OFFLINE_FAULT_SESSIONS", "300"))
REQUESTS = 200  # requests the killed kiosk queues and drains
CHILD = Path(__file__).with_name("offline_kiosk_child.py")
ROOT = CHILD.parents[1]
UNAVAILABLE = "error.platform_unavailable"

# synthetic people and enterprises, imported into the platform here and nowhere else
CRASH_PEOPLE: list[dict[str, Any]] = [
    {"id_number": id_number("gansu", 961), "name": "耿秋澜", "uscc": uscc("gansu", 9601)},
    {"id_number": id_number("gansu", 962), "name": "闻人若谷", "uscc": uscc("gansu", 9602)},
    {"id_number": id_number("gansu", 963), "name": "仲孙慕白", "uscc": uscc("gansu", 9603)},
]
TWO_FIRMS = (uscc("gansu", 9611), uscc("gansu", 9612))
ONE_FIRM = uscc("gansu", 9613)
SESSION_PEOPLE: list[dict[str, Any]] = [
    {"id_number": id_number("gansu", 971), "name": "欧阳砚秋", "usccs": TWO_FIRMS},
    {"id_number": id_number("gansu", 972), "name": "司马晴川", "usccs": (ONE_FIRM,)},
]
FIRM_NAMES = {
    **{p["uscc"]: f"崩溃测试{i}号有限公司" for i, p in enumerate(CRASH_PEOPLE)},
    TWO_FIRMS[0]: "断网测试甲有限公司",
    TWO_FIRMS[1]: "断网测试乙有限公司",
    ONE_FIRM: "断网测试丙有限公司",
}


def card(person: dict[str, Any]) -> dict[str, str]:
    return {
        "name": person["name"],
        "sex": "女",
        "nation": "汉",
        "birth_date": "1980-01-01",
        "address": "甘肃省兰州市故障路7号",
        "id_number": person["id_number"],
        "authority": "兰州市公安局",
        "valid_from": "2020-01-01",
        "valid_until": "2040-01-01",
    }


def import_lines() -> list[str]:
    rows: list[dict[str, Any]] = [
        {"type": "entity", "uscc": code, "name": name, "kind": "company", "region": "gansu"}
        for code, name in FIRM_NAMES.items()
    ]
    for person in CRASH_PEOPLE:
        roles = [{"uscc": person["uscc"], "role": "legal_representative"}]
        rows.append({"type": "person", "id_number": person["id_number"], "name": person["name"],
                     "roles": roles})  # fmt: skip
    for person in SESSION_PEOPLE:
        roles = [{"uscc": code, "role": "agent"} for code in person["usccs"]]
        rows.append({"type": "person", "id_number": person["id_number"], "name": person["name"],
                     "roles": roles})  # fmt: skip
    return [json.dumps(r, ensure_ascii=False) for r in rows]


# --- the platform -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    workdir = tmp_path_factory.mktemp("faults-platform")
    platform = seeded_platform(workdir, 9, import_lines())
    platform.start()
    try:
        yield platform
    finally:
        platform.stop()


def reports_by_key(platform: Platform, terminal_id: str) -> Counter[str]:
    """The platform's own record: reports this terminal caused, counted by Idempotency-Key."""
    with contextlib.closing(sqlite3.connect(f"file:{platform.db}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT idempotency_key FROM reports WHERE terminal_id = ?", (terminal_id,)
        ).fetchall()
    return Counter(key for (key,) in rows)


def store_files(db: Path) -> list[Path]:
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]


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


# --- 2. the platform stopped and started under 300 sessions ---------------------------------------


@dataclass
class Visit:
    person: int
    end: Step
    ticket: str = ""
    verification_code: str = ""
    detours: list[tuple[str, str]] = field(default_factory=list)  # (step, message) on the way


@dataclass
class SessionsRun:
    visits: list[Visit]
    delivered: dict[str, str]  # ticket -> state after the final drain
    server: Counter[str]
    outages: int
    seconds: float
    rig: Rig
    files: list[Path]


class Flapper:
    """Stops and starts the platform at random intervals until told to stop."""

    def __init__(self, platform: Platform, seed: int) -> None:
        self.platform = platform
        self.rng = random.Random(seed)
        self.outages = 0
        self.failure: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flapper", daemon=True)

    def __enter__(self) -> Flapper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)
        self.platform.start()  # back for good

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.rng.uniform(1.5, 6.0)):
                self.platform.stop()
                self.outages += 1
                self._stop.wait(self.rng.uniform(0.5, 4.0))
                self.platform.start()
        except BaseException as exc:  # the main thread reports it
            self.failure = exc


class CardSlot(logging.Handler):
    """The simulated reader's card slot, shared by everyone at the kiosk. It listens to the
    reader's log for "card left the field": the moment the reader itself counts the card gone."""

    def __init__(self, rig: Rig) -> None:
        super().__init__(logging.INFO)
        self.sim = rig.kiosk.devices["id_card"].simulator
        self.removed_at = 0.0
        self.left_at = 0.0  # the last session ended
        self.seen_gone_at = 0.0
        self._logger = logging.getLogger("devices.id_card")
        self._old_level = self._logger.level
        self._logger.setLevel(logging.INFO)
        self._logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().endswith("card left the field"):
            self.seen_gone_at = time.monotonic()

    def close(self) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._old_level)
        super().close()

    def finds_since(self, moment: float) -> int:
        return len([t for t in self.sim.times_of("find_card") if t > moment])

    def wait_free(self) -> None:
        """The reader has counted the last card gone and polled once since the last session
        ended (from its next poll on it looks for a new card)."""
        deadline = time.monotonic() + 30
        while self.seen_gone_at < self.removed_at or self.finds_since(self.left_at) < 1:
            assert time.monotonic() < deadline, "the reader stopped polling"
            time.sleep(0.005)

    def insert(self, index: int) -> None:
        self.wait_free()
        self.sim.insert(index)

    def remove(self) -> None:
        self.removed_at = time.monotonic()
        self.sim.remove()


class Person:
    """Someone at the kiosk: puts the card on the reader, follows the screens."""

    def __init__(
        self, rig: Rig, slot: CardSlot, index: int, person: dict[str, Any], rng: random.Random
    ) -> None:
        self.rig = rig
        self.journey = rig.kiosk.journey
        self.slot = slot
        self.index = index
        self.person = person
        self.rng = rng

    def submit(self, intent: Callable[[Any], Any], timeout: float = 120) -> None:
        self.rig.kiosk.runner.submit(intent).result(timeout)

    def leave(self) -> None:
        self.submit(lambda j: j.cancel())
        self.slot.left_at = time.monotonic()

    def present_card(self) -> Step:
        """Card on the reader until the kiosk has read it; then it goes back in the wallet."""
        assert self.journey.step is Step.ATTRACT, self.journey.step
        self.slot.insert(self.index)
        step = self.wait_step({Step.ATTRACT, Step.AUTHENTICATING})
        self.slot.remove()
        return step

    def step(self) -> Step:
        return self.journey.step

    def wait_step(self, leave: set[Step], timeout: float = 60) -> Step:
        deadline = time.monotonic() + timeout
        while self.journey.step in leave:
            assert time.monotonic() < deadline, f"stuck at {self.journey.step.value}"
            time.sleep(0.005)
        return self.journey.step

    def visit(self) -> Visit:
        visit = Visit(self.index, Step.ATTRACT)
        for _ in range(6):  # a person tries again when the screen says the platform is away
            end = self._attempt(visit)
            if end in (Step.DONE, Step.QUEUED):
                visit.end = end
                break
        self.leave()  # 完成: back to the attract screen
        return visit

    def _attempt(self, visit: Visit) -> Step:
        receipts = len(self.rig.receipts.receipts)
        a4_before = self.rig.a4_output.stat().st_mtime_ns if self.rig.a4_output.exists() else 0
        step = self.present_card()
        firms = self.person["usccs"]
        firm = firms[self.rng.randrange(len(firms))]
        if step is Step.CHOOSE_ENTERPRISE:
            self.submit(lambda j: j.choose_enterprise(firm))
        elif step is Step.ENTER_USCC:  # offline: the credit code on the keypad
            self.submit(lambda j: j.enter_uscc(firm))
        elif step is not Step.CHOOSE_SCOPE:  # one enterprise: straight to the scope
            return self._detour(visit)
        if self.step() is not Step.CHOOSE_SCOPE:
            return self._detour(visit)
        self.submit(lambda j: j.scope_done())
        for _ in range(2):  # 确认 again after "cannot reach the platform"
            self.submit(lambda j: j.confirm())
            if self.step() is not Step.CONFIRM:
                break
            visit.detours.append((Step.CONFIRM.value, self.journey.snapshot.message_id))
        step = self.step()
        if step is Step.QUEUED:
            snap = self.journey.snapshot
            receipt = self.rig.receipts.wait_for_receipts(receipts + 1, timeout_s=30)[-1]
            assert receipt.qr_payloads == [snap.ticket], receipt.texts
            assert firm in "\n".join(receipt.texts)
            visit.ticket = snap.ticket
            return step
        if step is not Step.SUMMARY:
            return self._detour(visit)
        assert self.journey.snapshot.enterprise is not None
        assert self.journey.snapshot.enterprise.uscc == firm
        code = self.journey.snapshot.verification_code
        self.submit(lambda j: j.print_report())
        if self.step() is not Step.DONE:
            return self._detour(visit)
        receipt = self.rig.receipts.wait_for_receipts(receipts + 1, timeout_s=30)[-1]
        assert receipt.qr_payloads and receipt.qr_payloads[0].endswith("/v1/verify/" + code)
        a4 = self.rig.a4_output  # the A4 job, as the CUPS queue wrote it
        self.rig.wait_for(lambda: a4.exists() and a4.stat().st_mtime_ns != a4_before)
        text = subprocess.run(
            ["pdftotext", str(a4), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert code in text and FIRM_NAMES[firm] in text
        visit.verification_code = code
        return Step.DONE

    def _detour(self, visit: Visit) -> Step:
        snap = self.journey.snapshot
        visit.detours.append((snap.step.value, snap.message_id))
        self.leave()
        return snap.step


@pytest.fixture(scope="module")
def sessions_run(
    service: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SessionsRun]:
    assert SESSIONS >= 30, "OFFLINE_FAULT_SESSIONS: at least 30"
    workdir = tmp_path_factory.mktemp("flapping")
    log_file = workdir / "kiosk.log"  # everything the kiosk logs, as a technician collects it
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    service.start()
    token = service.add_token("hall-flapping")
    rig = build_rig(workdir / "kiosk", service.base_url, token, [card(p) for p in SESSION_PEOPLE])
    rig.kiosk.runner.start()
    slot = CardSlot(rig)
    try:
        started = time.monotonic()
        rng = random.Random(3)
        people = [Person(rig, slot, i, p, rng) for i, p in enumerate(SESSION_PEOPLE)]
        # the first session online: the catalog is cached, as on any kiosk in service
        assert people[0].visit().end is Step.DONE
        visits: list[Visit] = []
        with Flapper(service, seed=11) as flapper:
            for _ in range(SESSIONS):
                visits.append(people[rng.randrange(len(people))].visit())
        assert flapper.failure is None, flapper.failure
        store = rig.kiosk.store
        assert store is not None
        tickets = [v.ticket for v in visits if v.ticket]

        def state(ticket: str) -> str:
            item = store.outbox.find(REPORT_REQUEST, ticket)
            return "missing" if item is None else item.state.value

        rig.wait_for(lambda: all(state(t) == "delivered" for t in tickets), timeout=120)
        server = reports_by_key(service, rig.kiosk.enrollment.terminal_id)
        files = store_files(store.path)
        files += [p for p in rig.kiosk.config.state_dir.rglob("*") if p.is_file()]
        files.append(log_file)
        yield SessionsRun(
            visits=visits,
            delivered={t: state(t) for t in tickets},
            server=server,
            outages=flapper.outages,
            seconds=time.monotonic() - started,
            rig=rig,
            files=files,
        )
    finally:
        slot.close()
        rig.close()
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


def test_every_session_ends_printed_or_with_a_pickup_receipt_while_the_platform_flaps(
    sessions_run: SessionsRun,
) -> None:
    run = sessions_run
    ends = Counter(v.end.value for v in run.visits)
    detours = Counter(message for v in run.visits for _, message in v.detours)
    print(
        f"\n{len(run.visits)} sessions in {run.seconds:.0f} s, {run.outages} outages: "
        f"{dict(ends)}; on the way: {dict(detours)}"
    )
    assert len(run.visits) == SESSIONS
    assert set(ends) <= {"done", "queued"}, ends  # none lost, stuck or ending elsewhere
    assert ends["done"] > 0 and ends["queued"] > 0 and run.outages >= 3
    # the only thing a person was ever told on the way: the platform cannot be reached
    assert set(detours) <= {UNAVAILABLE}, detours

    codes = [v.verification_code for v in run.visits if v.end is Step.DONE]
    assert len(codes) == len(set(codes)) == ends["done"]  # each printed its own report
    tickets = [v.ticket for v in run.visits if v.end is Step.QUEUED]
    assert len(tickets) == len(set(tickets)) == ends["queued"]
    # the platform back for good: the drain delivered every queued ticket, one report each
    assert set(run.delivered.values()) == {"delivered"}
    assert all(run.server[t] == 1 for t in tickets), [t for t in tickets if run.server[t] != 1]
    assert max(run.server.values()) == 1


# --- 3. a full disk under the queue ----------------------------------------------------------------


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


# --- 4. nothing in plaintext ------------------------------------------------------------------------


def test_nothing_on_disk_or_in_the_logs_holds_an_id_number_or_name(
    kill_run: KillRun, sessions_run: SessionsRun
) -> None:
    """After the kill and flapping runs: the queues' databases with their WAL and SHM (a live one
    and one as the last kill left it), the kiosk's state and every log captured."""
    people = CRASH_PEOPLE + SESSION_PEOPLE
    needles = [(p["id_number"], p["id_number"].encode()) for p in people]
    for person in people:
        for encoding in ("utf-8", "utf-16-le", "utf-16-be", "gb18030"):
            needles.append((f"{person['name']} {encoding}", person["name"].encode(encoding)))
    files = [p for p in kill_run.files + sessions_run.files if p.exists()]
    names = {p.name for p in files}
    assert {"offline.db", "offline.db-wal", "offline.db-shm", "kiosk.log"} <= names, names
    assert any(p.parent.name == "after-last-kill" and p.name.endswith("-wal") for p in files)
    scanned = 0
    for path in files:
        data = path.read_bytes()
        scanned += len(data)
        for what, needle in needles:
            assert needle not in data, f"{what} in plaintext in {path}"
    assert scanned > 1 << 20  # the runs did write a lot
    logs = "".join(p.read_text("utf-8") for p in files if p.suffix == ".log")
    assert "delivered" in logs and "queued" in logs  # the logs did record the runs
