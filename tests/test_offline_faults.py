"""Faults: a damaged or foreign file, a wrong key, a full disk. The store refuses with a precise
message and a stable code, keeps the file byte for byte, and never half-stores a write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from offline_cache import (
    DatabaseCorrupt,
    FileKeyProvider,
    ItemState,
    OfflineCacheError,
    OfflineStore,
    Retention,
    SchemaTooNew,
    StorageFull,
    WrongKey,
)

from .offline_support import Clock, open_store, present, raw_db, request_payload, snapshot

ROOT = Path(__file__).resolve().parents[1]


def filled_store(tmp_path: Path, items: int = 50) -> Path:
    with open_store(tmp_path) as store:
        for i in range(items):
            store.outbox.enqueue("report_request", f"T{i}", request_payload(i), pii=True)
        store.cache.put("catalog", {"domains": list(range(20))})
    return tmp_path / "offline.db"


def reopen(tmp_path: Path) -> OfflineStore:
    return OfflineStore.open(tmp_path / "offline.db", FileKeyProvider(tmp_path / "offline.key"))


def assert_refused_and_kept(tmp_path: Path, error: type[OfflineCacheError], code: str) -> str:
    db = tmp_path / "offline.db"
    before = snapshot(db)
    with pytest.raises(error) as info:
        reopen(tmp_path)
    assert info.value.code == code
    assert str(db) in info.value.detail and "left untouched" in info.value.detail
    after = snapshot(db)
    assert after["db"] == before["db"]  # byte for byte
    if before["-wal"] is not None:
        assert after["-wal"] == before["-wal"]
    return info.value.detail


def test_garbage_file_is_refused_and_kept(tmp_path: Path) -> None:
    (tmp_path / "offline.db").write_bytes(os.urandom(64 << 10))
    FileKeyProvider(tmp_path / "offline.key", create=True).load_key()
    message = assert_refused_and_kept(tmp_path, DatabaseCorrupt, "offline_cache.corrupt")
    assert "not an SQLite database" in message and "move it aside" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["offline.db", "offline.key"]


@pytest.mark.parametrize(
    ("offset", "length"),
    [(0, 16), (16, 84), (28, 4)],
    ids=["magic", "header-fields", "page-count"],
)
def test_overwritten_header_is_refused_and_kept(tmp_path: Path, offset: int, length: int) -> None:
    db = filled_store(tmp_path)
    with db.open("r+b") as fh:
        fh.seek(offset)
        fh.write(b"\xa5" * length)
    assert_refused_and_kept(tmp_path, DatabaseCorrupt, "offline_cache.corrupt")


def test_damaged_page_inside_the_file_is_refused_and_kept(tmp_path: Path) -> None:
    db = filled_store(tmp_path, items=200)
    page = 4096
    assert db.stat().st_size >= 6 * page
    with db.open("r+b") as fh:
        fh.seek(3 * page)  # a b-tree page of the outbox
        fh.write(b"\xff" * page)
    message = assert_refused_and_kept(tmp_path, DatabaseCorrupt, "offline_cache.corrupt")
    assert "quick_check" in message or "malformed" in message


def test_foreign_sqlite_file_is_not_taken_for_a_store(tmp_path: Path) -> None:
    with raw_db(tmp_path / "offline.db") as conn:
        conn.execute("CREATE TABLE something (x)")
        conn.execute("INSERT INTO something VALUES (1)")
    FileKeyProvider(tmp_path / "offline.key", create=True).load_key()
    message = assert_refused_and_kept(tmp_path, DatabaseCorrupt, "offline_cache.corrupt")
    assert "not an offline store" in message


def test_store_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    filled_store(tmp_path, items=1)
    with raw_db(tmp_path / "offline.db") as conn:
        conn.execute("PRAGMA user_version = 99")
    message = assert_refused_and_kept(tmp_path, SchemaTooNew, "offline_cache.schema_too_new")
    assert "schema version 99" in message


def test_wrong_key_is_refused_and_the_right_one_still_opens_everything(tmp_path: Path) -> None:
    filled_store(tmp_path, items=20)
    right_key = (tmp_path / "offline.key").read_bytes()
    (tmp_path / "offline.key").write_bytes(os.urandom(32))
    message = assert_refused_and_kept(tmp_path, WrongKey, "offline_cache.wrong_key")
    assert str(tmp_path / "offline.key") in message
    (tmp_path / "offline.key").write_bytes(right_key)
    with reopen(tmp_path) as store:
        assert store.outbox.counts().pending == 20
        assert present(store.outbox.find("report_request", "T7")).payload == request_payload(7)


def test_wrong_key_refused_even_with_an_uncheckpointed_wal(tmp_path: Path) -> None:
    """A crashed kiosk leaves committed rows only in the -wal file; a refusal must keep both."""
    script = textwrap.dedent(
        """
        import os, sys
        from offline_cache import FileKeyProvider, OfflineStore
        store = OfflineStore.open(sys.argv[1], FileKeyProvider(sys.argv[2], create=True))
        for i in range(30):
            store.outbox.enqueue("report_request", f"T{i}", {"n": i}, pii=True)
        os._exit(0)  # no close, no checkpoint: as after a power cut
        """
    )
    db, key = tmp_path / "offline.db", tmp_path / "offline.key"
    subprocess.run([sys.executable, "-c", script, db, key], check=True, cwd=ROOT, timeout=60)
    assert (tmp_path / "offline.db-wal").stat().st_size > 0
    right_key = key.read_bytes()
    key.write_bytes(os.urandom(32))
    assert_refused_and_kept(tmp_path, WrongKey, "offline_cache.wrong_key")
    key.write_bytes(right_key)
    with reopen(tmp_path) as store:
        assert store.outbox.counts().pending == 30


def test_empty_file_left_by_an_interrupted_creation_becomes_a_store(tmp_path: Path) -> None:
    (tmp_path / "offline.db").touch()
    with open_store(tmp_path) as store:
        store.outbox.enqueue("report_request", "k", {"n": 1}, pii=False)
        assert store.outbox.counts().pending == 1


@pytest.mark.parametrize(
    ("item_bytes", "reason"),
    [(8000, "size cap is reached"), (150_000, "SQLITE_FULL")],
    ids=["cap-before-the-reserve", "sqlite-max-page-count"],
)
def test_disk_full_refuses_the_enqueue_whole_and_the_store_goes_on(
    tmp_path: Path, item_bytes: int, reason: str
) -> None:
    clock = Clock()
    store = open_store(
        tmp_path, clock, max_bytes=256 << 10, retention=Retention(delivered=0, dead_letter=0)
    )
    stored: list[str] = []
    with pytest.raises(StorageFull) as info:
        for i in range(1000):
            store.outbox.enqueue("report_request", f"T{i}", {"blob": "x" * item_bytes}, pii=True)
            stored.append(f"T{i}")
    failed_key = f"T{len(stored)}"
    assert info.value.code == "offline_cache.disk_full"
    assert reason in info.value.detail
    assert "rolled back" in info.value.detail and "bytes free" in info.value.detail
    assert 0 < len(stored) < 1000
    # nothing half-stored: no row for the refused item, every earlier one intact
    assert store.outbox.find("report_request", failed_key) is None
    assert store.outbox.counts().pending == len(stored)
    with raw_db(tmp_path / "offline.db") as conn:
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == len(stored)
        assert conn.execute("SELECT count(*) FROM outbox WHERE key_sealed = x''").fetchone()[0] == 0
    # still usable: leases and acks work in the reserve; pruning delivered items makes room
    for item in store.outbox.lease(limit=len(stored)):
        assert store.outbox.ack(item.id)
    clock.advance(1)
    assert store.prune().delivered == len(stored)
    again = store.outbox.enqueue("report_request", failed_key, {"blob": "x" * item_bytes}, pii=True)
    assert again.state is ItemState.PENDING
    store.close()
    with reopen(tmp_path) as store:
        assert store.outbox.counts().pending == 1
        assert present(store.outbox.find("report_request", failed_key)).payload == {
            "blob": "x" * item_bytes
        }


def test_low_disk_space_refuses_new_items_but_delivery_goes_on(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    queued = store.outbox.enqueue("report_request", "queued", {"n": 1}, pii=True)
    store.close()
    # a reserve larger than any disk: as if the disk had just filled up
    store = open_store(tmp_path, min_free_disk=1 << 62)
    with pytest.raises(StorageFull) as info:
        store.outbox.enqueue("report_request", "new", {"n": 2}, pii=True)
    assert "bytes free on the disk" in info.value.detail
    assert store.outbox.find("report_request", "new") is None
    (item,) = store.outbox.lease()
    assert item.id == queued.id and store.outbox.ack(item.id)
    store.close()


FSIZE_CHILD = textwrap.dedent(
    """
    import json, os, resource, signal, sys
    from offline_cache import FileKeyProvider, OfflineCacheError, OfflineStore

    db, key = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing us
    out = {}
    with OfflineStore.open(db, FileKeyProvider(key, create=True)) as store:
        store.outbox.enqueue("report_request", "before", {"n": 1}, pii=True)
        largest = max(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (largest + 8192, hard))
        try:
            store.outbox.enqueue("report_request", "big", {"blob": "x" * 200000}, pii=True)
            out["error"] = None
        except OfflineCacheError as exc:
            out["error"], out["message"] = exc.code, exc.detail
        out["big_found"] = store.outbox.find("report_request", "big") is not None
        out["pending"] = store.outbox.counts().pending
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
        store.outbox.enqueue("report_request", "after", {"n": 2}, pii=True)
        out["pending_after"] = store.outbox.counts().pending
    print(json.dumps(out))
    """
)


def test_file_size_limit_in_a_real_process_refuses_the_enqueue_cleanly(tmp_path: Path) -> None:
    db, key = tmp_path / "offline.db", tmp_path / "offline.key"
    done = subprocess.run(
        [sys.executable, "-c", FSIZE_CHILD, db, key],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["error"] == "offline_cache.disk_full", out
    assert "RLIMIT_FSIZE" in out["message"] and "rolled back" in out["message"]
    assert out["big_found"] is False and out["pending"] == 1 and out["pending_after"] == 2
    with reopen(tmp_path) as store:
        assert store.outbox.find("report_request", "big") is None
        assert present(store.outbox.find("report_request", "before")).payload == {"n": 1}
        assert present(store.outbox.find("report_request", "after")).payload == {"n": 2}
    with raw_db(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
