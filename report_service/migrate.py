"""`report-service migrate`: an earlier database to the current schema version (db.py).

Version 2 to 3 adds `records.confirmed_by_effective_document` (NULL for the records already held:
"not said", which counts as a record everywhere); 3 to 4 indexes alerts by terminal (every
heartbeat looks its terminal's up); 4 to 5 stores reports' PDFs uncompressed in PostgreSQL from
then on (those already stored stay as they are; SQLite: nothing to change). Version 1 to 5 does
those and the rest. Stop the platform first: PostgreSQL's change waits for the reports table.

Version 1 kept the platform's signing key and the ID-hash pepper in `settings`, person names and
objection contacts in plaintext, and idempotency keys unique across the platform. This moves the
two secrets into a key directory (mode 0700, files 0600) with a new data key, seals the names and
contacts under it, scopes the keys to (terminal, person), deletes the secrets and the plaintext
from the database and rewrites its file (SQLite: VACUUM with secure_delete, the WAL truncated;
PostgreSQL: VACUUM FULL of the tables that held them). Reports issued before stay verifiable:
the signing key and the pepper are the same keys, now outside the database.

What a database copy taken *before* the migration holds, it still holds: treat old backups (and
PostgreSQL's WAL archive) as secret until they expire.
"""

from __future__ import annotations

import logging
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Column, Index, delete, inspect, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from . import crypto, db
from .bootstrap import LEGACY_SECRETS, SetupError, key_dir_for, prepare, schema_state
from .keys import Keyring, load_key_dir, new_keyring, write_key_dir

log = logging.getLogger("report_service")


def migrate_database(url: str, keys: str | None) -> str:
    """Migrate the database at `url`; returns a sentence saying what was done."""
    engine = db.make_engine(url)
    try:
        state = schema_state(engine)
        if state == "current":
            return (
                f"nothing to do: the database is at schema version {db.SCHEMA_VERSION} "
                "and holds no keys"
            )
        if state == "empty":
            raise SetupError("the database is empty: nothing to migrate")
        if state == "outdated":  # keys already out: the tables only
            with engine.begin() as conn:
                _upgrade_tables(conn)
                _set_version(conn, None)
            log.info("database tables upgraded to schema version %d", db.SCHEMA_VERSION)
            return f"upgraded the tables to schema version {db.SCHEMA_VERSION}"
        where = key_dir_for(url, keys)
        prepare(where)
        ring = _key_dir_from_legacy(engine, where.path)
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":  # deleted content is overwritten, not just freed
                conn.exec_driver_sql("PRAGMA secure_delete=ON")
            _upgrade(conn, ring)
        _scrub(engine)
    finally:
        engine.dispose()
    log.info("database migrated to schema version %d; keys in %s", db.SCHEMA_VERSION, where.path)
    return (
        f"migrated to schema version {db.SCHEMA_VERSION}: keys moved to {where.path} and "
        "deleted from the database, names and contact numbers sealed"
    )


def _key_dir_from_legacy(engine: Engine, path: Any) -> Keyring:
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                select(db.Setting.key, db.Setting.value).where(db.Setting.key.in_(LEGACY_SECRETS))
            ).all()
        )
    if set(rows) != set(LEGACY_SECRETS):
        raise SetupError("the database holds no signing key and pepper to move out")
    private = Ed25519PrivateKey.from_private_bytes(crypto.b64decode(rows["platform_private_key"]))
    pepper = bytes.fromhex(rows["id_pepper"])
    if path.exists():  # a second run after an interruption, or keys made by hand
        ring = load_key_dir(path)
        if ring.signer.public_raw != private.public_key().public_bytes_raw() or (
            ring.pepper != pepper
        ):
            raise SetupError(f"{path} holds other keys than this database; name another --keys")
        return ring
    ring, _ = new_keyring(private, pepper)
    write_key_dir(path, ring, private)
    return ring


def _columns(conn: Connection, table: str) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns(table)}


def _add_column(conn: Connection, table: str, column: Column[Any]) -> None:
    if column.name in _columns(conn, table):
        return
    kind = column.type.compile(dialect=conn.dialect)
    conn.exec_driver_sql(f'ALTER TABLE {table} ADD COLUMN "{column.name}" {kind}')


