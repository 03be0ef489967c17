"""Schema version 4: active alerts indexed by terminal, since every heartbeat looks up its
terminal's active alerts among all ever raised. A version-3 database is refused until `migrate` adds it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .platform_client import cli


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
    refused = cli("terminals", "list", "--db", db, check=False)
    assert refused.returncode == 2 and "report-service migrate" in refused.stderr
    assert "upgraded the tables to schema version 4" in cli("migrate", "--db", db).stdout
    assert "ix_alerts_terminal_active" in indexes(db)
    assert cli("terminals", "list", "--db", db).returncode == 0
