"""The service CLI refuses bad input with one clear line and exit status 2: never a traceback,
never a database created by a typo, and an import file's faults reported by line."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from .casebook import id_number, uscc
from .platform_client import cli

COMPANY = uscc("gansu", 9401)


def entity(**overrides: object) -> dict[str, object]:
    return {"type": "entity", "uscc": COMPANY, "name": "命令行测试有限公司", "kind": "company",
            "region": "gansu"} | overrides  # fmt: skip


def refused(*args: str) -> str:
    result = cli(*args, check=False)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


def write_lines(path: Path, objs: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(o, ensure_ascii=False) for o in objs) + "\n", "utf-8")
    return path


def test_a_missing_import_file_creates_no_database(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    err = refused("import", "--db", str(db), str(tmp_path / "missing.jsonl"))
    assert "No such file" in err and "missing.jsonl" in err
    assert not db.exists()


@pytest.mark.parametrize(
    ("command", "rest"),
    [
        (["reports", "revoke"], ["R1"]),
        (["issue-login-qr"], ["--id-number", id_number("gansu", 941)]),
    ],
)
def test_commands_on_existing_data_refuse_a_missing_database(
    tmp_path: Path, command: list[str], rest: list[str]
) -> None:
    db = tmp_path / "typo.db"
    err = refused(*command, "--db", str(db), *rest)
    assert "no database at" in err and not db.exists()


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("not sqlite", encoding="utf-8")
    empty = write_lines(tmp_path / "empty.jsonl", [])
    err = refused("import", "--db", str(tmp_path / "notes.db"), str(empty))
    assert err.strip().count("\n") == 0 and "not a database" in err


def test_numbers_out_of_range_are_usage_errors(tmp_path: Path) -> None:
    assert "between 1 and 65535" in refused("serve", "--db", str(tmp_path / "x"), "--port", "99999")
    err = refused("seed", "--db", str(tmp_path / "x"), "--region", "gansu", "--entities", "-1")
    assert "between 1 and" in err


def test_import_faults_are_reported_by_line_and_nothing_is_written(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    person = {"type": "person", "id_number": id_number("gansu", 942), "name": "孙八",
              "roles": [{"uscc": COMPANY, "role": "agent"},
                        {"uscc": COMPANY, "role": "legal_representative"}]}  # fmt: skip
    path = write_lines(
        tmp_path / "bad.jsonl",
        [
            entity(),
            entity(uscc=uscc("gansu", 9403), kind=["company"]),
            {"type": ["entity"]},
            person,
            entity(uscc=uscc("gansu", 9404), region={"x": 1}),
        ],
    )
    with path.open("a", encoding="utf-8") as fh:
        fh.write("[" * 50_000 + "]" * 50_000 + "\n")
        fh.write('{"type": ' + "1" * 5000 + "}\n")
    err = refused("import", "--db", str(db), str(path))
    assert "line 1:" not in err
    assert "line 2: unknown entity kind" in err
    assert "line 3: 'type' must be entity, person or record" in err
    assert "line 4: two roles for entity" in err
    assert "line 5: unknown region" in err
    assert "line 6: not valid JSON (nested too deeply)" in err
    assert "line 7: not valid JSON" in err
    with sqlite3.connect(db) as conn:  # line 1 was good, and still nothing was imported
        assert conn.execute("SELECT count(*) FROM entities").fetchone()[0] == 0


def test_a_byte_that_is_not_utf8_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "latin.jsonl", [entity(), entity(uscc=uscc("gansu", 9402))])
    path.write_bytes(path.read_bytes() + b'{"name": "\xb9\xfa"}\n')
    err = refused("import", "--db", str(tmp_path / "p.db"), str(path))
    assert "line 3: not UTF-8" in err


def test_a_byte_order_mark_is_not_an_error(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bom.jsonl", [entity()])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    counts = json.loads(cli("import", "--db", str(tmp_path / "p.db"), str(path)).stdout)
    assert counts["entities"] == 1


def test_many_faults_say_the_check_stopped(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "many.jsonl", [{"type": "nothing"}] * 50)
    err = refused("import", "--db", str(tmp_path / "p.db"), str(path))
    assert "line 20:" in err and "line 21:" not in err and "later lines not checked" in err


def test_seed_makes_the_database_folder_and_names_people_to_try(tmp_path: Path) -> None:
    db = tmp_path / "var" / "nested" / "platform.db"
    done = cli("seed", "--db", str(db), "--region", "gansu", "--entities", "12", "--seed", "4")
    assert db.is_file()
    assert json.loads(done.stdout)["persons"] > 0
    shown = re.findall(r"^  (\d{17}[\dX])  (\S+)  (.+)$", done.stderr, re.M)
    assert len(shown) == 3, done.stderr
    assert any("of 2" in roles or "of 3" in roles or "," in roles for _, _, roles in shown)
    assert any("agent" in roles for _, _, roles in shown)
    for number, masked, _ in shown:
        assert masked.endswith("*")  # a masked name: the surname only
        qr = cli("issue-login-qr", "--db", str(db), "--id-number", number)
        assert qr.stdout.startswith("KQR1.")


def test_a_platform_on_every_address_prints_a_reachable_verify_url() -> None:
    """`serve --host 0.0.0.0` without --public-url: the QR on every report must carry an address
    a phone can open, never 0.0.0.0 or a bare IPv6 address."""
    from urllib.parse import urlsplit

    from report_service.cli_commands import default_public_url

    for host in ("0.0.0.0", "::"):
        url = urlsplit(default_public_url(host, 8080))
        assert url.scheme == "http" and url.port == 8080
        assert url.hostname not in ("0.0.0.0", "::", "", None)
    assert default_public_url("::1", 8443) == "http://[::1]:8443"
    assert default_public_url("10.1.2.3", 80) == "http://10.1.2.3:80"


def test_a_public_url_a_phone_cannot_open_is_refused_before_serving(tmp_path: Path) -> None:
    """The base URL goes into the QR of every report: without a scheme, or with a query, each
    one would be unverifiable. Refused at once, and nothing is made."""
    db = tmp_path / "new.db"
    for bad in ("credit.example.gov.cn", "ftp://credit.example.gov.cn", "https://x.cn/?a=1",
                "http://x.cn:99999", "https://", "https://x.cn?", "https://x.cn#", "http://x .cn",
                "https://x.cn\\evil.cn", "https://x.cn/a\tb", "http://x.cn:0"):  # fmt: skip
        err = refused("serve", "--db", str(db), "--port", "1", "--public-url", bad)
        assert "--public-url" in err, err
    assert not db.exists()
