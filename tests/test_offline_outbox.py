"""The outbox on a real SQLite file: idempotent enqueue, leases, ordering, dead letters, retention."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from offline_cache import (
    DatabaseCorrupt,
    InvalidInput,
    ItemState,
    OfflineStore,
    Retention,
    StoreClosed,
    UnknownItem,
)

from .offline_support import Clock, open_store, present, raw_db, request_payload


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[OfflineStore]:
    s = open_store(tmp_path, clock, max_attempts=3)
    yield s
    s.close()


def test_same_idempotency_key_returns_the_stored_item_never_a_second(
    tmp_path: Path, store: OfflineStore, clock: Clock
) -> None:
    first = store.outbox.enqueue("report_request", "T-001", request_payload(1), pii=True)
    clock.advance(5)
    again = store.outbox.enqueue("report_request", "T-001", request_payload(2), pii=True)
    assert again.id == first.id and again.payload == request_payload(1)
    assert again.created_at == first.created_at
    store.close()
    reopened = open_store(tmp_path, clock)
    after_restart = reopened.outbox.enqueue("report_request", "T-001", request_payload(3), pii=True)
    assert after_restart.id == first.id
    assert reopened.outbox.counts().pending == 1
    # the same key under another kind is another item
    other = reopened.outbox.enqueue("audit", "T-001", {"event": "x"}, pii=False)
    assert other.id != first.id
    reopened.close()


def test_delivered_item_is_not_queued_again_by_its_key(store: OfflineStore) -> None:
    item = store.outbox.enqueue("report_request", "T-9", request_payload(), pii=True)
    (leased,) = store.outbox.lease()
    assert store.outbox.ack(leased.id) is True
    again = store.outbox.enqueue("report_request", "T-9", request_payload(), pii=True)
    assert again.id == item.id and again.state is ItemState.DELIVERED
    assert store.outbox.lease() == []


def test_lease_ack_moves_through_states_and_counts_follow(store: OfflineStore) -> None:
    a = store.outbox.enqueue("report_request", "a", {"n": 1}, pii=False)
    b = store.outbox.enqueue("report_request", "b", {"n": 2}, pii=False)
    assert store.outbox.counts().as_dict() == {
        "pending": 2,
        "in_flight": 0,
        "delivered": 0,
        "dead_letter": 0,
    }
    leased = store.outbox.lease(limit=5)
    assert [i.id for i in leased] == [a.id, b.id]
    assert all(i.state is ItemState.IN_FLIGHT and i.attempts == 1 for i in leased)
    assert store.outbox.lease() == []  # nothing leased twice
    assert store.outbox.ack(a.id) is True
    assert store.outbox.ack(a.id) is False  # a repeated ack changes nothing
    counts = store.outbox.counts()
    assert (counts.pending, counts.in_flight, counts.delivered) == (0, 1, 1)
    with pytest.raises(UnknownItem):
        store.outbox.ack(999)


def test_expired_lease_returns_the_item_to_pending(store: OfflineStore, clock: Clock) -> None:
    item = store.outbox.enqueue("report_request", "crash", {"n": 1}, pii=False)
    store.outbox.lease(lease_seconds=30)
    clock.advance(29)
    assert store.outbox.lease() == []
    assert present(store.outbox.get(item.id)).state is ItemState.IN_FLIGHT
    clock.advance(1)
    assert store.outbox.counts().pending == 1  # counted as pending before anyone re-leases it
    assert present(store.outbox.get(item.id)).state is ItemState.PENDING
    (again,) = store.outbox.lease()
    assert again.id == item.id and again.attempts == 2


def test_nack_waits_until_retry_at_then_dead_letters_after_max_attempts(
    store: OfflineStore, clock: Clock
) -> None:
    item = store.outbox.enqueue("report_request", "r", {"n": 1}, pii=True)
    for attempt in (1, 2):
        (leased,) = store.outbox.lease()
        assert leased.attempts == attempt
        state = store.outbox.nack(leased.id, "api.unavailable", retry_at=clock() + 60)
        assert state is ItemState.PENDING
        assert store.outbox.lease() == []  # not before retry_at
        assert store.outbox.next_due() == pytest.approx(clock() + 60)
        clock.advance(60)
    (last,) = store.outbox.lease()
    assert store.outbox.nack(last.id, "api.unavailable", clock() + 60) is ItemState.DEAD_LETTER
    dead = present(store.outbox.get(item.id))
    assert dead.state is ItemState.DEAD_LETTER and dead.last_error == "api.unavailable"
    assert dead.payload == {"n": 1}  # kept for staff until retention removes it
    clock.advance(3600)
    assert store.outbox.lease() == []
    assert [i.id for i in store.outbox.items(ItemState.DEAD_LETTER)] == [item.id]
    assert store.outbox.revive(item.id) is True
    (revived,) = store.outbox.lease()
    assert revived.id == item.id and revived.attempts == 1


def test_permanent_failure_dead_letters_at_once(store: OfflineStore) -> None:
    store.outbox.enqueue("report_request", "p", {"n": 1}, pii=False)
    (item,) = store.outbox.lease()
    assert (
        store.outbox.nack(item.id, "report.forbidden", 0, permanent=True) is ItemState.DEAD_LETTER
    )
    assert store.outbox.counts().dead_letter == 1
    # a late nack or ack never resurrects it into the queue
    assert store.outbox.nack(item.id, "x", 0) is ItemState.DEAD_LETTER
    assert store.outbox.lease() == []


def test_crash_looping_item_ends_as_dead_letter_not_forever_in_flight(
    store: OfflineStore, clock: Clock
) -> None:
    item = store.outbox.enqueue("report_request", "poison", {"n": 1}, pii=False)
    for _ in range(3):
        assert [i.id for i in store.outbox.lease(lease_seconds=10)] == [item.id]
        clock.advance(11)  # the process died with it in flight
    assert store.outbox.lease() == []
    dead = present(store.outbox.get(item.id))
    assert dead.state is ItemState.DEAD_LETTER and dead.last_error == "offline_cache.lease_expired"


def test_ordered_kind_is_never_leased_past_an_earlier_undelivered_item(
    store: OfflineStore, clock: Clock
) -> None:
    events = [store.outbox.enqueue("telemetry", f"ev{i}", {"i": i}, pii=False) for i in range(4)]
    request = store.outbox.enqueue("report_request", "req", {"n": 1}, pii=False)
    (head,) = store.outbox.lease(kinds=["telemetry"])
    assert head.id == events[0].id
    # the head is in flight: the others of its kind wait, other kinds do not
    assert [i.id for i in store.outbox.lease(limit=10)] == [request.id]
    store.outbox.nack(head.id, "api.unavailable", retry_at=clock() + 30)
    assert store.outbox.lease(kinds=["telemetry"]) == []  # the head is backing off: all wait
    clock.advance(30)
    run = store.outbox.lease(limit=2, kinds=["telemetry"])
    assert [i.id for i in run] == [events[0].id, events[1].id]  # in order, from the head
    store.outbox.ack(run[0].id)
    store.outbox.release(run[1].id)  # the rest of a run goes back untried
    assert present(store.outbox.get(run[1].id)).attempts == 0
    rest = store.outbox.lease(limit=10, kinds=["telemetry"])
    assert [i.id for i in rest] == [e.id for e in events[1:]]


def test_unordered_kinds_are_not_held_up_by_a_retrying_item(
    store: OfflineStore, clock: Clock
) -> None:
    first = store.outbox.enqueue("report_request", "a", {"n": 1}, pii=False)
    second = store.outbox.enqueue("report_request", "b", {"n": 2}, pii=False)
    (item,) = store.outbox.lease()
    store.outbox.nack(item.id, "api.timeout", retry_at=clock() + 100)
    assert [i.id for i in store.outbox.lease()] == [second.id]
    assert first.id == item.id


def test_pii_payload_is_wiped_on_delivery_other_payloads_kept(
    tmp_path: Path, store: OfflineStore
) -> None:
    pii = store.outbox.enqueue("report_request", "pii", request_payload(), pii=True)
    plain = store.outbox.enqueue("telemetry", "t", {"paper": "low"}, pii=False)
    for item in store.outbox.lease(limit=2):
        store.outbox.ack(item.id)
    assert present(store.outbox.get(pii.id)).payload is None
    assert present(store.outbox.get(plain.id)).payload == {"paper": "low"}
    with raw_db(
        tmp_path / "offline.db"
    ) as conn:  # the sealed PII payload itself is gone from the file's tables
        rows = dict(conn.execute("SELECT item_id, payload FROM outbox_payload").fetchall())
    assert pii.id not in rows and plain.id in rows


def test_retention_prunes_finished_items_and_never_pending_ones(
    tmp_path: Path, clock: Clock
) -> None:
    store = open_store(tmp_path, clock, retention=Retention(delivered=100, dead_letter=1000))
    old_pending = store.outbox.enqueue("report_request", "old", {"n": 0}, pii=True)
    delivered = store.outbox.enqueue("report_request", "done", {"n": 1}, pii=False)
    dead = store.outbox.enqueue("report_request", "dead", {"n": 2}, pii=True)
    in_flight = store.outbox.enqueue("report_request", "busy", {"n": 3}, pii=False)
    for item in store.outbox.lease(limit=4):
        if item.id == delivered.id:
            store.outbox.ack(item.id)
        elif item.id == dead.id:
            store.outbox.nack(item.id, "report.forbidden", 0, permanent=True)
        elif item.id == old_pending.id:
            store.outbox.release(item.id)
    clock.advance(99)
    assert store.prune().delivered == 0
    clock.advance(2)
    report = store.prune()
    assert (report.delivered, report.dead_letter) == (1, 0)
    assert store.outbox.get(delivered.id) is None
    clock.advance(10 * 365 * 86400.0)  # ten years: still nothing pending goes
    report = store.prune()
    assert report.dead_letter == 1 and store.outbox.get(dead.id) is None
    assert present(store.outbox.get(old_pending.id)).state is ItemState.PENDING
    assert store.outbox.get(in_flight.id) is not None  # its lease ran out: pending, kept
    assert store.outbox.counts().pending == 2
    with raw_db(tmp_path / "offline.db") as conn:  # the pruned items' payloads went with them
        kept = {r[0] for r in conn.execute("SELECT item_id FROM outbox_payload")}
    assert kept == {old_pending.id, in_flight.id}
    # a pruned id is gone for good: ids are never reused
    newer = store.outbox.enqueue("report_request", "new", {"n": 4}, pii=False)
    assert newer.id > in_flight.id
    store.close()


def test_ciphertext_moved_to_another_row_does_not_decrypt(
    tmp_path: Path, store: OfflineStore
) -> None:
    a = store.outbox.enqueue("report_request", "a", {"who": "A"}, pii=True)
    b = store.outbox.enqueue("report_request", "b", {"who": "B"}, pii=True)
    c = store.outbox.enqueue("report_request", "c", {"who": "C"}, pii=True)
    with raw_db(tmp_path / "offline.db") as conn:  # an attacker with the file swaps two payloads
        pa, pb = (
            conn.execute("SELECT payload FROM outbox_payload WHERE item_id = ?", (i,)).fetchone()[0]
            for i in (a.id, b.id)
        )
        conn.execute("UPDATE outbox_payload SET payload = ? WHERE item_id = ?", (pb, a.id))
        conn.execute("UPDATE outbox_payload SET payload = ? WHERE item_id = ?", (pa, b.id))
    with pytest.raises(DatabaseCorrupt) as info:
        store.outbox.get(a.id)
    assert info.value.code == "offline_cache.corrupt"
    leased = store.outbox.lease(limit=10)
    assert [i.payload for i in leased] == [{"who": "C"}]  # the damaged rows do not block the queue
    assert leased[0].id == c.id
    assert store.outbox.counts().dead_letter == 2


def test_bad_arguments_are_refused_before_anything_is_stored(store: OfflineStore) -> None:
    with pytest.raises(InvalidInput):
        store.outbox.enqueue("Report Request", "k", {}, pii=False)
    with pytest.raises(InvalidInput):
        store.outbox.enqueue("report_request", "", {}, pii=False)
    with pytest.raises(InvalidInput):
        store.outbox.enqueue("report_request", "k", {"when": object()}, pii=False)
    with pytest.raises(InvalidInput):
        store.outbox.enqueue("report_request", "k", {"big": "x" * (256 << 10)}, pii=False)
    assert store.outbox.counts().pending == 0
    store.outbox.enqueue("report_request", "k", {}, pii=False)
    (item,) = store.outbox.lease()
    with pytest.raises(InvalidInput):  # codes only: a free-text message could carry PII
        store.outbox.nack(item.id, "platform said: name 张三 not found", 0)
    assert present(store.outbox.get(item.id)).state is ItemState.IN_FLIGHT


def test_a_drain_thread_and_the_loop_thread_share_one_store(store: OfflineStore) -> None:
    total = 300
    acked: list[int] = []
    done = threading.Event()
    errors: list[BaseException] = []

    def drain() -> None:
        try:
            while not (done.is_set() and store.outbox.counts().pending == 0):
                for item in store.outbox.lease(limit=7):
                    store.outbox.ack(item.id)
                    acked.append(item.id)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    worker = threading.Thread(target=drain)
    worker.start()
    ids = [
        store.outbox.enqueue("report_request", f"k{i}", {"i": i}, pii=True).id for i in range(total)
    ]
    done.set()
    worker.join(timeout=60)
    assert not worker.is_alive() and errors == []
    assert sorted(acked) == ids  # each delivered exactly once
    assert store.outbox.counts().delivered == total


def test_two_stores_on_one_file_never_lease_the_same_item(tmp_path: Path, clock: Clock) -> None:
    """Two connections (as two processes would have) drain one file side by side."""
    first = open_store(tmp_path, clock)
    second = open_store(tmp_path, clock)
    ids = [
        first.outbox.enqueue("report_request", f"k{i}", {"i": i}, pii=False).id for i in range(200)
    ]
    got: dict[str, list[int]] = {"first": [], "second": []}

    def drain(name: str, store: OfflineStore) -> None:
        while leased := store.outbox.lease(limit=3):
            for item in leased:
                store.outbox.ack(item.id)
                got[name].append(item.id)

    threads = [
        threading.Thread(target=drain, args=p) for p in (("first", first), ("second", second))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(got["first"] + got["second"]) == ids
    first.close()
    second.close()


def test_a_closed_store_says_so(tmp_path: Path, clock: Clock) -> None:
    store = open_store(tmp_path, clock)
    store.close()
    assert store.closed
    with pytest.raises(StoreClosed) as info:
        store.outbox.enqueue("report_request", "late", {}, pii=False)
    assert info.value.code == "offline_cache.closed"
