"""`migrate` brings a database of an earlier schema version to the current one; until then the
platform refuses it. Version 4 indexed active alerts by terminal (every heartbeat looks its
terminal's up); version 5 stores reports' PDFs uncompressed in PostgreSQL (compressing a PDF that
is compressed already cost the database ~1.3 ms of CPU per report and saved nothing)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from .platform_client import cli, refused_until_migrated
from .postgres_server import pg_bin, postgres_server


def indexes(db: str) -> set[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alerts'"
        )
        return {name for (name,) in rows}


def test_a_version_3_database_gets_the_alerts_index_from_migrate(tmp_path: Path) -> None:
    db = str(tmp_path / "v3.db")
    cli("seed", "--db", db, "--region", "gansu", "--entities", "3", "--seed", "1")
    assert "ix_alerts_terminal_active" in indexes(db)
    with sqlite3.connect(db) as conn:  # what a version-3 database looks like
        conn.execute("DROP INDEX ix_alerts_terminal_active")
        conn.execute("UPDATE settings SET value = '3' WHERE key = 'schema_version'")
    refused_until_migrated("--db", db)
    assert "ix_alerts_terminal_active" in indexes(db)


def pdf_storage(url: str) -> str:
    """PostgreSQL's storage strategy for reports.pdf: 'x' compresses, 'e' does not."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT attstorage FROM pg_attribute "
            "WHERE attrelid = 'reports'::regclass AND attname = 'pdf'"
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_postgresql_stores_pdfs_uncompressed_when_created_and_after_migrate(
    tmp_path: Path,
) -> None:
    if pg_bin() is None:
        pytest.skip(reason="PostgreSQL not installed: `make test` installs it; this machine cannot")
    keys = str(tmp_path / "keys")
    cli("keys", "init", "--dir", keys)
    with postgres_server() as url:
        cli("seed", "--db", url, "--keys", keys, "--region", "gansu", "--entities", "3",
            "--seed", "1")  # fmt: skip
        assert pdf_storage(url) == "e"
        with psycopg.connect(url) as conn:  # what a version-4 database looks like
            conn.execute("ALTER TABLE reports ALTER COLUMN pdf SET STORAGE EXTENDED")
            conn.execute("UPDATE settings SET value = '4' WHERE key = 'schema_version'")
        refused_until_migrated("--db", url, "--keys", keys)
        assert pdf_storage(url) == "e"
