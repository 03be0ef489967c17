"""Keys out of the database (issue 14, DESIGN §10): a key directory beside a SQLite file or named
with --keys / $REPORT_SERVICE_KEYS, a signer interface, names and contacts sealed, and the
migration of a database made by the earlier platform, which kept its keys in `settings`."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from report_service import crypto
from report_service.bootstrap import open_platform
from report_service.importer import import_lines
from report_service.keys import KEY_FILES, Keyring
from report_service.report_build import ReportRequest
from report_service.service import PlatformService
from report_service.signing import Caller

from .casebook import company_and_person, id_number, penalty, uscc
from .platform_client import TerminalClient, cli, start_service
from .postgres_server import pg_bin, postgres_server

DATA = Path(__file__).resolve().parent / "data"
# What tests/data/platform-v1.sql (made with the platform before this change) holds.
V1_TERMINAL_KEY = bytes(range(1, 33))  # the enrolled terminal's private key
V1 = {
    "terminal_id": "TXG8548FC7MRNXNA",
    "report_id": "R202612069PVG3M1ZEG",
    "code": "TVDV026XEF45",
    "sha256": "e02b6fb533fabb38bf915ae1858b9c0fe827aa9863fdc3b2489804a0cb3dbab9",
    "id_number": "231102198001018818",
    "name": "迁移测试人",
    "company": "912311020000088016",
    "ticket": "v1-ticket-0001",
    "contact": "13912345678",
    "platform_public_key": "c1Gnjuaekx/20T81WQbpX/yIVJi6cLY+BC8bJivTM9w=",
}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def raw_private(keydir: Path) -> bytes:
    pem = (keydir / "platform-signing.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, None)
    assert isinstance(key, Ed25519PrivateKey)
    return key.private_bytes_raw()


def files_of(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())


def test_the_keys_live_beside_the_database_not_in_it(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    person, company = id_number("wuhai", 611), uscc("wuhai", 6110)
    lines = company_and_person(
        "wuhai", company, "乌海密钥测试有限公司", person, "密钥测试人", "agent"
    )
    (tmp_path / "p.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli("import", "--db", str(db), str(tmp_path / "p.jsonl"))  # as the README: no --keys
    keydir = tmp_path / "p.db.keys"
    assert mode(keydir) == 0o700
    assert sorted(p.name for p in keydir.iterdir()) == sorted(KEY_FILES)
    assert all(mode(keydir / name) == 0o600 for name in KEY_FILES)
    with sqlite3.connect(db) as conn:
        settings = dict(conn.execute("SELECT key, value FROM settings").fetchall())
    assert set(settings) == {"schema_version", "keys_id"}
    stored = files_of(db)
    private = raw_private(keydir)
    pepper = (keydir / "id-pepper.hex").read_text().strip()
    for secret in (private, base64.b64encode(private), pepper.encode(), bytes.fromhex(pepper)):
        assert secret not in stored
    for plain in (person, "密钥测试人"):
        assert plain.encode() not in stored and plain.encode("utf-16-le") not in stored


def test_a_copy_of_the_database_alone_signs_nothing(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    person = id_number("wuhai", 612)
    lines = company_and_person(
        "wuhai", uscc("wuhai", 6120), "乌海复制测试有限公司", person, "复制测试人", "agent"
    )
    (tmp_path / "p.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli("import", "--db", str(db), str(tmp_path / "p.jsonl"))
    stolen = tmp_path / "stolen"
    stolen.mkdir()
    shutil.copy(db, stolen / "p.db")
    result = cli("issue-login-qr", "--db", str(stolen / "p.db"), "--id-number", person, check=False)
    assert result.returncode == 2 and not result.stdout
    assert "key directory" in result.stderr and "missing" in result.stderr
    assert not (stolen / "p.db.keys").exists()  # no new keys quietly made for it
    other = tmp_path / "other-keys"
    cli("keys", "init", "--dir", str(other))
    wrong = cli(
        "issue-login-qr", "--db", str(db), "--keys", str(other), "--id-number", person, check=False
    )
    assert wrong.returncode == 2 and "do not belong to this database" in wrong.stderr


def test_a_named_key_directory_by_option_or_environment(tmp_path: Path) -> None:
    keys = tmp_path / "vault" / "keys"
    keys.parent.mkdir()
    made = cli("keys", "init", "--dir", str(keys))
    assert "keys made" in made.stdout and mode(keys) == 0o700
    again = cli("keys", "init", "--dir", str(keys), check=False)
    assert again.returncode == 2 and "never overwritten" in again.stderr
    db = tmp_path / "p.db"
    cli("seed", "--db", str(db), "--keys", str(keys), "--region", "heihe", "--entities", "5")
    assert not (tmp_path / "p.db.keys").exists()
    env = {**os.environ, "REPORT_SERVICE_KEYS": str(keys)}
    token = subprocess.run(
        [sys.executable, "-m", "report_service", "terminals", "add-token", "--db", str(db),
         "--hall", "h", "--region", "heihe"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert token.returncode == 0, token.stderr
    assert not (tmp_path / "p.db.keys").exists()
    (keys / "id-pepper.hex").chmod(0o644)
    loose = cli("terminals", "list", "--db", str(db), "--keys", str(keys), check=False)
    assert loose.returncode == 2 and "chmod 600" in loose.stderr


def test_a_database_in_memory_needs_a_key_directory() -> None:
    """Nothing lasting to keep keys beside: no key directory is made up for it."""
    result = cli("seed", "--db", "sqlite:///:memory:", "--region", "heihe", "--entities", "5",
                 check=False)  # fmt: skip
    assert result.returncode == 2 and "needs a key directory" in result.stderr


def test_every_spelling_of_a_postgresql_database_finds_the_same_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`migrate` as an admin, `serve` as the app's user, with or without options: one database,
    one key directory; databases whose names read alike get two."""
    from report_service.bootstrap import key_dir_for

    monkeypatch.delenv("REPORT_SERVICE_KEYS", raising=False)
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    same = {
        key_dir_for(url, None).path
        for url in (
            "postgresql://app:secret@db.hall:5432/credit",
            "postgres://admin@db.hall:5432/credit?sslmode=require",
            "postgresql+psycopg://app@db.hall:5432/credit",
        )
    }
    assert len(same) == 1 and next(iter(same)).parent == tmp_path / "report-service"
    alike = [
        key_dir_for(u, None).path.name
        for u in ("postgresql://u@db-1/x", "postgresql://u@db:1/default-x")
    ]
    assert alike[0].startswith("keys-db-1-default-x-") and alike[1].startswith(
        "keys-db-1-default-x-"
    )
    assert alike[0] != alike[1]  # read alike, told apart by the digest


