"""Test-side helpers: a running `report-service serve` process (and the reference terminal client)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from devices.a4_printer.private_cups import free_port
from report_service.db import SCHEMA_VERSION
from report_service.terminal_client import TerminalClient

__all__ = [
    "ServiceProcess",
    "TerminalClient",
    "cli",
    "free_port",
    "refused_until_migrated",
    "start_service",
]

ROOT = Path(__file__).resolve().parents[1]


def cli(
    *args: str, check: bool = True, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real `report-service` command line from the repository's root; with `check`, a
    non-zero exit raises with its stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "report_service", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"report-service {' '.join(args)} failed:\n{result.stderr}")
    return result


def refused_until_migrated(*db_args: str) -> str:
    """A database of an earlier schema version is refused until `migrate` upgrades it (db_args:
    `--db URL` and any `--keys DIR`); what `migrate` said."""
    refused = cli("terminals", "list", *db_args, check=False)
    if refused.returncode != 2 or "report-service migrate" not in refused.stderr:
        raise AssertionError(f"not refused as outdated: {refused.returncode} {refused.stderr}")
    upgraded = cli("migrate", *db_args).stdout
    if f"upgraded the tables to schema version {SCHEMA_VERSION}" not in upgraded:
        raise AssertionError(f"migrate said: {upgraded}")
    cli("terminals", "list", *db_args)  # raises with its stderr when refused
    return upgraded


@dataclass
class ServiceProcess:
    db: str
    base_url: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    keys: str | None = None  # --keys; None: the default directory beside a SQLite file

    def db_args(self) -> list[str]:
        """`--db URL` (and `--keys DIR`) for a command on this platform's database."""
        return ["--db", self.db, *(["--keys", self.keys] if self.keys else [])]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_service(
    db: str, workdir: Path, workers: int = 1, keys: str | None = None, extra: Sequence[str] = ()
) -> ServiceProcess:
    port = free_port()
    log_path = workdir / f"service-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "report_service",
                "serve",
                "--db",
                db,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "info",
                *(["--keys", keys] if keys else []),
                *extra,
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"service exited: {log_path.read_text()}")
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return ServiceProcess(db, base_url, proc, log_path, keys)
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("service did not become healthy in 60 s")
