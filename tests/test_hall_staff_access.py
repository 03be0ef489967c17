"""Hall staff on the platform (DESIGN §8), through a real `report-service serve`: accounts
(`report-service staff add`), logins with their lockouts and cookie, CSRF tokens, a staff member's
scope (their hall, a region admin's region, what hall staff may send), and numbers past what a
database holds refused."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from .hall_support import (
    BROWSER_ACCEPT,
    PASSWORD,
    Kiosk,
    Staff,
    add_staff,
    cli_input,
    hall_admin,
    new_hall,
)
from .platform_client import ServiceProcess, cli, start_service

# a hall of the module's own, open all day, and its admin logged in (tests/hall_support.py)
hall = pytest.fixture(scope="module", name="hall")(new_hall)
staff = pytest.fixture(scope="module", name="staff")(hall_admin)


def test_changes_without_a_csrf_token_or_from_another_hall_change_nothing(
    platform: ServiceProcess, hall: str, staff: Staff
) -> None:
    kiosk = Kiosk(platform, hall)
    call_id = kiosk.assist().json()["call_id"]
    path = f"/halls/{hall}/help-calls/{call_id}/acknowledge"
    assert staff.post(path, csrf="").status_code == 403
    assert staff.post(path, csrf="forged-token").status_code == 403
    other_hall = "hall-other-" + secrets.token_hex(3)
    add_staff(platform, other_hall, "x-" + other_hall)
    outsider = Staff(platform, "x-" + other_hall)
    assert outsider.post(path).status_code == 403
    assert outsider.http.get(f"/halls/{hall}/state").status_code == 403
    sent = outsider.post(f"/halls/{other_hall}/terminals/{kiosk.id}/commands", {"kind": "lock"})
    assert sent.status_code == 404  # a terminal of another hall is not found in one's own
    assert (
        next(c for c in staff.state(hall)["help_calls"] if c["call_id"] == call_id)["status"]
        == "open"
    )


def test_a_region_admin_acts_on_every_hall_of_the_region(
    platform: ServiceProcess, hall: str
) -> None:
    add_staff(platform, "region-desk", "region-gansu", "region_admin")
    admin = Staff(platform, "region-gansu")
    assert admin.login.headers["location"] == "/halls/"  # several halls: the list
    kiosk = Kiosk(platform, hall)
    assert (
        admin.post(
            f"/halls/{hall}/terminals/{kiosk.id}/commands", {"kind": "restart_app"}
        ).status_code
        == 201
    )
    assert admin.http.get("/halls/hall-in-wuhai/state").status_code == 403
    planned = "hall-planned-" + secrets.token_hex(3)  # a token made, no terminal enrolled yet
    cli("terminals", "add-token", "--db", platform.db, "--hall", planned, "--region", "gansu")
    assert admin.state(planned)["terminals"] == []


def test_numbers_past_what_a_database_holds_are_refused_not_a_server_error(
    platform: ServiceProcess, hall: str, staff: Staff
) -> None:
    for number in ("99999999999999999999999", str(2**63), str(2**31), "0", "-1"):
        acked = staff.post(f"/halls/{hall}/alerts/{number}/acknowledge")
        assert acked.status_code == 422, (number, acked.text)
        fetched = staff.http.get(f"/halls/{hall}/diagnostics/{number}")
        assert fetched.status_code == 422, (number, fetched.text)
    assert staff.post(f"/halls/{hall}/alerts/{2**31 - 1}/acknowledge").status_code == 404


def test_hall_staff_may_lock_but_not_restart(platform: ServiceProcess, hall: str) -> None:
    add_staff(platform, hall, "desk-" + hall, "hall_staff")
    desk = Staff(platform, "desk-" + hall)
    kiosk = Kiosk(platform, hall)
    assert (
        desk.post(f"/halls/{hall}/terminals/{kiosk.id}/commands", {"kind": "lock"}).status_code
        == 201
    )
    refused = desk.post(f"/halls/{hall}/terminals/{kiosk.id}/commands", {"kind": "restart_app"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "command_not_allowed"
    unknown = desk.post(f"/halls/{hall}/terminals/{kiosk.id}/commands", {"kind": "format_disk"})
    assert unknown.status_code == 422


def test_logins_lock_after_wrong_passwords_and_do_not_tell_who_exists(
    platform: ServiceProcess, hall: str
) -> None:
    add_staff(platform, hall, "lock-" + hall)
    assert Staff(platform, "nobody-" + hall, "whatever-password").failure == "login_failed"
    for _ in range(5):
        assert Staff(platform, "lock-" + hall, "wrong-password!").failure == "login_failed"
    assert Staff(platform, "lock-" + hall).failure == "account_locked"  # even the right one now


def test_the_session_cookie_is_httponly_samesite_strict_and_json_logins_need_no_form(
    platform: ServiceProcess, hall: str
) -> None:
    add_staff(platform, hall, "json-" + hall)
    form = Staff(platform, "json-" + hall)
    cookie = form.login.headers["set-cookie"]
    assert "hall_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    with httpx.Client(base_url=platform.base_url, timeout=30) as http:
        wrong = http.post("/halls/login", json={"username": "json-" + hall, "password": "nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "login_failed"
        assert "hall_session" not in wrong.cookies
        assert http.post("/halls/login", json={"username": 5}).status_code == 422
        done = http.post("/halls/login", json={"username": "json-" + hall, "password": PASSWORD})
        assert done.status_code == 200, done.text
        assert done.json()["halls"] == [hall] and "SameSite=Strict" in done.headers["set-cookie"]
        assert http.get(f"/halls/{hall}/state").status_code == 200  # the cookie logs it in
        lock = http.post(f"/halls/{hall}/terminals/T-none/commands", json={"kind": "unlock"},
                         headers={"X-CSRF-Token": done.json()["csrf_token"]})  # fmt: skip
        assert lock.status_code == 404  # past the CSRF check: there is no such terminal


def test_a_program_logs_in_with_a_form_and_another_site_cannot(
    platform: ServiceProcess, hall: str
) -> None:
    """DESIGN §8: staff log in at /halls/login. A program posting the form (no page loaded, no
    nonce) gets JSON; a browser's form without the page's nonce, or any login another site's page
    makes (Origin, Sec-Fetch-Site), is refused and sets no session."""
    add_staff(platform, hall, "form-" + hall)
    login = {"username": "form-" + hall, "password": PASSWORD}
    with httpx.Client(base_url=platform.base_url, timeout=30) as http:
        done = http.post("/halls/login", data=login)
        assert done.status_code == 200 and done.json()["halls"] == [hall], done.text
        assert http.get(f"/halls/{hall}/state").status_code == 200
    with httpx.Client(base_url=platform.base_url, timeout=30) as http:
        wrong = http.post("/halls/login", data=login | {"password": "wrong-password"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "login_failed"
        raw = http.post("/halls/login", content=json.dumps(login))  # JSON with no label
        assert raw.status_code == 200, raw.text
        curl = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "curl/8.14"}
        as_curl = http.post("/halls/login", content=json.dumps(login), headers=curl)
        assert as_curl.status_code == 200, as_curl.text  # curl --data-binary '{...}'
    old_firefox = "Mozilla/5.0 (Windows NT 5.1; rv:52.0) Gecko/20100101 Firefox/52.0"
    plain = "text/plain"  # a cross-site <form enctype="text/plain"> can make a JSON-looking body
    forged = json.dumps(login | {"x": "="})
    cases: list[tuple[dict[str, str], dict[str, str] | str, int]] = [
        ({"Accept": BROWSER_ACCEPT}, login, 303),  # a browser's form not from the login page
        ({"Origin": platform.base_url}, login, 403),  # the same: only browsers send Origin
        ({"Origin": "https://evil.example"}, login, 403),
        ({"Origin": "null"}, login, 403),
        ({"Sec-Fetch-Site": "cross-site"}, login, 403),
        ({"Content-Type": plain, "Accept": BROWSER_ACCEPT}, forged, 303),
        ({"Content-Type": plain}, forged, 422),
        (
            {"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"},
            json.dumps(login),
            403,
        ),  # another site's page posting JSON as a form
        (
            {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": old_firefox},
            json.dumps(login),
            422,
        ),  # the same from a browser that says nothing of where it came from
        (
            {"User-Agent": old_firefox},
            json.dumps(login),
            422,
        ),  # an old browser's sendBeacon: unlabelled, no Origin
    ]
    for headers, body, status in cases:
        with httpx.Client(base_url=platform.base_url, timeout=30) as http:
            if isinstance(body, str):
                r = http.post("/halls/login", content=body, headers=headers)
            else:
                r = http.post("/halls/login", data=body, headers=headers)
            assert r.status_code == status, (headers, r.text)
            assert "hall_session" not in r.cookies
    for headers in (
        {"Origin": platform.base_url},
        {"Origin": "https://hall.example.gov.cn", "X-Forwarded-Host": "hall.example.gov.cn"},
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},  # Referrer-Policy: no-referrer
        {"Origin": platform.base_url, "Host": "backend.internal:8080"},  # a proxy's own Host
    ):  # a browser on the login page: its nonce, and its own site (also behind a proxy)
        with httpx.Client(base_url=platform.base_url, timeout=30) as http:
            nonce = http.get("/halls/login").cookies["hall_login"]
            r = http.post("/halls/login", data=login | {"login_nonce": nonce}, headers=headers)
            assert r.status_code == 200, (headers, r.text)


def test_staff_add_as_design_writes_it_takes_the_region_from_the_halls_terminals(
    platform: ServiceProcess,
) -> None:
    """`staff add --db --hall --username --role` (DESIGN §8, no --region) for a hall that so far
    exists only in an enrollment token."""
    name = "hall-token-" + secrets.token_hex(3)
    cli("terminals", "add-token", "--db", platform.db, "--hall", name, "--region", "wuhai")

    def add(username: str, hall: str, *region: str) -> Any:
        return cli_input(PASSWORD + "\n", "staff", "add", *platform.db_args(), "--hall", hall,
                         "--username", username, "--role", "hall_admin", *region)  # fmt: skip

    done = add("t-" + name, name)
    assert done.returncode == 0, done.stderr
    assert "(wuhai)" in done.stdout
    assert Staff(platform, "t-" + name).state(name)["terminals"] == []  # logged in, own hall
    wrong = add("u-" + name, name, "--region", "heihe")
    assert wrong.returncode == 2 and "wuhai" in wrong.stderr
    unknown = add("v-" + name, "nowhere-" + name)
    assert unknown.returncode == 2 and "--region" in unknown.stderr
    for password, added in (("7-chars", False), ("8-chars!", True)):
        done = cli_input(password + "\n", "staff", "add", *platform.db_args(), "--hall", name,
                         "--username", f"p{len(password)}-" + name, "--role", "hall_staff")  # fmt: skip
        assert (done.returncode == 0) is added, done.stderr
        assert added or "至少8个字符" in done.stderr


def test_staff_add_on_a_platform_of_one_region_needs_no_region(tmp_path: Path) -> None:
    """DESIGN §8's `staff add --db URL --hall H --username U --role R` as written: right after
    `seed` (one region's data, no token for the hall yet), and on a database not made yet."""
    seeded = f"sqlite:///{tmp_path / 'seeded.db'}"
    cli("seed", "--db", seeded, "--region", "huzhou", "--entities", "3", "--seed", "1")
    done = cli_input(PASSWORD + "\n", "staff", "add", "--db", seeded, "--hall", "hz-1",
                     "--username", "first-admin", "--role", "hall_admin")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "(huzhou)" in done.stdout and "only one" in done.stderr
    fresh = tmp_path / "new" / "platform.db"
    bare = cli_input(PASSWORD + "\n", "staff", "add", "--db", f"sqlite:///{fresh}", "--hall",
                     "h-1", "--username", "first", "--role", "hall_staff")  # fmt: skip
    assert bare.returncode == 2 and "--region" in bare.stderr and not fresh.exists()
    short = cli_input("short\n", "staff", "add", "--db", f"sqlite:///{fresh}", "--hall", "h-1",
                      "--username", "first", "--role", "hall_staff", "--region", "wuhai")  # fmt: skip
    assert short.returncode == 2 and "至少8个字符" in short.stderr and not fresh.exists()
    named = cli_input(PASSWORD + "\n", "staff", "add", "--db", f"sqlite:///{fresh}", "--hall",
                      "h-1", "--username", "u1", "--role", "hall_staff", "--region", "wuhai")  # fmt: skip
    assert named.returncode == 2 and "用户名应为" in named.stderr and not fresh.exists()
    made = cli_input(PASSWORD + "\n", "staff", "add", "--db", f"sqlite:///{fresh}", "--hall",
                     "h-1", "--username", "first", "--role", "hall_staff", "--region", "wuhai")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "(wuhai)" in made.stdout and fresh.exists()
    other = cli("terminals", "add-token", "--db", f"sqlite:///{fresh}", "--hall", "h-1",
                "--region", "gansu", check=False)  # fmt: skip
    assert other.returncode == 0 and "warning" in other.stderr and "wuhai" in other.stderr


def test_many_failed_logins_from_one_address_must_wait(tmp_path: Path) -> None:
    db = str(tmp_path / "platform.db")
    cli("seed", "--db", db, "--region", "gansu", "--entities", "3", "--seed", "2")
    service = start_service(db, tmp_path)  # its own process: the limit would hold others back
    try:
        add_staff(service, "hall-limit", "real-user")
        for n in range(10):
            assert Staff(service, f"guess-{n}", "wrong-password!").failure == "login_failed"
        assert Staff(service, "real-user").failure == "too_many_logins"
    finally:
        service.stop()
