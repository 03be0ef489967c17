"""Withdrawing access (issue 14): roles and terminals that can be withdrawn, one terminal per
enrollment token however many arrive at once, no small-order keys, idempotency keys that another
terminal or person cannot claim. Real `report-service serve` processes on real SQLite files."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from report_service import crypto

from .casebook import id_number, uscc
from .conftest import enroll, import_jsonl
from .platform_client import ROOT, ServiceProcess, TerminalClient, cli, start_service

A, B = uscc("lanzhou", 7701), uscc("lanzhou", 7702)
WU = id_number("lanzhou", 771)  # holds A and B, then loses them
QIAN = id_number("lanzhou", 772)  # a second person, at a rogue terminal
PERIOD = ("2023-01-01", "2024-12-31")

# The eight points of small order (the identity, order 2, 4 and 8) in their canonical
# encodings and the non-canonical ones with the sign bit set (libsodium's blocklist).
SMALL_ORDER = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # p: non-canonical 0
]


def person(id_no: str, name: str, *usccs: str) -> dict[str, object]:
    roles = [{"uscc": u, "role": "legal_representative"} for u in usccs]
    return {"type": "person", "id_number": id_no, "name": name, "roles": roles}


def entity(code: str, name: str) -> dict[str, object]:
    return {"type": "entity", "uscc": code, "name": name, "kind": "company", "region": "lanzhou"}


def load(platform: ServiceProcess, path: Path, rows: list[dict[str, object]]) -> None:
    import_jsonl(platform, path, [json.dumps(r, ensure_ascii=False) for r in rows])


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


@pytest.fixture(scope="module")
def lanzhou(platform: ServiceProcess, tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("access")
    rows = [entity(A, "兰州撤权甲有限公司"), entity(B, "兰州撤权乙有限公司")]
    rows += [person(WU, "吴撤权", A, B), person(QIAN, "钱另人", A)]
    load(platform, workdir / "base.jsonl", rows)
    return workdir


def test_a_person_line_states_the_whole_role_set_even_for_open_sessions(
    platform: ServiceProcess, lanzhou: Path
) -> None:
    terminal = enroll(platform, "lanzhou")
    session = terminal.login_card(WU, "吴撤权")
    assert {e["uscc"] for e in session["enterprises"]} == {A, B}
    token = session["session_token"]
    ticket = "roles-" + secrets.token_hex(6)
    issued = terminal.report(token, B, *PERIOD, key=ticket)
    assert issued.status_code == 201, issued.text
    report_id = issued.json()["report_id"]

    load(platform, lanzhou / "drop-b.jsonl", [person(WU, "吴撤权", A)])  # B is no longer his
    r = terminal.report(token, B, *PERIOD)  # the session opened before the import
    assert r.status_code == 403 and code(r) == "not_authorized_for_entity"
    r = terminal.request("GET", f"/v1/reports/{report_id}/pdf", token=token)
    assert r.status_code == 404 and code(r) == "report_not_found"
    r = terminal.request("GET", f"/v1/reports/by-ticket/{ticket}", token=token)
    assert r.status_code == 404 and code(r) == "ticket_not_found"
    assert terminal.report(token, A, *PERIOD).status_code == 201
    again = terminal.login_card(WU, "吴撤权")
    assert [e["uscc"] for e in again["enterprises"]] == [A]

    removed = subprocess.run(
        [sys.executable, "-m", "report_service", "persons", "remove-role", "--db", platform.db,
         "--id-number", "-", "--uscc", A],
        input=WU + "\n", cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert removed.returncode == 0, removed.stderr
    assert WU not in removed.stdout + removed.stderr
    r = terminal.report(token, A, *PERIOD)
    assert r.status_code == 403 and code(r) == "not_authorized_for_entity"
    assert terminal.login_card(WU, "吴撤权")["enterprises"] == []
    none = cli(
        "persons", "remove-role", "--db", platform.db, "--id-number", WU, "--uscc", A, check=False
    )
    assert none.returncode == 1 and "no such role" in none.stderr


def test_a_revoked_terminal_is_refused_on_its_next_request_sessions_included(
    platform: ServiceProcess, lanzhou: Path
) -> None:
    terminal = enroll(platform, "lanzhou", hall="hall-revoke")
    token = terminal.login_card(QIAN, "钱另人")["session_token"]
    listed = [
        json.loads(line)
        for line in cli("terminals", "list", "--db", platform.db, "--json").stdout.splitlines()
    ]
    mine = next(t for t in listed if t["terminal_id"] == terminal.terminal_id)
    assert mine["hall_id"] == "hall-revoke" and mine["revoked"] is False
    table = cli("terminals", "list", "--db", platform.db).stdout
    assert terminal.terminal_id in table and "active" in table

    done = cli("terminals", "revoke", "--db", platform.db, terminal.terminal_id)
    assert "revoked" in done.stdout
    r = terminal.request("GET", "/v1/catalog")
    assert r.status_code == 401 and code(r) == "unknown_terminal"
    r = terminal.report(token, A, *PERIOD)
    assert r.status_code == 401 and code(r) == "unknown_terminal"
    listed = [
        json.loads(line)
        for line in cli("terminals", "list", "--db", platform.db, "--json").stdout.splitlines()
    ]
    mine = next(t for t in listed if t["terminal_id"] == terminal.terminal_id)
    assert mine["revoked"] is True and mine["revoked_at"]
    twice = cli("terminals", "revoke", "--db", platform.db, terminal.terminal_id)
    assert "was revoked before" in twice.stdout
    missing = cli("terminals", "revoke", "--db", platform.db, "TNOSUCHTERMINAL", check=False)
    assert missing.returncode == 1


def enroll_at_once(base_urls: list[str], token: str, n: int = 8) -> list[int]:
    """n enrollments with one token, released together from n threads over the given servers."""
    barrier = threading.Barrier(n)
    statuses: list[int] = []

    def one(i: int) -> None:
        key = crypto.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw())
        body = {"enrollment_token": token, "public_key": key, "hardware": {"n": i}}
        with httpx.Client(base_url=base_urls[i % len(base_urls)], timeout=60) as client:
            barrier.wait()
            statuses.append(client.post("/v1/terminals/enroll", json=body).status_code)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(statuses)


def check_one_terminal_per_token(servers: list[ServiceProcess], rounds: int = 4) -> None:
    for _ in range(rounds):
        token = cli(
            "terminals", "add-token", *servers[0].db_args(), "--hall", "race", "--region", "heihe"
        ).stdout.strip()
        assert enroll_at_once([s.base_url for s in servers], token) == [200] + [409] * 7


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServiceProcess]]:
    workdir = tmp_path_factory.mktemp("race")
    db = str(workdir / "race.db")
    cli("seed", "--db", db, "--region", "heihe", "--entities", "3")
    servers = [start_service(db, workdir), start_service(db, workdir)]
    try:
        yield servers
    finally:
        for s in servers:
            s.stop()


def test_one_terminal_per_enrollment_token_on_sqlite(two_servers: list[ServiceProcess]) -> None:
    check_one_terminal_per_token(two_servers[:1])  # one serve process
    check_one_terminal_per_token(two_servers)  # two processes on one database file


def test_small_order_public_keys_are_refused_and_leave_the_token_usable(
    platform: ServiceProcess,
) -> None:
    token = cli(
        "terminals", "add-token", "--db", platform.db, "--hall", "h", "--region", "heihe"
    ).stdout.strip()
    for hexkey in SMALL_ORDER:
        body = {"enrollment_token": token, "public_key": crypto.b64encode(bytes.fromhex(hexkey))}
        r = httpx.post(platform.base_url + "/v1/terminals/enroll", json=body | {"hardware": {}})
        assert r.status_code == 422 and code(r) == "invalid_public_key", hexkey
    assert TerminalClient.enroll(platform.base_url, token).terminal_id


def test_another_terminal_or_person_cannot_claim_an_idempotency_key(
    platform: ServiceProcess, lanzhou: Path
) -> None:
    real, rogue = enroll(platform, "lanzhou"), enroll(platform, "lanzhou")
    qian_real = real.login_card(QIAN, "钱另人")["session_token"]
    ticket = "queued-" + secrets.token_hex(8)  # learnt from a pickup receipt, say
    # a rogue terminal, another person: posts the ticket first with another request
    load(platform, lanzhou / "rogue.jsonl", [person(id_number("lanzhou", 773), "孙冒用", A)])
    rogue_person = rogue.login_card(id_number("lanzhou", 773), "孙冒用")["session_token"]
    first = rogue.report(rogue_person, A, "2022-01-01", "2022-12-31", key=ticket)
    assert first.status_code == 201
    # the same person, at the rogue terminal (say it read their card): another request again
    same_person = rogue.login_card(QIAN, "钱另人")["session_token"]
    second = rogue.report(same_person, A, "2021-01-01", "2021-12-31", key=ticket)
    assert second.status_code == 201
    # the real kiosk's delivery still makes its own report, and pickup finds that one
    delivered = real.report(qian_real, A, *PERIOD, key=ticket)
    assert delivered.status_code == 201, delivered.text
    mine = delivered.json()["report_id"]
    assert mine not in (first.json()["report_id"], second.json()["report_id"])
    again = real.report(qian_real, A, *PERIOD, key=ticket)
    assert again.status_code == 201 and again.json()["report_id"] == mine  # still idempotent
    pickup = real.request("GET", f"/v1/reports/by-ticket/{ticket}", token=qian_real)
    assert pickup.json()["report_id"] == mine
