"""The offline journey on real parts: a `report-service serve` process stopped and started again, the
kiosk's real composition root with its encrypted SQLite queue, the ID card simulator on a pty, the
camera on an image folder, a private cupsd and the ESC/POS simulator (docs/offline.md)."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.demo_rig import Platform, Rig, build_rig
from kiosk.offline import REPORT_REQUEST
from kiosk.steps import Step
from offline_cache import ItemState, OutboxItem

from .casebook import company_and_person, id_number, uscc
from .offline_platform import kiosk_log, seeded_platform

COMPANY = uscc("gansu", 9401)
COMPANY_NAME = "离线测试科技有限公司"
NOT_REGISTERED = uscc("gansu", 9402)  # a well-formed code the platform does not know
PERSON = id_number("gansu", 941)
NAME = "离线测试人"
CARD = {
    "name": NAME,
    "sex": "男",
    "nation": "汉",
    "birth_date": "1980-01-01",
    "address": "甘肃省兰州市测试路9号",
    "id_number": PERSON,
    "authority": "兰州市公安局",
    "valid_from": "2020-01-01",
    "valid_until": "2040-01-01",
}


@dataclass
class World:
    rig: Rig
    platform: Platform
    workdir: Path
    log_file: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workdir = tmp_path_factory.mktemp("offline-e2e")
    lines = company_and_person("gansu", COMPANY, COMPANY_NAME, PERSON, NAME, "legal_representative")
    platform = seeded_platform(workdir, 3, lines)
    platform.start()
    with kiosk_log(workdir / "kiosk.log") as log_file:
        token = platform.add_token("hall-offline")
        rig = build_rig(workdir / "kiosk", platform.base_url, token, [CARD])
        rig.kiosk.runner.start()
        try:
            yield World(rig, platform, workdir, log_file)
        finally:
            rig.close()
            platform.stop()


def submit(rig: Rig, intent: object, timeout: float = 30) -> None:
    rig.kiosk.runner.submit(intent).result(timeout)  # type: ignore[arg-type]


def card_again(rig: Rig) -> None:
    """Take the card away and put it back: the reader reads a card once per placing."""
    rig.remove_card()
    time.sleep(1.0)
    rig.insert_card(0)


def reports_for(platform: Platform, ticket: str) -> int:
    with sqlite3.connect(f"file:{platform.db}?mode=ro", uri=True) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM reports WHERE idempotency_key = ?", (ticket,)
        ).fetchone()
    return int(count)


def item(rig: Rig, ticket: str) -> OutboxItem:
    store = rig.kiosk.store
    assert store is not None
    found = store.outbox.find(REPORT_REQUEST, ticket)
    assert found is not None
    return found


def queue_offline(world: World, code: str) -> str:
    """With the platform stopped: card, credit code, defaults, confirm → the ticket."""
    rig, journey = world.rig, world.rig.kiosk.journey
    submit(rig, lambda j: j.reset())
    world.platform.stop()
    card_again(rig)
    rig.wait_for(lambda: journey.step is Step.ENTER_USCC, timeout=60)
    assert journey.snapshot.message_id == "offline_mode.notice"
    submit(rig, lambda j: j.enter_uscc(code))
    assert journey.step is Step.CHOOSE_SCOPE, journey.snapshot.message_id
    submit(rig, lambda j: j.scope_done())
    submit(rig, lambda j: j.confirm(), timeout=60)
    assert journey.step is Step.QUEUED, journey.snapshot.message_id
    return journey.snapshot.ticket


def test_queued_offline_delivered_once_and_picked_up(world: World) -> None:
    rig, journey, platform = world.rig, world.rig.kiosk.journey, world.platform
    # an online session first: the catalog is fetched, and cached for offline use
    rig.insert_card(0)
    rig.wait_for(lambda: journey.step is Step.CHOOSE_SCOPE, timeout=60)
    receipts_before = len(rig.receipts.receipts)

    ticket = queue_offline(world, COMPANY)
    queued = item(rig, ticket)
    assert queued.state in (ItemState.PENDING, ItemState.IN_FLIGHT)
    assert queued.pii and queued.payload is not None
    assert queued.payload["uscc"] == COMPANY and queued.payload["login"] == "id_card"
    assert journey.snapshot.pickup_after
    receipt = rig.receipts.wait_for_receipts(receipts_before + 1, timeout_s=30)[-1]
    printed = "\n".join(receipt.texts)
    assert receipt.qr_payloads == [ticket]
    assert COMPANY in printed and ticket in printed
    assert PERSON not in printed and NAME not in printed
    submit(rig, lambda j: j.cancel())

    platform.start()
    rig.wait_for(lambda: item(rig, ticket).state is ItemState.DELIVERED, timeout=90)
    delivered = item(rig, ticket)
    assert delivered.payload is None  # the card's fields are gone once delivered
    assert reports_for(platform, ticket) == 1

    # a second delivery of the same item (a crash between the platform's answer and the ack)
    drainer = rig.kiosk.drainer
    assert drainer is not None
    again = asyncio.run_coroutine_threadsafe(drainer.deliver(queued), rig.kiosk.runner.loop).result(
        60
    )
    assert again.outcome.value == "delivered"
    assert reports_for(platform, ticket) == 1

    # pickup: the receipt's QR at the attract screen, then the same person's card
    rig.camera.show(ticket)
    rig.wait_for(lambda: journey.step is Step.PICKUP_AUTH, timeout=30)
    rig.camera.clear()
    assert journey.snapshot.ticket == ticket
    a4_before = rig.a4_output.stat().st_mtime if rig.a4_output.exists() else 0.0
    card_again(rig)
    rig.wait_for(lambda: journey.step is Step.SUMMARY, timeout=60)
    snap = journey.snapshot
    assert snap.enterprise is not None and snap.enterprise.name == COMPANY_NAME
    code = snap.verification_code
    submit(rig, lambda j: j.print_report(), timeout=120)
    assert journey.step is Step.DONE, journey.snapshot.message_id
    rig.wait_for(lambda: rig.a4_output.exists() and rig.a4_output.stat().st_mtime > a4_before)
    rig.wait_for(lambda: rig.a4_output.stat().st_size > 1000)
    text = subprocess.run(
        ["pdftotext", str(rig.a4_output), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert COMPANY_NAME in text and code in text
    assert reports_for(platform, ticket) == 1  # picking up made no new report
    submit(rig, lambda j: j.cancel())


def test_a_request_the_platform_refuses_becomes_a_refused_pickup(world: World) -> None:
    rig, journey, platform = world.rig, world.rig.kiosk.journey, world.platform
    ticket = queue_offline(world, NOT_REGISTERED)
    submit(rig, lambda j: j.cancel())
    platform.start()
    rig.wait_for(lambda: item(rig, ticket).state is ItemState.DEAD_LETTER, timeout=90)
    refused = item(rig, ticket)
    assert refused.last_error == "api.entity_not_found"  # a code, nothing of the person
    assert reports_for(platform, ticket) == 0

    rig.camera.show(ticket)
    rig.wait_for(lambda: journey.step is Step.PICKUP_AUTH, timeout=30)
    rig.camera.clear()
    card_again(rig)
    rig.wait_for(lambda: journey.step is Step.ERROR, timeout=60)
    assert journey.snapshot.message_id == "pickup.refused"
    submit(rig, lambda j: j.cancel())


def test_the_staff_screen_counts_the_queue(world: World) -> None:
    rig, journey = world.rig, world.rig.kiosk.journey
    submit(rig, lambda j: j.reset())
    submit(rig, lambda j: j.open_staff())
    from kiosk.demo_rig import DEMO_STAFF_PIN

    submit(rig, lambda j: j.enter_staff_pin(DEMO_STAFF_PIN))
    status = journey.snapshot.staff_status
    assert int(status["queue_delivered"]) >= 1 and int(status["queue_dead_letter"]) >= 1
    assert status["queue_pending"] == "0"
    submit(rig, lambda j: j.cancel())


def test_nothing_on_disk_or_in_the_logs_holds_the_id_number_or_name(world: World) -> None:
    """After the runs above: the queue's database, WAL and SHM, the kiosk's state and its log."""
    store = world.rig.kiosk.store
    assert store is not None
    db = store.path
    files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    files += [p for p in world.rig.kiosk.config.state_dir.rglob("*") if p.is_file()]
    files.append(world.log_file)
    assert db.stat().st_size > 0 and world.log_file.stat().st_size > 0
    needles = [PERSON.encode()]
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "gb18030"):
        needles.append(NAME.encode(encoding))
    scanned = 0
    for path in files:
        if not path.exists():
            continue
        data = path.read_bytes()
        scanned += 1
        for needle in needles:
            assert needle not in data, (path.name, needle)
    assert scanned >= 4
    assert "offline" in world.log_file.read_text(encoding="utf-8")  # the log did record the run


@pytest.mark.parametrize("damage", ["corrupt", "wrong_key"])
def test_an_unusable_queue_keeps_its_files_and_the_kiosk_out_of_service(
    world: World, damage: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    db, key = state / "offline.db", state / "offline.key"
    if damage == "corrupt":
        db.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
        key.write_bytes(os.urandom(32))
    else:  # a good store, then somebody else's key
        from offline_cache import FileKeyProvider, OfflineStore

        OfflineStore.open(db, FileKeyProvider(key, create=True)).close()
        key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    before = {p.name: p.read_bytes() for p in (db, key)}
    token = world.platform.add_token("hall-broken")
    world.platform.start()
    with caplog.at_level(logging.ERROR, logger="kiosk.compose"):
        rig = build_rig(tmp_path / "kiosk", world.platform.base_url, token, [CARD], state_dir=state)
    try:
        assert rig.kiosk.store is None
        journey = rig.kiosk.journey
        assert journey.step is Step.OUT_OF_SERVICE
        assert journey.snapshot.message_id == "error.out_of_service"
        code = "offline_cache.corrupt" if damage == "corrupt" else "offline_cache.wrong_key"
        lines = [r.getMessage() for r in caplog.records if r.name == "kiosk.compose"]
        assert any(code in line and str(db) in line for line in lines), lines
        rig.kiosk.runner.start()
        rig.insert_card(0)
        time.sleep(1.5)
        assert journey.step is Step.OUT_OF_SERVICE  # nobody is served, nothing is lost
    finally:
        rig.close()
    assert {p.name: p.read_bytes() for p in (db, key)} == before  # left as it was, for recovery
