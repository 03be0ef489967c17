"""Writers to one SQLite file taking turns at the write gate, and checkpoints off the write path
(report_service/sqlite_writes.py), with real files, threads and a second process."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from report_service.db import make_engine
from report_service.sqlite_writes import Checkpoints, connection_class

from .platform_client import ROOT


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "gate.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
    return str(path)


def rows(db: str) -> list[int]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT k FROM t ORDER BY k")]


def gate_free(db: str) -> bool:
    """Whether another process could take the write gate now (a flock on `<db>-writer`)."""
    fd = os.open(db + "-writer", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_a_second_writer_waits_for_the_first_transaction_and_then_writes(db: str) -> None:
    engine = make_engine(db, wait_s=10)
    first_in = threading.Event()
    order: list[str] = []

    def slow_writer() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1, 'a')"))
            first_in.set()
            time.sleep(0.4)
            order.append("first commits")

    writer = threading.Thread(target=slow_writer)
    writer.start()
    first_in.wait(5)
    assert not gate_free(db)  # the first writer's turn, seen from outside the process
    with engine.connect() as reader:  # a read does not queue behind the writer
        assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0
        order.append("read")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (2, 'b')"))
        order.append("second writes")
    writer.join(5)
    assert order == ["read", "first commits", "second writes"]
    assert rows(db) == [1, 2]


def test_a_write_transaction_holds_the_gate_until_it_ends_and_a_read_never_takes_it(
    db: str,
) -> None:
    engine = make_engine(db, wait_s=2)
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM t"))
        assert gate_free(db)  # reads never wait at the gate
        conn.execute(text("INSERT INTO t VALUES (1, 'a')"))
        assert not gate_free(db)  # from the first write...
        conn.execute(text("UPDATE t SET v = 'b'"))
        assert not gate_free(db)
        conn.commit()
        assert gate_free(db)  # ...to the commit
        conn.execute(text("DELETE FROM t"))
        assert not gate_free(db)
        conn.rollback()
        assert gate_free(db)
        with pytest.raises(OperationalError):  # refused before its transaction began
            conn.execute(text("INSERT INTO missing VALUES (1)"))
        assert gate_free(db)
    raw = sqlite3.connect(db, factory=connection_class(db, 2), isolation_level=None)
    raw.execute("INSERT INTO t VALUES (2, 'autocommit')")  # no transaction to wait for
    assert gate_free(db)
    raw.close()
    assert rows(db) == [1, 2]


def test_a_failed_or_abandoned_transaction_lets_the_next_writer_in(db: str) -> None:
    engine = make_engine(db, wait_s=2)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1, 'a')"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (2, 'b')"))
        conn.execute(text("INSERT INTO t VALUES (1, 'again')"))  # rolled back with (2)
    abandoned = engine.connect()
    abandoned.execute(text("INSERT INTO t VALUES (3, 'c')"))
    abandoned.close()  # never committed: rolled back, the gate let go
    started = time.monotonic()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (4, 'd')"))
    assert time.monotonic() - started < 1.5  # not the 2 s wait for a gate never let go
    assert rows(db) == [1, 4]


def test_a_writer_in_another_process_holds_the_gate_until_it_commits(db: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time\n"
            "from sqlalchemy import text\n"
            "from report_service.db import make_engine\n"
            "with make_engine(sys.argv[1], wait_s=10).begin() as conn:\n"
            "    conn.execute(text(\"INSERT INTO t VALUES (1, 'other')\"))\n"
            "    print('in', flush=True)\n"
            "    sys.stdin.readline()\n"
        ), db],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "in"
    assert not gate_free(db)  # the other process holds the gate, not only SQLite's lock
    engine = make_engine(db, wait_s=0.5)
    with pytest.raises(OperationalError, match="locked"), engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (2, 'here')"))  # refused after 0.5 s, as SQLite
    done: list[float] = []

    def write() -> None:
        with make_engine(db, wait_s=10).begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (3, 'here')"))
        done.append(time.monotonic())

    waiting = threading.Thread(target=write)
    waiting.start()
    time.sleep(0.3)
    assert not done  # still waiting for the other process
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.wait(10) == 0
    waiting.join(10)
    assert done and rows(db) == [1, 3]


def test_background_checkpoints_copy_the_log_into_the_database_file(
    db: str, tmp_path: Path
) -> None:
    engine = make_engine(db, wait_s=5)
    checkpoints = Checkpoints(db, every_s=0.05)
    checkpoints.start()
    try:
        for k in range(1, 201):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (:k, :v)"), {"k": k, "v": "x" * 500})
        deadline = time.monotonic() + 10
        copied: list[int] = []
        while time.monotonic() < deadline and len(copied) < 200:
            time.sleep(0.1)
            shutil.copy(db, tmp_path / "alone.db")  # the database file without its log
            with contextlib.suppress(sqlite3.DatabaseError):  # copied mid-checkpoint: again
                copied = rows(str(tmp_path / "alone.db"))
    finally:
        checkpoints.close()
    assert copied == list(range(1, 201))


def test_checkpoints_are_only_for_a_sqlite_file() -> None:
    assert Checkpoints.attach(make_engine("sqlite:///:memory:")) is None