@pytest.mark.postgres
def test_postgresql_keys_default_to_the_state_directory(tmp_path: Path) -> None:
    """DESIGN's `seed`/`serve --db URL` without --keys on PostgreSQL: the keys are made in the
    state directory (never in the database), found again by every later command, and a copy of
    the database without them cannot sign."""
    if pg_bin() is None:
        pytest.skip(reason="PostgreSQL not installed: `make test` installs it; this machine cannot")
    state = tmp_path / "state"
    env = {
        k: v for k, v in os.environ.items() if k not in ("REPORT_SERVICE_KEYS", "STATE_DIRECTORY")
    }
    env["XDG_STATE_HOME"] = str(state)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "report_service", *args], env=env,
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip

    with postgres_server() as url:
        seeded = run("seed", "--db", url, "--region", "heihe", "--entities", "3", "--seed", "1")
        assert seeded.returncode == 0, seeded.stderr
        (made,) = (state / "report-service").iterdir()
        assert (
            made.name.startswith("keys-127.0.0.1-") and stat.S_IMODE(made.stat().st_mode) == 0o700
        )
        token = run("terminals", "add-token", "--db", url, "--hall", "h", "--region", "heihe")
        assert token.returncode == 0, token.stderr
        env["XDG_STATE_HOME"] = str(tmp_path / "elsewhere")  # the keys are not where it looks
        lost = run("terminals", "list", "--db", url)
        assert lost.returncode == 2 and "--keys" in lost.stderr
        found = run("terminals", "list", "--db", url, "--keys", str(made))
        assert found.returncode == 0, found.stderr


class HsmLikeSigner:
    """A signer that never hands its key out, as a hardware module would: sign and public key."""

    def __init__(self) -> None:
        self.__key = Ed25519PrivateKey.generate()
        self.signed = 0

    @property
    def public_raw(self) -> bytes:
        return self.__key.public_key().public_bytes_raw()

    def sign(self, message: bytes) -> bytes:
        self.signed += 1
        return self.__key.sign(message)