def _upgrade_tables(conn: Connection) -> None:
    """Tables, columns, indexes and storage an earlier version did not have."""
    db.all_tables().create_all(conn)
    tables = db.Base.metadata.tables
    p, o = tables["persons"].c, tables["objections"].c
    for name, column in (
        ("persons", p.name_mac),
        ("persons", p.name_sealed),
        ("objections", o.contact_sealed),
        ("sessions", tables["sessions"].c.ticket),
        ("terminals", tables["terminals"].c.revoked_at),
        ("records", tables["records"].c.confirmed_by_effective_document),  # version 3
    ):
        _add_column(conn, name, column)
    for index in tables["alerts"].indexes:  # version 4
        index.create(conn, checkfirst=True)
    db.set_storage(conn)  # version 5


def _upgrade(conn: Connection, ring: Keyring) -> None:
    _upgrade_tables(conn)
    tables = db.Base.metadata.tables
    p, o = tables["persons"].c, tables["objections"].c
    if "name" in _columns(conn, "persons"):
        for pid, id_hash, name in conn.execute(text("SELECT id, id_hash, name FROM persons")):
            conn.execute(
                update(db.Person)
                .where(p.id == pid)
                .values(
                    name_mac=ring.name_mac(name),
                    name_sealed=ring.seal(name, db.person_name_context(id_hash)),
                )
            )
        conn.exec_driver_sql("ALTER TABLE persons DROP COLUMN name")
    if "contact" in _columns(conn, "objections"):
        for oid, contact in conn.execute(text("SELECT objection_id, contact FROM objections")):
            sealed = ring.seal(contact, db.objection_contact_context(oid))
            conn.execute(
                update(db.Objection).where(o.objection_id == oid).values(contact_sealed=sealed)
            )
        conn.exec_driver_sql("ALTER TABLE objections DROP COLUMN contact")
    _scope_report_keys(conn)
    for table in db.Base.metadata.sorted_tables:
        for index in table.indexes:
            _create_index(conn, index)
    conn.execute(delete(db.Setting).where(db.Setting.key.in_(LEGACY_SECRETS)))
    _set_version(conn, ring)


def _set_version(conn: Connection, ring: Keyring | None) -> None:
    """The schema version (and, moving keys out, the keys id) in `settings`."""
    rows = [{"key": "schema_version", "value": str(db.SCHEMA_VERSION)}]
    if ring is not None:
        rows.append({"key": "keys_id", "value": ring.keys_id})
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    stmt = dialect.insert(db.Setting).values(rows)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value})
    )


def _create_index(conn: Connection, index: Index) -> None:
    table = index.table
    if table is None:
        return
    if index.name not in {ix["name"] for ix in inspect(conn).get_indexes(table.name)}:
        index.create(conn)


def _scope_report_keys(conn: Connection) -> None:
    """Idempotency keys unique per (terminal, person, key) instead of platform-wide."""
    uniques = inspect(conn).get_unique_constraints("reports")
    if any(u["name"] == db.REPORT_KEY_SCOPE for u in uniques):
        return
    if conn.dialect.name == "postgresql":
        for u in uniques:
            if u["column_names"] == ["idempotency_key"]:
                conn.exec_driver_sql(f'ALTER TABLE reports DROP CONSTRAINT "{u["name"]}"')
        conn.exec_driver_sql(
            f"ALTER TABLE reports ADD CONSTRAINT {db.REPORT_KEY_SCOPE} "
            "UNIQUE (terminal_id, person_id, idempotency_key)"
        )
        return
    # SQLite cannot drop a column's UNIQUE: the table is rebuilt (sqlite.org/lang_altertable)
    old_columns = _columns(conn, "reports")
    for ix in inspect(conn).get_indexes("reports"):
        conn.exec_driver_sql(f'DROP INDEX "{ix["name"]}"')
    conn.exec_driver_sql("ALTER TABLE reports RENAME TO reports_v1")
    db.Base.metadata.tables["reports"].create(conn)
    names = ", ".join(
        f'"{c.name}"' for c in db.Base.metadata.tables["reports"].c if c.name in old_columns
    )
    conn.exec_driver_sql(f"INSERT INTO reports ({names}) SELECT {names} FROM reports_v1")
    conn.exec_driver_sql("DROP TABLE reports_v1")


def _scrub(engine: Engine) -> None:
    """Rewrite what held the secrets, so that freed pages and old row versions go too."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA secure_delete=ON")
            conn.exec_driver_sql("VACUUM")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            for table in ("settings", "persons", "objections", "reports"):
                conn.exec_driver_sql(f"VACUUM FULL ANALYZE {table}")
