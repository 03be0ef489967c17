"""What the hall-operations tests share: a terminal that heartbeats, a staff member's browser-like
HTTP client (cookie, CSRF token), and the heartbeat bodies a kiosk sends."""

from __future__ import annotations

import copy
import re
import secrets
import subprocess
import sys
from typing import Any

import httpx

from report_service.terminal_client import TerminalClient

from .platform_client import ROOT, ServiceProcess, cli

PASSWORD = "correct horse battery"
ALL_DAY = "mon-sun 00:00-24:00"


def beat(**changes: Any) -> dict[str, Any]:
    """A healthy kiosk's heartbeat, with `changes` applied (dotted keys reach into devices)."""
    body: dict[str, Any] = {
        "interval_s": 30,
        "availability": "in_service",
        "devices": {
            "id_card": {"state": "online", "reasons": [], "detail": ""},
            "qr_camera": {"state": "online", "reasons": [], "detail": ""},
            "a4_printer": {"state": "online", "paper": "full", "reasons": [], "detail": ""},
            "receipt_printer": {"state": "online", "paper": "full", "reasons": [], "detail": ""},
        },
        "queue": {"pending": 0, "dead_letters": 0, "oldest_age_s": None},
        "app_version": "0.1.0",
        "uptime_s": 60,
        "counters": {"reports_printed": 0},
        "last_error": None,
        "command_results": [],
    }
    body = copy.deepcopy(body)
    for key, value in changes.items():
        target = body
        *path, last = key.split(".")
        for part in path:
            target = target[part]
        target[last] = value
    return body


class Kiosk:
    """An enrolled terminal speaking the hall calls, signed as DESIGN §3 says."""

    def __init__(self, platform: ServiceProcess, hall: str, region: str = "gansu") -> None:
        token = cli(
            "terminals", "add-token", *platform.db_args(), "--hall", hall, "--region", region
        )
        self.client = TerminalClient.enroll(platform.base_url, token.stdout.strip())
        self.id = self.client.terminal_id

    def heartbeat(self, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.client.request("POST", f"/v1/terminals/{self.id}/heartbeat", body or beat())

    def assist(self, reason: str = "user_request", step: str = "summary",
               call_id: str | None = None) -> httpx.Response:  # fmt: skip
        call_id = call_id or "call-" + secrets.token_hex(6)
        body = {"call_id": call_id, "reason": reason, "step": step}
        return self.client.request("POST", f"/v1/terminals/{self.id}/assistance", body)

    def events(self, events: list[dict[str, Any]]) -> httpx.Response:
        return self.client.request("POST", f"/v1/terminals/{self.id}/events", {"events": events})


def add_staff(platform: ServiceProcess, hall: str, username: str, role: str = "hall_staff",
              region: str = "gansu", display: str = "王工") -> None:  # fmt: skip
    done = cli_input(
        PASSWORD + "\n", "staff", "add", *platform.db_args(), "--hall", hall, "--region", region,
        "--username", username, "--role", role, "--display-name", display,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def cli_input(stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "report_service", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class Staff:
    """A staff member's browser, as far as HTTP goes: the login form, the cookie, the CSRF token."""

    def __init__(self, platform: ServiceProcess, username: str, password: str = PASSWORD) -> None:
        self.http = httpx.Client(base_url=platform.base_url, timeout=30, follow_redirects=False)
        form = self.http.get("/halls/login")
        nonce = form.cookies.get("hall_login", "")
        self.login = self.http.post(
            "/halls/login",
            content=f"username={username}&password={password.replace(' ', '+')}&login_nonce={nonce}",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": BROWSER_ACCEPT},
        )
        self.csrf = ""
        location = self.login.headers.get("location", "")
        if (
            self.login.status_code == 303
            and location.startswith("/halls/")
            and "failed" not in location
        ):
            hall = location.removeprefix("/halls/")
            self.csrf = self.csrf_from(hall) if hall else ""

    def csrf_from(self, hall: str) -> str:
        """The CSRF token the hall's dashboard page carries (as the page's script reads it)."""
        page = self.http.get(f"/halls/{hall}")
        found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        return found.group(1) if found else ""

    @property
    def failure(self) -> str | None:
        location = self.login.headers.get("location", "")
        return location.split("failed=", 1)[1] if "failed=" in location else None

    def state(self, hall: str) -> dict[str, Any]:
        r = self.http.get(f"/halls/{hall}/state")
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def post(self, path: str, body: Any = None, csrf: str | None = None) -> httpx.Response:
        if csrf is None and not self.csrf and path.startswith("/halls/"):
            self.csrf = self.csrf_from(path.split("/")[2])
        token = self.csrf if csrf is None else csrf
        headers = {"X-CSRF-Token": token} if token else {}
        return self.http.post(path, json=body or {}, headers=headers)


def terminal_in(state: dict[str, Any], terminal_id: str) -> dict[str, Any]:
    return next(t for t in state["terminals"] if t["terminal_id"] == terminal_id)


def new_hall(platform: ServiceProcess) -> str:
    """A hall of its own, open all day, with an admin (李主任) whose username is "ops-" + hall."""
    name = "hall-ops-" + secrets.token_hex(3)
    add_staff(platform, name, "ops-" + name, "hall_admin", display="李主任")
    hours = cli("halls", "set-hours", "--db", platform.db, "--hall", name, "--hours", ALL_DAY)
    assert hours.returncode == 0, hours.stderr
    return name


def hall_admin(platform: ServiceProcess, hall: str) -> Staff:
    """new_hall's admin, logged in."""
    member = Staff(platform, "ops-" + hall)
    assert member.csrf, member.login.headers
    return member
