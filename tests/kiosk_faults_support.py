"""What the kiosk fault runs share (`test_kiosk_offline_kill9.py`, `test_kiosk_offline_flapping.py`):
their synthetic people and enterprises, a seeded reference platform, a person at the kiosk with a card
on the simulated reader, and the scan for those people in everything a run wrote."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kiosk.demo_rig import Platform, Rig
from kiosk.steps import Step

from .casebook import id_number, uscc
from .offline_platform import seeded_platform

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


def seeded_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A `report-service serve` with these people imported, stopped at the end (each fault
    module's `service` fixture)."""
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


@dataclass
class Visit:
    person: int
    end: Step
    ticket: str = ""
    verification_code: str = ""
    detours: list[tuple[str, str]] = field(default_factory=list)  # (step, message) on the way


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


def assert_nothing_in_plaintext(files: list[Path]) -> str:
    """No ID number or name of these people, in any encoding a program might write, in `files`;
    the text of those that are logs."""
    people = CRASH_PEOPLE + SESSION_PEOPLE
    needles = [(p["id_number"], p["id_number"].encode()) for p in people]
    for person in people:
        for encoding in ("utf-8", "utf-16-le", "utf-16-be", "gb18030"):
            needles.append((f"{person['name']} {encoding}", person["name"].encode(encoding)))
    scanned = 0
    for path in files:
        data = path.read_bytes()
        scanned += len(data)
        for what, needle in needles:
            assert needle not in data, f"{what} in plaintext in {path}"
    assert scanned > 1 << 20  # the run did write a lot
    return "".join(p.read_text("utf-8") for p in files if p.suffix == ".log")
