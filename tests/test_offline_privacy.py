"""No plaintext ID number or name in the store's files or its log lines, in any likely encoding."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from .offline_support import PERSON_ID, PERSON_NAME, Clock, open_store, raw_db, request_payload

ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be", "gb18030")


def needles() -> dict[str, bytes]:
    found = {}
    for text in (PERSON_ID, PERSON_NAME, PERSON_ID[:14]):  # the ID, the name, the ID's birth part
        for encoding in ENCODINGS:
            found[f"{text!r} as {encoding}"] = text.encode(encoding)
    escaped = PERSON_NAME.encode("unicode_escape")  # JSON with ensure_ascii
    found["name as \\u escapes"] = escaped
    return found


def leaks(files: list[Path]) -> list[str]:
    problems = []
    for f in files:
        data = f.read_bytes()
        for label, needle in needles().items():
            if needle in data:
                problems.append(f"{f.name}: {label}")
    return problems


def store_files(tmp_path: Path) -> list[Path]:
    return [p for p in tmp_path.iterdir() if p.name.startswith("offline.db")]


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "kiosk.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    logger = logging.getLogger("offline_cache")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield path
    logger.removeHandler(handler)
    logger.setLevel(old_level)
    handler.close()


def test_the_scan_itself_finds_plaintext(tmp_path: Path) -> None:
    control = tmp_path / "control.bin"
    for encoding in ENCODINGS:
        control.write_bytes(b"\x00junk" + f"{PERSON_NAME}:{PERSON_ID}".encode(encoding) + b"\x00")
        assert len(leaks([control])) >= 2, encoding


def test_no_plaintext_pii_in_database_wal_shm_or_logs(tmp_path: Path, log_file: Path) -> None:
    clock = Clock()
    store = open_store(tmp_path, clock, max_attempts=2)
    for i in range(40):
        # the ticket itself may even carry an ID number: it is stored hashed and sealed
        store.outbox.enqueue("report_request", f"{PERSON_ID}-{i}", request_payload(i), pii=True)
    store.outbox.enqueue("audit", "ev-1", {"event": "login", "who": PERSON_NAME}, pii=True)
    store.cache.put("config", {"last_user": PERSON_NAME, "id": PERSON_ID})
    pdf = b"%PDF-1.7 " + f"({PERSON_NAME} {PERSON_ID})".encode("utf-16-be") + PERSON_ID.encode()
    store.reprints.put("R20261122XYZ", pdf, {"holder": PERSON_NAME, "id_number": PERSON_ID})
    leased = store.outbox.lease(limit=10)
    for item in leased[:5]:
        store.outbox.ack(item.id)
    for item in leased[5:]:
        store.outbox.nack(item.id, "report.forbidden", clock() + 1, permanent=True)
    with raw_db(tmp_path / "offline.db") as conn:  # swap two payloads: an unreadable row
        conn.execute(
            "UPDATE outbox_payload SET payload = (SELECT payload FROM outbox_payload"
            " WHERE item_id = 20) WHERE item_id = 21"
        )
    clock.advance(1000)
    store.outbox.lease(limit=40)  # logs the unreadable row
    store.prune()
    assert store.reprints.get("R20261122XYZ") is None  # and the expired reprint is gone

    files = store_files(tmp_path)
    assert {p.name for p in files} >= {"offline.db", "offline.db-wal", "offline.db-shm"}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)  # owner only
    assert (tmp_path / "offline.db-wal").stat().st_size > 0
    assert log_file.read_text(encoding="utf-8").strip(), "the run should have logged something"
    assert leaks([*files, log_file]) == []
    store.close()
    assert leaks([*store_files(tmp_path), log_file]) == []


def test_delivered_pii_payload_leaves_no_ciphertext_behind(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        item = store.outbox.enqueue("report_request", "T-1", request_payload(), pii=True)
        store.outbox.enqueue("report_request", "T-2", request_payload(2), pii=True)
        with raw_db(tmp_path / "offline.db") as conn:
            sealed = conn.execute(
                "SELECT payload FROM outbox_payload WHERE item_id = ?", (item.id,)
            ).fetchone()[0]
        (leased, _) = store.outbox.lease(limit=2)
        store.outbox.ack(leased.id)
    # closed: the WAL is checkpointed into the file and removed; freed pages were zeroed
    data = b"".join(p.read_bytes() for p in store_files(tmp_path))
    assert len(sealed) > 100 and sealed[-64:] not in data
