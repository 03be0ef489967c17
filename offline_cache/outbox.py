"""The outbox: queued report requests, telemetry and audit events waiting for the platform.

An item moves pending → in_flight (leased) → delivered, or → dead_letter after too many attempts or a
permanent failure. A lease that runs out (the process died mid-delivery) puts the item back to pending,
so delivery is at least once; the platform's idempotency makes a repeat harmless. Items of an ordered
kind are leased strictly one after another by id.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Collection, Iterable
from typing import Any

from .database import Database
from .errors import DatabaseCorrupt, InvalidInput, UnknownItem
from .items import (
    MAX_KEY_CHARS,
    ItemState,
    OutboxCounts,
    OutboxItem,
    check_error_code,
    check_kind,
)
from .sealing import Unsealable, associated_data

log = logging.getLogger(__name__)

UNREADABLE = "offline_cache.row_unreadable"
LEASE_EXPIRED = "offline_cache.lease_expired"

_COLUMNS = (
    "id, kind, key_sealed, payload, pii, state, attempts, created_at, available_at, "
    "lease_expires, last_error, finished_at"
)
_FROM = "outbox LEFT JOIN outbox_payload ON outbox_payload.item_id = outbox.id"


class Outbox:
    def __init__(
        self,
        db: Database,
        *,
        ordered_kinds: Collection[str],
        max_attempts: int,
        max_payload_bytes: int,
    ) -> None:
        for kind in ordered_kinds:
            check_kind(kind)
        if max_attempts < 1:
            raise InvalidInput("max_attempts must be at least 1")
        self._db = db
        self.ordered_kinds = frozenset(ordered_kinds)
        self.max_attempts = max_attempts
        self.max_payload_bytes = max_payload_bytes

    # -- adding ----------------------------------------------------------------------------------

    def enqueue(
        self, kind: str, idempotency_key: str, payload: dict[str, Any], *, pii: bool
    ) -> OutboxItem:
        """Store an item durably (on disk when this returns) and return it.

        The same (kind, idempotency_key) again returns the item already stored, whatever its state,
        and stores nothing new. Raises StorageFull/WriteFailed when the disk refuses the write;
        then nothing of the item is stored.
        """
        check_kind(kind)
        if not isinstance(idempotency_key, str) or not 0 < len(idempotency_key) <= MAX_KEY_CHARS:
            raise InvalidInput(f"idempotency_key must be a string of 1 to {MAX_KEY_CHARS} chars")
        if not isinstance(payload, dict):
            raise InvalidInput("payload must be a dict")
        try:
            body = json.dumps(
                payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"payload is not JSON-serialisable: {type(exc).__name__}") from None
        if len(body) > self.max_payload_bytes:
            raise InvalidInput(
                f"payload is {len(body)} bytes as JSON, the limit is {self.max_payload_bytes}"
            )
        key_bytes = idempotency_key.encode("utf-8")
        key_hash = self._db.sealer.index(kind.encode("ascii") + b"\x00" + key_bytes)
        sealer = self._db.sealer
        with self._db.write() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM {_FROM} WHERE key_hash = ?", (key_hash,)
            ).fetchone()
            if row is not None:
                return self._item(row)
            now = self._db.now()
            cur = conn.execute(
                "INSERT INTO outbox (kind, key_hash, key_sealed, pii, state, attempts,"
                " created_at, available_at) VALUES (?, ?, x'', ?, 'pending', 0, ?, ?)",
                (kind, key_hash, int(pii), now, now),
            )
            item_id = int(cur.lastrowid or 0)
            # sealed after the insert: the row id is part of the associated data
            conn.execute(
                "UPDATE outbox SET key_sealed = ? WHERE id = ?",
                (sealer.seal(key_bytes, associated_data("outbox.key", item_id, kind)), item_id),
            )
            conn.execute(
                "INSERT INTO outbox_payload (item_id, payload) VALUES (?, ?)",
                (item_id, sealer.seal(body, associated_data("outbox.payload", item_id, kind))),
            )
            self._db.ensure_room(conn)
        return OutboxItem(
            id=item_id,
            kind=kind,
            idempotency_key=idempotency_key,
            payload=json.loads(body),
            pii=pii,
            state=ItemState.PENDING,
            attempts=0,
            created_at=now,
            available_at=now,
            lease_expires_at=None,
            last_error=None,
            finished_at=None,
        )

    # -- delivering ------------------------------------------------------------------------------

    def lease(
        self,
        *,
        limit: int = 1,
        kinds: Collection[str] | None = None,
        lease_seconds: float = 60.0,
    ) -> list[OutboxItem]:
        """Take up to `limit` due items for delivery, oldest first; each counts one attempt.

        Each must then be acked, nacked or released before `lease_seconds` pass, or it becomes pending
        again. For an ordered kind only the oldest undelivered item is due, plus the ones right after
        it: deliver those in id order and, on a failure, release the rest of that kind.
        """
        if limit < 1:
            raise InvalidInput("limit must be at least 1")
        if lease_seconds <= 0:
            raise InvalidInput("lease_seconds must be positive")
        wanted = None if kinds is None else frozenset(kinds)
        if wanted is not None:
            for kind in wanted:
                check_kind(kind)
        leased: list[OutboxItem] = []
        with self._db.write() as conn:
            now = self._db.now()
            self._reclaim(conn, now)
            ids = self._due_ids(conn, now, limit, wanted)
            expires = now + lease_seconds
            for item_id in ids:
                conn.execute(
                    "UPDATE outbox SET state = 'in_flight', attempts = attempts + 1,"
                    " lease_expires = ? WHERE id = ?",
                    (expires, item_id),
                )
                row = conn.execute(
                    f"SELECT {_COLUMNS} FROM {_FROM} WHERE id = ?", (item_id,)
                ).fetchone()
                try:
                    leased.append(self._item(row))
                except DatabaseCorrupt:
                    # a tampered or damaged row must not block the queue: set it aside
                    conn.execute(
                        "UPDATE outbox SET state = 'dead_letter', lease_expires = NULL,"
                        " last_error = ?, finished_at = ? WHERE id = ?",
                        (UNREADABLE, now, item_id),
                    )
                    log.error(
                        "outbox item %d cannot be decrypted (damaged or moved); dead-lettered",
                        item_id,
                    )
        return leased

    def ack(self, item_id: int) -> bool:
        """Mark delivered (a PII payload is wiped in the same transaction).

        Returns False when it was already delivered. Raises UnknownItem for an id never stored or
        already pruned.
        """
        return self.ack_many([item_id]) == 1

    def ack_many(self, item_ids: Iterable[int]) -> int:
        """`ack` for several items in one transaction (all or none: an unknown id raises
        UnknownItem and acks nothing); returns how many changed state."""
        ids = list(item_ids)
        changed = 0
        with self._db.write() as conn:
            now = self._db.now()
            for item_id in ids:
                state = self._state(conn, item_id)
                if state is ItemState.DELIVERED:
                    continue
                conn.execute(
                    "UPDATE outbox SET state = 'delivered', finished_at = ?, lease_expires = NULL"
                    " WHERE id = ?",
                    (now, item_id),
                )
                conn.execute(  # PII goes as soon as the platform has it
                    "DELETE FROM outbox_payload WHERE item_id = ?"
                    " AND (SELECT pii FROM outbox WHERE id = ?)",
                    (item_id, item_id),
                )
                changed += 1
        return changed

    def nack(
        self, item_id: int, error_code: str, retry_at: float, *, permanent: bool = False
    ) -> ItemState:
        """Delivery failed: pending again from `retry_at`, or dead_letter when `permanent` or when
        the item has used `max_attempts`. `error_code` is a short code (stored in plaintext), never a
        message. A delivered or dead-lettered item is left as it is. Returns the resulting state."""
        check_error_code(error_code)
        with self._db.write() as conn:
            state = self._state(conn, item_id)
            if state in (ItemState.DELIVERED, ItemState.DEAD_LETTER):
                return state
            attempts = int(
                conn.execute("SELECT attempts FROM outbox WHERE id = ?", (item_id,)).fetchone()[0]
            )
            now = self._db.now()
            if permanent or attempts >= self.max_attempts:
                conn.execute(
                    "UPDATE outbox SET state = 'dead_letter', lease_expires = NULL, last_error = ?,"
                    " finished_at = ? WHERE id = ?",
                    (error_code, now, item_id),
                )
                log.warning(
                    "outbox item %d dead-lettered after %d attempt(s): %s",
                    item_id,
                    attempts,
                    error_code,
                )
                return ItemState.DEAD_LETTER
            conn.execute(
                "UPDATE outbox SET state = 'pending', lease_expires = NULL, last_error = ?,"
                " available_at = ? WHERE id = ?",
                (error_code, float(retry_at), item_id),
            )
            return ItemState.PENDING

    def release(self, item_id: int) -> bool:
        """Give a leased item back untried: pending, due as before, its attempt not counted.

        Returns False when the item was not in flight (nothing changed)."""
        with self._db.write() as conn:
            if self._state(conn, item_id) is not ItemState.IN_FLIGHT:
                return False
            conn.execute(
                "UPDATE outbox SET state = 'pending', lease_expires = NULL,"
                " attempts = max(attempts - 1, 0) WHERE id = ?",
                (item_id,),
            )
            return True

    def revive(self, item_id: int) -> bool:
        """Staff action: a dead letter becomes pending again with a fresh attempt count."""
        with self._db.write() as conn:
            if self._state(conn, item_id) is not ItemState.DEAD_LETTER:
                return False
            conn.execute(
                "UPDATE outbox SET state = 'pending', attempts = 0, available_at = ?,"
                " finished_at = NULL WHERE id = ?",
                (self._db.now(), item_id),
            )
            return True

    # -- looking -------------------------------------------------------------------------------

    def get(self, item_id: int) -> OutboxItem | None:
        with self._db.read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM {_FROM} WHERE id = ?", (item_id,)
            ).fetchone()
            return None if row is None else self._item(row, now=self._db.now())

    def find(self, kind: str, idempotency_key: str) -> OutboxItem | None:
        check_kind(kind)
        key_hash = self._db.sealer.index(
            kind.encode("ascii") + b"\x00" + idempotency_key.encode("utf-8")
        )
        with self._db.read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM {_FROM} WHERE key_hash = ?", (key_hash,)
            ).fetchone()
            return None if row is None else self._item(row, now=self._db.now())

    def items(
        self, state: ItemState, *, kind: str | None = None, limit: int = 100
    ) -> list[OutboxItem]:
        """Items in one state, oldest first (e.g. dead letters for the staff screen)."""
        query = f"SELECT {_COLUMNS} FROM {_FROM} WHERE state = ?"
        params: list[Any] = [ItemState(state).value]
        if kind is not None:
            check_kind(kind)
            query += " AND kind = ?"
            params.append(kind)
        query += " ORDER BY id LIMIT ?"
        params.append(int(limit))
        with self._db.read() as conn:
            return [self._item(row) for row in conn.execute(query, params).fetchall()]

    def counts(self, *, kind: str | None = None) -> OutboxCounts:
        """Items per state; an in-flight item whose lease ran out counts as pending."""
        query = (
            "SELECT CASE WHEN state = 'in_flight' AND lease_expires <= ? THEN 'pending'"
            " ELSE state END AS s, count(*) FROM outbox"
        )
        params: list[Any] = [self._db.now()]
        if kind is not None:
            check_kind(kind)
            query += " WHERE kind = ?"
            params.append(kind)
        with self._db.read() as conn:
            found = dict(conn.execute(query + " GROUP BY s", params).fetchall())
        return OutboxCounts(**{str(state): int(n) for state, n in found.items()})

    def next_due(self, *, kinds: Collection[str] | None = None) -> float | None:
        """The earliest time `lease` could return something (a pending item's retry time or an
        expiring lease), or None when nothing waits. A lower bound for ordered kinds."""
        query = (
            "SELECT min(CASE WHEN state = 'pending' THEN available_at ELSE lease_expires END)"
            " FROM outbox WHERE state IN ('pending', 'in_flight')"
        )
        params: list[Any] = []
        if kinds is not None:
            wanted = sorted(frozenset(kinds))
            for kind in wanted:
                check_kind(kind)
            query += f" AND kind IN ({','.join('?' * len(wanted))})"
            params.extend(wanted)
        with self._db.read() as conn:
            value = conn.execute(query, params).fetchone()[0]
        return None if value is None else float(value)

    # -- retention -----------------------------------------------------------------------------

    def prune(self, *, delivered_before: float, dead_letter_before: float) -> tuple[int, int]:
        """Delete delivered items finished before `delivered_before` and dead letters finished
        before `dead_letter_before`. Pending and in-flight items are never deleted."""
        with self._db.write() as conn:
            delivered = conn.execute(
                "DELETE FROM outbox WHERE state = 'delivered' AND finished_at < ?",
                (delivered_before,),
            ).rowcount
            dead = conn.execute(
                "DELETE FROM outbox WHERE state = 'dead_letter' AND finished_at < ?",
                (dead_letter_before,),
            ).rowcount
        return int(delivered), int(dead)

    # -- inside ----------------------------------------------------------------------------------

    def _reclaim(self, conn: sqlite3.Connection, now: float) -> None:
        """Leases that ran out: back to pending, or dead letter when out of attempts."""
        conn.execute(
            "UPDATE outbox SET state = 'dead_letter', lease_expires = NULL, last_error = ?,"
            " finished_at = ? WHERE state = 'in_flight' AND lease_expires <= ? AND attempts >= ?",
            (LEASE_EXPIRED, now, now, self.max_attempts),
        )
        conn.execute(
            "UPDATE outbox SET state = 'pending', lease_expires = NULL"
            " WHERE state = 'in_flight' AND lease_expires <= ?",
            (now,),
        )

    def _due_ids(
        self, conn: sqlite3.Connection, now: float, limit: int, wanted: frozenset[str] | None
    ) -> list[int]:
        ids: list[int] = []
        ordered = self.ordered_kinds if wanted is None else self.ordered_kinds & wanted
        free_kinds = None if wanted is None else sorted(wanted - self.ordered_kinds)
        if free_kinds is None or free_kinds:
            query = "SELECT id FROM outbox WHERE state = 'pending' AND available_at <= ?"
            params: list[Any] = [now]
            if free_kinds is None:
                if self.ordered_kinds:
                    skip = sorted(self.ordered_kinds)
                    query += f" AND kind NOT IN ({','.join('?' * len(skip))})"
                    params.extend(skip)
            else:
                query += f" AND kind IN ({','.join('?' * len(free_kinds))})"
                params.extend(free_kinds)
            query += " ORDER BY id LIMIT ?"
            params.append(limit)
            ids.extend(int(r[0]) for r in conn.execute(query, params))
        for kind in sorted(ordered):
            # the head of the line and those right behind it, as long as each is pending and due
            rows = conn.execute(
                "SELECT id, state, available_at FROM outbox WHERE kind = ?"
                " AND state IN ('pending', 'in_flight') ORDER BY id LIMIT ?",
                (kind, limit),
            ).fetchall()
            for item_id, state, available_at in rows:
                if state != "pending" or available_at > now:
                    break
                ids.append(int(item_id))
        return sorted(ids)[:limit]

    def _state(self, conn: sqlite3.Connection, item_id: int) -> ItemState:
        row = conn.execute("SELECT state FROM outbox WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise UnknownItem(f"outbox item {item_id} does not exist (never stored or pruned)")
        return ItemState(row[0])

    def _item(self, row: tuple[Any, ...], *, now: float | None = None) -> OutboxItem:
        (
            item_id,
            kind,
            key_sealed,
            payload,
            pii,
            state,
            attempts,
            created_at,
            available_at,
            lease_expires,
            last_error,
            finished_at,
        ) = row
        sealer = self._db.sealer
        try:
            key = sealer.open(bytes(key_sealed), associated_data("outbox.key", item_id, kind))
            body = (
                None
                if payload is None
                else sealer.open(bytes(payload), associated_data("outbox.payload", item_id, kind))
            )
        except Unsealable:
            raise DatabaseCorrupt(
                f"outbox item {item_id} in {self._db.path} cannot be decrypted: the row was "
                "damaged or moved; the file was left untouched for recovery"
            ) from None
        item_state = ItemState(state)
        if (
            now is not None
            and item_state is ItemState.IN_FLIGHT
            and lease_expires is not None
            and lease_expires <= now
        ):
            item_state, lease_expires = ItemState.PENDING, None  # as the next lease will see it
        return OutboxItem(
            id=int(item_id),
            kind=str(kind),
            idempotency_key=key.decode("utf-8"),
            payload=None if body is None else json.loads(body),
            pii=bool(pii),
            state=item_state,
            attempts=int(attempts),
            created_at=float(created_at),
            available_at=float(available_at),
            lease_expires_at=None if lease_expires is None else float(lease_expires),
            last_error=None if last_error is None else str(last_error),
            finished_at=None if finished_at is None else float(finished_at),
        )
