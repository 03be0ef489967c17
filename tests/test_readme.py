"""Every command in README.md's code blocks runs as printed, in order, from a directory that holds
nothing but the repository's `.venv` and `docs/` (so `var/` does not exist yet), the way a newcomer
runs them after `make demo`.

A few lines are run elsewhere, each named below with where; every other line must run here and exit 0,
so a README example that stops working fails this test. Two lines need what only a run can give:
`serve` gets a free port instead of 8080 (a test must not depend on a port being free), and
REPORT_ID is the number of a report made, through the served API, by a terminal enrolled with the
token the README's `add-token` printed and the login QR its `issue-login-qr` printed.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devices.a4_printer.private_cups import free_port
from report_service.terminal_client import TerminalClient

from .test_benchmarks_run import FIGURES

ROOT = Path(__file__).resolve().parents[1]

RUN_ELSEWHERE = {
    "make demo": ".ci/run runs it on a clean clone",
    "make test": ".ci/run runs it on a clean clone",
    ".venv/bin/kiosk demo": "tests/test_kiosk_demo.py runs it as printed, from an empty directory",
}
EXAMPLE_STATE = Path("/var/lib/credit-kiosk")  # docs/kiosk.example.toml's terminal.state_dir
BENCHMARK = re.compile(r"^\.venv/bin/python -m benchmarks\.(\w+) --quick$")


def readme_commands() -> list[str]:
    """The command lines of README.md's code blocks, without their trailing comments."""
    lines: list[str] = []
    inside = False
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = not inside
            continue
        command = re.sub(r"\s+#.*$", "", line).strip()
        if inside and command and not command.startswith("#"):
            lines.append(command)
    return lines


@pytest.fixture
def newcomer(tmp_path: Path) -> Path:
    for name in (".venv", "docs"):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


def run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run(
        shlex.split(command), cwd=cwd, capture_output=True, text=True, timeout=300, env=env
    )


class Serving:
    """`serve` in the background, on a free port, for the lines after it."""

    def __init__(self, command: str, cwd: Path) -> None:
        self.port = free_port()
        argv = shlex.split(re.sub(r"--port \d+", f"--port {self.port}", command))
        self.log = cwd / "serve.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(600):
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("serve did not answer /healthz within 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


@pytest.fixture
def serving() -> Iterator[list[Serving]]:
    started: list[Serving] = []
    yield started
    for server in started:
        server.stop()


def make_report(server: Serving, token: str, login_qr: str) -> tuple[str, str]:
    """A report through the API, as a kiosk would make one: (report number, verification code)."""
    terminal = TerminalClient.enroll(server.url, token)
    session = terminal.request("POST", "/v1/sessions/qr", {"payload": login_qr})
    assert session.status_code == 200, session.text
    body = session.json()
    today = dt.date.today()
    made = terminal.report(
        body["session_token"],
        body["enterprises"][0]["uscc"],
        (today - dt.timedelta(days=365)).isoformat(),
        today.isoformat(),
        key=secrets.token_urlsafe(16),
    )
    assert made.status_code == 201, made.text
    return made.json()["report_id"], made.json()["verification_code"]


def test_every_readme_command_runs_as_printed(newcomer: Path, serving: list[Serving]) -> None:
    commands = readme_commands()
    assert any(" serve " in c for c in commands) and any("REPORT_ID" in c for c in commands)
    said: dict[str, str] = {}  # what earlier lines printed, by subcommand
    state_existed = EXAMPLE_STATE.exists()
    ran: list[str] = []
    for command in commands:
        if command in RUN_ELSEWHERE:
            continue
        bench = BENCHMARK.match(command)
        if bench:  # tests/test_benchmarks_run.py runs each of these and checks its figures
            assert bench.group(1) in FIGURES, command
            continue
        if " serve " in command:
            serving.append(Serving(command, newcomer))
            ran.append(command)
            continue
        if "REPORT_ID" in command:
            assert serving, "a line needs a report before `serve` was started"
            report_id, code = make_report(serving[0], said["add-token"], said["issue-login-qr"])
            command = command.replace("REPORT_ID", report_id)
        done = run(command, newcomer)
        ran.append(command)
        if "bin/kiosk run " in command:
            check_kiosk_run_says_what_it_needs(done, command, state_existed)
            continue
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
        words = shlex.split(command)
        said[words[2] if words[1] == "terminals" else words[1]] = done.stdout.strip()
        if words[1] == "seed":
            check_seed_names_the_readme_person(done.stderr, commands)
        if words[1:3] == ["reports", "revoke"]:
            verified = httpx.get(f"{serving[0].url}/v1/verify/{code}", timeout=10).json()
            assert verified["status"] == "revoked", verified
    assert (newcomer / "var" / "platform.db").is_file()  # `var/` was made by the first command
    assert len(ran) >= 7, ran


def check_seed_names_the_readme_person(stderr: str, commands: list[str]) -> None:
    wanted = [re.search(r"--id-number (\S+)", c) for c in commands if "issue-login-qr" in c]
    shown = re.findall(r"^  (\d{17}[\dX])  ", stderr, re.M)
    for match in wanted:
        assert match is not None and match.group(1) in shown, (stderr, shown)


def check_kiosk_run_says_what_it_needs(
    done: subprocess.CompletedProcess[str], command: str, state_existed: bool
) -> None:
    """The example config is a hall's: here it is not enrolled, so the kiosk must say how to enroll
    it, exit 1, and leave nothing behind (a key first of all) for the next start to trip over."""
    assert done.returncode == 1, (command, done.stderr[-2000:])
    message = " ".join(done.stderr.split())
    assert "terminal not enrolled" in message, message
    assert "report-service terminals add-token" in message, message
    assert "/etc/credit-kiosk/enrollment.token" in message, message
    assert "Traceback" not in done.stderr
    assert state_existed or not EXAMPLE_STATE.exists()
