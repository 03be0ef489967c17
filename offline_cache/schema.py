"""The database layout. `PRAGMA user_version` records the schema version, `application_id` marks the
file as an offline cache so a stray SQLite file is never mistaken for one."""

from __future__ import annotations

import sqlite3

from .sealing import Sealer, associated_data

SCHEMA_VERSION = 1
APPLICATION_ID = 0x4B4F4331  # "KOC1"
CANARY_PLAINTEXT = b"offline_cache canary v1"
CANARY_AAD = associated_data("meta", "canary")

STATES = ("pending", "in_flight", "delivered", "dead_letter")

_DDL = (
    # name -> value; holds the sealed canary that proves the key at open
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
    # AUTOINCREMENT: ids are never reused, so they give the per-kind delivery order
    f"""CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        key_hash BLOB NOT NULL UNIQUE,
        key_sealed BLOB NOT NULL,
        pii INTEGER NOT NULL CHECK (pii IN (0, 1)),
        state TEXT NOT NULL CHECK (state IN {STATES!r}),
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        available_at REAL NOT NULL,
        lease_expires REAL,
        last_error TEXT,
        finished_at REAL
    )""",
    "CREATE INDEX outbox_state ON outbox (state, id)",
    # payloads apart: a state change rewrites only the small outbox row, never a large payload;
    # a delivered PII payload is deleted here
    """CREATE TABLE outbox_payload (
        item_id INTEGER PRIMARY KEY REFERENCES outbox (id) ON DELETE CASCADE,
        payload BLOB NOT NULL
    )""",
    "CREATE INDEX outbox_kind ON outbox (kind, state, id)",
    "CREATE INDEX outbox_finished ON outbox (state, finished_at)",
    """CREATE TABLE cached (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL,
        stored_at REAL NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE reprints (
        report_id TEXT PRIMARY KEY,
        pdf BLOB NOT NULL,
        metadata BLOB NOT NULL,
        stored_at REAL NOT NULL,
        expires_at REAL NOT NULL
    ) WITHOUT ROWID""",
)


def create(conn: sqlite3.Connection, sealer: Sealer, now: float) -> None:
    """Create every table in the caller's write transaction, with the canary sealed by this key."""
    for statement in _DDL:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO meta (name, value) VALUES ('canary', ?), ('created_at', ?)",
        (sealer.seal(CANARY_PLAINTEXT, CANARY_AAD), repr(now).encode()),
    )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