def test_reports_are_signed_through_the_signer_interface(tmp_path: Path) -> None:
    clock_now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    opened = open_platform(str(tmp_path / "p.db"), clock=lambda: clock_now)
    hsm = HsmLikeSigner()
    ring = Keyring(hsm, opened.keys.pepper, opened.keys.data_key)
    service = PlatformService(opened.engine, ring, clock=lambda: clock_now)
    company, person = uscc("wuhai", 6130), id_number("wuhai", 613)
    import_lines(
        service,
        company_and_person("wuhai", company, "乌海签名测试有限公司", person, "签名测试人", "agent"),
    )
    caller = Caller("T1", "hall", "wuhai")
    token = service.logins.session_from_id_card(caller, person, "签名测试人", None)["session_token"]
    pid = service.logins.person_for(caller, token)
    receipt = service.reports.create_report(
        caller,
        pid,
        "hsm-1",
        ReportRequest(company, "all", dt.date(2025, 1, 1), dt.date(2026, 3, 1)),
    )
    pdf = service.reports.report_pdf(
        service.logins.session_for(caller, token), receipt["report_id"]
    ).pdf
    public = crypto.load_public_key(base64.b64encode(hsm.public_raw).decode())
    assert hsm.signed == 1 and crypto.verify(public, receipt["signature"], pdf)


def load_v1(tmp_path: Path) -> Path:
    db = tmp_path / "v1.db"
    with sqlite3.connect(db) as conn:
        conn.executescript((DATA / "platform-v1.sql").read_text(encoding="utf-8"))
    return db


def test_migrating_a_database_that_held_its_keys(tmp_path: Path) -> None:
    db = load_v1(tmp_path)
    with sqlite3.connect(db) as conn:
        settings = dict(conn.execute("SELECT key, value FROM settings").fetchall())
    old_private = base64.b64decode(settings["platform_private_key"])
    old_pepper = settings["id_pepper"]
    refused = cli("terminals", "list", "--db", str(db), check=False)
    assert refused.returncode == 2 and "report-service migrate" in refused.stderr

    done = cli("migrate", "--db", str(db))
    assert "keys moved to" in done.stdout
    keydir = tmp_path / "v1.db.keys"
    assert raw_private(keydir) == old_private
    assert (keydir / "id-pepper.hex").read_text().strip() == old_pepper
    assert mode(keydir) == 0o700 and all(mode(keydir / n) == 0o600 for n in KEY_FILES)
    stored = files_of(db)
    for secret in (settings["platform_private_key"].encode(), old_private, old_pepper.encode()):
        assert secret not in stored
    for plain in (V1["name"], V1["contact"], V1["id_number"]):
        assert plain.encode() not in stored, plain
    assert "nothing to do" in cli("migrate", "--db", str(db)).stdout

    service = start_service(str(db), tmp_path)
    try:
        key = Ed25519PrivateKey.from_private_bytes(V1_TERMINAL_KEY)
        terminal = TerminalClient(service.base_url, V1["terminal_id"], key, {})
        session = terminal.login_card(V1["id_number"], V1["name"])  # the same pepper and name
        assert session["person"]["name"] == "迁****"
        token = session["session_token"]
        verified = httpx.get(f"{service.base_url}/v1/verify/{V1['code']}").json()
        assert verified["sha256"] == V1["sha256"] and verified["status"] in ("valid", "expired")
        # the report issued before is still handed out, signed by the same platform key
        pdf = terminal.request("GET", f"/v1/reports/{V1['report_id']}/pdf", token=token)
        assert hashlib.sha256(pdf.content).hexdigest() == V1["sha256"]
        platform_key = crypto.load_public_key(V1["platform_public_key"])
        again = terminal.request("GET", f"/v1/reports/by-ticket/{V1['ticket']}", token=token)
        assert crypto.verify(platform_key, again.json()["signature"], pdf.content)
        enrolled = json.loads(cli("terminals", "list", "--db", str(db), "--json").stdout)
        assert enrolled["terminal_id"] == V1["terminal_id"]
    finally:
        service.stop()


def test_a_sealed_name_moved_to_another_row_does_not_open(tmp_path: Path) -> None:
    service = open_platform(str(tmp_path / "p.db"))
    a, b = id_number("heihe", 621), id_number("heihe", 622)
    company = uscc("heihe", 6210)
    lines = company_and_person("heihe", company, "黑河封存测试有限公司", a, "甲某", "agent")
    lines += company_and_person("heihe", company, "黑河封存测试有限公司", b, "乙某", "agent")[1:]
    lines.append(
        json.dumps(penalty("SEAL-1", company, "市场监管", "2024-01-02"), ensure_ascii=False)
    )
    import_lines(service, lines)
    with service.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE persons SET name_sealed = (SELECT name_sealed FROM persons WHERE id_hash = ?)"
            " WHERE id_hash = ?",
            (service.id_hash(a), service.id_hash(b)),
        )
    caller = Caller("T1", "hall", "heihe")
    with pytest.raises(ValueError, match="does not open"):
        service.logins.session_from_id_card(caller, b, "乙某", None)
