"""A private PostgreSQL server for tests: initdb in a temp dir, pg_ctl on a free loopback port."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .platform_client import ServiceProcess, cli, free_port, start_service

SERVER_SETTINGS = ("listen_addresses=127.0.0.1", "fsync=off")


def server_settings(settings: Sequence[str] = ()) -> dict[str, str]:
    """What the server runs with: SERVER_SETTINGS, then `settings` (each `name=value`, the last
    value for a name wins)."""
    chosen: dict[str, str] = {}
    for setting in (*SERVER_SETTINGS, *settings):  # pg_ctl passes its -o string to a shell split
        name, sign, value = setting.partition("=")
        if not sign or any(c.isspace() or c in "'\"\\" for c in setting):
            raise ValueError(
                f"a server setting is name=value without spaces or quotes: {setting!r}"
            )
        chosen[name] = value
    return chosen


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_owner(cmd: list[str], user: str | None) -> list[str]:
    # postgres refuses to run as root; run its tools as the `postgres` system user instead
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


@contextmanager
def postgres_server(settings: Sequence[str] = ()) -> Iterator[str]:
    """Yields a `postgresql://` URL of a fresh database; stops the server and removes its files.
    `settings`: more server settings, each `name=value`."""
    chosen = server_settings(settings)  # a bad one refused before any file is made
    bindir = pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed")
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        pwd.getpwnam(user)  # raises KeyError when the package did not create the user
    # its own top-level temp dir: pytest's tmp dirs sit under root-only parents
    workdir = Path(tempfile.mkdtemp(prefix="kiosk-pg-"))
    data = workdir / "pgdata"
    sock = workdir / "pgsock"
    for d in (workdir, sock):
        d.mkdir(parents=True, exist_ok=True)
        if user:
            shutil.chown(d, user)
    port = free_port()

    def run(cmd: list[str]) -> None:
        subprocess.run(_as_owner(cmd, user), check=True, capture_output=True, timeout=120)

    run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"])
    options = f"-p {port} -k {sock}" + "".join(f" -c {k}={v}" for k, v in chosen.items())
    run(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(workdir / "pg.log"),
            "-w",
            "start",
        ]
    )
    try:
        run(
            [
                str(bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "platform",
            ]
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/platform"
    finally:
        run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def statements_run(engine: Engine) -> Iterator[list[tuple[str, bool]]]:
    """The statements `engine` sends inside the block, each with whether it ran outside a
    transaction (psycopg's autocommit), old nonces' occasional cleanup left out."""
    seen: list[tuple[str, bool]] = []

    def sent(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("DELETE FROM nonces"):
            seen.append((statement, bool(conn.connection.dbapi_connection.autocommit)))

    event.listen(engine, "before_cursor_execute", sent)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", sent)


@contextmanager
def seeded_platforms(
    workdir: Path, region: str, entities: int, seed: int, processes: int = 1
) -> Iterator[list[ServiceProcess]]:
    """`processes` serve processes on one fresh PostgreSQL database seeded with synthetic data,
    with their key directory (a PostgreSQL database has no file to keep its keys beside); the
    caller skips when PostgreSQL is not installed (`pg_bin()`)."""
    keys = str(workdir / "keys")
    cli("keys", "init", "--dir", keys)
    with postgres_server() as url:
        cli("seed", "--db", url, "--keys", keys, "--region", region, "--entities", str(entities),
            "--seed", str(seed))  # fmt: skip
        started: list[ServiceProcess] = []
        try:
            for _ in range(processes):
                started.append(start_service(url, workdir, keys=keys))
            yield started
        finally:
            for service in started:
                service.stop()
